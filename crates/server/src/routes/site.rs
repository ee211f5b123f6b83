//! The LivePerson-style account routes of the seed's step 1: an admin's login
//! (`POST /api/account/{account}/login?v=1.1` -> `{"bearer": …}`) and the site property
//! `messaging.file.sharing.enabled` (`/api/account/{account}/configuration/setting/properties`),
//! which is the plan's `file_sharing_enabled` that `PATCH /api/account` and the console change.

use super::extract::AppJson;
use super::staff::ClientAddr;
use crate::auth::Staff;
use crate::domain::account;
use crate::error::AppResult;
use crate::AppState;
use attache_protocol::{ApiError, LpLoginRequest, LpLoginResponse, LpSiteProperty};
use axum::extract::{Path, State};

/// Signs an admin of the account in, LivePerson style: the `bearer` is a staff session token.
/// Throttled like `POST /api/login`.
#[utoipa::path(post, path = "/api/account/{account}/login", tag = "admin", request_body = LpLoginRequest,
    params(("account" = String, Path, description = "the account's name"), ("v" = Option<String>, Query, description = "API version, 1.1")),
    responses((status = 200, body = LpLoginResponse), (status = 401, description = "bad-credentials", body = ApiError),
        (status = 403, description = "admin-only: the user is not an admin", body = ApiError),
        (status = 429, description = "too-many-attempts: wait as many seconds as `Retry-After` says", body = ApiError,
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
#[tracing::instrument(skip_all, fields(account = %account, user = %req.username))]
pub async fn admin_login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Path(account): Path<String>,
    AppJson(req): AppJson<LpLoginRequest>,
) -> AppResult<AppJson<LpLoginResponse>> {
    Ok(AppJson(account::admin_login(&state.db, &state.throttle, address, &account, req).await?))
}

/// The account's site properties: `messaging.file.sharing.enabled`.
#[utoipa::path(get, path = "/api/account/{account}/configuration/setting/properties", tag = "admin",
    security(("bearer" = [])), params(("account" = String, Path), ("v" = Option<String>, Query, description = "API version, 3.0")),
    responses((status = 200, body = [LpSiteProperty]), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "another account than the bearer's", body = ApiError)))]
pub async fn get_site_properties(staff: Staff, Path(account): Path<String>) -> AppResult<AppJson<Vec<LpSiteProperty>>> {
    Ok(AppJson(account::site_properties(&staff, &account)?))
}

/// Sets site properties, as `set_site_property.sh` does: only `messaging.file.sharing.enabled`
/// (true or false), the same switch as the plan's `file_sharing_enabled`.
#[utoipa::path(put, path = "/api/account/{account}/configuration/setting/properties", tag = "admin",
    security(("bearer" = [])), request_body = [LpSiteProperty],
    params(("account" = String, Path), ("v" = Option<String>, Query, description = "API version, 3.0")),
    responses((status = 200, body = [LpSiteProperty]), (status = 401, body = ApiError),
        (status = 403, description = "admin-only", body = ApiError), (status = 404, body = ApiError),
        (status = 422, description = "unknown-property, or not a boolean", body = ApiError)))]
#[tracing::instrument(skip_all, fields(admin = %staff.user.username))]
pub async fn set_site_properties(
    State(state): State<AppState>,
    staff: Staff,
    Path(account): Path<String>,
    AppJson(properties): AppJson<Vec<LpSiteProperty>>,
) -> AppResult<AppJson<Vec<LpSiteProperty>>> {
    Ok(AppJson(account::set_site_properties(&state.db, &staff, &account, properties).await?))
}
