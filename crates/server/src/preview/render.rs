//! Previews made by outside renderers (poppler's `pdftoppm`, libheif's `heif-convert`) in a
//! subprocess under a time and memory limit, since these files come from strangers.

use super::{limits, make_preview};
use image::{ImageFormat, ImageReader};
use std::io::BufReader;
use std::path::Path;

/// Longest an outside renderer may take (wall clock; CPU is limited to the same).
pub const RENDER_SECONDS: u64 = 10;
/// Most address space an outside renderer may map.
pub const RENDER_MEMORY_BYTES: u64 = 512 * 1024 * 1024;

/// Formats an outside renderer previews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendered {
    /// A PDF's first page, by poppler's `pdftoppm`.
    Pdf,
    /// A HEIC/HEIF photo (iPhones), by libheif's `heif-convert`, turned as it is shown.
    Heif,
}

impl Rendered {
    /// The renderer for a sniffed media type, if there is one.
    pub fn of(media_type: &str) -> Option<Rendered> {
        match media_type {
            "application/pdf" => Some(Rendered::Pdf),
            "image/heif" => Some(Rendered::Heif),
            _ => None,
        }
    }
}

/// A preview made by an outside renderer in a subprocess under a time and memory limit
/// (`prlimit`), since these files come from strangers. Anything going wrong (no renderer, a bomb
/// that takes too long or too much, absurd dimensions, a broken file) means no preview: the file
/// is still delivered. `tmp` is a folder for the rendered picture.
pub async fn render_preview(kind: Rendered, path: &Path, tmp: &Path) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir_in(tmp).ok()?;
    let prefix = dir.path().join("page");
    let page = prefix.with_extension("jpg");
    let mut cmd = tokio::process::Command::new("prlimit");
    cmd.arg(format!("--as={RENDER_MEMORY_BYTES}")).arg(format!("--cpu={RENDER_SECONDS}"));
    match kind {
        Rendered::Pdf => {
            cmd.args(["pdftoppm", "-q", "-f", "1", "-l", "1", "-singlefile", "-jpeg", "-scale-to", "720", "--"])
                .arg(path)
                .arg(&prefix);
        }
        Rendered::Heif => {
            cmd.args(["heif-convert", "-q", "85"]).arg(path).arg(&page);
        }
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let run = tokio::time::timeout(std::time::Duration::from_secs(RENDER_SECONDS), cmd.status()).await;
    match run {
        Ok(Ok(status)) if status.success() => {}
        Ok(Ok(status)) => {
            tracing::info!(?kind, ?status, "no preview: the renderer failed");
            return None;
        }
        Ok(Err(e)) => {
            tracing::warn!(?kind, error = %e, "no preview: the renderer could not start");
            return None;
        }
        Err(_) => {
            tracing::info!(?kind, "no preview: rendering took too long");
            return None;
        }
    }
    tokio::task::spawn_blocking(move || {
        let mut r = ImageReader::with_format(BufReader::new(std::fs::File::open(&page).ok()?), ImageFormat::Jpeg);
        r.limits(limits());
        make_preview(&r.decode().ok()?).ok()
    })
    .await
    .ok()
    .flatten()
}
