//! What operators and load balancers ask: `/healthz` (alive), `/readyz` (database and store
//! reachable, migrations current) and `/metrics` (Prometheus' text format, behind a bearer token
//! when one is configured).

use crate::domain::access::FileCaller;
use crate::storage::StoreKey;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use subtle::ConstantTimeEq;

/// `/metrics`: every figure of this instance. With a configured token, only a request bearing
/// it is answered (401 otherwise).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(want) = &state.config.metrics_token {
        let got = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(got.as_bytes().ct_eq(want.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is needed for /metrics\n",
            )
                .into_response();
        }
    }
    let text = state.metrics.render(&state.db, state.throttle.refused.load(Ordering::Relaxed));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// `/readyz`: 200 when this instance can serve (database answers and is migrated, store
/// answers), 503 with the reasons in words otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let problems = not_ready(&state).await;
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready:\n{}\n", problems.join("\n"))).into_response()
    }
}

async fn not_ready(state: &AppState) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = sqlx::query("SELECT 1").execute(&state.db).await {
        problems.push(format!("database: {e}"));
    } else {
        let url = state.config.database_url();
        match crate::db::Backend::of(&url) {
            Ok(b) => match crate::db::pending_migrations(&state.db, b).await {
                Ok(p) if p.is_empty() => {}
                Ok(p) => problems.push(format!("database: migrations not applied: {}", p.join(", "))),
                Err(e) => problems.push(format!("database: {e:#}")),
            },
            Err(e) => problems.push(format!("database: {e}")),
        }
    }
    // A key nobody writes: "not found" is the store answering.
    let probe = StoreKey::parse(&format!("00/{}.probe", "0".repeat(32))).expect("a well-formed key");
    match state.files.store.head(&probe).await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => problems.push(format!("store: {e}")),
    }
    problems
}

/// The credential a file request came with, as `/metrics` labels downloads.
pub(crate) fn grant_label(who: &FileCaller) -> &'static str {
    match (&who.staff, &who.vvcu, &who.vvca) {
        (Some(_), _, _) => "staff",
        (None, Some(_), _) => "visitor",
        (None, None, Some(_)) => "vvca",
        (None, None, None) => "link",
    }
}
