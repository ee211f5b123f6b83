//! Issue 8, "Hardening": one test per item, each failing before its fix. The broad hostile-input
//! sweep is `hostile.rs`.

use crate::{common, support};

use attache_client::*;
use common::{other_account, TestServer};
use serde_json::{json, Value};
use support::{active_contact, error_of, http, Who};

/// Item 1: the `vvcu` value is a credential that reaches only its owner. Staff responses and
/// events name the visitor by a public id, which opens nothing when replayed as a cookie, and
/// visitor identities are per account.
#[tokio::test]
async fn the_cookie_never_reaches_staff_and_the_public_id_opens_nothing() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let admin = ts.login("ada").await;
    let mut staff_events = alice.events().await.unwrap();
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let cookie = visitor.vvcu().unwrap();
    visitor.send_message(&contact.id, "my card ends 4242").await.unwrap();
    let closed = alice.close(&contact.id).await.unwrap();

    // Everything staff saw: events, the queue, closed contacts, reports.
    let mut seen = Vec::new();
    while let Ok(Some(Ok(e))) =
        tokio::time::timeout(std::time::Duration::from_millis(500), staff_events.next_event()).await
    {
        seen.push(serde_json::to_string(&e).unwrap());
    }
    assert!(seen.len() >= 3, "queued, accepted and closed reached staff: {seen:?}");
    for url in [
        "api/contacts".to_owned(),
        "api/contacts?state=closed".to_owned(),
        "api/reports/contacts".to_owned(),
        format!("api/reports/contacts/{}", contact.id),
        format!("api/contacts/{}/messages", contact.id),
    ] {
        let r = http().get(format!("{}/{url}", ts.url)).bearer_auth(admin.token()).send().await.unwrap();
        seen.push(r.text().await.unwrap());
    }
    seen.push(serde_json::to_string(&closed).unwrap());
    for s in &seen {
        assert!(!s.contains(&cookie), "the cookie value leaked to staff: {s}");
    }
    assert!(seen.iter().any(|s| s.contains(closed.visitor.as_str())), "staff see the public id");

    // Replaying the public id as a cookie opens nothing.
    let replay = Who::Vvcu(closed.visitor.to_string());
    let r = replay.apply(http().get(format!("{}/api/visitor/contacts/{}", ts.url, contact.id))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = replay.apply(http().get(format!("{}/api/visitor/contacts", ts.url))).send().await.unwrap();
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 0, "the public id lists no contacts");
    // The owner still reads their contact.
    assert_eq!(visitor.contact(&contact.id).await.unwrap().id, contact.id);

    // The same browser in another account is another visitor there: no shared id.
    let gina = other_account(&ts).await;
    let there =
        visitor.open_contact(&OpenContact { account: "globex".into(), name: None, message: None }).await.unwrap();
    assert_ne!(there.visitor, closed.visitor, "visitor ids are per account");
    let queue = gina.contacts(None).await.unwrap();
    assert!(queue.iter().all(|c| c.visitor != closed.visitor));
}

