//! The staging area: where an unfinished upload's bytes wait, written at an offset as chunks
//! stream in, until the whole file becomes an object of the store. Nothing here knows HTTP or
//! the database: the caller records the offset and the opaque `staged` state returned here in
//! one row, and only then acknowledges the chunk.
//!
//! Two implementations, as tusd has a file store and an S3 store:
//! - [`LocalStaging`]: one file per upload in a local folder (the embedded default: one instance);
//! - `S3Staging` (s3.rs): one multipart upload per tus upload in the bucket, so any
//!   instance can continue it.

use crate::storage::{ByteStream, Store, StoreKey};
use attache_protocol::UploadId;
use futures_util::StreamExt;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How long a request body may send nothing before it counts as broken off.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The next chunk of a request body: `Ok(None)` at its end, `Err(())` when it broke off or sent
/// nothing for [`IDLE_TIMEOUT`] (a stalled body counts as broken off: the lease is freed and the
/// client resumes from what arrived).
pub(crate) async fn next_chunk(body: &mut ByteStream) -> Result<Option<bytes::Bytes>, ()> {
    match tokio::time::timeout(IDLE_TIMEOUT, body.next()).await {
        Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
        Ok(None) => Ok(None),
        Ok(Some(Err(_))) | Err(_) => Err(()),
    }
}

/// A checksum a chunk must match (tus checksum extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// SHA-1 digest.
    Sha1(Vec<u8>),
    /// SHA-256 digest.
    Sha256(Vec<u8>),
}

/// Hashes a chunk as it streams, for its `Upload-Checksum`.
pub(crate) enum ChunkHasher {
    None,
    Sha1(Sha1),
    Sha256(Sha256),
}

impl ChunkHasher {
    pub(crate) fn new(checksum: Option<&Checksum>) -> ChunkHasher {
        match checksum {
            None => ChunkHasher::None,
            Some(Checksum::Sha1(_)) => ChunkHasher::Sha1(Sha1::new()),
            Some(Checksum::Sha256(_)) => ChunkHasher::Sha256(Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            ChunkHasher::None => {}
            ChunkHasher::Sha1(h) => h.update(data),
            ChunkHasher::Sha256(h) => h.update(data),
        }
    }

    pub(crate) fn matches(self, checksum: Option<&Checksum>) -> bool {
        match (self, checksum) {
            (ChunkHasher::Sha1(h), Some(Checksum::Sha1(want))) => h.finalize().as_slice() == want.as_slice(),
            (ChunkHasher::Sha256(h), Some(Checksum::Sha256(want))) => h.finalize().as_slice() == want.as_slice(),
            _ => true,
        }
    }
}

/// How a chunk went.
#[derive(Debug, PartialEq, Eq)]
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

/// A written chunk: what happened, and the staging state to record with the new offset.
#[derive(Debug)]
pub struct Written {
    /// What happened.
    pub outcome: WriteOutcome,
    /// The new `staged` state (unchanged when nothing was kept).
    pub staged: String,
    /// The file is in the store already, at its target (see [`Spot::whole`]).
    pub in_store: bool,
}

/// Failures of a staging area.
#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    /// The upload's bytes so far are gone (the multipart upload vanished from the bucket, the
    /// staging file was removed): it cannot continue.
    #[error("the upload's bytes so far are gone: {0}")]
    Lost(String),
    /// The backend failed.
    #[error("staging i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Where one upload stands, as the database has it.
#[derive(Debug, Clone, Copy)]
pub struct Spot<'a> {
    /// The upload.
    pub id: &'a UploadId,
    /// The store object the finished file becomes.
    pub target: &'a StoreKey,
    /// The staging state recorded with the offset.
    pub staged: &'a str,
    /// Bytes acknowledged so far.
    pub offset: u64,
    /// Announced length.
    pub length: u64,
    /// The upload is sent whole and finishes when complete (not held): a write from 0 that
    /// completes it may put the file in the store at once (the local folder does, in the same
    /// blocking call as its sync), as nothing of it was acknowledged before.
    pub whole: bool,
}

