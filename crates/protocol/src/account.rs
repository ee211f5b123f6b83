//! Accounts, their plans, staff users and staff sessions.

use crate::{AccountId, UserId};
use serde::{Deserialize, Serialize};

/// What a staff user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Handles contacts.
    Agent,
    /// Handles contacts and oversees the agents assigned to them.
    Supervisor,
    /// Manages the account: plan, users; sees every report.
    Admin,
}

impl Role {
    /// The role's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The plan limits and settings of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Plan {
    /// Largest single upload, in bytes (5 MiB by default, at most 30 MiB).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub max_upload_bytes: u64,
    /// Whether customers and agents may exchange files at all.
    pub file_sharing_enabled: bool,
    /// Days a closed contact's report (and its files) is kept.
    pub report_retention_days: u32,
    /// Media types allowed for uploads (`image/*` style wildcards); empty means any type.
    pub allowed_types: Vec<String>,
    /// Keep the metadata of photos (EXIF, XMP, IPTC: location, camera, time) instead of
    /// removing it before they are stored.
    #[serde(default)]
    pub keep_metadata: bool,
    /// Days after which attachments go while the transcript stays (each leaves an "expired"
    /// tombstone); 0 keeps files as long as the report.
    #[serde(default)]
    pub file_retention_days: u32,
    /// Users with the reports permission may redact files (admins and the agent's supervisor
    /// always may).
    #[serde(default)]
    pub reports_may_redact: bool,
}

/// Default upload limit of a plan: 5 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024;
/// Highest upload limit a plan can be raised to: 30 MiB.
pub const MAX_PLAN_UPLOAD_BYTES: u64 = 30 * 1024 * 1024;
/// Default report retention.
pub const DEFAULT_REPORT_RETENTION_DAYS: u32 = 90;
/// Longest report retention a plan may ask for (ten years).
pub const MAX_REPORT_RETENTION_DAYS: u32 = 3650;

/// An account and its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Account {
    /// The account's id.
    pub id: AccountId,
    /// The account's name, used to sign in (e.g. `acme`).
    pub name: String,
    /// Its plan.
    pub plan: Plan,
}

/// Changes to an account's plan; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// New upload limit in bytes (1 to 30 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub max_upload_bytes: Option<u64>,
    /// Switch file sharing on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sharing_enabled: Option<bool>,
    /// New report retention in days (0 to 3650).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_retention_days: Option<u32>,
    /// New list of allowed media types; empty allows any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_types: Option<Vec<String>>,
    /// Keep photos' metadata (true) or remove it (false, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_metadata: Option<bool>,
    /// Days after which files go while transcripts stay (0 to 3650; 0: with the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_retention_days: Option<u32>,
    /// Let users with the reports permission redact files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports_may_redact: Option<bool>,
}

/// A staff user as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The account the user belongs to.
    pub account_id: AccountId,
    /// Sign-in name, unique within the account.
    pub username: String,
    /// Name shown to customers and colleagues.
    pub display_name: String,
    /// The user's role.
    pub role: Role,
    /// Whether the user may read every contact report of the account.
    pub reports: bool,
    /// The supervisor of this user, for agents.
    pub supervisor_id: Option<UserId>,
    /// A disabled user cannot sign in.
    pub disabled: bool,
}

/// A new staff user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Sign-in name (1 to 64 letters, digits, `.`, `_` or `-`).
    pub username: String,
    /// Initial password (8 characters at least).
    pub password: String,
    /// Name shown to others; the username when absent.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The user's role.
    pub role: Role,
    /// The reports permission.
    #[serde(default)]
    pub reports: bool,
    /// The user's supervisor.
    #[serde(default)]
    pub supervisor_id: Option<UserId>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New password (8 characters at least); signs the user out everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// New role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Grant or take the reports permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<bool>,
    /// New supervisor; an empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_id: Option<String>,
    /// Disable (signs the user out everywhere) or enable the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// Staff sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginRequest {
    /// Account name, e.g. `acme`.
    pub account: String,
    /// Username within the account.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A new staff session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
    /// The signed-in user.
    pub user: User,
    /// The user's account.
    pub account: Account,
}

/// The caller and their account (`GET /api/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Me {
    /// The signed-in user.
    pub user: User,
    /// The user's account.
    pub account: Account,
}

// ---- the customer widget's settings ---------------------------------------------------------

/// How the customer widget is embedded on the account's own sites: which sites may embed it,
/// and how its launcher looks. Admins read and change it at `/api/account/widget`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetSettings {
    /// Sites allowed to embed the widget, as origins (`https://shop.example`, no path). Besides
    /// the service's own `--embed-origin` list.
    pub allowed_origins: Vec<String>,
    /// The launcher's and the widget header's colour, `#rrggbb`; none for the default blue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The greeting shown beside the launcher and on the chat's first screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
}

/// Changes to the widget settings; absent fields stay as they are, an empty colour or
/// greeting clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WidgetSettingsPatch {
    /// The new list of allowed sites (replaces the old one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// The new colour, `#rrggbb`; empty for the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The new greeting; empty for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
}

/// What the embed script and the widget page read about an account (public, no cookie):
/// its name and looks. The list of allowed sites is not told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetConfig {
    /// The account's name.
    pub account: String,
    /// The launcher's colour, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The greeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
}
