//! `attache migrate`, `attache backup` and `attache restore`: the service's `ops` module with a
//! progress line on stderr and the report on stdout.

use crate::args::{FromArgs, ToArgs};
use attache_server::ops::{self, migrate, Endpoint, OnProgress, Progress};
use std::io::IsTerminal;
use std::sync::Arc;

impl FromArgs {
    pub(crate) fn endpoint(&self) -> Endpoint {
        Endpoint {
            data_dir: self.from_data_dir.clone(),
            database_url: self.from_database.clone(),
            store_url: self.from_store.clone(),
            secret_file: self.from_secret_file.clone(),
        }
    }
}

impl ToArgs {
    pub(crate) fn endpoint(&self) -> Endpoint {
        Endpoint {
            data_dir: self.to_data_dir.clone(),
            database_url: self.to_database.clone(),
            store_url: self.to_store.clone(),
            secret_file: self.to_secret_file.clone(),
        }
    }
}

/// A progress line on stderr: rewritten in place on a terminal, one line per stage otherwise.
pub(crate) fn progress_line() -> OnProgress {
    let tty = std::io::stderr().is_terminal();
    let last = std::sync::Mutex::new(String::new());
    Arc::new(move |p: &Progress| {
        let mib = p.bytes as f64 / 1048576.0;
        let bytes = if p.bytes > 0 { format!(", {mib:.1} MiB") } else { String::new() };
        let line = format!("{:<20} {:>8} / {:<8}{bytes}", p.stage, p.done, p.total);
        if tty {
            eprint!("\r{line:<60}");
            if p.done >= p.total {
                eprintln!();
            }
        } else if p.done >= p.total {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if *last != p.stage {
                eprintln!("{line}");
                *last = p.stage.clone();
            }
        }
    })
}

pub(crate) async fn migrate(from: FromArgs, to: ToArgs, without_sessions: bool, check: bool) -> anyhow::Result<()> {
    let options = migrate::Options { without_sessions, progress: Some(progress_line()) };
    let (from, to) = (from.endpoint(), to.endpoint());
    if check {
        let diffs = migrate::check(&from, &to, &options).await?;
        if diffs.is_empty() {
            println!("no differences: the target holds every row, file and the secret of the source");
            return Ok(());
        }
        diffs.iter().for_each(|d| println!("{d}"));
        anyhow::bail!("{} differences", diffs.len());
    }
    let report = migrate::run(&from, &to, &options).await?;
    print!("{report}");
    Ok(())
}

pub(crate) async fn backup(from: FromArgs, out: std::path::PathBuf) -> anyhow::Result<()> {
    let report = ops::backup::backup(&from.endpoint(), &out, Some(progress_line())).await?;
    print!("{report}");
    Ok(())
}

pub(crate) async fn restore(backup: std::path::PathBuf, to: ToArgs) -> anyhow::Result<()> {
    let report = ops::backup::restore(&backup, &to.endpoint(), Some(progress_line())).await?;
    print!("{report}");
    Ok(())
}