/// A staging area.
#[async_trait::async_trait]
pub trait Staging: Send + Sync + std::fmt::Debug + 'static {
    /// Prepares a new upload; returns its initial `staged` state.
    async fn create(&self, id: &UploadId, target: &StoreKey) -> Result<String, StagingError>;

    /// Appends a body at `spot.offset`, keeping at most `length - offset` bytes. The returned
    /// bytes are durable when this returns; nothing counts until the caller records the new
    /// offset and state.
    async fn write(
        &self,
        spot: Spot<'_>,
        body: ByteStream,
        checksum: Option<&Checksum>,
    ) -> Result<Written, StagingError>;

    /// After the caller recorded a write: frees what the previous state needed and the new one
    /// does not (the S3 tail object). Best effort.
    async fn recorded(&self, _id: &UploadId, _previous: &str, _current: &str) {}

    /// Makes the complete upload the store object `spot.target`. Idempotent: when the object
    /// is already there (a crash after this, another instance), it does nothing.
    async fn complete(&self, spot: Spot<'_>) -> Result<(), StagingError>;

    /// Whether [`Staging::complete`] leaves nothing behind to [`Staging::discard`] (the local
    /// file is moved into the store).
    fn complete_frees(&self) -> bool {
        false
    }

    /// Frees everything an upload left in staging (finished, refused, cancelled or expired).
    async fn discard(&self, id: &UploadId, staged: &str) -> Result<(), StagingError>;

    /// Bytes held for an upload, if it still holds any (tests and diagnostics).
    async fn held(&self, id: &UploadId, staged: &str) -> Result<Option<u64>, StagingError>;
}

/// The local staging folder: one file per unfinished upload, named by the upload's id.
#[derive(Debug, Clone)]
pub struct LocalStaging {
    root: PathBuf,
    store: Arc<dyn Store>,
}

impl LocalStaging {
    /// A staging area in `root` (created if missing), finishing into `store`.
    pub async fn new(root: impl Into<PathBuf>, store: Arc<dyn Store>) -> std::io::Result<LocalStaging> {
        let root = root.into();
        tokio::fs::create_dir_all(&root).await?;
        Ok(LocalStaging { root, store })
    }

