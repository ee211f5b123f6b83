//! Pictures made on this machine with the `image` crate, off the UI thread and under decoding
//! limits: the popup's thumbnails of chosen pictures, and "send a smaller copy" of a large photo.
//! At most two decode at once, so twenty pictures dropped together do not take twenty times the
//! memory of one.

use crate::view::PickedFile;
use crate::{files::Files, ConsoleError};
use attache_client::ErrorCode;
use base64::Engine;
use image::{DynamicImage, ImageReader, Limits};
use std::io::BufReader;
use std::path::Path;
use std::sync::LazyLock;
use tauri::State;
use tokio::sync::Semaphore;

type Result<T> = std::result::Result<T, ConsoleError>;

/// Longest width or height decoded here (as the service).
pub const MAX_SIDE: u32 = 12_000;
/// Most pixels decoded here (as the service: a 40-megapixel photo still gets its thumbnail).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest side of a thumbnail in the popup.
pub const THUMB_SIDE: u32 = 96;

static DECODING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

fn refused(code: ErrorCode, message: String) -> ConsoleError {
    ConsoleError::new(code, message)
}

/// Decodes the picture at `path` under the limits, upright (EXIF orientation applied). Blocking.
pub fn decode(path: &Path) -> Result<DynamicImage> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let file =
        std::fs::File::open(path).map_err(|e| refused(ErrorCode::LocalFile, format!("{name} cannot be read: {e}.")))?;
    let mut reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| refused(ErrorCode::LocalFile, format!("{name} cannot be read: {e}.")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let bad = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => {
            refused(ErrorCode::ImageTooLarge, format!("{name} is too large to preview here."))
        }
        other => refused(ErrorCode::BadImage, format!("{name} is not a picture this console can read ({other}).")),
    };
    let mut decoder = reader.into_decoder().map_err(bad)?;
    use image::ImageDecoder;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(refused(
            ErrorCode::ImageTooLarge,
            format!(
                "{name} is {w}×{h} pixels: too large to preview here (at most {} megapixels).",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(bad)?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|e| refused(ErrorCode::Internal, format!("The picture could not be encoded: {e}.")))?;
    Ok(out)
}

/// A small JPEG of the picture at `path` as a `data:` URL. Blocking.
pub fn thumbnail_of(path: &Path) -> Result<String> {
    let img = decode(path)?;
    let small = img.thumbnail(THUMB_SIDE * 2, THUMB_SIDE * 2);
    let bytes = jpeg(&small, 75)?;
    Ok(format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// A copy of the picture at `path` whose longest side is at most `max_side`, as a JPEG. Blocking.
pub fn smaller_copy_of(path: &Path, max_side: u32, dest: &Path) -> Result<u64> {
    let img = decode(path)?;
    let small = if img.width() > max_side || img.height() > max_side {
        img.resize(max_side, max_side, image::imageops::FilterType::Lanczos3)
    } else {
        img
    };
    let bytes = jpeg(&small, 85)?;
    std::fs::write(dest, &bytes).map_err(|e| crate::files::local("Cannot write", dest, e))?;
    Ok(bytes.len() as u64)
}

async fn off_the_ui_thread<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    let _permit = DECODING.acquire().await.map_err(|e| refused(ErrorCode::Internal, e.to_string()))?;
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| refused(ErrorCode::Internal, format!("Making the picture stopped unexpectedly: {e}")))?
}

/// The popup's thumbnail of a chosen picture, as a `data:` URL.
///
/// Errors: `bad-image` (not a picture, or damaged), `image-too-large` (over the decoding limits),
/// `local-file` (cannot be read); the popup shows the file without a thumbnail and says why.
#[tauri::command]
#[tracing::instrument]
pub async fn thumbnail(path: String) -> Result<String> {
    off_the_ui_thread(move || thumbnail_of(Path::new(&path))).await
}

/// A smaller copy of a chosen photo (longest side at most `max_side` pixels, JPEG), kept in the
/// app's cache; the popup then sends it instead of the original. Errors as [`thumbnail`].
#[tauri::command]
#[tracing::instrument(skip(files))]
pub async fn smaller_copy(files: State<'_, Files>, path: String, max_side: u32) -> Result<PickedFile> {
    let max_side = max_side.clamp(320, MAX_SIDE);
    let source = Path::new(&path);
    let stem = source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "photo".into());
    let name = crate::files::safe_name(&format!("{stem}-smaller.jpg"));
    let dir = files.scratch_dir();
    tokio::fs::create_dir_all(&dir).await.map_err(|e| crate::files::local("Cannot create", &dir, e))?;
    let dest = dir.join(&name);
    let (src, out) = (source.to_path_buf(), dest.clone());
    let size = off_the_ui_thread(move || smaller_copy_of(&src, max_side, &out)).await?;
    Ok(PickedFile { path: dest.to_string_lossy().into_owned(), name, size, image: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(dir: &Path, name: &str, w: u32, h: u32) -> std::path::PathBuf {
        let p = dir.join(name);
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])).save(&p).unwrap();
        p
    }

    #[test]
    fn thumbnails_are_small_jpegs() {
        let dir = tempfile::tempdir().unwrap();
        let url = thumbnail_of(&png(dir.path(), "a.png", 1200, 800)).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(url.strip_prefix("data:image/jpeg;base64,").unwrap())
            .unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (THUMB_SIDE * 2, THUMB_SIDE * 4 / 3));
    }

    #[test]
    fn a_damaged_picture_is_told_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("broken.png");
        let mut bytes = std::fs::read(png(dir.path(), "ok.png", 300, 200)).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&p, bytes).unwrap();
        let e = thumbnail_of(&p).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadImage, "{e}");
        assert!(e.message.starts_with("broken.png is not a picture"), "{e}");
    }

    #[test]
    fn a_smaller_copy_keeps_the_shape() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("small.jpg");
        smaller_copy_of(&png(dir.path(), "big.png", 3000, 2000), 1200, &dest).unwrap();
        let img = image::open(&dest).unwrap();
        assert_eq!((img.width(), img.height()), (1200, 800));
    }
}
