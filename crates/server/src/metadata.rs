//! Removes what a photo says about its taker — EXIF (GPS position, camera serials, author), XMP,
//! IPTC, comments and text chunks — from JPEG, PNG, WebP and TIFF files, without re-encoding: the
//! container is rewritten with the picture's own bytes untouched. The orientation the picture
//! showed is kept, as a minimal EXIF block holding that one tag; colour profiles stay.
//!
//! Pure and blocking (call it from `spawn_blocking`); the upload domain decides when it runs
//! and stores the result. Streams: only the segment or chunk headers are read into memory.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

mod tiff;

/// What stripping did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stripped {
    /// Metadata was removed; the new file was written.
    Removed,
    /// There was nothing to remove; nothing was written.
    Nothing,
}

/// Formats this module rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG (JFIF or EXIF).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (RIFF).
    WebP,
    /// TIFF (classic): private tags removed in place, see [`tiff`].
    Tiff,
}

impl Format {
    /// The format of an image the service decodes, if this module handles it.
    pub fn of(format: image::ImageFormat) -> Option<Format> {
        match format {
            image::ImageFormat::Jpeg => Some(Format::Jpeg),
            image::ImageFormat::Png => Some(Format::Png),
            image::ImageFormat::WebP => Some(Format::WebP),
            image::ImageFormat::Tiff => Some(Format::Tiff),
            _ => None,
        }
    }
}

fn bad(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_owned())
}

/// A TIFF (EXIF) block holding only the orientation (1 to 8), big-endian: 26 bytes.
fn orientation_tiff(orientation: u8) -> Vec<u8> {
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    t.extend_from_slice(&1u16.to_be_bytes()); // one entry
    t.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    t.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    t.extend_from_slice(&1u32.to_be_bytes()); // one value
    t.extend_from_slice(&u16::from(orientation).to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    t
}

/// Copies `len` bytes from `src` at `at` to `out`.
fn copy_range<R: Read + Seek, W: Write>(src: &mut R, at: u64, len: u64, out: &mut W) -> io::Result<()> {
    src.seek(SeekFrom::Start(at))?;
    let n = io::copy(&mut src.by_ref().take(len), out)?;
    if n != len {
        return Err(bad("the file ends early"));
    }
    Ok(())
}

/// Writes `src` without its metadata to `dst` (a new file), keeping `orientation` (1 = none).
pub fn strip(format: Format, src: &Path, dst: &Path, orientation: u8) -> io::Result<Stripped> {
    let mut f = io::BufReader::new(std::fs::File::open(src)?);
    let size = f.get_ref().metadata()?.len();
    let plan = match format {
        Format::Jpeg => jpeg_plan(&mut f, size, orientation)?,
        Format::Png => png_plan(&mut f, size, orientation)?,
        Format::WebP => webp_plan(&mut f, size, orientation)?,
        // Rewritten in place; its orientation tag stays where it is.
        Format::Tiff => return tiff::strip(src, dst),
    };
    if !plan.changes {
        return Ok(Stripped::Nothing);
    }
    let mut out = io::BufWriter::new(std::fs::File::create(dst)?);
    for piece in &plan.pieces {
        match piece {
            Piece::Copy(at, len) => copy_range(&mut f, *at, *len, &mut out)?,
            Piece::Bytes(b) => out.write_all(b)?,
        }
    }
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok(Stripped::Removed)
}

enum Piece {
    Copy(u64, u64),
    Bytes(Vec<u8>),
}

struct Plan {
    pieces: Vec<Piece>,
    changes: bool,
}

fn read_n<R: Read>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    r.read_exact(&mut b).map_err(|_| bad("the file ends early"))?;
    Ok(b)
}

