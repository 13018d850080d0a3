//! Native folder and file pickers.
//!
//! The dialogs are shown from these commands, in Rust, so the page is given no permission
//! of the dialog plugin: it can ask for a picker and learn which path the user chose, and
//! nothing else (no arbitrary save dialogs, no message boxes with its own text). A
//! cancelled picker is `None`, not an error.

use mossy_protocol::ipc::{ErrorCode, FileFilter, IpcError};
use tauri::{AppHandle, WebviewWindow};
use tauri_plugin_dialog::{DialogExt, FilePath};
use tokio::sync::oneshot;
use tracing::instrument;

/// Most type entries a file picker takes; a picker lists a handful.
const MAX_FILTERS: usize = 16;

/// Longest filter name, in characters.
const MAX_FILTER_NAME: usize = 64;

/// Longest extension, in characters (`.psc`, `.nif`, `.ba2` are three).
const MAX_EXTENSION: usize = 16;

/// Shows the folder picker over the calling window; the chosen folder's path, or `None`
/// when the user cancelled.
#[tauri::command]
#[instrument(skip_all)]
pub async fn pick_folder(
    app: AppHandle,
    window: WebviewWindow,
) -> Result<Option<String>, IpcError> {
    let (chosen, answer) = oneshot::channel();
    app.dialog()
        .file()
        .set_parent(&window)
        .pick_folder(move |folder| {
            let _ = chosen.send(folder);
        });
    let folder = answer.await.map_err(|_| closed())?;
    folder.map(to_text).transpose()
}

/// Shows the file picker over the calling window, offering `filters`; the chosen file's
/// path, or `None` when the user cancelled.
#[tauri::command]
#[instrument(skip(app, window))]
pub async fn pick_file(
    app: AppHandle,
    window: WebviewWindow,
    filters: Vec<FileFilter>,
) -> Result<Option<String>, IpcError> {
    check_filters(&filters)?;
    let mut dialog = app.dialog().file().set_parent(&window);
    for filter in &filters {
        let extensions: Vec<&str> = filter.extensions.iter().map(String::as_str).collect();
        dialog = dialog.add_filter(&filter.name, &extensions);
    }
    let (chosen, answer) = oneshot::channel();
    dialog.pick_file(move |file| {
        let _ = chosen.send(file);
    });
    let file = answer.await.map_err(|_| closed())?;
    file.map(to_text).transpose()
}

fn check_filters(filters: &[FileFilter]) -> Result<(), IpcError> {
    let refuse = |message: &str| {
        Err(IpcError {
            code: ErrorCode::Invalid,
            message: message.to_owned(),
        })
    };
    if filters.len() > MAX_FILTERS {
        return refuse("The file picker takes at most 16 file types.");
    }
    for filter in filters {
        if filter.name.trim().is_empty() || filter.name.chars().count() > MAX_FILTER_NAME {
            return refuse("A file type needs a name of 1 to 64 characters.");
        }
        let plain = |ext: &String| {
            !ext.is_empty()
                && ext.len() <= MAX_EXTENSION
                && ext.bytes().all(|byte| byte.is_ascii_alphanumeric())
        };
        if filter.extensions.is_empty() || !filter.extensions.iter().all(plain) {
            return refuse("File type extensions are letters and digits, without the dot.");
        }
    }
    Ok(())
}

fn to_text(path: FilePath) -> Result<String, IpcError> {
    path.into_path()
        .map(|path| path.to_string_lossy().into_owned())
        .map_err(|err| IpcError {
            code: ErrorCode::Invalid,
            message: format!("The chosen item is not a file on this computer: {err}"),
        })
}

fn closed() -> IpcError {
    IpcError {
        code: ErrorCode::Internal,
        message: "The picker closed without an answer; try again.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(name: &str, extensions: &[&str]) -> FileFilter {
        FileFilter {
            name: name.into(),
            extensions: extensions.iter().map(|ext| (*ext).to_owned()).collect(),
        }
    }

    #[test]
    fn filters_must_be_named_and_plain_extensions() {
        assert!(check_filters(&[filter("Textures", &["dds", "png"])]).is_ok());
        assert!(check_filters(&[]).is_ok());
        for bad in [
            filter("", &["dds"]),
            filter("Textures", &[]),
            filter("Textures", &[".dds"]),
            filter("Textures", &["d*s"]),
        ] {
            let err = check_filters(std::slice::from_ref(&bad)).expect_err("refused");
            assert_eq!(err.code, ErrorCode::Invalid, "{bad:?}");
        }
        let many = vec![filter("a", &["a"]); MAX_FILTERS + 1];
        assert!(check_filters(&many).is_err());
    }
}
