//! The secret travels with the data: every file URL is derived from it, so a deployment that
//! gets its rows and bytes without its secret breaks every link it ever gave out.

use crate::keys::{Keys, SecretConfig};
use anyhow::Context;
use std::path::Path;

/// Reads a secret file and checks it holds a secret; returns its text and id.
pub async fn read(path: &Path) -> anyhow::Result<(String, String)> {
    let text =
        tokio::fs::read_to_string(path).await.with_context(|| format!("cannot read the secret {}", path.display()))?;
    let id = id_of(&text).await.with_context(|| format!("the secret {}", path.display()))?;
    Ok((text.trim().to_owned(), id))
}

/// The public id of a secret (the one `attachment_lookups.key_id` records).
pub async fn id_of(text: &str) -> anyhow::Result<String> {
    let config = SecretConfig { current_hex: Some(text.to_owned()), ..Default::default() };
    let keys = Keys::load(&config, None).await?;
    Ok(keys.key_ids().remove(0))
}

/// Writes the secret to `path` (owner-only, through a temporary file), unless the file holds it
/// already; a different secret there is an error, since its deployment's URLs depend on it.
/// Returns whether it wrote.
pub async fn write(path: &Path, text: &str) -> anyhow::Result<bool> {
    let want = id_of(text).await?;
    if tokio::fs::try_exists(path).await.unwrap_or(false) {
        let (_, have) = read(path).await?;
        anyhow::ensure!(
            have == want,
            "{} holds a different secret: the target's file URLs depend on it; move it away or give another --to-secret-file",
            path.display()
        );
        return Ok(false);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension("tmp");
    let (tmp2, text2) = (tmp.clone(), text.trim().to_owned());
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp2)?;
        f.write_all(text2.as_bytes())?;
        f.sync_all()
    })
    .await??;
    tokio::fs::rename(&tmp, path).await.with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}
