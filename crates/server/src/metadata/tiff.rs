//! TIFF: the tags that speak of the photo's taker — the EXIF and GPS directories, XMP, IPTC,
//! Photoshop resources, maker, model, serial-bearing and author tags, dates, descriptions — are
//! taken out of every image directory, and the bytes they pointed at are zeroed. The file keeps
//! its length and the picture's bytes do not move (their offsets stay valid); the orientation
//! tag stays, so the picture shows as it did.

use super::{bad, Stripped};
use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Tags removed from an image directory.
const PRIVATE: &[u16] = &[
    0x010D, // DocumentName
    0x010E, // ImageDescription
    0x010F, // Make
    0x0110, // Model
    0x0131, // Software
    0x0132, // DateTime
    0x013B, // Artist
    0x013C, // HostComputer
    0x02BC, // XMP
    0x8298, // Copyright
    0x83BB, // IPTC
    0x8649, // Photoshop resources (IPTC inside)
    0x8769, // EXIF directory
    0x8825, // GPS directory
    0x9003, // DateTimeOriginal (some writers put it in IFD0)
    0x927C, // MakerNote
    0x9286, // UserComment
    0xA005, // Interoperability directory
    0xA420, // ImageUniqueID
    0xA430, // CameraOwnerName
    0xA431, // BodySerialNumber
    0xA435, // LensSerialNumber
    0xC4A5, // PrintIM
];

/// Tags whose value is the offset of a directory of their own (all of it goes).
const DIRECTORIES: &[u16] = &[0x8769, 0x8825, 0xA005];

/// Most directories followed (a chain that loops or never ends is refused).
const MOST_DIRECTORIES: usize = 64;

struct Tiff<R> {
    f: R,
    size: u64,
    little: bool,
    /// Byte ranges to zero and directory tables to rewrite: (offset, new bytes).
    patches: Vec<(u64, Vec<u8>)>,
    seen: HashSet<u64>,
}

impl<R: Read + Seek> Tiff<R> {
    fn read(&mut self, at: u64, n: usize) -> io::Result<Vec<u8>> {
        if at.checked_add(n as u64).is_none_or(|end| end > self.size) {
            return Err(bad("a TIFF offset points past the end of the file"));
        }
        self.f.seek(SeekFrom::Start(at))?;
        let mut b = vec![0; n];
        self.f.read_exact(&mut b)?;
        Ok(b)
    }
    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.little {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    }
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    }
    fn put_u16(&self, v: u16) -> [u8; 2] {
        if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    }
    fn put_u32(&self, v: u32) -> [u8; 4] {
        if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    }

    /// Where an entry's value lives out of line (offset, length), if it does not fit in 4 bytes.
    fn outside(&self, entry: &[u8]) -> io::Result<Option<(u64, u64)>> {
        let width = match self.u16(&entry[2..4]) {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            5 | 10 | 12 => 8,
            _ => return Ok(None), // unknown type: nothing known to zero
        };
        let len = u64::from(self.u32(&entry[4..8])) * width;
        if len <= 4 {
            return Ok(None);
        }
        let at = u64::from(self.u32(&entry[8..12]));
        if at.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(bad("a TIFF value points past the end of the file"));
        }
        Ok(Some((at, len)))
    }

    fn entries(&mut self, at: u64) -> io::Result<Vec<Vec<u8>>> {
        if !self.seen.insert(at) || self.seen.len() > MOST_DIRECTORIES {
            return Err(bad("the TIFF's directories loop or never end"));
        }
        let n = self.read(at, 2)?;
        let n = self.u16(&n);
        let table = self.read(at + 2, usize::from(n) * 12)?;
        Ok(table.chunks(12).map(<[u8]>::to_vec).collect())
    }

    /// Zeroes a directory that goes whole (EXIF, GPS…): its table and every value it points at.
    fn erase(&mut self, at: u64) -> io::Result<()> {
        let entries = self.entries(at)?;
        for e in &entries {
            self.erase_value(e)?;
        }
        self.patches.push((at, vec![0; 2 + entries.len() * 12 + 4]));
        Ok(())
    }

    fn erase_value(&mut self, e: &[u8]) -> io::Result<()> {
        if let Some((at, len)) = self.outside(e)? {
            self.patches.push((at, vec![0; usize::try_from(len).map_err(|_| bad("a TIFF value is too long"))?]));
        }
        if DIRECTORIES.contains(&self.u16(&e[0..2])) {
            let sub = u64::from(self.u32(&e[8..12]));
            if sub != 0 {
                self.erase(sub)?;
            }
        }
        Ok(())
    }

    /// Takes the private tags out of the image directory at `at`; returns the next one's offset.
    fn clean(&mut self, at: u64) -> io::Result<u64> {
        let entries = self.entries(at)?;
        let next_at = at + 2 + entries.len() as u64 * 12;
        let next = self.read(next_at, 4)?;
        let next = u64::from(self.u32(&next));
        let (gone, kept): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| PRIVATE.contains(&self.u16(&e[0..2])));
        if gone.is_empty() {
            return Ok(next);
        }
        for e in &gone {
            self.erase_value(e)?;
        }
        // The kept entries, in their order, then the next directory's offset, then zeros where
        // the removed entries were.
        let count = u16::try_from(kept.len()).map_err(|_| bad("too many TIFF entries"))?;
        let mut table = self.put_u16(count).to_vec();
        for e in &kept {
            table.extend_from_slice(e);
        }
        table.extend_from_slice(&self.put_u32(u32::try_from(next).map_err(|_| bad("a TIFF offset is too large"))?));
        table.resize(2 + (kept.len() + gone.len()) * 12 + 4, 0);
        self.patches.push((at, table));
        Ok(next)
    }
}

