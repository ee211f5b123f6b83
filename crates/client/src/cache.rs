//! A content-addressed download cache: files live under their SHA-256, the cache has a size
//! cap, and the least recently used go first. The modification time records use, so several
//! processes can share one cache folder.

use crate::{Attachment, ClientError, Result, Session};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Default cap: 512 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 512 * 1024 * 1024;

/// A cache folder with a size cap.
#[derive(Debug, Clone)]
pub struct FileCache {
    dir: PathBuf,
    cap: u64,
}

fn valid_sha(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FileCache {
    /// A cache in `dir`, holding at most `cap_bytes`.
    pub fn new(dir: impl Into<PathBuf>, cap_bytes: u64) -> FileCache {
        FileCache { dir: dir.into(), cap: cap_bytes }
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
        self.entries().iter().map(|e| e.1).sum()
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

    /// Removes the least recently used files until the cache fits its cap, sparing `keep`.
    /// Returns how many went.
    pub fn evict(&self, keep: Option<&Path>) -> usize {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort_by_key(|e| e.2);
        let mut removed = 0;
        for (path, len, _) in entries {
            if total <= self.cap {
                break;
            }
            if Some(path.as_path()) == keep {
                continue;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
                removed += 1;
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
        assert_eq!(cache.evict(None), 1);
        assert!(cache.get(&shas[1]).is_none(), "the least recently used went");
        assert!(cache.get(&shas[0]).is_some() && cache.get(&shas[2]).is_some());
        assert_eq!(cache.size(), 200);
        assert!(cache.path_for("../../etc/passwd").is_none());
    }
}
