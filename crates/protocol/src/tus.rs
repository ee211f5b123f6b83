//! Header names of the upload protocol (tus 1.0 and Attaché's own), lowercase as HTTP/2 sends
//! them; the service and the SDK both use these. The values' grammar is the service's business
//! (`crates/server/src/upload/tus.rs`).

/// `Tus-Resumable`: the protocol version of a request or answer.
pub const TUS_RESUMABLE: &str = "tus-resumable";
/// `Tus-Version`: the versions the service speaks.
pub const TUS_VERSION: &str = "tus-version";
/// `Tus-Extension`: the extensions the service offers.
pub const TUS_EXTENSION: &str = "tus-extension";
/// `Tus-Max-Size`: the largest upload the caller may start.
pub const TUS_MAX_SIZE: &str = "tus-max-size";
/// `Tus-Checksum-Algorithm`: the checksum algorithms offered.
pub const TUS_CHECKSUM_ALGORITHM: &str = "tus-checksum-algorithm";
/// `Upload-Offset`: bytes received so far, or where a PATCH starts.
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// `Upload-Length`: the announced size.
pub const UPLOAD_LENGTH: &str = "upload-length";
/// `Upload-Metadata`: `key base64` pairs (contact, file name, type, description).
pub const UPLOAD_METADATA: &str = "upload-metadata";
/// `Upload-Expires`: when an unfinished upload is dropped.
pub const UPLOAD_EXPIRES: &str = "upload-expires";
/// `Upload-Checksum`: `<algorithm> <base64 digest>` of a PATCH body.
pub const UPLOAD_CHECKSUM: &str = "upload-checksum";
/// `Upload-Defer-Length`: not offered; refused when sent.
pub const UPLOAD_DEFER_LENGTH: &str = "upload-defer-length";
/// `Attache-Message-Id`: the transcript message of a finished upload.
pub const ATTACHE_MESSAGE_ID: &str = "attache-message-id";
