//! `--config attache.toml`: every flag of `serve` (and `demo`, `doctor`, `config`) in one file,
//! keys named as the flags are (`data-dir` or `data_dir`). The file is read before clap parses
//! the command line and becomes flags of its own, each checked alone so that an error names its
//! key. Precedence: the command line, then the environment, then the file, then the defaults.

use crate::args::Cli;
use anyhow::Context;
use clap::CommandFactory;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// The subcommands that take `serve`'s flags.
const TAKERS: &[&str] = &["serve", "demo", "doctor", "config"];

/// The command line with the file's settings in it, and the keys the file set.
pub(crate) struct Expanded {
    /// Arguments for clap.
    pub(crate) args: Vec<OsString>,
    /// The file's keys (long flag names) that are in effect (not overridden).
    pub(crate) from_file: Vec<String>,
    /// The file, if one was read.
    pub(crate) path: Option<PathBuf>,
}

fn config_path(rest: &[OsString]) -> Option<PathBuf> {
    let mut it = rest.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("ATTACHE_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Whether the command line itself gives `--long`.
fn on_command_line(rest: &[OsString], long: &str) -> bool {
    let flag = format!("--{long}");
    rest.iter().map(|a| a.to_string_lossy()).any(|a| a == flag || a.starts_with(&format!("{flag}=")))
}

/// Reads the file the command line (or `ATTACHE_CONFIG`) names, if any, and puts its settings
/// in as flags. Errors name the file and the key.
pub(crate) fn expand(args: Vec<OsString>) -> anyhow::Result<Expanded> {
    let Some(at) = args.iter().skip(1).position(|a| !a.to_string_lossy().starts_with('-')).map(|i| i + 1) else {
        return Ok(Expanded { args, from_file: vec![], path: None });
    };
    let sub = args[at].to_string_lossy().into_owned();
    if !TAKERS.contains(&sub.as_str()) {
        return Ok(Expanded { args, from_file: vec![], path: None });
    }
    let rest = &args[at + 1..];
    let Some(path) = config_path(rest) else {
        return Ok(Expanded { args, from_file: vec![], path: None });
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("cannot read the config file {}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e| anyhow::anyhow!("{}: not TOML: {e}", path.display()))?;
    let (flags, from_file) = flags_of(&table, rest).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out: Vec<OsString> = args[..=at].to_vec();
    out.extend(flags.into_iter().map(OsString::from));
    out.extend(rest.iter().cloned());
    Ok(Expanded { args: out, from_file, path: Some(path) })
}

/// The flags a table stands for, each validated alone; the keys in effect.
fn flags_of(table: &toml::Table, rest: &[OsString]) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let cmd = Cli::command();
    let serve = cmd.find_subcommand("serve").context("serve is a subcommand")?;
    let known: BTreeMap<String, &clap::Arg> = serve
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| (l.to_owned(), a)))
        .filter(|(l, _)| l != "config")
        .collect();
    let mut errors = Vec::new();
    let (mut flags, mut in_effect) = (Vec::new(), Vec::new());
    for (key, value) in table {
        let long = key.replace('_', "-");
        let Some(arg) = known.get(&long) else {
            let keys: Vec<&str> = known.keys().map(String::as_str).collect();
            errors.push(format!("unknown key `{key}`; the keys are the flags of attache serve: {}", keys.join(", ")));
            continue;
        };
        let mine = match pieces(&long, value) {
            Ok(p) => p,
            Err(why) => {
                errors.push(format!("key `{key}`: {why}"));
                continue;
            }
        };
        let mut alone = vec!["attache".to_owned(), "serve".to_owned()];
        alone.extend(mine.iter().cloned());
        if let Err(e) = Cli::command().try_get_matches_from(alone) {
            let first = e.to_string().lines().next().unwrap_or("").trim_start_matches("error: ").to_owned();
            errors.push(format!("key `{key}`: {first}"));
            continue;
        }
        let env_set = arg.get_env().is_some_and(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        if env_set || on_command_line(rest, &long) {
            continue; // the environment or the command line says otherwise
        }
        flags.extend(mine);
        in_effect.push(long);
    }
    anyhow::ensure!(errors.is_empty(), "{}", errors.join("\n"));
    Ok((flags, in_effect))
}

/// `--long value` pieces of one setting.
fn pieces(long: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    let flag = format!("--{long}");
    let one = |v: &toml::Value| -> Result<String, String> {
        match v {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(i) => Ok(i.to_string()),
            toml::Value::Float(f) => Ok(f.to_string()),
            other => Err(format!("a {} is not a value for --{long}", other.type_str())),
        }
    };
    match value {
        toml::Value::Boolean(true) => Ok(vec![flag]),
        toml::Value::Boolean(false) => Ok(vec![]),
        toml::Value::Array(items) => {
            let mut out = Vec::new();
            for v in items {
                out.push(flag.clone());
                out.push(one(v)?);
            }
            Ok(out)
        }
        v => Ok(vec![flag, one(v)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(toml: &str, cli: &[&str]) -> anyhow::Result<Expanded> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attache.toml");
        std::fs::write(&path, toml).unwrap();
        let mut args: Vec<OsString> = vec!["attache".into(), "serve".into(), "--config".into(), path.clone().into()];
        args.extend(cli.iter().map(OsString::from));
        expand(args)
    }

    #[test]
    fn settings_become_flags_and_the_command_line_wins() {
        let e = expanded("listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/attache\"\nsecure-cookies = true\nembed-origin = [\"https://a.example\", \"https://b.example\"]\nretention-interval = 30\n", &["--listen", "127.0.0.1:9001"]).unwrap();
        let args: Vec<String> = e.args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert!(args.windows(2).any(|w| w == ["--data-dir", "/srv/attache"]), "{args:?}");
        assert!(args.contains(&"--secure-cookies".to_owned()));
        assert_eq!(args.iter().filter(|a| *a == "--embed-origin").count(), 2);
        assert!(!args.contains(&"127.0.0.1:9000".to_owned()), "the command line's --listen wins: {args:?}");
        assert!(e.from_file.contains(&"data-dir".to_owned()) && !e.from_file.contains(&"listen".to_owned()));
    }

    #[test]
    fn errors_name_the_key() {
        let e = expanded("lisen = \"x\"", &[]).err().unwrap().to_string();
        assert!(e.contains("unknown key `lisen`") && e.contains("listen"), "{e}");
        let e = expanded("listen = \"not an address\"", &[]).err().unwrap().to_string();
        assert!(e.contains("key `listen`") && e.contains("not an address"), "{e}");
        let e = expanded("retention-interval = \"soon\"", &[]).err().unwrap().to_string();
        assert!(e.contains("key `retention-interval`"), "{e}");
        let e = expanded("demo = { x = 1 }", &[]).err().unwrap().to_string();
        assert!(e.contains("key `demo`"), "{e}");
        let e = expanded("listen = ", &[]).err().unwrap().to_string();
        assert!(e.contains("not TOML"), "{e}");
    }
}
