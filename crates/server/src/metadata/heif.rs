//! HEIC/HEIF (iPhone photos): the EXIF and XMP items are blanked in place — the EXIF item keeps a
//! valid, empty EXIF block, the XMP item an empty packet, zeros or spaces after — so every box
//! keeps its size and every offset stays valid. The orientation of a HEIF picture is not in EXIF
//! but in its `irot`/`imir` properties, which stay.

use super::{bad, Stripped};
use std::io::{self, Read};
use std::path::Path;

/// An item's bytes: where they are in the file.
type Extents = Vec<(u64, u64)>;

struct Boxes<'a> {
    data: &'a [u8],
}

impl<'a> Boxes<'a> {
    /// The boxes in `data[from..to]`: (type, payload start, box end).
    fn list(&self, from: usize, to: usize) -> io::Result<Vec<([u8; 4], usize, usize)>> {
        let mut out = Vec::new();
        let mut at = from;
        while at + 8 <= to {
            let size = u32::from_be_bytes(self.data[at..at + 4].try_into().unwrap_or_default()) as u64;
            let kind: [u8; 4] = self.data[at + 4..at + 8].try_into().unwrap_or_default();
            let (head, size) = match size {
                0 => (8, (to - at) as u64),
                1 if at + 16 <= to => {
                    (16, u64::from_be_bytes(self.data[at + 8..at + 16].try_into().unwrap_or_default()))
                }
                _ => (8, size),
            };
            let end = usize::try_from(size).ok().and_then(|s| at.checked_add(s)).filter(|e| *e <= to && size >= head);
            let end = end.ok_or_else(|| bad("a HEIF box runs past its parent"))?;
            out.push((kind, at + head as usize, end));
            at = end;
        }
        Ok(out)
    }
}

/// Big-endian unsigned of `n` bytes (0, 4 or 8) at `*at`, moving on.
fn uint(d: &[u8], at: &mut usize, n: usize) -> io::Result<u64> {
    let b = d.get(*at..*at + n).ok_or_else(|| bad("a HEIF box ends early"))?;
    *at += n;
    Ok(b.iter().fold(0u64, |v, x| (v << 8) | u64::from(*x)))
}

fn cstr(d: &[u8], at: &mut usize) -> io::Result<Vec<u8>> {
    let rest = d.get(*at..).ok_or_else(|| bad("a HEIF box ends early"))?;
    let n = rest.iter().position(|b| *b == 0).ok_or_else(|| bad("an unterminated HEIF string"))?;
    *at += n + 1;
    Ok(rest[..n].to_vec())
}

/// Item ids whose bytes speak of the taker: EXIF, and XMP (`mime` items of RDF).
fn private_items(d: &[u8], from: usize, to: usize) -> io::Result<Vec<(u32, bool)>> {
    let mut at = from;
    let version = uint(d, &mut at, 1)?;
    at += 3;
    let count = uint(d, &mut at, if version == 0 { 2 } else { 4 })?;
    let mut out = Vec::new();
    let boxes = Boxes { data: d }.list(at, to)?;
    for (kind, start, end) in boxes.into_iter().take(count as usize) {
        if &kind != b"infe" {
            continue;
        }
        let mut p = start;
        let v = uint(d, &mut p, 1)?;
        p += 3;
        if v < 2 {
            continue;
        }
        let id = uint(d, &mut p, if v == 2 { 2 } else { 4 })? as u32;
        p += 2; // protection index
        let item_type = d.get(p..p + 4).ok_or_else(|| bad("a HEIF item info ends early"))?;
        p += 4;
        if item_type == b"Exif" {
            out.push((id, true));
        } else if item_type == b"mime" && p < end {
            cstr(d, &mut p)?; // name
            if cstr(d, &mut p)?.eq_ignore_ascii_case(b"application/rdf+xml") {
                out.push((id, false));
            }
        }
    }
    Ok(out)
}

