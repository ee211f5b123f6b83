//! The file's SHA-256, computed while its bytes stream in, so finishing an upload does not read
//! the whole file a second time.
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

/// Uploads whose running digest is kept at once (about 120 bytes each); past this, an arbitrary
/// one is forgotten (it is read again when it finishes).
const MAX_RUNNING: usize = 4096;

/// Running digests of the uploads this process is receiving.
#[derive(Debug, Default)]
pub struct Digests {
    running: Mutex<HashMap<UploadId, (u64, Sha256)>>,
}

/// The digest of one body being appended at an offset.
#[derive(Debug, Clone)]
pub struct Tap {
    state: Arc<Mutex<(u64, Sha256)>>,
    start: u64,
}

impl Digests {
    /// Starts hashing a body appended at `offset`: returns the body to hand on, and a tap to
    /// [`Digests::recorded`] once the write was recorded. `None` (the body unchanged) when the
    /// bytes before `offset` were not hashed here.
    pub fn tap(&self, id: &UploadId, offset: u64, body: ByteStream) -> (ByteStream, Option<Tap>) {
        let resumed = if offset == 0 {
            Some(Sha256::new())
        } else {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            match running.remove(id) {
                Some((at, hasher)) if at == offset => Some(hasher),
                _ => None,
            }
        };
        let Some(hasher) = resumed else {
            return (body, None);
        };
        let state = Arc::new(Mutex::new((0u64, hasher)));
        let inner = state.clone();
        let body = body.inspect(move |chunk| {
            if let Ok(bytes) = chunk {
                let mut s = inner.lock().unwrap_or_else(|e| e.into_inner());
                s.0 += bytes.len() as u64;
                s.1.update(bytes);
            }
        });
        (Box::pin(body), Some(Tap { state, start: offset }))
    }

    /// After a write of `kept` bytes was recorded: keeps the running digest at the new offset,
    /// if the tap saw exactly those bytes (a write may read more than it keeps, e.g. a body
    /// that broke off under a checksum).
    pub fn recorded(&self, id: &UploadId, tap: Tap, kept: u64) {
        let Ok(state) = Arc::try_unwrap(tap.state) else { return };
        let (seen, hasher) = state.into_inner().unwrap_or_else(|e| e.into_inner());
        if seen != kept {
            return;
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.len() >= MAX_RUNNING {
            if let Some(any) = running.keys().next().cloned() {
                running.remove(&any);
            }
        }
        running.insert(id.clone(), (tap.start + kept, hasher));
    }

    /// The SHA-256 (hex) of a complete upload of `length` bytes, if it was hashed here; the
    /// running state is dropped either way.
    pub fn finished(&self, id: &UploadId, length: u64) -> Option<String> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match running.remove(id) {
            Some((at, hasher)) if at == length => Some(hex::encode(hasher.finalize())),
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
        assert_eq!(d.finished(&id, 11), None);

        let id = UploadId(crate::db::new_id());
        for (offset, part) in [(0u64, &b"hello "[..]), (6, &b"world"[..])] {
            let (b, tap) = d.tap(&id, offset, body(&[part]));
            let n = drain(b).await;
            d.recorded(&id, tap.unwrap(), n);
        }
        assert_eq!(d.finished(&id, 11), Some(hex::encode(Sha256::digest(b"hello world"))));
        assert_eq!(d.finished(&id, 11), None, "taken once");
        // Not starting where this process left off: no tap.
        assert!(d.tap(&id, 5, body(&[b"x"])).1.is_none());
    }
}
