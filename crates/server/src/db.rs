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

/// Where the busy paths write (an upload's creation, lease and offset, publishing, refusals,
/// owed events, access records).
///
/// SQLite lets one writer in at a time, so on SQLite these writes go to one connection of their
/// own, on a thread of its own, which takes what has queued meanwhile (up to [`WRITE_BATCH`]
/// writes) and commits it as one transaction: under load, one commit for many writes, and the
/// writers wait in the process, not in SQLite's busy handler (1, 2, 5… ms sleeps). The
/// statements run on that thread itself (a `rusqlite` connection to the same file, over the
/// SQLite library sqlx links): through sqlx each statement was a round trip to the connection's
/// own thread, ~250 µs on two busy cores, with every other writer waiting. A write is answered
/// once its transaction committed; each runs under a savepoint, so one that fails changes
/// nothing and costs the others nothing. PostgreSQL: the pool itself.
#[derive(Clone, Debug)]
pub struct Writer {
    inner: WriterInner,
}

#[derive(Clone, Debug)]
enum WriterInner {
    Sqlite(tokio::sync::mpsc::Sender<Queued>),
    Pool(Db),
}

/// Most writes one transaction of the SQLite writer takes.
const WRITE_BATCH: usize = 64;

/// How long the checkpointer gathers commits before it copies the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// 10,000 WAL pages: past them a commit checkpoints itself, should the checkpointer fall behind (and
/// what lets the WAL start over under unbroken load: a background checkpoint rarely finds the
/// writer idle, and only a complete one lets the next write reuse the file from its start).
/// SQLite's default is 1,000, which made the writer stop for a checkpoint (and its two syncs)
/// every few hundred files, every write queued behind it.
const WAL_BACKSTOP_PRAGMA: &str = "PRAGMA wal_autocheckpoint = 10000";

/// Why a write did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// A statement failed (the write was undone).
    Sqlite(rusqlite::Error),
    /// A value read back could not be understood (the write was undone).
    Decode(sqlx::Error),
    /// Its transaction did not commit.
    NotCommitted(String),
    /// The writer is closed.
    Closed,
    /// Not an SQLite writer.
    NotSqlite,
}

impl WriteError {
    /// A unique constraint refused the write (another attempt did it first).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, WriteError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Sqlite(e) => write!(f, "{e}"),
            WriteError::Decode(e) => write!(f, "{e}"),
            WriteError::NotCommitted(why) => write!(f, "not committed: {why}"),
            WriteError::Closed => f.write_str("the writer is closed"),
            WriteError::NotSqlite => f.write_str("not an SQLite writer"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> WriteError {
        WriteError::Sqlite(e)
    }
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> WriteError {
        WriteError::Decode(e)
    }
}

impl From<WriteError> for sqlx::Error {
    fn from(e: WriteError) -> sqlx::Error {
        match e {
            WriteError::Decode(e) => e,
            WriteError::Closed => sqlx::Error::PoolClosed,
            e => sqlx::Error::Protocol(format!("database write: {e}")),
        }
    }
}

/// A write's answer, given once its transaction's fate is known (`Some(why)`: not committed).
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;
/// A write as the writer's thread runs it, on the connection (or, given why not, not at all):
/// whether it failed, and how to answer it.
type Job = Box<dyn FnOnce(Result<&rusqlite::Connection, &str>) -> (bool, Answer) + Send>;

enum Queued {
    Job(Job),
    Close(tokio::sync::oneshot::Sender<()>),
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Queued::Job(_) => "write",
            Queued::Close(_) => "close",
        })
    }
}

