//! Sign-in, the account and its users.

use super::extract::AppJson;
use crate::auth::Staff;
use crate::domain::account;
use crate::error::AppResult;
use crate::AppState;
use attache_protocol::{Account, AccountPatch, ApiError, LoginRequest, LoginResponse, Me, NewUser, User, UserPatch};
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// The client's address: the peer's, or behind a proxy (`Config::forwarded_for`) the last
/// `X-Forwarded-For` entry, which the proxy itself appended.
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.forwarded_for {
            let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back();
            if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|a| a.trim().parse().ok()) {
                return Ok(ClientAddr(Some(ip)));
            }
        }
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(ClientAddr(info.map(|i| i.0.ip())))
    }
}

/// Starts a staff session. Attempts are throttled per account+user and per client address.
#[utoipa::path(post, path = "/api/login", tag = "staff", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "bad-credentials", body = ApiError),
        (status = 429, description = "too-many-attempts: wait as many seconds as `Retry-After` says", body = ApiError,
            headers(("Retry-After" = u64, description = "seconds to wait"))),
        (status = 503, description = "busy: too many sign-ins queued for hashing", body = ApiError)))]
#[tracing::instrument(skip_all, fields(account = %req.account, user = %req.username))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    AppJson(req): AppJson<LoginRequest>,
) -> AppResult<AppJson<LoginResponse>> {
    Ok(AppJson(account::login(&state.db, &state.throttle, address, req).await?))
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/logout", tag = "staff", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username))]
pub async fn logout(State(state): State<AppState>, staff: Staff) -> AppResult<StatusCode> {
    account::logout(&state, staff).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/me", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ApiError)))]
pub async fn me(staff: Staff) -> AppJson<Me> {
    AppJson(Me { user: staff.user, account: staff.account })
}

/// The account and its plan.
#[utoipa::path(get, path = "/api/account", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Account), (status = 403, body = ApiError)))]
pub async fn get_account(staff: Staff) -> AppResult<AppJson<Account>> {
    staff.require_admin()?;
    Ok(AppJson(staff.account))
}

/// Changes the plan: upload limit (up to 30 MiB), file sharing, retention, allowed types.
#[utoipa::path(patch, path = "/api/account", tag = "admin", security(("bearer" = [])), request_body = AccountPatch,
    responses((status = 200, body = Account), (status = 403, body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(admin = %staff.user.username))]
pub async fn patch_account(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(patch): AppJson<AccountPatch>,
) -> AppResult<AppJson<Account>> {
    Ok(AppJson(account::update_account(&state.db, &staff, patch).await?))
}

/// The account's users.
#[utoipa::path(get, path = "/api/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [User]), (status = 403, body = ApiError)))]
pub async fn list_users(State(state): State<AppState>, staff: Staff) -> AppResult<AppJson<Vec<User>>> {
    Ok(AppJson(account::list_users(&state.db, &staff).await?))
}

/// Adds a user.
#[utoipa::path(post, path = "/api/users", tag = "admin", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(admin = %staff.user.username, new = %new.username))]
pub async fn create_user(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(new): AppJson<NewUser>,
) -> AppResult<(StatusCode, AppJson<User>)> {
    Ok((StatusCode::CREATED, AppJson(account::create_user(&state.db, &staff, new).await?)))
}

/// Changes a user: name, password, role, reports permission, supervisor, disabled.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "admin", security(("bearer" = [])), request_body = UserPatch,
    params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(admin = %staff.user.username, user = %id))]
pub async fn patch_user(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    AppJson(patch): AppJson<UserPatch>,
) -> AppResult<AppJson<User>> {
    Ok(AppJson(account::update_user(&state, &staff, &id, patch).await?))
}
