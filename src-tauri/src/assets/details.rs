//! Reading headers in the background: index events become version bumps (the Assets panel
//! refetches) and header jobs, and a thread stores what each file's header says.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use mossy_assets::ba2::Ba2Kind;
use mossy_assets::dds::DdsHeaderKind;
use mossy_assets::header::{AssetHeader, read_header};
use mossy_assets::index::{self, AssetIndex, AssetRecord, IndexEvent};
use mossy_assets::kind::AssetKind as FileKind;
use mossy_assets::read_error::ReadError;
use mossy_protocol::assets::{
    ArchiveDetails, ArchiveKind, AssetDetails, AssetItem, AssetKind, MeshDetails, PluginDetails,
    TextureDetails,
};
use tokio::sync::watch;
use tracing::{debug, warn};

use super::bump;

/// How often the grid refreshes while a folder is being scanned: a scan announces its files
/// only when it ends, and a first scan of a big Data folder takes seconds.
const SCANNING_REFRESH: Duration = Duration::from_millis(500);

/// Rows read at a time when looking for files whose header was not read yet.
const SWEEP_BATCH: u64 = 1000;

/// Archive file names kept in the details; the pane shows a sample, not the whole list.
const FIRST_NAMES: usize = 12;

/// Work for the header-reading thread.
pub(super) enum DetailsJob {
    /// Read this file's header.
    File(PathBuf),
    /// Read every header not read yet (after a scan).
    Sweep,
}