/// JPEG: segments up to the first scan; APP1 (EXIF, XMP), APP3–APP13 (IPTC among them), APP15
/// and comments go; JFIF (APP0), ICC profiles (APP2) and Adobe's colour transform (APP14) stay.
fn jpeg_plan<R: Read + Seek>(f: &mut R, size: u64, orientation: u8) -> io::Result<Plan> {
    f.seek(SeekFrom::Start(0))?;
    if read_n(f, 2)? != [0xff, 0xd8] {
        return Err(bad("not a JPEG"));
    }
    let mut pieces = vec![Piece::Bytes(vec![0xff, 0xd8])];
    let mut changes = false;
    if orientation > 1 {
        let tiff = orientation_tiff(orientation);
        let mut app1 = vec![0xff, 0xe1];
        app1.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap_or(0).to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(&tiff);
        pieces.push(Piece::Bytes(app1));
    }
    let mut at = 2u64;
    loop {
        f.seek(SeekFrom::Start(at))?;
        let head = read_n(f, 2)?;
        if head[0] != 0xff {
            return Err(bad("a JPEG segment does not start with a marker"));
        }
        let marker = head[1];
        if marker == 0xff {
            at += 1; // fill byte
            continue;
        }
        // Start of scan (or anything without a length): the rest is the picture, copied whole.
        if marker == 0xda || (0xd0..=0xd9).contains(&marker) || marker == 0x01 {
            pieces.push(Piece::Copy(at, size - at));
            break;
        }
        let len = u64::from(u16::from_be_bytes(read_n(f, 2)?.try_into().unwrap_or([0, 0])));
        if len < 2 || at + 2 + len > size {
            return Err(bad("a JPEG segment runs past the end"));
        }
        let metadata = matches!(marker, 0xe1 | 0xe3..=0xed | 0xef | 0xfe);
        if metadata {
            changes = true;
        } else {
            pieces.push(Piece::Copy(at, 2 + len));
        }
        at += 2 + len;
    }
    // Nothing removed: only a new orientation block would differ, and the file had none to lose.
    Ok(Plan { pieces, changes })
}

/// PNG: text chunks (tEXt, zTXt, iTXt), eXIf and tIME go; everything else stays.
fn png_plan<R: Read + Seek>(f: &mut R, size: u64, orientation: u8) -> io::Result<Plan> {
    f.seek(SeekFrom::Start(0))?;
    if read_n(f, 8)? != b"\x89PNG\r\n\x1a\n" {
        return Err(bad("not a PNG"));
    }
    let mut pieces = vec![Piece::Copy(0, 8)];
    let mut changes = false;
    let mut placed = false;
    let mut at = 8u64;
    while at < size {
        f.seek(SeekFrom::Start(at))?;
        let head = read_n(f, 8)?;
        let len = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let kind = [head[4], head[5], head[6], head[7]];
        let whole = 12 + len;
        if at + whole > size {
            return Err(bad("a PNG chunk runs past the end"));
        }
        if matches!(&kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME") {
            changes = true;
        } else {
            if &kind == b"IDAT" && orientation > 1 && changes && !placed {
                // The orientation goes before the picture data (eXIf must precede IDAT).
                placed = true;
                pieces.push(Piece::Bytes(png_chunk(b"eXIf", &orientation_tiff(orientation))));
            }
            pieces.push(Piece::Copy(at, whole));
        }
        at += whole;
        if &kind == b"IEND" {
            break;
        }
    }
    Ok(Plan { pieces, changes })
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(12 + data.len());
    c.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    c.extend_from_slice(&h.finalize().to_be_bytes());
    c
}

