//! Sign-in, sessions, the account's plan and its users.

use super::text_field;
use crate::auth::{self, Staff};
use crate::db::{is_id, Db};
use crate::error::{AppError, AppResult};
use crate::events::Revocation;
use crate::repo;
use crate::AppState;
use attache_protocol::{
    Account, AccountPatch, ErrorCode, LoginRequest, LoginResponse, LpLoginConfig, LpLoginRequest, LpLoginResponse,
    LpSiteProperty, NewUser, Role, User, UserId, UserPatch, LP_FILE_SHARING_PROPERTY, MAX_PLAN_UPLOAD_BYTES,
    MAX_REPORT_RETENTION_DAYS,
};

const MIN_PASSWORD_CHARS: usize = 8;

fn bad_credentials() -> AppError {
    AppError::Refused(ErrorCode::BadCredentials, "the account, user name or password is wrong".into())
}

/// Signs a user in and starts a session.
///
/// Throttled per account+user and per client address before any hashing: 429 with a wait.
pub async fn login(
    db: &Db,
    throttle: &auth::LoginThrottle,
    address: Option<std::net::IpAddr>,
    req: LoginRequest,
) -> AppResult<LoginResponse> {
    let (account, user, token) = start_session(db, throttle, address, &req, None).await?;
    Ok(LoginResponse { token, user, account })
}

/// The LivePerson-style login of the seed's step 1 (`POST /api/account/{account}/login`): the
/// same checks and throttle as [`login`], for admins of the account only; answers the session
/// token as `bearer`.
pub async fn admin_login(
    db: &Db,
    throttle: &auth::LoginThrottle,
    address: Option<std::net::IpAddr>,
    account: &str,
    req: LpLoginRequest,
) -> AppResult<LpLoginResponse> {
    let req = LoginRequest { account: account.to_owned(), username: req.username, password: req.password };
    let (account, user, bearer) = start_session(db, throttle, address, &req, Some(Role::Admin)).await?;
    Ok(LpLoginResponse {
        bearer,
        config: LpLoginConfig { user_id: user.id.0, login_name: user.username, account_id: account.name },
    })
}

/// Checks the credentials (throttled, constant work for unknown users), the user's state and,
/// if asked, their role; then starts a session: the account, the user and the token.
async fn start_session(
    db: &Db,
    throttle: &auth::LoginThrottle,
    address: Option<std::net::IpAddr>,
    req: &LoginRequest,
    role: Option<Role>,
) -> AppResult<(Account, User, String)> {
    let attempt = throttle.begin(&req.account, &req.username, address)?;
    let account = repo::account::by_name(db, req.account.trim()).await?;
    let record = match &account {
        Some(a) => repo::user::by_username(db, &a.id, req.username.trim()).await?,
        None => None,
    };
    let hash = record.as_ref().map(|r| r.password_hash.clone());
    if !auth::verify_password(req.password.clone(), hash).await? {
        return Err(bad_credentials());
    }
    let (Some(account), Some(record)) = (account, record) else { return Err(bad_credentials()) };
    if record.user.disabled {
        return Err(AppError::Refused(ErrorCode::UserDisabled, "this user has been disabled by an admin".into()));
    }
    if role.is_some_and(|r| r != record.user.role) {
        return Err(AppError::Refused(ErrorCode::AdminOnly, "only an admin of the account may sign in here".into()));
    }
    let (token, hash) = auth::new_token();
    repo::user::create_session(db, &hash, &record.user.id, auth::session_expiry()).await?;
    attempt.succeeded();
    Ok((account, record.user, token))
}

/// The site properties a LivePerson-style client may read (admins of the account named in the
/// path): `messaging.file.sharing.enabled`.
pub fn site_properties(staff: &Staff, account: &str) -> AppResult<Vec<LpSiteProperty>> {
    own_account(staff, account)?;
    Ok(vec![LpSiteProperty::file_sharing(staff.account.plan.file_sharing_enabled)])
}

/// An admin, of the account a path names (another account is "not found").
fn own_account(staff: &Staff, account: &str) -> AppResult<()> {
    staff.require_admin()?;
    if !staff.account.name.eq_ignore_ascii_case(account.trim()) {
        return Err(AppError::NotFound("account"));
    }
    Ok(())
}

