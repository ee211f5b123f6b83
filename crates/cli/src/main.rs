//! `attache`: run the service, or talk to one through the SDK.

use anyhow::Context;
use attache_client::{
    ContactId, ContactState, FileCache, OpenContact, Progress, ReportFilter, Session, StaffClient,
    UploadOptions, UploadOutcome, VisitorClient,
};
use attache_server::{demo, Config, Server};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "attache",
    version,
    about = "Attaché: file transfer for customer-service chat"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Run the service with the demo account `acme` (same as `serve --demo`).
    Demo(ServeArgs),
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
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ATTACHE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder for the database and files.
    #[arg(long, env = "ATTACHE_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…` (default: SQLite in the data folder).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Create the demo account `acme` on start.
    #[arg(long, env = "ATTACHE_DEMO")]
    demo: bool,
    /// Mark cookies Secure (when a TLS proxy is in front).
    #[arg(long, env = "ATTACHE_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Seconds between sweeps of expired reports.
    #[arg(long, env = "ATTACHE_RETENTION_INTERVAL", default_value_t = 60)]
    retention_interval: u64,
    /// Log as JSON lines.
    #[arg(long, env = "ATTACHE_LOG_JSON")]
    log_json: bool,
    /// Malware scanner run on every finished upload, e.g. `clamdscan --no-summary`; the file's
    /// path is appended; exit 0 = clean, 1 = infected. Off by default.
    #[arg(long, env = "ATTACHE_SCANNER")]
    scanner: Option<String>,
    /// Hours after which an unfinished upload and its bytes are deleted.
    #[arg(long, env = "ATTACHE_UPLOAD_EXPIRY_HOURS", default_value_t = 24)]
    upload_expiry_hours: u64,
    /// Keep files in an S3-compatible bucket instead of the data folder: `s3://bucket/prefix`
    /// (credentials and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ENDPOINT, AWS_ALLOW_HTTP).
    #[arg(long, env = "STORE_URL")]
    store_url: Option<String>,
}

#[derive(Args)]
struct ServerArg {
    /// The service's address.
    #[arg(long, env = "ATTACHE_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
}

#[derive(Args)]
struct StaffArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Session token from `attache login`.
    #[arg(long, env = "ATTACHE_TOKEN", hide_env_values = true)]
    token: String,
}

/// A staff session, or a visitor's `vvcu` cookie.
#[derive(Args)]
struct FileArgs {
    #[command(flatten)]
    server: ServerArg,
    /// Session token from `attache login`.
    #[arg(long, env = "ATTACHE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Act as the customer with this `vvcu` cookie value instead.
    #[arg(long, env = "ATTACHE_VVCU", conflicts_with = "token")]
    vvcu: Option<String>,
}

impl FileArgs {
    /// The session files go through: the staff token's, or the customer's cookie.
    fn session(&self) -> anyhow::Result<Session> {
        match (&self.token, &self.vvcu) {
            (Some(t), _) => Ok(Session::bearer(&self.server.server, t)?),
            (None, Some(v)) => Ok(Session::visitor(&self.server.server, Some(v))?),
            (None, None) => anyhow::bail!("give --token (staff) or --vvcu (customer)"),
        }
    }
}

fn default_state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("attache").join("uploads")
}

async fn send(
    who: FileArgs,
    contact: String,
    file: PathBuf,
    options: UploadOptions,
) -> anyhow::Result<()> {
    let contact = ContactId(contact);
    let outcome = who
        .session()?
        .upload_file(&contact, &file, &options)
        .await?;
    eprintln!();
    match outcome {
        UploadOutcome::Sent(message) => print(&message),
        UploadOutcome::Cancelled { sent, .. } => {
            anyhow::bail!("cancelled after {sent} bytes; run again to resume")
        }
    }
}

