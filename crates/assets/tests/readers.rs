//! Header readers against the shared fixtures, hand-built NIF headers, the seed corpus, and
//! proptest fuzzing (random bytes and mutated fixture prefixes).

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use mossy_assets::ba2::{Ba2Header, Ba2Kind, read_ba2_header};
use mossy_assets::dds::{DdsHeader, DdsHeaderKind, read_dds_header};
use mossy_assets::header::{AssetHeader, read_header};
use mossy_assets::kind::AssetKind;
use mossy_assets::nif::{NifHeader, read_nif_header};
use mossy_assets::plugin::{PluginHeader, read_plugin_header};
use mossy_assets::read_error::ReadError;
use mossy_assets::thumbnail::thumbnail_bytes;
use proptest::prelude::*;

fn fixtures() -> PathBuf {
    // Copies of the project's shared fixtures, with their licences (see its README.md).
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/assets")
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = fixtures().join(rel);
    fs::read(&path).unwrap_or_else(|e| panic!("fixture {} missing: {e}", path.display()))
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-corpus")
}

#[test]
fn fixture_path_resolves_to_the_shared_folder() {
    let readme = fs::read_to_string(fixtures().join("README.md")).expect("fixtures README");
    assert!(
        readme.starts_with("# Test fixtures"),
        "the fixtures folder is the shared one"
    );
}

fn fo4_header(bsver: u32, blocks: u32) -> Vec<u8> {
    // Public NIF layout: text line + '\n', u32 version, u8 endian (1 = little),
    // u32 user version, u32 block count, u32 BSVER (present when user version >= 3).
    let mut bytes = b"Gamebryo File Format, Version 20.2.0.7\n".to_vec();
    bytes.extend_from_slice(&0x1402_0007u32.to_le_bytes());
    bytes.push(1);
    bytes.extend_from_slice(&12u32.to_le_bytes());
    bytes.extend_from_slice(&blocks.to_le_bytes());
    bytes.extend_from_slice(&bsver.to_le_bytes());
    // The export info that follows in real files (author ShortString...), to show it is ignored.
    bytes.extend_from_slice(b"\x08Mossy\0\0\0");
    bytes
}

#[test]
fn nif_header_of_a_fallout4_mesh() {
    let header = read_nif_header(&fo4_header(130, 37)[..]).expect("valid header");
    assert_eq!(
        header,
        NifHeader {
            header_line: "Gamebryo File Format, Version 20.2.0.7".to_owned(),
            version: 0x1402_0007,
            user_version: 12,
            bsver: Some(130),
            block_count: 37,
        }
    );
    assert_eq!(header.version_text(), "20.2.0.7");
}

