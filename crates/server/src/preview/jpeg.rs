//! JPEG previews without expanding the photo: the decoder's DCT scaling (1/2, 1/4 or 1/8, as
//! libjpeg's shrink-on-load) gives a picture just above the preview's size, and a SIMD Lanczos
//! resize finishes it. A 12-megapixel photo never takes more than a few hundred kilobytes of
//! pixels, and every coefficient is still decoded, so damage is still found.

use super::{refused, PREVIEW_SIDE};
use crate::error::AppError;
use attache_protocol::ErrorCode;
use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;
use std::io::BufReader;
use std::path::Path;

/// The picture decoded at the smallest scale whose longest side still reaches
/// [`PREVIEW_SIDE`], then resized to fit it; as stored (the orientation is the caller's).
/// `None` for pixel formats this path does not take (CMYK, 16-bit), which the full decoder does.
pub(super) fn reduced(path: &Path, max_bytes: u64) -> Result<Option<DynamicImage>, AppError> {
    let damaged = |e: jpeg_decoder::Error| refused(ErrorCode::BadImage, format!("the image is damaged: {e}"));
    let file = std::fs::File::open(path)?;
    let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(file));
    decoder.set_max_decoding_buffer_size(usize::try_from(max_bytes).unwrap_or(usize::MAX));
    decoder.read_info().map_err(damaged)?;
    let Some(info) = decoder.info() else { return Ok(None) };
    let (kind, channels) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (PixelType::U8, 1),
        jpeg_decoder::PixelFormat::RGB24 => (PixelType::U8x3, 3),
        _ => return Ok(None),
    };
    let side = u16::try_from(PREVIEW_SIDE).unwrap_or(u16::MAX);
    let (w, h) = decoder.scale(side, side).map_err(damaged)?;
    let pixels = decoder.decode().map_err(damaged)?;
    let (w, h) = (u32::from(w), u32::from(h));
    if pixels.len() < w as usize * h as usize * channels {
        return Err(refused(ErrorCode::BadImage, "the image is damaged: too few pixels".into()));
    }
    let (tw, th) = fit(w, h, PREVIEW_SIDE);
    let pixels = if (tw, th) == (w, h) {
        pixels
    } else {
        let internal = |e: &dyn std::fmt::Display| AppError::Internal(anyhow::anyhow!("preview resize: {e}"));
        let src = Image::from_vec_u8(w, h, pixels, kind).map_err(|e| internal(&e))?;
        let mut dst = Image::new(tw, th, kind);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
        Resizer::new().resize(&src, &mut dst, &options).map_err(|e| internal(&e))?;
        dst.into_vec()
    };
    let img = match channels {
        1 => image::GrayImage::from_raw(tw, th, pixels).map(DynamicImage::ImageLuma8),
        _ => image::RgbImage::from_raw(tw, th, pixels).map(DynamicImage::ImageRgb8),
    };
    img.map(Some).ok_or_else(|| AppError::Internal(anyhow::anyhow!("preview: pixel buffer of the wrong size")))
}

/// The size of a `w`×`h` picture fitted into a square of `side`, never enlarged.
pub(super) fn fit(w: u32, h: u32, side: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= side {
        return (w, h);
    }
    let scale = |v: u32| ((u64::from(v) * u64::from(side) + u64::from(longest) / 2) / u64::from(longest)).max(1) as u32;
    (scale(w), scale(h))
}

#[cfg(test)]
mod tests {
    use super::super::{inspect, PREVIEW_MAX_BYTES};
    use super::*;
    use image::ImageFormat;

    /// A JPEG of `w`×`h` with a red band at the top, with an EXIF orientation when given.
    fn jpeg(w: u32, h: u32, gray: bool, orientation: Option<u16>) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            if y < h / 8 {
                image::Rgb([230, 20, 20])
            } else {
                image::Rgb([(x % 200) as u8 + 30, (y % 150) as u8 + 60, 90])
            }
        });
        let img = if gray { DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(img).to_luma8()) } else { img.into() };
        let mut out = Vec::new();
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)).unwrap();
        if let Some(o) = orientation {
            // APP1 "Exif": a little-endian TIFF header and one IFD entry, 0x0112 SHORT = o.
            let mut tiff = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
            tiff.extend_from_slice(&o.to_le_bytes());
            tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend_from_slice(&tiff);
            let mut seg = vec![0xff, 0xe1];
            seg.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
            seg.extend_from_slice(&app1);
            out.splice(2..2, seg);
        }
        out
    }

    fn preview_of(bytes: &[u8]) -> Result<(u32, u32, DynamicImage), AppError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("photo.jpg");
        std::fs::write(&p, bytes).unwrap();
        let info = inspect(&p, ImageFormat::Jpeg)?;
        assert!(info.preview.len() < PREVIEW_MAX_BYTES);
        Ok((info.width, info.height, image::load_from_memory_with_format(&info.preview, ImageFormat::Jpeg).unwrap()))
    }

    #[test]
    fn photos_are_decoded_at_the_previews_scale() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.jpg");
        std::fs::write(&p, jpeg(3200, 2400, false, None)).unwrap();
        // 1/8 of 3200×2400 is 400×300: just above the preview, never the full 7.7 million pixels.
        let small = reduced(&p, 1 << 30).unwrap().expect("an RGB JPEG takes the reduced path");
        assert_eq!((small.width(), small.height()), (PREVIEW_SIDE, 270));
        let (w, h, prev) = preview_of(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!((w, h), (3200, 2400));
        assert_eq!((prev.width(), prev.height()), (PREVIEW_SIDE, 270));
        let top = prev.to_rgb8().get_pixel(180, 5).0;
        assert!(top[0] > 180 && top[1] < 80, "the red band stays at the top: {top:?}");
    }

    #[test]
    fn sideways_photos_are_previewed_upright_and_grey_ones_too() {
        // Orientation 6: stored landscape, shown portrait (rotated 90° clockwise).
        let (w, h, prev) = preview_of(&jpeg(1600, 1200, false, Some(6))).unwrap();
        assert_eq!((w, h), (1200, 1600));
        assert_eq!((prev.width(), prev.height()), (270, PREVIEW_SIDE));
        let right = prev.to_rgb8().get_pixel(265, 180).0;
        assert!(right[0] > 180 && right[1] < 80, "the red band is on the right: {right:?}");
        let (w, h, prev) = preview_of(&jpeg(1000, 500, true, None)).unwrap();
        assert_eq!((w, h, prev.width()), (1000, 500, PREVIEW_SIDE));
    }

    #[test]
    fn an_invalid_orientation_is_ignored_and_a_cut_photo_is_a_clear_outcome() {
        let (w, h, _) = preview_of(&jpeg(800, 600, false, Some(77))).unwrap();
        assert_eq!((w, h), (800, 600), "orientation 77 means none");
        let whole = jpeg(2000, 1500, false, None);
        for cut in [whole.len() / 2, 600, 40] {
            match preview_of(&whole[..cut]) {
                Ok((w, h, _)) => assert_eq!((w, h), (2000, 1500)),
                Err(e) => assert_eq!(e.code(), ErrorCode::BadImage, "{e:?}"),
            }
        }
    }

    #[test]
    fn fitting_keeps_the_shape_and_never_enlarges() {
        assert_eq!(fit(4000, 3000, 360), (360, 270));
        assert_eq!(fit(3000, 4000, 360), (270, 360));
        assert_eq!(fit(100, 50, 360), (100, 50));
        assert_eq!(fit(12_000, 1, 360), (360, 1));
    }
}