/// Sets site properties (admins of the account named in the path): only
/// `messaging.file.sharing.enabled`, which is the plan's `file_sharing_enabled`.
pub async fn set_site_properties(
    db: &Db,
    staff: &Staff,
    account: &str,
    properties: Vec<LpSiteProperty>,
) -> AppResult<Vec<LpSiteProperty>> {
    own_account(staff, account)?;
    let mut patch = AccountPatch::default();
    for p in &properties {
        if p.id != LP_FILE_SHARING_PROPERTY {
            return Err(AppError::Refused(
                ErrorCode::UnknownProperty,
                format!(
                    "'{}' is not a site property here; known: {LP_FILE_SHARING_PROPERTY}",
                    p.id.chars().take(64).collect::<String>()
                ),
            ));
        }
        let on =
            p.as_bool().ok_or_else(|| AppError::invalid(format!("{LP_FILE_SHARING_PROPERTY} is true or false")))?;
        patch.file_sharing_enabled = Some(on);
    }
    if properties.is_empty() {
        return Err(AppError::invalid("send at least one property"));
    }
    let account = update_account(db, staff, patch).await?;
    Ok(vec![LpSiteProperty::file_sharing(account.plan.file_sharing_enabled)])
}

/// Ends a staff session: the token stops working and its sockets close.
pub async fn logout(state: &AppState, staff: Staff) -> AppResult<()> {
    repo::user::delete_session(&state.db, &staff.token_hash).await?;
    state.hub.revoke(Revocation::Session(staff.token_hash));
    Ok(())
}

/// Validates a plan change.
pub fn check_patch(patch: &AccountPatch) -> AppResult<()> {
    if let Some(max) = patch.max_upload_bytes {
        if max == 0 || max > MAX_PLAN_UPLOAD_BYTES {
            return Err(AppError::Refused(
                ErrorCode::InvalidPlan,
                format!("the upload limit must be between 1 byte and 30 MiB ({MAX_PLAN_UPLOAD_BYTES} bytes)"),
            ));
        }
    }
    if let Some(days) = patch.report_retention_days {
        if days > MAX_REPORT_RETENTION_DAYS {
            return Err(AppError::Refused(
                ErrorCode::InvalidPlan,
                format!("report retention is at most {MAX_REPORT_RETENTION_DAYS} days"),
            ));
        }
    }
    if let Some(days) = patch.file_retention_days {
        if days > MAX_REPORT_RETENTION_DAYS {
            return Err(AppError::Refused(
                ErrorCode::InvalidPlan,
                format!("file retention is at most {MAX_REPORT_RETENTION_DAYS} days (0 keeps files with the report)"),
            ));
        }
    }
    if let Some(types) = &patch.allowed_types {
        for t in types {
            let ok = t.split_once('/').is_some_and(|(a, b)| {
                let part =
                    |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-+.*".contains(&c));
                part(a) && part(b)
            });
            if !ok {
                return Err(AppError::Refused(
                    ErrorCode::InvalidPlan,
                    format!("'{t}' is not a media type like image/png or image/*"),
                ));
            }
        }
    }
    Ok(())
}

/// Changes the plan (admins).
pub async fn update_account(db: &Db, staff: &Staff, patch: AccountPatch) -> AppResult<Account> {
    staff.require_admin()?;
    check_patch(&patch)?;
    repo::account::update(db, &staff.account.id, &patch).await?.ok_or(AppError::NotFound("account"))
}

fn check_username(name: &str) -> AppResult<()> {
    let ok =
        !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid("a username is 1 to 64 letters, digits, '.', '_' or '-'"))
    }
}

fn check_password(pw: &str) -> AppResult<()> {
    if pw.chars().count() < MIN_PASSWORD_CHARS || pw.len() > 1024 {
        return Err(AppError::Refused(
            ErrorCode::WeakPassword,
            format!("a password has {MIN_PASSWORD_CHARS} to 1024 characters"),
        ));
    }
    Ok(())
}

/// A supervisor must be a user of the same account who is a supervisor or admin.
async fn check_supervisor(db: &Db, staff: &Staff, id: &UserId, of: Option<&UserId>) -> AppResult<()> {
    let bad = || AppError::invalid(format!("supervisor {id} is not a supervisor of this account"));
    if !is_id(id.as_str()) || Some(id) == of {
        return Err(bad());
    }
    let sup = repo::user::get(db, id).await?.ok_or_else(bad)?.user;
    if sup.account_id != staff.account.id || !matches!(sup.role, Role::Supervisor | Role::Admin) {
        return Err(bad());
    }
    Ok(())
}

