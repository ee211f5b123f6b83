//! The server secret and what is derived from it: the 384-bit attachment URL tokens and the
//! `vvca` grants.
//!
//! A token is 96 hex characters: the first 32 (128 bits) stand for the contact, the other 64
//! (256 bits) for the attachment. Both halves are HMAC-SHA-384 under the server secret over the
//! random ids, truncated; nothing in a token can be guessed or enumerated without the secret,
//! and a token of one contact says nothing about another's. Comparisons are constant-time.

mod secret;

pub use secret::{new_secret_hex, SecretConfig, MIN_SECRET_BYTES};
use secret::{parse_secret, read_secret_file, Secret};

use anyhow::Context;
use attache_protocol::{AttachmentId, ContactId};
use hmac::{Hmac, Mac};
use sha2::Sha384;
use std::path::Path;
use subtle::ConstantTimeEq;

type HmacSha384 = Hmac<Sha384>;

/// Hex characters of a whole token.
pub const TOKEN_HEX: usize = 96;
/// Hex characters of the contact part.
pub const CONTACT_PART_HEX: usize = 32;

/// The server secrets: the current one signs every new token, grant and temporary URL; the
/// previous ones (during a rotation) still verify until they are removed from the
/// configuration. Every instance of one deployment must have the same secrets.
#[derive(Clone)]
pub struct Keys {
    current: Secret,
    previous: Vec<Secret>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// A token split into its halves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// 32 hex characters for the contact.
    pub contact_part: String,
    /// 64 hex characters for the attachment.
    pub attachment_part: String,
}

impl Token {
    /// Splits a presented token; anything but 96 lowercase hex characters is not a token.
    pub fn parse(s: &str) -> Option<Token> {
        if s.len() != TOKEN_HEX || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let (c, a) = s.split_at(CONTACT_PART_HEX);
        Some(Token { contact_part: c.to_owned(), attachment_part: a.to_owned() })
    }

    /// The token as it appears in URLs.
    pub fn as_string(&self) -> String {
        format!("{}{}", self.contact_part, self.attachment_part)
    }
}

impl Keys {
    /// A key from raw bytes (tests).
    pub fn from_secret(secret: [u8; 64]) -> Keys {
        Keys { current: Secret::new(secret.to_vec()), previous: Vec::new() }
    }

    /// A current key and previous ones from raw bytes (tests).
    pub fn rotated(current: [u8; 64], previous: &[[u8; 64]]) -> Keys {
        Keys {
            current: Secret::new(current.to_vec()),
            previous: previous.iter().map(|p| Secret::new(p.to_vec())).collect(),
        }
    }

    /// The secrets of the configuration. Without a configured current secret, `fallback_dir`
    /// (the embedded default's data folder) keeps one in `secret.key`, made on first start;
    /// with `fallback_dir` `None` that is an error naming what to set.
    pub async fn load(config: &SecretConfig, fallback_dir: Option<&Path>) -> anyhow::Result<Keys> {
        let current = match (&config.current_hex, &config.current_file, fallback_dir) {
            (Some(hex), _, _) => parse_secret(hex, "ATTACHE_SECRET")?,
            (None, Some(path), _) => read_secret_file(path).await?,
            (None, None, Some(dir)) => Self::load_or_create(dir).await?.current,
            (None, None, None) => anyhow::bail!(
                "no server secret: with PostgreSQL or an S3 store every instance must share one; set --secret-file \
                 (ATTACHE_SECRET_FILE) or ATTACHE_SECRET to the same secret on each (make one with `attache secret`)"
            ),
        };
        let mut previous = Vec::new();
        for (i, hex) in config.previous_hex.iter().enumerate() {
            previous.push(parse_secret(hex, &format!("ATTACHE_PREVIOUS_SECRET (#{})", i + 1))?);
        }
        for path in &config.previous_files {
            previous.push(read_secret_file(path).await?);
        }
        previous.retain(|p| p.id != current.id);
        Ok(Keys { current, previous })
    }

