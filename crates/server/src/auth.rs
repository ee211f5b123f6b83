//! Who is asking: staff by bearer token, visitors by the `vvcu` cookie; password hashing.

use crate::db::{is_id, new_id, now_us};
use crate::error::AppError;
use crate::repo;
use crate::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use attache_protocol::{Account, Role, User, VisitorId};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

/// How long a staff session lasts.
pub const SESSION_DAYS: i64 = 30;
/// Name of the visitor cookie.
pub const VISITOR_COOKIE: &str = "vvcu";
/// Lifetime of the visitor cookie: three years, renewed on every visit.
pub const VISITOR_COOKIE_SECS: i64 = 3 * 365 * 24 * 3600;

/// Hashes a password with argon2id (off the async threads).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// Checks a password against a stored hash (off the async threads). A missing hash still costs
/// one verification, so unknown users take as long as wrong passwords.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Jq3Cd+1zFoRz9wm8bIZ6m+G2X8bfvGQkOZsZ9KfPxo";
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.to_owned());
        let ok = PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// A new session token (256 bits) and the hash under which it is stored.
pub fn new_token() -> (String, String) {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Session expiry for a session starting now.
pub fn session_expiry() -> i64 {
    now_us() + SESSION_DAYS * 24 * 3600 * 1_000_000
}

/// A signed-in staff member, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct Staff {
    /// The user.
    pub user: User,
    /// Their account.
    pub account: Account,
    /// The stored hash of the session token.
    pub token_hash: String,
}

impl Staff {
    /// Admins only.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden("admin-only", "only an admin of the account may do this".into()))
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim) else {
            return Err(AppError::Unauthorized("unauthorized", "sign in first: no bearer token was sent".into()));
        };
        let expired = || AppError::Unauthorized("session-expired", "the session has ended; sign in again".into());
        let hash = token_hash(token);
        let user_id = repo::user::session_user(&state.db, &hash).await?.ok_or_else(expired)?;
        let user = repo::user::get(&state.db, &user_id).await?.ok_or_else(expired)?.user;
        if user.disabled {
            return Err(expired());
        }
        let account = repo::account::get(&state.db, &user.account_id).await?.ok_or_else(expired)?;
        Ok(Staff { user, account, token_hash: hash })
    }
}

/// The value of a cookie in a request.
pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The visitor behind a request, as the `vvcu` middleware found or made it.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// Its credential (the cookie's value, or a consumer token): a secret, never logged or shown
    /// to staff. Staff see the account-scoped [`attache_protocol::VisitorRef`].
    pub id: VisitorId,
    /// Whether the browser already had the cookie.
    pub returning: bool,
}

impl Visitor {
    /// The stored form of the credential, under which its visitors are found.
    pub fn credential_hash(&self) -> String {
        repo::visitor::credential_hash(self.id.as_str())
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("visitor middleware missing on this route")))
    }
}

/// Middleware for customer-facing routes: knows the visitor by `vvcu`, gives a new one an id,
/// and renews the cookie (three years) on every response.
pub async fn visitor_cookie(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), VISITOR_COOKIE).filter(|v| is_id(v)).map(str::to_owned);
    let visitor = match existing {
        Some(id) => Visitor { id: VisitorId(id), returning: true },
        None => Visitor { id: VisitorId(new_id()), returning: false },
    };
    req.extensions_mut().insert(visitor.clone());
    let mut resp = next.run(req).await;
    set_visitor_cookie(&state, &mut resp, &visitor.id);
    resp
}

/// Sets (or renews) the `vvcu` cookie on a response: three years, HttpOnly, SameSite=Lax, Secure
/// behind TLS.
pub fn set_visitor_cookie(state: &AppState, resp: &mut Response, visitor: &VisitorId) {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let value = format!("{VISITOR_COOKIE}={visitor}; Path=/; Max-Age={VISITOR_COOKIE_SECS}; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_and_unknown_users_never_do() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong".into(), Some(hash)).await);
        assert!(!verify_password("anything".into(), None).await);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; vvcu=abc; b=2"));
        assert_eq!(cookie(&h, "vvcu"), Some("abc"));
        assert_eq!(cookie(&h, "vvca"), None);
    }

    #[test]
    fn tokens_are_stored_hashed() {
        let (token, hash) = new_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, hash);
        assert_eq!(token_hash(&token), hash);
    }
}
