//! The bench client of `scripts/bench.sh`: tus uploads against Attaché or a peer tus server, the
//! loopback baseline, downloads against nginx, and the delivery delay of live events to many staff
//! sockets. Prints figures (one `RESULT` line per measurement, tab-separated, for the script);
//! asserts nothing. Each measurement also prints the CPU time this client took (getrusage) and,
//! given `--pid`, the service's CPU time and peak RSS.
//!
//! ```text
//! tusbench upload   --kind attache|tusd-node|rustus --url BASE --shape A|B|C|D [--pid PID]
//! tusbench sink     --shape A|B|C|D --dir DIR [--fsync | --floor]
//! tusbench download --url ATTACHE --nginx NGINX --dir NGINX_ROOT [--pid PID] [--runs N]
//! tusbench fanout   --url ATTACHE --sockets N [--events N] [--pid PID]
//! ```
//!
//! Shapes: A 200 x 1 MiB, one PATCH each, 8 clients; B 40 x 25 MiB in 5 MiB PATCHes, 4 clients;
//! C 1000 x 64 KiB by creation-with-upload, 16 clients; D 64 x 30 MiB in one PATCH each, 32 clients
//! (memory under 32 concurrent 30 MiB uploads). `--scale F` multiplies the file counts.

use attache_client::*;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "demo-password";
const MIB: f64 = 1048576.0;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

/// This process's user + system CPU seconds.
fn own_cpu() -> f64 {
    // SAFETY: getrusage writes into the struct we hand it and nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Another process's user + system CPU seconds, from /proc.
fn proc_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Watches a service process during one measurement: CPU time and peak RSS (VmHWM, reset at the
/// start through clear_refs, and VmRSS sampled every 10 ms in case the reset is not allowed).
struct Watch {
    pid: Option<u32>,
    cpu0: f64,
    own0: f64,
    start: Instant,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    hwm_reset: bool,
}

impl Watch {
    fn start(pid: Option<u32>) -> Watch {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut hwm_reset = false;
        if let Some(pid) = pid {
            hwm_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(10));
                }
            });
        }
        Watch {
            pid,
            cpu0: pid.map(proc_cpu).unwrap_or(0.0),
            own0: own_cpu(),
            start: Instant::now(),
            peak,
            stop,
            hwm_reset,
        }
    }

    /// (wall seconds, client CPU seconds, service CPU seconds, service peak RSS MiB)
    fn finish(self) -> (f64, f64, f64, f64) {
        let secs = self.start.elapsed().as_secs_f64();
        let own = own_cpu() - self.own0;
        self.stop.store(true, Ordering::Relaxed);
        let Some(pid) = self.pid else { return (secs, own, 0.0, 0.0) };
        let mut peak = self.peak.load(Ordering::Relaxed).max(status_kib(pid, "VmRSS:"));
        if self.hwm_reset {
            peak = peak.max(status_kib(pid, "VmHWM:"));
        }
        (secs, own, proc_cpu(pid) - self.cpu0, peak as f64 / 1024.0)
    }
}

#[derive(Clone, Copy)]
struct Shape {
    count: usize,
    size: usize,
    chunk: usize,
    clients: usize,
    with_upload: bool,
}

fn shape(name: &str, scale: f64) -> Shape {
    let n = |c: usize| ((c as f64 * scale).round() as usize).max(1);
    match name {
        "A" => Shape { count: n(200), size: 1 << 20, chunk: 1 << 20, clients: 8, with_upload: false },
        "B" => Shape { count: n(40), size: 25 << 20, chunk: 5 << 20, clients: 4, with_upload: false },
        "C" => Shape { count: n(1000), size: 64 << 10, chunk: 64 << 10, clients: 16, with_upload: true },
        // Memory: 32 uploads of 30 MiB at once, each in one PATCH.
        "D" => Shape { count: n(64), size: 30 << 20, chunk: 30 << 20, clients: 32, with_upload: false },
        other => panic!("unknown shape {other}: A, B, C or D"),
    }
}

/// Incompressible bytes, made once and kept for the life of the process, so that request bodies
/// are borrowed slices and never copied.
fn noise(n: usize, seed: u64) -> &'static [u8] {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    let mut v = vec![0u8; n];
    for chunk in v.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    Box::leak(v.into_boxed_slice())
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn http(clients: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(clients.max(1) * 2)
        .tcp_nodelay(true)
        .http1_only()
        .build()
        .unwrap()
}

