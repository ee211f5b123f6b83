//! The database: one pool over SQLite (the embedded default) or PostgreSQL, chosen by URL.
//!
//! Queries are written once in portable SQL with `$n` placeholders (both backends accept them);
//! times are BIGINT microseconds since the epoch, flags BIGINT 0/1.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::time::Duration;

/// The shared database pool.
pub type Db = AnyPool;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend of a `DATABASE_URL`.
    pub fn of(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:")
        }
    }
}

/// The backend behind a pool (whose URL [`Backend::of`] accepted when it connected).
pub fn backend_of(db: &Db) -> Backend {
    Backend::of(db.connect_options().database_url.as_str()).unwrap_or(Backend::Postgres)
}

/// Connects without migrating (a check that must not change what it looks at).
pub async fn connect_only(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact(url)))
}

/// Connects and brings the schema up to date.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url)?;
    let options = match backend {
        Backend::Sqlite => sqlite_options(8),
        Backend::Postgres => AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10)).max_connections(16),
    };
    let pool = options.connect(url).await.with_context(|| format!("connecting to {}", redact(url)))?;
    migrate(&pool, backend).await.context("running migrations")?;
    Ok(pool)
}

/// The pool that the busy paths' writes go through (an upload's creation, lease and offset,
/// publishing, refusals, access records).
///
/// SQLite lets one writer in at a time; a connection that finds the lock taken sleeps in SQLite's
/// busy handler (1, 2, 5, 10… ms, keeping its connection from the readers meanwhile) though a
/// write holds the lock for well under a millisecond. With one connection of their own, writers
/// queue in the process instead and are woken in turn. PostgreSQL: the pool itself.
pub async fn writer(db: &Db, url: &str) -> anyhow::Result<Db> {
    match Backend::of(url)? {
        Backend::Postgres => Ok(db.clone()),
        Backend::Sqlite => {
            sqlite_options(1).connect(url).await.with_context(|| format!("connecting to {}", redact(url)))
        }
    }
}

fn sqlite_options(connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(connections)
        // A local file needs no test before each checkout (a round trip to the connection's
        // thread per statement; the pool still tests each connection when it comes back).
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                // WAL lets readers work while one writer writes; the busy timeout queues writers
                // (of other processes, and outside the writer pool) instead of failing them.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        })
}

/// Brings the schema up to date: the shared migrations, then the backend's own (a marked place
/// where the SQL differs: `migrations/sqlite/`, `migrations/postgres/`). Both sets keep one
/// history table, so each ignores the versions the other applied.
async fn migrate(pool: &Db, backend: Backend) -> Result<(), sqlx::migrate::MigrateError> {
    let mut shared = sqlx::migrate!("./migrations");
    shared.set_ignore_missing(true);
    shared.run(pool).await?;
    let mut own = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    own.set_ignore_missing(true);
    own.run(pool).await
}

/// Migrations this build knows that the database has not applied (empty when current).
pub async fn pending_migrations(pool: &Db, backend: Backend) -> anyhow::Result<Vec<String>> {
    use sqlx::Row;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = true")
        .fetch_all(pool)
        .await
        .context("reading the applied migrations")?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let own = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    let shared = sqlx::migrate!("./migrations");
    Ok(shared
        .iter()
        .chain(own.iter())
        .filter(|m| !applied.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect())
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => url.to_owned(),
    }
}

/// Now, in microseconds since the epoch.
pub fn now_us() -> i64 {
    Utc::now().timestamp_micros()
}

/// A stored time as a timestamp.
pub fn ts(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// A timestamp as stored.
pub fn us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A new random id: 128 bits as 32 lowercase hex characters.
pub fn new_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Whether `s` looks like an id made by [`new_id`]; anything else cannot exist and is 404
/// without a query.
pub fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_128_bit_hex_and_checked() {
        let id = new_id();
        assert!(is_id(&id));
        assert_ne!(id, new_id());
        assert!(!is_id("../../etc/passwd"));
        assert!(!is_id(&id.to_uppercase()));
    }

    #[test]
    fn backend_from_url() {
        assert_eq!(Backend::of("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert!(Backend::of("mysql://x").is_err());
        assert_eq!(redact("postgres://u:pw@h/db"), "…@h/db");
    }
}
