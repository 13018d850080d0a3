//! Process-tree sampling from `/proc` for the benchmarks: CPU ticks and resident memory of
//! an app and every process below it (WebKit's web and network processes).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

/// Clock ticks per second when `getconf CLK_TCK` cannot say; 100 on every Linux here.
const DEFAULT_CLOCK_TICKS: u64 = 100;

/// Kernel clock ticks per second, the unit of `/proc/<pid>/stat` CPU times.
pub fn clock_ticks() -> u64 {
    let output = Command::new("getconf").arg("CLK_TCK").output().ok();
    output
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(DEFAULT_CLOCK_TICKS)
}

/// CPU ticks (utime + stime) of `root` and every process below it, by pid, with names.
pub fn tree_cpu_ticks(root: u32) -> HashMap<u32, (String, u64)> {
    let mut ticks = HashMap::new();
    for pid in std::iter::once(root).chain(descendants(root)) {
        let used = stat_fields(pid).and_then(|fields| {
            // After the name: state, ppid, ... utime is the 12th, stime the 13th.
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        });
        if let (Some(name), Some(used)) = (process_name(pid), used) {
            ticks.insert(pid, (name, used));
        }
    }
    ticks
}

/// Resident memory of `root` and every process below it, in KiB, summed per process name.
pub fn tree_rss_kib(root: u32) -> HashMap<String, u64> {
    let mut by_name = HashMap::new();
    for pid in std::iter::once(root).chain(descendants(root)) {
        if let (Some(name), Some(kib)) = (process_name(pid), rss_kib(pid)) {
            *by_name.entry(name).or_insert(0) += kib;
        }
    }
    by_name
}

/// Every live process below `root`, found by scanning parent ids in `/proc`.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for pid in all_pids() {
        if let Some(parent) = stat_fields(pid).and_then(|fields| fields.get(1)?.parse().ok()) {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

pub fn all_pids() -> impl Iterator<Item = u32> {
    let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    entries.filter_map(|entry| entry.file_name().to_str()?.parse().ok())
}

/// The fields of `/proc/<pid>/stat` after the process name, starting with the state; the
/// name is skipped because it may hold spaces and parentheses.
pub fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

pub fn process_name(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(PathBuf::from("/proc").join(pid.to_string()).join("comm"));
    comm.ok().map(|name| name.trim_end().to_owned())
}

/// `VmRSS` of `/proc/<pid>/status`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Kibibytes as mebibytes, for printing.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `name MiB` pairs of a [`tree_rss_kib`] breakdown, largest first.
pub fn describe(breakdown: &HashMap<String, u64>) -> String {
    let mut pairs: Vec<_> = breakdown.iter().collect();
    pairs.sort_by_key(|(_, kib)| std::cmp::Reverse(**kib));
    pairs
        .iter()
        .map(|(name, kib)| format!("{name} {:.1} MiB", mib(**kib)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first three fields of `/proc/loadavg`: what else the machine was doing.
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
