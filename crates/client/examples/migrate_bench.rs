//! Migration throughput: fills an embedded-default deployment through the API (10,000 text
//! messages and 1,000 files of 8-256 KiB over 100 contacts, by default), then times
//! `attache migrate` to a new SQLite folder and, when `ATTACHE_BENCH_POSTGRES`
//! (`postgres://user:pw@host/db`, an empty database) and `STORE_URL` (`s3://bucket/prefix`, with
//! the `AWS_*` variables) are set, to PostgreSQL + S3; then once more to show the cost of a re-run
//! (everything verified, nothing copied). Prints files/s, MiB/s and rows/s; asserts nothing.
//! Run it with `scripts/migrate-bench.sh`.
//!
//! `cargo run --release --example migrate_bench -- [messages] [files]`

use attache_client::*;
use attache_server::ops::{migrate, Endpoint};
use futures_util::StreamExt;
use std::time::Instant;

const CONTACTS: usize = 100;

fn noise(size: usize, seed: u64) -> Vec<u8> {
    let mut x: u64 = 0x9E3779B97F4A7C15 ^ seed;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

async fn fill(url: &str, dir: &std::path::Path, messages: usize, files: usize) -> u64 {
    let alice = StaffClient::login(url, "acme", "alice", attache_server::demo::PASSWORD).await.unwrap().0;
    let mut contacts = Vec::new();
    for i in 0..CONTACTS {
        let v = VisitorClient::new(url).unwrap();
        let c = v
            .open_contact(&OpenContact { account: "acme".into(), name: Some(format!("Customer {i}")), message: None })
            .await
            .unwrap();
        alice.accept(&c.id).await.unwrap();
        contacts.push(c.id);
    }
    let started = Instant::now();
    futures_util::stream::iter(0..messages)
        .map(|i| {
            let (alice, c) = (alice.clone(), contacts[i % CONTACTS].clone());
            async move { alice.send_message(&c, &format!("message {i}: let me check that for you")).await.unwrap() }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    eprintln!("filled {messages} messages in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let bytes: u64 = futures_util::stream::iter(0..files)
        .map(|i| {
            let (alice, c) = (alice.clone(), contacts[i % CONTACTS].clone());
            let size = 8 * 1024 + (i * 7919) % (248 * 1024);
            let path = dir.join(format!("file-{i}.bin"));
            async move {
                tokio::fs::write(&path, noise(size, i as u64)).await.unwrap();
                let out = alice.upload_file(&c, &path, &UploadOptions::default()).await.unwrap();
                assert!(matches!(out, UploadOutcome::Sent(_)), "{out:?}");
                tokio::fs::remove_file(&path).await.unwrap();
                size as u64
            }
        })
        .buffer_unordered(8)
        .fold(0u64, |a, b| async move { a + b })
        .await;
    eprintln!("filled {files} files ({:.1} MiB) in {:.1} s", bytes as f64 / 1048576.0, started.elapsed().as_secs_f64());
    bytes
}

fn line(what: &str, r: &migrate::Report) {
    let rows: u64 = r.tables.iter().map(|t| t.copied + t.already).sum();
    println!(
        "{what:<34} {:>7.1} s  {:>8.1} files/s  {:>7.1} MiB/s  {:>9.0} rows/s  ({} files copied, {} verified, {rows} rows)",
        r.elapsed.as_secs_f64(),
        r.files_per_sec(),
        r.mib_per_sec(),
        rows as f64 / r.elapsed.as_secs_f64(),
        r.files_copied,
        r.files_verified
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (messages, files) = (args.first().copied().unwrap_or(10_000), args.get(1).copied().unwrap_or(1_000));
    let work = tempfile::tempdir().unwrap();
    let src_dir = work.path().join("source");
    let mut config = attache_server::Config::for_data_dir(&src_dir);
    config.demo = true;
    let server = attache_server::Server::start(config).await.unwrap();
    fill(&server.url(), work.path(), messages, files).await;
    server.stop().await.unwrap();

    let from = Endpoint { data_dir: Some(src_dir), ..Default::default() };
    let options = migrate::Options::default();
    println!("migration of {messages} messages and {files} files ({} contacts):", CONTACTS);
    let to = Endpoint { data_dir: Some(work.path().join("sqlite-copy")), ..Default::default() };
    line("SQLite + folder -> SQLite + folder", &migrate::run(&from, &to, &options).await.unwrap());
    line("  again (all verified)", &migrate::run(&from, &to, &options).await.unwrap());
    if let (Ok(db), Ok(store)) = (std::env::var("ATTACHE_BENCH_POSTGRES"), std::env::var("STORE_URL")) {
        let to = Endpoint {
            data_dir: None,
            database_url: Some(db),
            store_url: Some(store),
            secret_file: Some(work.path().join("secret.hex")),
        };
        line("SQLite + folder -> PostgreSQL + S3", &migrate::run(&from, &to, &options).await.unwrap());
        line("  again (all verified)", &migrate::run(&from, &to, &options).await.unwrap());
        let back = Endpoint { data_dir: Some(work.path().join("back")), ..Default::default() };
        line("PostgreSQL + S3 -> SQLite + folder", &migrate::run(&to, &back, &options).await.unwrap());
    }
}
