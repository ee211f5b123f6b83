//! `attache`: run the service, or talk to one through the SDK.

mod args;
mod config_file;
mod files;
mod ops;
mod serve;
mod settings;

use anyhow::Context;
use args::{Cli, Command};
use attache_client::{
    AccessFilter, AccessWho, AttachmentId, AttachmentSearch, ContactId, ContactState, FileCache, OpenContact, Progress,
    ReportFilter, Sender, StaffClient, UploadOptions, VisitorClient, WidgetSettingsPatch,
};
use clap::{CommandFactory, FromArgMatches};

pub(crate) fn print<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let expanded = config_file::expand(std::env::args_os().collect())?;
    let matches = Cli::command().get_matches_from(expanded.args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Serve(a) => serve::serve(a, false).await,
        Command::Demo(a) => serve::serve(a, true).await,
        Command::Secret => {
            println!("{}", attache_server::keys::new_secret_hex());
            Ok(())
        }
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
        Command::Widget { staff, allow, allow_none, color, greeting } => {
            let client = staff.client()?;
            let allowed_origins = (allow_none || !allow.is_empty()).then_some(allow);
            if allowed_origins.is_none() && color.is_none() && greeting.is_none() {
                return print(&client.widget_settings().await?);
            }
            print(&client.update_widget_settings(&WidgetSettingsPatch { allowed_origins, color, greeting }).await?)
        }
        Command::Accept { staff, contact } => print(&staff.client()?.accept(&ContactId(contact)).await?),
        Command::Say { staff, contact, text } => {
            print(&staff.client()?.send_message(&ContactId(contact), &text).await?)
        }
        Command::Close { staff, contact } => print(&staff.client()?.close(&ContactId(contact)).await?),
        Command::Report { staff, contact } => match contact {
            Some(c) => print(&staff.client()?.report_contact(&ContactId(c)).await?),
            None => print(&staff.client()?.report_contacts(&ReportFilter::default()).await?),
        },
        Command::Access { staff, contact, who } => {
            let who = match who.as_deref() {
                None => None,
                Some(w) => Some(AccessWho::parse(w).context("who is staff, visitor, browser, link or consumer")?),
            };
            let filter = AccessFilter { who, ..Default::default() };
            print(&staff.client()?.access_records(&ContactId(contact), &filter).await?)
        }
        Command::Export { staff, contact, out } => {
            let progress: attache_client::ProgressFn = std::sync::Arc::new(|p: Progress| {
                eprint!("\r{} / {} bytes", p.sent, p.total);
            });
            let done = staff.client()?.export_contact(&ContactId(contact), &out, Some(progress)).await?;
            eprintln!();
            println!("{}  {} bytes", done.path.display(), done.size);
            Ok(())
        }
        Command::Files { staff, name, media_type, sender, page } => {
            let sender = match sender.as_deref() {
                None => None,
                Some(s) => Some(Sender::parse(s).context("sender is agent or customer")?),
            };
            let search = AttachmentSearch { name, media_type, sender, page, ..Default::default() };
            print(&staff.client()?.search_attachments(&search).await?)
        }
        Command::Storage { staff } => print(&staff.client()?.storage_usage().await?),
        Command::Redact { staff, attachment, reason } => {
            print(&staff.client()?.redact(&AttachmentId(attachment), &reason).await?)
        }
        Command::Events { staff } => {
            let mut events = staff.client()?.events().await?;
            while let Some(e) = events.next_event().await {
                println!("{}", serde_json::to_string(&e?)?);
            }
            Ok(())
        }
        Command::Send { who, contact, file, description, media_type, chunk, state_dir } => {
            let options = UploadOptions {
                chunk_size: Some(chunk),
                description,
                media_type,
                state_dir: Some(state_dir.unwrap_or_else(files::default_state_dir)),
                progress: Some(std::sync::Arc::new(|p: Progress| {
                    let pct = (p.sent * 100).checked_div(p.total).unwrap_or(100);
                    eprint!("\r{pct:>3}%  {} / {} bytes", p.sent, p.total);
                })),
                ..Default::default()
            };
            files::send(who, contact, file, options).await
        }
        Command::Fetch { who, url, out, sha256, cache_dir, cache_mib } => {
            let cache = cache_dir.map(|d| FileCache::new(d, cache_mib.saturating_mul(1024 * 1024)));
            files::fetch(who, url, out, sha256, cache).await
        }
        Command::Doctor(a) => serve::doctor(a).await,
        Command::Config { print: _, serve: _ } => {
            let sub = matches.subcommand_matches("config").context("the config subcommand")?;
            settings::print(sub, &expanded.from_file, expanded.path.as_deref());
            Ok(())
        }
        Command::Migrate { from, to, without_sessions, check } => ops::migrate(from, to, without_sessions, check).await,
        Command::Backup { from, out } => ops::backup(from, out).await,
        Command::Restore { backup, to } => ops::restore(backup, to).await,
        Command::Visit { server, account, name, message } => {
            let visitor = VisitorClient::new(&server.server)?;
            print(&visitor.open_contact(&OpenContact { account, name, message }).await?)
        }
    }
}
