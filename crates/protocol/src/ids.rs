//! Ids: newtypes over the service's text ids, so that a contact id never passes for a user id,
//! and the visitor's credential, which never shows in `Debug` output.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str { &self.0 }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.0) }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self { Self(s) }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self { Self(s.to_owned()) }
        }
    )*};
}

id_type! {
    /// Identifies an account (a tenant: one company and its staff).
    AccountId,
    /// Identifies a staff user.
    UserId,
    /// A visitor's public id within one account, for staff, events, logs and reports; it opens nothing.
    VisitorRef,
    /// Identifies a contact (one customer chat).
    ContactId,
    /// Identifies a message of a contact.
    MessageId,
    /// Identifies an attachment (a file sent in a contact).
    AttachmentId,
    /// Identifies a tus upload in progress.
    UploadId,
}

/// A visitor's credential: its `vvcu` cookie value or consumer token. A secret for its owner
/// only: staff, events, logs and reports see a [`VisitorRef`]. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct VisitorId(pub String);

impl VisitorId {
    /// The credential as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl std::fmt::Debug for VisitorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorId(…)")
    }
}
impl std::fmt::Display for VisitorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl From<String> for VisitorId {
    fn from(s: String) -> Self {
        Self(s)
    }
}
