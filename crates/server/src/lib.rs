//! The Attaché service: an axum application over SQLite (embedded default) or PostgreSQL.
//!
//! [`Server::start`] binds, migrates, starts the background jobs and serves until
//! [`Server::stop`]. The `attache` CLI and the integration tests both start it this way.

pub mod auth;
pub mod batch;
pub mod check;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod files;
pub mod keys;
pub mod metadata;
pub mod metrics;
pub mod ops;
pub mod preview;
pub mod repo;
pub mod routes;
pub mod scan;
pub mod storage;
pub mod upload;
pub mod zip;

pub use files::FilesConfig;

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Folder for the SQLite file, files and staging.
    pub data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…`; by default `sqlite://<data_dir>/attache.db`.
    pub database_url: Option<String>,
    /// Mark cookies `Secure` (when served over TLS, e.g. behind a proxy).
    pub secure_cookies: bool,
    /// How often expired reports are swept.
    pub retention_interval: Duration,
    /// Create the demo account on start (once).
    pub demo: bool,
    /// Uploads and files: expiry of unfinished uploads, scanner, store folder.
    pub files: FilesConfig,
    /// Sites that embed the widget (`https://shop.example`): allowed as `Origin` of
    /// cookie-authenticated requests besides the service's own, and as the widget's
    /// `frame-ancestors`. With `secure_cookies`, a non-empty list makes `vvcu` `SameSite=None`.
    pub embed_origins: Vec<String>,
    /// Behind a proxy that appends the client's address to `X-Forwarded-For`: sign-in throttling
    /// goes by that address (the last entry) instead of the proxy's.
    pub forwarded_for: bool,
    /// A bearer token `/metrics` asks for; without one, `/metrics` is open (bind it to a private
    /// address, or set one).
    pub metrics_token: Option<String>,
    /// Write ZIP64 records in every "Download all" archive, even where plain ones would do
    /// (tests: the ZIP64 path without 4 GiB of files).
    pub zip64_always: bool,
}

impl Config {
    /// Defaults for a data folder, listening on a free loopback port.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            database_url: None,
            secure_cookies: false,
            retention_interval: Duration::from_secs(60),
            demo: false,
            files: FilesConfig::default(),
            embed_origins: Vec::new(),
            forwarded_for: false,
            metrics_token: None,
            zip64_always: false,
        }
    }

    /// The database URL in use.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("attache.db").display()))
    }
}

/// What every request can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: db::Db,
    /// Where the busy paths write: see [`db::writer`].
    pub writer: db::Writer,
    /// Access records, written in batches.
    pub access_log: domain::review::AccessLog,
    /// Owed events sent, their rows removed in batches.
    pub sent_events: domain::upload::SentEvents,
    /// Real-time fan-out.
    pub hub: events::Hub,
    /// The configuration.
    pub config: Arc<Config>,
    /// Flips to true when the service stops (long-lived connections end).
    pub shutdown: watch::Receiver<bool>,
    /// URL keys, store, staging and upload settings.
    pub files: Arc<files::Files>,
    /// Sign-in attempts, per account+user and per client address.
    pub throttle: Arc<auth::LoginThrottle>,
    /// What operators watch at `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Whether some account lists sites that embed its widget (then `vvcu` is `SameSite=None`
    /// behind TLS, as with `embed_origins`).
    pub embedding: Arc<std::sync::atomic::AtomicBool>,
}

/// A running service.
pub struct Server {
    addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
    jobs: Vec<JoinHandle<()>>,
    sweeps: JoinHandle<()>,
}

