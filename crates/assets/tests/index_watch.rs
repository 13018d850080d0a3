//! The folder index against real files and the real watcher: first scan, live changes,
//! bursts, a root that disappears and returns, rescans, and Mod Organizer 2 settings.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

use mossy_assets::index::{
    AssetFilter, AssetIndex, AssetKind, IndexEvent, Mo2Folders, RootState, RootStatus,
    find_mo2_folders,
};

/// How long a test waits for the watcher to catch up before failing. Generous because the
/// test machine is shared; the watcher normally needs a few hundred milliseconds.
const DEADLINE: Duration = Duration::from_secs(30);

/// Longer wait for the missing-root poll, which runs every two seconds.
const ROOT_DEADLINE: Duration = Duration::from_secs(40);

const POLL: Duration = Duration::from_millis(50);

type Row = (String, AssetKind, u64);

fn write(path: &Path, bytes: usize) {
    fs::create_dir_all(path.parent().expect("file has a parent")).expect("create folder");
    fs::write(path, vec![b'x'; bytes]).expect("write file");
}

/// Every row of the index as (relative path, kind, size), sorted.
fn rows(index: &AssetIndex) -> Vec<Row> {
    let mut rows: Vec<Row> = index
        .list(&AssetFilter::default(), 0, u64::MAX)
        .expect("list")
        .into_iter()
        .map(|record| (record.rel_path, record.kind, record.size))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn expected(rows: &[(&str, AssetKind, u64)]) -> Vec<Row> {
    let mut rows: Vec<Row> = rows
        .iter()
        .map(|(path, kind, size)| ((*path).to_owned(), *kind, *size))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Polls until the index holds exactly `want`, then compares the whole lists.
fn wait_for_rows(index: &AssetIndex, want: &[Row]) {
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end && rows(index) != want {
        sleep(POLL);
    }
    assert_eq!(rows(index), want);
}

fn root_state(index: &AssetIndex, root: &Path) -> Option<RootState> {
    index
        .roots()
        .expect("roots")
        .into_iter()
        .find(|r| r.path == root)
        .map(|r| r.state)
}

fn wait_for_state(index: &AssetIndex, root: &Path, state: RootState, deadline: Duration) {
    let end = Instant::now() + deadline;
    while Instant::now() < end && root_state(index, root) != Some(state) {
        sleep(POLL);
    }
    assert_eq!(root_state(index, root), Some(state));
}

/// A root with spaces, `#`, `%` and non-ASCII letters, and files nested in such folders.
fn odd_tree(root: &Path) -> Vec<Row> {
    write(&root.join("Tëxtures ü/a b.dds"), 10);
    write(&root.join("Tëxtures ü/Ñested #1/c%20d.png"), 11);
    write(&root.join("Meshes/Armor/ünïcode 100%.NIF"), 12);
    write(&root.join("Mod #2.esp"), 13);
    write(&root.join("Mod - Main.ba2"), 14);
    write(&root.join(".hidden/readme.txt"), 15);
    write(&root.join("deep/a/b/c/d/e/f.tga"), 16);
    fs::create_dir_all(root.join("empty folder")).expect("empty folder");
    expected(&[
        ("Tëxtures ü/a b.dds", AssetKind::Texture, 10),
        ("Tëxtures ü/Ñested #1/c%20d.png", AssetKind::Image, 11),
        ("Meshes/Armor/ünïcode 100%.NIF", AssetKind::Mesh, 12),
        ("Mod #2.esp", AssetKind::Plugin, 13),
        ("Mod - Main.ba2", AssetKind::Archive, 14),
        (".hidden/readme.txt", AssetKind::Other, 15),
        ("deep/a/b/c/d/e/f.tga", AssetKind::Image, 16),
    ])
}

struct Fixture {
    dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("Mods #2 %BASE%");
        fs::create_dir_all(&root).expect("root");
        Self { dir, root }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("index.db")
    }

    fn open_ready(&self) -> (AssetIndex, Receiver<IndexEvent>) {
        let (index, events) = AssetIndex::open(&self.db()).expect("open index");
        let root = index.add_root(&self.root).expect("add root");
        assert_eq!(root, self.root);
        wait_for_state(&index, &self.root, RootState::Ready, DEADLINE);
        (index, events)
    }
}

#[test]
fn first_scan_indexes_nested_odd_names_exactly() {
    let fixture = Fixture::new();
    let want = odd_tree(&fixture.root);

    let (index, _events) = fixture.open_ready();

    assert_eq!(rows(&index), want);
    let path = fixture.root.join("Tëxtures ü/a b.dds");
    let record = index.get(&path).expect("get").expect("row for a b.dds");
    let modified = fs::metadata(&path)
        .expect("metadata")
        .modified()
        .expect("mtime");
    let modified_ns = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970");
    assert_eq!(record.path, path);
    assert_eq!(record.root, fixture.root);
    assert_eq!(record.modified_ns as u128, modified_ns.as_nanos());
    assert_eq!(
        (record.lossy_name, record.root_state),
        (false, RootState::Ready)
    );
    assert_eq!(
        index.get(&fixture.root.join("nope.dds")).expect("get"),
        None
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_names_are_stored_lossily_and_flagged() {
    use std::os::unix::ffi::OsStrExt;

    let fixture = Fixture::new();
    let name = std::ffi::OsStr::from_bytes(b"bad \xff name.dds");
    write(&fixture.root.join("Tëxtures").join(name), 5);

    let (index, _events) = AssetIndex::open_unwatched(&fixture.db()).expect("open");
    index.add_root(&fixture.root).expect("add root");
    assert_eq!(index.rescan(&fixture.root).expect("rescan"), 1);

    let records = index.list(&AssetFilter::default(), 0, 10).expect("list");
    let summary: Vec<_> = records
        .iter()
        .map(|r| (r.rel_path.as_str(), r.lossy_name))
        .collect();
    assert_eq!(summary, [("Tëxtures/bad \u{fffd} name.dds", true)]);
}

#[test]
fn list_filters_by_kind_and_text_newest_first() {
    let fixture = Fixture::new();
    let names = [
        "Old Tëxture.dds",
        "Mid #1.nif",
        "New TËXTURE ü.dds",
        "Other.txt",
    ];
    for (age, name) in names.iter().enumerate() {
        let path = fixture.root.join(name);
        write(&path, 1);
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + age as u64);
        fs::File::options()
            .write(true)
            .open(&path)
            .expect("open")
            .set_modified(time)
            .expect("mtime");
    }
    let (index, _events) = AssetIndex::open_unwatched(&fixture.db()).expect("open");
    index.add_root(&fixture.root).expect("add root");
    index.rescan(&fixture.root).expect("rescan");

    let names_of = |filter: &AssetFilter, offset, limit| -> Vec<String> {
        let list = index.list(filter, offset, limit).expect("list");
        list.into_iter().map(|record| record.rel_path).collect()
    };
    let all = AssetFilter::default();
    assert_eq!(
        names_of(&all, 0, 10),
        [
            "Other.txt",
            "New TËXTURE ü.dds",
            "Mid #1.nif",
            "Old Tëxture.dds"
        ]
    );
    assert_eq!(names_of(&all, 1, 2), ["New TËXTURE ü.dds", "Mid #1.nif"]);

    let textures = AssetFilter {
        kind: Some(AssetKind::Texture),
        text: None,
    };
    assert_eq!(
        names_of(&textures, 0, 10),
        ["New TËXTURE ü.dds", "Old Tëxture.dds"]
    );
    assert_eq!(index.count(&textures).expect("count"), 2);

    let text = AssetFilter {
        kind: None,
        text: Some("tëxt".to_owned()),
    };
    assert_eq!(
        names_of(&text, 0, 10),
        ["New TËXTURE ü.dds", "Old Tëxture.dds"]
    );
    let both = AssetFilter {
        kind: Some(AssetKind::Mesh),
        text: Some("#1".to_owned()),
    };
    assert_eq!(names_of(&both, 0, 10), ["Mid #1.nif"]);
    assert_eq!(index.count(&all).expect("count"), 4);
}

#[test]
fn watcher_applies_create_modify_rename_and_delete() {
    let fixture = Fixture::new();
    let root = &fixture.root;
    let outside = fixture.dir.path().join("Outside ü");
    fs::create_dir_all(&outside).expect("outside folder");
    write(&root.join("Tëxtures ü/a b.dds"), 10);
    let (index, events) = fixture.open_ready();

    // Create.
    write(&root.join("Tëxtures ü/Ñew #1/c%20d.dds"), 20);
    write(&root.join("Mod #2.esp"), 30);
    let mut want = expected(&[
        ("Tëxtures ü/a b.dds", AssetKind::Texture, 10),
        ("Tëxtures ü/Ñew #1/c%20d.dds", AssetKind::Texture, 20),
        ("Mod #2.esp", AssetKind::Plugin, 30),
    ]);
    wait_for_rows(&index, &want);

    // Modify: the size changes.
    write(&root.join("Mod #2.esp"), 31);
    want[0].2 = 31;
    wait_for_rows(&index, &want);

    // Rename within the root, into a new folder.
    fs::create_dir_all(root.join("Moved ü")).expect("folder");
    fs::rename(
        root.join("Tëxtures ü/a b.dds"),
        root.join("Moved ü/renamed #3.dds"),
    )
    .expect("rename");
    want = expected(&[
        ("Moved ü/renamed #3.dds", AssetKind::Texture, 10),
        ("Tëxtures ü/Ñew #1/c%20d.dds", AssetKind::Texture, 20),
        ("Mod #2.esp", AssetKind::Plugin, 31),
    ]);
    wait_for_rows(&index, &want);

    // Rename a whole folder: its files get no events of their own.
    fs::rename(root.join("Tëxtures ü"), root.join("Textures 100%")).expect("rename folder");
    want = expected(&[
        ("Moved ü/renamed #3.dds", AssetKind::Texture, 10),
        ("Textures 100%/Ñew #1/c%20d.dds", AssetKind::Texture, 20),
        ("Mod #2.esp", AssetKind::Plugin, 31),
    ]);
    wait_for_rows(&index, &want);

    // Rename out of the root.
    fs::rename(
        root.join("Moved ü/renamed #3.dds"),
        outside.join("gone.dds"),
    )
    .expect("move out");
    want = expected(&[
        ("Textures 100%/Ñew #1/c%20d.dds", AssetKind::Texture, 20),
        ("Mod #2.esp", AssetKind::Plugin, 31),
    ]);
    wait_for_rows(&index, &want);

    // Rename into the root from outside.
    fs::rename(outside.join("gone.dds"), root.join("back ü.dds")).expect("move in");
    want = expected(&[
        ("back ü.dds", AssetKind::Texture, 10),
        ("Textures 100%/Ñew #1/c%20d.dds", AssetKind::Texture, 20),
        ("Mod #2.esp", AssetKind::Plugin, 31),
    ]);
    wait_for_rows(&index, &want);

    // Delete.
    fs::remove_file(root.join("Mod #2.esp")).expect("delete");
    fs::remove_dir_all(root.join("Textures 100%")).expect("delete folder");
    want = expected(&[("back ü.dds", AssetKind::Texture, 10)]);
    wait_for_rows(&index, &want);

    let seen: Vec<IndexEvent> = events.try_iter().collect();
    assert!(
        seen.contains(&IndexEvent::Upserted(root.join("back ü.dds"))),
        "{seen:?}"
    );
    assert!(
        seen.contains(&IndexEvent::Removed(root.join("Mod #2.esp"))),
        "{seen:?}"
    );
}

#[test]
fn burst_of_creates_and_deletes_ends_exact() {
    let fixture = Fixture::new();
    let (index, _events) = fixture.open_ready();

    let name = |n: usize| format!("Bürst #{}/file {n:04} %.dds", n % 10);
    for n in 0..5_000 {
        write(&fixture.root.join(name(n)), n % 7);
    }
    for n in (0..5_000).step_by(5) {
        fs::remove_file(fixture.root.join(name(n))).expect("delete");
    }

    let mut want: Vec<Row> = (0..5_000)
        .filter(|n| n % 5 != 0)
        .map(|n| (name(n), AssetKind::Texture, (n % 7) as u64))
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(want.len(), 4_000);
    wait_for_rows(&index, &want);
}

#[test]
fn missing_root_is_marked_then_rescanned_when_back() {
    let fixture = Fixture::new();
    write(&fixture.root.join("Tëxtures/old #1.dds"), 1);
    write(&fixture.root.join("old 2.nif"), 2);
    let (index, _events) = fixture.open_ready();
    let before = expected(&[
        ("Tëxtures/old #1.dds", AssetKind::Texture, 1),
        ("old 2.nif", AssetKind::Mesh, 2),
    ]);
    assert_eq!(rows(&index), before);

    fs::remove_dir_all(&fixture.root).expect("delete root");
    wait_for_state(&index, &fixture.root, RootState::Missing, ROOT_DEADLINE);
    assert_eq!(rows(&index), before, "rows of a missing root are kept");
    let states: Vec<_> = index
        .list(&AssetFilter::default(), 0, 10)
        .expect("list")
        .into_iter()
        .map(|record| record.root_state)
        .collect();
    assert_eq!(states, [RootState::Missing, RootState::Missing]);

    write(&fixture.root.join("Tëxtures/new ü.dds"), 3);
    write(&fixture.root.join("old 2.nif"), 4);
    wait_for_state(&index, &fixture.root, RootState::Ready, ROOT_DEADLINE);
    let after = expected(&[
        ("Tëxtures/new ü.dds", AssetKind::Texture, 3),
        ("old 2.nif", AssetKind::Mesh, 4),
    ]);
    wait_for_rows(&index, &after);

    // And the watcher follows the new folder.
    write(&fixture.root.join("later.esl"), 5);
    let mut later = after.clone();
    later.push(("later.esl".to_owned(), AssetKind::Plugin, 5));
    later.sort_by(|a, b| a.0.cmp(&b.0));
    wait_for_rows(&index, &later);
}

#[test]
fn kept_root_that_is_not_there_yet_shows_missing_then_is_scanned() {
    let fixture = Fixture::new();
    let later = fixture.dir.path().join("Drive É #3/Data");
    let (index, _events) = AssetIndex::open(&fixture.db()).expect("open index");
    assert!(
        index.add_root(&later).is_err(),
        "a folder the user types must exist"
    );
    assert_eq!(index.keep_root(&later).expect("keep root"), later);
    wait_for_state(&index, &later, RootState::Missing, DEADLINE);

    // A file where the folder should be is not a folder that may come back.
    let file = fixture.dir.path().join("a file.txt");
    write(&file, 1);
    assert!(index.keep_root(&file).is_err());
    assert!(index.keep_root(&file.join("Data")).is_err());

    write(&later.join("Textures/arrived ü.dds"), 7);
    wait_for_state(&index, &later, RootState::Ready, ROOT_DEADLINE);
    wait_for_rows(
        &index,
        &expected(&[("Textures/arrived ü.dds", AssetKind::Texture, 7)]),
    );
}

#[test]
fn root_replaced_by_a_new_folder_is_rescanned() {
    let fixture = Fixture::new();
    write(&fixture.root.join("first.dds"), 1);
    let (index, _events) = fixture.open_ready();

    // Renamed away and replaced before anything is written: only the poll can tell.
    fs::rename(&fixture.root, fixture.dir.path().join("renamed away")).expect("rename root");
    write(&fixture.root.join("second.dds"), 2);

    let end = Instant::now() + ROOT_DEADLINE;
    let want = expected(&[("second.dds", AssetKind::Texture, 2)]);
    while Instant::now() < end && rows(&index) != want {
        sleep(POLL);
    }
    assert_eq!(rows(&index), want);
}

#[test]
fn rescan_reconciles_changes_made_while_closed() {
    let fixture = Fixture::new();
    let root = &fixture.root;
    write(&root.join("kept ü.dds"), 1);
    write(&root.join("changed #1.nif"), 2);
    write(&root.join("Folder %/removed.esp"), 3);
    {
        let (index, _events) = fixture.open_ready();
        assert_eq!(rows(&index).len(), 3);
    }

    write(&root.join("changed #1.nif"), 20);
    fs::remove_dir_all(root.join("Folder %")).expect("delete folder");
    write(&root.join("Néw/added.ba2"), 4);
    let want = expected(&[
        ("kept ü.dds", AssetKind::Texture, 1),
        ("changed #1.nif", AssetKind::Mesh, 20),
        ("Néw/added.ba2", AssetKind::Archive, 4),
    ]);

    // Directly: an unwatched index sees the old rows until it is told to rescan.
    let (index, events) = AssetIndex::open_unwatched(&fixture.db()).expect("reopen");
    assert_eq!(rows(&index).len(), 3);
    assert_eq!(index.rescan(root).expect("rescan"), 3);
    assert_eq!(rows(&index), want);
    assert!(
        events
            .try_iter()
            .any(|event| event == IndexEvent::Rescanned(root.clone(), 3))
    );
    drop(index);

    // And through the saved roots: a watched index rescans them when opened.
    write(&root.join("kept ü.dds"), 100);
    let (index, _events) = AssetIndex::open(&fixture.db()).expect("reopen watched");
    let mut want = want;
    want.iter_mut()
        .filter(|row| row.0 == "kept ü.dds")
        .for_each(|row| row.2 = 100);
    wait_for_rows(&index, &want);
}

#[test]
fn a_folder_removed_and_added_again_shows_its_files_at_once_and_catches_up() {
    let fixture = Fixture::new();
    let root = &fixture.root;
    write(&root.join("kept ü.dds"), 1);
    write(&root.join("Sub #1/changed.nif"), 2);
    let (index, _events) = fixture.open_ready();
    assert!(index.remove_root(root).expect("remove"));
    assert_eq!(rows(&index), []);
    assert_eq!(index.roots().expect("roots"), []);
    drop(index);
    // Changed while out of the gallery, so unwatched.
    write(&root.join("Sub #1/changed.nif"), 20);
    write(&root.join("new.esp"), 3);

    // Added again in an index that does not scan by itself: the rows kept aside show.
    let (index, _events) = AssetIndex::open_unwatched(&fixture.db()).expect("reopen");
    assert_eq!(rows(&index), []);
    index.add_root(root).expect("add again");
    assert_eq!(
        rows(&index),
        expected(&[
            ("kept ü.dds", AssetKind::Texture, 1),
            ("Sub #1/changed.nif", AssetKind::Mesh, 2),
        ])
    );
    drop(index);

    // A watched index rescans it, corrects the rows and follows new files again.
    let (index, _events) = AssetIndex::open(&fixture.db()).expect("reopen watched");
    let mut want = expected(&[
        ("kept ü.dds", AssetKind::Texture, 1),
        ("Sub #1/changed.nif", AssetKind::Mesh, 20),
        ("new.esp", AssetKind::Plugin, 3),
    ]);
    wait_for_rows(&index, &want);
    wait_for_state(&index, root, RootState::Ready, DEADLINE);
    write(&root.join("later.ba2"), 4);
    want.push(("later.ba2".to_owned(), AssetKind::Archive, 4));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    wait_for_rows(&index, &want);

    // Removed and added again in one session: watched again by a watcher of its own.
    assert!(index.remove_root(root).expect("remove in session"));
    index.add_root(root).expect("add in session");
    wait_for_state(&index, root, RootState::Ready, DEADLINE);
    write(&root.join("last.dds"), 5);
    want.push(("last.dds".to_owned(), AssetKind::Texture, 5));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    wait_for_rows(&index, &want);
}

#[test]
fn one_folder_spelled_several_ways_is_one_root() {
    let fixture = Fixture::new();
    let root = &fixture.root;
    write(&root.join("a ü.dds"), 1);
    let (index, _events) = AssetIndex::open_unwatched(&fixture.db()).expect("open");
    let name = root.file_name().expect("root name");
    let spellings = [
        PathBuf::from(format!("{}/", root.display())),
        root.join(".").join("Sub"),
        root.join("Sub").join(".."),
        root.parent()
            .expect("parent")
            .join("x")
            .join("..")
            .join(name),
    ];
    fs::create_dir_all(root.join("Sub")).expect("sub folder");

    assert_eq!(
        index.add_root(&spellings[0]).expect("trailing slash"),
        *root
    );
    for spelling in &spellings[2..] {
        assert_eq!(
            index.add_root(spelling).expect("add"),
            *root,
            "{spelling:?}"
        );
    }
    assert_eq!(index.roots().expect("roots").len(), 1);
    assert_eq!(index.rescan(&spellings[0]).expect("rescan"), 1);

    // A folder inside is a root of its own, named without the `.`.
    let sub = index.add_root(&spellings[1]).expect("sub");
    assert_eq!(sub, root.join("Sub"));
    assert!(index.remove_root(&sub).expect("remove sub"));

    assert!(
        index
            .remove_root(&spellings[3])
            .expect("remove by another spelling")
    );
    assert_eq!(index.roots().expect("roots"), []);
}

#[test]
fn details_are_stored_and_roots_removed() {
    let fixture = Fixture::new();
    let path = fixture.root.join("Tëxtures/a b.dds");
    write(&path, 8);
    let (index, _events) = fixture.open_ready();

    let details = serde_json::json!({ "format": "BC7", "width": 1024 });
    assert!(
        index
            .set_details(&path, Ok(details.clone()))
            .expect("details")
    );
    let record = index.get(&path).expect("get").expect("row");
    assert_eq!(
        (record.details, record.details_error),
        (Some(details.clone()), None)
    );

    assert!(
        index
            .set_details(&path, Err("bad header".to_owned()))
            .expect("error")
    );
    let record = index.get(&path).expect("get").expect("row");
    assert_eq!(
        (record.details, record.details_error),
        (None, Some("bad header".to_owned()))
    );
    assert!(
        !index
            .set_details(&fixture.root.join("none.dds"), Ok(details))
            .expect("absent")
    );

    assert_eq!(
        index.roots().expect("roots"),
        [RootStatus {
            path: fixture.root.clone(),
            state: RootState::Ready
        }]
    );
    assert!(index.remove_root(&fixture.root).expect("remove"));
    assert!(!index.remove_root(&fixture.root).expect("remove again"));
    assert_eq!(index.roots().expect("roots"), []);
    assert_eq!(rows(&index), []);
}

#[test]
fn mo2_folders_come_from_the_ini_with_base_dir_substitution() {
    let dir = tempfile::tempdir().expect("temp dir");
    let instance = dir.path().join("MO2 #2 ü");
    fs::create_dir_all(&instance).expect("instance");
    let base = dir.path().join("Base 100%");
    let ini = format!(
        "[General]\ngameName=Fallout 4\nmod_directory=/wrong\n\n[Settings]\n\
         base_directory=@ByteArray({})\n\
         mod_directory=@ByteArray(%BASE_DIR%/Mods #2)\n\
         overwrite_directory=\"@ByteArray(%BASE_DIR%/Över write)\"\n",
        base.display()
    );
    fs::write(instance.join("ModOrganizer.ini"), ini).expect("ini");

    let folders = find_mo2_folders(&instance).expect("folders");

    assert_eq!(
        folders,
        Mo2Folders {
            base: base.clone(),
            mods: base.join("Mods #2"),
            overwrite: base.join("Över write"),
        }
    );
}

#[test]
fn mo2_folders_default_to_the_instance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let instance = dir.path().join("Instance ü");
    fs::create_dir_all(&instance).expect("instance");
    fs::write(
        instance.join("ModOrganizer.ini"),
        "\u{feff}[General]\ngameName=Fallout 4\n[Settings]\nlanguage=en\nmod_directory=\n",
    )
    .expect("ini");

    let folders = find_mo2_folders(&instance).expect("folders");

    assert_eq!(
        folders,
        Mo2Folders {
            base: instance.clone(),
            mods: instance.join("mods"),
            overwrite: instance.join("overwrite"),
        }
    );
}

#[test]
fn mo2_relative_and_escaped_settings_resolve_against_the_instance() {
    let dir = tempfile::tempdir().expect("temp dir");
    let instance = dir.path().join("Instance");
    fs::create_dir_all(&instance).expect("instance");
    fs::write(
        instance.join("ModOrganizer.ini"),
        "[Settings]\r\nbase_directory=Data #1\r\noverwrite_directory=\"Over \\\"q\\\"\"\r\n",
    )
    .expect("ini");

    let folders = find_mo2_folders(&instance).expect("folders");

    assert_eq!(
        folders,
        Mo2Folders {
            base: instance.join("Data #1"),
            mods: instance.join("Data #1/mods"),
            overwrite: instance.join("Over \"q\""),
        }
    );
    assert!(find_mo2_folders(&dir.path().join("no instance")).is_err());
}
