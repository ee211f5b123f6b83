//! `attache doctor`: a configuration checked before the service starts on it. Each check is a
//! line: OK, or what is wrong and the fix in words. Nothing is changed, except a probe object
//! written to the store and deleted again.

use crate::db::{self, Backend};
use crate::files::Files;
use crate::keys::Keys;
use crate::storage::StoreKey;
use crate::Config;
use sqlx::Row as _;
use std::fmt;

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Fine.
    Ok,
    /// Works, but worth knowing (the service will act on it at start).
    Note,
    /// The service would not start, or not work: fix it first.
    Fix,
}

/// One check's line.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked (`database`, `store`, …).
    pub what: &'static str,
    /// How it went.
    pub status: Status,
    /// What was found, or the fix in words.
    pub words: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.status {
            Status::Ok => "OK  ",
            Status::Note => "NOTE",
            Status::Fix => "FIX ",
        };
        write!(f, "{s} {:<9} {}", self.what, self.words)
    }
}

fn line(what: &'static str, status: Status, words: impl Into<String>) -> Check {
    Check { what, status, words: words.into() }
}

/// Runs every check of `config`.
pub async fn doctor(config: &Config) -> Vec<Check> {
    let mut out = Vec::new();
    let url = config.database_url();
    let backend = Backend::of(&url);
    let pool = match &backend {
        Err(e) => {
            out.push(line("database", Status::Fix, format!("{e}")));
            None
        }
        Ok(b) => database(&url, *b, &mut out).await,
    };
    let shared = backend.as_ref().is_ok_and(|b| *b == Backend::Postgres);
    match Files::open(&config.data_dir, config.files.clone(), shared).await {
        Ok(files) => {
            out.push(store(&files).await);
            out.push(secret(&files.keys, pool.as_ref()).await);
        }
        Err(e) => out.push(line("files", Status::Fix, format!("{e:#}"))),
    }
    out.push(scanner(config).await);
    out.push(match std::net::TcpListener::bind(config.listen) {
        Ok(_) => line("listen", Status::Ok, format!("{} is free", config.listen)),
        Err(e) => line(
            "listen",
            Status::Fix,
            format!("cannot listen on {}: {e}; stop what holds it or choose another --listen", config.listen),
        ),
    });
    if let Some(p) = pool {
        p.close().await;
    }
    out
}

async fn database(url: &str, backend: Backend, out: &mut Vec<Check>) -> Option<db::Db> {
    let pool = match db::connect_only(url).await {
        Ok(p) => p,
        Err(e) => {
            out.push(line(
                "database",
                Status::Fix,
                format!("{e:#}; is it running, and are the URL's user and password right?"),
            ));
            return None;
        }
    };
    if let Err(e) = sqlx::query("SELECT 1").execute(&pool).await {
        out.push(line("database", Status::Fix, format!("does not answer: {e}")));
        return None;
    }
    out.push(match db::pending_migrations(&pool, backend).await {
        Ok(p) if p.is_empty() => line("database", Status::Ok, "reachable, every migration applied"),
        Ok(p) => line(
            "database",
            Status::Note,
            format!("reachable; {} migrations not applied yet (attache serve applies them on start)", p.len()),
        ),
        Err(_) => line("database", Status::Note, "reachable and empty: attache serve creates the schema on start"),
    });
    Some(pool)
}

async fn store(files: &Files) -> Check {
    let key = StoreKey::new("probe");
    let bytes = bytes::Bytes::from(format!("attache doctor {}", key.as_str()));
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes.clone())]);
    if let Err(e) = files.store.put(&key, Box::pin(stream)).await {
        return line(
            "store",
            Status::Fix,
            format!(
                "cannot write a probe object: {e}; check the folder's permissions or the bucket's credentials (AWS_*)"
            ),
        );
    }
    let read = crate::ops::blobs::digest(files.store.as_ref(), &key).await;
    let _ = files.store.delete(&key).await;
    match read {
        Ok((_, n)) if n == bytes.len() as u64 => {
            line("store", Status::Ok, "a probe object was written, read back and deleted")
        }
        Ok((_, n)) => {
            line("store", Status::Fix, format!("the probe object came back with {n} bytes instead of {}", bytes.len()))
        }
        Err(e) => line("store", Status::Fix, format!("wrote a probe object but cannot read it: {e}")),
    }
}

async fn secret(keys: &Keys, pool: Option<&db::Db>) -> Check {
    let Some(pool) = pool else {
        return line("secret", Status::Note, "present; not compared with the database (unreachable)");
    };
    let known: Vec<String> = match sqlx::query("SELECT DISTINCT key_id FROM attachment_lookups").fetch_all(pool).await {
        Ok(rows) => rows.iter().filter_map(|r| r.try_get::<String, _>(0).ok()).collect(),
        Err(_) => Vec::new(),
    };
    let mine = keys.key_ids();
    if known.is_empty() {
        line("secret", Status::Ok, "present (no file URLs made yet)")
    } else if known.iter().any(|k| mine.contains(k)) {
        line("secret", Status::Ok, "present, and the one the database's file URLs were made with")
    } else {
        line(
            "secret",
            Status::Fix,
            "differs from the one the database's file URLs were made with: every existing URL would break; \
             use the deployment's secret (attache migrate carries it), or keep the old one as --previous-secret-file",
        )
    }
}

async fn scanner(config: &Config) -> Check {
    let Some(scanner) = &config.files.scanner else {
        return line("scanner", Status::Ok, "none configured (files are checked without a malware scan)");
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return line("scanner", Status::Fix, format!("no temporary folder for a probe file: {e}")),
    };
    let probe = dir.path().join("probe.txt");
    if let Err(e) = tokio::fs::write(&probe, b"attache doctor probe\n").await {
        return line("scanner", Status::Fix, format!("cannot write a probe file: {e}"));
    }
    match crate::scan::scan(scanner, &probe, config.files.scan_timeout).await {
        crate::scan::Verdict::Clean => line("scanner", Status::Ok, "answered: a probe file is clean"),
        crate::scan::Verdict::Infected(n) => {
            line("scanner", Status::Fix, format!("calls a harmless probe file infected ({n})"))
        }
        crate::scan::Verdict::Unavailable(why) => line(
            "scanner",
            Status::Fix,
            format!("does not answer ({why}); is clamd running and is its socket the one --clamd names?"),
        ),
    }
}
