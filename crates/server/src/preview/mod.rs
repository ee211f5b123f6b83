//! Image checks and previews: decode under limits (a decompression bomb is refused from its
//! header, before any pixel is expanded), then a JPEG preview under 30 KB whose longest side
//! fits the transcript.

use crate::error::AppError;
use attache_protocol::ErrorCode;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::BufReader;
use std::path::Path;

mod jpeg;
mod render;

pub use render::{render_preview, Rendered, RENDER_MEMORY_BYTES, RENDER_SECONDS};

/// Largest width or height decoded.
pub const MAX_SIDE: u32 = 12_000;
/// Most pixels decoded (width × height).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Most memory one decode may allocate.
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
/// Longest side of a preview.
pub const PREVIEW_SIDE: u32 = 360;
/// A preview is smaller than this.
pub const PREVIEW_MAX_BYTES: usize = 30 * 1024;

/// What decoding an image found.
#[derive(Debug)]
pub struct ImageInfo {
    /// Width in pixels, as shown (after the EXIF orientation).
    pub width: u32,
    /// Height in pixels, as shown.
    pub height: u32,
    /// The JPEG preview.
    pub preview: Vec<u8>,
    /// The EXIF orientation the picture is shown with (1 to 8; 1 when it has none).
    pub orientation: u8,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_DECODE_BYTES);
    l
}

fn refused(code: ErrorCode, why: String) -> AppError {
    AppError::Refused(code, why)
}

/// Decodes the image at `path` under the limits and makes its preview. Blocking: call it from
/// `spawn_blocking`.
pub fn inspect(path: &Path, format: ImageFormat) -> Result<ImageInfo, AppError> {
    let open = || -> Result<ImageReader<BufReader<std::fs::File>>, AppError> {
        let file = std::fs::File::open(path)?;
        let mut r = ImageReader::with_format(BufReader::new(file), format);
        r.limits(limits());
        Ok(r)
    };
    // The header first: dimensions are checked before a single pixel is expanded.
    let mut decoder = open()?.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            refused(ErrorCode::ImageTooLarge, format!("the image exceeds the decoding limits: {e}"))
        }
        other => refused(ErrorCode::BadImage, format!("the image cannot be read: {other}")),
    })?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(refused(ErrorCode::BadImage, "the image has no pixels".into()));
    }
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(refused(
            ErrorCode::ImageTooLarge,
            format!(
                "the image is {width}×{height} pixels; at most {MAX_SIDE} per side and {} megapixels are accepted",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(refused(ErrorCode::ImageTooLarge, "the image would take too much memory to decode".into()));
    }
    // Phones store photos sideways with an EXIF orientation; the preview shows them upright.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let (width, height) = shown(width, height, orientation);
    // A JPEG is decoded at the scale the preview needs (libjpeg's shrink-on-load); the rest
    // (and JPEGs in CMYK or 16 bits) in full.
    let mut img = if format == ImageFormat::Jpeg {
        drop(decoder);
        match jpeg::reduced(path, MAX_DECODE_BYTES)? {
            Some(small) => small,
            None => decode_full(open()?.into_decoder().map_err(|e| refused(ErrorCode::BadImage, format!("{e}")))?)?,
        }
    } else {
        decode_full(decoder)?
    };
    img.apply_orientation(orientation);
    let preview = make_preview(&img)?;
    Ok(ImageInfo { width, height, preview, orientation: orientation.to_exif() })
}

/// Every pixel of the picture, under the limits.
fn decode_full(decoder: impl ImageDecoder) -> Result<DynamicImage, AppError> {
    DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => {
            refused(ErrorCode::ImageTooLarge, format!("the image exceeds the decoding limits: {e}"))
        }
        other => refused(ErrorCode::BadImage, format!("the image is damaged: {other}")),
    })
}

