//! Database access, one module per concern. Functions take the pool and return protocol types
//! or small row structs; no HTTP here.

pub mod account;
pub mod attachment;
pub mod contact;
pub mod upload;
pub mod user;
pub mod visitor;
pub mod widget;

/// A flag as stored.
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}
