//! The HTTP surface: routes, the OpenAPI document, the fallback.

mod consumer;
mod contacts;
mod events;
pub mod extract;
mod files;
pub(crate) mod ops;
mod review;
mod site;
mod staff;
pub mod uploads;
mod visitor;
mod widget;

use crate::auth::{same_origin, same_origin_json, visitor_cookie};
use crate::error::AppError;
use crate::AppState;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Json, Router};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Attaché", description = "File transfer for customer-service chat"),
    modifiers(&BearerAuth),
    tags(
        (name = "staff", description = "Sign-in and sessions"),
        (name = "admin", description = "The account's plan and users"),
        (name = "contacts", description = "The queue and the agent's chats"),
        (name = "reports", description = "Reports > Contacts"),
        (name = "visitor", description = "The customer's side, known by the vvcu cookie"),
        (name = "events", description = "Real-time WebSockets"),
        (name = "uploads", description = "tus 1.0 resumable uploads of attachments"),
        (name = "consumer", description = "LivePerson-style consumer messaging: conversations, temporary upload and download URLs"),
        (name = "files", description = "Attachment bytes and previews, under the access table"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document and the router it describes.
fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let visitor = OpenApiRouter::new()
        .routes(routes!(visitor::open_contact, visitor::list_contacts))
        .routes(routes!(visitor::get_contact))
        .routes(routes!(visitor::send_message, visitor::list_messages))
        .routes(routes!(visitor::close_contact))
        .routes(routes!(events::visitor_events))
        .layer(middleware::from_fn_with_state(state.clone(), visitor_cookie))
        .layer(middleware::from_fn_with_state(state.clone(), same_origin_json));
    let uploads = OpenApiRouter::new()
        .routes(routes!(uploads::create_upload, uploads::options_uploads))
        .routes(routes!(
            uploads::head_upload,
            uploads::patch_upload,
            uploads::delete_upload,
            uploads::get_upload,
            uploads::options_upload
        ))
        .layer(middleware::from_fn(uploads::tus_headers))
        .layer(middleware::from_fn_with_state(state.clone(), same_origin));
    let consumer = OpenApiRouter::new()
        .routes(routes!(consumer::signup))
        .routes(routes!(consumer::consumer_socket))
        .layer(middleware::from_fn_with_state(state.clone(), same_origin));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(staff::login))
        .routes(routes!(staff::logout))
        .routes(routes!(staff::me))
        .routes(routes!(staff::get_account, staff::patch_account))
        .routes(routes!(staff::list_users, staff::create_user))
        .routes(routes!(staff::patch_user))
        .routes(routes!(site::admin_login))
        .routes(routes!(site::get_site_properties, site::set_site_properties))
        .routes(routes!(widget::get_widget_settings, widget::patch_widget_settings))
        .routes(routes!(widget::widget_config))
        .routes(routes!(contacts::list_contacts))
        .routes(routes!(contacts::accept_contact))
        .routes(routes!(contacts::close_contact))
        .routes(routes!(contacts::send_message, contacts::list_messages))
        .routes(routes!(contacts::report_contacts))
        .routes(routes!(contacts::report_contact))
        .routes(routes!(contacts::release_upload))
        .routes(routes!(review::list_access))
        .routes(routes!(review::redact_attachment))
        .routes(routes!(review::file_status))
        .routes(routes!(review::export_contact))
        .routes(routes!(review::search_attachments))
        .routes(routes!(review::storage_usage))
        .routes(routes!(events::staff_events))
        .routes(routes!(files::get_file))
        .routes(routes!(consumer::put_temp_file, consumer::get_temp_file))
        .merge(visitor)
        .merge(uploads)
        .merge(consumer)
        .split_for_parts()
}

/// The OpenAPI document alone (for tools and tests).
pub fn openapi(state: &AppState) -> utoipa::openapi::OpenApi {
    api(state).1
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (router, mut doc) = api(&state);
    // Routes that are not JSON handlers, named in the document all the same.
    for (path, summary, response) in [
        ("/api/openapi.json", "This document", "The OpenAPI document"),
        ("/healthz", "Liveness", "ok"),
        ("/readyz", "Readiness: database reachable and migrated, store reachable (503 with the reasons)", "ready"),
        (
            "/metrics",
            "Prometheus text format; a bearer token when the service has one (--metrics-token)",
            "The metrics",
        ),
        ("/widget/", "The customer widget (HTML page; `?account=` names the account)", "The page"),
        (
            "/widget/{file}",
            "The widget's files: widget.js, widget.css, i18n.js, pending.js, tus.min.js, and embed.js (the one-tag embed)",
            "The file",
        ),
    ] {
        doc.paths.paths.entry(path.into()).or_insert_with(|| {
            utoipa::openapi::path::PathItem::new(
                utoipa::openapi::HttpMethod::Get,
                utoipa::openapi::path::OperationBuilder::new()
                    .summary(Some(summary))
                    .response("200", utoipa::openapi::Response::new(response)),
            )
        });
    }
    let doc = std::sync::Arc::new(doc);
    router
        .route("/api/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(widget::router().layer(middleware::from_fn_with_state(state.clone(), visitor_cookie)))
        .fallback(|| async { AppError::NotFound("route").into_response() })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `https://{swiftDomain}/{relativePath}`, written as LivePerson's document writes it, puts two
/// slashes before `v1/…` (`relativePath` starts with one): such a temporary URL is the same URL.
/// Wraps the whole router, since routing happens before any layer added to it.
pub fn fold_swift_slash(mut req: axum::extract::Request) -> axum::extract::Request {
    let uri = req.uri();
    if uri.path().starts_with("//v1/") {
        let fixed = uri.path_and_query().map(|pq| pq.as_str()[1..].to_owned());
        if let Some(Ok(pq)) = fixed.map(|f| f.parse::<axum::http::uri::PathAndQuery>()) {
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(pq);
            if let Ok(u) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = u;
            }
        }
    }
    req
}
