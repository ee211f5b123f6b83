//! `attache migrate`: a deployment filled through the API on the embedded default moves to
//! PostgreSQL + S3 when `ATTACHE_TEST_POSTGRES` / `ATTACHE_TEST_S3` are set (scripts/test.sh runs
//! it so, against moto), to a new SQLite folder otherwise; an interrupted run is finished by
//! running it again; the service started on the target shows every old URL, report and
//! transcript to the same sessions; and the way back lands the same.

use crate::common::{self, TestServer};
use crate::deployment::{self, fill, seen, shows_the_same};
use attache_server::ops::{migrate, Endpoint, Progress};
use attache_server::Config;
use std::sync::Arc;

/// The target the environment names: PostgreSQL and/or S3, or a plain data folder.
fn target(dir: &std::path::Path) -> Endpoint {
    let shared = std::env::var("ATTACHE_TEST_POSTGRES").is_ok() || std::env::var("ATTACHE_TEST_S3").is_ok();
    Endpoint {
        data_dir: Some(dir.to_path_buf()),
        database_url: common::fresh_postgres_database(),
        store_url: std::env::var("ATTACHE_TEST_S3")
            .ok()
            .map(|u| format!("{}/{}", u.trim_end_matches('/'), attache_server::db::new_id())),
        secret_file: shared.then(|| dir.join("attache-secret.hex")),
    }
}

/// The service's configuration for an endpoint.
fn config_of(e: &Endpoint) -> Config {
    let mut c = Config::for_data_dir(e.data_dir.clone().unwrap());
    c.database_url = e.database_url.clone();
    c.files.store_url = e.store_url.clone();
    c.files.secrets.current_file = e.secret_file.clone();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_moves_to_another_database_and_store_and_keeps_every_url() {
    // The embedded default: SQLite, a folder, and the secret it made for itself.
    let src_dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(src_dir.path());
    config.demo = true;
    let mut src = TestServer::start_with(src_dir, config).await;
    let (visitors, half) = fill(&src).await;
    let before = seen(&src, &visitors).await;
    let from = Endpoint { data_dir: Some(src.dir.path().to_path_buf()), ..Default::default() };
    src.server.take().unwrap().stop().await.unwrap();

    // Interrupted once the contacts are in, as a killed process: the run dies in its progress
    // report of the contacts, before the messages are read. (Aborting the task there instead
    // took effect only at the run's next await that yielded, which a loaded machine can delay
    // past the messages.)
    let dst_dir = tempfile::tempdir().unwrap();
    let to = target(dst_dir.path());
    let options = migrate::Options {
        without_sessions: false,
        progress: Some(Arc::new(move |p: &Progress| {
            if p.stage == "contacts" {
                panic!("the migration is killed once the contacts are in (expected by this test)");
            }
        })),
    };
    let run = tokio::spawn({
        let (from, to, options) = (from.clone(), to.clone(), options.clone());
        async move { migrate::run(&from, &to, &options).await }
    });
    assert!(run.await.unwrap_err().is_panic(), "the first run was cut off");
    let diffs = migrate::check(&from, &to, &migrate::Options::default()).await.unwrap();
    assert!(diffs.iter().any(|d| d.starts_with("messages")), "--check sees what is missing: {diffs:?}");

    // Run again: what is there is skipped (files by SHA-256), the rest is carried.
    let report = migrate::run(&from, &to, &migrate::Options::default()).await.unwrap();
    println!("{report}");
    let table = |n: &str| report.tables.iter().find(|t| t.name == n).unwrap().clone();
    assert_eq!(report.files_verified, 6, "every file and preview was there already, verified");
    assert_eq!(report.files_copied, 0);
    assert_eq!(table("contacts").already, 3, "contacts were in before the interruption");
    assert!(table("messages").copied > 0, "messages came with the second run");
    assert!(
        report.skipped.iter().any(|s| s.contains(&half) && s.contains("unfinished")),
        "the half-sent upload is listed as dropped: {:?}",
        report.skipped
    );
    assert_eq!(migrate::check(&from, &to, &migrate::Options::default()).await.unwrap(), Vec::<String>::new());

    // A damaged object in the target (same size, other bytes) is found by its SHA-256 and
    // copied again.
    let opened = to.open().await.unwrap();
    let a = &before.reports.1.iter().find_map(|d| d.messages.iter().find_map(|m| m.attachment.clone())).unwrap();
    let key_row = sqlx_key(&opened, a.id.as_str()).await;
    let key = attache_server::storage::StoreKey::parse(&key_row).unwrap();
    let size = opened.store.head(&key).await.unwrap();
    opened.store.delete(&key).await.unwrap();
    let junk = bytes::Bytes::from(vec![0u8; size as usize]);
    opened.store.put(&key, Box::pin(futures_util::stream::iter([Ok(junk)]))).await.unwrap();
    opened.side.db.close().await;
    let diffs = migrate::check(&from, &to, &migrate::Options::default()).await.unwrap();
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert!(diffs[0].contains("different bytes"), "{diffs:?}");
    let again = migrate::run(&from, &to, &migrate::Options::default()).await.unwrap();
    assert_eq!((again.files_copied, again.files_verified), (1, 5));
    assert!(again.tables.iter().all(|t| t.copied == 0), "no row twice");

    // The service on the target: every URL, report, transcript and session as before.
    let dst = TestServer::start_with(dst_dir, config_of(&to)).await;
    shows_the_same(&dst.url, &before).await;
    let dst_url = dst.url.clone();
    let TestServer { server, dir: dst_dir, .. } = dst;
    server.unwrap().stop().await.unwrap();

    // And back to the embedded default, in a new folder: the same again.
    let back_dir = tempfile::tempdir().unwrap();
    let back = Endpoint { data_dir: Some(back_dir.path().to_path_buf()), ..Default::default() };
    let report = migrate::run(&to, &back, &migrate::Options::default()).await.unwrap();
    assert_eq!(report.files_copied, 6);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(migrate::check(&to, &back, &migrate::Options::default()).await.unwrap(), Vec::<String>::new());
    let back_ts = TestServer::start_with(back_dir, Config::for_data_dir(back.data_dir.clone().unwrap())).await;
    assert_ne!(back_ts.url, dst_url);
    shows_the_same(&back_ts.url, &before).await;

    // The target goes on working: a new file on the active contact.
    let dst = TestServer::start_with(dst_dir, config_of(&to)).await;
    let alice = attache_client::StaffClient::from_token(&dst.url, &before.alice).unwrap();
    let file = crate::support::write(dst.dir.path(), "after.txt", b"sent after the move");
    let contact = &before.transcripts[0].1;
    let sent = alice.upload_file(contact, &file, &Default::default()).await.unwrap();
    let attache_client::UploadOutcome::Sent(m) = sent else { panic!("{sent:?}") };
    let url = m.attachment.unwrap().url;
    assert_eq!(deployment::get(&dst.url, &url, &crate::support::Who::Nobody).await.unwrap(), b"sent after the move");
}

async fn sqlx_key(opened: &attache_server::ops::Opened, attachment: &str) -> String {
    use sqlx::Row;
    sqlx::query("SELECT file_key FROM attachments WHERE id = $1")
        .bind(attachment)
        .fetch_one(&opened.side.db)
        .await
        .unwrap()
        .get(0)
}
