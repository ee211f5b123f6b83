//! `attache`: run the service, or talk to one through the SDK.

use anyhow::Context;
use attache_client::{ContactId, ContactState, OpenContact, ReportFilter, StaffClient, VisitorClient};
use attache_server::{demo, Config, Server};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "attache", version, about = "Attaché: file transfer for customer-service chat")]
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
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
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
        files: Default::default(),
    };
    let demo = config.demo;
    let server = Server::start(config).await?;
    println!("Attaché is listening on {}", server.url());
    if demo {
        println!("Demo account '{}': users sam (supervisor), alice (agent, supervised by sam), bob (agent),", demo::ACCOUNT);
        println!("  ada (admin), rita (reports viewer); every password is '{}'.", demo::PASSWORD);
        println!("  Sign in: attache login --server {} --user alice --password {}", server.url(), demo::PASSWORD);
        println!("  Customer page: {}/widget/?account={}", server.url(), demo::ACCOUNT);
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
        Command::Login { server, account, user, password } => {
            let (_, resp) = StaffClient::login(&server.server, &account, &user, &password).await?;
            println!("{}", resp.token);
            Ok(())
        }
        Command::Contacts { staff, state } => {
            let state = match state.as_deref() {
                None => None,
                Some(s) => Some(ContactState::parse(s).context("state is queued, active or closed")?),
            };
            print(&staff.client()?.contacts(state).await?)
        }
        Command::Accept { staff, contact } => print(&staff.client()?.accept(&ContactId(contact)).await?),
        Command::Say { staff, contact, text } => print(&staff.client()?.send_message(&ContactId(contact), &text).await?),
        Command::Close { staff, contact } => print(&staff.client()?.close(&ContactId(contact)).await?),
        Command::Report { staff, contact } => match contact {
            Some(c) => print(&staff.client()?.report_contact(&ContactId(c)).await?),
            None => print(&staff.client()?.report_contacts(&ReportFilter::default()).await?),
        },
        Command::Events { staff } => {
            let mut events = staff.client()?.events().await?;
            while let Some(e) = events.next_event().await {
                println!("{}", serde_json::to_string(&e?)?);
            }
            Ok(())
        }
        Command::Visit { server, account, name, message } => {
            let visitor = VisitorClient::new(&server.server)?;
            print(&visitor.open_contact(&OpenContact { account, name, message }).await?)
        }
    }
}
