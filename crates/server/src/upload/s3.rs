//! The S3 staging area, after tusd's S3 store: one multipart upload per tus upload, created with
//! the upload and completed into the file's store key when the last byte is in. Parts are at
//! least 5 MiB (S3's minimum for all parts but the last); the bytes of a PATCH that do not fill
//! a part wait as a "tail" object until a later PATCH completes the part. The multipart id, the
//! recorded parts and the tail's size are the upload's `staged` state, recorded with its offset,
//! so any instance can continue the upload.
//!
//! Memory: a PATCH gathers at most one part (plus one network chunk) before sending it, and the
//! number of PATCHes gathering at once is bounded by a semaphore, so the bytes held for S3
//! uploads never exceed `buffers × (part + chunk)` however many clients connect.

use super::staging::{next_chunk, Checksum, ChunkHasher, Spot, Staging, StagingError, WriteOutcome, Written};
use crate::storage::{ByteStream, S3Store, StoreKey};
use attache_protocol::UploadId;
use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Smallest part S3 accepts (but for the last one).
pub const PART_BYTES: u64 = 5 * 1024 * 1024;
/// PATCHes that may gather a part at once, by default.
pub const DEFAULT_BUFFERS: usize = 8;

/// The recorded state of one upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct State {
    /// The multipart upload's id.
    mp: String,
    /// Recorded parts, in order: (ETag, size).
    parts: Vec<(String, u64)>,
    /// Bytes waiting in the tail object (after the parts).
    tail: u64,
}

impl State {
    fn parse(s: &str) -> Result<State, StagingError> {
        serde_json::from_str(s).map_err(|_| StagingError::Lost("the upload's staging state is unreadable".into()))
    }
    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    fn parts_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.1).sum()
    }
}

/// Uploads staged as multipart uploads in the store's bucket.
#[derive(Debug)]
pub struct S3Staging {
    client: Arc<AmazonS3>,
    store: Arc<S3Store>,
    buffers: Semaphore,
}

fn lost_or_io(e: object_store::Error, what: &str) -> StagingError {
    match e {
        object_store::Error::NotFound { .. } => StagingError::Lost(format!("{what} is gone from the bucket")),
        other => StagingError::Io(std::io::Error::other(format!("{what}: {other}"))),
    }
}

impl S3Staging {
    /// Staging in the bucket of `store`, with `buffers` PATCHes gathering parts at once.
    pub fn new(store: Arc<S3Store>, buffers: usize) -> S3Staging {
        S3Staging { client: store.client(), store, buffers: Semaphore::new(buffers.max(1)) }
    }

    fn folder(&self, id: &UploadId) -> ObjectPath {
        self.store.object_path(&format!("staging/{}", id.as_str()))
    }

    fn tail_path(&self, id: &UploadId, end: u64) -> ObjectPath {
        self.store.object_path(&format!("staging/{}/tail-{end}", id.as_str()))
    }

    async fn put_part(
        &self,
        target: &ObjectPath,
        st: &State,
        new: &mut Vec<(String, u64)>,
        buf: &mut Vec<Bytes>,
    ) -> Result<(), StagingError> {
        let size: u64 = buf.iter().map(|b| b.len() as u64).sum();
        let payload: PutPayload = std::mem::take(buf).into_iter().collect();
        let idx = st.parts.len() + new.len();
        let PartId { content_id } = self
            .client
            .put_part(target, &st.mp, idx, payload)
            .await
            .map_err(|e| lost_or_io(e, "the multipart upload"))?;
        new.push((content_id, size));
        Ok(())
    }
}

#[async_trait::async_trait]
impl Staging for S3Staging {
    async fn create(&self, _id: &UploadId, target: &StoreKey) -> Result<String, StagingError> {
        let mp = self
            .client
            .create_multipart(&self.store.key_path(target))
            .await
            .map_err(|e| lost_or_io(e, "creating a multipart upload"))?;
        Ok(State { mp, ..Default::default() }.encode())
    }

