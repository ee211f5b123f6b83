//! `attache migrate`: carries a deployment to another database and store, secret included, so
//! that every file URL it gave out keeps working. The bytes go first (streamed, verified by
//! SHA-256), then the rows in [`TABLES`] order; running it again skips what is there already,
//! so an interrupted migration is finished by running it again. [`check`] compares two
//! deployments without writing.

use super::blobs::{self, Outcome};
use super::rows::{Side, PAGE};
use super::tables::{Table, LEFT_BEHIND, TABLES};
use super::{secret, Endpoint, OnProgress, Opened, Progress};
use anyhow::Context;
use futures_util::StreamExt;
use sqlx::Row as _;
use std::fmt;
use std::time::{Duration, Instant};

/// Objects copied at once.
const PARALLEL_FILES: usize = 4;

/// What to carry.
#[derive(Clone, Default)]
pub struct Options {
    /// Leave the sessions behind (everyone signs in again on the target).
    pub without_sessions: bool,
    /// Called as work is done.
    pub progress: Option<OnProgress>,
}

/// One table's figures.
#[derive(Debug, Clone, Default)]
pub struct TableReport {
    /// The table.
    pub name: &'static str,
    /// Rows in the source (those carried).
    pub rows: u64,
    /// Rows written now.
    pub copied: u64,
    /// Rows the target had already.
    pub already: u64,
}

/// What a migration did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Objects copied now, and their bytes.
    pub files_copied: u64,
    /// Objects the target had already (same SHA-256).
    pub files_verified: u64,
    /// Bytes copied now.
    pub bytes_copied: u64,
    /// Bytes of every object carried (copied or verified).
    pub bytes_total: u64,
    /// Whether the secret was written to the target now.
    pub secret_written: bool,
    /// Where the target's secret is.
    pub secret_at: String,
    /// What was not carried, and why.
    pub skipped: Vec<String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl Report {
    /// Files (copied or verified) per second.
    pub fn files_per_sec(&self) -> f64 {
        (self.files_copied + self.files_verified) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    /// MiB (copied or verified) per second.
    pub fn mib_per_sec(&self) -> f64 {
        self.bytes_total as f64 / 1048576.0 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<20} {:>9} {:>9} {:>9}", "table", "rows", "copied", "already")?;
        for t in &self.tables {
            writeln!(f, "{:<20} {:>9} {:>9} {:>9}", t.name, t.rows, t.copied, t.already)?;
        }
        writeln!(
            f,
            "files: {} copied, {} already there (SHA-256 verified); {:.1} MiB copied of {:.1} MiB",
            self.files_copied,
            self.files_verified,
            self.bytes_copied as f64 / 1048576.0,
            self.bytes_total as f64 / 1048576.0
        )?;
        let secret = if self.secret_written { "written to" } else { "already in" };
        writeln!(f, "secret: {secret} {}", self.secret_at)?;
        writeln!(
            f,
            "took {:.1} s ({:.1} files/s, {:.1} MiB/s)",
            self.elapsed.as_secs_f64(),
            self.files_per_sec(),
            self.mib_per_sec()
        )?;
        if self.skipped.is_empty() {
            writeln!(f, "nothing skipped")
        } else {
            writeln!(f, "skipped ({}):", self.skipped.len())?;
            self.skipped.iter().try_for_each(|s| writeln!(f, "  {s}"))
        }
    }
}

fn tell(options: &Options, stage: &str, done: u64, total: u64, bytes: u64) {
    if let Some(p) = &options.progress {
        p(&Progress { stage: stage.to_owned(), done, total, bytes });
    }
}

/// The source's secret text, from its secret file or data folder.
async fn source_secret(from: &Opened) -> anyhow::Result<String> {
    let path = from.secret_path.as_ref().context(
        "the source's secret is not in a data folder: give --from-secret-file (the file its --secret-file names)",
    )?;
    Ok(secret::read(path).await?.0)
}