/// Where an item's bytes are, by `iloc` (in the file, or in `idat` at `idat`).
fn locate(d: &[u8], from: usize, id: u32, idat: Option<usize>) -> io::Result<Option<Extents>> {
    let mut at = from;
    let version = uint(d, &mut at, 1)?;
    at += 3;
    let sizes = uint(d, &mut at, 2)?;
    let (off_n, len_n, base_n) = ((sizes >> 12) as usize, ((sizes >> 8) & 15) as usize, ((sizes >> 4) & 15) as usize);
    let index_n = if version == 1 || version == 2 { (sizes & 15) as usize } else { 0 };
    let count = uint(d, &mut at, if version < 2 { 2 } else { 4 })?;
    for _ in 0..count {
        let item = uint(d, &mut at, if version < 2 { 2 } else { 4 })? as u32;
        let method = if version == 1 || version == 2 { uint(d, &mut at, 2)? & 15 } else { 0 };
        at += 2; // data reference index
        let base = uint(d, &mut at, base_n)?;
        let extents = uint(d, &mut at, 2)?;
        let mut found = Vec::new();
        for _ in 0..extents {
            uint(d, &mut at, index_n)?;
            let off = uint(d, &mut at, off_n)?;
            let len = uint(d, &mut at, len_n)?;
            let start = match (method, idat) {
                (0, _) => base + off,
                (1, Some(idat)) => idat as u64 + base + off,
                _ => return Err(bad("a HEIF item stored in a way that is not rewritten")),
            };
            if len == 0 {
                return Err(bad("a HEIF item without a length"));
            }
            found.push((start, len));
        }
        if item == id {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// What goes in place of an item of `len` bytes: an empty EXIF block or an empty XMP packet.
fn blank(exif: bool, len: usize) -> Vec<u8> {
    let mut b = if exif {
        // The offset of the TIFF header past "Exif\0\0", then a TIFF with no entries.
        let mut v = 6u32.to_be_bytes().to_vec();
        v.extend_from_slice(b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0");
        v
    } else {
        br#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>"#.to_vec()
    };
    let tail: &[u8] = if exif { b"" } else { br#"<?xpacket end="w"?>"# };
    if b.len() + tail.len() > len {
        return vec![if exif { 0 } else { b' ' }; len];
    }
    b.resize(len - tail.len(), if exif { 0 } else { b' ' });
    b.extend_from_slice(tail);
    b
}

/// The top-level `meta` box among the boxes read (payload start, end); the ones after it (the
/// picture's data) may run past what was read.
fn find_meta(d: &[u8]) -> Option<(usize, usize)> {
    let mut at = 0usize;
    while at + 8 <= d.len() {
        let size = u32::from_be_bytes(d[at..at + 4].try_into().ok()?) as usize;
        let (head, size) = match size {
            1 => (16, usize::try_from(u64::from_be_bytes(d.get(at + 8..at + 16)?.try_into().ok()?)).ok()?),
            0 => (8, d.len() - at),
            n => (8, n),
        };
        if size < head {
            return None;
        }
        let end = at.checked_add(size)?;
        if &d[at + 4..at + 8] == b"meta" {
            return (end <= d.len()).then_some((at + head, end));
        }
        at = end;
    }
    None
}

/// Writes `src` with its EXIF and XMP items blanked to `dst`, if it has any.
pub(super) fn strip(src: &Path, dst: &Path) -> io::Result<Stripped> {
    let mut f = std::fs::File::open(src)?;
    let size = f.metadata()?.len();
    // The boxes before the picture's data (`meta` is near the start); at most 4 MiB of them.
    let head_len = usize::try_from(size.min(4 << 20)).map_err(|_| bad("too large"))?;
    let mut d = vec![0; head_len];
    f.read_exact(&mut d)?;
    let Some((meta_start, meta_end)) = find_meta(&d) else {
        return Err(bad("a HEIF file without its meta box in the first 4 MiB"));
    };
    let children = Boxes { data: &d }.list(meta_start + 4, meta_end)?;
    let find = |name: &[u8; 4]| children.iter().find(|(k, _, _)| k == name).map(|&(_, s, e)| (s, e));
    let Some((iinf, iinf_end)) = find(b"iinf") else { return Ok(Stripped::Nothing) };
    let items = private_items(&d, iinf, iinf_end)?;
    if items.is_empty() {
        return Ok(Stripped::Nothing);
    }
    let (iloc, _) = find(b"iloc").ok_or_else(|| bad("a HEIF file without item locations"))?;
    let idat = find(b"idat").map(|(s, _)| s);
    let mut patches = Vec::new();
    for (id, exif) in items {
        let Some(extents) = locate(&d, iloc, id, idat)? else { continue };
        let total: u64 = extents.iter().map(|(_, l)| l).sum();
        if extents.iter().any(|(s, l)| s.checked_add(*l).is_none_or(|e| e > size)) || total > 16 << 20 {
            return Err(bad("a HEIF item points past the end of the file"));
        }
        let bytes = blank(exif, total as usize);
        let mut used = 0usize;
        for (start, len) in extents {
            patches.push((start, bytes[used..used + len as usize].to_vec()));
            used += len as usize;
        }
    }
    super::patched_copy(src, dst, &patches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> io::Result<Stripped> {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.heic"), dir.path().join("b.heic"));
        std::fs::write(&src, bytes).unwrap();
        strip(&src, &dst)
    }

    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = u32::try_from(payload.len() + 8).unwrap().to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn broken_containers_are_refused_and_empty_ones_left_alone() {
        assert!(run(b"not a heif at all").is_err(), "no meta box");
        let ftyp = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
        // A meta box whose child claims more than its parent holds.
        let mut meta = vec![0, 0, 0, 0];
        meta.extend_from_slice(&[0, 0, 0xff, 0xff]);
        meta.extend_from_slice(b"iinf");
        let bad = [ftyp.clone(), boxed(b"meta", &meta)].concat();
        assert!(run(&bad).is_err());
        // A meta box without item infos: nothing to remove.
        let empty = [ftyp, boxed(b"meta", &[0, 0, 0, 0])].concat();
        assert_eq!(run(&empty).unwrap(), Stripped::Nothing);
    }

    #[test]
    fn blanks_keep_the_length_and_stay_valid() {
        let exif = blank(true, 100);
        assert_eq!(exif.len(), 100);
        assert_eq!(&exif[4..10], b"Exif\0\0");
        let xmp = blank(false, 200);
        assert_eq!(xmp.len(), 200);
        assert!(xmp.ends_with(br#"<?xpacket end="w"?>"#));
        assert_eq!(blank(false, 10), vec![b' '; 10], "too short for a packet: spaces");
    }
}