/// Turns index events into version bumps and header jobs, until the index closes. While a
/// folder is being scanned, which announces nothing until it ends, the version also goes up
/// every [`SCANNING_REFRESH`] so the grid fills as files are found.
pub(super) fn follow_index(
    index: &AssetIndex,
    events: &Receiver<IndexEvent>,
    version: &watch::Sender<u64>,
    details: &Sender<DetailsJob>,
) {
    let mut scanning = false;
    loop {
        let event = if scanning {
            match events.recv_timeout(SCANNING_REFRESH) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => {
                    bump(version);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match events.recv() {
                Ok(event) => event,
                Err(_) => return,
            }
        };
        debug!(?event, "asset index changed");
        let job = match event {
            IndexEvent::Upserted(path) => Some(DetailsJob::File(path)),
            IndexEvent::Rescanned(..) => Some(DetailsJob::Sweep),
            IndexEvent::RootState(..) => {
                scanning = index.roots().is_ok_and(|roots| {
                    roots
                        .iter()
                        .any(|root| root.state == index::RootState::Scanning)
                });
                None
            }
            IndexEvent::Removed(_) => None,
        };
        if let Some(job) = job {
            // The header thread only stops with the process.
            let _ = details.send(job);
        }
        bump(version);
    }
}

/// Reads headers as jobs arrive and stores them in the index.
pub(super) fn read_details(
    index: &AssetIndex,
    jobs: &Receiver<DetailsJob>,
    version: &watch::Sender<u64>,
) {
    while let Ok(job) = jobs.recv() {
        match job {
            DetailsJob::File(path) => {
                if store_details(index, &path) {
                    bump(version);
                }
            }
            DetailsJob::Sweep => sweep(index, version),
        }
    }
}

/// Reads every header the index does not hold yet.
fn sweep(index: &AssetIndex, version: &watch::Sender<u64>) {
    let mut offset = 0;
    loop {
        let records = match index.list(&index::AssetFilter::default(), offset, SWEEP_BATCH) {
            Ok(records) => records,
            Err(err) => {
                warn!(error = %err, "could not list assets to read their headers");
                return;
            }
        };
        let mut stored = false;
        for record in &records {
            if record.details.is_none() && record.details_error.is_none() {
                stored |= store_details(index, &record.path);
            }
        }
        if stored {
            bump(version);
        }
        if (records.len() as u64) < SWEEP_BATCH {
            return;
        }
        offset += SWEEP_BATCH;
    }
}

/// Reads the header of the file at `path` and stores the result; true when something was
/// stored. A damaged file stores its error; a file that has gone stores nothing.
pub(super) fn store_details(index: &AssetIndex, path: &Path) -> bool {
    // The readers return errors for bad input; a panic would be their bug, and it must
    // not take the header thread (and every later header) down with it.
    let read = std::panic::catch_unwind(AssertUnwindSafe(|| read_header(path)));
    let details = match read {
        Ok(Ok(Some(header))) => match serde_json::to_value(to_details(header)) {
            Ok(value) => Ok(value),
            Err(err) => Err(format!("the header could not be stored: {err}")),
        },
        Ok(Ok(None)) => return false,
        Ok(Err(ReadError::Io(err))) if err.kind() == std::io::ErrorKind::NotFound => return false,
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("the header reader failed on this file".to_owned()),
    };
    if let Err(reason) = &details {
        debug!(path = %path.display(), reason, "header unreadable");
    }
    match index.set_details(path, details) {
        Ok(stored) => stored,
        Err(err) => {
            warn!(path = %path.display(), error = %err, "could not store a header");
            false
        }
    }
}

/// Stores why no picture could be made of the file at `path`, so its card and details say
/// why (a texture whose header reads but whose data is cut short, say). The header is read
/// first if it was not yet, so the details still show what it says. `read` is the file's
/// metadata when it was read. True when something was stored.
pub(super) fn store_picture_error(
    index: &AssetIndex,
    path: &Path,
    read: &std::fs::Metadata,
    why: &str,
) -> bool {
    let unread = index
        .get(path)
        .ok()
        .flatten()
        .is_some_and(|record| record.details.is_none() && record.details_error.is_none());
    let header = unread && store_details(index, path);
    let picture = match index.set_picture_error(path, read, &format!("no preview: {why}")) {
        Ok(stored) => stored,
        Err(err) => {
            warn!(path = %path.display(), error = %err, "could not store a picture error");
            false
        }
    };
    header || picture
}

fn to_details(header: AssetHeader) -> AssetDetails {
    match header {
        AssetHeader::Texture(dds) => AssetDetails::Texture(TextureDetails {
            normal_map: dds.format.starts_with("BC5"),
            dx10: dds.header == DdsHeaderKind::Dx10,
            format: dds.format,
            srgb: dds.srgb,
            width: dds.width,
            height: dds.height,
            mips: dds.mip_count,
            cubemap: dds.cubemap,
        }),
        AssetHeader::Mesh(nif) => AssetDetails::Mesh(MeshDetails {
            version: nif.version_text(),
            user_version: nif.user_version,
            bsver: nif.bsver,
            blocks: nif.block_count,
        }),
        AssetHeader::Plugin(plugin) => AssetDetails::Plugin(PluginDetails {
            master: plugin.master,
            light: plugin.light,
            masters: plugin.masters,
            author: plugin.author,
            description: plugin.description,
            records: plugin.record_count,
        }),
        AssetHeader::Archive(ba2) => AssetDetails::Archive(ArchiveDetails {
            version: ba2.version,
            archive_kind: match ba2.kind {
                Ba2Kind::General => ArchiveKind::General,
                Ba2Kind::Textures => ArchiveKind::Textures,
            },
            file_count: ba2.file_count,
            first_names: ba2.names.into_iter().take(FIRST_NAMES).collect(),
        }),
    }
}

pub(super) fn to_item(record: AssetRecord) -> AssetItem {
    AssetItem {
        path: record.path.to_string_lossy().into_owned(),
        rel_path: record.rel_path,
        kind: match record.kind {
            FileKind::Texture => AssetKind::Texture,
            FileKind::Image => AssetKind::Image,
            FileKind::Mesh => AssetKind::Mesh,
            FileKind::Plugin => AssetKind::Plugin,
            FileKind::Archive => AssetKind::Archive,
            FileKind::Other => AssetKind::Other,
        },
        size: record.size,
        modified_ms: record.modified_ns.div_euclid(1_000_000),
        // Details written by an older build in another shape are read again on next change.
        details: record
            .details
            .and_then(|value| serde_json::from_value(value).ok()),
        error: record.details_error,
        root_missing: record.root_state == index::RootState::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::tests::gallery;

    #[test]
    fn headers_are_stored_as_details_or_errors() {
        let (_outer, root, index) = gallery();
        assert!(store_details(&index, &root.join("a 50%.dds")));
        assert!(store_details(&index, &root.join("broken.dds")));

        let good = index
            .get(&root.join("a 50%.dds"))
            .expect("get")
            .map(to_item)
            .expect("indexed");
        let Some(AssetDetails::Texture(texture)) = good.details else {
            panic!("texture details expected, got {:?}", good.details);
        };
        assert_eq!(texture.format, "BC1");
        assert!(!texture.dx10 && !texture.normal_map && !texture.cubemap);

        let bad = index
            .get(&root.join("broken.dds"))
            .expect("get")
            .map(to_item)
            .expect("indexed");
        assert_eq!(bad.details, None);
        assert!(
            bad.error.is_some_and(|e| e.contains("DDS")),
            "an error names the format"
        );
    }
}