impl Server {
    /// Prepares the data folder and database, binds, and serves in the background.
    pub async fn start(config: Config) -> anyhow::Result<Server> {
        tokio::fs::create_dir_all(&config.data_dir)
            .await
            .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
        let db = db::connect(&config.database_url()).await?;
        // Visitors from before account scoping get their public ids (once; then a no-op).
        repo::visitor::rekey_legacy(&db).await.context("re-keying visitors")?;
        if config.demo {
            demo::ensure(&db).await.context("creating the demo account")?;
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let (stop, shutdown) = watch::channel(false);
        let url = config.database_url();
        let shared = db::Backend::of(&url)? == db::Backend::Postgres;
        let metrics = Arc::new(metrics::Metrics::default());
        let mut files = files::Files::open(&config.data_dir, config.files.clone(), shared).await?;
        files.store = Arc::new(storage::Counted::new(files.store.clone(), metrics.store_errors.clone()));
        let files = Arc::new(files);
        tokio::fs::create_dir_all(config.data_dir.join("tmp")).await.context("creating the data folder's tmp")?;
        let hub = match db::Backend::of(&url)? {
            db::Backend::Postgres => {
                events::Hub::with_postgres(db.clone(), &url).await.context("listening for events")?
            }
            db::Backend::Sqlite => events::Hub::default(),
        };
        let throttle = Arc::new(auth::LoginThrottle::default());
        let embedding = Arc::new(std::sync::atomic::AtomicBool::new(repo::widget::any_embedding(&db).await?));
        let writer = db::Writer::connect(&db, &url).await?;
        let access_log = domain::review::AccessLog::start(writer.clone());
        let sent_events = domain::upload::SentEvents::start(writer.clone());
        let config = Arc::new(config);
        let state = AppState {
            db,
            writer,
            access_log,
            sent_events,
            hub,
            config,
            shutdown,
            files,
            throttle,
            metrics,
            embedding,
        };
        let app = tower::Layer::layer(
            &tower::util::MapRequestLayer::new(routes::fold_swift_slash),
            routes::router(state.clone()),
        );
        let mut stopped = state.shutdown.clone();
        let serve = tokio::spawn(async move {
            axum::serve(listener, axum::ServiceExt::into_make_service_with_connect_info::<SocketAddr>(app))
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        });
        match domain::attachment::backfill_lookups(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "file URLs of a new secret recorded"),
            Err(e) => tracing::error!(error = ?e, "could not record the file URLs of a new secret"),
        }
        let jobs = vec![tokio::spawn(recovery_job(state.clone()))];
        let sweeps = tokio::spawn(retention_job(state.clone()));
        tracing::info!(%addr, "attaché is listening");
        Ok(Server { addr, state, stop, serve, jobs, sweeps })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared state (for tests and tools).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until the task is stopped or fails.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.serve.await??;
        Ok(())
    }

    /// Stops accepting, lets running requests (a PATCH under way) finish for up to
    /// [`DRAIN`], ends live sockets and background jobs, and closes the database. Leases are
    /// given back as their requests end; whatever is cut off after the drain keeps what it had
    /// recorded, and its lease expires by itself.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        for j in self.jobs {
            j.abort();
        }
        // The sweeps finish the pass under way (a deletion claimed is done or given back), for
        // a few seconds at most.
        let mut sweeps = self.sweeps;
        if tokio::time::timeout(Duration::from_secs(5), &mut sweeps).await.is_err() {
            sweeps.abort();
        }
        let serve = self.serve;
        let abort = serve.abort_handle();
        match tokio::time::timeout(DRAIN, serve).await {
            Ok(r) => r??,
            Err(_) => {
                tracing::warn!("requests still running after {DRAIN:?}; stopping anyway");
                abort.abort();
            }
        }
        // Leases dropped with their requests are released by tasks of their own: give them a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The access records of the last downloads.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.state.access_log.flush()).await;
        // The rows of the last events sent (a row left is sent again by the next start).
        let _ = tokio::time::timeout(Duration::from_secs(5), self.state.sent_events.flush()).await;
        self.state.writer.close().await;
        self.state.db.close().await;
        Ok(())
    }
}

/// How long a stopping service waits for running requests.
pub const DRAIN: Duration = Duration::from_secs(20);

/// Finishes complete uploads nobody finished (on start, then every few seconds: an instance
/// that died leaves its uploads to the others once its leases run out).
async fn recovery_job(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Err(e) = domain::upload::recover(&state).await {
            tracing::error!(error = ?e, "recovery pass failed");
        }
    }
}

/// Deletes expired reports now and then (and on start), with the other sweeps, until the
/// service stops.
async fn retention_job(state: AppState) {
    let mut tick = tokio::time::interval(state.config.retention_interval);
    let mut stopping = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        if let Err(e) = domain::retention::sweep_expired(&state).await {
            tracing::error!(error = ?e, "retention sweep failed");
        }
        if let Err(e) = domain::review::sweep_file_retention(&state).await {
            tracing::error!(error = ?e, "file retention sweep failed");
        }
        // Bytes a redaction or an expiry still owes the store (it failed then): until it confirms.
        if let Err(e) = domain::removal::sweep_owed(&state).await {
            tracing::error!(error = ?e, "owed deletions sweep failed");
        }
        if let Err(e) = domain::retention::sweep_expired_uploads(&state).await {
            tracing::error!(error = ?e, "upload expiry sweep failed");
        }
        if let Err(e) = domain::retention::sweep_orphan_staging(&state).await {
            tracing::error!(error = ?e, "staging sweep failed");
        }
        if let Err(e) = repo::user::delete_expired_sessions(&state.db).await {
            tracing::error!(error = ?e, "session sweep failed");
        }
        if let Err(e) = events::sweep_event_log(&state.db).await {
            tracing::error!(error = ?e, "event log sweep failed");
        }
    }
}

/// Caps glibc's malloc at two arenas. By default it makes up to eight per core as threads
/// contend (the request workers, the file and database threads), and memory freed into one arena
/// is not reused by another: after a burst of uploads the service kept ~20 MiB more, which a
/// burst of event sockets then added to. Call it first thing in `main`, before threads start.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
