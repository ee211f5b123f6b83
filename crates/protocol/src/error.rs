//! Errors on the wire: the body of every error response and the one list of stable codes, used
//! alike by the service (which maps each code to its HTTP status in one place), the SDK, the
//! console and, generated, its TypeScript.

use serde::{Deserialize, Serialize};

/// The body of every error response: a stable kebab-case code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `not-found`, `bad-credentials`.
    pub error: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error body with this code and sentence.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self { error, message: message.into() }
    }
}

macro_rules! error_codes {
    (
        service: { $($(#[$sdoc:meta])* $sname:ident = $swire:literal,)* }
        clients: { $($(#[$cdoc:meta])* $cname:ident = $cwire:literal,)* }
    ) => {
        error_codes!(@all [$($sname = $swire,)* $($cname = $cwire,)*] [$($cname)*]
            { $($(#[$sdoc])* $sname = $swire,)* $($(#[$cdoc])* $cname = $cwire,)* });
    };
    (@all [$($name:ident = $wire:literal,)*] [$($cname:ident)*]
        { $($(#[$doc:meta])* $dname:ident = $dwire:literal,)* }) => {
        /// Every stable error code, as the wire spells it (kebab-case). Clients depend on the
        /// spellings: never rename one. A code this build does not know reads as
        /// [`ErrorCode::Unknown`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $dwire)] $dname,)*
            /// A code this build does not know (a newer service, or none was sent).
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl ErrorCode {
            /// Every code but [`ErrorCode::Unknown`].
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The code as the wire spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $wire,)*
                    ErrorCode::Unknown => "unknown",
                }
            }

            /// The code of a wire spelling; [`ErrorCode::Unknown`] for one this build does not know.
            pub fn parse(s: &str) -> ErrorCode {
                match s {
                    $($wire => ErrorCode::$name,)*
                    _ => ErrorCode::Unknown,
                }
            }

            /// Whether the service may send this code; the others are the SDK's and the
            /// console's own names for failures that never reached it.
            pub fn sent_by_service(self) -> bool {
                !matches!(self, $(ErrorCode::$cname |)* ErrorCode::Unknown)
            }
        }
    };
}

error_codes! {
service: {
    // ---- the service: requests it cannot read --------------------------------------------------
    /// The JSON body does not parse.
    MalformedJson = "malformed-json",
    /// The body parses but its fields are wrong.
    InvalidBody = "invalid-body",
    /// A body that is neither JSON nor too large, yet unreadable.
    BadBody = "bad-body",
    /// The query string does not parse.
    BadQuery = "bad-query",
    /// The body must be `application/json`.
    ExpectedJson = "expected-json",
    /// The body is over the request limit.
    BodyTooLarge = "body-too-large",
    /// A well-formed request whose values are invalid.
    InvalidRequest = "invalid-request",
    /// The route needs a WebSocket upgrade.
    WebsocketRequired = "websocket-required",
    /// No such thing (or not of the caller's account).
    NotFound = "not-found",
    /// Our fault; the details went to the service's log.
    Internal = "internal",
    /// Too many sign-ins are being checked at once.
    Busy = "busy",

    // ---- signing in and permissions ------------------------------------------------------------
    /// No session was sent.
    Unauthorized = "unauthorized",
    /// Unknown account or user, or a wrong password.
    BadCredentials = "bad-credentials",
    /// The session ended (signed out, expired, password changed, user disabled).
    SessionExpired = "session-expired",
    /// Too many failed sign-ins; retry after `Retry-After` seconds.
    TooManyAttempts = "too-many-attempts",
    /// The user was disabled by an admin.
    UserDisabled = "user-disabled",
    /// Only an admin of the account may do this.
    AdminOnly = "admin-only",
    /// Only agents take contacts.
    AgentsOnly = "agents-only",
    /// A browser request from a foreign `Origin`.
    OriginNotAllowed = "origin-not-allowed",
    /// A visitor request without its `vvcu` cookie.
    NoVisitor = "no-visitor",
    /// The caller may not read this contact's report.
    NoReportAccess = "no-report-access",
    /// The caller may not read this file.
    NoFileAccess = "no-file-access",

    // ---- accounts and users --------------------------------------------------------------------
    /// Plan settings out of range.
    InvalidPlan = "invalid-plan",
    /// A password under 8 characters.
    WeakPassword = "weak-password",
    /// The username is taken in this account.
    UsernameTaken = "username-taken",
    /// An admin cannot demote or disable themselves.
    LastAdmin = "last-admin",
    /// A site property this service does not have.
    UnknownProperty = "unknown-property",
    /// A widget site that is not an origin (`https://host[:port]`).
    InvalidOrigin = "invalid-origin",
    /// A widget colour that is not `#rrggbb`.
    InvalidColor = "invalid-color",
    /// More widget sites than an account may list.
    TooManyOrigins = "too-many-origins",

    // ---- contacts ------------------------------------------------------------------------------
    /// Someone else accepted the contact first.
    ContactNotQueued = "contact-not-queued",
    /// The contact is not active (queued or closed).
    ContactNotActive = "contact-not-active",
    /// The contact has ended.
    ContactClosed = "contact-closed",
    /// Another agent handles the contact.
    NotYourContact = "not-your-contact",
    /// The contact's report (transcript and files) has expired.
    ReportExpired = "report-expired",

    // ---- review: redaction and file-only retention ---------------------------------------------
    /// The file was redacted or removed by file-only retention; only its tombstone stays.
    FileRemoved = "file-removed",
    /// The file was already redacted or removed by retention.
    AlreadyRemoved = "already-removed",
    /// Only admins and the agent's supervisor (and report viewers, if the account allows it)
    /// redact files.
    NoRedactAccess = "no-redact-access",

    // ---- uploads: starting one -----------------------------------------------------------------
    /// File sharing is switched off for the account.
    FileSharingDisabled = "file-sharing-disabled",
    /// The file is over the plan's limit.
    FileTooLarge = "file-too-large",
    /// The file is empty.
    EmptyFile = "empty-file",
    /// A file name that cannot be shown safely.
    BadFileName = "bad-file-name",
    /// A declared media type that does not parse.
    BadMediaType = "bad-media-type",
    /// The account does not accept this type of file.
    TypeNotAllowed = "type-not-allowed",
    /// The contact has too many unfinished uploads.
    TooManyUploads = "too-many-uploads",

    // ---- uploads: the tus protocol -------------------------------------------------------------
    /// An unsupported `Tus-Resumable` version.
    TusVersion = "tus-version",
    /// `Upload-Length` is missing.
    LengthRequired = "length-required",
    /// `Upload-Length` is not a length.
    BadLength = "bad-length",
    /// `Upload-Offset` is not an offset.
    BadOffset = "bad-offset",
    /// `Upload-Metadata` does not parse.
    BadMetadata = "bad-metadata",
    /// `Upload-Metadata` is over 4 KiB.
    MetadataTooLarge = "metadata-too-large",
    /// `Upload-Metadata` does not name the contact.
    MissingContact = "missing-contact",
    /// `Upload-Metadata` does not name the file.
    MissingFileName = "missing-file-name",
    /// A PATCH that is not `application/offset+octet-stream`.
    BadContentType = "bad-content-type",
    /// `Upload-Checksum` is malformed.
    BadChecksum = "bad-checksum",
    /// `Upload-Checksum` names an algorithm not offered.
    UnsupportedChecksum = "unsupported-checksum",
    /// The chunk does not match its `Upload-Checksum` (tus's 460).
    ChecksumMismatch = "checksum-mismatch",
    /// The chunk starts elsewhere than the upload's offset.
    OffsetMismatch = "offset-mismatch",
    /// More bytes than the announced length.
    UploadTooLong = "upload-too-long",
    /// The body broke off; resume from the offset.
    UploadInterrupted = "upload-interrupted",
    /// Another request is writing the upload; retry shortly.
    UploadLocked = "upload-locked",
    /// The upload expired.
    UploadExpired = "upload-expired",
    /// The upload was refused by a check.
    UploadRefused = "upload-refused",
    /// The service lost the upload's bytes.
    UploadLost = "upload-lost",
    /// A byte range the file does not have.
    RangeNotSatisfiable = "range-not-satisfiable",

    // ---- uploads: checks of a complete file ----------------------------------------------------
    /// The bytes are not of the declared or named type.
    TypeMismatch = "type-mismatch",
    /// An SVG with scripts or external references.
    UnsafeSvg = "unsafe-svg",
    /// An image that cannot be decoded.
    BadImage = "bad-image",
    /// An image over the decoding limits.
    ImageTooLarge = "image-too-large",
    /// The malware scanner refused the file.
    MalwareFound = "malware-found",
    /// The malware scanner gave no verdict: the file is blocked until an admin releases it.
    ScannerUnavailable = "scanner-unavailable",
    /// Only a file blocked for want of a scanner's verdict can be released.
    NotReleasable = "not-releasable",

    // ---- the consumer API ----------------------------------------------------------------------
    /// A request type the API does not have.
    UnknownRequest = "unknown-request",
    /// The consumer has no open conversation.
    NoOpenConversation = "no-open-conversation",
    /// A published file's preview (thumbnail) is not a small picture of the right type.
    BadPreview = "bad-preview",
    /// A published file's preview is over its limit.
    PreviewTooLarge = "preview-too-large",
    /// The temporary URL is invalid or has expired.
    TempUrlInvalid = "temp-url-invalid",
    /// The temporary URL was used already.
    AlreadyUploaded = "already-uploaded",
    /// The body's size is not the announced `fileSize`.
    SizeMismatch = "size-mismatch",
    /// Publishing a file before its bytes were uploaded.
    FileNotUploaded = "file-not-uploaded",

}
clients: {
    // ---- the SDK and the console: failures that never reached the service -----------------------
    /// Nothing answered at the address.
    Unreachable = "unreachable",
    /// The connection broke in another way (the SDK).
    Transport = "transport",
    /// The connection broke in another way (the console's words).
    Network = "network",
    /// The address is not a usable service URL (the SDK).
    InvalidUrl = "invalid-url",
    /// The address is not a usable service URL (the console's words).
    InvalidServerUrl = "invalid-server-url",
    /// The service sent something the client does not understand.
    Protocol = "protocol",
    /// A command that needs a session was called without one.
    NotSignedIn = "not-signed-in",
    /// The sign-in form is incomplete.
    MissingFields = "missing-fields",
    /// The OS keyring failed.
    KeyringError = "keyring-error",
    /// The report filter does not parse.
    InvalidFilter = "invalid-filter",
    /// A local file cannot be read or written.
    LocalFile = "local-file",
    /// A pasted file cannot be used.
    BadPaste = "bad-paste",
    /// A preview path that is not the service's.
    BadPreviewUrl = "bad-preview-url",
    /// The file is not an image.
    NotAnImage = "not-an-image",
    /// No application opens the file.
    NoOpener = "no-opener",
    /// The agent cancelled the upload.
    Cancelled = "cancelled",
    /// A console setting out of its range (e.g. the cache's size).
    InvalidSetting = "invalid-setting",
    /// A picture too large for the console to show in the gallery (Open or Save as still work).
    TooLargeToShow = "too-large-to-show",
}
}

// The OpenAPI document lists the codes the service sends, and only those.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let codes = ErrorCode::ALL.iter().filter(|c| c.sent_by_service()).map(|c| c.as_str());
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(codes))
            .description(Some("Stable machine-readable code of an error (kebab-case)."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_in_kebab_case() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
            assert_eq!(ErrorCode::parse(code.as_str()), code);
            let kebab = code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
            assert!(kebab, "{code}");
        }
        assert_eq!(serde_json::to_value(ErrorCode::ContactNotQueued).unwrap(), "contact-not-queued");
    }

    #[test]
    fn unknown_codes_read_as_unknown() {
        let e: ApiError = serde_json::from_str(r#"{"error":"from-the-future","message":"m"}"#).unwrap();
        assert_eq!(e.error, ErrorCode::Unknown);
        assert_eq!(ErrorCode::parse("http-502"), ErrorCode::Unknown);
    }
}