    async fn write(
        &self,
        spot: Spot<'_>,
        mut body: ByteStream,
        checksum: Option<&Checksum>,
    ) -> Result<Written, StagingError> {
        let st = State::parse(spot.staged)?;
        if st.parts_bytes() + st.tail != spot.offset {
            return Err(StagingError::Lost("the staging state does not match the upload's offset".into()));
        }
        let unchanged = |outcome| Written { outcome, staged: spot.staged.to_owned(), in_store: false };
        let target = self.store.key_path(spot.target);
        let max = spot.length.saturating_sub(spot.offset);
        let _permit = self.buffers.acquire().await.map_err(|e| StagingError::Io(std::io::Error::other(e)))?;
        let mut buf: Vec<Bytes> = Vec::new();
        let mut held: u64 = 0;
        if st.tail > 0 {
            let tail = self
                .client
                .get(&self.tail_path(spot.id, spot.offset))
                .await
                .map_err(|e| lost_or_io(e, "the upload's tail"))?;
            let bytes = tail.bytes().await.map_err(|e| lost_or_io(e, "the upload's tail"))?;
            if bytes.len() as u64 != st.tail {
                return Err(StagingError::Lost("the upload's tail has the wrong size".into()));
            }
            held = st.tail;
            buf.push(bytes);
        }
        let mut new_parts = Vec::new();
        let mut hasher = ChunkHasher::new(checksum);
        let mut written: u64 = 0;
        let mut broke = false;
        loop {
            let chunk = match next_chunk(&mut body).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(()) => {
                    broke = true;
                    break;
                }
            };
            let Some(total) = written.checked_add(chunk.len() as u64).filter(|t| *t <= max) else {
                return Ok(unchanged(WriteOutcome::TooLong));
            };
            hasher.update(&chunk);
            written = total;
            held += chunk.len() as u64;
            buf.push(chunk);
            // A full part goes out now (parts uploaded but not recorded are overwritten later).
            if held >= PART_BYTES {
                self.put_part(&target, &st, &mut new_parts, &mut buf).await?;
                held = 0;
            }
        }
        if broke && checksum.is_some() {
            return Ok(unchanged(WriteOutcome::Interrupted(0)));
        }
        if !broke && !hasher.matches(checksum) {
            return Ok(unchanged(WriteOutcome::ChecksumMismatch));
        }
        let outcome = if broke { WriteOutcome::Interrupted(written) } else { WriteOutcome::Complete(written) };
        if written == 0 {
            return Ok(unchanged(outcome));
        }
        let end = spot.offset + written;
        let mut next = State { mp: st.mp.clone(), parts: st.parts.clone(), tail: 0 };
        if held > 0 && end == spot.length {
            // The rest is the last part, which may be short.
            self.put_part(&target, &st, &mut new_parts, &mut buf).await?;
        } else if held > 0 {
            let payload: PutPayload = std::mem::take(&mut buf).into_iter().collect();
            self.client
                .put(&self.tail_path(spot.id, end), payload)
                .await
                .map_err(|e| lost_or_io(e, "the upload's tail"))?;
            next.tail = held;
        }
        next.parts.extend(new_parts);
        Ok(Written { outcome, staged: next.encode(), in_store: false })
    }

    async fn recorded(&self, id: &UploadId, previous: &str, _current: &str) {
        // The previous tail was folded into the new parts or tail, which live under new names.
        if let Ok(st) = State::parse(previous) {
            if st.tail > 0 {
                let _ = self.client.delete(&self.tail_path(id, st.parts_bytes() + st.tail)).await;
            }
        }
    }

    async fn complete(&self, spot: Spot<'_>) -> Result<(), StagingError> {
        let target = self.store.key_path(spot.target);
        if let Ok(meta) = self.client.head(&target).await {
            if meta.size == spot.length {
                return Ok(());
            }
        }
        let st = State::parse(spot.staged)?;
        if st.parts_bytes() != spot.length || st.tail != 0 {
            return Err(StagingError::Lost("the recorded parts do not make the whole file".into()));
        }
        let parts = st.parts.iter().map(|(etag, _)| PartId { content_id: etag.clone() }).collect();
        match self.client.complete_multipart(&target, &st.mp, parts).await {
            Ok(_) => Ok(()),
            Err(e) => match self.client.head(&target).await {
                // Completed meanwhile (another instance, or before a crash).
                Ok(meta) if meta.size == spot.length => Ok(()),
                _ => Err(lost_or_io(e, "the multipart upload")),
            },
        }
    }

    async fn discard(&self, id: &UploadId, staged: &str) -> Result<(), StagingError> {
        if let Ok(st) = State::parse(staged) {
            // After completion S3 forgets the id, and aborting it again is harmless.
            if !st.mp.is_empty() {
                let target = self.store.key_path(&StoreKey::for_upload(id));
                let _ = self.client.abort_multipart(&target, &st.mp).await;
            }
        }
        let folder = self.folder(id);
        let leftovers: Vec<_> = self
            .client
            .list(Some(&folder))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| lost_or_io(e, "listing"))?;
        for path in leftovers {
            match self.client.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(lost_or_io(e, "deleting a tail")),
            }
        }
        Ok(())
    }

    async fn held(&self, id: &UploadId, _staged: &str) -> Result<Option<u64>, StagingError> {
        let folder = self.folder(id);
        let sizes: Vec<u64> = self
            .client
            .list(Some(&folder))
            .map_ok(|m| m.size)
            .try_collect()
            .await
            .map_err(|e| lost_or_io(e, "listing"))?;
        Ok((!sizes.is_empty()).then(|| sizes.iter().sum()))
    }
}

