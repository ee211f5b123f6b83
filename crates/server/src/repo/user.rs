use super::flag;
use crate::db::{new_id, now_us, Db};
use attache_protocol::{Account, AccountId, Role, User, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, account_id, username, display_name, role, reports, supervisor_id, disabled, password_hash";

/// A user with the password hash, for sign-in.
pub struct UserRecord {
    /// The user.
    pub user: User,
    /// Argon2 PHC string.
    pub password_hash: String,
}

fn from_row(row: &AnyRow) -> Result<UserRecord, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        user: User {
            id: UserId(row.try_get("id")?),
            account_id: AccountId(row.try_get("account_id")?),
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            role: super::known("users.role", &role, Role::parse(&role))?,
            reports: row.try_get::<i64, _>("reports")? != 0,
            supervisor_id: row.try_get::<Option<String>, _>("supervisor_id")?.map(UserId),
            disabled: row.try_get::<i64, _>("disabled")? != 0,
        },
        password_hash: row.try_get("password_hash")?,
    })
}

/// Fields of a new user, validated and hashed.
pub struct NewUserRecord<'a> {
    /// Account.
    pub account_id: &'a AccountId,
    /// Sign-in name.
    pub username: &'a str,
    /// Shown name.
    pub display_name: &'a str,
    /// Argon2 PHC string.
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
    /// Reports permission.
    pub reports: bool,
    /// Supervisor.
    pub supervisor_id: Option<&'a UserId>,
}

/// Inserts a user; `Ok(None)` when the username is taken in the account.
pub async fn create(db: &Db, new: NewUserRecord<'_>) -> Result<Option<User>, sqlx::Error> {
    if by_username(db, new.account_id, new.username).await?.is_some() {
        return Ok(None);
    }
    let id = new_id();
    let res = sqlx::query(
        "INSERT INTO users (id, account_id, username, display_name, password_hash, role, reports, supervisor_id, disabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
    )
    .bind(&id)
    .bind(new.account_id.as_str())
    .bind(new.username)
    .bind(new.display_name)
    .bind(new.password_hash)
    .bind(new.role.as_str())
    .bind(flag(new.reports))
    .bind(new.supervisor_id.map(|s| s.0.clone()))
    .bind(now_us())
    .execute(db)
    .await;
    match res {
        Ok(_) => Ok(get(db, &UserId(id)).await?.map(|r| r.user)),
        // A concurrent insert of the same name lost the race on the UNIQUE constraint.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The user with this id.
pub async fn get(db: &Db, id: &UserId) -> Result<Option<UserRecord>, sqlx::Error> {
    let row =
        sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1")).bind(id.as_str()).fetch_optional(db).await?;
    row.as_ref().map(from_row).transpose()
}

/// The user of an account by sign-in name.
pub async fn by_username(db: &Db, account: &AccountId, username: &str) -> Result<Option<UserRecord>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE account_id = $1 AND username = $2"))
        .bind(account.as_str())
        .bind(username)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every user of an account, by username.
pub async fn list(db: &Db, account: &AccountId) -> Result<Vec<User>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE account_id = $1 ORDER BY username"))
        .bind(account.as_str())
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| from_row(r).map(|r| r.user)).collect()
}

/// Writes back a changed user (and, when given, a new password hash).
pub async fn save(db: &Db, user: &User, password_hash: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET display_name = $1, role = $2, reports = $3, supervisor_id = $4, disabled = $5,
         password_hash = COALESCE($6, password_hash) WHERE id = $7",
    )
    .bind(&user.display_name)
    .bind(user.role.as_str())
    .bind(flag(user.reports))
    .bind(user.supervisor_id.as_ref().map(|s| s.0.clone()))
    .bind(flag(user.disabled))
    .bind(password_hash.map(str::to_owned))
    .bind(user.id.as_str())
    .execute(db)
    .await?;
    super::recent_sessions::changed();
    Ok(())
}

