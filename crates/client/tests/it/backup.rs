//! `attache backup` while the service runs and writes, and `attache restore` into a new folder:
//! the service started on the restored copy shows every file URL, report and transcript as
//! before, to the same sessions.

use crate::common::TestServer;
use crate::deployment::{fill, seen, shows_the_same};
use attache_server::ops::{backup, migrate, Endpoint};
use attache_server::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_the_service_runs_restores_with_every_url() {
    let src_dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_data_dir(src_dir.path());
    config.demo = true;
    let ts = TestServer::start_with(src_dir, config).await;
    let (visitors, _half) = fill(&ts).await;
    let before = seen(&ts, &visitors).await;
    let live = Endpoint { data_dir: Some(ts.dir.path().to_path_buf()), ..Default::default() };

    // The service keeps writing while the backup is taken (sign-ins write sessions; they show
    // in no report, so what the users saw stays comparable).
    let writer = {
        let url = ts.url.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                attache_client::StaffClient::login(&url, "acme", "bob", crate::common::PASSWORD).await.unwrap();
            }
        })
    };
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("backup");
    let report = backup::backup(&live, &dir, None).await.unwrap();
    println!("{report}");
    writer.await.unwrap();
    assert_eq!(report.files_copied, 6, "every file and preview: {report}");
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(dir.join("secret.key").exists() && dir.join("attache.db").exists());
    let again = backup::backup(&live, &dir, None).await.unwrap_err();
    assert!(format!("{again:#}").contains("not empty"), "{again:#}");
    drop(ts);

    // Restored into a new folder, the service starts on it and shows what it showed.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = Endpoint { data_dir: Some(restored_dir.path().join("data")), ..Default::default() };
    let report = backup::restore(&dir, &restored, None).await.unwrap();
    assert_eq!(report.files_copied, 6);
    let from_backup = Endpoint { data_dir: Some(dir.clone()), ..Default::default() };
    assert_eq!(migrate::check(&from_backup, &restored, &Default::default()).await.unwrap(), Vec::<String>::new());
    let ts = TestServer::start_with(restored_dir, Config::for_data_dir(restored.data_dir.clone().unwrap())).await;
    shows_the_same(&ts.url, &before).await;
}

#[tokio::test]
async fn backup_refuses_postgresql_and_names_its_tools() {
    let live = Endpoint { database_url: Some("postgres://nobody@127.0.0.1:1/x".into()), ..Default::default() };
    let out = tempfile::tempdir().unwrap();
    let e = backup::backup(&live, &out.path().join("b"), None).await.unwrap_err();
    assert!(format!("{e:#}").contains("pg_dump"), "{e:#}");
}