    /// The file of an upload; ids are checked 128-bit hex, never user text.
    pub fn path(&self, id: &str) -> std::io::Result<PathBuf> {
        if !crate::db::is_id(id) {
            return Err(std::io::Error::other("not an upload id"));
        }
        Ok(self.root.join(id))
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    async fn remove(&self, id: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(id)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Most bytes of a request body gathered before they are written (per request).
const WRITE_BATCH: usize = 512 * 1024;

/// What a batch's write does to make its bytes durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// Nothing yet (more of the body follows).
    None,
    /// The chunk is acknowledged but the file is not complete: its bytes are in the kernel's
    /// page cache (they survive the process being killed) and their write-back starts now, so
    /// the finishing sync finds little left to write.
    Start,
    /// The chunk completes the file: everything is on disk before the answer.
    Data,
}

/// Offsets, lengths and memory of direct writes are multiples of this (the largest logical block
/// size in common use; a multiple of the others).
const BLOCK: usize = 4096;

/// Most bytes one direct write sends (the size of the aligned buffers).
const DIRECT_CHUNK: usize = 512 * 1024;

/// Fewer whole blocks than this in one write go through the page cache: for a small file the
/// second descriptor and the wait for the device cost more than the copy saves.
const DIRECT_MIN: u64 = 256 * 1024;

/// Aligned buffers in all: made once and kept (their pages stay mapped, and memory touched for
/// the first time costs more than the copy into it); a write finding none free waits for one.
/// Eight writes of a device's bandwidth at once keep it busy; more would only hold memory.
const DIRECT_BUFFERS: usize = 8;

/// An upload's staging file as a write holds it: through the page cache, and (Linux, a file
/// system that takes it) a second descriptor with `O_DIRECT` for whole blocks. Written into the
/// page cache, each byte is copied into a page the kernel allocates for it, then written back;
/// here that copy cost more CPU than the SHA-256 of the same bytes (a fresh page is a fault in
/// the host of a virtual machine). A direct write sends the bytes from one reused buffer.
pub(crate) struct StagedFile {
    file: std::fs::File,
    path: PathBuf,
    direct: Direct,
}

/// The staged file's direct descriptor.
enum Direct {
    /// Not opened yet (no write was large enough).
    Untried,
    Open(std::fs::File),
    /// The file system refused it, or a write through it: the page cache from now on.
    Off,
}

impl StagedFile {
    fn new(file: std::fs::File, path: &Path) -> StagedFile {
        StagedFile { file, path: path.to_owned(), direct: Direct::Untried }
    }

    /// Writes `chunks` at `at`: the bytes up to the first block boundary and after the last one
    /// through the page cache, whole blocks directly when the file system takes it.
    fn write_at(&mut self, chunks: &[bytes::Bytes], at: u64) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let total: u64 = chunks.iter().map(|c| c.len() as u64).sum();
        let head = ((BLOCK as u64 - at % BLOCK as u64) % BLOCK as u64).min(total);
        let blocks = (total - head) / BLOCK as u64 * BLOCK as u64;
        let mut pieces = Pieces { rest: chunks.iter(), current: &[] };
        let mut pos = at;
        self.buffered(&mut pieces, head, &mut pos)?;
        if blocks >= DIRECT_MIN {
            let direct = match std::mem::replace(&mut self.direct, Direct::Off) {
                Direct::Open(f) => Some(f),
                Direct::Untried => open_direct(&self.path),
                Direct::Off => None,
            };
            if let Some(direct) = direct {
                let mut buffer = Aligned::take();
                let mut left = blocks;
                let mut refused = false;
                while left > 0 && !refused {
                    let n = left.min(DIRECT_CHUNK as u64) as usize;
                    let out = &mut buffer.slice()[..n];
                    pieces.copy_into(out);
                    match direct.write_at(out, pos) {
                        Ok(done) if done == n => {}
                        // Short, or refused (an alignment this file system does not take): the
                        // rest goes through the page cache, and so does the rest of the file.
                        Ok(done) => {
                            self.file.write_all_at(&out[done..], pos + done as u64)?;
                            refused = true;
                        }
                        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                            self.file.write_all_at(out, pos)?;
                            refused = true;
                        }
                        Err(e) => return Err(e),
                    }
                    pos += n as u64;
                    left -= n as u64;
                }
                if !refused {
                    self.direct = Direct::Open(direct);
                }
            }
        }
        // What no direct write took: the bytes after the last block boundary, or all of them.
        self.buffered(&mut pieces, total - (pos - at), &mut pos)
    }

    /// Writes the next `n` bytes of `pieces` at `*pos` through the page cache.
    fn buffered(&self, pieces: &mut Pieces<'_>, mut n: u64, pos: &mut u64) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        while n > 0 {
            let Some(piece) = pieces.next(n as usize) else { break };
            self.file.write_all_at(piece, *pos)?;
            *pos += piece.len() as u64;
            n -= piece.len() as u64;
        }
        Ok(())
    }
}

/// The file opened again for direct writes, if the file system takes them.
fn open_direct(path: &Path) -> Option<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new().write(true).custom_flags(libc::O_DIRECT).open(path).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// A batch's bytes, read in order.
struct Pieces<'a> {
    rest: std::slice::Iter<'a, bytes::Bytes>,
    current: &'a [u8],
}

impl<'a> Pieces<'a> {
    /// The next bytes, at most `max` of them; `None` at the end.
    fn next(&mut self, max: usize) -> Option<&'a [u8]> {
        while self.current.is_empty() {
            self.current = self.rest.next()?;
        }
        let (piece, rest) = self.current.split_at(max.min(self.current.len()));
        self.current = rest;
        Some(piece)
    }

    /// Fills `out` with the next bytes (the caller knows there are enough).
    fn copy_into(&mut self, out: &mut [u8]) {
        let mut filled = 0;
        while filled < out.len() {
            let Some(piece) = self.next(out.len() - filled) else { break };
            out[filled..filled + piece.len()].copy_from_slice(piece);
            filled += piece.len();
        }
        debug_assert_eq!(filled, out.len(), "fewer bytes than the blocks counted");
    }
}

/// A buffer of [`DIRECT_CHUNK`] bytes aligned to [`BLOCK`], one of [`DIRECT_BUFFERS`].
struct Aligned(Vec<u8>);

/// The free buffers, and how many were made.
static BUFFERS: std::sync::Mutex<(Vec<Vec<u8>>, usize)> = std::sync::Mutex::new((Vec::new(), 0));
static BUFFER_FREED: std::sync::Condvar = std::sync::Condvar::new();

