//! Starts the real service on an ephemeral loopback port with a temporary data folder.
#![allow(dead_code)]

use attache_client::{Event, EventStream, StaffClient};
use attache_server::{Config, Server};
use std::time::Duration;
use tempfile::TempDir;

pub const PASSWORD: &str = attache_server::demo::PASSWORD;

pub struct TestServer {
    pub server: Option<Server>,
    pub dir: TempDir,
    pub url: String,
    pub config: Config,
}

impl TestServer {
    /// The service with the demo account, sweeping expired reports every 100 ms.
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config(&dir);
        Self::start_with(dir, config).await
    }

    /// The service with a configuration of the test's own (see [`config`]) on `dir`.
    pub async fn start_with(dir: TempDir, config: Config) -> TestServer {
        let server = Server::start(config.clone()).await.expect("service starts");
        let url = server.url();
        TestServer { server: Some(server), dir, url, config }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("running")
    }

    pub async fn login(&self, user: &str) -> StaffClient {
        StaffClient::login(&self.url, "acme", user, PASSWORD).await.expect("demo login").0
    }

    /// Stops and starts the service again on the same data folder (a new port).
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.expect("service stops");
        }
        let server = Server::start(self.config.clone()).await.expect("service restarts");
        self.url = server.url();
        self.server = Some(server);
    }
}

pub fn config(dir: &TempDir) -> Config {
    let mut c = Config::for_data_dir(dir.path());
    // Instances of one deployment share their secret (PostgreSQL and S3 require one).
    c.files.secrets.current_hex = Some("7e".repeat(64));
    c.demo = true;
    c.retention_interval = Duration::from_millis(100);
    c.database_url = fresh_postgres_database();
    // With `ATTACHE_TEST_S3=s3://bucket/prefix` (and the AWS_* variables) files go to an
    // S3-compatible store, under a prefix of the test's own.
    c.files.store_url = std::env::var("ATTACHE_TEST_S3")
        .ok()
        .map(|u| format!("{}/{}", u.trim_end_matches('/'), attache_server::db::new_id()));
    c
}

/// With `ATTACHE_TEST_POSTGRES=postgres://user:pw@host` the same tests run on PostgreSQL, each in
/// a database of its own (made with `createdb`).
pub fn fresh_postgres_database() -> Option<String> {
    let base = std::env::var("ATTACHE_TEST_POSTGRES").ok()?;
    let name = format!("attache_test_{}", attache_server::db::new_id());
    let status = std::process::Command::new("createdb")
        .arg("--maintenance-db")
        .arg(format!("{}/postgres", base.trim_end_matches('/')))
        .arg(&name)
        .status()
        .expect("createdb runs");
    assert!(status.success(), "createdb {name}");
    Some(format!("{}/{name}", base.trim_end_matches('/')))
}

/// The next event, failing the test after five seconds of silence.
pub async fn next(events: &mut EventStream) -> Event {
    tokio::time::timeout(Duration::from_secs(5), events.next_event())
        .await
        .expect("an event within 5 s")
        .expect("stream open")
        .expect("event decodes")
}

/// Asserts nothing arrives for a short while.
pub async fn silent(events: &mut EventStream) {
    if let Ok(e) = tokio::time::timeout(Duration::from_millis(300), events.next_event()).await {
        panic!("expected no event, got {e:?}");
    }
}

/// Asserts the service closes the stream (within five seconds) without sending anything else.
pub async fn closed(events: &mut EventStream) {
    match tokio::time::timeout(Duration::from_secs(5), events.next_event()).await {
        Ok(None) => {}
        Ok(Some(other)) => panic!("expected the stream to close, got {other:?}"),
        Err(_) => panic!("the stream stayed open"),
    }
}

/// A second account, `globex`, made the way an operator would (straight in the service's
/// database), with an admin `gina` who has the reports permission; returns her session.
pub async fn other_account(ts: &TestServer) -> StaffClient {
    use attache_client::{Plan, Role};
    use attache_server::repo;
    let db = &ts.server().state().db;
    let plan = Plan {
        max_upload_bytes: 5 << 20,
        file_sharing_enabled: true,
        report_retention_days: 30,
        allowed_types: vec![],
        keep_metadata: false,
        file_retention_days: 0,
        reports_may_redact: false,
    };
    let account = repo::account::create(db, "globex", &plan).await.unwrap();
    let hash = attache_server::auth::hash_password(PASSWORD.to_owned()).await.unwrap();
    repo::user::create(
        db,
        repo::user::NewUserRecord {
            account_id: &account.id,
            username: "gina",
            display_name: "Gina Admin",
            password_hash: &hash,
            role: Role::Admin,
            reports: true,
            supervisor_id: None,
        },
    )
    .await
    .unwrap();
    StaffClient::login(&ts.url, "globex", "gina", PASSWORD).await.unwrap().0
}
