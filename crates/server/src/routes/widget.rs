//! The customer widget: a static page and its script, embedded in the binary.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::AppError;
use crate::AppState;

const FILES: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../widget/index.html")),
    ("widget.js", "text/javascript; charset=utf-8", include_str!("../../widget/widget.js")),
    ("widget.css", "text/css; charset=utf-8", include_str!("../../widget/widget.css")),
];

const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; style-src 'self'; \
                   script-src 'self'";

/// The widget's policy: framed only by the service itself and the configured embedding sites.
fn csp(embed_origins: &[String]) -> String {
    let ancestors: Vec<&str> = embed_origins
        .iter()
        .map(String::as_str)
        .filter(|o| o.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"')))
        .collect();
    format!("{CSP}; frame-ancestors 'self' {}", ancestors.join(" ")).trim_end().to_owned()
}

fn serve(name: &str, embed_origins: &[String]) -> Response {
    match FILES.iter().find(|(n, ..)| *n == name) {
        Some((_, ty, body)) => (
            [
                (CONTENT_TYPE, *ty),
                (CACHE_CONTROL, "no-cache"),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (CONTENT_SECURITY_POLICY, csp(embed_origins).as_str()),
            ],
            *body,
        )
            .into_response(),
        None => AppError::NotFound("file").into_response(),
    }
}

/// `/widget/` and its assets; the visitor middleware renews `vvcu` on every page visit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/widget",
            get(|RawQuery(q): RawQuery| async move {
                Redirect::permanent(&format!("/widget/{}", q.map(|q| format!("?{q}")).unwrap_or_default()))
            }),
        )
        .route(
            "/widget/",
            get(|State(state): State<AppState>| async move { serve("index.html", &state.config.embed_origins) }),
        )
        .route(
            "/widget/{file}",
            get(|State(state): State<AppState>, Path(file): Path<String>| async move {
                serve(&file, &state.config.embed_origins)
            }),
        )
}