/// Where and as whom a tus client uploads.
struct Target {
    endpoint: url::Url,
    bearer: Option<String>,
    /// Attaché: contacts to spread the uploads over (a contact takes 16 unfinished uploads).
    contacts: Vec<String>,
}

/// Logs in as alice, raises the plan limit to 30 MiB as ada, opens `n` contacts and accepts them.
async fn attache_setup(base: &str, n: usize) -> (StaffClient, Vec<String>) {
    let (alice, _) = StaffClient::login(base, "acme", "alice", PASSWORD).await.expect("login as alice");
    let (ada, _) = StaffClient::login(base, "acme", "ada", PASSWORD).await.expect("login as ada");
    ada.update_account(&AccountPatch { max_upload_bytes: Some(30 << 20), ..Default::default() })
        .await
        .expect("raise the upload limit");
    let mut contacts = Vec::new();
    for i in 0..n {
        let v = VisitorClient::new(base).unwrap();
        let c = v
            .open_contact(&OpenContact {
                account: "acme".into(),
                name: Some(format!("bench {i}")),
                message: Some("hi".into()),
            })
            .await
            .expect("open a contact");
        alice.accept(&c.id).await.expect("accept the contact");
        contacts.push(c.id.to_string());
    }
    (alice, contacts)
}

/// One tus upload: POST (with the first chunk when `with_upload`), then PATCHes. Returns the
/// upload's URL.
async fn tus_upload(
    http: &reqwest::Client,
    t: &Target,
    i: usize,
    data: &'static [u8],
    s: Shape,
) -> Result<url::Url, String> {
    let mut meta = format!("filename {}", b64(&format!("f{i}.bin")));
    if !t.contacts.is_empty() {
        meta = format!("contact {},{meta}", b64(&t.contacts[i % t.contacts.len()]));
    }
    let auth = |r: reqwest::RequestBuilder| match &t.bearer {
        Some(b) => r.bearer_auth(b),
        None => r,
    };
    let mut req = auth(http.post(t.endpoint.clone()))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", data.len().to_string())
        .header("Upload-Metadata", meta);
    let mut offset = 0;
    if s.with_upload {
        offset = s.chunk.min(data.len());
        req = req.header("Content-Type", "application/offset+octet-stream").body(&data[..offset]);
    }
    let r = req.send().await.map_err(|e| format!("POST: {e}"))?;
    if r.status() != 201 {
        return Err(format!("POST: {} {}", r.status(), r.text().await.unwrap_or_default()));
    }
    let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("no Location")?;
    let url = t.endpoint.join(loc).map_err(|e| e.to_string())?;
    if s.with_upload {
        let got: usize = r.headers().get("upload-offset").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
        if got != offset {
            return Err(format!("creation-with-upload took {got} of {offset} bytes"));
        }
    }
    let _ = r.bytes().await;
    while offset < data.len() {
        let end = (offset + s.chunk).min(data.len());
        let r = auth(http.patch(url.clone()))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(&data[offset..end])
            .send()
            .await
            .map_err(|e| format!("PATCH: {e}"))?;
        if r.status() != 204 {
            return Err(format!("PATCH: {} {}", r.status(), r.text().await.unwrap_or_default()));
        }
        let _ = r.bytes().await;
        offset = end;
    }
    Ok(url)
}