impl Aligned {
    /// A free buffer, a new one while fewer than [`DIRECT_BUFFERS`] were made, or the next one
    /// given back (blocking).
    fn take() -> Aligned {
        let mut buffers = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(free) = buffers.0.pop() {
                return Aligned(free);
            }
            if buffers.1 < DIRECT_BUFFERS {
                buffers.1 += 1;
                return Aligned(vec![0; DIRECT_CHUNK + BLOCK]);
            }
            buffers = BUFFER_FREED.wait(buffers).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn slice(&mut self) -> &mut [u8] {
        let start = self.0.as_ptr().align_offset(BLOCK);
        &mut self.0[start..start + DIRECT_CHUNK]
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        BUFFERS.lock().unwrap_or_else(|e| e.into_inner()).0.push(std::mem::take(&mut self.0));
        BUFFER_FREED.notify_one();
    }
}

/// Chunks of a body waiting to be written together.
#[derive(Default)]
struct Batch {
    chunks: Vec<bytes::Bytes>,
    len: usize,
}

impl Batch {
    fn push(&mut self, chunk: bytes::Bytes) {
        self.len += chunk.len();
        self.chunks.push(chunk);
    }

    /// Takes the batch but for its last bytes past a block boundary of the file (the batch
    /// starts at `at`), which stay for the next: what is taken ends on a boundary, so that
    /// whole blocks go directly and the next batch starts on one.
    fn take_to_boundary(&mut self, at: u64) -> Batch {
        let mut keep = ((at + self.len as u64) % BLOCK as u64) as usize;
        if keep >= self.len {
            return Batch::default();
        }
        let mut kept = Vec::new();
        while keep > 0 {
            let Some(last) = self.chunks.last_mut() else { break };
            if last.len() <= keep {
                keep -= last.len();
                self.len -= last.len();
                kept.push(self.chunks.pop().unwrap_or_default());
            } else {
                kept.push(last.split_off(last.len() - keep));
                self.len -= keep;
                keep = 0;
            }
        }
        kept.reverse();
        let taken = std::mem::take(self);
        for chunk in kept {
            self.push(chunk);
        }
        taken
    }

    fn take(&mut self) -> Batch {
        std::mem::take(self)
    }

    /// Writes the batch at `at` in one blocking call: opens the staging file first when `file`
    /// is `None` (a missing file, or one shorter than the acknowledged `offset`, is lost; bytes
    /// past the offset, a write that was never recorded, are cut: the record is the truth);
    /// then `flush`es; then, if `move_to` names a place in the store, moves the synced file there
    /// (`true` when it did).
    async fn write(
        self,
        file: Option<StagedFile>,
        path: &Path,
        (offset, at): (u64, u64),
        flush: Flush,
        move_to: Option<PathBuf>,
    ) -> Result<(StagedFile, bool), StagingError> {
        let path = path.to_owned();
        blocking(move || {
            let mut file = match file {
                Some(f) => f,
                None => {
                    // The file is made by the first write (an upload that never sent a byte
                    // costs nothing on disk), or made again by a write from 0 whose earlier
                    // attempt was never recorded.
                    let f = match std::fs::OpenOptions::new().write(true).create(offset == 0).open(&path) {
                        Ok(f) => f,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            return Err(StagingError::Lost("the staging file is missing".into()))
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let on_disk = f.metadata()?.len();
                    if on_disk < offset {
                        return Err(StagingError::Lost(format!(
                            "the staging file holds {on_disk} bytes, {offset} were acknowledged"
                        )));
                    }
                    if on_disk > offset {
                        f.set_len(offset)?;
                    }
                    StagedFile::new(f, &path)
                }
            };
            file.write_at(&self.chunks, at)?;
            match flush {
                Flush::None => {}
                Flush::Start => start_writeback(&file.file),
                Flush::Data => file.file.sync_data()?,
            }
            let moved = match move_to.filter(|_| flush == Flush::Data) {
                Some(dest) => crate::storage::move_in(&path, &dest)?,
                None => false,
            };
            Ok((file, moved))
        })
        .await
    }
}

/// Starts writing a file's dirty pages to disk without waiting for them (Linux); elsewhere the
/// finishing sync does it all.
fn start_writeback(file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain system call on a file descriptor this function borrows.
        unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Cuts the staging file back to `offset` after a refused body (nothing to do when no batch
/// reached it).
async fn cut_back(file: Option<StagedFile>, offset: u64) -> Result<(), StagingError> {
    match file {
        Some(f) => blocking(move || Ok(f.file.set_len(offset)?)).await,
        None => Ok(()),
    }
}

/// Runs file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StagingError> + Send + 'static,
) -> Result<T, StagingError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StagingError::Io(std::io::Error::other(e)))?
}

#[async_trait::async_trait]
impl Staging for LocalStaging {
    async fn create(&self, id: &UploadId, _target: &StoreKey) -> Result<String, StagingError> {
        // The file comes with the first bytes (see `Batch::write`).
        self.path(id.as_str())?;
        Ok(String::new())
    }

