//! The Rust SDK of Attaché.
//!
//! A [`Session`] is the one client core: the service's address, an [`Auth`] (a staff bearer
//! token or a visitor's cookie jar), the request helpers, and file transfer (resumable tus
//! uploads, verified downloads, a content-addressed cache). [`StaffClient`] adds the routes of a
//! signed-in staff user (agent, supervisor, admin); [`VisitorClient`] those of a customer's
//! browser, remembered by the `vvcu` cookie. Both deref to their [`Session`] and open an
//! [`EventStream`] of typed [`Event`]s. The console and the `attache` CLI use nothing else to
//! reach the service.
#![deny(missing_docs)]

mod cache;
mod download;
mod error;
mod events;
mod export;
mod session;
mod staff;
mod upload;
mod visitor;

pub use attache_protocol as protocol;
pub use attache_protocol::*;
pub use cache::{CachePin, CacheUsage, FileCache, DEFAULT_CACHE_BYTES};
pub use download::{part_path, Downloaded};
pub use error::ClientError;
pub use events::EventStream;
pub use export::Exported;
pub use session::{parse_base_url, Auth, Session};
pub use staff::StaffClient;
pub use upload::{CancelToken, Progress, ProgressFn, UploadOptions, UploadOutcome, DEFAULT_CHUNK};
pub use visitor::VisitorClient;

/// Result of an SDK call.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