/// Adds a user to the admin's account.
pub async fn create_user(db: &Db, staff: &Staff, new: NewUser) -> AppResult<User> {
    staff.require_admin()?;
    let username = new.username.trim();
    check_username(username)?;
    check_password(&new.password)?;
    let display = text_field("display name", new.display_name.as_deref().unwrap_or(username), 100, true)?;
    if let Some(s) = &new.supervisor_id {
        check_supervisor(db, staff, s, None).await?;
    }
    let hash = auth::hash_password(new.password).await?;
    let record = repo::user::NewUserRecord {
        account_id: &staff.account.id,
        username,
        display_name: &display,
        password_hash: &hash,
        role: new.role,
        reports: new.reports,
        supervisor_id: new.supervisor_id.as_ref(),
    };
    repo::user::create(db, record)
        .await?
        .ok_or_else(|| AppError::Refused(ErrorCode::UsernameTaken, format!("the username '{username}' is taken")))
}

/// A user of the admin's account.
async fn own_user(db: &Db, staff: &Staff, id: &str) -> AppResult<User> {
    if !is_id(id) {
        return Err(AppError::NotFound("user"));
    }
    match repo::user::get(db, &UserId(id.to_owned())).await? {
        Some(r) if r.user.account_id == staff.account.id => Ok(r.user),
        _ => Err(AppError::NotFound("user")),
    }
}

/// Changes a user of the admin's account.
pub async fn update_user(state: &AppState, staff: &Staff, id: &str, patch: UserPatch) -> AppResult<User> {
    staff.require_admin()?;
    let db = &state.db;
    let mut user = own_user(db, staff, id).await?;
    let mut sign_out = false;
    if let Some(d) = &patch.display_name {
        user.display_name = text_field("display name", d, 100, true)?;
    }
    if let Some(role) = patch.role {
        if user.id == staff.user.id && role != Role::Admin {
            return Err(AppError::Refused(
                ErrorCode::LastAdmin,
                "an admin cannot take away their own admin role".into(),
            ));
        }
        user.role = role;
    }
    if let Some(r) = patch.reports {
        user.reports = r;
    }
    if let Some(s) = &patch.supervisor_id {
        if s.is_empty() {
            user.supervisor_id = None;
        } else {
            let s = UserId(s.clone());
            check_supervisor(db, staff, &s, Some(&user.id)).await?;
            user.supervisor_id = Some(s);
        }
    }
    if let Some(d) = patch.disabled {
        if d && user.id == staff.user.id {
            return Err(AppError::Refused(ErrorCode::LastAdmin, "an admin cannot disable themselves".into()));
        }
        sign_out |= d && !user.disabled;
        user.disabled = d;
    }
    let hash = match patch.password {
        Some(pw) => {
            check_password(&pw)?;
            sign_out = true;
            Some(auth::hash_password(pw).await?)
        }
        None => None,
    };
    repo::user::save(db, &user, hash.as_deref()).await?;
    if sign_out {
        repo::user::delete_sessions_of(db, &user.id).await?;
        state.hub.revoke(Revocation::User(user.id.clone()));
    }
    Ok(user)
}

/// The users of the admin's account.
pub async fn list_users(db: &Db, staff: &Staff) -> AppResult<Vec<User>> {
    staff.require_admin()?;
    Ok(repo::user::list(db, &staff.account.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_limits_are_enforced() {
        let p = |max| AccountPatch { max_upload_bytes: Some(max), ..Default::default() };
        assert!(check_patch(&p(30 * 1024 * 1024)).is_ok());
        assert!(check_patch(&p(30 * 1024 * 1024 + 1)).is_err());
        assert!(check_patch(&p(0)).is_err());
        let t = |v: &str| AccountPatch { allowed_types: Some(vec![v.into()]), ..Default::default() };
        assert!(check_patch(&t("image/*")).is_ok());
        assert!(check_patch(&t("application/vnd.ms-excel")).is_ok());
        assert!(check_patch(&t("png")).is_err());
        assert!(check_patch(&t("image/png,text/html")).is_err());
    }

    #[test]
    fn usernames_are_plain() {
        assert!(check_username("alice.b-2_x").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("../x").is_err());
    }
}
