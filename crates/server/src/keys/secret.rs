//! The secrets themselves: where they come from (configuration, files), their hex text, and a
//! new random one.

use anyhow::Context;
use std::path::Path;

/// One secret: at least 256 bits, with a short public id (for the lookup table of tokens).
#[derive(Clone)]
pub(super) struct Secret {
    pub(super) bytes: Vec<u8>,
    pub(super) id: String,
}

impl Secret {
    pub(super) fn new(bytes: Vec<u8>) -> Secret {
        use sha2::Digest;
        let id = hex::encode(&sha2::Sha256::digest([b"attache/key-id\0".as_slice(), &bytes].concat())[..8]);
        Secret { bytes, id }
    }
}

/// Where the secrets come from (`--secret-file`, `ATTACHE_SECRET`, and the previous ones).
#[derive(Debug, Clone, Default)]
pub struct SecretConfig {
    /// The current secret, as hex text (from `ATTACHE_SECRET`).
    pub current_hex: Option<String>,
    /// A file holding the current secret as hex text (`--secret-file`).
    pub current_file: Option<std::path::PathBuf>,
    /// Previous secrets, as hex text (`ATTACHE_PREVIOUS_SECRET`).
    pub previous_hex: Vec<String>,
    /// Files holding previous secrets (`--previous-secret-file`).
    pub previous_files: Vec<std::path::PathBuf>,
}

impl SecretConfig {
    /// Whether a current secret is configured (rather than kept in the data folder).
    pub fn is_set(&self) -> bool {
        self.current_hex.is_some() || self.current_file.is_some()
    }
}

/// Smallest secret accepted: 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

/// Parses a secret's hex text; `what` names where it came from in the error.
pub(super) fn parse_secret(text: &str, what: &str) -> anyhow::Result<Secret> {
    let text = text.trim();
    anyhow::ensure!(!text.is_empty(), "{what} is empty; it must hold a secret as hex (make one with `attache secret`)");
    let raw = hex::decode(text).map_err(|_| {
        anyhow::anyhow!("{what} is not hex; it must hold a secret as hex (make one with `attache secret`)")
    })?;
    anyhow::ensure!(
        raw.len() >= MIN_SECRET_BYTES,
        "{what} holds {} bytes; a secret has at least {MIN_SECRET_BYTES} (64 hex characters)",
        raw.len()
    );
    Ok(Secret::new(raw))
}

pub(super) async fn read_secret_file(path: &Path) -> anyhow::Result<Secret> {
    let what = format!("the secret file {}", path.display());
    let bytes = tokio::fs::read(path).await.with_context(|| format!("cannot read {what}"))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what} is not text"))?;
    parse_secret(&text, &what)
}

/// A new random secret as hex (for `attache secret`).
pub fn new_secret_hex() -> String {
    let mut s = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut s);
    hex::encode(s)
}