impl Writer {
    /// SQLite: a connection and a thread of its own, committing in batches; PostgreSQL: `db`.
    pub async fn connect(db: &Db, url: &str) -> anyhow::Result<Writer> {
        match Backend::of(url)? {
            Backend::Postgres => Ok(Writer { inner: WriterInner::Pool(db.clone()) }),
            Backend::Sqlite => {
                use std::str::FromStr;
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .with_context(|| format!("reading {}", redact(url)))?;
                let path = options.get_filename().to_owned();
                let (conn, checkpoints) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                    Ok((writer_connection(&path)?, Checkpointer::start(&path)?))
                })
                .await??;
                let (queue, jobs) = tokio::sync::mpsc::channel(4 * WRITE_BATCH);
                std::thread::Builder::new()
                    .name("attache-writer".into())
                    .spawn(move || write_batches(conn, jobs, checkpoints))?;
                Ok(Writer { inner: WriterInner::Sqlite(queue) })
            }
        }
    }

    /// The pool (PostgreSQL).
    pub fn pool_of(&self) -> Result<&Db, sqlx::Error> {
        match &self.inner {
            WriterInner::Pool(db) => Ok(db),
            WriterInner::Sqlite(_) => Err(sqlx::Error::Configuration("the SQLite writer has no pool".into())),
        }
    }

    /// Which database this writes to.
    pub fn backend(&self) -> Backend {
        match &self.inner {
            WriterInner::Sqlite(_) => Backend::Sqlite,
            WriterInner::Pool(db) => backend_of(db),
        }
    }

    /// Runs a write on the SQLite writer's thread, in its next transaction, under a savepoint of
    /// its own (a failure undoes it alone), and answers once that transaction committed. It runs
    /// there whatever the caller does meanwhile: a caller that stops waiting leaves nothing half
    /// done. SQL for it is written with `?N` placeholders ([`sqlite_sql`] turns `$N` into them).
    pub async fn sqlite<T, F>(&self, write: F) -> Result<T, WriteError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, WriteError> + Send + 'static,
    {
        let WriterInner::Sqlite(queue) = &self.inner else {
            return Err(WriteError::NotSqlite);
        };
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let outcome = match conn {
                Ok(conn) => write(conn),
                Err(why) => Err(WriteError::NotCommitted(why.to_owned())),
            };
            let failed = outcome.is_err();
            let answer: Answer = Box::new(move |uncommitted| {
                let outcome = match (outcome, uncommitted) {
                    (Ok(_), Some(why)) => Err(WriteError::NotCommitted(why.to_owned())),
                    (outcome, _) => outcome,
                };
                let _ = answer.send(outcome);
            });
            (failed, answer)
        });
        queue.send(Queued::Job(job)).await.map_err(|_| WriteError::Closed)?;
        answered.await.map_err(|_| WriteError::Closed)?
    }

    /// Closes the connection (SQLite, after the writes queued before) or the pool.
    pub async fn close(&self) {
        match &self.inner {
            WriterInner::Sqlite(queue) => {
                let (done, closed) = tokio::sync::oneshot::channel();
                if queue.send(Queued::Close(done)).await.is_ok() {
                    let _ = closed.await;
                }
            }
            WriterInner::Pool(db) => db.close().await,
        }
    }
}

/// Reads SQLite on the calling thread, on a connection of this thread's own (opened on first
/// use), for the point reads of the busiest paths (a download's attachment). Through the pool,
/// a read is a trip to a connection's thread and back — two thread wake-ups, ~250 µs on two busy
/// cores, for a read of a few µs from the page cache. `None` when `db` is not SQLite or this
/// thread's connection cannot be had (the caller reads through the pool then). The connection is
/// read-only and waits at most 50 ms for a lock; it is dropped and opened again if the database
/// file was replaced, and dropped after any failure (the caller reads through the pool then, and
/// reports what the pool finds).
pub fn read_here<T>(db: &Db, read: impl FnOnce(&rusqlite::Connection) -> Result<T, WriteError>) -> Option<T> {
    use std::cell::RefCell;
    thread_local! {
        static READERS: RefCell<Vec<Reader>> = const { RefCell::new(Vec::new()) };
    }
    let options = db.connect_options();
    let url = options.database_url.as_str();
    if Backend::of(url).ok() != Some(Backend::Sqlite) {
        return None;
    }
    READERS.with(|readers| {
        let mut readers = readers.try_borrow_mut().ok()?;
        let at = match readers.iter().position(|r| r.url == url) {
            Some(i) if readers[i].current() => i,
            found => {
                if let Some(i) = found {
                    readers.swap_remove(i);
                }
                readers.push(Reader::open(url)?);
                readers.len() - 1
            }
        };
        match read(&readers[at].conn) {
            Ok(found) => Some(found),
            // Whatever went wrong (a lock held past the wait, a file being replaced), the pool
            // reads it again and reports it; this connection is not trusted again.
            Err(_) => {
                readers.swap_remove(at);
                None
            }
        }
    })
}