/// The size a picture is shown at: sideways orientations swap its sides.
fn shown(width: u32, height: u32, orientation: image::metadata::Orientation) -> (u32, u32) {
    use image::metadata::Orientation as O;
    match orientation {
        O::Rotate90 | O::Rotate270 | O::Rotate90FlipH | O::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// A JPEG of at most [`PREVIEW_SIDE`] on its longest side and under [`PREVIEW_MAX_BYTES`].
pub fn make_preview(img: &DynamicImage) -> Result<Vec<u8>, AppError> {
    let mut side = PREVIEW_SIDE;
    loop {
        let small = if img.width() > side || img.height() > side { img.thumbnail(side, side) } else { img.clone() };
        let rgb = DynamicImage::ImageRgb8(flatten(&small));
        for quality in [80u8, 65, 50, 35] {
            let mut out = Vec::new();
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
            rgb.write_with_encoder(enc).map_err(|e| AppError::Internal(anyhow::anyhow!("preview: {e}")))?;
            if out.len() < PREVIEW_MAX_BYTES {
                return Ok(out);
            }
        }
        if side <= 64 {
            return Err(AppError::Internal(anyhow::anyhow!("preview stays over 30 KB")));
        }
        side /= 2;
    }
}

/// Drops alpha onto white, so transparent areas do not turn black in a JPEG.
fn flatten(img: &DynamicImage) -> image::RgbImage {
    let rgba = img.to_rgba8();
    let mut out = image::RgbImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(p[3]);
        for c in 0..3 {
            o[c] = ((u16::from(p[c]) * a + 255 * (255 - a)) / 255) as u8;
        }
    }
    out
}

/// Largest side of a client's thumbnail (the consumer API's `preview`).
pub const THUMBNAIL_MAX_SIDE: u32 = 2048;

/// Checks a client's thumbnail: a PNG, JPEG or GIF that decodes in full under small limits.
/// Blocking (a few milliseconds for 30 KB): call it from `spawn_blocking`.
pub fn check_thumbnail(bytes: &[u8]) -> Result<(), AppError> {
    let bad = |why: String| refused(ErrorCode::BadPreview, why);
    let format = image::guess_format(bytes).map_err(|_| bad("the preview is not an image".into()))?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif) {
        return Err(bad(format!("the preview is {format:?}; a PNG, JPEG or GIF is expected")));
    }
    let mut l = Limits::default();
    l.max_image_width = Some(THUMBNAIL_MAX_SIDE);
    l.max_image_height = Some(THUMBNAIL_MAX_SIDE);
    l.max_alloc = Some(32 * 1024 * 1024);
    let mut r = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    r.limits(l);
    let img = r.decode().map_err(|e| bad(format!("the preview does not decode: {e}")))?;
    if img.width() == 0 || img.height() == 0 {
        return Err(bad("the preview has no pixels".into()));
    }
    Ok(())
}

/// Whether a format is one this module decodes.
pub fn decodable(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::Gif
            | ImageFormat::WebP
            | ImageFormat::Bmp
            | ImageFormat::Tiff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, w: u32, h: u32) {
        let img = image::RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x * 7) as u8, (y * 3) as u8, ((x ^ y) * 5) as u8, 200])
        });
        img.save_with_format(path, ImageFormat::Png).unwrap();
    }

    #[test]
    fn previews_fit_and_stay_small() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        write_png(&p, 1600, 900);
        let info = inspect(&p, ImageFormat::Png).unwrap();
        assert_eq!((info.width, info.height), (1600, 900));
        assert!(info.preview.len() < PREVIEW_MAX_BYTES);
        let prev = image::load_from_memory_with_format(&info.preview, ImageFormat::Jpeg).unwrap();
        assert_eq!(prev.width(), PREVIEW_SIDE);
    }

    #[test]
    fn tiffs_are_previewed_and_a_cut_one_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scan.tif");
        let img = image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 40]));
        img.save_with_format(&p, ImageFormat::Tiff).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(crate::check::sniff(&bytes).image, Some(ImageFormat::Tiff));
        let info = inspect(&p, ImageFormat::Tiff).unwrap();
        assert_eq!((info.width, info.height), (800, 600));
        assert!(info.preview.len() < PREVIEW_MAX_BYTES);
        std::fs::write(&p, &bytes[..bytes.len() / 3]).unwrap();
        let e = inspect(&p, ImageFormat::Tiff).unwrap_err();
        assert!(matches!(e.code(), ErrorCode::BadImage | ErrorCode::ImageTooLarge), "{e:?}");
    }

    #[test]
    fn bombs_are_refused_from_the_header() {
        // A 20000×20000 PNG: a header and a few bytes of data claim 1.6 GB of pixels.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bomb");
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&20_000u32.to_be_bytes());
        ihdr.extend_from_slice(&20_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        bytes.extend_from_slice(&13u32.to_be_bytes());
        bytes.extend_from_slice(&ihdr);
        bytes.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        std::fs::write(&p, &bytes).unwrap();
        let e = inspect(&p, ImageFormat::Png).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ImageTooLarge, "{e:?}");
        std::fs::write(&p, b"\x89PNG\r\n\x1a\nnonsense").unwrap();
        assert_eq!(inspect(&p, ImageFormat::Png).unwrap_err().code(), ErrorCode::BadImage);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn thumbnails_must_be_small_images_that_decode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.png");
        write_png(&p, 40, 30);
        let good = std::fs::read(&p).unwrap();
        check_thumbnail(&good).unwrap();
        let code = |bytes: &[u8]| check_thumbnail(bytes).unwrap_err().code();
        assert_eq!(code(&good[..good.len() / 2]), ErrorCode::BadPreview, "a cut PNG");
        assert_eq!(code(b"MZ\x90\x00 not an image"), ErrorCode::BadPreview);
        write_png(&p, THUMBNAIL_MAX_SIDE + 1, 2);
        assert_eq!(code(&std::fs::read(&p).unwrap()), ErrorCode::BadPreview, "too wide for a thumbnail");
    }
}
