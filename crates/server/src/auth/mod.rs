//! Who is asking: staff by bearer token, visitors by the `vvcu` cookie; password hashing.

mod password;

pub use password::{hash_password, verify_password};

use crate::db::{is_id, new_id, now_us};
use crate::error::AppError;
use crate::repo;
use crate::AppState;
use attache_protocol::{Account, ErrorCode, Role, User, VisitorId};
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

/// Sign-in throttling, per account+user and per client address.
///
/// A key's count is its failed attempts in the current window plus the attempts in flight, so a
/// burst is cut off before its hashes run. Past the limit the key waits out the window: 429 with
/// `Retry-After`. A success clears the user's count. One instance's memory; behind several
/// instances each throttles on its own (the limits multiply by the instance count).
#[derive(Debug)]
pub struct LoginThrottle {
    keys: std::sync::Mutex<std::collections::HashMap<String, Attempts>>,
    /// Attempts per account+user and window.
    pub per_user: u32,
    /// Attempts per client address and window.
    pub per_address: u32,
    /// The window.
    pub window: std::time::Duration,
    /// Attempts refused so far (for `/metrics`).
    pub refused: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    count: u32,
    since: std::time::Instant,
}

/// Most keys remembered; older windows are dropped first when full.
const THROTTLE_KEYS: usize = 100_000;

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            keys: Default::default(),
            per_user: 5,
            per_address: 20,
            window: std::time::Duration::from_secs(60),
            refused: Default::default(),
        }
    }
}

/// One sign-in attempt holding its place in the throttle; reports its outcome when done.
#[derive(Debug)]
pub struct AttemptGuard<'a> {
    throttle: &'a LoginThrottle,
    keys: [String; 2],
}

impl LoginThrottle {
    /// Counts an attempt for a user (`account`, `username`) from `address`, or says how long
    /// to wait.
    pub fn begin(
        &self,
        account: &str,
        username: &str,
        address: Option<std::net::IpAddr>,
    ) -> Result<AttemptGuard<'_>, AppError> {
        // Bounded keys: a megabyte of user name costs no more than a real one.
        let part = |s: &str| s.trim().chars().take(128).collect::<String>().to_lowercase();
        let user_key = format!("u:{}/{}", part(account), part(username));
        let addr_key = format!("a:{}", address.map(|a| a.to_string()).unwrap_or_default());
        let now = std::time::Instant::now();
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= THROTTLE_KEYS {
            keys.retain(|_, a| now.duration_since(a.since) < self.window);
        }
        let mut wait = None;
        for (key, limit) in [(&user_key, self.per_user), (&addr_key, self.per_address)] {
            let a = keys.entry(key.clone()).or_insert(Attempts { count: 0, since: now });
            if now.duration_since(a.since) >= self.window {
                *a = Attempts { count: 0, since: now };
            }
            if a.count >= limit {
                let left = self.window.saturating_sub(now.duration_since(a.since)).as_secs().max(1);
                wait = Some(wait.map_or(left, |w: u64| w.max(left)));
            }
        }
        if let Some(secs) = wait {
            self.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(AppError::Throttled(
                format!("too many sign-in attempts; try again in {}", crate::auth::wait_words(secs)),
                secs,
            ));
        }
        for key in [&user_key, &addr_key] {
            if let Some(a) = keys.get_mut(key.as_str()) {
                a.count = a.count.saturating_add(1);
            }
        }
        Ok(AttemptGuard { throttle: self, keys: [user_key, addr_key] })
    }
}

impl AttemptGuard<'_> {
    /// The attempt succeeded: it no longer counts, and the user's failures are forgotten.
    pub fn succeeded(self) {
        let mut keys = self.throttle.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.remove(&self.keys[0]);
        if let Some(a) = keys.get_mut(&self.keys[1]) {
            a.count = a.count.saturating_sub(1);
        }
    }
}

/// A wait in words: "1 second", "42 seconds", "2 minutes".
pub fn wait_words(secs: u64) -> String {
    match secs {
        1 => "1 second".into(),
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
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
            Err(AppError::Refused(ErrorCode::AdminOnly, "only an admin of the account may do this".into()))
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(token) = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim) else {
            return Err(AppError::Refused(ErrorCode::Unauthorized, "sign in first: no bearer token was sent".into()));
        };
        let expired = || AppError::Refused(ErrorCode::SessionExpired, "the session has ended; sign in again".into());
        let hash = token_hash(token);
        let (user, account) = repo::user::session_staff(&state.db, &hash).await?.ok_or_else(expired)?;
        if user.disabled {
            return Err(expired());
        }
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
/// behind TLS. Behind TLS with embedding sites configured (`--embed-origin`, or an account's
/// widget settings) it is `SameSite=None; Secure`, so the widget works inside their frames (the
/// `Origin` checks guard what that opens), and `Partitioned` (CHIPS) so browsers that block
/// third-party cookies still keep it, per embedding site.
pub fn set_visitor_cookie(state: &AppState, resp: &mut Response, visitor: &VisitorId) {
    let embedding =
        !state.config.embed_origins.is_empty() || state.embedding.load(std::sync::atomic::Ordering::Relaxed);
    let attrs = match (state.config.secure_cookies, !embedding) {
        (true, false) => "SameSite=None; Secure; Partitioned",
        (true, true) => "SameSite=Lax; Secure",
        (false, _) => "SameSite=Lax",
    };
    let value = format!("{VISITOR_COOKIE}={visitor}; Path=/; Max-Age={VISITOR_COOKIE_SECS}; HttpOnly; {attrs}");
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// Whether `origin` (an `Origin` header) is the service's own (same host as `Host`) or one of
/// the embedding sites.
pub fn origin_allowed(origin: &str, host: Option<&str>, embed_origins: &[String]) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    let own = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|h| host.is_some_and(|host| h.eq_ignore_ascii_case(host.trim())));
    own || embed_origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
}

