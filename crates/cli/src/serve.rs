//! `attache serve` and `attache demo`: the service in this process until Ctrl-C or SIGTERM.

use crate::args::ServeArgs;
use anyhow::Context;
use attache_server::{demo, Config, Server};
use std::time::Duration;

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

pub(crate) async fn serve(args: ServeArgs, demo_flag: bool) -> anyhow::Result<()> {
    init_logs(args.log_json);
    let config = config_of(args, demo_flag);
    let demo = config.demo;
    let server = Server::start(config).await?;
    println!("Attaché is listening on {}", server.url());
    if demo {
        println!(
            "Demo account '{}': users sam (supervisor), alice (agent, supervised by sam), bob (agent),",
            demo::ACCOUNT
        );
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

/// The service's configuration from its flags (and `--demo` / `attache demo`).
pub(crate) fn config_of(args: ServeArgs, demo_flag: bool) -> Config {
    Config {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        secure_cookies: args.secure_cookies,
        retention_interval: Duration::from_secs(args.retention_interval.max(1)),
        demo: args.demo || demo_flag,
        files: attache_server::FilesConfig {
            upload_expiry: Duration::from_secs(args.upload_expiry_hours.max(1) * 3600),
            scanner: match args.clamd {
                Some(addr) => Some(attache_server::scan::Scanner::Clamd(addr)),
                None => args
                    .scanner
                    .map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                    .filter(|v| !v.is_empty())
                    .map(attache_server::scan::Scanner::Command),
            },
            scan_timeout: Duration::from_secs(args.scan_timeout_secs.max(1)),
            store_url: args.store_url,
            secrets: attache_server::keys::SecretConfig {
                current_hex: std::env::var("ATTACHE_SECRET").ok().filter(|v| !v.trim().is_empty()),
                current_file: args.secret_file,
                previous_hex: std::env::var("ATTACHE_PREVIOUS_SECRET")
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .into_iter()
                    .collect(),
                previous_files: args.previous_secret_file.into_iter().collect(),
            },
            lease: Duration::from_secs(args.lease_secs.max(1)),
            ..Default::default()
        },
        forwarded_for: args.forwarded_for,
        metrics_token: args.metrics_token.filter(|t| !t.trim().is_empty()),
        zip64_always: false,
        embed_origins: args
            .embed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect(),
    }
}

/// `attache doctor`: each check of the configuration a line; fails when one needs a fix.
pub(crate) async fn doctor(args: ServeArgs) -> anyhow::Result<()> {
    let checks = attache_server::ops::doctor::doctor(&config_of(args, false)).await;
    checks.iter().for_each(|c| println!("{c}"));
    let fixes = checks.iter().filter(|c| c.status == attache_server::ops::doctor::Status::Fix).count();
    anyhow::ensure!(fixes == 0, "{fixes} to fix before attache serve");
    Ok(())
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