    /// Loads `<data_dir>/secret.key`, creating it (owner-only) on first start.
    pub async fn load_or_create(data_dir: &Path) -> anyhow::Result<Keys> {
        let path = data_dir.join("secret.key");
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).context("secret.key is not text")?;
                Ok(Keys { current: parse_secret(&text, &format!("{}", path.display()))?, previous: Vec::new() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let tmp = data_dir.join("secret.key.tmp");
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let text = new_secret_hex();
                let (tmp2, text2) = (tmp.clone(), text.clone());
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    use std::io::Write;
                    let mut f = opts.open(&tmp2)?;
                    f.write_all(text2.as_bytes())?;
                    f.sync_all()
                })
                .await??;
                tokio::fs::rename(&tmp, &path).await.context("storing secret.key")?;
                Ok(Keys { current: parse_secret(&text, "secret.key")?, previous: Vec::new() })
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The id of the signing secret, and of every secret that still verifies.
    pub fn key_ids(&self) -> Vec<String> {
        std::iter::once(&self.current).chain(&self.previous).map(|s| s.id.clone()).collect()
    }

    /// A view of one secret alone (current first, then the previous ones), by id.
    pub fn only(&self, id: &str) -> Option<Keys> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|s| s.id == id)
            .map(|s| Keys { current: s.clone(), previous: Vec::new() })
    }

    fn all(&self) -> impl Iterator<Item = Keys> + '_ {
        std::iter::once(&self.current).chain(&self.previous).map(|s| Keys { current: s.clone(), previous: Vec::new() })
    }

    fn mac(&self, label: &str, parts: &[&str]) -> [u8; 48] {
        let mut m = HmacSha384::new_from_slice(&self.current.bytes).expect("HMAC takes any key length");
        m.update(label.as_bytes());
        for p in parts {
            m.update(&[0]);
            m.update(p.as_bytes());
        }
        m.finalize().into_bytes().into()
    }

    /// The contact's 128-bit part.
    pub fn contact_part(&self, contact: &ContactId) -> String {
        hex::encode(&self.mac("attache/contact", &[contact.as_str()])[..16])
    }

    /// The attachment's 256-bit part.
    pub fn attachment_part(&self, contact: &ContactId, attachment: &AttachmentId) -> String {
        hex::encode(&self.mac("attache/attachment", &[contact.as_str(), attachment.as_str()])[..32])
    }

    /// The whole 96-hex token of an attachment.
    pub fn token(&self, contact: &ContactId, attachment: &AttachmentId) -> Token {
        Token { contact_part: self.contact_part(contact), attachment_part: self.attachment_part(contact, attachment) }
    }

    /// Whether a presented token is exactly this attachment's, in constant time.
    pub fn verify(&self, presented: &Token, contact: &ContactId, attachment: &AttachmentId) -> bool {
        let presented = presented.as_string();
        self.all().fold(false, |ok, k| {
            ok | bool::from(k.token(contact, attachment).as_string().as_bytes().ct_eq(presented.as_bytes()))
        })
    }

    /// The database lookup key of an attachment part: its SHA-256, so that the index lookup's
    /// timing says nothing about the token itself.
    pub fn lookup_key(attachment_part: &str) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(attachment_part.as_bytes()))
    }

    /// A temporary URL's signature, in the manner of OpenStack Swift's TempURL: an HMAC over
    /// `METHOD\nexpires\npath` (here HMAC-SHA-384 under the server secret, 256 bits in hex).
    pub fn temp_url_sig(&self, method: &str, expires: i64, path: &str) -> String {
        hex::encode(&self.mac("attache/temp-url", &[&format!("{method}\n{expires}\n{path}")])[..32])
    }

    /// Whether a presented temporary URL signature is right (constant time); expiry is the
    /// caller's to check.
    pub fn temp_url_ok(&self, method: &str, expires: i64, path: &str, sig: &str) -> bool {
        self.all().fold(false, |ok, k| {
            ok | bool::from(k.temp_url_sig(method, expires, path).as_bytes().ct_eq(sig.as_bytes()))
        })
    }

    /// A `vvca` grant for a contact: `<contact part>.<mac>`. It proves that this browser opened
    /// a file of the contact while it was active; it is worth what the contact's report is.
    pub fn vvca_grant(&self, contact: &ContactId) -> String {
        let part = self.contact_part(contact);
        let mac = hex::encode(&self.mac("attache/vvca", &[contact.as_str()])[..16]);
        format!("{part}.{mac}")
    }

    /// Whether a `vvca` cookie value holds a grant for this contact (constant time per grant).
    pub fn vvca_allows(&self, cookie: &str, contact: &ContactId) -> bool {
        self.all().fold(false, |ok, k| {
            let want = k.vvca_grant(contact);
            cookie
                .split('~')
                .take(MAX_VVCA_GRANTS)
                .fold(ok, |ok, g| ok | bool::from(g.as_bytes().ct_eq(want.as_bytes())))
        })
    }
}

