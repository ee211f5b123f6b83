//! A content-addressed download cache: files live under their SHA-256, the cache has a size
//! cap, and the least recently used go first. The modification time records use, so several
//! processes can share one cache folder. The cap can change while the cache is in use (a setting
//! of the console), and a file can be pinned (shown right now) so that no eviction takes it.
//! Downloads in progress are `.part` files beside their destination: never counted, never evicted.

use crate::{Attachment, ClientError, Result, Session};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Default cap: 512 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 512 * 1024 * 1024;

/// A cache folder with a size cap. Clones share the cap and the pins.
#[derive(Debug, Clone)]
pub struct FileCache {
    dir: PathBuf,
    cap: Arc<AtomicU64>,
    pins: Arc<Mutex<HashMap<String, usize>>>,
}

/// What a cache holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheUsage {
    /// Files held.
    pub files: u64,
    /// Bytes held.
    pub bytes: u64,
}

/// Keeps one cached file from eviction and [`FileCache::clear`] while it lives (e.g. the picture
/// the console's gallery shows). Dropping it lets the file go again.
#[derive(Debug)]
pub struct CachePin {
    sha256: String,
    pins: Arc<Mutex<HashMap<String, usize>>>,
}

impl CachePin {
    /// The pinned file's SHA-256.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

impl Drop for CachePin {
    fn drop(&mut self) {
        let mut pins = self.pins.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = pins.get_mut(&self.sha256) {
            *n -= 1;
            if *n == 0 {
                pins.remove(&self.sha256);
            }
        }
    }
}

fn valid_sha(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FileCache {
    /// A cache in `dir`, holding at most `cap_bytes`.
    pub fn new(dir: impl Into<PathBuf>, cap_bytes: u64) -> FileCache {
        FileCache { dir: dir.into(), cap: Arc::new(AtomicU64::new(cap_bytes)), pins: Arc::default() }
    }

    /// The cap in bytes.
    pub fn cap(&self) -> u64 {
        self.cap.load(Ordering::Relaxed)
    }

    /// Sets the cap (for this cache and its clones); the next [`FileCache::evict`] applies it.
    pub fn set_cap(&self, cap_bytes: u64) {
        self.cap.store(cap_bytes, Ordering::Relaxed);
    }

    /// Keeps the file with this SHA-256 (there or not yet) from eviction while the pin lives.
    pub fn pin(&self, sha256: &str) -> CachePin {
        let sha256 = sha256.to_ascii_lowercase();
        *self.pins.lock().unwrap_or_else(|e| e.into_inner()).entry(sha256.clone()).or_insert(0) += 1;
        CachePin { sha256, pins: self.pins.clone() }
    }

    fn pinned(&self, path: &Path) -> bool {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.pins.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&name)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a file with this SHA-256 lives (whether or not it is there).
    pub fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        valid_sha(sha256).then(|| self.dir.join(&sha256[..2]).join(sha256))
    }

    /// The cached file, marked as just used.
    pub fn get(&self, sha256: &str) -> Option<PathBuf> {
        let p = self.path_for(sha256)?;
        let f = std::fs::File::options().write(true).open(&p).ok()?;
        let _ = f.set_modified(SystemTime::now());
        Some(p)
    }

    /// Bytes held.
    pub fn size(&self) -> u64 {
        self.usage().bytes
    }

    /// Files and bytes held (finished files only: downloads in progress are not counted).
    pub fn usage(&self) -> CacheUsage {
        let entries = self.entries();
        CacheUsage { files: entries.len() as u64, bytes: entries.iter().map(|e| e.1).sum() }
    }

    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let mut out = Vec::new();
        let Ok(dirs) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        for d in dirs.flatten() {
            let Ok(files) = std::fs::read_dir(d.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if !valid_sha(&name) {
                    continue;
                }
                if let Ok(m) = f.metadata() {
                    out.push((f.path(), m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
                }
            }
        }
        out
    }

    /// Removes the least recently used files until the cache fits its cap, sparing `keep` and
    /// the pinned files. Returns the SHA-256s of the files that went.
    pub fn evict(&self, keep: Option<&Path>) -> Vec<String> {
        self.remove_oldest(keep, self.cap())
    }

    /// Removes every file but the pinned ones. Returns the SHA-256s of the files that went.
    pub fn clear(&self) -> Vec<String> {
        self.remove_oldest(None, 0)
    }

    fn remove_oldest(&self, keep: Option<&Path>, cap: u64) -> Vec<String> {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort_by_key(|e| e.2);
        let mut removed = Vec::new();
        for (path, len, _) in entries {
            if total <= cap {
                break;
            }
            if Some(path.as_path()) == keep || self.pinned(&path) {
                continue;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
                removed.push(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
            }
        }
        removed
    }

    /// The attachment's file from the cache, downloading it (resumable, verified) when missing.
    pub(crate) async fn fetch(&self, s: &Session, a: &Attachment) -> Result<PathBuf> {
        self.fetch_url(s, &a.url, &a.sha256).await
    }

    /// The file of `url` whose SHA-256 is `sha256`, from the cache or downloaded.
    pub(crate) async fn fetch_url(&self, s: &Session, url: &str, sha256: &str) -> Result<PathBuf> {
        let sha256 = sha256.to_ascii_lowercase();
        let dest =
            self.path_for(&sha256).ok_or_else(|| ClientError::Protocol(format!("'{sha256}' is not a SHA-256")))?;
        if let Some(p) = self.get(&sha256) {
            return Ok(p);
        }
        crate::download::download(s, url, Some(&sha256), &dest).await?;
        let keep = dest.clone();
        let me = self.clone();
        let _ = tokio::task::spawn_blocking(move || me.evict(Some(&keep))).await;
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(dir.path(), 250);
        let shas: Vec<String> = (0..3).map(|i| format!("{i:0>64}")).collect();
        for (i, sha) in shas.iter().enumerate() {
            let p = cache.path_for(sha).unwrap();
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, vec![0u8; 100]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i as u64)).unwrap();
        }
        // Using the oldest makes it the newest.
        assert!(cache.get(&shas[0]).is_some());
        assert_eq!(cache.evict(None), vec![shas[1].clone()]);
        assert!(cache.get(&shas[1]).is_none(), "the least recently used went");
        assert!(cache.get(&shas[0]).is_some() && cache.get(&shas[2]).is_some());
        assert_eq!(cache.size(), 200);
        assert!(cache.path_for("../../etc/passwd").is_none());
    }

    /// Three files of 100 bytes, used in order (the first is the least recently used).
    fn three(dir: &Path, cap: u64) -> (FileCache, Vec<String>) {
        let cache = FileCache::new(dir, cap);
        let shas: Vec<String> = (0..3).map(|i| format!("{:0>64}", i + 1)).collect();
        for (i, sha) in shas.iter().enumerate() {
            let p = cache.path_for(sha).unwrap();
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, vec![7u8; 100]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i as u64)).unwrap();
        }
        (cache, shas)
    }

    #[test]
    fn a_lower_cap_set_on_a_clone_evicts_the_oldest_but_never_a_pinned_file() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, shas) = three(dir.path(), 1 << 20);
        assert!(cache.evict(None).is_empty(), "under the cap nothing goes");
        let shown = cache.pin(&shas[0].to_ascii_uppercase());
        // The setting changes through another handle (the console's gallery holds a clone).
        cache.clone().set_cap(250);
        assert_eq!(cache.cap(), 250);
        assert_eq!(cache.evict(None), vec![shas[1].clone()], "the oldest unpinned file went first");
        cache.set_cap(150);
        assert_eq!(cache.evict(None), vec![shas[2].clone()]);
        assert_eq!(cache.usage(), CacheUsage { files: 1, bytes: 100 });
        assert!(cache.get(&shas[0]).is_some(), "the pinned file stays even though it is the oldest");
        drop(shown);
        cache.set_cap(50);
        assert_eq!(cache.evict(None), vec![shas[0].clone()], "unpinned, it goes too");
        assert_eq!(cache.usage(), CacheUsage::default());
    }

    #[test]
    fn clear_spares_pinned_files_and_downloads_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let (cache, shas) = three(dir.path(), 1 << 20);
        let part = crate::download::part_path(&cache.path_for(&"f".repeat(64)).unwrap());
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(&part, vec![1u8; 500]).unwrap();
        let a = cache.pin(&shas[2]);
        let b = cache.pin(&shas[2]);
        let mut gone = cache.clear();
        gone.sort();
        assert_eq!(gone, vec![shas[0].clone(), shas[1].clone()]);
        assert_eq!(cache.usage(), CacheUsage { files: 1, bytes: 100 }, "a .part file is neither counted nor removed");
        assert!(part.exists());
        drop(a);
        assert!(cache.clear().is_empty(), "still pinned once");
        drop(b);
        assert_eq!(cache.clear(), vec![shas[2].clone()]);
    }
}
