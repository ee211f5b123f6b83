//! The service's memory while it streams a "Download all" ZIP: starts `attache demo` as its own
//! process, sends 30 files of 30 MiB into one contact, then downloads the contact's ZIP through
//! the SDK while sampling the service's RSS every 10 ms. Prints the figures; asserts nothing.
//! Run it with `scripts/export-rss.sh`.
//!
//! `cargo run --release --example export_rss -- <path to attache binary> [files] [MiB each]`

use attache_client::*;
use std::time::{Duration, Instant};

mod service;

use service::{sample_rss, status_kib};

const PASSWORD: &str = "demo-password";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).expect("usage: export_rss <attache binary> [files] [MiB each]");
    let files: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(30);
    let mib: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(30);
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let svc = service::start(bin, data.path()).await;
    let ada = StaffClient::login(&svc.url, "acme", "ada", PASSWORD).await.unwrap().0;
    ada.update_account(&AccountPatch { max_upload_bytes: Some((mib as u64) << 20), ..Default::default() })
        .await
        .unwrap();
    let alice = StaffClient::login(&svc.url, "acme", "alice", PASSWORD).await.unwrap().0;
    let sam = StaffClient::login(&svc.url, "acme", "sam", PASSWORD).await.unwrap().0;
    let visitor = VisitorClient::new(&svc.url).unwrap();
    let contact = visitor
        .open_contact(&OpenContact { account: "acme".into(), name: Some("Carla".into()), message: None })
        .await
        .unwrap();
    alice.accept(&contact.id).await.unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes = vec![0u8; mib << 20];
    for i in 0..files {
        for b in bytes.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 32) as u8;
        }
        let path = work.path().join(format!("file-{i:02}.bin"));
        std::fs::write(&path, &bytes).unwrap();
        let sent = alice.upload_file(&contact.id, &path, &UploadOptions::default()).await.unwrap();
        assert!(matches!(sent, UploadOutcome::Sent(_)));
        std::fs::remove_file(&path).unwrap();
    }
    drop(bytes);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = status_kib(svc.pid, "VmRSS:");
    let (stop, peak) = sample_rss(svc.pid, Duration::from_millis(10));
    let started = Instant::now();
    let dest = work.path().join("contact.zip");
    let done = sam.export_contact(&contact.id, &dest, None).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = peak.await.unwrap();
    println!(
        "download all: {files} x {mib} MiB -> ZIP of {:.1} MiB in {secs:.2} s ({:.0} MB/s); service RSS before {:.1} MiB, \
         peak during {:.1} MiB (+{:.1} MiB)",
        done.size as f64 / 1048576.0,
        done.size as f64 / 1e6 / secs,
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0
    );
}
