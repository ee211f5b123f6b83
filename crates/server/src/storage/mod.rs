//! Where checked files and previews live: one [`Store`] trait (put a stream, read a range as a
//! stream, head, delete), implemented by [`LocalStore`] (a folder, the embedded default). An
//! S3-compatible store implements the same trait and must pass [`conformance`].
//!
//! Keys are made by the service ([`StoreKey::new`]), never from user input: file names are
//! display data only.

mod counted;
mod local;
mod s3;

pub use counted::Counted;
pub(crate) use local::move_in;
pub use local::LocalStore;
pub use s3::S3Store;

use bytes::Bytes;
use futures_util::Stream;
use std::ops::Range;
use std::path::Path;
use std::pin::Pin;

/// A stream of bytes in or out of a store.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Failures of a store, normalised: a missing object is [`StoreError::NotFound`] whatever the
/// backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No object under this key.
    #[error("object not found")]
    NotFound,
    /// The range does not fit the object.
    #[error("range {0:?} outside the object")]
    BadRange(Range<u64>),
    /// The backend failed.
    #[error("store i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Whether the object simply is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound)
    }
}

/// A storage key: random, lowercase hex with a fan-out prefix (`ab/abcdef…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreKey(String);

impl StoreKey {
    /// A fresh random key with a suffix naming its role (`file`, `preview`).
    pub fn new(kind: &str) -> StoreKey {
        let id = crate::db::new_id();
        StoreKey(format!("{}/{id}.{kind}", &id[..2]))
    }

    /// The key an upload's finished file gets: fixed by the upload's id, so that finishing again
    /// after a crash (or on another instance) finds the same object.
    pub fn for_upload(upload: &attache_protocol::UploadId) -> StoreKey {
        let id = upload.as_str();
        StoreKey(format!("{}/{id}.file", &id[..2.min(id.len())]))
    }

    /// The key of the preview of an upload's file (fixed, like [`StoreKey::for_upload`]).
    pub fn preview_for_upload(upload: &attache_protocol::UploadId) -> StoreKey {
        let id = upload.as_str();
        StoreKey(format!("{}/{id}.preview", &id[..2.min(id.len())]))
    }

    /// The key of an upload's file once its metadata was removed (the file as delivered; the
    /// original stays under [`StoreKey::for_upload`] until the attachment is published, so a
    /// second attempt after a crash starts from the same bytes).
    pub fn clean_for_upload(upload: &attache_protocol::UploadId) -> StoreKey {
        let id = upload.as_str();
        StoreKey(format!("{}/{id}.clean", &id[..2.min(id.len())]))
    }

    /// A stored key, if it has the shape the service makes (nothing else is ever touched).
    pub fn parse(s: &str) -> Option<StoreKey> {
        let (dir, rest) = s.split_once('/')?;
        let (id, kind) = rest.split_once('.')?;
        let ok = dir.len() == 2
            && crate::db::is_id(id)
            && id.starts_with(dir)
            && !kind.is_empty()
            && kind.bytes().all(|b| b.is_ascii_lowercase());
        ok.then(|| StoreKey(s.to_owned()))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An object store.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a stream under `key`, replacing nothing (keys are fresh); returns the size. A
    /// failed put leaves no object.
    async fn put(&self, key: &StoreKey, data: ByteStream) -> Result<u64, StoreError>;

    /// Reads the object, or the byte range of it, as a stream.
    async fn get(&self, key: &StoreKey, range: Option<Range<u64>>) -> Result<ByteStream, StoreError>;

    /// The object's size.
    async fn head(&self, key: &StoreKey) -> Result<u64, StoreError>;

    /// Deletes the object; deleting a missing one is not an error.
    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError>;

    /// The object as a local file, when the store keeps it as one (the local folder), so checks
    /// can read it in place.
    fn local_path(&self, _key: &StoreKey) -> Option<std::path::PathBuf> {
        None
    }

    /// Moves a finished local file, whose bytes the caller made durable, into the store. The
    /// default streams it and removes the file; a local store renames it.
    async fn put_file(&self, key: &StoreKey, path: &Path) -> Result<u64, StoreError> {
        let file = tokio::fs::File::open(path).await?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
        let n = self.put(key, Box::pin(stream)).await?;
        let _ = tokio::fs::remove_file(path).await;
        Ok(n)
    }
}

/// The conformance suite every store passes.
#[cfg(test)]
pub(crate) async fn conformance(store: &dyn Store) {
    use futures_util::StreamExt;
    async fn read_all(s: ByteStream) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = s;
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }
    let key = StoreKey::new("file");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let chunks: Vec<std::io::Result<Bytes>> = data.chunks(65_536).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    assert!(matches!(store.get(&key, None).await, Err(e) if e.is_not_found()));
    assert!(store.head(&key).await.unwrap_err().is_not_found());
    let n = store.put(&key, Box::pin(futures_util::stream::iter(chunks))).await.unwrap();
    assert_eq!(n, data.len() as u64);
    assert_eq!(store.head(&key).await.unwrap(), data.len() as u64);
    assert_eq!(read_all(store.get(&key, None).await.unwrap()).await, data);
    assert_eq!(read_all(store.get(&key, Some(10..20)).await.unwrap()).await, &data[10..20]);
    assert_eq!(read_all(store.get(&key, Some(299_990..300_000)).await.unwrap()).await, &data[299_990..]);
    assert!(matches!(store.get(&key, Some(10..300_001)).await, Err(StoreError::BadRange(_))));
    // A failing stream leaves nothing behind.
    let broken = StoreKey::new("file");
    let bad: Vec<std::io::Result<Bytes>> =
        vec![Ok(Bytes::from_static(b"abc")), Err(std::io::Error::other("client went away"))];
    assert!(store.put(&broken, Box::pin(futures_util::stream::iter(bad))).await.is_err());
    assert!(store.head(&broken).await.unwrap_err().is_not_found());
    store.delete(&key).await.unwrap();
    store.delete(&key).await.unwrap();
    assert!(matches!(store.get(&key, None).await, Err(e) if e.is_not_found()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_ours_only() {
        let k = StoreKey::new("file");
        assert_eq!(StoreKey::parse(k.as_str()), Some(k.clone()));
        for bad in ["../etc/passwd", "ab/../../x.file", "/abs.file", "ab/cd.file", "", "zz/zz.file"] {
            assert_eq!(StoreKey::parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn local_store_conforms() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("files")).await.unwrap();
        conformance(&store).await;
    }
}