/// Writes `src` without its private tags to `dst`, if it has any.
pub(super) fn strip(src: &Path, dst: &Path) -> io::Result<Stripped> {
    let f = io::BufReader::new(std::fs::File::open(src)?);
    let size = f.get_ref().metadata()?.len();
    let mut t = Tiff { f, size, little: true, patches: Vec::new(), seen: HashSet::new() };
    let head = t.read(0, 8)?;
    t.little = match &head[0..2] {
        b"II" => true,
        b"MM" => false,
        _ => return Err(bad("not a TIFF")),
    };
    if t.u16(&head[2..4]) != 42 {
        return Err(bad("not a classic TIFF (BigTIFF is not rewritten)"));
    }
    let mut at = u64::from(t.u32(&head[4..8]));
    while at != 0 {
        at = t.clean(at)?;
    }
    if t.patches.is_empty() {
        return Ok(Stripped::Nothing);
    }
    std::fs::copy(src, dst)?;
    let mut out = std::fs::OpenOptions::new().write(true).open(dst)?;
    // Zeroed values first, then the rewritten tables (a table never overlaps a value it kept).
    t.patches.sort_by_key(|(_, bytes)| bytes.iter().any(|b| *b != 0));
    for (at, bytes) in &t.patches {
        out.seek(SeekFrom::Start(*at))?;
        out.write_all(bytes)?;
    }
    out.sync_all()?;
    Ok(Stripped::Removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF header and one directory of `entries` at offset 8, then `next`.
    fn tiff(entries: &[(u16, u16, u32, u32)], next: u32) -> Vec<u8> {
        let mut b = b"II*\0\x08\0\0\0".to_vec();
        b.extend_from_slice(&u16::try_from(entries.len()).unwrap().to_le_bytes());
        for (tag, ty, count, value) in entries {
            for v in [&tag.to_le_bytes()[..], &ty.to_le_bytes(), &count.to_le_bytes(), &value.to_le_bytes()] {
                b.extend_from_slice(v);
            }
        }
        b.extend_from_slice(&next.to_le_bytes());
        b
    }

    fn run(bytes: &[u8]) -> io::Result<(Stripped, Vec<u8>)> {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.tif"), dir.path().join("b.tif"));
        std::fs::write(&src, bytes).unwrap();
        let done = strip(&src, &dst)?;
        Ok((done, std::fs::read(&dst).unwrap_or_default()))
    }

    #[test]
    fn private_tags_go_and_their_bytes_are_zeroed() {
        // Width (kept), Artist "Jane Doe\0" out of line at 50, Orientation (kept).
        let mut b = tiff(&[(0x0100, 3, 1, 80), (0x013B, 2, 9, 50), (0x0112, 3, 1, 6)], 0);
        b.resize(50, 0);
        b.extend_from_slice(b"Jane Doe\0");
        let (done, out) = run(&b).unwrap();
        assert_eq!(done, Stripped::Removed);
        assert_eq!(out.len(), b.len());
        assert!(!String::from_utf8_lossy(&out).contains("Jane"));
        assert_eq!(u16::from_le_bytes([out[8], out[9]]), 2, "two entries left");
        assert_eq!(u16::from_le_bytes([out[22], out[23]]), 0x0112, "the orientation follows the width");
        assert_eq!(run(&tiff(&[(0x0100, 3, 1, 80)], 0)).unwrap().0, Stripped::Nothing);
    }

    #[test]
    fn hostile_directories_are_refused_not_followed() {
        // A chain that loops back to itself.
        assert!(run(&tiff(&[(0x0100, 3, 1, 80)], 8)).is_err());
        // A value past the end of the file.
        assert!(run(&tiff(&[(0x013B, 2, 100, 9_999_999)], 0)).is_err());
        // An EXIF directory that points at the image directory (a loop through a sub-directory).
        assert!(run(&tiff(&[(0x8769, 4, 1, 8)], 0)).is_err());
        // A count that claims more entries than the file holds.
        let mut b = tiff(&[], 0);
        b[8] = 0xff;
        assert!(run(&b).is_err());
        assert!(run(b"MM\0\x2b\0\x08\0\0").is_err(), "BigTIFF");
    }
}
