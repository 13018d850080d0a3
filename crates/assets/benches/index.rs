//! Index scan benchmark: 100,000 small files, `find` against the scanner alone and against
//! the full scan into a fresh SQLite index. Best of three runs each, in one process.
//!
//! Run with `cargo bench -p mossy-assets --bench index`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mossy_assets::index::AssetIndex;
use mossy_assets::scan;

/// Folders in the tree, and files in each: 100,000 files, about a large mod list's worth.
const FOLDERS: usize = 1_000;
const FILES_PER_FOLDER: usize = 100;

/// Runs per measurement; the best one is reported so cache warm-up does not count.
const RUNS: usize = 3;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("Mods #2");
    make_tree(&tree);
    // Flush the new tree to disk first, so the index's own fsyncs do not pay for it.
    let synced = Command::new("sync").status().expect("run sync");
    assert!(synced.success(), "sync failed");
    let total = FOLDERS * FILES_PER_FOLDER;

    let find = best_of(|| {
        let status = Command::new("find")
            .arg(&tree)
            .args(["-type", "f", "-printf", "%s %T@ %p\\n"])
            .stdout(Stdio::null())
            .status()
            .expect("run find");
        assert!(status.success(), "find failed");
    });

    let scan_only = best_of(|| {
        let files = scan::scan_all(&tree).expect("scan");
        assert_eq!(files.len(), total);
    });

    let mut run = 0;
    let indexed = best_of(|| {
        run += 1;
        let db = dir.path().join(format!("index-{run}.db"));
        let (index, _events) = AssetIndex::open_unwatched(&db).expect("open index");
        index.add_root(&tree).expect("add root");
        let count = index.rescan(&tree).expect("rescan");
        assert_eq!(count, total);
    });

    let rescan = {
        let db = dir.path().join("index-rescan.db");
        let (index, _events) = AssetIndex::open_unwatched(&db).expect("open index");
        index.add_root(&tree).expect("add root");
        index.rescan(&tree).expect("first scan");
        best_of(|| {
            assert_eq!(index.rescan(&tree).expect("rescan"), total);
        })
    };

    let ratio = |time: Duration| time.as_secs_f64() / find.as_secs_f64();
    println!("{total} files in {FOLDERS} folders, best of {RUNS}");
    println!("{:<44} {:>9} {:>8}", "what", "seconds", "x find");
    for (what, time) in [
        ("find -type f -printf '%s %T@ %p\\n'", find),
        ("scan only (parallel walk + stat)", scan_only),
        ("full index scan into fresh SQLite", indexed),
        ("rescan, nothing changed", rescan),
    ] {
        println!(
            "{what:<44} {:>9.3} {:>8.2}",
            time.as_secs_f64(),
            ratio(time)
        );
    }
}

fn make_tree(tree: &Path) {
    for folder in 0..FOLDERS {
        let folder_path = tree.join(format!("Tëxtures {folder:04}"));
        std::fs::create_dir_all(&folder_path).expect("create folder");
        for file in 0..FILES_PER_FOLDER {
            let name = format!("file {file:03}.dds");
            std::fs::write(folder_path.join(name), b"DDS ").expect("write file");
        }
    }
}

fn best_of(mut measure: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            measure();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
