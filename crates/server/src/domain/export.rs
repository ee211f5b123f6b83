//! "Download all": a contact's attachments as one ZIP with `manifest.json`, `manifest.csv` and
//! the transcript as text, streamed as it is built (a few chunks in flight whatever the total),
//! with its length known up front and any byte range reproducible (see [`crate::zip`]).
//! Removed files are listed with their tombstones and carry no bytes.

use crate::auth::Staff;
use crate::error::{AppError, AppResult};
use crate::storage::{ByteStream, StoreKey};
use crate::zip::{self, EntrySpec, Layout};
use crate::AppState;
use attache_protocol::{Attachment, Contact, ContactState, ErrorCode, Message, RemovalKind};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::ops::Range;

/// A contact's archive, laid out and ready to stream.
pub struct Export {
    /// The contact.
    pub contact: Contact,
    /// Where every byte goes.
    pub layout: Layout,
    sources: Vec<Source>,
    /// A strong validator: the SHA-256 of the manifest (which names every file's SHA-256 and
    /// every tombstone), so a resume after a redaction starts over.
    pub etag: String,
    /// A file name for the download.
    pub file_name: String,
    /// The row of the access table that lets the caller in (for the access record).
    pub grant: attache_protocol::AccessGrant,
}

enum Source {
    Memory(Bytes),
    Store(StoreKey),
}

/// One line of the manifest.
#[derive(Serialize)]
struct Row<'a> {
    file: Option<String>,
    name: &'a str,
    description: Option<&'a str>,
    sender: &'a str,
    sender_name: &'a str,
    time: String,
    size: u64,
    media_type: &'a str,
    sha256: &'a str,
    check: String,
    redaction: Option<String>,
}

fn removal_words(a: &Attachment) -> Option<String> {
    let t = a.removed.as_ref()?;
    let when = t.at.format("%Y-%m-%d %H:%M UTC");
    Some(match t.kind {
        RemovalKind::Redacted => format!(
            "removed by {} on {when}: {}",
            t.by.as_deref().unwrap_or("staff"),
            t.reason.as_deref().unwrap_or("")
        ),
        RemovalKind::Expired => format!("expired on {when} (file retention)"),
    })
}

/// A CSV field: quoted when needed, and never read as a formula by a spreadsheet.
fn csv(field: &str) -> String {
    let f = if field.starts_with(['=', '+', '-', '@']) { format!("'{field}") } else { field.to_owned() };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

fn transcript(contact: &Contact, messages: &[Message]) -> String {
    let mut out = format!(
        "Contact with {} ({}), opened {}\n\n",
        contact.customer_name,
        contact.id,
        contact.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    for m in messages {
        let at = m.created_at.format("%Y-%m-%d %H:%M:%S UTC");
        let who = format!("{} ({})", m.sender_name, m.sender.as_str());
        match &m.attachment {
            None => out.push_str(&format!("[{at}] {who}: {}\n", m.body)),
            Some(a) => {
                out.push_str(&format!("[{at}] {who} sent {} ({} bytes, SHA-256 {})", a.name, a.size, a.sha256));
                if let Some(d) = &a.description {
                    out.push_str(&format!(": {d}"));
                }
                out.push('\n');
                if let Some(w) = removal_words(a) {
                    out.push_str(&format!("    file {w}\n"));
                }
            }
        }
    }
    out
}

/// Lays out a contact's archive for a staff member who may open its files.
pub async fn prepare(state: &AppState, staff: &Staff, id: &str) -> AppResult<Export> {
    let contact = super::contact::readable(&state.db, staff, id).await?;
    let grant = super::access::staff_grant(&state.db, staff, &contact).await?.ok_or(AppError::NotFound("contact"))?;
    if contact.state == ContactState::Queued {
        return Err(AppError::Refused(
            ErrorCode::NoFileAccess,
            "the files of a waiting contact open once an agent accepts it".into(),
        ));
    }
    let messages = super::contact::staff_messages(state, staff, id).await?;
    let mut rows = Vec::new();
    let mut files = Vec::new();
    for m in &messages {
        let Some(a) = &m.attachment else { continue };
        let file = if a.removed.is_none() {
            let path = format!("files/{:03} {}", files.len() + 1, zip::safe_entry_name(&a.name));
            let key = StoreKey::parse(&file_key(state, a).await?)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad store key in database")))?;
            files.push((EntrySpec { name: path.clone(), size: a.size, modified: a.created_at }, key));
            Some(path)
        } else {
            None
        };
        rows.push(Row {
            file,
            name: &a.name,
            description: a.description.as_deref(),
            sender: a.sender.as_str(),
            sender_name: &m.sender_name,
            time: a.created_at.to_rfc3339(),
            size: a.size,
            media_type: &a.media_type,
            sha256: &a.sha256,
            check: match &a.released_by {
                Some(by) => format!("released by {by} (the scanner had not answered)"),
                None => "clean".into(),
            },
            redaction: removal_words(a),
        });
    }
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "contact": { "id": contact.id, "customer": contact.customer_name, "agent": contact.agent_name,
                     "opened": contact.created_at, "closed": contact.closed_at },
        "files": rows,
    }))
    .map_err(|e| AppError::Internal(e.into()))?;
    let mut table =
        String::from("file,name,description,sender,sender_name,time,size,media_type,sha256,check,redaction\n");
    for r in &rows {
        let fields = [
            r.file.clone().unwrap_or_default(),
            r.name.to_owned(),
            r.description.unwrap_or("").to_owned(),
            r.sender.to_owned(),
            r.sender_name.to_owned(),
            r.time.clone(),
            r.size.to_string(),
            r.media_type.to_owned(),
            r.sha256.to_owned(),
            r.check.clone(),
            r.redaction.clone().unwrap_or_default(),
        ];
        table.push_str(&fields.iter().map(|f| csv(f)).collect::<Vec<_>>().join(","));
        table.push('\n');
    }
    let text = transcript(&contact, &messages);
    let etag = format!("\"zip-{}\"", hex::encode(Sha256::digest(&json)));
    let opened = contact.created_at;
    let mut specs = Vec::new();
    let mut sources = Vec::new();
    for (name, bytes) in
        [("manifest.json", json), ("manifest.csv", table.into_bytes()), ("transcript.txt", text.into_bytes())]
    {
        specs.push(EntrySpec { name: name.into(), size: bytes.len() as u64, modified: opened });
        sources.push(Source::Memory(Bytes::from(bytes)));
    }
    for (spec, key) in files {
        specs.push(spec);
        sources.push(Source::Store(key));
    }
    let file_name = format!(
        "contact {} {}.zip",
        zip::safe_entry_name(&contact.customer_name),
        contact.created_at.format("%Y-%m-%d")
    );
    Ok(Export { layout: zip::layout(specs, state.config.zip64_always), sources, etag, file_name, contact, grant })
}

