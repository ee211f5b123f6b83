//! The command line: subcommands and their arguments (clap), and the SDK sessions they name.

use attache_client::{Session, StaffClient};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "attache",
    version,
    about = "Attaché: file transfer for customer-service chat",
    args_override_self = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Run the service with the demo account `acme` (same as `serve --demo`).
    Demo(ServeArgs),
    /// Check a configuration before `serve`: database reachable and migrated, store writable and
    /// readable, the secret the database's URLs were made with, the scanner answering, the port
    /// free. Takes the same flags as `serve`; each check prints a line, OK or the fix in words.
    Doctor(ServeArgs),
    /// Show the settings `serve` would run with (`--print`), from the command line, the
    /// environment, `--config attache.toml` and the defaults, with secrets masked.
    Config {
        /// Print the effective settings as TOML (usable as a config file).
        #[arg(long)]
        print: bool,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Print a new random server secret (hex) for `--secret-file` / `ATTACHE_SECRET`.
    Secret,
    /// Sign in and print the session token (use it as ATTACHE_TOKEN).
    Login {
        #[command(flatten)]
        server: ServerArg,
        /// Account name.
        #[arg(long, default_value = "acme")]
        account: String,
        /// Username.
        #[arg(long)]
        user: String,
        /// Password.
        #[arg(long, env = "ATTACHE_PASSWORD")]
        password: String,
    },
    /// List the queue and your contacts.
    Contacts {
        #[command(flatten)]
        staff: StaffArgs,
        /// Only this state: queued, active or closed.
        #[arg(long)]
        state: Option<String>,
    },
    /// Accept a queued contact.
    Accept {
        #[command(flatten)]
        staff: StaffArgs,
        contact: String,
    },
    /// Send a text message to your contact.
    Say {
        #[command(flatten)]
        staff: StaffArgs,
        contact: String,
        text: String,
    },
    /// Close your contact.
    Close {
        #[command(flatten)]
        staff: StaffArgs,
        contact: String,
    },
    /// Print a contact report with its transcript (JSON).
    Report {
        #[command(flatten)]
        staff: StaffArgs,
        /// A contact id; without it, the list of reports.
        contact: Option<String>,
    },
    /// A contact's access records: who opened which file, by which grant, when, from where
    /// (admins, report viewers, the agent's supervisor).
    Access {
        #[command(flatten)]
        staff: StaffArgs,
        contact: String,
        /// Only this kind of caller: staff, visitor, browser, link or consumer.
        #[arg(long)]
        who: Option<String>,
    },
    /// "Download all": a contact's attachments as a ZIP with manifest.json, manifest.csv and
    /// the transcript (resumes when run again after an interruption).
    Export {
        #[command(flatten)]
        staff: StaffArgs,
        contact: String,
        /// Where to write the ZIP.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Reports > Attachments: find files across the contacts you may review (JSON, one page).
    Files {
        #[command(flatten)]
        staff: StaffArgs,
        /// Part of the file name.
        #[arg(long)]
        name: Option<String>,
        /// Media type or its start, e.g. `image/`.
        #[arg(long = "type")]
        media_type: Option<String>,
        /// agent or customer.
        #[arg(long)]
        sender: Option<String>,
        /// Page, from 1.
        #[arg(long)]
        page: Option<u32>,
    },
    /// The account's storage: bytes and files kept, expired and redacted this month (admins).
    Storage {
        #[command(flatten)]
        staff: StaffArgs,
    },
    /// Redact one attachment (its id, or its message's): the bytes go, a tombstone stays.
    Redact {
        #[command(flatten)]
        staff: StaffArgs,
        attachment: String,
        /// Why, shown to both sides (one line, at most 500 characters).
        #[arg(long)]
        reason: String,
    },
    /// Follow the staff event stream (one JSON event per line).
    Events {
        #[command(flatten)]
        staff: StaffArgs,
    },
    /// Send a file to a contact over tus (resumable: run it again after an interruption).
    Send {
        #[command(flatten)]
        who: FileArgs,
        /// The contact's id.
        contact: String,
        /// The file.
        file: PathBuf,
        /// Shown in the transcript instead of the file name.
        #[arg(long)]
        description: Option<String>,
        /// Media type to declare (default: from the extension).
        #[arg(long = "type")]
        media_type: Option<String>,
        /// Bytes per chunk.
        #[arg(long, default_value_t = attache_client::DEFAULT_CHUNK)]
        chunk: usize,
        /// Folder for resume state (default: the user's cache folder).
        #[arg(long, env = "ATTACHE_STATE_DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Download a file URL (`/files/…`) with your session; resumes and verifies the SHA-256.
    Fetch {
        #[command(flatten)]
        who: FileArgs,
        /// The file's URL or path.
        url: String,
        /// Where to write (default: the file name of the URL, here).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The expected SHA-256 (default: the ETag the service sends).
        #[arg(long)]
        sha256: Option<String>,
        /// Keep the file in this content-addressed cache (needs --sha256) and print its path.
        #[arg(long, env = "ATTACHE_CACHE_DIR", requires = "sha256")]
        cache_dir: Option<PathBuf>,
        /// Cache size cap in MiB.
        #[arg(long, default_value_t = 512)]
        cache_mib: u64,
    },
    /// Show or change the customer widget's settings (admins): the sites allowed to embed it with
    /// `<script src=".../widget/embed.js" data-account="...">`, the launcher's colour, the greeting.
    Widget {
        #[command(flatten)]
        staff: StaffArgs,
        /// A site allowed to embed the widget, e.g. `https://shop.example`; repeat for several.
        /// Replaces the list.
        #[arg(long = "allow", value_name = "ORIGIN")]
        allow: Vec<String>,
        /// Allow no site (clears the list).
        #[arg(long, conflicts_with = "allow")]
        allow_none: bool,
        /// The launcher's colour, `#rrggbb` (empty for the default).
        #[arg(long)]
        color: Option<String>,
        /// The greeting beside the launcher (empty for none).
        #[arg(long)]
        greeting: Option<String>,
    },
    /// Copy a whole deployment to another database and store (SQLite + folder to PostgreSQL +
    /// S3, the reverse, or to a new folder), secret included, so every file URL keeps working.
    /// Run it again after an interruption: what is there already (rows, files by SHA-256) is
    /// skipped. Stop the source's service first.
    Migrate {
        #[command(flatten)]
        from: FromArgs,
        #[command(flatten)]
        to: ToArgs,
        /// Leave sessions behind: staff sign in again on the target.
        #[arg(long)]
        without_sessions: bool,
        /// Compare source and target, write nothing; print the differences.
        #[arg(long)]
        check: bool,
    },
    /// Back up the embedded default (SQLite) while the service runs: a consistent copy of the
    /// database, the files it names and the secret, into a new folder.
    Backup {
        #[command(flatten)]
        from: FromArgs,
        /// The new folder for the backup.
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a folder made by `attache backup` into a new data folder (or PostgreSQL + S3).
    Restore {
        /// The backup folder.
        backup: PathBuf,
        #[command(flatten)]
        to: ToArgs,
    },
    /// Play a customer: open a contact with a first message and print it.
    Visit {
        #[command(flatten)]
        server: ServerArg,
        #[arg(long, default_value = "acme")]
        account: String,
        #[arg(long)]
        name: Option<String>,
        message: Option<String>,
    },
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// A TOML file with any of these flags as keys (`listen = "0.0.0.0:8080"`,
    /// `data-dir = "/srv/attache"`); the command line and the environment override it.
    #[arg(long, env = "ATTACHE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "ATTACHE_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Folder for the database and files.
    #[arg(long, env = "ATTACHE_DATA_DIR", default_value = "./data")]
    pub(crate) data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…` (default: SQLite in the data folder).
    #[arg(long, env = "DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// Create the demo account `acme` on start.
    #[arg(long, env = "ATTACHE_DEMO")]
    pub(crate) demo: bool,
    /// Mark cookies Secure (when a TLS proxy is in front).
    #[arg(long, env = "ATTACHE_SECURE_COOKIES")]
    pub(crate) secure_cookies: bool,
    /// Seconds between sweeps of expired reports.
    #[arg(long, env = "ATTACHE_RETENTION_INTERVAL", default_value_t = 60)]
    pub(crate) retention_interval: u64,
    /// Log as JSON lines.
    #[arg(long, env = "ATTACHE_LOG_JSON")]
    pub(crate) log_json: bool,
    /// Malware scanner run on every finished upload, e.g. `clamdscan --no-summary`; the file's
    /// path is appended; exit 0 = clean, 1 = infected. Off by default.
    #[arg(long, env = "ATTACHE_SCANNER", conflicts_with = "clamd")]
    pub(crate) scanner: Option<String>,
    /// clamd's socket, scanned over with its INSTREAM command: `unix:/run/clamav/clamd.ctl` or
    /// `tcp:127.0.0.1:3310`. Instead of `--scanner`.
    #[arg(long, env = "ATTACHE_CLAMD")]
    pub(crate) clamd: Option<attache_server::scan::ClamdAddr>,
    /// Seconds one scan may take; past it the file is blocked as "scanner unavailable".
    #[arg(long, env = "ATTACHE_SCAN_TIMEOUT_SECS", default_value_t = 60)]
    pub(crate) scan_timeout_secs: u64,
    /// Hours after which an unfinished upload and its bytes are deleted.
    #[arg(long, env = "ATTACHE_UPLOAD_EXPIRY_HOURS", default_value_t = 24)]
    pub(crate) upload_expiry_hours: u64,
    /// Keep files in an S3-compatible bucket instead of the data folder: `s3://bucket/prefix`
    /// (credentials and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ENDPOINT, AWS_ALLOW_HTTP).
    #[arg(long, env = "STORE_URL")]
    pub(crate) store_url: Option<String>,
    /// File holding the server secret (hex, from `attache secret`): the same on every
    /// instance. Needed with PostgreSQL or S3; the embedded default keeps one in the data folder.
    /// `ATTACHE_SECRET` may hold the secret itself instead.
    #[arg(long, env = "ATTACHE_SECRET_FILE")]
    pub(crate) secret_file: Option<PathBuf>,
    /// During a rotation: the previous secret's file; its URLs keep working until it is removed.
    /// `ATTACHE_PREVIOUS_SECRET` may hold the secret itself instead.
    #[arg(long, env = "ATTACHE_PREVIOUS_SECRET_FILE")]
    pub(crate) previous_secret_file: Option<PathBuf>,
    /// Seconds an upload's lease lasts unrenewed: how long the uploads of an instance that died
    /// wait before another instance continues them.
    #[arg(long, env = "ATTACHE_LEASE_SECS", default_value_t = 15)]
    pub(crate) lease_secs: u64,
    /// A site that embeds the widget, e.g. `https://shop.example` (repeat, or comma-separate in
    /// the variable): it may frame the widget and make cookie requests from its pages.
    #[arg(long = "embed-origin", env = "ATTACHE_EMBED_ORIGINS", value_delimiter = ',')]
    pub(crate) embed_origins: Vec<String>,
    /// Behind a proxy that appends the client's address to X-Forwarded-For: throttle sign-ins by
    /// that address rather than the proxy's.
    #[arg(long, env = "ATTACHE_FORWARDED_FOR")]
    pub(crate) forwarded_for: bool,
    /// A bearer token that `/metrics` asks for (without one, `/metrics` is open to whoever
    /// reaches the port).
    #[arg(long, env = "ATTACHE_METRICS_TOKEN", hide_env_values = true)]
    pub(crate) metrics_token: Option<String>,
}

/// The deployment to read: a data folder, or a database URL and a store URL.
#[derive(Args)]
pub(crate) struct FromArgs {
    /// Its data folder (SQLite file, files, secret.key).
    #[arg(long)]
    pub(crate) from_data_dir: Option<PathBuf>,
    /// Its database, `sqlite:…` or `postgres://…` (default: SQLite in --from-data-dir).
    #[arg(long)]
    pub(crate) from_database: Option<String>,
    /// Its store, `s3://bucket/prefix` (default: the files of --from-data-dir).
    #[arg(long)]
    pub(crate) from_store: Option<String>,
    /// Its secret file (default: secret.key in --from-data-dir).
    #[arg(long)]
    pub(crate) from_secret_file: Option<PathBuf>,
}

/// The deployment to write: a data folder, or a database URL and a store URL.
#[derive(Args)]
pub(crate) struct ToArgs {
    /// Its data folder (made if missing).
    #[arg(long)]
    pub(crate) to_data_dir: Option<PathBuf>,
    /// Its database, `sqlite:…` or `postgres://…` (default: SQLite in --to-data-dir).
    #[arg(long)]
    pub(crate) to_database: Option<String>,
    /// Its store, `s3://bucket/prefix` (AWS_* variables as for `serve`; default: files in
    /// --to-data-dir).
    #[arg(long)]
    pub(crate) to_store: Option<String>,
    /// Where to write the secret, for the target's --secret-file (needed with PostgreSQL or S3;
    /// default: secret.key in --to-data-dir).
    #[arg(long)]
    pub(crate) to_secret_file: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ServerArg {
    /// The service's address.
    #[arg(long, env = "ATTACHE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub(crate) server: String,
}

#[derive(Args)]
pub(crate) struct StaffArgs {
    #[command(flatten)]
    pub(crate) server: ServerArg,
    /// Session token from `attache login`.
    #[arg(long, env = "ATTACHE_TOKEN", hide_env_values = true)]
    pub(crate) token: String,
}

/// A staff session, or a visitor's `vvcu` cookie.
#[derive(Args)]
pub(crate) struct FileArgs {
    #[command(flatten)]
    pub(crate) server: ServerArg,
    /// Session token from `attache login`.
    #[arg(long, env = "ATTACHE_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Act as the customer with this `vvcu` cookie value instead.
    #[arg(long, env = "ATTACHE_VVCU", conflicts_with = "token")]
    pub(crate) vvcu: Option<String>,
}

impl FileArgs {
    /// The session files go through: the staff token's, or the customer's cookie.
    pub(crate) fn session(&self) -> anyhow::Result<Session> {
        match (&self.token, &self.vvcu) {
            (Some(t), _) => Ok(Session::bearer(&self.server.server, t)?),
            (None, Some(v)) => Ok(Session::visitor(&self.server.server, Some(v))?),
            (None, None) => anyhow::bail!("give --token (staff) or --vvcu (customer)"),
        }
    }
}

impl StaffArgs {
    pub(crate) fn client(&self) -> anyhow::Result<StaffClient> {
        Ok(StaffClient::from_token(&self.server.server, &self.token)?)
    }
}
