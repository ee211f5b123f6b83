//! How files enter the upload popup: the native dialog (several at once), files dropped on the
//! window and pasted files. Each path is looked at here (a folder, a file that vanished, something
//! that is not a regular file is refused in words); what the service thinks of a file is told when
//! it is sent, not here.

use crate::view::{Picked, PickedFile, RefusedFile, MAX_FILES_AT_ONCE};
use crate::{dialog, files::Files, ConsoleError};
use attache_client::ErrorCode;
use std::path::{Path, PathBuf};
use tauri::{AppHandle, State};

type Result<T> = std::result::Result<T, ConsoleError>;

/// Most paths one drop or dialog may hand over; past this, only a count is told (a whole disk
/// dropped must not make a list of a million refusals).
const MAX_PATHS_LOOKED_AT: usize = 1000;

/// Most bytes of one pasted file (the IPC body is in memory already; this bounds what is written).
const MAX_PASTE_BYTES: usize = 512 * 1024 * 1024;

fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// Whether the name says the console can make a thumbnail of it.
fn looks_like_image(path: &Path) -> bool {
    image::ImageFormat::from_path(path).is_ok_and(|f| f.can_read())
}

/// One path, as the popup lists it, or why it cannot be listed.
pub fn inspect(path: &Path) -> std::result::Result<PickedFile, RefusedFile> {
    let name = display_name(path);
    let refuse = |message: String| RefusedFile { name: name.clone(), message };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(format!("{name} is no longer there (moved or deleted).")))
        }
        Err(e) => return Err(refuse(format!("{name} cannot be read: {e}."))),
    };
    if meta.is_dir() {
        return Err(refuse(format!(
            "{name} is a folder: only files can be sent. Open it and choose the files inside."
        )));
    }
    if !meta.is_file() {
        return Err(refuse(format!("{name} is not a regular file.")));
    }
    Ok(PickedFile { path: path.to_string_lossy().into_owned(), name, size: meta.len(), image: looks_like_image(path) })
}

/// The popup's view of several paths, in order: at most [`MAX_FILES_AT_ONCE`] files; the rest and
/// every path that is not a usable file are refused, each in words.
pub fn inspect_all(paths: &[PathBuf]) -> Picked {
    let mut picked = Picked::default();
    for path in paths.iter().take(MAX_PATHS_LOOKED_AT) {
        match inspect(path) {
            Ok(file) if picked.files.len() < MAX_FILES_AT_ONCE => picked.files.push(file),
            Ok(file) => picked.refused.push(RefusedFile {
                message: format!("{}: at most {MAX_FILES_AT_ONCE} files can be sent at once.", file.name),
                name: file.name,
            }),
            Err(refused) => picked.refused.push(refused),
        }
    }
    if paths.len() > MAX_PATHS_LOOKED_AT {
        let more = paths.len() - MAX_PATHS_LOOKED_AT;
        picked.refused.push(RefusedFile {
            name: format!("{more} more"),
            message: format!(
                "{more} more items were not looked at: at most {MAX_FILES_AT_ONCE} files can be sent at once."
            ),
        });
    }
    picked
}

/// Shows the native "open files" dialog (several may be chosen) and lists what was chosen.
/// Empty when the agent cancels it.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn choose_files(app: AppHandle) -> Result<Picked> {
    let paths = dialog::pick_files(&app).await;
    Ok(tauri::async_runtime::spawn_blocking(move || inspect_all(&paths)).await.unwrap_or_default())
}

/// Looks at files dropped on the window (the paths of the `files_dropped` event).
#[tauri::command]
#[tracing::instrument(skip_all, fields(count = paths.len()))]
pub async fn inspect_files(paths: Vec<String>) -> Result<Picked> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    Ok(tauri::async_runtime::spawn_blocking(move || inspect_all(&paths)).await.unwrap_or_default())
}

/// Keeps a pasted file (raw bytes in the call's body, its name in the `x-file-name` header) in
/// the app's cache so that it can be sent like a chosen one.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn stage_pasted_file(files: State<'_, Files>, request: tauri::ipc::Request<'_>) -> Result<PickedFile> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(ConsoleError::new(ErrorCode::BadPaste, "The pasted data was not a file."));
    };
    if bytes.len() > MAX_PASTE_BYTES {
        return Err(ConsoleError::new(
            ErrorCode::BadPaste,
            format!("The pasted file is larger than {} MB; save it and choose it instead.", MAX_PASTE_BYTES >> 20),
        ));
    }
    let name = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|v| crate::files::safe_name(&percent_decode(v)))
        .unwrap_or_else(|| "pasted-file".to_owned());
    let dir = files.scratch_dir();
    let path = dir.join(&name);
    tokio::fs::create_dir_all(&dir).await.map_err(|e| crate::files::local("Cannot create", &dir, e))?;
    tokio::fs::write(&path, bytes).await.map_err(|e| crate::files::local("Cannot write", &path, e))?;
    let image = looks_like_image(&path);
    Ok(PickedFile { path: path.to_string_lossy().into_owned(), name, size: bytes.len() as u64, image })
}

/// Decodes `%XX` escapes (the page encodes the name with `encodeURIComponent` for the header).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_decode() {
        assert_eq!(percent_decode("Bildschirmfoto%20%C3%BC.png"), "Bildschirmfoto ü.png");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn folders_vanished_files_and_one_too_many_are_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("holiday photos");
        std::fs::create_dir(&folder).unwrap();
        let gone = dir.path().join("gone.pdf");
        let mut paths = vec![folder.clone(), gone.clone()];
        for i in 0..MAX_FILES_AT_ONCE + 2 {
            let p = dir.path().join(format!("photo-{i:02}.png"));
            std::fs::write(&p, b"x").unwrap();
            paths.push(p);
        }
        let picked = inspect_all(&paths);
        assert_eq!(picked.files.len(), MAX_FILES_AT_ONCE, "the cap");
        assert_eq!(picked.files[0].name, "photo-00.png", "in order");
        assert!(picked.files[0].image, "a .png gets a thumbnail");
        let why: Vec<&str> = picked.refused.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(why.len(), 4, "{why:?}");
        assert!(why[0].contains("holiday photos is a folder"), "{}", why[0]);
        assert!(why[1].contains("gone.pdf is no longer there"), "{}", why[1]);
        assert!(why[2].contains("at most 20 files"), "{}", why[2]);
        assert_eq!(picked.refused[3].name, format!("photo-{:02}.png", MAX_FILES_AT_ONCE + 1));
    }

    #[test]
    fn an_empty_file_is_listed_and_left_to_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, b"").unwrap();
        let file = inspect(&empty).unwrap();
        assert_eq!((file.size, file.image), (0, false));
    }
}