/// A thread's own read-only connection (see [`read_here`]), and the file it opened.
struct Reader {
    url: String,
    path: std::path::PathBuf,
    file: (u64, u64),
    conn: rusqlite::Connection,
}

impl Reader {
    fn open(url: &str) -> Option<Reader> {
        use std::str::FromStr;
        let path = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?.get_filename().to_owned();
        let file = Self::identity(&path)?;
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(&path, flags).ok()?;
        conn.busy_timeout(Duration::from_millis(50)).ok()?;
        // A small page cache (512 KiB, not 2 MiB): it serves point reads by key.
        conn.execute_batch("PRAGMA cache_size = -512").ok()?;
        conn.set_prepared_statement_cache_capacity(16);
        Some(Reader { url: url.to_owned(), path, file, conn })
    }

    /// Device and inode of the database file.
    fn identity(path: &std::path::Path) -> Option<(u64, u64)> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(path).ok()?;
            Some((m.dev(), m.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }

    /// Whether the file is still the one this connection opened.
    fn current(&self) -> bool {
        Self::identity(&self.path) == Some(self.file)
    }
}

/// `$N` placeholders (portable SQL, as sqlx takes them) as SQLite's `?N`.
pub fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The SQLite writer's connection, with the settings of the pool's.
fn writer_connection(path: &std::path::Path) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Statement journals (each write runs under a savepoint) in memory: as files, each was a file
    // created and deleted in the statement.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(WAL_BACKSTOP_PRAGMA)?;
    Ok(conn)
}

/// Copies the WAL into the database file on a thread and connection of its own, a passive
/// checkpoint at most every [`CHECKPOINT_EVERY`] while the writer commits: the writer goes on
/// committing meanwhile, where SQLite's own checkpoint ran inside the commit that crossed 1,000
/// pages, every queued write waiting for its copying and its two syncs. A page written several
/// times in the period is copied once. Durability is SQLite's either way (a commit is in the WAL
/// before it is answered); the thread stops, its connection closed, when the writer's does.
struct Checkpointer {
    wake: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    fn start(path: &std::path::Path) -> anyhow::Result<Checkpointer> {
        let conn = rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(1))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new().name("attache-checkpoint".into()).spawn(move || {
            use std::sync::mpsc::RecvTimeoutError;
            // A commit wakes it; it gathers commits for a period, then checkpoints.
            while woken.recv().is_ok() {
                let until = std::time::Instant::now() + CHECKPOINT_EVERY;
                loop {
                    match woken.recv_timeout(until.saturating_duration_since(std::time::Instant::now())) {
                        Ok(()) => continue,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    // The next commit's backstop, or the next period, tries again.
                    tracing::warn!(error = %e, "WAL checkpoint");
                }
            }
        })?;
        Ok(Checkpointer { wake, thread })
    }

    /// A transaction committed.
    fn committed(&self) {
        // Full: a wake-up is pending already.
        let _ = self.wake.try_send(());
    }

    /// Stops the thread and closes its connection.
    fn stop(self) {
        drop(self.wake);
        let _ = self.thread.join();
    }
}

