//! Sessions found recently, so that not every request of a signed-in user reads the database.
//!
//! Only on SQLite, where one process owns the database file: every change to what a session
//! grants (its user, their account's plan, the session itself) goes through this process's
//! `repo::user` and `repo::account`, which call [`changed`] once it is written, and an entry read
//! before a change is never used after it (it carries the count of changes seen before its read).
//! Several instances on PostgreSQL change each other's users, so there every request reads.
//! An entry is kept a few seconds at most, and never past its session's expiry.

use attache_protocol::{Account, User};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How long a found session is used without reading it again.
const KEEP: Duration = Duration::from_secs(5);
/// Most sessions kept (about 1 KiB each); past this, all are forgotten at once.
const MOST: usize = 10_000;

static CHANGES: AtomicU64 = AtomicU64::new(0);
/// By token hash.
static FOUND: LazyLock<Mutex<HashMap<String, Entry>>> = LazyLock::new(Default::default);

#[derive(Debug, Clone)]
struct Entry {
    /// The database it was read from (several services can run in one process, e.g. tests).
    database: String,
    changes: u64,
    found: Instant,
    expires_at: i64,
    staff: (User, Account),
}

/// Something a session grants was changed (written already): every entry read before is void.
pub fn changed() {
    CHANGES.fetch_add(1, Ordering::SeqCst);
}

/// The count of changes so far, taken before a session is read from the database.
pub fn before_reading() -> u64 {
    CHANGES.load(Ordering::SeqCst)
}

fn found() -> std::sync::MutexGuard<'static, HashMap<String, Entry>> {
    FOUND.lock().unwrap_or_else(|e| e.into_inner())
}

/// The user and account of a session found recently, if nothing changed since and it has not
/// expired (`now_us`).
pub fn get(database: &str, token_hash: &str, now_us: i64) -> Option<(User, Account)> {
    let mut found = found();
    let e = found.get(token_hash)?;
    if e.database == database
        && e.changes == CHANGES.load(Ordering::SeqCst)
        && e.found.elapsed() < KEEP
        && now_us < e.expires_at
    {
        return Some(e.staff.clone());
    }
    found.remove(token_hash);
    None
}

/// Keeps a session just read (`changes`: [`before_reading`]'s count).
pub fn put(database: &str, token_hash: &str, changes: u64, expires_at: i64, staff: &(User, Account)) {
    let mut found = found();
    if found.len() >= MOST {
        found.clear();
    }
    let entry =
        Entry { database: database.to_owned(), changes, found: Instant::now(), expires_at, staff: staff.clone() };
    found.insert(token_hash.to_owned(), entry);
}
