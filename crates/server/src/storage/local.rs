//! The local folder store: `<root>/<ab>/<key>`, written through a temporary file and renamed,
//! so a reader never sees half an object.

use super::{ByteStream, Store, StoreError, StoreKey};
use bytes::Bytes;
use futures_util::StreamExt;
use std::io::SeekFrom;
use std::io::{Read, Seek};
use std::ops::Range;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Bytes read from a file per blocking call when an object is sent: few enough thread hand-offs
/// for a large file (a 25 MiB download took 100 at 256 KiB, and a third more CPU), and a bound on
/// what one download holds (this chunk and the one the socket is taking).
const READ_CHUNK: usize = 1024 * 1024;

/// Most bytes read on the calling thread (see [`LocalStore::get`]).
const INLINE_READ: u64 = 64 * 1024;

/// Reads the next `len` bytes of `file` (fewer only if it ends first: an error, objects do not
/// shrink), into a buffer of that size without zeroing it first.
fn read_chunk(file: &mut std::fs::File, len: u64) -> std::io::Result<Bytes> {
    let mut buf = Vec::with_capacity(len as usize);
    let n = file.take(len).read_to_end(&mut buf)?;
    if (n as u64) < len {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the object ended early"));
    }
    Ok(Bytes::from(buf))
}

/// `len` bytes of `file` from where it stands, a blocking read of at most [`READ_CHUNK`] per
/// item.
fn read_stream(file: std::fs::File, len: u64) -> ByteStream {
    Box::pin(futures_util::stream::try_unfold((Some(file), len), |(file, left)| async move {
        let Some(mut file) = file.filter(|_| left > 0) else {
            return Ok(None);
        };
        let want = left.min(READ_CHUNK as u64);
        let (file, chunk) = tokio::task::spawn_blocking(move || read_chunk(&mut file, want).map(|c| (file, c)))
            .await
            .map_err(std::io::Error::other)??;
        Ok(Some((chunk, (Some(file), left - want))))
    }))
}

/// Moves a durable file into the store at `path` (blocking): the rename, made durable by a sync
/// of its folder. `false` when it cannot be renamed there (another file system): nothing moved.
pub(crate) fn move_in(src: &Path, path: &Path) -> std::io::Result<bool> {
    let dir = path.parent().unwrap_or(Path::new("."));
    make_folder(dir)?;
    match std::fs::rename(src, path) {
        // The rename itself is durable once its folder is.
        Ok(()) => sync_folder(dir).map(|()| true),
        Err(_) => Ok(false),
    }
}

/// Makes `dir` if it is missing, durably: a new folder is named in its parent, which is synced.
fn make_folder(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    match dir.parent() {
        Some(parent) => sync_folder(parent),
        None => Ok(()),
    }
}

/// Makes the changes made so far to the names in `dir` durable (blocking).
pub(crate) fn sync_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// A store in a local folder.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at `root` (created if missing).
    pub async fn new(root: impl Into<PathBuf>) -> std::io::Result<LocalStore> {
        let root = root.into();
        tokio::fs::create_dir_all(&root).await?;
        Ok(LocalStore { root })
    }

    /// Where an object lives. Keys are validated by [`StoreKey`]; no user text reaches here.
    pub fn path_of(&self, key: &StoreKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    fn not_found(e: std::io::Error) -> StoreError {
        if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::NotFound
        } else {
            StoreError::Io(e)
        }
    }

    async fn prepare(&self, key: &StoreKey) -> Result<(PathBuf, PathBuf), StoreError> {
        let path = self.path_of(key);
        if let Some(dir) = path.parent().map(Path::to_owned) {
            tokio::task::spawn_blocking(move || make_folder(&dir)).await.map_err(std::io::Error::other)??;
        }
        let tmp = path.with_extension(format!("part-{}", crate::db::new_id()));
        Ok((path, tmp))
    }
}