impl S3Staging {
    /// Every object left under the staging prefix (the crash test checks it empties).
    pub async fn leftovers(&self) -> Result<usize, StagingError> {
        let root = self.store.object_path("staging");
        let n: Vec<_> = self.client.list(Some(&root)).try_collect().await.map_err(|e| lost_or_io(e, "listing"))?;
        Ok(n.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[test]
    fn a_vanished_multipart_upload_is_lost_not_an_outage() {
        let gone = object_store::Error::NotFound { path: "x".into(), source: "NoSuchUpload".into() };
        assert!(matches!(lost_or_io(gone, "the multipart upload"), StagingError::Lost(_)));
        let down = object_store::Error::Generic { store: "S3", source: "503".into() };
        assert!(matches!(lost_or_io(down, "the multipart upload"), StagingError::Io(_)));
    }

    #[test]
    fn state_round_trips() {
        let st = State { mp: "x".into(), parts: vec![("e1".into(), PART_BYTES)], tail: 7 };
        assert_eq!(State::parse(&st.encode()).unwrap(), st);
        assert_eq!(st.parts_bytes(), PART_BYTES);
        assert!(matches!(State::parse("not json"), Err(StagingError::Lost(_))));
    }

    /// The S3 staging area against a real S3-compatible service (moto's server in CI): parts,
    /// tails, a resumed write, completion into the store key, and nothing left afterwards.
    #[tokio::test]
    #[ignore = "needs an S3-compatible service (ATTACHE_TEST_S3); scripts/test.sh runs it"]
    async fn s3_staging_gathers_parts_and_tails() {
        use crate::storage::Store;
        let url = std::env::var("ATTACHE_TEST_S3").expect("ATTACHE_TEST_S3=s3://bucket/prefix");
        let store = Arc::new(S3Store::from_url(&url).unwrap());
        let staging = S3Staging::new(store.clone(), 2);
        let id = UploadId(crate::db::new_id());
        let target = StoreKey::for_upload(&id);
        let data: Vec<u8> = (0..(PART_BYTES as usize * 2 + 12_345)).map(|i| (i % 253) as u8).collect();
        let length = data.len() as u64;
        let mut staged = staging.create(&id, &target).await.unwrap();
        let mut offset = 0u64;
        // Small PATCHes (tails), then one that crosses a part, then the rest.
        for size in [100_000usize, 300_000, PART_BYTES as usize, usize::MAX] {
            let end = (offset as usize).saturating_add(size).min(data.len());
            let chunk = Bytes::copy_from_slice(&data[offset as usize..end]);
            let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(chunk)]));
            let spot = Spot { id: &id, target: &target, staged: &staged, offset, length, whole: false };
            let w = staging.write(spot, body, None).await.unwrap();
            assert_eq!(w.outcome, WriteOutcome::Complete((end as u64) - offset));
            staging.recorded(&id, &staged, &w.staged).await;
            staged = w.staged;
            offset = end as u64;
        }
        assert_eq!(offset, length);
        let spot = Spot { id: &id, target: &target, staged: &staged, offset, length, whole: false };
        staging.complete(spot).await.unwrap();
        staging.complete(spot).await.unwrap();
        let mut got = Vec::new();
        let mut s = store.get(&target, None).await.unwrap();
        while let Some(c) = s.next().await {
            got.extend_from_slice(&c.unwrap());
        }
        assert!(got == data, "the completed object is the file, byte for byte");
        staging.discard(&id, &staged).await.unwrap();
        assert_eq!(staging.held(&id, &staged).await.unwrap(), None);
        store.delete(&target).await.unwrap();
        // A vanished multipart upload: the next write says the upload is lost.
        let gone = UploadId(crate::db::new_id());
        let gone_target = StoreKey::for_upload(&gone);
        let staged = staging.create(&gone, &gone_target).await.unwrap();
        staging.discard(&gone, &staged).await.unwrap();
        let big = Bytes::from(vec![1u8; PART_BYTES as usize]);
        let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(big)]));
        let spot =
            Spot { id: &gone, target: &gone_target, staged: &staged, offset: 0, length: PART_BYTES * 2, whole: false };
        // S3 answers 404 NoSuchUpload (mapped to `Lost`, see below); moto answers 500. Either
        // way nothing is recorded.
        assert!(staging.write(spot, body, None).await.is_err());
    }
}
