//! `attache send` and `attache fetch`: file transfer through the SDK's session, the staff
//! token's or the customer's cookie alike.

use crate::args::FileArgs;
use crate::print;
use anyhow::Context;
use attache_client::{ContactId, FileCache, UploadOptions, UploadOutcome};
use std::path::PathBuf;

pub(crate) fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("attache").join("uploads")
}

pub(crate) async fn send(who: FileArgs, contact: String, file: PathBuf, options: UploadOptions) -> anyhow::Result<()> {
    let contact = ContactId(contact);
    let outcome = who.session()?.upload_file(&contact, &file, &options).await?;
    eprintln!();
    match outcome {
        UploadOutcome::Sent(message) => print(&message),
        UploadOutcome::Cancelled { sent, .. } => {
            anyhow::bail!("cancelled after {sent} bytes; run again to resume")
        }
    }
}

pub(crate) async fn fetch(
    who: FileArgs,
    url: String,
    out: Option<PathBuf>,
    sha256: Option<String>,
    cache: Option<FileCache>,
) -> anyhow::Result<()> {
    let session = who.session()?;
    if let (Some(cache), Some(sha)) = (cache, sha256.as_deref()) {
        let path = session.fetch_url_cached(&cache, &url, sha).await?;
        if let Some(out) = out {
            std::fs::copy(&path, &out).with_context(|| format!("copying to {}", out.display()))?;
            println!("{}", out.display());
        } else {
            println!("{}", path.display());
        }
        return Ok(());
    }
    let out = out.unwrap_or_else(|| {
        let last = url.trim_end_matches('/').rsplit('/').next().unwrap_or("download");
        let name = percent_decode(last);
        let safe: String = name.chars().filter(|c| !matches!(c, '/' | '\\') && !c.is_control()).collect();
        PathBuf::from(if safe.is_empty() || safe.starts_with('.') { "download".to_owned() } else { safe })
    });
    let got = session.download(&url, sha256.as_deref(), &out).await?;
    if got.resumed_from > 0 {
        eprintln!("resumed from byte {}", got.resumed_from);
    }
    println!("{}  {}", got.sha256, got.path.display());
    Ok(())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && s.is_char_boundary(i + 1) && s.is_char_boundary(i + 3) {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