    async fn write(
        &self,
        spot: Spot<'_>,
        mut body: ByteStream,
        checksum: Option<&Checksum>,
    ) -> Result<Written, StagingError> {
        // The body is gathered in batches of at most WRITE_BATCH bytes (a bound per request) and
        // each batch goes to the file in one blocking call: the file is opened, checked and cut
        // back to the offset with the first one, and synced with the last. A small body is one
        // call in all, where each step on its own would be a hand-off to another thread.
        let path = self.path(spot.id.as_str())?;
        let max = spot.length.saturating_sub(spot.offset);
        let mut file: Option<StagedFile> = None;
        let mut batch = Batch::default();
        // Where the next batch goes in the file.
        let mut at = spot.offset;
        let mut hasher = ChunkHasher::new(checksum);
        let mut written: u64 = 0;
        let mut broke = false;
        let unchanged = |outcome| Written { outcome, staged: spot.staged.to_owned(), in_store: false };
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
                cut_back(file, spot.offset).await?;
                return Ok(unchanged(WriteOutcome::TooLong));
            };
            hasher.update(&chunk);
            written = total;
            batch.push(chunk);
            if batch.len >= WRITE_BATCH {
                let taken = batch.take_to_boundary(at);
                let n = taken.len as u64;
                file = Some(taken.write(file, &path, (spot.offset, at), Flush::None, None).await?.0);
                at += n;
            }
        }
        if (broke && checksum.is_some()) || (!broke && !hasher.matches(checksum)) {
            cut_back(file, spot.offset).await?;
            let outcome = if broke { WriteOutcome::Interrupted(0) } else { WriteOutcome::ChecksumMismatch };
            return Ok(unchanged(outcome));
        }
        // Before the offset is recorded and the chunk acknowledged: the chunk that completes the
        // file is synced to disk; an earlier one is handed to the kernel, whose page cache keeps
        // it through a crash of the process (the finishing sync writes it out with the rest).
        let flush = match written {
            0 => Flush::None,
            n if spot.offset + n == spot.length => Flush::Data,
            _ => Flush::Start,
        };
        // A whole file, complete and intact, goes to the store in the same call (finishing then
        // has nothing to move).
        let move_to = (spot.whole && spot.offset == 0 && !broke).then(|| self.store.local_path(spot.target)).flatten();
        let (_, in_store) = batch.take().write(file, &path, (spot.offset, at), flush, move_to).await?;
        let outcome = if broke { WriteOutcome::Interrupted(written) } else { WriteOutcome::Complete(written) };
        Ok(Written { in_store, ..unchanged(outcome) })
    }

    async fn complete(&self, spot: Spot<'_>) -> Result<(), StagingError> {
        let path = self.path(spot.id.as_str())?;
        match self.store.put_file(spot.target, &path).await {
            Ok(_) => Ok(()),
            Err(crate::storage::StoreError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                match self.store.head(spot.target).await {
                    // Moved already, before a crash.
                    Ok(n) if n == spot.length => Ok(()),
                    _ => Err(StagingError::Lost("the staging file is missing".into())),
                }
            }
            Err(e) => Err(StagingError::Io(std::io::Error::other(e))),
        }
    }

    fn complete_frees(&self) -> bool {
        true
    }

    async fn discard(&self, id: &UploadId, _staged: &str) -> Result<(), StagingError> {
        Ok(self.remove(id.as_str()).await?)
    }

    async fn held(&self, id: &UploadId, _staged: &str) -> Result<Option<u64>, StagingError> {
        match tokio::fs::metadata(self.path(id.as_str())?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn body(parts: Vec<Result<&'static [u8], ()>>) -> ByteStream {
        Box::pin(futures_util::stream::iter(
            parts.into_iter().map(|p| p.map(Bytes::from_static).map_err(|_| std::io::Error::other("gone"))),
        ))
    }

    /// A local store and a staging folder that finishes into it, both in `dir`.
    async fn staging_in(dir: &Path) -> (Arc<dyn Store>, LocalStaging) {
        let store: Arc<dyn Store> = Arc::new(crate::storage::LocalStore::new(dir.join("files")).await.unwrap());
        let s = LocalStaging::new(dir.join("staging"), store.clone()).await.unwrap();
        (store, s)
    }

    #[tokio::test]
    async fn chunks_land_at_offsets_and_bad_ones_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, s) = staging_in(dir.path()).await;
        let id = UploadId(crate::db::new_id());
        let target = StoreKey::for_upload(&id);
        s.create(&id, &target).await.unwrap();
        let spot = |offset, length| Spot { id: &id, target: &target, staged: "", offset, length, whole: false };
        let w = |o: WriteOutcome| o;
        assert_eq!(
            w(s.write(spot(0, 6), body(vec![Ok(b"abc"), Ok(b"def")]), None).await.unwrap().outcome),
            WriteOutcome::Complete(6)
        );
        // Too long: cut back.
        assert_eq!(s.write(spot(6, 9), body(vec![Ok(b"ghij")]), None).await.unwrap().outcome, WriteOutcome::TooLong);
        assert_eq!(s.held(&id, "").await.unwrap(), Some(6));
        // Checksum mismatch: cut back.
        let wrong = Checksum::Sha1(vec![0; 20]);
        assert_eq!(
            s.write(spot(6, 12), body(vec![Ok(b"ghij")]), Some(&wrong)).await.unwrap().outcome,
            WriteOutcome::ChecksumMismatch
        );
        assert_eq!(s.held(&id, "").await.unwrap(), Some(6));
        let right = Checksum::Sha256(Sha256::digest(b"ghij").to_vec());
        assert_eq!(
            s.write(spot(6, 12), body(vec![Ok(b"gh"), Ok(b"ij")]), Some(&right)).await.unwrap().outcome,
            WriteOutcome::Complete(4)
        );
        // A broken body keeps what arrived; a crash's leftovers past the offset are cut.
        assert_eq!(
            s.write(spot(10, 12), body(vec![Ok(b"kl"), Err(())]), None).await.unwrap().outcome,
            WriteOutcome::Interrupted(2)
        );
        assert_eq!(s.write(spot(11, 12), body(vec![Ok(b"Z")]), None).await.unwrap().outcome, WriteOutcome::Complete(1));
        assert_eq!(tokio::fs::read(s.path(id.as_str()).unwrap()).await.unwrap(), b"abcdefghijkZ");
        // Completing moves the bytes into the store, once; a second call finds them there.
        s.complete(spot(12, 12)).await.unwrap();
        s.complete(spot(12, 12)).await.unwrap();
        assert_eq!(store.head(&target).await.unwrap(), 12);
        assert_eq!(s.held(&id, "").await.unwrap(), None);
        s.discard(&id, "").await.unwrap();
        assert!(s.path("../x").is_err());
        // Bytes that were acknowledged but are gone: the upload cannot continue.
        let lost = UploadId(crate::db::new_id());
        s.create(&lost, &target).await.unwrap();
        let spot = Spot { id: &lost, target: &target, staged: "", offset: 5, length: 10, whole: false };
        assert!(matches!(s.write(spot, body(vec![Ok(b"x")]), None).await, Err(StagingError::Lost(_))));
    }

    /// Bodies in uneven chunks, at uneven offsets, in several batches: the file holds exactly
    /// the bytes sent, whether whole blocks go directly or through the page cache.
    #[tokio::test]
    async fn uneven_chunks_and_offsets_land_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let (_, s) = staging_in(dir.path()).await;
        let data: Vec<u8> = (0..3 * WRITE_BATCH as u32 + 777).map(|i| (i * 7 + i / 4093) as u8).collect();
        let id = UploadId(crate::db::new_id());
        let target = StoreKey::for_upload(&id);
        let len = data.len() as u64;
        let spot = |offset| Spot { id: &id, target: &target, staged: "", offset, length: len, whole: false };
        // Chunks of odd sizes, as a network delivers them.
        let body = |bytes: &[u8]| -> ByteStream {
            let chunks: Vec<_> = bytes.chunks(12_345).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
            Box::pin(futures_util::stream::iter(chunks))
        };
        let cuts = [0, 1000, 1000 + WRITE_BATCH + 4096 * 3 + 5, data.len()];
        for w in cuts.windows(2) {
            let out = s.write(spot(w[0] as u64), body(&data[w[0]..w[1]]), None).await.unwrap();
            assert_eq!(out.outcome, WriteOutcome::Complete((w[1] - w[0]) as u64));
        }
        assert_eq!(tokio::fs::read(s.path(id.as_str()).unwrap()).await.unwrap(), data);

        // The same bytes through the page cache alone, and from an unaligned offset directly.
        for direct in [false, true] {
            let path = dir.path().join(format!("plain-{direct}"));
            std::fs::write(&path, &data[..3]).unwrap();
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            let mut staged = StagedFile::new(f, &path);
            if !direct {
                staged.direct = Direct::Off;
            }
            let chunks: Vec<Bytes> = data[3..].chunks(9_999).map(Bytes::copy_from_slice).collect();
            staged.write_at(&chunks, 3).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), data, "direct: {direct}");
        }
    }

    /// A batch taken to a block boundary keeps the bytes past it for the next, in order.
    #[test]
    fn a_batch_is_taken_to_a_block_boundary() {
        let mut b = Batch::default();
        for n in [5000usize, 3000, 100] {
            b.push(Bytes::from(vec![n as u8; n]));
        }
        // From 100: 100 + 8100 = 8200, 8 past the boundary at 8192.
        let taken = b.take_to_boundary(100);
        assert_eq!((taken.len, b.len), (8092, 8));
        assert_eq!(taken.chunks.iter().map(|c| c.len()).collect::<Vec<_>>(), [5000, 3000, 92]);
        assert_eq!(b.chunks.concat(), vec![100u8; 8]);
        // Already on a boundary: all of it.
        let mut b = Batch::default();
        b.push(Bytes::from(vec![1u8; 8192]));
        assert_eq!((b.take_to_boundary(4096).len, b.len), (8192, 0));
    }

    /// A file sent whole goes to the store with its sync; a body that breaks off, or does not
    /// complete the file, stays in staging.
    #[tokio::test]
    async fn a_whole_file_goes_to_the_store_with_its_write() {
        let dir = tempfile::tempdir().unwrap();
        let (store, s) = staging_in(dir.path()).await;
        let id = UploadId(crate::db::new_id());
        let target = StoreKey::for_upload(&id);
        let spot = |offset, length| Spot { id: &id, target: &target, staged: "", offset, length, whole: true };
        // Broken off: kept in staging, nothing in the store.
        let w = s.write(spot(0, 6), body(vec![Ok(b"abc"), Err(())]), None).await.unwrap();
        assert_eq!((w.outcome, w.in_store), (WriteOutcome::Interrupted(3), false));
        assert_eq!(s.held(&id, "").await.unwrap(), Some(3));
        assert!(store.head(&target).await.is_err());
        // Not complete: the same.
        let w = s.write(spot(0, 6), body(vec![Ok(b"abc")]), None).await.unwrap();
        assert_eq!((w.outcome, w.in_store), (WriteOutcome::Complete(3), false));
        assert!(store.head(&target).await.is_err());
        // Whole: in the store, byte for byte, and gone from staging.
        let w = s.write(spot(0, 6), body(vec![Ok(b"abc"), Ok(b"def")]), None).await.unwrap();
        assert_eq!((w.outcome, w.in_store), (WriteOutcome::Complete(6), true));
        assert_eq!(s.held(&id, "").await.unwrap(), None);
        assert_eq!(tokio::fs::read(store.local_path(&target).unwrap()).await.unwrap(), b"abcdef");
    }
}
