//! A ZIP archive laid out before a byte of it is written: entries are stored (not compressed),
//! so every offset and the total length are known from the entries' sizes alone, and any byte
//! range of the archive can be produced again identically (resume). CRC-32s go in data
//! descriptors and the central directory, computed as the bytes stream past. ZIP64 records are
//! used when a size, an offset or the entry count needs them (or when forced, for tests).
//!
//! Pure layout and header bytes; streaming the entries' contents is the caller's
//! (`domain::export`). Spec: PKWARE APPNOTE 6.3.x, sections 4.3 and 4.5.3.

use chrono::{DateTime, Datelike, Timelike, Utc};

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const END64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
/// Bit 3: sizes and CRC in a data descriptor; bit 11: names are UTF-8.
const FLAGS: u16 = 0x0808;
const MAX32: u64 = 0xFFFF_FFFF;

/// One entry to place: its name inside the archive, its size, its time.
#[derive(Debug, Clone)]
pub struct EntrySpec {
    /// Path inside the archive (`/`-separated, UTF-8).
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Modification time shown by unzip tools.
    pub modified: DateTime<Utc>,
}

/// An entry with its place in the archive.
#[derive(Debug, Clone)]
pub struct Placed {
    spec: EntrySpec,
    /// Offset of its local header.
    pub offset: u64,
    zip64: bool,
}

impl Placed {
    /// Its size.
    pub fn size(&self) -> u64 {
        self.spec.size
    }
}

/// Where everything goes.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The entries, in order.
    pub entries: Vec<Placed>,
    /// Offset of the central directory.
    pub cd_offset: u64,
    /// Total length of the archive.
    pub total: u64,
    zip64_end: bool,
}

fn dos(t: &DateTime<Utc>) -> (u16, u16) {
    let year = t.year().clamp(1980, 2107) as u16;
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | (t.second() as u16 / 2);
    let date = ((year - 1980) << 9) | ((t.month() as u16) << 5) | t.day() as u16;
    (time, date)
}

fn local_len(p: &Placed) -> u64 {
    30 + p.spec.name.len() as u64 + if p.zip64 { 20 } else { 0 }
}

fn descriptor_len(p: &Placed) -> u64 {
    if p.zip64 {
        24
    } else {
        16
    }
}

fn central_len(p: &Placed) -> u64 {
    46 + p.spec.name.len() as u64 + if p.zip64 { 28 } else { 0 }
}

/// Places the entries. `force64` writes ZIP64 records even where plain ones would do.
pub fn layout(specs: Vec<EntrySpec>, force64: bool) -> Layout {
    let mut offset = 0u64;
    let mut entries = Vec::with_capacity(specs.len());
    for spec in specs {
        let zip64 = force64 || spec.size >= MAX32 || offset >= MAX32;
        let p = Placed { spec, offset, zip64 };
        offset = offset.saturating_add(local_len(&p)).saturating_add(p.spec.size).saturating_add(descriptor_len(&p));
        entries.push(p);
    }
    let cd_offset = offset;
    let cd_size: u64 = entries.iter().map(central_len).sum();
    let zip64_end = force64 || entries.len() >= 0xFFFF || cd_offset >= MAX32 || cd_size >= MAX32;
    let total = cd_offset + cd_size + if zip64_end { 56 + 20 } else { 0 } + 22;
    Layout { entries, cd_offset, total, zip64_end }
}

/// The local header of an entry (before its bytes).
pub fn local_header(p: &Placed) -> Vec<u8> {
    let mut b = Vec::with_capacity(local_len(p) as usize);
    let (time, date) = dos(&p.spec.modified);
    b.extend(LOCAL_SIG.to_le_bytes());
    b.extend((if p.zip64 { 45u16 } else { 20u16 }).to_le_bytes());
    b.extend(FLAGS.to_le_bytes());
    b.extend(0u16.to_le_bytes()); // stored
    b.extend(time.to_le_bytes());
    b.extend(date.to_le_bytes());
    b.extend(0u32.to_le_bytes()); // CRC in the descriptor
    let size32 = if p.zip64 { MAX32 as u32 } else { p.spec.size as u32 };
    b.extend(size32.to_le_bytes());
    b.extend(size32.to_le_bytes());
    b.extend((p.spec.name.len() as u16).to_le_bytes());
    b.extend((if p.zip64 { 20u16 } else { 0u16 }).to_le_bytes());
    b.extend(p.spec.name.as_bytes());
    if p.zip64 {
        b.extend(1u16.to_le_bytes());
        b.extend(16u16.to_le_bytes());
        b.extend(p.spec.size.to_le_bytes());
        b.extend(p.spec.size.to_le_bytes());
    }
    b
}

/// The data descriptor after an entry's bytes.
pub fn descriptor(p: &Placed, crc: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(24);
    b.extend(DESCRIPTOR_SIG.to_le_bytes());
    b.extend(crc.to_le_bytes());
    if p.zip64 {
        b.extend(p.spec.size.to_le_bytes());
        b.extend(p.spec.size.to_le_bytes());
    } else {
        b.extend((p.spec.size as u32).to_le_bytes());
        b.extend((p.spec.size as u32).to_le_bytes());
    }
    b
}

