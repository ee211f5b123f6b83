//! What the load examples share: `attache demo` started as a process of its own, and readings of
//! its memory and CPU from `/proc`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// The service under measurement.
pub struct Service {
    /// The process, killed when this is dropped.
    _child: tokio::process::Child,
    /// Its process id.
    pub pid: u32,
    /// Its base URL.
    pub url: String,
}

/// Starts `bin demo` on a free loopback port with its data in `data`, and waits for its address.
pub async fn start(bin: &str, data: &std::path::Path) -> Service {
    let mut child = tokio::process::Command::new(bin)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("ATTACHE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the attache binary");
    let pid = child.id().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("service prints its address");
        if let Some(u) = line.strip_prefix("Attaché is listening on ") {
            break u.trim().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Service { _child: child, pid, url }
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS:`, `VmHWM:`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time the service has used so far (user + system), in milliseconds: a figure that other
/// work on a shared machine disturbs far less than the wall clock.
#[allow(dead_code)] // not every example reads it
pub fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) * 10.0
}

/// Samples the service's RSS every `every` until the flag is set; the task returns the peak in KiB.
pub fn sample_rss(pid: u32, every: Duration) -> (Arc<AtomicBool>, tokio::task::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let h = tokio::spawn(async move {
        let mut peak = 0;
        while !s.load(Ordering::Relaxed) {
            peak = peak.max(status_kib(pid, "VmRSS:"));
            tokio::time::sleep(every).await;
        }
        peak.max(status_kib(pid, "VmRSS:"))
    });
    (stop, h)
}
