//! What one poll of the process list costs, on a system of about 300 processes.
//!
//! Run with `cargo bench -p mossy-core --bench process_poll` (Linux). It starts copies of
//! `/bin/sleep` until the system has [`TARGET_PROCESSES`] processes, a few of them under a
//! tool's name so classification finds something, waits until none is young enough for the
//! poller's extra executable check, then times [`POLLS`] calls of
//! `ProcessPoller::poll_once`: CPU time of the polling thread (from
//! `/proc/thread-self/schedstat`, in nanoseconds) and wall time. The target is under 5 ms
//! of CPU per poll on average. Every child is killed and reaped at the end, also on a panic.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mossy_core::tools::{ProcessPoller, ToolTable};

/// Processes on the system while measuring: a modder's Windows desktop runs 200 to 300.
const TARGET_PROCESSES: usize = 300;

/// Polls measured: enough for a stable median and a meaningful 99th percentile, and more
/// than one round of the poller's rotating re-read of every process (60 polls).
const POLLS: usize = 200;

/// Children started under a tool's name, so that the poller classifies some hits.
const TOOL_CHILDREN: usize = 3;

/// Wait after starting the children, longer than the poller's window for re-reading the
/// executable of young processes (3 s), so that the figures are the steady state.
const SETTLE: Duration = Duration::from_secs(4);

/// Target CPU time per poll.
const CPU_BUDGET: Duration = Duration::from_millis(5);

/// Children killed and reaped when dropped.
#[derive(Default)]
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn process_count() -> usize {
    std::fs::read_dir("/proc")
        .expect("/proc readable")
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .count()
}

/// CPU time this thread has used, from the scheduler's nanosecond counter. The kernel
/// brings the running thread's counter up to date only when it schedules, so yield first;
/// without that the figure moves in whole timer ticks (4 ms here).
fn thread_cpu() -> Duration {
    std::thread::yield_now();
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let nanos = text
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok());
    Duration::from_nanos(nanos.expect("run time in ns"))
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a list of a few hundred"
    )]
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

fn report(what: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let count = u32::try_from(samples.len()).expect("a few hundred");
    let mean = samples.iter().sum::<Duration>() / count;
    println!(
        "{what:>4} per poll: mean {:>6.3} ms   median {:>6.3} ms   p99 {:>6.3} ms   max {:>6.3} ms",
        mean.as_secs_f64() * 1e3,
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    mean
}

fn start_children(folder: &Path) -> Children {
    let tool = folder.join("blender");
    std::fs::copy("/bin/sleep", &tool).expect("copy sleep");
    let mut children = Children::default();
    for _ in 0..TOOL_CHILDREN {
        children
            .0
            .push(Command::new(&tool).arg("600").spawn().expect("tool child"));
    }
    while process_count() < TARGET_PROCESSES {
        children.0.push(
            Command::new("/bin/sleep")
                .arg("600")
                .spawn()
                .expect("child"),
        );
    }
    children
}

fn main() {
    let folder = tempfile::tempdir().expect("temp dir");
    let children = start_children(folder.path());
    let started_here = children.0.len();
    std::thread::sleep(SETTLE);
    let processes = process_count();

    let mut poller = ProcessPoller::new(Arc::new(ToolTable::builtin())).expect("process list");
    let (cpu, wall) = (thread_cpu(), Instant::now());
    let first = poller.poll_once();
    let (first_cpu, first_wall) = (thread_cpu() - cpu, wall.elapsed());
    poller.poll_once();

    let mut cpu_samples = Vec::with_capacity(POLLS);
    let mut wall_samples = Vec::with_capacity(POLLS);
    for _ in 0..POLLS {
        let (cpu, wall) = (thread_cpu(), Instant::now());
        std::hint::black_box(poller.poll_once());
        wall_samples.push(wall.elapsed());
        cpu_samples.push(thread_cpu() - cpu);
    }
    drop(children);

    println!(
        "process_poll: {processes} processes ({started_here} started here, {TOOL_CHILDREN} \
         named blender), {POLLS} polls"
    );
    println!(
        "first poll (reads every executable path): cpu {:.3} ms, wall {:.3} ms, {} events",
        first_cpu.as_secs_f64() * 1e3,
        first_wall.as_secs_f64() * 1e3,
        first.len()
    );
    let mean_cpu = report("cpu", cpu_samples);
    report("wall", wall_samples);
    let verdict = if mean_cpu < CPU_BUDGET {
        "within"
    } else {
        "OVER"
    };
    println!(
        "mean cpu {verdict} the {} ms budget",
        CPU_BUDGET.as_millis()
    );
}