/// Carries `from` to `to`. See the module's documentation.
pub async fn run(from: &Endpoint, to: &Endpoint, options: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    anyhow::ensure!(from.database_url()? != to.database_url()?, "the source and the target are the same database");
    let src = from.open().await.context("opening the source")?;
    let text = source_secret(&src).await?;
    let dst = to.open().await.context("opening the target")?;
    let secret_path = dst.secret_path.clone().context(
        "the target takes its secret from configuration (PostgreSQL or S3): give --to-secret-file, the file its --secret-file will name",
    )?;
    let mut report = Report { secret_at: secret_path.display().to_string(), ..Default::default() };
    report.secret_written = secret::write(&secret_path, &text).await?;
    report.skipped.extend(unknown_tables(&src.side).await?);
    carry_files(&src, &dst, options, &mut report).await?;
    for t in TABLES {
        if t.sessions && options.without_sessions {
            report.skipped.push("sessions: left behind (--without-sessions); staff sign in again".to_owned());
            continue;
        }
        report.tables.push(carry_table(&src.side, &dst.side, t, options).await?);
    }
    report.skipped.extend(dropped_uploads(&src.side).await?);
    report.elapsed = started.elapsed();
    src.side.db.close().await;
    dst.side.db.close().await;
    Ok(report)
}

/// Tables of the source this version does not know (carried by nobody: a newer source?).
async fn unknown_tables(side: &Side) -> anyhow::Result<Vec<String>> {
    let known = |n: &str| TABLES.iter().any(|t| t.name == n) || LEFT_BEHIND.iter().any(|(t, _)| *t == n);
    Ok(side
        .tables()
        .await?
        .into_iter()
        .filter(|n| !known(n))
        .map(|n| format!("table {n}: unknown to this version, not carried"))
        .collect())
}