/// Grants kept in one `vvca` cookie (most recent first); older ones fall off.
pub const MAX_VVCA_GRANTS: usize = 16;

/// A `vvca` value with `grant` first and the other grants of `existing` after it.
pub fn vvca_with(existing: Option<&str>, grant: &str) -> String {
    let mut grants = vec![grant.to_owned()];
    if let Some(e) = existing {
        for g in e.split('~') {
            let well_formed = g.len() == 65 && g.bytes().all(|b| b == b'.' || b.is_ascii_hexdigit());
            if well_formed && g != grant && grants.len() < MAX_VVCA_GRANTS {
                grants.push(g.to_owned());
            }
        }
    }
    grants.join("~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_url_signatures_bind_method_expiry_and_path() {
        let k = Keys::from_secret([3; 64]);
        let sig = k.temp_url_sig("PUT", 1_900_000_000, "/v1/AUTH_attache/acme/x.PNG");
        assert_eq!(sig.len(), 64);
        assert!(k.temp_url_ok("PUT", 1_900_000_000, "/v1/AUTH_attache/acme/x.PNG", &sig));
        assert!(!k.temp_url_ok("GET", 1_900_000_000, "/v1/AUTH_attache/acme/x.PNG", &sig));
        assert!(!k.temp_url_ok("PUT", 1_900_000_001, "/v1/AUTH_attache/acme/x.PNG", &sig));
        assert!(!k.temp_url_ok("PUT", 1_900_000_000, "/v1/AUTH_attache/acme/y.PNG", &sig));
        assert!(!Keys::from_secret([4; 64]).temp_url_ok("PUT", 1_900_000_000, "/v1/AUTH_attache/acme/x.PNG", &sig));
    }

    #[test]
    fn tokens_are_384_bits_and_bound_to_contact_and_attachment() {
        let k = Keys::from_secret([7; 64]);
        let c1 = ContactId::from("c1");
        let c2 = ContactId::from("c2");
        let a = AttachmentId::from("a1");
        let t = k.token(&c1, &a);
        let s = t.as_string();
        assert_eq!(s.len(), 96);
        assert_eq!(Token::parse(&s), Some(t.clone()));
        assert!(k.verify(&t, &c1, &a));
        assert!(!k.verify(&t, &c2, &a));
        assert!(!k.verify(&t, &c1, &AttachmentId::from("a2")));
        // The contact part is shared by the contact's attachments and nothing else.
        assert_eq!(k.token(&c1, &AttachmentId::from("a2")).contact_part, t.contact_part);
        assert_ne!(k.token(&c2, &a).contact_part, t.contact_part);
        // Another secret, other tokens.
        assert!(!Keys::from_secret([8; 64]).verify(&t, &c1, &a));
        assert_eq!(Token::parse(&s[..95]), None);
        assert_eq!(Token::parse(&s.to_uppercase()), None);
        assert_eq!(Token::parse(&format!("{}/", &s[..95])), None);
    }

    #[test]
    fn vvca_grants_accumulate_and_are_bound() {
        let k = Keys::from_secret([1; 64]);
        let c1 = ContactId::from("c1");
        let c2 = ContactId::from("c2");
        let g1 = k.vvca_grant(&c1);
        let v = vvca_with(None, &g1);
        assert!(k.vvca_allows(&v, &c1));
        assert!(!k.vvca_allows(&v, &c2));
        let v = vvca_with(Some(&v), &k.vvca_grant(&c2));
        assert!(k.vvca_allows(&v, &c1) && k.vvca_allows(&v, &c2));
        let forged = format!("{}.{}", k.contact_part(&c2), "0".repeat(32));
        assert!(!k.vvca_allows(&forged, &c2));
        let v = vvca_with(Some("garbage~<script>"), &g1);
        assert_eq!(v, g1);
    }

    #[test]
    fn a_rotated_secret_signs_new_and_verifies_old() {
        let old = Keys::from_secret([5; 64]);
        let rotated = Keys::rotated([6; 64], &[[5; 64]]);
        let (c, a) = (ContactId::from("c"), AttachmentId::from("a"));
        let old_token = old.token(&c, &a);
        assert!(rotated.verify(&old_token, &c, &a), "the previous secret still verifies");
        assert_ne!(rotated.token(&c, &a), old_token, "the new secret signs");
        assert!(rotated.verify(&rotated.token(&c, &a), &c, &a));
        assert!(rotated.vvca_allows(&old.vvca_grant(&c), &c));
        let sig = old.temp_url_sig("GET", 1_900_000_000, "/p");
        assert!(rotated.temp_url_ok("GET", 1_900_000_000, "/p", &sig));
        // Once the previous secret is removed, its tokens stop working.
        assert!(!Keys::from_secret([6; 64]).verify(&old_token, &c, &a));
        assert_eq!(rotated.key_ids().len(), 2);
        assert_eq!(rotated.only(&old.key_ids()[0]).unwrap().token(&c, &a), old_token);
    }

    #[tokio::test]
    async fn configured_secrets_are_checked_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.key");
        let empty = dir.path().join("empty.key");
        std::fs::write(&empty, "\n").unwrap();
        let short = dir.path().join("short.key");
        std::fs::write(&short, "abcd").unwrap();
        let good = dir.path().join("good.key");
        std::fs::write(&good, new_secret_hex()).unwrap();
        for (path, words) in [(&missing, "cannot read"), (&empty, "is empty"), (&short, "at least 32")] {
            let cfg = SecretConfig { current_file: Some(path.clone()), ..Default::default() };
            let e = Keys::load(&cfg, Some(dir.path())).await.unwrap_err().to_string();
            assert!(e.contains(words) && e.contains(&path.display().to_string()) || e.contains(words), "{e}");
        }
        let e = Keys::load(&SecretConfig::default(), None).await.unwrap_err().to_string();
        assert!(e.contains("--secret-file") && e.contains("ATTACHE_SECRET"), "{e}");
        let a =
            Keys::load(&SecretConfig { current_file: Some(good.clone()), ..Default::default() }, None).await.unwrap();
        let b = Keys::load(
            &SecretConfig { current_hex: Some(std::fs::read_to_string(&good).unwrap()), ..Default::default() },
            None,
        )
        .await
        .unwrap();
        let c = ContactId::from("c");
        assert_eq!(a.contact_part(&c), b.contact_part(&c), "the same secret from a file or the environment");
        assert!(!dir.path().join("secret.key").exists(), "a configured secret writes nothing to the data folder");
    }

    #[tokio::test]
    async fn the_secret_persists() {
        let dir = tempfile::tempdir().unwrap();
        let a = Keys::load_or_create(dir.path()).await.unwrap();
        let b = Keys::load_or_create(dir.path()).await.unwrap();
        let c = ContactId::from("c");
        assert_eq!(a.contact_part(&c), b.contact_part(&c));
    }
}
