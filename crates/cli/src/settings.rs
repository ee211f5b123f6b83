//! `attache config --print`: the settings `serve` would run with, as TOML, each with where it
//! came from; secrets masked.

use crate::args::Cli;
use clap::parser::ValueSource;
use clap::CommandFactory;

/// Flags whose values are secrets.
const SECRET: &[&str] = &["metrics-token"];

/// A URL with its password masked (`postgres://user:****@host/db`).
fn mask_url(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, rest)), Some((_, host))) => {
            let creds = &rest[..rest.len() - host.len() - 1];
            let user = creds.split_once(':').map_or(creds, |(u, _)| u);
            format!("{scheme}://{user}:****@{host}")
        }
        _ => url.to_owned(),
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The effective settings of the `config` subcommand's matches.
pub(crate) fn print(matches: &clap::ArgMatches, from_file: &[String], file: Option<&std::path::Path>) {
    let cmd = Cli::command();
    let Some(serve) = cmd.find_subcommand("serve") else { return };
    println!("# The settings attache serve would run with (command line > environment > config file > default).");
    if let Some(f) = file {
        println!("# Config file: {}", f.display());
    }
    for arg in serve.get_arguments() {
        let (Some(long), id) = (arg.get_long(), arg.get_id().as_str()) else { continue };
        if long == "config" {
            continue;
        }
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) if from_file.iter().any(|k| k == long) => "config file".to_owned(),
            Some(ValueSource::CommandLine) => "command line".to_owned(),
            Some(ValueSource::EnvVariable) => {
                format!("environment ({})", arg.get_env().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default())
            }
            Some(ValueSource::DefaultValue) => "default".to_owned(),
            _ => {
                println!("# {long} = (not set)");
                continue;
            }
        };
        let raw: Vec<String> =
            matches.get_raw(id).map(|vs| vs.map(|v| v.to_string_lossy().into_owned()).collect()).unwrap_or_default();
        let shown: Vec<String> = raw
            .iter()
            .map(|v| {
                if SECRET.contains(&long) {
                    "****".to_owned()
                } else if long == "database-url" {
                    mask_url(v)
                } else {
                    v.clone()
                }
            })
            .collect();
        let value = match arg.get_action() {
            clap::ArgAction::SetTrue => matches.get_flag(id).to_string(),
            clap::ArgAction::Append => format!("[{}]", shown.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ")),
            _ => match shown.first() {
                Some(v) if v.parse::<u64>().is_ok() => v.clone(),
                Some(v) => quoted(v),
                None => continue,
            },
        };
        println!("{long} = {value}  # {source}");
    }
    let secret = match (std::env::var_os("ATTACHE_SECRET").is_some(), matches.get_raw("secret_file").is_some()) {
        (true, _) => "ATTACHE_SECRET (set; ****)",
        (false, true) => "the secret-file above",
        (false, false) => "secret.key in the data folder (the embedded default makes one)",
    };
    println!("# secret: {secret}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_url("postgres://attache:hunter2@db.example/attache"),
            "postgres://attache:****@db.example/attache"
        );
        assert_eq!(mask_url("sqlite://./data/attache.db"), "sqlite://./data/attache.db");
    }
}
