//! Memory under hostile bursts: starts `attache demo` as its own process and prints the
//! service's peak RSS during 100 parallel wrong sign-ins and during 8 parallel oversized (60 MiB)
//! frames on consumer sockets. Nothing is asserted; run it with `scripts/load-hostile.sh`.
//!
//! `cargo run --example load_hostile -- <path to attache binary>`

mod service;

use futures_util::SinkExt;
use service::{sample_rss, status_kib};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

/// Runs `work` while sampling the service's RSS every 10 ms; prints the peak and what is left.
async fn phase<F: std::future::Future<Output = String>>(name: &str, pid: u32, work: F) {
    let (stop, sampler) = sample_rss(pid, Duration::from_millis(10));
    let start = Instant::now();
    let outcome = work.await;
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    // The hashing threads give their memory back after 5 idle seconds.
    tokio::time::sleep(Duration::from_secs(8)).await;
    println!(
        "{name:<44} {secs:>6.2} s   service peak RSS {:>6.1} MiB, 8 s later {:>6.1} MiB   ({outcome})",
        peak as f64 / 1024.0,
        status_kib(pid, "VmRSS:") as f64 / 1024.0
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).cloned().unwrap_or_else(|| "target/debug/attache".into());
    let work = tempfile::tempdir().unwrap();
    let service = service::start(&bin, &work.path().join("data")).await;
    let (pid, url) = (service.pid, service.url.clone());
    println!("service {url} (pid {pid}); idle RSS {:.1} MiB", status_kib(pid, "VmRSS:") as f64 / 1024.0);
    let http = reqwest::Client::new();

    phase("100 parallel wrong sign-ins", pid, async {
        let tries = (0..100).map(|i| {
            let body = serde_json::json!({"account": "acme", "username": format!("user{i}"), "password": "wrong"});
            http.post(format!("{url}/api/login")).json(&body).send()
        });
        let mut counts = std::collections::BTreeMap::new();
        for r in futures_util::future::join_all(tries).await {
            *counts.entry(r.map(|r| r.status().as_u16()).unwrap_or(0)).or_insert(0) += 1;
        }
        format!("statuses {counts:?}")
    })
    .await;

    phase("8 parallel 60 MiB frames on consumer sockets", pid, async {
        let frame: Arc<str> = "x".repeat(60 << 20).into();
        let tries = (0..8).map(|_| {
            let (http, url, frame) = (http.clone(), url.clone(), frame.clone());
            async move {
                let r = http.post(format!("{url}/api/account/acme/signup")).send().await.unwrap();
                let jwt = r.json::<serde_json::Value>().await.unwrap()["jwt"].as_str().unwrap().to_owned();
                let ws_url = format!("{}/ws_api/account/acme/messaging/consumer?v=3", url.replace("http", "ws"));
                let mut req = ws_url.into_client_request().unwrap();
                req.headers_mut().insert("authorization", format!("jwt {jwt}").parse().unwrap());
                let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
                let _ = ws.send(Ws::Text(frame.as_ref().into())).await;
                use futures_util::StreamExt;
                match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                    Ok(Some(Ok(Ws::Close(Some(f))))) => u16::from(f.code),
                    _ => 0,
                }
            }
        });
        let codes = futures_util::future::join_all(tries).await;
        format!("close codes {codes:?}")
    })
    .await;

    println!("service VmHWM (lifetime peak RSS): {:.1} MiB", status_kib(pid, "VmHWM:") as f64 / 1024.0);
}