/// The central directory and the end records, given every entry's CRC-32.
pub fn central_directory(l: &Layout, crcs: &[u32]) -> Vec<u8> {
    let mut b = Vec::with_capacity((l.total - l.cd_offset) as usize);
    for (p, crc) in l.entries.iter().zip(crcs) {
        let (time, date) = dos(&p.spec.modified);
        b.extend(CENTRAL_SIG.to_le_bytes());
        b.extend((45u16 | (3 << 8)).to_le_bytes()); // made by: Unix, 4.5
        b.extend((if p.zip64 { 45u16 } else { 20u16 }).to_le_bytes());
        b.extend(FLAGS.to_le_bytes());
        b.extend(0u16.to_le_bytes());
        b.extend(time.to_le_bytes());
        b.extend(date.to_le_bytes());
        b.extend(crc.to_le_bytes());
        let (size32, off32) =
            if p.zip64 { (MAX32 as u32, MAX32 as u32) } else { (p.spec.size as u32, p.offset as u32) };
        b.extend(size32.to_le_bytes());
        b.extend(size32.to_le_bytes());
        b.extend((p.spec.name.len() as u16).to_le_bytes());
        b.extend((if p.zip64 { 28u16 } else { 0u16 }).to_le_bytes());
        b.extend(0u16.to_le_bytes()); // comment
        b.extend(0u16.to_le_bytes()); // disk
        b.extend(0u16.to_le_bytes()); // internal attributes
        b.extend((0o100644u32 << 16).to_le_bytes()); // a regular file, rw-r--r--
        b.extend(off32.to_le_bytes());
        b.extend(p.spec.name.as_bytes());
        if p.zip64 {
            b.extend(1u16.to_le_bytes());
            b.extend(24u16.to_le_bytes());
            b.extend(p.spec.size.to_le_bytes());
            b.extend(p.spec.size.to_le_bytes());
            b.extend(p.offset.to_le_bytes());
        }
    }
    let cd_size = b.len() as u64;
    let n = l.entries.len() as u64;
    if l.zip64_end {
        let end64_offset = l.cd_offset + cd_size;
        b.extend(END64_SIG.to_le_bytes());
        b.extend(44u64.to_le_bytes());
        b.extend(45u16.to_le_bytes());
        b.extend(45u16.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(n.to_le_bytes());
        b.extend(n.to_le_bytes());
        b.extend(cd_size.to_le_bytes());
        b.extend(l.cd_offset.to_le_bytes());
        b.extend(LOCATOR64_SIG.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(end64_offset.to_le_bytes());
        b.extend(1u32.to_le_bytes());
    }
    let (n16, size32, off32) = if l.zip64_end {
        (0xFFFFu16, MAX32 as u32, MAX32 as u32)
    } else {
        (n as u16, cd_size as u32, l.cd_offset as u32)
    };
    b.extend(END_SIG.to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b.extend(n16.to_le_bytes());
    b.extend(n16.to_le_bytes());
    b.extend(size32.to_le_bytes());
    b.extend(off32.to_le_bytes());
    b.extend(0u16.to_le_bytes());
    b
}

/// A name safe inside an archive and on any disk it is extracted to: no folders, no `..`, no
/// control or reserved characters, at most 150 characters.
pub fn safe_entry_name(name: &str) -> String {
    let cleaned: String =
        name.chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                    '_'
                } else {
                    c
                }
            })
            .take(150)
            .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').to_owned();
    if trimmed.is_empty() {
        "file".into()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(&str, &[u8])], force64: bool) -> Vec<u8> {
        let t: DateTime<Utc> = "2026-11-27T14:02:04Z".parse().unwrap();
        let specs =
            entries.iter().map(|(n, d)| EntrySpec { name: (*n).into(), size: d.len() as u64, modified: t }).collect();
        let l = layout(specs, force64);
        let mut out = Vec::new();
        let mut crcs = Vec::new();
        for (p, (_, data)) in l.entries.iter().zip(entries) {
            assert_eq!(out.len() as u64, p.offset);
            out.extend(local_header(p));
            out.extend(*data);
            let crc = crc32fast::hash(data);
            crcs.push(crc);
            out.extend(descriptor(p, crc));
        }
        assert_eq!(out.len() as u64, l.cd_offset);
        out.extend(central_directory(&l, &crcs));
        assert_eq!(out.len() as u64, l.total, "the announced length is the real one");
        out
    }

    #[test]
    fn archives_read_back_with_a_real_unzip_plain_and_zip64() {
        for force64 in [false, true] {
            let zip = build(&[("manifest.json", b"{}"), ("files/001 caf\u{e9}.txt", b"hello world")], force64);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.zip");
            std::fs::write(&path, &zip).unwrap();
            // Python's zipfile checks every CRC and reads ZIP64 records.
            let out = std::process::Command::new("python3")
                .arg("-c")
                .arg(
                    "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                     print('|'.join(f'{i.filename}={z.read(i).decode()}' for i in z.infolist()))",
                )
                .arg(&path)
                .output()
                .expect("python3 runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "manifest.json={}|files/001 café.txt=hello world");
        }
    }

    #[test]
    fn zip64_when_sizes_need_it() {
        let t = Utc::now();
        let big = EntrySpec { name: "big".into(), size: 5 << 30, modified: t };
        let l = layout(vec![big.clone(), EntrySpec { name: "after".into(), ..big }], false);
        assert!(l.entries.iter().all(|e| e.zip64) && l.zip64_end);
        let small = layout(vec![EntrySpec { name: "s".into(), size: 10, modified: t }], false);
        assert!(!small.entries[0].zip64 && !small.zip64_end);
        assert_eq!(small.total, 30 + 1 + 10 + 16 + 46 + 1 + 22);
    }

    #[test]
    fn names_cannot_escape() {
        assert_eq!(safe_entry_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_entry_name("a\u{0}b:c?.pdf"), "a_b_c_.pdf");
        assert_eq!(safe_entry_name("..."), "file");
        assert_eq!(safe_entry_name("Façture 2026.pdf"), "Façture 2026.pdf");
    }
}