async fn fetch(
    who: FileArgs,
    url: String,
    out: Option<PathBuf>,
    sha256: Option<String>,
    cache: Option<FileCache>,
) -> anyhow::Result<()> {
    let session = who.session()?;
    if let (Some(cache), Some(sha)) = (cache, sha256.as_deref()) {
        let path = session.fetch_url_cached(&cache, &url, sha).await?;
        if let Some(out) = out {
            std::fs::copy(&path, &out).with_context(|| format!("copying to {}", out.display()))?;
            println!("{}", out.display());
        } else {
            println!("{}", path.display());
        }
        return Ok(());
    }
    let out = out.unwrap_or_else(|| {
        let last = url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("download");
        let name = percent_decode(last);
        let safe: String = name
            .chars()
            .filter(|c| !matches!(c, '/' | '\\') && !c.is_control())
            .collect();
        PathBuf::from(if safe.is_empty() || safe.starts_with('.') {
            "download".to_owned()
        } else {
            safe
        })
    });
    let got = session.download(&url, sha256.as_deref(), &out).await?;
    if got.resumed_from > 0 {
        eprintln!("resumed from byte {}", got.resumed_from);
    }
    println!("{}  {}", got.sha256, got.path.display());
    Ok(())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() && s.is_char_boundary(i + 1) && s.is_char_boundary(i + 3)
        {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl StaffArgs {
    fn client(&self) -> anyhow::Result<StaffClient> {
        Ok(StaffClient::from_token(&self.server.server, &self.token)?)
    }
}

fn print<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATTACHE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(args: ServeArgs, demo_flag: bool) -> anyhow::Result<()> {
    init_logs(args.log_json);
    let config = Config {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        secure_cookies: args.secure_cookies,
        retention_interval: Duration::from_secs(args.retention_interval.max(1)),
        demo: args.demo || demo_flag,
        files: attache_server::FilesConfig {
            upload_expiry: Duration::from_secs(args.upload_expiry_hours.max(1) * 3600),
            scanner: args
                .scanner
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .filter(|v: &Vec<String>| !v.is_empty()),
            store_url: args.store_url,
            ..Default::default()
        },
    };
    let demo = config.demo;
    let server = Server::start(config).await?;
    println!("Attaché is listening on {}", server.url());
    if demo {
        println!("Demo account '{}': users sam (supervisor), alice (agent, supervised by sam), bob (agent),", demo::ACCOUNT);
        println!(
            "  ada (admin), rita (reports viewer); every password is '{}'.",
            demo::PASSWORD
        );
        println!(
            "  Sign in: attache login --server {} --user alice --password {}",
            server.url(),
            demo::PASSWORD
        );
        println!(
            "  Customer page: {}/widget/?account={}",
            server.url(),
            demo::ACCOUNT
        );
    }
    tokio::select! {
        r = tokio::signal::ctrl_c() => { r.context("waiting for Ctrl-C")?; }
        _ = terminate() => {}
    }
    tracing::info!("stopping");
    server.stop().await
}

#[cfg(unix)]
async fn terminate() {
    if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        s.recv().await;
    } else {
        std::future::pending::<()>().await;
    }
}
#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => serve(a, false).await,
        Command::Demo(a) => serve(a, true).await,
        Command::Login {
            server,
            account,
            user,
            password,
        } => {
            let (_, resp) = StaffClient::login(&server.server, &account, &user, &password).await?;
            println!("{}", resp.token);
            Ok(())
        }
        Command::Contacts { staff, state } => {
            let state = match state.as_deref() {
                None => None,
                Some(s) => {
                    Some(ContactState::parse(s).context("state is queued, active or closed")?)
                }
            };
            print(&staff.client()?.contacts(state).await?)
        }
        Command::Accept { staff, contact } => {
            print(&staff.client()?.accept(&ContactId(contact)).await?)
        }
        Command::Say {
            staff,
            contact,
            text,
        } => print(
            &staff
                .client()?
                .send_message(&ContactId(contact), &text)
                .await?,
        ),
        Command::Close { staff, contact } => {
            print(&staff.client()?.close(&ContactId(contact)).await?)
        }
        Command::Report { staff, contact } => match contact {
            Some(c) => print(&staff.client()?.report_contact(&ContactId(c)).await?),
            None => print(
                &staff
                    .client()?
                    .report_contacts(&ReportFilter::default())
                    .await?,
            ),
        },
        Command::Events { staff } => {
            let mut events = staff.client()?.events().await?;
            while let Some(e) = events.next_event().await {
                println!("{}", serde_json::to_string(&e?)?);
            }
            Ok(())
        }
        Command::Send {
            who,
            contact,
            file,
            description,
            media_type,
            chunk,
            state_dir,
        } => {
            let options = UploadOptions {
                chunk_size: Some(chunk),
                description,
                media_type,
                state_dir: Some(state_dir.unwrap_or_else(default_state_dir)),
                progress: Some(std::sync::Arc::new(|p: Progress| {
                    let pct = (p.sent * 100).checked_div(p.total).unwrap_or(100);
                    eprint!("\r{pct:>3}%  {} / {} bytes", p.sent, p.total);
                })),
                ..Default::default()
            };
            send(who, contact, file, options).await
        }
        Command::Fetch {
            who,
            url,
            out,
            sha256,
            cache_dir,
            cache_mib,
        } => {
            let cache = cache_dir.map(|d| FileCache::new(d, cache_mib.saturating_mul(1024 * 1024)));
            fetch(who, url, out, sha256, cache).await
        }
        Command::Visit {
            server,
            account,
            name,
            message,
        } => {
            let visitor = VisitorClient::new(&server.server)?;
            print(
                &visitor
                    .open_contact(&OpenContact {
                        account,
                        name,
                        message,
                    })
                    .await?,
            )
        }
    }
}
