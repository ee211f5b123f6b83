//! The SDK's integration tests, one binary: every module starts the real service on an ephemeral
//! port with a temporary data folder (see `common`) and drives it through the SDK.
//!
//! Run one part by its module path, e.g. `cargo test -p attache-client --test it uploads::`.
//! The PostgreSQL-only tests (`cluster`) are `#[ignore]`d unless `ATTACHE_TEST_POSTGRES` is set
//! and `--include-ignored` is given (scripts/test.sh does both).

mod common;
mod deployment;
mod support;

mod access;
mod backup;
mod cluster;
mod consumer;
mod core;
mod creation;
mod export;
mod hardening;
mod hostile;
mod metadata;
mod migrate;
mod observe;
mod review;
mod scanning;
mod search;
mod uploads;
mod widget;