/// What [`same_origin`] and [`same_origin_json`] refuse, if anything.
fn foreign(state: &AppState, req: &Request, want_json: bool) -> Option<AppError> {
    use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN, UPGRADE};
    use axum::http::Method;
    let h = req.headers();
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !changes && !h.contains_key(UPGRADE) {
        return None;
    }
    if let Some(origin) = h.get(ORIGIN) {
        let host = h.get(HOST).and_then(|v| v.to_str().ok());
        if !origin.to_str().is_ok_and(|o| origin_allowed(o, host, &state.config.embed_origins)) {
            let why = "this request came from a site that may not act for the customer";
            return Some(AppError::Refused(ErrorCode::OriginNotAllowed, why.into()));
        }
    }
    let json = h
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    (changes && want_json && !json).then(|| {
        let why = "send the request as JSON with Content-Type: application/json";
        AppError::Refused(ErrorCode::ExpectedJson, why.into())
    })
}

/// Middleware for routes that set or use the visitor's cookie without a JSON body (signup, the
/// consumer socket, tus): a state change or a WebSocket from a foreign `Origin` is refused (403
/// `origin-not-allowed`). Reads pass; so do clients that send no `Origin` (not browsers).
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match foreign(&state, &req, false) {
        Some(e) => axum::response::IntoResponse::into_response(e),
        None => next.run(req).await,
    }
}

/// [`same_origin`], and a state change must also be JSON (415 `expected-json`), so a plain
/// cross-site form cannot make one: the customer's API under `/api/visitor`.
pub async fn same_origin_json(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match foreign(&state, &req, true) {
        Some(e) => axum::response::IntoResponse::into_response(e),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_and_unknown_users_never_do() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await.unwrap());
        assert!(!verify_password("wrong".into(), Some(hash)).await.unwrap());
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }

    #[test]
    fn the_throttle_counts_failures_and_attempts_in_flight() {
        let t = LoginThrottle { per_user: 3, per_address: 5, ..Default::default() };
        let ip: Option<std::net::IpAddr> = Some([10, 0, 0, 1].into());
        // Failures (guards dropped without success) count.
        for _ in 0..3 {
            drop(t.begin("acme", "alice", ip).unwrap());
        }
        let e = t.begin("Acme", "ALICE ", ip).unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (429, ErrorCode::TooManyAttempts));
        assert!(e.to_string().contains("try again in"), "{e}");
        // Other users from the same address, up to the address's limit.
        let held: Vec<_> = (0..2).map(|i| t.begin("acme", &format!("u{i}"), ip).unwrap()).collect();
        assert_eq!(t.begin("acme", "bob", ip).unwrap_err().code(), ErrorCode::TooManyAttempts);
        drop(held);
        // Another address is not affected; success clears the user's count.
        let other = Some([10, 0, 0, 2].into());
        t.begin("acme", "bob", other).unwrap().succeeded();
        assert_eq!(wait_words(1), "1 second");
        assert_eq!(wait_words(300), "5 minutes");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; vvcu=abc; b=2"));
        assert_eq!(cookie(&h, "vvcu"), Some("abc"));
        assert_eq!(cookie(&h, "vvca"), None);
    }

    #[test]
    fn origins_are_the_service_own_or_an_embedding_site() {
        let embed = vec!["https://shop.example".to_owned()];
        assert!(origin_allowed("http://127.0.0.1:8080", Some("127.0.0.1:8080"), &[]));
        assert!(origin_allowed("https://shop.example", Some("chat.example"), &embed));
        assert!(!origin_allowed("http://evil.example", Some("127.0.0.1:8080"), &embed));
        assert!(!origin_allowed("null", Some("127.0.0.1:8080"), &embed));
        assert!(!origin_allowed("http://127.0.0.1:8080.evil.example", Some("127.0.0.1:8080"), &[]));
    }

    #[test]
    fn tokens_are_stored_hashed() {
        let (token, hash) = new_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, hash);
        assert_eq!(token_hash(&token), hash);
    }
}