/// Item 1, consumer API: the signup token is its own credential, not the cookie.
#[tokio::test]
async fn the_consumer_token_is_not_the_cookie() {
    let ts = TestServer::start().await;
    let r = http().post(format!("{}/api/account/acme/signup", ts.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("vvcu=").map(|v| v.split(';').next().unwrap().to_owned()))
        .unwrap();
    let jwt = r.json::<Value>().await.unwrap()["jwt"].as_str().unwrap().to_owned();
    assert_ne!(jwt, cookie);
    // A token that was never issued opens no socket.
    let url = format!("{}/ws_api/account/acme/messaging/consumer?v=3", ts.url.replace("http", "ws"));
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("jwt {}", "ab".repeat(32)).parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
    let _ = (json!({}), error_of);
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(url: String, headers: &[(&'static str, String)]) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.expect("socket opens").0
}

/// Sends `size` bytes in one text message and returns the close code the service answered with
/// (None when it just dropped the connection); fails if anything else comes back.
async fn oversized(ws: &mut Socket, size: usize) -> Option<u16> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;
    let _ = ws.send(Ws::Text("x".repeat(size).into())).await;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await.expect("an answer within 5 s") {
            Some(Ok(Ws::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(Ws::Text(t))) if t.len() > 1024 => {
                panic!("the oversized input came back ({} bytes)", t.len())
            }
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return None,
        }
    }
}

/// Item 3: every socket bounds its messages and closes with 1009 past the bound, echoing nothing.
#[tokio::test]
async fn oversized_socket_messages_close_with_1009() {
    let ts = TestServer::start().await;
    let ws_base = ts.url.replace("http", "ws");
    // Consumer socket after a free signup.
    let r = http().post(format!("{}/api/account/acme/signup", ts.url)).send().await.unwrap();
    let jwt = r.json::<Value>().await.unwrap()["jwt"].as_str().unwrap().to_owned();
    let consumer = format!("{ws_base}/ws_api/account/acme/messaging/consumer?v=3");
    let mut ws = socket(consumer, &[("authorization", format!("jwt {jwt}"))]).await;
    assert_eq!(oversized(&mut ws, 2 << 20).await, Some(1009), "consumer socket");
    // Staff socket.
    let alice = ts.login("alice").await;
    let mut ws =
        socket(format!("{ws_base}/api/events"), &[("authorization", format!("Bearer {}", alice.token()))]).await;
    assert_eq!(oversized(&mut ws, 64 * 1024).await, Some(1009), "staff socket");
    // Visitor socket.
    let (visitor, _) = active_contact(&ts, &alice).await;
    let cookie = format!("vvcu={}", visitor.vvcu().unwrap());
    let mut ws = socket(format!("{ws_base}/api/visitor/events"), &[("cookie", cookie)]).await;
    assert_eq!(oversized(&mut ws, 64 * 1024).await, Some(1009), "visitor socket");
}

/// Item 2: wrong passwords are throttled per account+user (429 with `Retry-After` and the wait in
/// words) and per address; a burst of parallel attempts is cut off before hashing.
#[tokio::test]
async fn sign_in_attempts_are_throttled() {
    let ts = TestServer::start().await;
    let login = |user: &str, password: &str| {
        http()
            .post(format!("{}/api/login", ts.url))
            .json(&json!({"account": "acme", "username": user, "password": password}))
            .send()
    };
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..30 {
        let r = login("alice", "wrong").await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            retry_after = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let (_, code, message) = error_of(r).await;
            assert_eq!(code, "too-many-attempts");
            assert!(message.contains("try again in") && message.contains("second"), "{message}");
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25, "{statuses:?}");
    assert!(retry_after.is_some_and(|s| (1..=60).contains(&s)), "{retry_after:?}");
    // Even the right password waits while the user is throttled.
    assert_eq!(login("alice", common::PASSWORD).await.unwrap().status(), 429);
    // Another user from the same address still signs in.
    assert_eq!(login("bob", common::PASSWORD).await.unwrap().status(), 200);
    // A parallel burst over many users: the address limit cuts it off, nothing fails inside.
    let burst: Vec<_> = (0..60).map(|i| login(Box::leak(format!("nobody{i}").into_boxed_str()), "wrong")).collect();
    let results = futures_util::future::join_all(burst).await;
    let codes: Vec<u16> = results.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert!(codes.iter().all(|c| *c == 401 || *c == 429), "{codes:?}");
    assert!(codes.iter().filter(|c| **c == 429).count() >= 40, "{codes:?}");
}

/// Item 2 behind a proxy: with `forwarded_for`, addresses come from `X-Forwarded-For`, so one
/// client's failures do not lock out everyone behind the same proxy.
#[tokio::test]
async fn behind_a_proxy_the_forwarded_address_is_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.forwarded_for = true;
    let ts = TestServer::start_with(dir, config).await;
    let login = |user: String, from: &'static str| {
        http()
            .post(format!("{}/api/login", ts.url))
            .header("x-forwarded-for", format!("203.0.113.9, {from}"))
            .json(&json!({"account": "acme", "username": user, "password": "wrong"}))
            .send()
    };
    let mut last = 0;
    for i in 0..21 {
        last = login(format!("u{i}"), "198.51.100.1").await.unwrap().status().as_u16();
    }
    assert_eq!(last, 429, "the 21st failure from one address");
    assert_eq!(login("u0".into(), "198.51.100.2").await.unwrap().status(), 401, "another client behind the proxy");
}

async fn ws_status(url: String, headers: &[(&'static str, String)]) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("{e}"),
    }
}

/// Item 4 (and 10, embedding): cookie-authenticated sockets and state changes check `Origin`
/// against the service's own and the configured embedding sites; changes must be JSON.
#[tokio::test]
async fn foreign_origins_cannot_act_for_the_customer() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.embed_origins = vec!["https://shop.example".into()];
    let ts = TestServer::start_with(dir, config).await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let cookie = format!("vvcu={}", visitor.vvcu().unwrap());
    let own = ts.url.clone();
    let ws_base = ts.url.replace("http", "ws");
    let evil = "http://evil.example".to_owned();

    // Sockets.
    let visitor_ws = format!("{ws_base}/api/visitor/events");
    let h = |origin: &str| vec![("cookie", cookie.clone()), ("origin", origin.to_owned())];
    assert_eq!(ws_status(visitor_ws.clone(), &h(&evil)).await, 403, "visitor socket, foreign origin");
    assert_eq!(ws_status(visitor_ws.clone(), &h(&own)).await, 101, "visitor socket, own origin");
    assert_eq!(ws_status(visitor_ws, &h("https://shop.example")).await, 101, "visitor socket, embedding site");
    let consumer_ws = format!("{ws_base}/ws_api/account/acme/messaging/consumer?v=3");
    assert_eq!(ws_status(consumer_ws.clone(), &h(&evil)).await, 403, "consumer socket, foreign origin");
    assert_eq!(ws_status(consumer_ws, &h(&own)).await, 101, "consumer socket, own origin");

    // Signup from a foreign page replaces no cookie.
    let r = http().post(format!("{}/api/account/acme/signup", ts.url)).header("origin", &evil).send().await.unwrap();
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(error_of(r).await.1, "origin-not-allowed");

    // Closing: foreign origin 403, a form-like body 415, JSON from our own page 200.
    let close = format!("{}/api/visitor/contacts/{}/close", ts.url, contact.id);
    let r =
        http().post(&close).header("cookie", &cookie).header("origin", &evil).json(&json!({})).send().await.unwrap();
    assert_eq!(error_of(r).await.1, "origin-not-allowed");
    let r = http()
        .post(&close)
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, 415);
    let r = http().post(&close).header("cookie", &cookie).header("origin", &own).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // The widget may be framed by the service and the embedding site only.
    let r = http().get(format!("{}/widget/?account=acme", ts.url)).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'self' https://shop.example") && !csp.contains('*'), "{csp}");
}

