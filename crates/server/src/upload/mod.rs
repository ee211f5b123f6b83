//! tus 1.0 machinery below the HTTP handlers: the staging areas where chunks land (a local
//! folder, or multipart uploads in the S3 bucket), the file digest kept while bytes stream in,
//! and header parsing. Locks are leases in the
//! database (`domain::upload`), so they hold across instances.

pub mod digest;
pub mod s3;
pub mod staging;
pub mod tus;

pub use digest::{Digests, Received};
pub use s3::S3Staging;
pub use staging::{Checksum, LocalStaging, Spot, Staging, StagingError, WriteOutcome, Written};
