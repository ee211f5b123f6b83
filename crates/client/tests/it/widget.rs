//! Issue 15, the widget as sites embed it: the admin's widget settings through the SDK, the public
//! config the embed script reads, the frame policy and the cookie for an account's sites.

use crate::common;

use attache_client::*;
use common::{other_account, TestServer};
use support::{error_of, http};

use crate::support;

fn code(e: ClientError) -> String {
    e.code().as_str().to_owned()
}

#[tokio::test]
async fn an_admin_sets_the_sites_colour_and_greeting() {
    let ts = TestServer::start().await;
    let ada = ts.login("ada").await;
    assert_eq!(ada.widget_settings().await.unwrap(), WidgetSettings::default());
    let patch = WidgetSettingsPatch {
        allowed_origins: Some(vec![
            "https://Shop.example/".into(),
            "https://shop.example".into(),
            "http://localhost:8081".into(),
        ]),
        color: Some("#0B6E4F".into()),
        greeting: Some("  Hi there  ".into()),
    };
    let w = ada.update_widget_settings(&patch).await.unwrap();
    assert_eq!(w.allowed_origins, ["https://shop.example", "http://localhost:8081"], "normalised, once each");
    assert_eq!(w.color.as_deref(), Some("#0b6e4f"));
    assert_eq!(w.greeting.as_deref(), Some("Hi there"));
    assert_eq!(ada.widget_settings().await.unwrap(), w, "stored");

    // Only what is given changes; empty clears.
    let w = ada
        .update_widget_settings(&WidgetSettingsPatch { greeting: Some(String::new()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((w.greeting, w.color.as_deref(), w.allowed_origins.len()), (None, Some("#0b6e4f"), 2));

    for (patch, want) in [
        (
            WidgetSettingsPatch { allowed_origins: Some(vec!["shop.example".into()]), ..Default::default() },
            "invalid-origin",
        ),
        (
            WidgetSettingsPatch {
                allowed_origins: Some(vec!["https://shop.example/cart".into()]),
                ..Default::default()
            },
            "invalid-origin",
        ),
        (
            WidgetSettingsPatch { allowed_origins: Some(vec!["javascript:alert(1)".into()]), ..Default::default() },
            "invalid-origin",
        ),
        (
            WidgetSettingsPatch {
                allowed_origins: Some((0..21).map(|i| format!("https://s{i}.example")).collect()),
                ..Default::default()
            },
            "too-many-origins",
        ),
        (WidgetSettingsPatch { color: Some("red".into()), ..Default::default() }, "invalid-color"),
        (WidgetSettingsPatch { color: Some("#12345".into()), ..Default::default() }, "invalid-color"),
        (WidgetSettingsPatch { greeting: Some("x".repeat(201)), ..Default::default() }, "invalid-request"),
    ] {
        assert_eq!(code(ada.update_widget_settings(&patch).await.unwrap_err()), want, "{patch:?}");
    }
    let alice = ts.login("alice").await;
    assert_eq!(code(alice.widget_settings().await.unwrap_err()), "admin-only");
    assert_eq!(code(alice.update_widget_settings(&WidgetSettingsPatch::default()).await.unwrap_err()), "admin-only");
}

#[tokio::test]
async fn the_embed_config_answers_the_accounts_sites_only() {
    let ts = TestServer::start().await;
    let ada = ts.login("ada").await;
    let patch = WidgetSettingsPatch {
        allowed_origins: Some(vec!["https://shop.example".into()]),
        color: Some("#0b6e4f".into()),
        greeting: Some("Hello".into()),
    };
    ada.update_widget_settings(&patch).await.unwrap();
    let url = format!("{}/api/widget/acme", ts.url);

    let r = http().get(&url).header("origin", "https://shop.example").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers().get("set-cookie").is_none(), "no cookie for a third party");
    let config: WidgetConfig = r.json().await.unwrap();
    assert_eq!(
        config,
        WidgetConfig { account: "acme".into(), color: Some("#0b6e4f".into()), greeting: Some("Hello".into()) }
    );

    let r = http().get(&url).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*", "the embed script can read why");
    let (status, error, message) = error_of(r).await;
    assert_eq!((status, error.as_str()), (403, "origin-not-allowed"));
    assert!(message.contains("https://evil.example"), "{message}");
    // The widget's own page (no Origin, or the service's own) may read it.
    assert_eq!(http().get(&url).send().await.unwrap().status(), 200);
    // Another account's sites are not this one's.
    let gina = other_account(&ts).await;
    let other =
        WidgetSettingsPatch { allowed_origins: Some(vec!["https://globex.example".into()]), ..Default::default() };
    gina.update_widget_settings(&other).await.unwrap();
    let r = http().get(&url).header("origin", "https://globex.example").send().await.unwrap();
    assert_eq!(r.status(), 403);
    let (status, error, _) = error_of(http().get(format!("{}/api/widget/nobody", ts.url)).send().await.unwrap()).await;
    assert_eq!((status, error.as_str()), (404, "not-found"));

    // The widget page of the account may be framed by its sites, not by another account's.
    let csp = |account: &'static str| {
        let url = format!("{}/widget/?account={account}", ts.url);
        async move {
            let r = http().get(url).send().await.unwrap();
            r.headers()["content-security-policy"].to_str().unwrap().to_owned()
        }
    };
    let acme = csp("acme").await;
    assert!(acme.ends_with("frame-ancestors 'self' https://shop.example"), "{acme}");
    assert!(!csp("globex").await.contains("shop.example"));
    assert!(csp("nobody").await.ends_with("frame-ancestors 'self'"));
}

/// Behind TLS, once an account lists embedding sites, `vvcu` is `SameSite=None; Secure;
/// Partitioned` so the chat works in their frames (and where third-party cookies are blocked,
/// as a partitioned cookie).
#[tokio::test]
async fn an_accounts_sites_make_the_cookie_work_in_their_frames() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.secure_cookies = true;
    let ts = TestServer::start_with(dir, config).await;
    let cookie = || async {
        let r = http().get(format!("{}/widget/?account=acme", ts.url)).send().await.unwrap();
        r.headers()["set-cookie"].to_str().unwrap().to_owned()
    };
    assert!(cookie().await.contains("SameSite=Lax; Secure"));
    let ada = ts.login("ada").await;
    let patch =
        WidgetSettingsPatch { allowed_origins: Some(vec!["https://shop.example".into()]), ..Default::default() };
    ada.update_widget_settings(&patch).await.unwrap();
    assert!(cookie().await.contains("SameSite=None; Secure; Partitioned"));
    ada.update_widget_settings(&WidgetSettingsPatch { allowed_origins: Some(vec![]), ..Default::default() })
        .await
        .unwrap();
    assert!(cookie().await.contains("SameSite=Lax; Secure"), "back to Lax with no sites");
}

/// The widget asks whether its cookie came back (a frame may have it refused).
#[tokio::test]
async fn the_widget_can_tell_a_refused_cookie() {
    let ts = TestServer::start().await;
    let r = http().get(format!("{}/widget/cookie", ts.url)).send().await.unwrap();
    let set = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["cookie"], false);
    let r = http().get(format!("{}/widget/cookie", ts.url)).header("cookie", set).send().await.unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["cookie"], true);
}