/// Item 10: behind TLS with embedding sites, `vvcu` is `SameSite=None; Secure` so the widget
/// works in their frames.
#[tokio::test]
async fn the_cookie_works_inside_an_embedding_frame_on_https() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.embed_origins = vec!["https://shop.example".into()];
    config.secure_cookies = true;
    let ts = TestServer::start_with(dir, config).await;
    let r = http().get(format!("{}/widget/?account=acme", ts.url)).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("SameSite=None; Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

/// Item 7: SVG is parsed whole with entities decoded; disguised script and external references
/// are refused, a plain SVG passes (and is served as opaque bytes, item 8).
#[tokio::test]
async fn svg_is_parsed_whole() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let who = Who::visitor(&visitor);
    let svg = |body: &str| format!(r#"<svg xmlns="http://www.w3.org/2000/svg">{body}</svg>"#).into_bytes();
    let padding = format!("<!--{}-->", "x".repeat(9 * 1024));
    for bad in [
        r#"<a href="&#106;avascript:alert(1)"><text>x</text></a>"#.to_owned(),
        r#"<a href="java&#x09;script:alert(1)"><text>x</text></a>"#.to_owned(),
        format!("{padding}<script>alert(1)</script>"),
        format!(r#"{padding}<rect onload="alert(1)"/>"#),
        r#"<image href="https://tracker.example/p.png"/>"#.to_owned(),
    ] {
        let r = support::tus_send(&ts, &who, &contact.id, "logo.svg", Some("image/svg+xml"), &svg(&bad)).await;
        assert_eq!(error_of(r).await.1, "unsafe-svg", "{bad}");
    }
    let mut events = alice.events().await.unwrap();
    let r = support::tus_send(
        &ts,
        &who,
        &contact.id,
        "ok.svg",
        Some("image/svg+xml"),
        &svg(r#"<rect width="1" height="1"/>"#),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    let m = support::ready(&mut events).await;
    let a = m.attachment.unwrap();
    assert_eq!(a.media_type, "image/svg+xml");
    let r = http().get(format!("{}{}", ts.url, a.url)).bearer_auth(alice.token()).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
}

/// Item 8: a sender's declared type is served only when it is on the inert allow list.
#[tokio::test]
async fn unrecognised_bytes_are_served_as_octet_stream() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let who = Who::visitor(&visitor);
    let mut events = alice.events().await.unwrap();
    let bytes = support::noise(4096, 7);
    let r = support::tus_send(&ts, &who, &contact.id, "feed.rss", Some("application/rss+xml"), &bytes).await;
    assert!(r.status().is_success(), "{}", r.status());
    let a = support::ready(&mut events).await.attachment.unwrap();
    let r = http().get(format!("{}{}", ts.url, a.url)).bearer_auth(alice.token()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
}

/// Item 9: an expired report is gone on every read, before any sweep runs.
#[tokio::test]
async fn an_expired_transcript_is_gone_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.retention_interval = std::time::Duration::from_secs(3600);
    let ts = TestServer::start_with(dir, config).await;
    let ada = ts.login("ada").await;
    ada.update_account(&AccountPatch { report_retention_days: Some(0), ..Default::default() }).await.unwrap();
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    alice.close(&contact.id).await.unwrap();
    let e = ada.report_contact(&contact.id).await.unwrap_err();
    assert_eq!((e.status(), e.code().as_str()), (Some(410), "report-expired"));
    assert_eq!(ada.messages(&contact.id).await.unwrap_err().status(), Some(410));
    assert_eq!(visitor.messages(&contact.id).await.unwrap_err().status(), Some(410));
    assert!(ada.report_contacts(&ReportFilter::default()).await.unwrap().is_empty());
}

/// Item 10: bidi controls are refused in every text a person reads; `Upload-Metadata` is
/// bounded; admins do not take contacts.
#[tokio::test]
async fn smaller_defences() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let e = visitor.send_message(&contact.id, "pay to \u{202e}gnp.exe").await.unwrap_err();
    assert_eq!(e.status(), Some(422));
    let e = alice.send_message(&contact.id, "see \u{2067}isolate").await.unwrap_err();
    assert_eq!(e.status(), Some(422));
    let named = VisitorClient::new(&ts.url).unwrap();
    let open = OpenContact { account: "acme".into(), name: Some("Eve\u{202e}".into()), message: None };
    assert_eq!(named.open_contact(&open).await.unwrap_err().status(), Some(422));
    let who = Who::visitor(&visitor);
    let r = support::tus_create(
        &ts,
        &who,
        "5",
        &[("contact", contact.id.as_str()), ("filename", "a.txt"), ("description", "x\u{202e}y")],
    )
    .await;
    assert_eq!(error_of(r).await.0, 422);
    let big = "d".repeat(240 * 1024);
    let r = support::tus_create(
        &ts,
        &who,
        "5",
        &[("contact", contact.id.as_str()), ("filename", "a.txt"), ("description", &big)],
    )
    .await;
    assert_eq!(error_of(r).await.1, "metadata-too-large");
    // Admins do not take chats; supervisors do.
    let queued = VisitorClient::new(&ts.url)
        .unwrap()
        .open_contact(&OpenContact { account: "acme".into(), name: None, message: None })
        .await
        .unwrap();
    let e = ts.login("ada").await.accept(&queued.id).await.unwrap_err();
    assert_eq!((e.status(), e.code().as_str()), (Some(403), "agents-only"));
    assert_eq!(ts.login("sam").await.accept(&queued.id).await.unwrap().state, ContactState::Active);
}

/// The new error codes are in the OpenAPI document.
#[tokio::test]
async fn new_error_codes_are_documented() {
    let ts = TestServer::start().await;
    let doc = http().get(format!("{}/api/openapi.json", ts.url)).send().await.unwrap().text().await.unwrap();
    for code in [
        "too-many-attempts",
        "Retry-After",
        "origin-not-allowed",
        "expected-json",
        "metadata-too-large",
        "agents-only",
        "report-expired",
        "1009",
    ] {
        assert!(doc.contains(code), "{code} is documented");
    }
}

/// Item 1, migration: visitors from before account scoping (their id was the cookie) are
/// re-keyed at start-up; the old cookie still opens its contacts, staff no longer see it.
#[tokio::test]
async fn legacy_cookies_keep_working_and_stop_leaking() {
    let mut ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let old_cookie = "0123456789abcdef0123456789abcdef";
    {
        // Make the contact look as it did before the migration: visitor id = cookie value.
        let db = &ts.server().state().db;
        sqlx::query("INSERT INTO visitors (id, created_at, last_seen_at) VALUES ($1, 0, 0)")
            .bind(old_cookie)
            .execute(db)
            .await
            .unwrap();
        sqlx::query("UPDATE contacts SET visitor_id = $1 WHERE id = $2")
            .bind(old_cookie)
            .bind(contact.id.as_str())
            .execute(db)
            .await
            .unwrap();
    }
    drop(visitor);
    ts.restart().await;
    let alice = ts.login("alice").await;
    let seen = alice.contacts(None).await.unwrap();
    let c = seen.iter().find(|c| c.id == contact.id).unwrap();
    assert_ne!(c.visitor.as_str(), old_cookie, "staff see a fresh public id");
    let legacy = VisitorClient::with_vvcu(&ts.url, old_cookie).unwrap();
    assert_eq!(legacy.contact(&contact.id).await.unwrap().id, contact.id, "the old cookie still works");
    legacy.send_message(&contact.id, "still me").await.unwrap();
}
