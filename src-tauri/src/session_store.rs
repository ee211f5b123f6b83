//! The session kept in the OS keyring (Secret Service on Linux, Keychain, Windows Credential
//! Manager): one entry of service `attache-console`, user `session`, holding JSON
//! `{server, account, username, token}`. Nothing is ever written to a plain file.
//!
//! Every function blocks on the platform store; call them off the async runtime's workers.

use serde::{Deserialize, Serialize};

const SERVICE: &str = "attache-console";
const ENTRY: &str = "session";

/// What the keyring keeps between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    /// Service address.
    pub server: String,
    /// Account name.
    pub account: String,
    /// User name.
    pub username: String,
    /// Bearer token.
    pub token: String,
}

/// What probing the keyring found.
#[derive(Debug)]
pub enum Probe {
    /// The keyring works and holds this session.
    Found(StoredSession),
    /// The keyring works and holds no (usable) session.
    Empty,
    /// No keyring service: sessions last for this run only.
    Unavailable(String),
}

fn entry() -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, ENTRY)
}

/// Looks for a stored session; tells apart "nothing stored" from "no keyring at all".
pub fn probe() -> Probe {
    let read = entry().and_then(|e| e.get_password());
    match read {
        Ok(json) => match serde_json::from_str(&json) {
            Ok(s) => Probe::Found(s),
            Err(_) => {
                // Unreadable leftovers: drop them so they do not stick around.
                let _ = delete();
                Probe::Empty
            }
        },
        Err(keyring::Error::NoEntry) => Probe::Empty,
        Err(e) => Probe::Unavailable(e.to_string()),
    }
}

/// Keeps the session, replacing any earlier one.
pub fn save(session: &StoredSession) -> keyring::Result<()> {
    let json = serde_json::to_string(session).map_err(|e| keyring::Error::Invalid("session".into(), e.to_string()))?;
    entry()?.set_password(&json)
}

/// Forgets the session; forgetting nothing is fine.
pub fn delete() -> keyring::Result<()> {
    match entry()?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(e),
    }
}