/// The store key of an attachment's bytes (the wire type does not carry it).
async fn file_key(state: &AppState, a: &Attachment) -> AppResult<String> {
    let row = crate::repo::attachment::by_id_or_message(&state.db, a.id.as_str())
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    Ok(row.file_key)
}

/// The bytes of `range` of the archive, produced by a task that reads one file at a time and
/// keeps at most four chunks in flight. A file gone from the store mid-way (a redaction racing
/// the download) ends the stream with an error: the client sees a short body, never a whole one.
pub fn stream(state: &AppState, export: Export, range: Range<u64>) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let store = state.files.store.clone();
    tokio::spawn(async move {
        if let Err(e) = produce(&tx, store.as_ref(), &export, range).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
}

type Tx = tokio::sync::mpsc::Sender<std::io::Result<Bytes>>;

/// Sends the part of `bytes` (which sits at `pos` in the archive) that falls in `range`.
async fn emit(tx: &Tx, bytes: Bytes, pos: u64, range: &Range<u64>) -> std::io::Result<()> {
    let end = pos + bytes.len() as u64;
    if end <= range.start || pos >= range.end {
        return Ok(());
    }
    let from = range.start.saturating_sub(pos) as usize;
    let to = (range.end.min(end) - pos) as usize;
    tx.send(Ok(bytes.slice(from..to))).await.map_err(|_| std::io::Error::other("the client left"))
}

async fn produce(tx: &Tx, store: &dyn crate::storage::Store, e: &Export, range: Range<u64>) -> std::io::Result<()> {
    let mut crcs = Vec::with_capacity(e.sources.len());
    for (p, source) in e.layout.entries.iter().zip(&e.sources) {
        if p.offset >= range.end {
            return Ok(());
        }
        let header = Bytes::from(zip::local_header(p));
        let mut pos = p.offset;
        emit(tx, header.clone(), pos, &range).await?;
        pos += header.len() as u64;
        let crc = match source {
            Source::Memory(b) => {
                emit(tx, b.clone(), pos, &range).await?;
                pos += b.len() as u64;
                crc32fast::hash(b)
            }
            Source::Store(key) => {
                // Every byte is read for its CRC (the central directory needs it), and only
                // those in the range are sent.
                let mut hasher = crc32fast::Hasher::new();
                let mut bytes = store.get(key, None).await.map_err(std::io::Error::other)?;
                let mut read = 0u64;
                while let Some(chunk) = bytes.next().await {
                    let chunk = chunk?;
                    hasher.update(&chunk);
                    read += chunk.len() as u64;
                    emit(tx, chunk.clone(), pos, &range).await?;
                    pos += chunk.len() as u64;
                }
                if read != p.size() {
                    return Err(std::io::Error::other(format!("stored file has {read} bytes, expected {}", p.size())));
                }
                hasher.finalize()
            }
        };
        crcs.push(crc);
        emit(tx, Bytes::from(zip::descriptor(p, crc)), pos, &range).await?;
    }
    emit(tx, Bytes::from(zip::central_directory(&e.layout, &crcs)), e.layout.cd_offset, &range).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
