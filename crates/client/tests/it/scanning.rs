//! The malware scanner for real: Debian's `clamd`, started by the test with a config file of
//! its own, a unix socket in a temporary folder and a signature database the test writes (one
//! MD5 signature of the EICAR test file: no download, no freshclam). Checks what both sides see
//! (`checking`, then clean or blocked with the reason), both doors (the customer's and the
//! agent's), a clamd that is down, and an admin's release.
//!
//! Skipped with a note when `clamd` is not installed, unless `ATTACHE_REQUIRE_TOOLS` is set
//! (scripts/test.sh sets it; scripts/setup.sh installs `clamav-daemon`).

use crate::{common, support};

use attache_client::*;
use common::TestServer;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// The EICAR anti-virus test file (harmless; every scanner reports it).
pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// A clamd of the test's own; stopped when dropped.
pub struct Clamd {
    child: Option<Child>,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Clamd {
    /// Starts clamd and waits until it answers on its socket; `None` when clamd is not
    /// installed (and not required).
    pub fn start() -> Option<Clamd> {
        let bin = ["/usr/sbin/clamd", "/usr/bin/clamd"].into_iter().map(Path::new).find(|p| p.exists());
        let Some(bin) = bin else {
            assert!(std::env::var_os("ATTACHE_REQUIRE_TOOLS").is_none(), "clamd is required but not installed");
            eprintln!("clamd is not installed (apt-get install clamav-daemon): skipping");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        // MD5:size:name of the EICAR file.
        let md5 = format!("{:x}", md5_of(EICAR));
        std::fs::write(db.join("attache-test.hdb"), format!("{md5}:{}:Eicar-Test-Signature\n", EICAR.len())).unwrap();
        let socket = dir.path().join("clamd.sock");
        let conf = dir.path().join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "LocalSocket {}\nDatabaseDirectory {}\nForeground yes\nLogFile {}\nTemporaryDirectory {}\n\
                 StreamMaxLength 64M\nScanArchive yes\n",
                socket.display(),
                db.display(),
                dir.path().join("clamd.log").display(),
                dir.path().display()
            ),
        )
        .unwrap();
        let child = Command::new(bin).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "clamd did not come up within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Clamd { child: Some(child), socket, _dir: dir })
    }

    /// Stops clamd (its socket stops answering).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// MD5, for the signature line (the test's only use of it: a few lines beat a crate).
fn md5_of(data: &[u8]) -> u128 {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
        20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6,
        10, 15, 21,
    ];
    let k: Vec<u32> = (0..64).map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32).collect();
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    let (mut a0, mut b0, mut c0, mut d0) = (0x67452301u32, 0xefcdab89u32, 0x98badcfeu32, 0x10325476u32);
    for block in msg.chunks(64) {
        let m: Vec<u32> = block.chunks(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, w) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    u128::from_be_bytes(out)
}

#[test]
fn md5_is_md5() {
    assert_eq!(format!("{:x}", md5_of(EICAR)), "44d88612fea8a8f36de82e1278abb02f");
    assert_eq!(format!("{:032x}", md5_of(b"")), "d41d8cd98f00b204e9800998ecf8427e");
}

