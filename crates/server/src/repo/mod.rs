//! Database access, one module per concern. Functions take the pool and return protocol types
//! or small row structs; no HTTP here.

pub mod access_record;
pub mod account;
pub mod attachment;
pub mod contact;
pub mod owed_delete;
pub mod recent_sessions;
pub mod search;
pub mod upload;
pub mod user;
pub mod visitor;
pub mod widget;

/// A stored name read as its enum. An unknown value is corruption (the migrations' `CHECK`s keep
/// it out): it fails the read instead of passing for a default.
pub(crate) fn known<T>(column: &str, raw: &str, parsed: Option<T>) -> Result<T, sqlx::Error> {
    parsed.ok_or_else(|| sqlx::Error::Decode(format!("{column} '{raw}' is unknown").into()))
}

/// A stored size or offset; a negative one is corruption, as with [`known`].
pub(crate) fn size(column: &str, v: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(v).map_err(|_| sqlx::Error::Decode(format!("{column} {v} is negative").into()))
}

/// A flag as stored.
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}
