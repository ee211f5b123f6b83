//! `--config attache.toml` and `attache config --print`, through the real binary.

use std::process::Command;

fn attache(args: &[&str], dir: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_attache"))
        .args(args)
        .current_dir(dir)
        .env_remove("ATTACHE_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("ATTACHE_METRICS_TOKEN")
        .env_remove("ATTACHE_LISTEN")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the attache binary runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn the_effective_settings_show_their_source_and_hide_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("attache.toml"),
        "listen = \"127.0.0.1:9100\"\ndatabase_url = \"postgres://attache:hunter2@db.example/attache\"\n\
         metrics-token = \"very-secret-token\"\nembed-origin = [\"https://shop.example\"]\nsecure-cookies = true\n",
    )
    .unwrap();
    let (ok, out, err) = attache(&["config", "--print", "--config", "attache.toml", "--lease-secs", "40"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("listen = \"127.0.0.1:9100\"  # config file"), "{out}");
    assert!(out.contains("database-url = \"postgres://attache:****@db.example/attache\""), "{out}");
    assert!(out.contains("metrics-token = \"****\""), "{out}");
    assert!(!out.contains("hunter2") && !out.contains("very-secret-token"), "{out}");
    assert!(out.contains("lease-secs = 40  # command line"), "{out}");
    assert!(out.contains("retention-interval = 60  # default"), "{out}");
    assert!(out.contains("embed-origin = [\"https://shop.example\"]"), "{out}");
    assert!(out.contains("secure-cookies = true  # config file"), "{out}");

    // The command line wins over the file.
    let (_, out, _) =
        attache(&["config", "--print", "--config", "attache.toml", "--listen", "127.0.0.1:9200"], dir.path());
    assert!(out.contains("listen = \"127.0.0.1:9200\"  # command line"), "{out}");
}

#[test]
fn a_bad_file_stops_serve_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "listen = \"nowhere\"\nretention_intervall = 5\n").unwrap();
    let (ok, _, err) = attache(&["serve", "--config", "bad.toml"], dir.path());
    assert!(!ok);
    assert!(err.contains("bad.toml") && err.contains("key `listen`"), "{err}");
    assert!(err.contains("unknown key `retention_intervall`"), "{err}");
    let (ok, _, err) = attache(&["doctor", "--config", "missing.toml"], dir.path());
    assert!(!ok);
    assert!(err.contains("cannot read the config file missing.toml"), "{err}");
}
