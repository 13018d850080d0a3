//! How many bridge frames per second one thread can decode and hand to the bus.
//!
//! Run with `cargo bench -p mossy-core --bench bridge_parse` (release profile). Three loops
//! go over the same realistic mix of frames, on one thread:
//!
//! 1. `parse_frame` alone;
//! 2. `parse_frame` plus dispatch: the bridge client's own [`Inbox`] publishing on a [`Bus`]
//!    with one subscriber that drains every event, as the tool monitor would;
//! 3. a reference: `serde_json::from_str::<serde_json::Value>` on the same frames, the
//!    cheapest thing that still reads every byte as JSON.
//!
//! It prints messages per second for each and the ratio of (2) to (3). The target is at
//! least 500,000 messages per second for (2), far above the ~1,000 a second Mossy can send.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mossy_core::bridge::{Delivery, Inbox, parse_frame};
use mossy_core::bus::Bus;

/// Frames per timed run: enough for a run to last a good fraction of a second.
const FRAMES_PER_RUN: usize = 1_000_000;

/// Timed rounds; each loop's best is reported, as slower runs only add scheduler noise.
const RUNS: usize = 5;

/// The mix: build output dominates a busy session, tools and assets come and go, and the
/// odd frame is a type this version does not know.
const FRAMES: &[&str] = &[
    r#"{"type":"tool_detected","tool":"Blender"}"#,
    r#"{"type":"build_progress","percent":42}"#,
    r#"{"type":"tool_detected","tool":"Creation Kit","pid":7188,"at":1796378400000}"#,
    r#"{"type":"tool_exited","tool":"xEdit","pid":5312,"at":"2026-12-04T10:05:00.500Z"}"#,
    concat!(
        r#"{"type":"build_started","build_id":"b7","title":"Compile Papyrus scripts","#,
        r#""at":1796378400000}"#
    ),
    concat!(
        r#"{"type":"build_progress","build_id":"b7","percent":35.5,"#,
        r#""message":"Compiling DLC03:TrapBear"}"#
    ),
    concat!(
        r#"{"type":"build_log","build_id":"b7","stream":"stdout","#,
        r#""line":"Compiling \"RustyPlateQuestScript\"..."}"#
    ),
    concat!(
        r#"{"type":"build_log","build_id":"b7","stream":"stderr","line":"#,
        r#""C:\\Mods\\Scripts\\Source\\User\\DLC03\\TrapBear.psc(12,8): "#,
        r#"variable Foo is undefined"}"#
    ),
    concat!(
        r#"{"type":"build_log","build_id":"b7","stream":"stdout","#,
        r#""line":"Batch compile of 3 files finished. 1 succeeded, 2 failed."}"#
    ),
    r#"{"type":"build_complete","build_id":"b7","result":"failed","at":1796378460000}"#,
    concat!(
        r#"{"type":"asset_changed","path":"mods/Rusty Plate/Textures/Armor/cuirass_d.dds","#,
        r#""at":1796378400000}"#
    ),
    r#"{"type":"generation_progress","request_id":"r1","percent":75}"#,
    concat!(
        r#"{"type":"generation_complete","request_id":"r1","#,
        r#""paths":["previews/a 1.png","previews/a 2.png"]}"#
    ),
    r#"{"type":"metric_update","data":{"name":"cpu","value":12.5,"unit":"%"}}"#,
];

fn main() {
    check_the_mix();

    let mut parse_only = |frame: &str| {
        black_box(parse_frame(black_box(frame)).is_ok());
    };
    let bus = Bus::new();
    let mut subscriber = bus.subscribe();
    let mut inbox = Inbox::new(bus);
    let mut dispatch = |frame: &str| {
        black_box(inbox.accept_text(black_box(frame)));
        while let Ok(event) = subscriber.try_recv() {
            black_box(event);
        }
    };
    let mut reference = |frame: &str| {
        black_box(serde_json::from_str::<serde_json::Value>(black_box(frame)).is_ok());
    };

    // One untimed round warms caches and the allocator. The loops then take turns, round
    // after round, so a burst of load from elsewhere on the machine hits all three alike.
    run(&mut parse_only);
    run(&mut dispatch);
    run(&mut reference);
    let mut best = [0.0_f64; 3];
    for _ in 0..RUNS {
        let rates = [
            rate(run(&mut parse_only)),
            rate(run(&mut dispatch)),
            rate(run(&mut reference)),
        ];
        for (best, rate) in best.iter_mut().zip(rates) {
            *best = best.max(rate);
        }
    }
    let [parse_only, dispatch, reference] = best;

    println!(
        "bridge_parse: {} frame kinds, {FRAMES_PER_RUN} frames per run, best of {RUNS} runs",
        FRAMES.len()
    );
    report("parse_frame only", parse_only);
    report("parse_frame + bus dispatch", dispatch);
    report("serde_json::Value (reference)", reference);
    println!("dispatch / reference: {:.2}", dispatch / reference);
}

/// Every frame in the mix must decode, or the benchmark measures the error path.
fn check_the_mix() {
    let mut inbox = Inbox::new(Bus::new());
    for frame in FRAMES {
        match inbox.accept_text(frame) {
            Delivery::Published | Delivery::Unknown { .. } => {}
            Delivery::Dropped(error) => panic!("the mix has a bad frame: {frame}: {error}"),
        }
    }
}

/// Frames per second for a run of [`FRAMES_PER_RUN`] frames that took `elapsed`.
fn rate(elapsed: Duration) -> f64 {
    FRAMES_PER_RUN as f64 / elapsed.as_secs_f64()
}

/// Runs `step` once over [`FRAMES_PER_RUN`] frames of the mix.
fn run(step: &mut impl FnMut(&str)) -> Duration {
    let started = Instant::now();
    for frame in FRAMES.iter().cycle().take(FRAMES_PER_RUN) {
        step(frame);
    }
    started.elapsed()
}

fn report(name: &str, rate: f64) {
    println!(
        "{name:<32} {:>10.0} msgs/s  {:>6.0} ns/msg",
        rate,
        1e9 / rate
    );
}
