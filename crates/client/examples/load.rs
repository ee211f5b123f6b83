//! Load figures for attachments: starts `attache demo` as its own process, uploads and
//! downloads concurrently through the SDK, and prints MB/s and the service's peak RSS per phase.
//! Nothing is asserted; run it with `scripts/load.sh`.
//!
//! `cargo run --release --example load -- <path to attache binary> [--quick]`

use attache_client::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod service;

use service::{cpu_ms, sample_rss, status_kib};

const PASSWORD: &str = "demo-password";

fn noise_file(dir: &Path, name: &str, size: usize) -> PathBuf {
    let mut x: u64 = 0x9E3779B97F4A7C15 ^ size as u64;
    let mut data = vec![0u8; size];
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 32) as u8;
    }
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

struct Phase {
    name: String,
    files: usize,
    bytes: u64,
    secs: f64,
    peak_rss_mib: f64,
    cpu_ms: f64,
}

impl Phase {
    fn print(&self) {
        println!(
            "{:<34} {:>5} files {:>8.1} MiB {:>7.2} s {:>8.1} MB/s {:>8.1} files/s  service CPU {:>6.2} ms/file  peak RSS {:>6.1} MiB",
            self.name,
            self.files,
            self.bytes as f64 / 1048576.0,
            self.secs,
            self.bytes as f64 / 1e6 / self.secs,
            self.files as f64 / self.secs,
            self.cpu_ms / self.files as f64,
            self.peak_rss_mib
        );
    }
}

#[allow(clippy::too_many_arguments)]
async fn upload_phase(
    name: &str,
    pid: u32,
    alice: &StaffClient,
    contacts: &[ContactId],
    file: &Path,
    count: usize,
    parallel: usize,
    chunk: usize,
) -> (Phase, Vec<Attachment>) {
    let size = std::fs::metadata(file).unwrap().len();
    let (stop, sampler) = sample_rss(pid, Duration::from_millis(20));
    let cpu0 = cpu_ms(pid);
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = Vec::new();
    for i in 0..count {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (alice, contact, file) = (alice.clone(), contacts[i % contacts.len()].clone(), file.to_owned());
        tasks.push(tokio::spawn(async move {
            let _p = permit;
            let opts = UploadOptions { chunk_size: Some(chunk), ..Default::default() };
            match alice.upload_file(&contact, &file, &opts).await {
                Ok(UploadOutcome::Sent(m)) => m.attachment.unwrap(),
                other => panic!("upload failed: {other:?}"),
            }
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    (
        Phase {
            name: name.into(),
            files: count,
            bytes: size * count as u64,
            secs,
            peak_rss_mib: peak as f64 / 1024.0,
            cpu_ms: cpu_ms(pid) - cpu0,
        },
        out,
    )
}

async fn download_phase(
    name: &str,
    pid: u32,
    alice: &StaffClient,
    files: &[Attachment],
    parallel: usize,
    dir: &Path,
) -> Phase {
    let (stop, sampler) = sample_rss(pid, Duration::from_millis(20));
    let cpu0 = cpu_ms(pid);
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(parallel));
    let total = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (i, a) in files.iter().enumerate() {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (alice, a, dest, total) = (alice.clone(), a.clone(), dir.join(format!("dl-{i}")), total.clone());
        tasks.push(tokio::spawn(async move {
            let _p = permit;
            let got = alice.download_attachment(&a, &dest).await.expect("download");
            total.fetch_add(got.size, Ordering::Relaxed);
            let _ = tokio::fs::remove_file(&dest).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    Phase {
        name: name.into(),
        files: files.len(),
        bytes: total.load(Ordering::Relaxed),
        secs,
        peak_rss_mib: peak as f64 / 1024.0,
        cpu_ms: cpu_ms(pid) - cpu0,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).cloned().unwrap_or_else(|| "target/release/attache".into());
    let quick = args.iter().any(|a| a == "--quick");
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let service = service::start(&bin, &data).await;
    let (pid, url) = (service.pid, service.url.clone());
    println!("service {url} (pid {pid}); idle RSS {:.1} MiB", status_kib(pid, "VmRSS:") as f64 / 1024.0);

    let (alice, _) = StaffClient::login(&url, "acme", "alice", PASSWORD).await.unwrap();
    let (ada, _) = StaffClient::login(&url, "acme", "ada", PASSWORD).await.unwrap();
    ada.update_account(&AccountPatch { max_upload_bytes: Some(30 << 20), ..Default::default() }).await.unwrap();
    // Several active contacts (a contact takes at most 16 unfinished uploads at once).
    let mut contacts = Vec::new();
    for i in 0..8 {
        let v = VisitorClient::new(&url).unwrap();
        let c = v
            .open_contact(&OpenContact { account: "acme".into(), name: Some(format!("load {i}")), message: None })
            .await
            .unwrap();
        alice.accept(&c.id).await.unwrap();
        contacts.push(c.id);
    }
    let files = work.path().join("src");
    std::fs::create_dir_all(&files).unwrap();
    let (n_big, n_small) = if quick { (8, 100) } else { (40, 1000) };
    let mib1 = noise_file(&files, "one.bin", 1 << 20);
    let mib25 = noise_file(&files, "big.bin", 25 << 20);
    let kib64 = noise_file(&files, "small.bin", 64 << 10);
    let dl = work.path().join("dl");
    std::fs::create_dir_all(&dl).unwrap();

    let mut phases = Vec::new();
    let (p, _) =
        upload_phase(&format!("upload {n_big} x 1 MiB, 8 at once"), pid, &alice, &contacts, &mib1, n_big, 8, 4 << 20)
            .await;
    phases.push(p);
    let (p, big) =
        upload_phase(&format!("upload {n_big} x 25 MiB, 8 at once"), pid, &alice, &contacts, &mib25, n_big, 8, 4 << 20)
            .await;
    phases.push(p);
    let (p, small) = upload_phase(
        &format!("upload {n_small} x 64 KiB, 32 at once"),
        pid,
        &alice,
        &contacts,
        &kib64,
        n_small,
        32,
        4 << 20,
    )
    .await;
    phases.push(p);
    phases.push(download_phase(&format!("download {n_big} x 25 MiB, 8 at once"), pid, &alice, &big, 8, &dl).await);
    phases
        .push(download_phase(&format!("download {n_small} x 64 KiB, 32 at once"), pid, &alice, &small, 32, &dl).await);
    println!();
    for p in &phases {
        p.print();
    }
    println!("service VmHWM (lifetime peak RSS): {:.1} MiB", status_kib(pid, "VmHWM:") as f64 / 1024.0);
}