#[test]
fn text_file_renamed_nif_is_a_clear_error() {
    let text = b"Meshes go in Data\\Meshes. This file is a readme.\r\n";
    let err = read_nif_header(&text[..]).expect_err("text is not a mesh");
    assert!(matches!(err, ReadError::NotThisFormat { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "not a NIF mesh: it does not start with \"Gamebryo File Format\""
    );
}

#[test]
fn nif_cut_inside_the_fields_says_truncated() {
    let bytes = fo4_header(130, 1);
    let err = read_nif_header(&bytes[..45]).expect_err("cut short");
    assert_eq!(err.to_string(), "NIF header is truncated (45 of 56 bytes)");
}

#[test]
fn nif_big_endian_is_unsupported() {
    let mut bytes = fo4_header(130, 1);
    bytes[43] = 0;
    let err = read_nif_header(&bytes[..]).expect_err("big endian");
    assert_eq!(
        err.to_string(),
        "NIF mesh in big-endian byte order is not supported (only little-endian files are)"
    );
}

#[test]
fn plugin_headers_of_fixtures() {
    let blank = read_plugin_header(&fixture("fo4/Data/Blank.esp")[..]).expect("Blank.esp");
    assert_eq!(
        blank,
        PluginHeader {
            master: false,
            light: false,
            flags: 0,
            form_version: 131,
            hedr_version: Some(1.0),
            record_count: Some(0),
            next_object_id: Some(0xF99),
            author: Some("DEFAULT".to_owned()),
            description: None,
            masters: vec!["Fallout4.esm".to_owned()],
        }
    );

    // The odd side-branch plugin: HEDR 0.94, form version 0, a record count of 5 for one record,
    // empty author and description. Reported as stored, not rejected.
    let odd =
        read_plugin_header(&fixture("fo4/Data/MiscStatMurders - Five.esp")[..]).expect("tolerated");
    assert_eq!(
        odd,
        PluginHeader {
            master: false,
            light: false,
            flags: 0,
            form_version: 0,
            hedr_version: Some(0.94),
            record_count: Some(5),
            next_object_id: Some(0xCF2),
            author: Some(String::new()),
            description: Some(String::new()),
            masters: vec!["Fallout4.esm".to_owned()],
        }
    );
}

#[test]
fn plugin_flags_master_and_light() {
    let mut bytes = fixture("fo4/Data/Blank.esp");
    bytes[8..12].copy_from_slice(&0x201u32.to_le_bytes());
    let header = read_plugin_header(&bytes[..]).expect("flags only changed");
    assert!(header.master && header.light);
    assert_eq!(header.flags, 0x201);
}

#[test]
fn ba2_headers_of_fixtures() {
    let main = read_ba2_header(Cursor::new(fixture("fo4/Data/Blank - Main.ba2"))).expect("GNRL");
    assert_eq!(
        main,
        Ba2Header {
            version: 1,
            kind: Ba2Kind::General,
            file_count: 1,
            name_table_offset: 0x489,
            names: vec![r"dev\git\testing-plugins\LICENSE.txt".to_owned()],
            names_capped: false,
        }
    );
    let textures =
        read_ba2_header(Cursor::new(fixture("fo4/Data/Blank - Textures.ba2"))).expect("DX10");
    assert_eq!(
        textures,
        Ba2Header {
            version: 1,
            kind: Ba2Kind::Textures,
            file_count: 1,
            name_table_offset: 0x266,
            names: vec![r"dev\git\testing-plugins\Blank.dds".to_owned()],
            names_capped: false,
        }
    );
}

#[test]
fn ba2_versions_7_and_8_are_accepted_and_3_is_not() {
    let original = fixture("fo4/Data/Blank - Main.ba2");
    for version in [7u32, 8] {
        let mut bytes = original.clone();
        bytes[4..8].copy_from_slice(&version.to_le_bytes());
        let header = read_ba2_header(Cursor::new(bytes)).expect("next-gen version");
        assert_eq!(header.version, version);
    }
    let mut bytes = original;
    bytes[4..8].copy_from_slice(&3u32.to_le_bytes());
    let err = read_ba2_header(Cursor::new(bytes)).expect_err("Starfield version");
    assert_eq!(
        err.to_string(),
        "BA2 archive version 3 is not supported (Fallout 4 versions 1, 7 and 8 are)"
    );
}

#[test]
fn ba2_type_with_control_bytes_is_named_on_one_line() {
    // Found by readers_never_panic_on_mutated_fixtures: a newline in the type field used to
    // reach the gallery's one-line error badge as is.
    let mut bytes = fixture("fo4/Data/Blank - Main.ba2");
    bytes[8] = b'\n';
    let err = read_ba2_header(Cursor::new(bytes)).expect_err("bad type");
    assert_eq!(
        err.to_string(),
        "BA2 archive type \"\\nNRL\" is not supported (GNRL and DX10 are)"
    );
}

#[test]
fn ba2_with_a_huge_file_count_reads_the_names_there_are() {
    let mut bytes = fixture("fo4/Data/Blank - Main.ba2");
    bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = read_ba2_header(Cursor::new(bytes)).expect_err("one name, not four billion");
    assert_eq!(
        err.to_string(),
        "BA2 archive is damaged: its name table ends after 1 of 4294967295 names"
    );
}

#[test]
fn ba2_name_list_is_capped() {
    // 200,001 one-letter names: one more than the cap.
    let count = mossy_assets::ba2::MAX_NAMES + 1;
    let mut bytes = b"BTDX".to_vec();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(b"GNRL");
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes.extend_from_slice(&24u64.to_le_bytes());
    for _ in 0..count {
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.push(b'a');
    }
    let header = read_ba2_header(Cursor::new(bytes)).expect("valid archive");
    assert_eq!(header.names.len(), mossy_assets::ba2::MAX_NAMES as usize);
    assert!(header.names_capped);
}

#[test]
fn plugin_xxxx_gives_the_size_of_the_next_subrecord() {
    // TES4 with HEDR, then XXXX saying the MAST that follows is 13 bytes although its own
    // u16 size field says 0 (how plugins store subrecords over 64 KiB).
    let mut data = b"HEDR\x0c\x00".to_vec();
    data.extend_from_slice(&1.0f32.to_le_bytes());
    data.extend_from_slice(&[0; 8]);
    data.extend_from_slice(b"XXXX\x04\x00");
    data.extend_from_slice(&13u32.to_le_bytes());
    data.extend_from_slice(b"MAST\x00\x00Fallout4.esm\0");
    let mut bytes = b"TES4".to_vec();
    bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&[0; 16]);
    bytes.extend_from_slice(&data);
    let header = read_plugin_header(&bytes[..]).expect("valid");
    assert_eq!(header.masters, ["Fallout4.esm"]);
}

#[test]
fn nif_older_than_20_0_0_3_and_mismatched_versions_are_clear_errors() {
    let mut old = b"NetImmerse File Format, Version 4.0.0.2\n".to_vec();
    old.extend_from_slice(&0x0400_0002u32.to_le_bytes());
    let err = read_nif_header(&old[..]).expect_err("Morrowind era");
    assert_eq!(
        err.to_string(),
        "NIF mesh version 4.0.0.2 is not supported (versions 20.0.0.3 and newer are)"
    );

    let mut bytes = fo4_header(130, 1);
    bytes[39..43].copy_from_slice(&0x1402_0008u32.to_le_bytes());
    let err = read_nif_header(&bytes[..]).expect_err("mismatch");
    assert_eq!(
        err.to_string(),
        "NIF mesh is damaged: its header line says 20.2.0.7 but its version field says 20.2.0.8"
    );
}

fn dds(format: &str, srgb: bool, size: (u32, u32), mips: u32, header: DdsHeaderKind) -> DdsHeader {
    DdsHeader {
        format: format.to_owned(),
        srgb,
        width: size.0,
        height: size.1,
        mip_count: mips,
        cubemap: false,
        layers: 1,
        header,
    }
}

#[test]
fn dds_headers_of_fixtures() {
    use DdsHeaderKind::{Dx10, Legacy};
    let small = (129, 66);
    let cases = [
        (
            "textures/bc/DX9 BC1_UNORM.dds",
            dds("BC1", false, small, 8, Legacy),
        ),
        (
            "textures/bc/DX10 BC1_UNORM.dds",
            dds("BC1", false, small, 8, Dx10),
        ),
        (
            "textures/bc/DX10 BC1_UNORM_SRGB.dds",
            dds("BC1", true, small, 8, Dx10),
        ),
        (
            "textures/bc/DX9 BC3_UNORM.dds",
            dds("BC3", false, small, 8, Legacy),
        ),
        (
            "textures/bc/DX9 BC4_UNORM.dds",
            dds("BC4", false, small, 8, Legacy),
        ),
        (
            "textures/bc/DX9 BC4_SNORM.dds",
            dds("BC4_SNORM", false, small, 8, Legacy),
        ),
        (
            "textures/bc/DX10 BC4_UNORM.dds",
            dds("BC4", false, small, 8, Dx10),
        ),
        (
            "textures/bc/DX10 BC4_SNORM.dds",
            dds("BC4_SNORM", false, small, 8, Dx10),
        ),
        (
            "textures/bc/DX9 BC5_UNORM.dds",
            dds("BC5", false, small, 8, Legacy),
        ),
        (
            "textures/bc/DX10 BC5_UNORM.dds",
            dds("BC5", false, small, 8, Dx10),
        ),
        (
            "textures/bc/DX10 BC7_UNORM.dds",
            dds("BC7", false, small, 8, Dx10),
        ),
        // Mip count stored as 0 means one level.
        (
            "textures/bc/dxt1-simple.dds",
            dds("BC1", false, (64, 64), 1, Legacy),
        ),
        (
            "textures/bc/dxt5-simple.dds",
            dds("BC3", false, (64, 64), 1, Legacy),
        ),
        (
            "textures/uncompressed/DX9 B8G8R8A8_UNORM.dds",
            dds("B8G8R8A8", false, small, 8, Legacy),
        ),
        (
            "fo4/Data/Blank.dds",
            dds("BC1", false, (800, 600), 10, Legacy),
        ),
        (
            "textures/cube/DXT1 Pretoria Gardens DX9.dds",
            DdsHeader {
                cubemap: true,
                layers: 6,
                ..dds("BC1", false, (128, 128), 8, Legacy)
            },
        ),
    ];
    for (rel, expected) in cases {
        let header = read_dds_header(&fixture(rel)[..]).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(header, expected, "{rel}");
    }
}

#[test]
fn dds_errors_read_as_sentences() {
    let bc1 = fixture("textures/bc/DX9 BC1_UNORM.dds");
    let err = read_dds_header(&bc1[..60]).expect_err("cut");
    assert_eq!(err.to_string(), "DDS header is truncated (60 of 128 bytes)");

    let mut huge = bc1.clone();
    huge[12..16].copy_from_slice(&100_000u32.to_le_bytes());
    let err = read_dds_header(&huge[..]).expect_err("huge");
    assert_eq!(
        err.to_string(),
        "texture claims 129x100000 pixels, more than the 16384-pixel limit per side"
    );

    let err = read_dds_header(&b"PK\x03\x04 a zip file"[..]).expect_err("zip");
    assert_eq!(
        err.to_string(),
        "not a DDS texture: it does not start with \"DDS \""
    );
}

#[test]
fn unknown_dxgi_format_is_named_not_rejected() {
    let mut bytes = fixture("textures/bc/DX10 BC1_UNORM.dds");
    bytes[128..132].copy_from_slice(&191u32.to_le_bytes());
    let header = read_dds_header(&bytes[..]).expect("header is still readable");
    assert_eq!(header.format, "DXGI format 191");
}

#[test]
fn read_header_dispatches_by_extension() {
    let esp = read_header(&fixtures().join("fo4/Data/Blank.esp")).expect("readable");
    assert!(matches!(esp, Some(AssetHeader::Plugin(ref p)) if p.masters == ["Fallout4.esm"]));
    let png = read_header(&fixtures().join("textures/bc/dxt1-simple.png")).expect("no reader");
    assert_eq!(png, None);
}

/// Runs `bytes` through every reader and the thumbnailer; each must return, and an error must
/// be one short line. A panic fails the calling test.
fn every_reader_copes(bytes: &[u8]) {
    fn check<T>(result: Result<T, impl std::fmt::Display>) {
        if let Err(err) = result {
            let text = err.to_string();
            assert!(
                !text.is_empty() && text.len() < 300 && !text.contains('\n'),
                "{text:?}"
            );
        }
    }
    check(read_dds_header(bytes));
    check(read_nif_header(bytes));
    check(read_plugin_header(bytes));
    check(read_ba2_header(Cursor::new(bytes)));
    for kind in [AssetKind::Texture, AssetKind::Image] {
        check(thumbnail_bytes(bytes, kind, 64));
    }
}

#[test]
fn seed_corpus_gives_ok_or_a_clear_error() {
    let mut seen = 0;
    for entry in fs::read_dir(corpus_dir()).expect("fuzz-corpus folder") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.starts_with("LICENSE") || name == "README.md" {
            continue;
        }
        let bytes = fs::read(&path).expect("corpus file");
        every_reader_copes(&bytes);
        seen += 1;
    }
    assert!(seen >= 25, "expected the whole corpus, found {seen} files");
}

