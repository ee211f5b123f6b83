//! LivePerson-style wire types: the admin login and site property of the seed's step 1, and the
//! frames of the consumer messaging WebSocket (`/ws_api/account/{account}/messaging/consumer`)
//! with the field and `type` names of LivePerson's "File Sharing for Web Messaging" document.
//!
//! Attaché's own API keeps its types in the rest of this crate; nothing here is used by it.

mod frames;

pub use frames::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a LivePerson-style client reads how to enable file sharing.
pub const LP_FILE_SHARING_PROPERTY: &str = "messaging.file.sharing.enabled";
/// File types the consumer API takes (the document's list).
pub const LP_FILE_TYPES: [&str; 4] = ["JPG", "JPEG", "PNG", "GIF"];
/// Largest file the consumer API takes (the document's 3 MB), whatever the plan allows above.
pub const LP_MAX_FILE_BYTES: u64 = 3 * 1024 * 1024;
/// Largest `preview` (decoded bytes) of a published `hosted/file` (the document's 30 KB).
pub const LP_MAX_PREVIEW_BYTES: usize = 30 * 1024;

/// `POST /api/account/{account}/signup`: a consumer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LpSignup {
    /// Send as `Authorization: jwt <token>`. A credential of its own (256 bits, stored hashed),
    /// not the cookie's value.
    pub jwt: String,
}

// ---- step 1: the admin login and the site property ----------------------------------------

/// `POST /api/account/{account}/login?v=1.1`: an admin of the account signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LpLoginRequest {
    /// The admin's user name.
    pub username: String,
    /// The admin's password.
    pub password: String,
}

/// The answer to a LivePerson-style login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LpLoginResponse {
    /// A staff session token: `Authorization: Bearer <bearer>` here and on Attaché's own API.
    pub bearer: String,
    /// Who signed in.
    pub config: LpLoginConfig,
}

/// Who a LivePerson-style login signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LpLoginConfig {
    /// The user's id.
    pub user_id: String,
    /// The user name.
    pub login_name: String,
    /// The account's name.
    pub account_id: String,
}

/// One site property, as `set_site_property.sh` sends it to
/// `PUT /api/account/{account}/configuration/setting/properties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LpSiteProperty {
    /// The property: only `messaging.file.sharing.enabled` is known.
    pub id: String,
    /// LivePerson's property type (1); ignored when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "type")]
    pub kind: Option<u32>,
    /// The value.
    pub property_value: LpPropertyValue,
}

/// A site property's value: `true`/`false` (the strings `"true"`/`"false"` are taken too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LpPropertyValue {
    /// The value.
    #[cfg_attr(feature = "openapi", schema(value_type = bool))]
    pub value: Value,
}

impl LpSiteProperty {
    /// `messaging.file.sharing.enabled` with this value, as the service answers it.
    pub fn file_sharing(enabled: bool) -> LpSiteProperty {
        LpSiteProperty {
            id: LP_FILE_SHARING_PROPERTY.to_owned(),
            kind: Some(1),
            property_value: LpPropertyValue { value: Value::Bool(enabled) },
        }
    }

    /// The value as a boolean, if it is one (or its string).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.property_value.value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}