/// Stores a session by the hash of its token.
pub async fn create_session(db: &Db, token_hash: &str, user: &UserId, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user.as_str())
        .bind(now_us())
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// The user and account of a live session, in one query: every authenticated request asks (on
/// SQLite, a session found in the last few seconds is not read again: see `recent_sessions`).
pub async fn session_staff(db: &Db, token_hash: &str) -> Result<Option<(User, Account)>, sqlx::Error> {
    let now = now_us();
    let options = db.connect_options();
    let database = options.database_url.as_str();
    let recent = (crate::db::Backend::of(database).ok() == Some(crate::db::Backend::Sqlite)).then_some(database);
    if let Some(found) = recent.and_then(|database| super::recent_sessions::get(database, token_hash, now)) {
        return Ok(Some(found));
    }
    let changes = super::recent_sessions::before_reading();
    let row = sqlx::query(
        "SELECT u.id, u.account_id, u.username, u.display_name, u.role, u.reports, u.supervisor_id, u.disabled,
                u.password_hash, a.name AS account_name, a.max_upload_bytes, a.file_sharing_enabled,
                a.report_retention_days, a.allowed_types, a.keep_metadata,
                a.file_retention_days, a.reports_may_redact, s.expires_at AS session_expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user = from_row(&row)?.user;
    let account = Account {
        id: user.account_id.clone(),
        name: row.try_get("account_name")?,
        plan: super::account::plan_from_row(&row)?,
    };
    let staff = (user, account);
    if let Some(database) = recent {
        let expires_at: i64 = row.try_get("session_expires_at")?;
        super::recent_sessions::put(database, token_hash, changes, expires_at, &staff);
    }
    Ok(Some(staff))
}

/// Ends one session.
pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(db).await?;
    super::recent_sessions::changed();
    Ok(())
}

/// Ends every session of a user (password change, disabling).
pub async fn delete_sessions_of(db: &Db, user: &UserId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.as_str()).execute(db).await?;
    super::recent_sessions::changed();
    Ok(())
}

/// Forgets sessions past their expiry.
pub async fn delete_expired_sessions(db: &Db) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_us()).execute(db).await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use attache_protocol::AccountPatch;

    /// A session found once is not read again, yet every change is seen by the next request:
    /// signing out, disabling the user, a new plan, and the session's own expiry.
    #[tokio::test]
    async fn a_recent_session_is_reused_until_anything_it_grants_changes() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        crate::demo::ensure(&db).await.unwrap();
        let account = crate::repo::account::by_name(&db, "acme").await.unwrap().unwrap();
        let alice = by_username(&db, &account.id, "alice").await.unwrap().unwrap().user;
        let token = new_id();
        create_session(&db, &token, &alice.id, now_us() + 3_600_000_000).await.unwrap();
        let (user, _) = session_staff(&db, &token).await.unwrap().unwrap();
        assert_eq!(user.username, "alice");

        // Found again without the database: the row is gone behind the cache's back (as no
        // code of this process would do), and the session still answers. (Other tests in this
        // process may change users meanwhile, which voids the entry: tried a few times.)
        let mut reused = false;
        for _ in 0..10 {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&token).execute(&db).await.unwrap();
            if session_staff(&db, &token).await.unwrap().is_some() {
                reused = true;
                break;
            }
            create_session(&db, &token, &alice.id, now_us() + 3_600_000_000).await.unwrap();
            session_staff(&db, &token).await.unwrap().unwrap();
        }
        assert!(reused, "served from the recent sessions");
        // The same token against another database is not found there.
        let other_dir = tempfile::tempdir().unwrap();
        let other = crate::db::connect(&format!("sqlite://{}?mode=rwc", other_dir.path().join("t.db").display()))
            .await
            .unwrap();
        assert!(session_staff(&other, &token).await.unwrap().is_none());

        // Signing out is seen at once.
        create_session(&db, &token, &alice.id, now_us() + 3_600_000_000).await.unwrap();
        delete_session(&db, &token).await.unwrap();
        assert!(session_staff(&db, &token).await.unwrap().is_none());

        // So is a change to the user, and to the account's plan.
        create_session(&db, &token, &alice.id, now_us() + 3_600_000_000).await.unwrap();
        assert!(!session_staff(&db, &token).await.unwrap().unwrap().0.disabled);
        let mut disabled = alice.clone();
        disabled.disabled = true;
        save(&db, &disabled, None).await.unwrap();
        assert!(session_staff(&db, &token).await.unwrap().unwrap().0.disabled);
        save(&db, &alice, None).await.unwrap();
        let before = session_staff(&db, &token).await.unwrap().unwrap().1.plan.max_upload_bytes;
        let patch = AccountPatch { max_upload_bytes: Some(before + 1), ..Default::default() };
        crate::repo::account::update(&db, &account.id, &patch).await.unwrap();
        assert_eq!(session_staff(&db, &token).await.unwrap().unwrap().1.plan.max_upload_bytes, before + 1);

        // And the session's expiry.
        let short = new_id();
        create_session(&db, &short, &alice.id, now_us() + 50_000).await.unwrap();
        assert!(session_staff(&db, &short).await.unwrap().is_some());
        tokio::time::sleep(std::time::Duration::from_millis(80)).await;
        assert!(session_staff(&db, &short).await.unwrap().is_none());
    }
}