/// WebP: the EXIF and XMP chunks go (and their flags in VP8X); the RIFF size is rewritten.
fn webp_plan<R: Read + Seek>(f: &mut R, size: u64, orientation: u8) -> io::Result<Plan> {
    f.seek(SeekFrom::Start(0))?;
    let head = read_n(f, 12)?;
    if &head[..4] != b"RIFF" || &head[8..12] != b"WEBP" {
        return Err(bad("not a WebP"));
    }
    // (offset, whole length with padding, kind)
    let mut chunks = Vec::new();
    let mut at = 12u64;
    while at + 8 <= size {
        f.seek(SeekFrom::Start(at))?;
        let h = read_n(f, 8)?;
        let len = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
        let whole = 8 + len + (len & 1);
        if at + 8 + len > size {
            return Err(bad("a WebP chunk runs past the end"));
        }
        chunks.push((at, whole.min(size - at), [h[0], h[1], h[2], h[3]]));
        at += whole;
    }
    let changes = chunks.iter().any(|c| &c.2 == b"EXIF" || &c.2 == b"XMP ");
    if !changes {
        return Ok(Plan { pieces: Vec::new(), changes });
    }
    let extended = chunks.iter().any(|c| &c.2 == b"VP8X");
    let keep_orientation = orientation > 1 && extended;
    let mut body: Vec<Piece> = Vec::new();
    let mut body_len = 4u64; // "WEBP"
    for (at, whole, kind) in &chunks {
        match kind {
            b"EXIF" | b"XMP " => continue,
            b"VP8X" => {
                f.seek(SeekFrom::Start(*at))?;
                let mut v = read_n(f, usize::try_from(*whole).map_err(|_| bad("a VP8X chunk too large"))?)?;
                if v.len() > 8 {
                    // Flags: 0x08 EXIF, 0x04 XMP.
                    v[8] &= !0x0c;
                    if keep_orientation {
                        v[8] |= 0x08;
                    }
                }
                body_len += v.len() as u64;
                body.push(Piece::Bytes(v));
            }
            _ => {
                body_len += whole;
                body.push(Piece::Copy(*at, *whole));
            }
        }
    }
    if keep_orientation {
        let tiff = orientation_tiff(orientation);
        let mut c = b"EXIF".to_vec();
        c.extend_from_slice(&u32::try_from(tiff.len()).unwrap_or(0).to_le_bytes());
        c.extend_from_slice(&tiff);
        body_len += c.len() as u64;
        body.push(Piece::Bytes(c));
    }
    let mut pieces = vec![Piece::Bytes({
        let mut h = b"RIFF".to_vec();
        h.extend_from_slice(&u32::try_from(body_len).map_err(|_| bad("too large"))?.to_le_bytes());
        h.extend_from_slice(b"WEBP");
        h
    })];
    pieces.extend(body);
    Ok(Plan { pieces, changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG with an EXIF block holding a GPS marker, an XMP block, a comment and an
    /// orientation of 6 (rotated): after stripping, the picture decodes the same, the markers
    /// are gone and the orientation is still 6.
    #[test]
    fn jpeg_loses_its_metadata_and_keeps_its_orientation() {
        let dir = tempfile::tempdir().unwrap();
        let img = image::RgbImage::from_fn(40, 20, |x, y| image::Rgb([(x * 6) as u8, (y * 12) as u8, 90]));
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&img).unwrap();
        // EXIF: the orientation entry, then a fake GPS string to find.
        let mut tiff = orientation_tiff(6);
        tiff.extend_from_slice(b"GPSLatitude 48.8584 N");
        let mut exif = vec![0xff, 0xe1];
        exif.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
        exif.extend_from_slice(b"Exif\0\0");
        exif.extend_from_slice(&tiff);
        let xmp_body = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Author Jane</x:xmpmeta>";
        let mut xmp = vec![0xff, 0xe1];
        xmp.extend_from_slice(&((2 + xmp_body.len()) as u16).to_be_bytes());
        xmp.extend_from_slice(xmp_body);
        let mut com = vec![0xff, 0xfe, 0, 14];
        com.extend_from_slice(b"Serial 12345");
        let mut jpeg = plain[..2].to_vec();
        jpeg.extend_from_slice(&exif);
        jpeg.extend_from_slice(&xmp);
        jpeg.extend_from_slice(&com);
        jpeg.extend_from_slice(&plain[2..]);
        let (src, dst) = (dir.path().join("in.jpg"), dir.path().join("out.jpg"));
        std::fs::write(&src, &jpeg).unwrap();
        assert_eq!(strip(Format::Jpeg, &src, &dst, 6).unwrap(), Stripped::Removed);
        let out = std::fs::read(&dst).unwrap();
        for gone in [&b"GPSLatitude"[..], b"Author Jane", b"Serial 12345"] {
            assert!(!out.windows(gone.len()).any(|w| w == gone), "{}", String::from_utf8_lossy(gone));
        }
        let mut dec = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&out)).unwrap();
        assert_eq!(image::ImageDecoder::orientation(&mut dec).unwrap(), image::metadata::Orientation::Rotate90);
        let a = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        let b = image::load_from_memory(&out).unwrap().to_rgb8();
        assert_eq!(a, b, "the picture itself is untouched");
        // A plain JPEG has nothing to remove.
        std::fs::write(&src, &plain).unwrap();
        assert_eq!(strip(Format::Jpeg, &src, &dst, 1).unwrap(), Stripped::Nothing);
        // A cut one is an error, not a panic.
        std::fs::write(&src, &jpeg[..30]).unwrap();
        assert!(strip(Format::Jpeg, &src, &dst, 1).is_err());
    }

    #[test]
    fn png_and_webp_lose_text_and_exif() {
        let dir = tempfile::tempdir().unwrap();
        let img = image::RgbaImage::from_fn(8, 8, |x, y| image::Rgba([(x * 30) as u8, (y * 30) as u8, 7, 255]));
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        // A tEXt chunk after IHDR (8 + 25 bytes in).
        let mut with = png[..33].to_vec();
        with.extend_from_slice(&png_chunk(b"tEXt", b"Author\0Jane Doe"));
        with.extend_from_slice(&png[33..]);
        let (src, dst) = (dir.path().join("in.png"), dir.path().join("out.png"));
        std::fs::write(&src, &with).unwrap();
        assert_eq!(strip(Format::Png, &src, &dst, 1).unwrap(), Stripped::Removed);
        let out = std::fs::read(&dst).unwrap();
        assert!(!out.windows(8).any(|w| w == b"Jane Doe"));
        assert_eq!(out, png, "the original PNG, chunk for chunk");

        let mut webp = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
            .encode(&img, 8, 8, image::ExtendedColorType::Rgba8)
            .unwrap();
        // Make it extended, with an EXIF chunk: VP8X (flags EXIF), the picture, EXIF.
        let mut body = b"WEBP".to_vec();
        body.extend_from_slice(b"VP8X");
        body.extend_from_slice(&10u32.to_le_bytes());
        body.extend_from_slice(&[0x08 | 0x10, 0, 0, 0, 7, 0, 0, 7, 0, 0]);
        body.extend_from_slice(&webp[12..]);
        let tiff = [orientation_tiff(1), b"GPS here".to_vec()].concat();
        body.extend_from_slice(b"EXIF");
        body.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
        body.extend_from_slice(&tiff);
        let mut riff = b"RIFF".to_vec();
        riff.extend_from_slice(&(body.len() as u32).to_le_bytes());
        riff.extend_from_slice(&body);
        let (src, dst) = (dir.path().join("in.webp"), dir.path().join("out.webp"));
        std::fs::write(&src, &riff).unwrap();
        assert_eq!(strip(Format::WebP, &src, &dst, 1).unwrap(), Stripped::Removed);
        let out = std::fs::read(&dst).unwrap();
        assert!(!out.windows(8).any(|w| w == b"GPS here"));
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize, out.len() - 8);
        assert_eq!(out[20] & 0x08, 0, "the EXIF flag is cleared");
        let back = image::load_from_memory_with_format(&out, image::ImageFormat::WebP).unwrap();
        assert_eq!(back.to_rgba8(), img);
    }
}