/// The SQLite writer's thread: takes what has queued, runs it in one transaction, each write
/// under a savepoint, then answers each write.
fn write_batches(
    conn: rusqlite::Connection,
    mut queue: tokio::sync::mpsc::Receiver<Queued>,
    checkpoints: Checkpointer,
) {
    while let Some(first) = queue.blocking_recv() {
        let mut taken = vec![first];
        while taken.len() < WRITE_BATCH {
            match queue.try_recv() {
                Ok(q) => taken.push(q),
                Err(_) => break,
            }
        }
        let mut close = None;
        let mut answers: Vec<Answer> = Vec::with_capacity(taken.len());
        let mut open = false;
        for q in taken {
            let job = match q {
                Queued::Job(job) => job,
                Queued::Close(done) => {
                    close = Some(done);
                    continue;
                }
            };
            if !open {
                if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                    // The lock stayed taken past the busy timeout: this write is not done.
                    let (_, answer) = job(Err(&e.to_string()));
                    answer(None);
                    continue;
                }
                open = true;
            }
            if let Err(e) = conn.execute_batch("SAVEPOINT write") {
                let (_, answer) = job(Err(&e.to_string()));
                answer(None);
                continue;
            }
            let (failed, answer) = job(Ok(&conn));
            answers.push(answer);
            let undo = if failed { "ROLLBACK TO write; RELEASE write" } else { "RELEASE write" };
            let undone = conn.execute_batch(undo);
            if undone.is_err() || conn.is_autocommit() {
                // A failed write could not be undone alone, or SQLite rolled the transaction back
                // itself (an I/O error, a full disk): none of the writes in it stand.
                let _ = conn.execute_batch("ROLLBACK");
                for answer in answers.drain(..) {
                    answer(Some("the transaction was rolled back"));
                }
                open = false;
            }
        }
        if open {
            let uncommitted = conn.execute_batch("COMMIT").err().map(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                e.to_string()
            });
            if uncommitted.is_none() {
                checkpoints.committed();
            }
            for answer in answers.drain(..) {
                answer(uncommitted.as_deref());
            }
        }
        if let Some(done) = close {
            // The checkpointer's connection first: the writer's, closed last, leaves the
            // database whole in its file (SQLite checkpoints when its last connection closes).
            checkpoints.stop();
            drop(conn);
            let _ = done.send(());
            return;
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
                // Checkpoints are the writer's checkpointer's (see `Checkpointer`), not a
                // request's that happens to commit past 1,000 pages.
                conn.execute(WAL_BACKSTOP_PRAGMA).await?;
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

/// A new id that sorts by when it was made: the time in milliseconds (12 hex digits), then 80
/// random bits. Rows made one after another go to the end of their indexes, so the inserts of one
/// transaction share the last page of each index, where random ids touched a page each; the id is
/// as unguessable as it needs to be (ids are not credentials) and as [`is_id`] wants.
pub fn new_ordered_id() -> String {
    let ms = u64::try_from(now_us() / 1000).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&rand::random::<[u8; 10]>());
    hex::encode(bytes)
}

