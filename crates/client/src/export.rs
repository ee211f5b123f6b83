//! "Download all": a contact's ZIP (attachments, manifests, transcript) streamed to disk with
//! progress, resumed with `Range` + `If-Range` from a `.part` file after an interruption.

use crate::download::part_path;
use crate::{ClientError, ContactId, Progress, ProgressFn, Result, Session};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// A finished "Download all".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Where the ZIP is.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Bytes kept from an interrupted attempt.
    pub resumed_from: u64,
}

fn local(path: &Path, e: std::io::Error) -> ClientError {
    ClientError::Transport(format!("local file {}: {e}", path.display()))
}

/// The validator of the archive a `.part` holds the start of.
fn tag_path(part: &Path) -> PathBuf {
    let mut name = part.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".etag");
    part.with_file_name(name)
}

pub(crate) async fn export(
    s: &Session,
    contact: &ContactId,
    dest: &Path,
    progress: Option<ProgressFn>,
) -> Result<Exported> {
    let part = part_path(dest);
    let tag = tag_path(&part);
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await.map_err(|e| local(dir, e))?;
    }
    let have = tokio::fs::metadata(&part).await.map(|m| m.len()).unwrap_or(0);
    let etag = tokio::fs::read_to_string(&tag).await.ok();
    let mut req = s.request(Method::GET, &format!("api/reports/contacts/{contact}/export"))?;
    if let (true, Some(etag)) = (have > 0, &etag) {
        req = req.header("Range", format!("bytes={have}-")).header("If-Range", etag.trim());
    }
    let resp = req.send().await.map_err(ClientError::from_reqwest)?;
    let append = match resp.status() {
        StatusCode::PARTIAL_CONTENT => true,
        StatusCode::OK => false,
        _ => {
            crate::error::check(resp).await?;
            return Err(ClientError::Protocol("unexpected export status".into()));
        }
    };
    let start = if append { have } else { 0 };
    let total = start + resp.content_length().unwrap_or(0);
    if let Some(e) = resp.headers().get("etag").and_then(|v| v.to_str().ok()) {
        tokio::fs::write(&tag, e).await.map_err(|e| local(&tag, e))?;
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&part)
        .await
        .map_err(|e| local(&part, e))?;
    let mut got = start;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(ClientError::from_reqwest)?;
        file.write_all(&chunk).await.map_err(|e| local(&part, e))?;
        got += chunk.len() as u64;
        if let Some(p) = &progress {
            p(Progress { sent: got, total });
        }
    }
    file.flush().await.map_err(|e| local(&part, e))?;
    file.sync_all().await.map_err(|e| local(&part, e))?;
    drop(file);
    if got != total {
        return Err(ClientError::Transport(format!(
            "the archive stopped at {got} of {total} bytes; run again to resume"
        )));
    }
    tokio::fs::rename(&part, dest).await.map_err(|e| local(dest, e))?;
    let _ = tokio::fs::remove_file(&tag).await;
    Ok(Exported { path: dest.to_owned(), size: got, resumed_from: start })
}
