//! The demo account: `acme` with one user of each kind.

use crate::auth::hash_password;
use crate::db::Db;
use crate::repo;
use crate::repo::user::NewUserRecord;
use attache_protocol::{Plan, Role, UserId, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_REPORT_RETENTION_DAYS};

/// The demo account's name.
pub const ACCOUNT: &str = "acme";
/// The password of every demo user.
pub const PASSWORD: &str = "demo-password";

/// The demo users: (username, display name, role, reports permission, supervisor).
pub const USERS: &[(&str, &str, Role, bool, Option<&str>)] = &[
    ("sam", "Sam Supervisor", Role::Supervisor, false, None),
    ("alice", "Alice Agent", Role::Agent, false, Some("sam")),
    ("bob", "Bob Agent", Role::Agent, false, None),
    ("ada", "Ada Admin", Role::Admin, false, None),
    ("rita", "Rita Reports", Role::Agent, true, None),
];

/// Creates the demo account once; later calls change nothing.
pub async fn ensure(db: &Db) -> anyhow::Result<()> {
    let account = match repo::account::by_name(db, ACCOUNT).await? {
        Some(a) => a,
        None => {
            let plan = Plan {
                max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
                file_sharing_enabled: true,
                report_retention_days: DEFAULT_REPORT_RETENTION_DAYS,
                allowed_types: Vec::new(),
                keep_metadata: false,
                file_retention_days: 0,
                reports_may_redact: false,
            };
            repo::account::create(db, ACCOUNT, &plan).await?
        }
    };
    let hash = hash_password(PASSWORD.to_owned()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    for (username, display, role, reports, supervisor) in USERS {
        if repo::user::by_username(db, &account.id, username).await?.is_some() {
            continue;
        }
        let supervisor_id: Option<UserId> = match supervisor {
            Some(s) => repo::user::by_username(db, &account.id, s).await?.map(|r| r.user.id),
            None => None,
        };
        let record = NewUserRecord {
            account_id: &account.id,
            username,
            display_name: display,
            password_hash: &hash,
            role: *role,
            reports: *reports,
            supervisor_id: supervisor_id.as_ref(),
        };
        repo::user::create(db, record).await?;
    }
    Ok(())
}