/// Whether `s` looks like an id made by [`new_id`]; anything else cannot exist and is 404
/// without a query.
pub fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ordered ids are ids, differ, and sort by time.
    #[test]
    fn ordered_ids_sort_by_time() {
        let a = new_ordered_id();
        std::thread::sleep(Duration::from_millis(2));
        let b = new_ordered_id();
        assert!(is_id(&a) && is_id(&b));
        assert!(a < b, "{a} then {b}");
        let ms = u64::from_str_radix(&a[..12], 16).unwrap() as i64;
        assert!((now_us() / 1000 - ms).abs() < 60_000, "the time in milliseconds: {a}");
        let many: std::collections::HashSet<String> = (0..1000).map(|_| new_ordered_id()).collect();
        assert_eq!(many.len(), 1000);
    }

    async fn scratch(dir: &std::path::Path) -> (Db, Writer) {
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let db = connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE scratch (v BIGINT UNIQUE)").execute(&db).await.unwrap();
        (db.clone(), Writer::connect(&db, &url).await.unwrap())
    }

    fn insert(w: &Writer, v: i64) -> impl std::future::Future<Output = Result<(), WriteError>> + '_ {
        w.sqlite(move |c| {
            c.execute("INSERT INTO scratch (v) VALUES (?1)", [v])?;
            Ok(())
        })
    }

    /// Writes that queue together share the writer's transaction: each is answered, a failed one
    /// (a duplicate; a batch of statements failing after its first) changes nothing and costs
    /// the others nothing, and what was answered as written is there.
    #[tokio::test]
    async fn writes_queued_together_commit_together_and_a_failure_costs_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let (db, w) = scratch(dir.path()).await;
        insert(&w, 7).await.unwrap();
        let mut writes: Vec<futures_util::future::BoxFuture<'_, Result<(), WriteError>>> = Vec::new();
        for v in 100..140 {
            writes.push(Box::pin(insert(&w, v)));
        }
        // A duplicate of its own, and a batch whose second statement fails after its first wrote.
        writes.push(Box::pin(insert(&w, 7)));
        writes.push(Box::pin(w.sqlite(|c| {
            c.execute("INSERT INTO scratch (v) VALUES (500)", [])?;
            c.execute("INSERT INTO scratch (v) VALUES (7)", [])?;
            Ok(())
        })));
        let outcomes = futures_util::future::join_all(writes).await;
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 40);
        assert!(outcomes[40].is_err() && outcomes[41].is_err());
        let (n, sum): (i64, i64) = {
            use sqlx::Row;
            let row = sqlx::query("SELECT COUNT(*), SUM(v) FROM scratch").fetch_one(&db).await.unwrap();
            (row.get(0), row.get(1))
        };
        assert_eq!((n, sum), (41, 7 + (100..140).sum::<i64>()), "the 40 writes and the first; nothing of the failed");
    }

    /// Commits reach the database file through the checkpointer, on its own: far below the
    /// 10,000 pages past which a commit would checkpoint itself, the file alone (copied without
    /// its WAL) soon holds every committed row.
    #[tokio::test]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let (_db, w) = scratch(dir.path()).await;
        for v in 0..200 {
            insert(&w, v).await.unwrap();
        }
        let alone = dir.path().join("alone");
        std::fs::create_dir(&alone).unwrap();
        let mut rows = None;
        for _ in 0..50 {
            // The main file without its WAL: what a checkpoint has copied, and nothing else.
            std::fs::copy(dir.path().join("t.db"), alone.join("t.db")).unwrap();
            let copy = rusqlite::Connection::open(alone.join("t.db")).unwrap();
            rows = copy.query_row("SELECT COUNT(*) FROM scratch", [], |r| r.get::<_, i64>(0)).ok();
            drop(copy);
            let _ = std::fs::remove_file(alone.join("t.db-wal"));
            if rows == Some(200) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(rows, Some(200), "the database file alone, 5 s after the last commit");
    }

    /// A write runs in the writer's task: one whose caller stopped waiting is done all the same,
    /// and a write queued after it sees it.
    #[tokio::test]
    async fn a_write_whose_caller_left_is_done_all_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let (db, w) = scratch(dir.path()).await;
        // Polled once (the write is queued), then dropped.
        let left = futures_util::FutureExt::now_or_never(insert(&w, 1));
        assert!(left.is_none(), "the caller stopped waiting before the answer");
        insert(&w, 2).await.unwrap();
        let n: i64 = {
            use sqlx::Row;
            sqlx::query("SELECT COUNT(*) FROM scratch").fetch_one(&db).await.unwrap().get(0)
        };
        assert_eq!(n, 2);
        w.close().await;
        assert!(insert(&w, 3).await.is_err(), "closed");
    }

    /// A read on the calling thread sees what was committed through the pool, and a database
    /// file replaced under it (a restore) is read anew, not from the old file.
    #[tokio::test]
    async fn a_read_here_sees_commits_and_a_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let count =
            |db: &Db| read_here(db, |c| Ok(c.query_row("SELECT COUNT(*) FROM scratch", [], |r| r.get::<_, i64>(0))?));
        let (db, _w) = scratch(dir.path()).await;
        assert_eq!(count(&db), Some(0));
        sqlx::query("INSERT INTO scratch (v) VALUES (1), (2)").execute(&db).await.unwrap();
        assert_eq!(count(&db), Some(2), "committed through the pool, seen here");
        // Another database with three rows takes the file's place.
        let other = tempfile::tempdir().unwrap();
        let (db2, _w2) = scratch(other.path()).await;
        sqlx::query("INSERT INTO scratch (v) VALUES (1), (2), (3)").execute(&db2).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&db2).await.unwrap();
        db2.close().await;
        db.close().await;
        std::fs::rename(other.path().join("t.db"), dir.path().join("t.db")).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let reopened = connect(&url).await.unwrap();
        assert_eq!(count(&reopened), Some(3), "the new file, not the old one");
    }

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
