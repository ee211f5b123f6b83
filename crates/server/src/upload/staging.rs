//! The staging area: one file per unfinished upload, named by the upload's id, written at an
//! offset as chunks stream in. Nothing here knows HTTP.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

/// How long a request body may send nothing before it counts as broken off.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The staging folder.
#[derive(Debug, Clone)]
pub struct Staging {
    root: PathBuf,
}

/// A checksum a chunk must match (tus checksum extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// SHA-1 digest.
    Sha1(Vec<u8>),
    /// SHA-256 digest.
    Sha256(Vec<u8>),
}

enum Hasher {
    None,
    Sha1(Sha1),
    Sha256(Sha256),
}

/// How a chunk went.
#[derive(Debug)]
pub enum WriteOutcome {
    /// The whole body was written: this many bytes.
    Complete(u64),
    /// The body broke off (client gone); this many bytes were kept (none when a checksum was
    /// asked for, since they cannot be verified).
    Interrupted(u64),
    /// The body was longer than allowed; nothing was kept.
    TooLong,
    /// The body did not match its checksum; nothing was kept.
    ChecksumMismatch,
}

impl Staging {
    /// A staging area in `root` (created if missing).
    pub async fn new(root: impl Into<PathBuf>) -> std::io::Result<Staging> {
        let root = root.into();
        tokio::fs::create_dir_all(&root).await?;
        Ok(Staging { root })
    }

    /// The file of an upload; ids are checked 128-bit hex, never user text.
    pub fn path(&self, id: &str) -> std::io::Result<PathBuf> {
        if !crate::db::is_id(id) {
            return Err(std::io::Error::other("not an upload id"));
        }
        Ok(self.root.join(id))
    }

    /// Creates the empty file of a new upload.
    pub async fn create(&self, id: &str) -> std::io::Result<()> {
        tokio::fs::File::create(self.path(id)?).await.map(drop)
    }

    /// Removes an upload's file; a missing one is fine.
    pub async fn remove(&self, id: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(id)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Bytes on disk for an upload (tests and diagnostics).
    pub async fn len(&self, id: &str) -> std::io::Result<u64> {
        Ok(tokio::fs::metadata(self.path(id)?).await?.len())
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes a chunk at `offset`, accepting at most `max` bytes. Bytes past `offset` left by a
    /// crash are cut first, so the recorded offset is the truth. Never holds more than one
    /// network chunk in memory.
    pub async fn write_at<S, E>(
        &self,
        id: &str,
        offset: u64,
        max: u64,
        mut body: S,
        checksum: Option<&Checksum>,
    ) -> std::io::Result<WriteOutcome>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
    {
        let path = self.path(id)?;
        let mut file = tokio::fs::OpenOptions::new().write(true).open(&path).await?;
        file.set_len(offset).await?;
        file.seek(SeekFrom::Start(offset)).await?;
        let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut hasher = match checksum {
            None => Hasher::None,
            Some(Checksum::Sha1(_)) => Hasher::Sha1(Sha1::new()),
            Some(Checksum::Sha256(_)) => Hasher::Sha256(Sha256::new()),
        };
        let mut written: u64 = 0;
        let mut broke = false;
        loop {
            // A body that stalls is treated like one that broke off: the lock is freed and the
            // client resumes from what arrived.
            let next = match tokio::time::timeout(IDLE_TIMEOUT, body.next()).await {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(_) => {
                    broke = true;
                    break;
                }
            };
            let Ok(chunk) = next else {
                broke = true;
                break;
            };
            let Some(total) = written.checked_add(chunk.len() as u64).filter(|t| *t <= max) else {
                out.flush().await?;
                out.into_inner().set_len(offset).await?;
                return Ok(WriteOutcome::TooLong);
            };
            out.write_all(&chunk).await?;
            match &mut hasher {
                Hasher::None => {}
                Hasher::Sha1(h) => h.update(&chunk),
                Hasher::Sha256(h) => h.update(&chunk),
            }
            written = total;
        }
        out.flush().await?;
        let file = out.into_inner();
        if broke {
            if checksum.is_some() {
                file.set_len(offset).await?;
                return Ok(WriteOutcome::Interrupted(0));
            }
            return Ok(WriteOutcome::Interrupted(written));
        }
        let matches = match (hasher, checksum) {
            (Hasher::Sha1(h), Some(Checksum::Sha1(want))) => h.finalize().as_slice() == want.as_slice(),
            (Hasher::Sha256(h), Some(Checksum::Sha256(want))) => h.finalize().as_slice() == want.as_slice(),
            _ => true,
        };
        if !matches {
            file.set_len(offset).await?;
            return Ok(WriteOutcome::ChecksumMismatch);
        }
        Ok(WriteOutcome::Complete(written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: Vec<Result<&'static [u8], ()>>) -> impl Stream<Item = Result<Bytes, ()>> + Unpin {
        futures_util::stream::iter(parts.into_iter().map(|p| p.map(Bytes::from_static)))
    }

    #[tokio::test]
    async fn chunks_land_at_offsets_and_bad_ones_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Staging::new(dir.path()).await.unwrap();
        let id = crate::db::new_id();
        s.create(&id).await.unwrap();
        assert!(matches!(s.write_at(&id, 0, 10, body(vec![Ok(b"abc"), Ok(b"def")]), None).await.unwrap(), WriteOutcome::Complete(6)));
        // Too long: cut back.
        assert!(matches!(s.write_at(&id, 6, 3, body(vec![Ok(b"ghij")]), None).await.unwrap(), WriteOutcome::TooLong));
        assert_eq!(s.len(&id).await.unwrap(), 6);
        // Checksum mismatch: cut back.
        let wrong = Checksum::Sha1(vec![0; 20]);
        assert!(matches!(s.write_at(&id, 6, 4, body(vec![Ok(b"ghij")]), Some(&wrong)).await.unwrap(), WriteOutcome::ChecksumMismatch));
        assert_eq!(s.len(&id).await.unwrap(), 6);
        let right = Checksum::Sha256(Sha256::digest(b"ghij").to_vec());
        assert!(matches!(s.write_at(&id, 6, 4, body(vec![Ok(b"gh"), Ok(b"ij")]), Some(&right)).await.unwrap(), WriteOutcome::Complete(4)));
        // A broken body keeps what arrived; a crash's leftovers past the offset are cut.
        assert!(matches!(s.write_at(&id, 10, 10, body(vec![Ok(b"kl"), Err(())]), None).await.unwrap(), WriteOutcome::Interrupted(2)));
        assert!(matches!(s.write_at(&id, 11, 10, body(vec![Ok(b"Z")]), None).await.unwrap(), WriteOutcome::Complete(1)));
        assert_eq!(tokio::fs::read(s.path(&id).unwrap()).await.unwrap(), b"abcdefghijkZ");
        s.remove(&id).await.unwrap();
        s.remove(&id).await.unwrap();
        assert!(s.path("../x").is_err());
    }
}