#[async_trait::async_trait]
impl Store for LocalStore {
    async fn put(&self, key: &StoreKey, mut data: ByteStream) -> Result<u64, StoreError> {
        let (path, tmp) = self.prepare(key).await?;
        let result: Result<u64, StoreError> = async {
            let file = tokio::fs::File::create(&tmp).await?;
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
            let mut n: u64 = 0;
            while let Some(chunk) = data.next().await {
                let chunk = chunk?;
                n = n.checked_add(chunk.len() as u64).ok_or_else(|| std::io::Error::other("size overflow"))?;
                out.write_all(&chunk).await?;
            }
            out.flush().await?;
            out.into_inner().sync_all().await?;
            tokio::fs::rename(&tmp, &path).await?;
            if let Some(dir) = path.parent().map(Path::to_owned) {
                tokio::task::spawn_blocking(move || sync_folder(&dir)).await.map_err(std::io::Error::other)??;
            }
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn get(&self, key: &StoreKey, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        // Opened, measured and positioned in one blocking call; a small object (or range) is read
        // in the same call and sent as one chunk.
        let path = self.path_of(key);
        let small = range.as_ref().is_some_and(|r| r.end.saturating_sub(r.start) <= INLINE_READ);
        let open = move || -> Result<(std::fs::File, u64, Option<Bytes>), StoreError> {
            let mut file = std::fs::File::open(path).map_err(Self::not_found)?;
            let size = file.metadata()?.len();
            let range = range.unwrap_or(0..size);
            if range.start > range.end || range.end > size {
                return Err(StoreError::BadRange(range));
            }
            file.seek(SeekFrom::Start(range.start))?;
            let len = range.end - range.start;
            let whole = if len <= READ_CHUNK as u64 { Some(read_chunk(&mut file, len)?) } else { None };
            Ok((file, len, whole))
        };
        // A small range (the sender knows the size: a whole small file is the range 0..size) is
        // read right here: a few µs from the page cache, where handing it to a blocking thread and
        // back cost two wake-ups.
        let opened = if small {
            open()?
        } else {
            tokio::task::spawn_blocking(open).await.map_err(|e| StoreError::Io(std::io::Error::other(e)))??
        };
        Ok(match opened {
            (_, _, Some(whole)) => Box::pin(futures_util::stream::iter([Ok(whole)])),
            (file, len, None) => read_stream(file, len),
        })
    }

    async fn head(&self, key: &StoreKey) -> Result<u64, StoreError> {
        Ok(tokio::fs::metadata(self.path_of(key)).await.map_err(Self::not_found)?.len())
    }

    async fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn local_path(&self, key: &StoreKey) -> Option<PathBuf> {
        Some(self.path_of(key))
    }

    async fn put_file(&self, key: &StoreKey, src: &Path) -> Result<u64, StoreError> {
        // The staged bytes are durable already (staging syncs each chunk before it is
        // acknowledged); what is left to make durable is the rename. One blocking call: the
        // folder, the rename and the folder's sync.
        let (path, src_path) = (self.path_of(key), src.to_owned());
        let moved = tokio::task::spawn_blocking(move || -> std::io::Result<Option<u64>> {
            let size = std::fs::metadata(&src_path)?.len();
            Ok(move_in(&src_path, &path)?.then_some(size))
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        match moved {
            Some(size) => Ok(size),
            // Another file system (EXDEV): copy through a temporary file, then drop the source.
            None => {
                let file = tokio::fs::File::open(src).await?;
                let n = self.put(key, Box::pin(tokio_util::io::ReaderStream::new(file))).await?;
                let _ = tokio::fs::remove_file(src).await;
                Ok(n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file moved into a folder that did not exist: the folder is made, the file is there,
    /// its source gone.
    #[test]
    fn moving_in_makes_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("staged");
        std::fs::write(&src, b"bytes").unwrap();
        let dest = dir.path().join("files").join("ab").join("x.file");
        assert!(move_in(&src, &dest).unwrap());
        assert_eq!(std::fs::read(&dest).unwrap(), b"bytes");
        assert!(!src.exists());
    }
}
