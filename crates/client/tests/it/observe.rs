//! What operators see: `/metrics` moving during an upload and a download (bytes in, uploads in
//! flight, verdicts, finish latency, downloads and bytes by credential, sockets, events), the
//! bearer token in front of it, `/healthz`, and `/readyz` turning 503 when the database goes.

use crate::common::{self, TestServer};
use crate::support::*;
use attache_client::*;
use futures_util::StreamExt;
use std::time::Duration;

const TOKEN: &str = "metrics-token-for-the-test";

async fn scrape(ts: &TestServer) -> String {
    let r = http().get(format!("{}/metrics", ts.url)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The value of one sample (`name` with its labels, as printed), 0 when absent.
fn value(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_during_an_upload_and_a_download() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.metrics_token = Some(TOKEN.into());
    let ts = TestServer::start_with(dir, config).await;
    assert_eq!(http().get(format!("{}/healthz", ts.url)).send().await.unwrap().status(), 200);
    let r = http().get(format!("{}/readyz", ts.url)).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, "ready\n".to_owned()));
    let anon = http().get(format!("{}/metrics", ts.url)).send().await.unwrap();
    assert_eq!(anon.status(), 401, "/metrics wants its token");
    let wrong = http().get(format!("{}/metrics", ts.url)).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let mut events = alice.events().await.unwrap();
    let before = scrape(&ts).await;
    assert_eq!(value(&before, "attache_sockets_open{kind=\"staff\"}"), 1.0, "the agent's socket");

    // An upload whose body pauses after its first 64 KiB: scraped while it waits.
    let data = noise(300_000, 7);
    let who = Who::visitor(&visitor);
    let r = tus_create(&ts, &who, &data.len().to_string(), &[("contact", contact.id.as_str()), ("filename", "a.bin")])
        .await;
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (head, tail) = (bytes::Bytes::copy_from_slice(&data[..65_536]), bytes::Bytes::copy_from_slice(&data[65_536..]));
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(
        futures_util::stream::once(async move {
            let _ = wait.await;
            Ok(tail)
        }),
    );
    let patch = {
        let (url, who) = (format!("{}{loc}", ts.url), who.clone());
        tokio::spawn(async move {
            who.apply(http().patch(url))
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", "0")
                .header("Content-Type", "application/offset+octet-stream")
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let mut during = String::new();
    for _ in 0..100 {
        during = scrape(&ts).await;
        if value(&during, "attache_upload_bytes_received_total") >= 65_536.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(value(&during, "attache_uploads_in_flight"), 1.0, "one upload receiving");
    assert!(value(&during, "attache_upload_bytes_received_total") >= 65_536.0, "the first bytes counted");
    go.send(()).unwrap();
    assert_eq!(patch.await.unwrap(), 204);
    let m = ready(&mut events).await;
    let after = scrape(&ts).await;
    assert_eq!(value(&after, "attache_uploads_in_flight"), 0.0);
    assert_eq!(value(&after, "attache_upload_bytes_received_total"), 300_000.0);
    assert_eq!(value(&after, "attache_check_verdicts_total{verdict=\"clean\"}"), 1.0);
    assert_eq!(value(&after, "attache_upload_finish_seconds_count"), 1.0);
    assert!(value(&after, "attache_events_sent_total") > value(&before, "attache_events_sent_total"));
    assert!(value(&after, "attache_event_delay_seconds_count{kind=\"staff\"}") >= 1.0);

    // A download by the link alone, scraped after its first chunk, then after its end.
    let url = m.attachment.unwrap().url;
    let mut resp = http().get(format!("{}{url}", ts.url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let first = resp.chunk().await.unwrap().unwrap();
    let during = scrape(&ts).await;
    assert_eq!(value(&during, "attache_downloads_total{grant=\"link\"}"), 1.0);
    let sent = value(&during, "attache_download_bytes_total{grant=\"link\"}");
    assert!(sent >= first.len() as f64 && sent <= 300_000.0, "{sent}");
    while resp.chunk().await.unwrap().is_some() {}
    let after = scrape(&ts).await;
    assert_eq!(value(&after, "attache_download_bytes_total{grant=\"link\"}"), 300_000.0);
    assert!(after.contains("attache_db_pool_connections{state=\"idle\"}"));
    drop(events);

    // The database gone: not ready, and the reason says so.
    ts.server().state().db.close().await;
    let r = http().get(format!("{}/readyz", ts.url)).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("database"));
}

#[tokio::test]
async fn login_throttles_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.metrics_token = Some(TOKEN.into());
    let ts = TestServer::start_with(dir, config).await;
    for _ in 0..7 {
        let _ = StaffClient::login(&ts.url, "acme", "bob", "wrong-password").await;
    }
    assert!(value(&scrape(&ts).await, "attache_login_throttled_total") >= 1.0);
}

#[tokio::test]
async fn doctor_says_ok_or_the_fix_for_each_check() {
    use attache_server::ops::doctor::{doctor, Status};
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(&dir);
    let ts = TestServer::start_with(dir, config.clone()).await;
    // A file, so that the database knows which secret its URLs were made with.
    let alice = ts.login("alice").await;
    let (_visitor, contact) = active_contact(&ts, &alice).await;
    let path = write(ts.dir.path(), "a.txt", b"hello");
    alice.upload_file(&contact.id, &path, &UploadOptions::default()).await.unwrap();
    let status_of = |checks: &[attache_server::ops::doctor::Check], what: &str| {
        checks.iter().find(|c| c.what == what).unwrap_or_else(|| panic!("no {what} line")).status
    };

    // The running service's own configuration: all fine, but its port is taken (by itself).
    let mut same = config.clone();
    same.listen = ts.server().addr();
    let checks = doctor(&same).await;
    for c in &checks {
        println!("{c}");
    }
    for what in ["database", "store", "secret", "scanner"] {
        assert_eq!(status_of(&checks, what), Status::Ok, "{what}: {checks:?}");
    }
    let listen = checks.iter().find(|c| c.what == "listen").unwrap();
    assert_eq!(listen.status, Status::Fix);
    assert!(listen.words.contains("--listen"), "{}", listen.words);
    assert_eq!(status_of(&doctor(&config).await, "listen"), Status::Ok, "a free port (0 picks one)");

    // Another secret, a scanner that does not answer, a database that is not there.
    let mut wrong = config.clone();
    wrong.files.secrets.current_hex = Some("5a".repeat(64));
    wrong.files.scanner = Some(attache_server::scan::Scanner::Clamd("tcp:127.0.0.1:1".parse().unwrap()));
    let checks = doctor(&wrong).await;
    let secret = checks.iter().find(|c| c.what == "secret").unwrap();
    assert_eq!(secret.status, Status::Fix);
    assert!(secret.words.contains("every existing URL would break"), "{}", secret.words);
    let scanner = checks.iter().find(|c| c.what == "scanner").unwrap();
    assert_eq!(scanner.status, Status::Fix);
    assert!(scanner.words.contains("clamd"), "{}", scanner.words);
    let mut gone = config.clone();
    gone.database_url = Some("postgres://nobody:nothing@127.0.0.1:1/none".into());
    let db = doctor(&gone).await.into_iter().find(|c| c.what == "database").unwrap();
    assert_eq!(db.status, Status::Fix);
    assert!(db.words.contains("is it running"), "{}", db.words);
}
