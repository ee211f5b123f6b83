//! Helpers of the attachment tests: active contacts, test files, raw tus requests, a second
//! account, and what is left on disk.
#![allow(dead_code)]

use crate::common::TestServer;
use attache_client::*;
use base64::Engine;
use std::path::{Path, PathBuf};

/// Opens a contact as a new visitor and lets `agent` accept it.
pub async fn active_contact(ts: &TestServer, agent: &StaffClient) -> (VisitorClient, Contact) {
    let visitor = VisitorClient::new(&ts.url).unwrap();
    let c = visitor
        .open_contact(&OpenContact {
            account: "acme".into(),
            name: Some("Carla".into()),
            message: Some("hello".into()),
        })
        .await
        .unwrap();
    let c = agent.accept(&c.id).await.unwrap();
    (visitor, c)
}

/// A PNG with some texture.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 5) as u8, (y * 3) as u8, ((x ^ y) * 7) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A real decompression bomb: a 9000×9000 grey PNG of zeros, about 80 KB on disk and 81 MB of
/// pixels, written through a streaming encoder.
pub fn bomb_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 9000, 9000);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::High);
        let mut w = enc.write_header().unwrap();
        let mut s = w.stream_writer().unwrap();
        let row = vec![0u8; 9000];
        for _ in 0..9000 {
            std::io::Write::write_all(&mut s, &row).unwrap();
        }
        s.finish().unwrap();
    }
    out
}

/// A web page with a script: what a file dressed as a picture or a PDF really holds.
pub fn script_page() -> Vec<u8> {
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>".to_vec()
}

/// The smallest file that sniffs as a Windows executable: an MZ header pointing at a PE header.
pub fn windows_exe() -> Vec<u8> {
    let mut e = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    e.resize(0x80, 0);
    e[0x3c] = 0x40;
    e.splice(0x40..0x44, b"PE\0\0".iter().copied());
    e.extend_from_slice(&[0u8; 512]);
    e
}

/// Pseudo-random bytes (not compressible, not any known type).
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// How a raw request authenticates.
#[derive(Clone)]
pub enum Who {
    Bearer(String),
    Vvcu(String),
    Nobody,
}

impl Who {
    pub fn staff(c: &StaffClient) -> Who {
        Who::Bearer(c.token().to_owned())
    }
    pub fn visitor(v: &VisitorClient) -> Who {
        Who::Vvcu(v.vvcu().expect("visitor has a cookie"))
    }
    pub fn apply(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Who::Bearer(t) => r.bearer_auth(t),
            Who::Vvcu(v) => r.header("Cookie", format!("vvcu={v}")),
            Who::Nobody => r,
        }
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// `POST /api/uploads` with metadata pairs.
pub async fn tus_create(ts: &TestServer, who: &Who, length: &str, meta: &[(&str, &str)]) -> reqwest::Response {
    let meta: Vec<String> = meta.iter().map(|(k, v)| format!("{k} {}", b64(v))).collect();
    who.apply(http().post(format!("{}/api/uploads", ts.url)))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length)
        .header("Upload-Metadata", meta.join(","))
        .send()
        .await
        .unwrap()
}

/// `PATCH` a chunk.
pub async fn tus_patch(
    ts: &TestServer,
    who: &Who,
    location: &str,
    offset: u64,
    body: Vec<u8>,
    checksum: Option<String>,
) -> reqwest::Response {
    let mut r = who
        .apply(http().patch(format!("{}{location}", ts.url)))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(body);
    if let Some(c) = checksum {
        r = r.header("Upload-Checksum", c);
    }
    r.send().await.unwrap()
}

pub async fn tus_offset(ts: &TestServer, who: &Who, location: &str) -> Option<u64> {
    let r =
        who.apply(http().head(format!("{}{location}", ts.url))).header("Tus-Resumable", "1.0.0").send().await.unwrap();
    if r.status() != 200 {
        return None;
    }
    r.headers().get("upload-offset").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// Uploads a whole file in one PATCH and returns the final response.
pub async fn tus_send(
    ts: &TestServer,
    who: &Who,
    contact: &ContactId,
    name: &str,
    ty: Option<&str>,
    bytes: &[u8],
) -> reqwest::Response {
    let mut meta = vec![("contact", contact.as_str()), ("filename", name)];
    if let Some(t) = ty {
        meta.push(("filetype", t));
    }
    let created = tus_create(ts, who, &bytes.len().to_string(), &meta).await;
    if created.status() != 201 {
        return created;
    }
    let loc = created.headers()["location"].to_str().unwrap().to_owned();
    tus_patch(ts, who, &loc, 0, bytes.to_vec(), None).await
}

pub async fn error_of(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    (status, body["error"].as_str().unwrap_or("").to_owned(), body["message"].as_str().unwrap_or("").to_owned())
}

/// Regular files under the data folder's store and staging area.
pub fn files_on_disk(ts: &TestServer) -> (usize, usize) {
    // Objects in the store and in staging, on disk or in the bucket, counted by the service
    // itself (on a runtime of its own, so that sync callers keep working).
    let files = ts.server.as_ref().expect("the service runs").state().files.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(files.census()).unwrap()
    })
    .join()
    .unwrap()
}

/// The attachment from the first AttachmentReady event, skipping progress and the start of
/// the checks.
pub async fn ready(events: &mut EventStream) -> Message {
    loop {
        match crate::common::next(events).await {
            Event::AttachmentReady { message } => return message,
            Event::UploadProgress { .. } | Event::UploadChecking { .. } => continue,
            other => panic!("expected attachment_ready, got {other:?}"),
        }
    }
}

/// Whether a system tool the test needs is installed (`program arg` runs). When it is not, the
/// test is skipped with a note, unless `ATTACHE_REQUIRE_TOOLS` is set (scripts/test.sh sets it;
/// scripts/setup.sh installs the Debian `package`), which makes a missing tool a failure.
pub fn tool_installed(program: &str, arg: &str, package: &str) -> bool {
    if std::process::Command::new(program).arg(arg).output().is_ok() {
        return true;
    }
    assert!(std::env::var_os("ATTACHE_REQUIRE_TOOLS").is_none(), "{program} is required but not installed");
    eprintln!("{program} is not installed (apt-get install {package}): skipping");
    false
}