#[test]
fn seed_corpus_hostile_headers_are_rejected_with_the_right_error() {
    let read = |name: &str| fs::read(corpus_dir().join(name)).expect("corpus file");
    type Reader = fn(&[u8]) -> Option<ReadError>;
    let cases: [(&str, Reader, &str); 6] = [
        (
            "dds-huge-dimensions.dds",
            |b| read_dds_header(b).err(),
            "more than the 16384-pixel",
        ),
        (
            "dds-too-many-mips.dds",
            |b| read_dds_header(b).err(),
            "claims 40 mip levels",
        ),
        (
            "nif-text.nif",
            |b| read_nif_header(b).err(),
            "not a NIF mesh",
        ),
        (
            "ba2-bad-version-3.ba2",
            |b| read_ba2_header(Cursor::new(b)).err(),
            "version 3",
        ),
        (
            "esp-huge-size.esp",
            |b| read_plugin_header(b).err(),
            "claims 4294967295 bytes",
        ),
        (
            "esp-subrecord-overrun.esp",
            |b| read_plugin_header(b).err(),
            "MAST subrecord runs",
        ),
    ];
    for (name, reader, expected) in cases {
        let err = reader(&read(name)).unwrap_or_else(|| panic!("{name} was accepted"));
        assert!(err.to_string().contains(expected), "{name}: {err}");
    }
}

fn fixture_prefixes() -> Vec<Vec<u8>> {
    [
        "textures/bc/DX9 BC1_UNORM.dds",
        "textures/bc/DX10 BC7_UNORM.dds",
        "textures/cube/DXT1 Pretoria Gardens DX9.dds",
        "fo4/Data/Blank.esp",
        "fo4/Data/MiscStatMurders - Five.esp",
        "fo4/Data/Blank - Main.ba2",
        "fo4/Data/Blank - Textures.ba2",
    ]
    .iter()
    .map(|rel| fixture(rel).into_iter().take(512).collect())
    .chain(std::iter::once(fo4_header(130, 5)))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn readers_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        every_reader_copes(&bytes);
    }

    #[test]
    fn readers_never_panic_on_mutated_fixtures(
        which in 0usize..8,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = fixture_prefixes().swap_remove(which);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep.max(bytes.len() / 2));
        every_reader_copes(&bytes);
    }
}
