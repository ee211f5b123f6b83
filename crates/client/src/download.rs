//! Downloads with the session: resumed with `Range` from a `.part` file, verified against the
//! SHA-256 (the attachment's, or the `ETag`), streamed to disk.

use crate::{ClientError, Result, Session};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a finished download was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its SHA-256, verified.
    pub sha256: String,
    /// Bytes that were already there from an interrupted attempt.
    pub resumed_from: u64,
}

fn local(path: &Path, e: std::io::Error) -> ClientError {
    ClientError::Transport(format!("local file {}: {e}", path.display()))
}

/// The partial file beside a destination.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn hash_existing(path: &Path) -> std::io::Result<(Sha256, u64)> {
    let mut h = Sha256::new();
    let mut n = 0u64;
    let Ok(mut f) = tokio::fs::File::open(path).await else {
        return Ok((h, 0));
    };
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let r = f.read(&mut buf).await?;
        if r == 0 {
            return Ok((h, n));
        }
        h.update(&buf[..r]);
        n += r as u64;
    }
}

/// Downloads `url` (a service path like `/files/…` or a full URL) to `dest`.
pub(crate) async fn download(s: &Session, url: &str, expected_sha256: Option<&str>, dest: &Path) -> Result<Downloaded> {
    let part = part_path(dest);
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await.map_err(|e| local(dir, e))?;
    }
    let (mut hasher, mut have) = hash_existing(&part).await.map_err(|e| local(&part, e))?;
    let resumed_from = have;
    let mut req = s.request(Method::GET, url)?;
    if have > 0 {
        req = req.header("Range", format!("bytes={have}-"));
        if let Some(sha) = expected_sha256 {
            req = req.header("If-Range", format!("\"{sha}\""));
        }
    }
    let resp = req.send().await.map_err(ClientError::from_reqwest)?;
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start_matches("W/").trim_matches('"').to_owned());
    let append = match resp.status() {
        StatusCode::PARTIAL_CONTENT => true,
        StatusCode::RANGE_NOT_SATISFIABLE if have > 0 => {
            // The part already holds everything (or is longer than the file): verify below.
            true
        }
        StatusCode::OK => false,
        _ => {
            crate::error::check(resp).await?;
            return Err(ClientError::Protocol("unexpected download status".into()));
        }
    };
    let want = expected_sha256.map(str::to_owned).or_else(|| etag.clone().filter(|e| is_sha256(e)));
    if !append {
        hasher = Sha256::new();
        have = 0;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&part)
        .await
        .map_err(|e| local(&part, e))?;
    if resp.status() != StatusCode::RANGE_NOT_SATISFIABLE {
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(ClientError::from_reqwest)?;
            file.write_all(&chunk).await.map_err(|e| local(&part, e))?;
            hasher.update(&chunk);
            have = have.checked_add(chunk.len() as u64).ok_or_else(|| ClientError::Protocol("size overflow".into()))?;
        }
    }
    file.flush().await.map_err(|e| local(&part, e))?;
    file.sync_all().await.map_err(|e| local(&part, e))?;
    drop(file);
    let got = hex::encode(hasher.finalize());
    if let Some(w) = &want {
        if !got.eq_ignore_ascii_case(w) {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(ClientError::Protocol(format!(
                "the downloaded bytes do not match SHA-256 {w}; the partial file was removed"
            )));
        }
    }
    tokio::fs::rename(&part, dest).await.map_err(|e| local(dest, e))?;
    Ok(Downloaded { path: dest.to_owned(), size: have, sha256: got, resumed_from })
}