/// A ZIP (stored, no compression) holding one file.
fn zip_of(name: &str, body: &[u8]) -> Vec<u8> {
    let (crc, n, nl) = (crc32fast::hash(body), body.len() as u32, name.len() as u16);
    let mut z = Vec::new();
    z.extend_from_slice(&0x04034b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&nl.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(body);
    let central = z.len() as u32;
    z.extend_from_slice(&0x02014b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&nl.to_le_bytes());
    z.extend_from_slice(&[0; 12]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    let size = z.len() as u32 - central;
    z.extend_from_slice(&0x06054b50u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&central.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

/// The next event of an upload's check, skipping progress.
async fn check_event(events: &mut EventStream) -> Event {
    loop {
        match common::next(events).await {
            Event::UploadProgress { .. } | Event::Ready => continue,
            other => return other,
        }
    }
}

#[tokio::test]
async fn clamd_blocks_eicar_on_both_doors_and_admins_release_only_what_it_could_not_check() {
    let Some(mut clamd) = Clamd::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.files.scanner =
        Some(attache_server::scan::Scanner::Clamd(attache_server::scan::ClamdAddr::Unix(clamd.socket.clone())));
    config.files.scan_timeout = Duration::from_secs(20);
    let ts = TestServer::start_with(dir, config).await;
    let alice = ts.login("alice").await;
    let ada = ts.login("ada").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let mut agent_events = alice.events().await.unwrap();
    let mut visitor_events = visitor.events().await.unwrap();
    let files = tempfile::tempdir().unwrap();
    let opts = UploadOptions::default();

    // The customer's door: EICAR is blocked, both sides see it checked, then blocked with the reason.
    let path = write(files.path(), "invoice.txt", EICAR);
    let e = visitor.upload_file(&contact.id, &path, &opts).await.unwrap_err();
    assert_eq!(e.code().as_str(), "malware-found", "{e}");
    for events in [&mut agent_events, &mut visitor_events] {
        assert!(matches!(check_event(events).await, Event::UploadChecking { name, .. } if name == "invoice.txt"));
        match check_event(events).await {
            Event::UploadRefused { error, releasable, .. } => {
                assert_eq!(error.error.as_str(), "malware-found");
                assert!(error.message.contains("a virus was found"), "{}", error.message);
                assert!(!releasable);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // The agent's door, and EICAR inside a ZIP (clamd looks into archives).
    for (name, bytes) in [("notes.txt", EICAR.to_vec()), ("docs.zip", zip_of("eicar.com", EICAR))] {
        let path = write(files.path(), name, &bytes);
        let e = alice.upload_file(&contact.id, &path, &opts).await.unwrap_err();
        assert_eq!(e.code().as_str(), "malware-found", "{name}: {e}");
    }
    assert_eq!(files_on_disk(&ts).0, 0, "nothing of an infected file is kept");

    // A clean file passes: checking, then ready.
    let path = write(files.path(), "photo.png", &png(64, 48));
    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &path, &opts).await.unwrap() else { panic!() };
    assert!(msg.attachment.as_ref().unwrap().released_by.is_none());
    let mut checking = false;
    loop {
        match check_event(&mut agent_events).await {
            Event::UploadChecking { name, .. } => checking |= name == "photo.png",
            Event::AttachmentReady { message } if message.id == msg.id => break,
            Event::UploadRefused { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(checking, "the agent saw the photo being checked before it arrived");

    // The report lists what was blocked, and why.
    let report = ada.report_contact(&contact.id).await.unwrap();
    assert_eq!(report.blocked.len(), 3, "{:?}", report.blocked);
    assert!(report.blocked.iter().all(|b| b.error.error.as_str() == "malware-found" && !b.releasable));
    // A file found infected cannot be released.
    let e = ada.release_upload(&report.blocked[0].upload_id).await.unwrap_err();
    assert_eq!(e.code().as_str(), "not-releasable", "{e}");

    // clamd down: the file is blocked, "scanner unavailable", and kept for a release.
    clamd.stop();
    let path = write(files.path(), "contract.pdf", b"%PDF-1.4\n% a harmless contract\n");
    let e = visitor.upload_file(&contact.id, &path, &opts).await.unwrap_err();
    assert_eq!(e.code().as_str(), "scanner-unavailable", "{e}");
    let blocked = loop {
        match check_event(&mut agent_events).await {
            Event::UploadRefused { upload_id, error, releasable, .. } => {
                assert_eq!(error.error.as_str(), "scanner-unavailable");
                assert!(error.message.contains("scanner did not answer"), "{}", error.message);
                assert!(releasable);
                break upload_id;
            }
            Event::UploadChecking { .. } => continue,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    let report = ada.report_contact(&contact.id).await.unwrap();
    let b = report.blocked.iter().find(|b| b.upload_id == blocked).expect("listed in the report");
    assert!(b.releasable);
    assert!(report.messages.iter().all(|m| m.attachment.as_ref().is_none_or(|a| a.name != "contract.pdf")));

    // Only an admin releases it; then it is delivered to both sides, with who and when.
    assert_eq!(alice.release_upload(&blocked).await.unwrap_err().code().as_str(), "admin-only");
    let msg = ada.release_upload(&blocked).await.unwrap();
    let a = msg.attachment.clone().unwrap();
    assert_eq!(a.name, "contract.pdf");
    assert_eq!(a.released_by.as_deref(), Some("Ada Admin"));
    assert!(a.released_at.is_some());
    loop {
        match check_event(&mut visitor_events).await {
            Event::AttachmentReady { message } if message.id == msg.id => break,
            Event::UploadChecking { .. } | Event::UploadRefused { .. } | Event::AttachmentReady { .. } => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    // Releasing again answers with the same message; the report no longer lists it as blocked.
    assert_eq!(ada.release_upload(&blocked).await.unwrap().id, msg.id);
    let report = ada.report_contact(&contact.id).await.unwrap();
    assert!(report.blocked.iter().all(|b| b.upload_id != blocked));
}