/// Unfinished uploads, which stay behind.
async fn dropped_uploads(side: &Side) -> anyhow::Result<Vec<String>> {
    let rows =
        sqlx::query("SELECT id, file_name, upload_offset, length FROM uploads WHERE state = 'receiving' ORDER BY id")
            .fetch_all(&side.db)
            .await?;
    rows.iter()
        .map(|r| {
            let (id, name, off, len): (String, String, i64, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            Ok(format!("upload {id} ({name:?}, {off} of {len} bytes): unfinished, dropped; its sender sends it again"))
        })
        .collect()
}

pub(super) async fn carry_files(
    src: &Opened,
    dst: &Opened,
    options: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let total = blobs::count(&src.side).await? as u64;
    let (mut done, mut after) = (0u64, String::new());
    loop {
        let (page, next) = blobs::page(&src.side, &after).await?;
        let results: Vec<anyhow::Result<Outcome>> = futures_util::stream::iter(page)
            .map(|b| {
                let (from, to) = (src.store.clone(), dst.store.clone());
                async move { blobs::carry(from.as_ref(), to.as_ref(), &b).await }
            })
            .buffered(PARALLEL_FILES)
            .collect()
            .await;
        for r in results {
            match r? {
                Outcome::Copied(n) => {
                    report.files_copied += 1;
                    report.bytes_copied += n;
                    report.bytes_total += n;
                }
                Outcome::Verified(n) => {
                    report.files_verified += 1;
                    report.bytes_total += n;
                }
                Outcome::Skipped(why) => report.skipped.push(why),
            }
            done += 1;
        }
        tell(options, "files", done, total, report.bytes_total);
        match next {
            Some(n) => after = n,
            None => break,
        }
    }
    Ok(())
}

async fn carry_table(src: &Side, dst: &Side, t: &Table, options: &Options) -> anyhow::Result<TableReport> {
    let cols = src.columns(t.name).await?;
    let have = dst.columns(t.name).await?;
    for (name, _) in &cols.0 {
        anyhow::ensure!(
            have.index(name).is_some(),
            "the target's {} has no column {name}: is it an older version?",
            t.name
        );
    }
    let key_at = cols.index(t.key).with_context(|| format!("{} has no column {}", t.name, t.key))?;
    let total = src.count(t).await? as u64;
    let mut report = TableReport { name: t.name, rows: total, ..Default::default() };
    let mut after = String::new();
    let mut later_rows = Vec::new();
    loop {
        let page = src.page(t, &cols, &after).await?;
        let Some(last) = page.last() else { break };
        after = last[key_at].text();
        let new = dst.insert(t, &cols, &page).await?;
        report.copied += new;
        report.already += page.len() as u64 - new;
        if !t.later.is_empty() {
            later_rows.extend(page.iter().cloned());
        }
        tell(options, t.name, report.copied + report.already, total, 0);
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    dst.set_later(t, &cols, &later_rows).await?;
    Ok(report)
}

/// Compares two deployments: every carried table row by row, every object by SHA-256, and the
/// secret. Returns the differences (empty when the target holds everything the source does).
pub async fn check(from: &Endpoint, to: &Endpoint, options: &Options) -> anyhow::Result<Vec<String>> {
    let src = from.open().await.context("opening the source")?;
    let dst = to.open().await.context("opening the target")?;
    let mut diffs = Vec::new();
    let want = source_secret(&src).await?;
    match &dst.secret_path {
        Some(p) => match secret::read(p).await {
            Ok((have, _)) if have == want => {}
            Ok(_) => diffs.push(format!("secret: {} holds a different secret; file URLs would not work", p.display())),
            Err(e) => diffs.push(format!("secret: {e:#}")),
        },
        None => diffs.push("secret: give --to-secret-file to compare the target's".to_owned()),
    }
    diffs.extend(unknown_tables(&src.side).await?);
    for t in TABLES.iter().filter(|t| !(t.sessions && options.without_sessions)) {
        diffs.extend(check_table(&src.side, &dst.side, t).await?);
    }
    let mut after = String::new();
    loop {
        let (page, next) = blobs::page(&src.side, &after).await?;
        for b in &page {
            diffs.extend(blobs::compare(src.store.as_ref(), dst.store.as_ref(), b).await?);
        }
        match next {
            Some(n) => after = n,
            None => break,
        }
    }
    Ok(diffs)
}

/// Differences shown per table before they are only counted.
const SHOWN: usize = 20;

async fn check_table(src: &Side, dst: &Side, t: &Table) -> anyhow::Result<Vec<String>> {
    let cols = src.columns(t.name).await?;
    let key_at = cols.index(t.key).with_context(|| format!("{} has no column {}", t.name, t.key))?;
    let (mut missing, mut differ, mut matched, mut shown) = (0u64, 0u64, 0u64, Vec::new());
    let mut after = String::new();
    loop {
        let page = src.page(t, &cols, &after).await?;
        let Some(last) = page.last() else { break };
        after = last[key_at].text();
        let keys: Vec<String> = page.iter().map(|r| r[key_at].text()).collect();
        let there = dst.by_keys(t, &cols, &keys).await?;
        for row in &page {
            let key = row[key_at].text();
            match there.get(&key) {
                None => {
                    missing += 1;
                    if shown.len() < SHOWN {
                        shown.push(format!("{} {key}: missing in the target", t.name));
                    }
                }
                Some(other) if other != row => {
                    differ += 1;
                    let cols: Vec<&str> = cols
                        .0
                        .iter()
                        .zip(row.iter().zip(other))
                        .filter(|(_, (a, b))| a != b)
                        .map(|((n, _), _)| n.as_str())
                        .collect();
                    if shown.len() < SHOWN {
                        shown.push(format!("{} {key}: differs in {}", t.name, cols.join(", ")));
                    }
                }
                Some(_) => matched += 1,
            }
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    let extra = (dst.count(t).await? as u64).saturating_sub(matched + differ);
    if missing + differ > shown.len() as u64 {
        shown.push(format!("{}: {missing} rows missing and {differ} different in all", t.name));
    }
    if extra > 0 {
        shown.push(format!("{}: {extra} rows in the target that the source does not have", t.name));
    }
    Ok(shown)
}
