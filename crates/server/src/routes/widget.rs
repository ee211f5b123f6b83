//! The customer widget: its page, script, style, string catalog, the bundled tus client and the
//! embed script, all embedded in the binary; the public widget config the embed script reads;
//! the admin's widget settings.

use super::extract::AppJson;
use crate::auth::{Staff, Visitor};
use crate::domain::widget;
use crate::error::{AppError, AppResult};
use crate::AppState;
use attache_protocol::{ApiError, WidgetConfig, WidgetSettings, WidgetSettingsPatch};
use axum::extract::{Extension, Path, Query, RawQuery, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN, VARY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

const JS: &str = "text/javascript; charset=utf-8";

/// `tus.min.js` is tus-js-client's own browser build, copied from npm by
/// `scripts/widget-vendor.sh` (the widget tests check it matches the locked version).
const FILES: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../widget/index.html")),
    ("widget.js", JS, include_str!("../../widget/widget.js")),
    ("widget.css", "text/css; charset=utf-8", include_str!("../../widget/widget.css")),
    ("i18n.js", JS, include_str!("../../widget/i18n.js")),
    ("pending.js", JS, include_str!("../../widget/pending.js")),
    ("tus.min.js", JS, include_str!("../../widget/tus.min.js")),
    ("embed.js", JS, include_str!("../../widget/embed.js")),
];

const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; style-src 'self'; \
                   script-src 'self'";

/// The widget's policy: framed only by the service itself and the embedding sites.
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

/// Whether the request carried the visitor's cookie: the widget asks once it has loaded (its
/// page set the cookie), to tell a browser that blocks cookies in a frame.
#[derive(serde::Serialize)]
struct CookieCheck {
    cookie: bool,
}

#[derive(Deserialize)]
struct PageQuery {
    account: Option<String>,
}

/// `/widget/` and its assets; the visitor middleware renews `vvcu` on every page visit. The page
/// may be framed by the service's `--embed-origin` sites and by those of the account it names.
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
            get(|State(state): State<AppState>, Query(q): Query<PageQuery>| async move {
                match widget::frame_ancestors(&state, q.account.as_deref()).await {
                    Ok(list) => serve("index.html", &list),
                    Err(e) => e.into_response(),
                }
            }),
        )
        .route(
            "/widget/cookie",
            get(|Extension(v): Extension<Visitor>| async move {
                ([(CACHE_CONTROL, "no-store")], AppJson(CookieCheck { cookie: v.returning }))
            }),
        )
        .route(
            "/widget/{file}",
            get(|State(state): State<AppState>, Path(file): Path<String>| async move {
                serve(&file, &state.config.embed_origins)
            }),
        )
}

/// The widget's public config (name, colour, greeting), read by `embed.js` on the host page
/// before it shows a launcher. Any site may ask (CORS `*`, no cookie); a page whose `Origin` is
/// not one of the account's allowed sites is refused.
#[utoipa::path(get, path = "/api/widget/{account}", tag = "visitor",
    params(("account" = String, Path, description = "the account's name")),
    responses((status = 200, body = WidgetConfig),
        (status = 403, description = "origin-not-allowed: the page's site may not embed this account's widget", body = ApiError),
        (status = 404, description = "no such account", body = ApiError)))]
pub async fn widget_config(State(state): State<AppState>, Path(account): Path<String>, headers: HeaderMap) -> Response {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let mut resp = match widget::config(&state, &account, origin, host).await {
        Ok(c) => AppJson(c).into_response(),
        Err(e) => e.into_response(),
    };
    let h = resp.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, axum::http::HeaderValue::from_static("*"));
    h.insert(VARY, axum::http::HeaderValue::from_static("Origin"));
    h.insert(CACHE_CONTROL, axum::http::HeaderValue::from_static("no-cache"));
    resp
}

/// The account's widget settings: allowed sites, colour, greeting.
#[utoipa::path(get, path = "/api/account/widget", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = WidgetSettings), (status = 401, body = ApiError),
        (status = 403, description = "admin-only", body = ApiError)))]
pub async fn get_widget_settings(State(state): State<AppState>, staff: Staff) -> AppResult<AppJson<WidgetSettings>> {
    Ok(AppJson(widget::settings(&state, &staff).await?))
}

/// Changes the widget settings: the sites allowed to embed the widget (origins such as
/// `https://shop.example`), the launcher's colour (`#rrggbb`) and greeting.
#[utoipa::path(patch, path = "/api/account/widget", tag = "admin", security(("bearer" = [])),
    request_body = WidgetSettingsPatch,
    responses((status = 200, body = WidgetSettings), (status = 401, body = ApiError),
        (status = 403, description = "admin-only", body = ApiError),
        (status = 422, description = "invalid-origin, invalid-color, too-many-origins, or a greeting too long", body = ApiError)))]
#[tracing::instrument(skip_all, fields(admin = %staff.user.username))]
pub async fn patch_widget_settings(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(patch): AppJson<WidgetSettingsPatch>,
) -> AppResult<AppJson<WidgetSettings>> {
    Ok(AppJson(widget::update(&state, &staff, patch).await?))
}