/// Runs `count` jobs over `clients` workers; returns the number that failed.
async fn run_workers<F, Fut>(count: usize, clients: usize, job: F) -> usize
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, failed, job) = (next.clone(), failed.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                if let Err(e) = job(i).await {
                    if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!("job {i}: {e}");
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    failed.load(Ordering::Relaxed)
}

#[allow(clippy::too_many_arguments)]
fn result(kind: &str, what: &str, files: usize, bytes: u64, failed: usize, m: (f64, f64, f64, f64)) {
    let (secs, own, svc, rss) = m;
    println!(
        "RESULT\t{kind}\t{what}\tfiles_s={:.1}\tmib_s={:.1}\tsecs={:.2}\tclient_cpu_s={:.2}\tclient_cpu_pct={:.0}\tservice_cpu_s={:.2}\tpeak_rss_mib={:.1}\tfailed={failed}\tfiles={files}",
        files as f64 / secs,
        bytes as f64 / MIB / secs,
        secs,
        own,
        100.0 * own / secs,
        svc,
        rss,
    );
}

async fn upload(args: &[String]) {
    let kind = arg(args, "--kind").expect("--kind attache|tusd-node|rustus");
    let base = arg(args, "--url").expect("--url");
    let name = arg(args, "--shape").expect("--shape A|B|C|D");
    let scale: f64 = arg(args, "--scale").map(|s| s.parse().unwrap()).unwrap_or(1.0);
    let pid = arg(args, "--pid").map(|p| p.parse().unwrap());
    let s = shape(&name, scale);
    let base = base.trim_end_matches('/').to_owned();
    let target = if kind == "attache" {
        let (alice, contacts) = attache_setup(&base, 8).await;
        Target {
            endpoint: format!("{base}/api/uploads").parse().unwrap(),
            bearer: Some(alice.token().to_owned()),
            contacts,
        }
    } else {
        Target { endpoint: format!("{base}/files").parse().unwrap(), bearer: None, contacts: vec![] }
    };
    let data = noise(s.size, s.size as u64);
    let http = http(s.clients);
    // One request first, so that connection setup and lazy initialisation stay out of the figures.
    tus_upload(&http, &target, usize::MAX / 2, data, s).await.expect("warm-up upload");
    let target = Arc::new(target);
    let watch = Watch::start(pid);
    let failed = run_workers(s.count, s.clients, move |i| {
        let (http, target) = (http.clone(), target.clone());
        async move { tus_upload(&http, &target, i, data, s).await.map(|_| ()) }
    })
    .await;
    let m = watch.finish();
    result(&kind, &name, s.count - failed, (s.count - failed) as u64 * s.size as u64, failed, m);
}

/// The loopback baseline for a shape: the same files over plain TCP into files, one connection per
/// client, one byte of acknowledgement per file (after fdatasync with `--fsync`). No HTTP, no tus.
/// `--floor`: what any server keeping Attaché's guarantees must do per file at the least, and
/// nothing else: the SHA-256 of every byte as it arrives, fdatasync, then the file moved to its
/// place and that folder synced, before the acknowledgement.
fn sink(args: &[String]) {
    use sha2::Digest;
    let name = arg(args, "--shape").expect("--shape A|B|C|D");
    let scale: f64 = arg(args, "--scale").map(|s| s.parse().unwrap()).unwrap_or(1.0);
    let dir = PathBuf::from(arg(args, "--dir").expect("--dir"));
    let floor = flag(args, "--floor");
    let fsync = floor || flag(args, "--fsync");
    // `--keep`: the files stay (the caller removes the folder later); else they go once the run
    // is measured. Never during it: on ext4 without a journal a freed inode is skipped by the
    // allocator for a minute or more, and every file made meanwhile pays for scanning past it.
    let keep = flag(args, "--keep");
    let written = Arc::new(std::sync::Mutex::new(Vec::new()));
    // Unique across invocations, so that kept files are never overwritten by a later run.
    let prefix = format!("sink-{}", std::process::id());
    let placed = dir.join("placed");
    std::fs::create_dir_all(&placed).unwrap();
    let s = shape(&name, scale);
    let data = noise(s.size, 7);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serial = Arc::new(AtomicUsize::new(0));
    let size = s.size;
    {
        let (dir, serial, written) = (dir.clone(), serial.clone(), written.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let (dir, serial, placed, written) = (dir.clone(), serial.clone(), placed.clone(), written.clone());
                let prefix = prefix.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 256 << 10];
                    loop {
                        let serial = serial.fetch_add(1, Ordering::Relaxed);
                        let path = dir.join(format!("{prefix}-{serial}"));
                        let mut left = size;
                        let mut file = None;
                        let mut hash = sha2::Sha256::new();
                        while left > 0 {
                            let n = match conn.read(&mut buf[..left.min(256 << 10)]) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if floor {
                                hash.update(&buf[..n]);
                            }
                            let f = file.get_or_insert_with(|| std::fs::File::create(&path).unwrap());
                            f.write_all(&buf[..n]).unwrap();
                            left -= n;
                        }
                        let f = file.unwrap();
                        if fsync {
                            f.sync_data().unwrap();
                        }
                        drop(f);
                        let path = if floor {
                            std::hint::black_box(hash.finalize());
                            let to = placed.join(format!("{prefix}-{serial}"));
                            std::fs::rename(&path, &to).unwrap();
                            std::fs::File::open(&placed).unwrap().sync_all().unwrap();
                            to
                        } else {
                            path
                        };
                        written.lock().unwrap().push(path);
                        if conn.write_all(b"k").is_err() {
                            return;
                        }
                    }
                });
            }
        });
    }
    let watch = Watch::start(None);
    let next = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..s.clients)
        .map(|_| {
            let next = next.clone();
            std::thread::spawn(move || {
                let mut conn = std::net::TcpStream::connect(addr).unwrap();
                conn.set_nodelay(true).unwrap();
                let mut ack = [0u8; 1];
                while next.fetch_add(1, Ordering::Relaxed) < s.count {
                    conn.write_all(data).unwrap();
                    conn.read_exact(&mut ack).unwrap();
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    // Client and sink share this process: its CPU time is both.
    let m = watch.finish();
    let kind = match (floor, fsync) {
        (true, _) => "tcp-sink+floor",
        (false, true) => "tcp-sink+fdatasync",
        (false, false) => "tcp-sink",
    };
    result(kind, &name, s.count, s.count as u64 * s.size as u64, 0, m);
    if !keep {
        for path in written.lock().unwrap().drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Uploads a file to Attaché and returns its download URL (from the upload's message).
async fn attache_file(
    http: &reqwest::Client,
    base: &str,
    alice: &StaffClient,
    contact: &str,
    data: &'static [u8],
) -> url::Url {
    let t = Target {
        endpoint: format!("{base}/api/uploads").parse().unwrap(),
        bearer: Some(alice.token().to_owned()),
        contacts: vec![contact.to_owned()],
    };
    let s = Shape { count: 1, size: data.len(), chunk: 8 << 20, clients: 1, with_upload: false };
    let upload = tus_upload(http, &t, 0, data, s).await.expect("upload for the download bench");
    let status: serde_json::Value =
        http.get(upload).bearer_auth(alice.token()).send().await.unwrap().json().await.unwrap();
    let url =
        status["message"]["attachment"]["url"].as_str().unwrap_or_else(|| panic!("no attachment url in {status}"));
    t.endpoint.join(url).unwrap()
}

async fn download(args: &[String]) {
    let base = arg(args, "--url").expect("--url").trim_end_matches('/').to_owned();
    let nginx = arg(args, "--nginx").expect("--nginx").trim_end_matches('/').to_owned();
    let dir = PathBuf::from(arg(args, "--dir").expect("--dir"));
    let pid = arg(args, "--pid").map(|p| p.parse().unwrap());
    let runs: usize = arg(args, "--runs").map(|s| s.parse().unwrap()).unwrap_or(3);
    let scale: f64 = arg(args, "--scale").map(|s| s.parse().unwrap()).unwrap_or(1.0);
    let (alice, contacts) = attache_setup(&base, 1).await;
    let token = alice.token().to_owned();
    let http = http(16);
    let files = [("25MiB", noise(25 << 20, 25), 4usize, 40usize), ("64KiB", noise(64 << 10, 64), 16, 1000)];
    // `--only 64KiB`: one of the two files (a profile of one kind of download).
    let only = arg(args, "--only");
    for (label, data, clients, count) in files {
        if only.as_deref().is_some_and(|o| o != label) {
            continue;
        }
        std::fs::write(dir.join(format!("{label}.bin")), data).unwrap();
        let a_url = attache_file(&http, &base, &alice, &contacts[0], data).await;
        let n_url: url::Url = format!("{nginx}/{label}.bin").parse().unwrap();
        let count = ((count as f64 * scale).round() as usize).max(1);
        for _ in 0..runs {
            for (kind, url, bearer, watched) in
                [("attache", &a_url, Some(token.clone()), pid), ("nginx", &n_url, None, None)]
            {
                let (http, url) = (http.clone(), url.clone());
                let watch = Watch::start(watched);
                let bytes = Arc::new(AtomicU64::new(0));
                let total = bytes.clone();
                let failed = run_workers(count, clients, move |_| {
                    let (http, url, bearer, bytes) = (http.clone(), url.clone(), bearer.clone(), bytes.clone());
                    async move {
                        let mut req = http.get(url);
                        if let Some(b) = bearer {
                            req = req.bearer_auth(b);
                        }
                        let mut r = req.send().await.map_err(|e| e.to_string())?;
                        if r.status() != 200 {
                            return Err(format!("GET: {}", r.status()));
                        }
                        let mut n = 0;
                        while let Some(chunk) = r.chunk().await.map_err(|e| e.to_string())? {
                            n += chunk.len() as u64;
                        }
                        if n != data.len() as u64 {
                            return Err(format!("got {n} of {} bytes", data.len()));
                        }
                        bytes.fetch_add(n, Ordering::Relaxed);
                        Ok(())
                    }
                })
                .await;
                let m = watch.finish();
                result(
                    kind,
                    &format!("GET {label} x{count} c{clients}"),
                    count - failed,
                    total.load(Ordering::Relaxed),
                    failed,
                    m,
                );
            }
        }
    }
}

/// Opens N staff sockets as alice, then opens contacts as visitors one at a time and measures,
/// per socket, the time from the visitor's POST to the socket's `contact_queued`.
async fn fanout(args: &[String]) {
    let base = arg(args, "--url").expect("--url").trim_end_matches('/').to_owned();
    let n: usize = arg(args, "--sockets").expect("--sockets").parse().unwrap();
    let events: usize = arg(args, "--events").map(|s| s.parse().unwrap()).unwrap_or(20);
    let pid: Option<u32> = arg(args, "--pid").map(|p| p.parse().unwrap());
    let rss = || pid.map(|p| status_kib(p, "VmRSS:") as f64 / 1024.0).unwrap_or(0.0);
    let (alice, _) = StaffClient::login(&base, "acme", "alice", PASSWORD).await.expect("login as alice");
    let rss0 = rss();
    // (contact id, receipt time) from every socket, to one collector: no lock shared by the sockets.
    let (got, mut receipts) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let connected = Arc::new(AtomicUsize::new(0));
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let t0 = Instant::now();
    let own0 = own_cpu();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (alice, got, connected, sem) = (alice.clone(), got.clone(), connected.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let permit = sem.acquire_owned().await.unwrap();
            let mut stream = match alice.events().await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("socket: {e}");
                    return;
                }
            };
            drop(permit);
            connected.fetch_add(1, Ordering::Relaxed);
            while let Some(Ok(ev)) = stream.next_event().await {
                if let Event::ContactQueued { contact } = ev {
                    let _ = got.send((contact.id.to_string(), Instant::now()));
                }
            }
        }));
    }
    while connected.load(Ordering::Relaxed) < n && t0.elapsed() < Duration::from_secs(120) {
        if tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let up = connected.load(Ordering::Relaxed);
    let connect_secs = t0.elapsed().as_secs_f64();
    let rss1 = rss();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let own1 = own_cpu();
    let mut watch = None;
    let mut delays = Vec::new();
    let mut missing = 0;
    // Event 0 warms up (the first contact of the run, lazy initialisation) and is not counted.
    for i in 0..=events {
        if i == 1 {
            watch = Some(Watch::start(pid));
        }
        let v = VisitorClient::new(&base).unwrap();
        let sent = Instant::now();
        let c = v
            .open_contact(&OpenContact {
                account: "acme".into(),
                name: Some(format!("fanout {i}")),
                message: Some("hi".into()),
            })
            .await
            .expect("open a contact");
        let id = c.id.to_string();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut have = 0;
        let mut worst: f64 = 0.0;
        while have < up {
            match tokio::time::timeout_at(deadline, receipts.recv()).await {
                Ok(Some((of, at))) if of == id => {
                    have += 1;
                    let ms = at.duration_since(sent).as_secs_f64() * 1000.0;
                    worst = worst.max(ms);
                    if i > 0 {
                        delays.push(ms);
                    }
                }
                // A late receipt of an earlier event (already counted as missing).
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        if i > 0 {
            missing += up - have;
        }
        eprintln!("fanout {n}: event {i}: {have} of {up} sockets, the last after {worst:.1} ms");
    }
    let m = watch.expect("at least one event").finish();
    delays.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |p: f64| delays.get(((delays.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN);
    println!(
        "RESULT\tattache\tfanout {n}\tsockets_up={up}\tconnect_s={connect_secs:.1}\tp50_ms={:.1}\tp99_ms={:.1}\tmax_ms={:.1}\tmissing={missing}\tevents={events}\trss_before_mib={rss0:.1}\trss_sockets_mib={rss1:.1}\tpeak_rss_mib={:.1}\tclient_cpu_connect_s={:.2}\tclient_cpu_events_s={:.2}\tservice_cpu_events_s={:.2}",
        q(0.5),
        q(0.99),
        q(1.0),
        m.3,
        own1 - own0,
        m.1,
        m.2,
    );
    for t in tasks {
        t.abort();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    match args.get(1).map(String::as_str) {
        Some("upload") => rt.block_on(upload(&args)),
        Some("sink") => sink(&args),
        Some("download") => rt.block_on(download(&args)),
        Some("fanout") => rt.block_on(fanout(&args)),
        _ => {
            eprintln!("usage: tusbench upload|sink|download|fanout ... (see the top of examples/tusbench.rs)");
            std::process::exit(2);
        }
    }
}
