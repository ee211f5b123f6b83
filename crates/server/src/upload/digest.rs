//! The file's SHA-256, computed while its bytes stream in, so finishing an upload does not read
//! the whole file a second time; and its first bytes, which are most often all the type check
//! needs (see [`crate::check::sniff_prefix`]).
//!
//! The running state lives in this process only, keyed by upload and offset: a PATCH that
//! continues where this process's last recorded PATCH ended carries it on; anything else (the
//! previous PATCH went to another instance, a restart, a write that was not recorded) finds no
//! matching state, and finishing falls back to reading the file. The state is updated only after
//! the offset was recorded, so it always covers exactly the recorded bytes.

use crate::storage::ByteStream;
use attache_protocol::UploadId;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Uploads whose running digest is kept at once (about 120 bytes each, and the head: at most
/// 32 MiB in all); past this, an arbitrary one is forgotten (it is read again when it finishes).
const MAX_RUNNING: usize = 4096;

/// Running digests of the uploads this process is receiving.
#[derive(Debug, Default)]
pub struct Digests {
    running: Mutex<HashMap<UploadId, Running>>,
}

/// An upload's bytes so far, as hashed here.
#[derive(Debug, Clone)]
struct Running {
    /// How many bytes the state covers: in the map, from the upload's offset 0; in a tap, of the
    /// body being appended (from the tap's `start`).
    at: u64,
    hasher: Sha256,
    /// The first [`HEAD_BYTES`] of the upload (fewer while fewer arrived).
    head: Vec<u8>,
}

/// How much of an upload's start is kept for sniffing.
pub const HEAD_BYTES: usize = crate::check::TEXT_SNIFF_BYTES;

/// What a complete upload was found to be as its bytes arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// SHA-256, hex.
    pub sha256: String,
    /// The first [`HEAD_BYTES`] (all of a shorter file).
    pub head: Vec<u8>,
}

/// The digest of one body being appended at an offset.
#[derive(Debug, Clone)]
pub struct Tap {
    state: Arc<Mutex<Running>>,
    start: u64,
}

impl Digests {
    /// Starts hashing a body appended at `offset`: returns the body to hand on, and a tap to
    /// [`Digests::recorded`] once the write was recorded. `None` (the body unchanged) when the
    /// bytes before `offset` were not hashed here.
    pub fn tap(&self, id: &UploadId, offset: u64, body: ByteStream) -> (ByteStream, Option<Tap>) {
        let resumed = if offset == 0 {
            Some(Running { at: 0, hasher: Sha256::new(), head: Vec::new() })
        } else {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            match running.remove(id) {
                Some(r) if r.at == offset => Some(r),
                _ => None,
            }
        };
        let Some(mut resumed) = resumed else {
            return (body, None);
        };
        // `at` counts this body's bytes from here on; the tap's start says where it began.
        resumed.at = 0;
        let head_room = |r: &Running| HEAD_BYTES.saturating_sub(r.head.len());
        let state = Arc::new(Mutex::new(resumed));
        let inner = state.clone();
        let body = body.inspect(move |chunk| {
            if let Ok(bytes) = chunk {
                let mut s = inner.lock().unwrap_or_else(|e| e.into_inner());
                s.at += bytes.len() as u64;
                s.hasher.update(bytes);
                let room = head_room(&s);
                if room > 0 {
                    s.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
                }
            }
        });
        (Box::pin(body), Some(Tap { state, start: offset }))
    }

    /// After a write of `kept` bytes was recorded: keeps the running digest at the new offset,
    /// if the tap saw exactly those bytes (a write may read more than it keeps, e.g. a body
    /// that broke off under a checksum).
    pub fn recorded(&self, id: &UploadId, tap: Tap, kept: u64) {
        let Ok(state) = Arc::try_unwrap(tap.state) else { return };
        let mut state = state.into_inner().unwrap_or_else(|e| e.into_inner());
        if state.at != kept {
            return;
        }
        state.at = tap.start + kept;
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.len() >= MAX_RUNNING {
            if let Some(any) = running.keys().next().cloned() {
                running.remove(&any);
            }
        }
        running.insert(id.clone(), state);
    }

    /// The SHA-256 and head of a complete upload of `length` bytes, if it was hashed here; the
    /// running state is dropped either way.
    pub fn finished(&self, id: &UploadId, length: u64) -> Option<Received> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match running.remove(id) {
            Some(r) if r.at == length => Some(Received { sha256: hex::encode(r.hasher.finalize()), head: r.head }),
            _ => None,
        }
    }

    /// Forgets an upload (refused, cancelled).
    pub fn forget(&self, id: &UploadId) {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn body(parts: &[&'static [u8]]) -> ByteStream {
        Box::pin(futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>()))
    }

    async fn drain(mut b: ByteStream) -> u64 {
        let mut n = 0;
        while let Some(Ok(c)) = b.next().await {
            n += c.len() as u64;
        }
        n
    }

    #[tokio::test]
    async fn digest_follows_recorded_writes_only() {
        let d = Digests::default();
        let id = UploadId(crate::db::new_id());
        let (b, tap) = d.tap(&id, 0, body(&[b"hello ", b"wor"]));
        assert_eq!(drain(b).await, 9);
        d.recorded(&id, tap.unwrap(), 9);
        // A write that read more than it kept leaves no state.
        let (b, tap) = d.tap(&id, 9, body(&[b"ld", b"!!"]));
        drain(b).await;
        d.recorded(&id, tap.unwrap(), 2);
        assert!(d.tap(&id, 11, body(&[])).1.is_none(), "state dropped");
        assert!(d.finished(&id, 11).is_none());

        let id = UploadId(crate::db::new_id());
        for (offset, part) in [(0u64, &b"hello "[..]), (6, &b"world"[..])] {
            let (b, tap) = d.tap(&id, offset, body(&[part]));
            let n = drain(b).await;
            d.recorded(&id, tap.unwrap(), n);
        }
        let got = d.finished(&id, 11).unwrap();
        assert_eq!(got.sha256, hex::encode(Sha256::digest(b"hello world")));
        assert_eq!(got.head, b"hello world", "the head spans both writes");
        assert!(d.finished(&id, 11).is_none(), "taken once");
        // Not starting where this process left off: no tap.
        assert!(d.tap(&id, 5, body(&[b"x"])).1.is_none());
    }

    #[tokio::test]
    async fn the_head_is_the_first_bytes_only() {
        let d = Digests::default();
        let id = UploadId(crate::db::new_id());
        let big: &'static [u8] = Box::leak(vec![7u8; HEAD_BYTES + 100].into_boxed_slice());
        let (b, tap) = d.tap(&id, 0, body(&[b"abc", big]));
        let n = drain(b).await;
        d.recorded(&id, tap.unwrap(), n);
        let (b, tap) = d.tap(&id, n, body(&[b"tail"]));
        let m = drain(b).await;
        d.recorded(&id, tap.unwrap(), m);
        let got = d.finished(&id, n + m).unwrap();
        assert_eq!(got.head.len(), HEAD_BYTES);
        assert_eq!(&got.head[..4], b"abc\x07");
        let mut whole = b"abc".to_vec();
        whole.extend_from_slice(big);
        whole.extend_from_slice(b"tail");
        assert_eq!(got.sha256, hex::encode(Sha256::digest(&whole)));
    }
}
