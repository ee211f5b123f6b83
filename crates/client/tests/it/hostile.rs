//! The hostile-input suite: a few hundred requests that must all be refused with a 4xx (or a
//! socket closed with 1009), never accepted, never a 5xx, and leaving nothing behind on disk.
//! Classes: forged tokens and cookies, cookie replay, cross-role and cross-account access, tus
//! abuse, disguised files and SVG, foreign origins, text with bidi controls, oversized frames,
//! expired reports. Prints `N tried, 0 accepted, 0 5xx, 0 leftovers`.

use crate::{common, support};

use attache_client::*;
use common::{other_account, TestServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{
    active_contact, b64, files_on_disk, http, noise, png, script_page, tus_create, tus_patch, tus_send, windows_exe,
    Who,
};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

/// What the suite saw.
#[derive(Default)]
struct Tally {
    tried: usize,
    accepted: Vec<String>,
    server_errors: Vec<String>,
}

impl Tally {
    /// One hostile request answered with `status`: a 4xx is a refusal.
    fn saw(&mut self, label: &str, status: u16) {
        self.tried += 1;
        if status >= 500 {
            self.server_errors.push(format!("{label}: {status}"));
        } else if status < 400 {
            self.accepted.push(format!("{label}: {status}"));
        }
    }
}

/// A raw request with optional JSON body and extra headers; returns the status.
async fn send(
    ts: &TestServer,
    method: &str,
    path: &str,
    who: &Who,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> u16 {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = who.apply(http().request(m, format!("{}{path}", ts.url)));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap().status().as_u16()
}

/// Opens a WebSocket; returns 101 when it opened, else the HTTP status.
async fn ws_open(url: &str, headers: &[(&'static str, String)]) -> (u16, Option<Socket>) {
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        if let Ok(v) = v.parse() {
            req.headers_mut().insert(*k, v);
        }
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => (101, Some(ws)),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => (resp.status().as_u16(), None),
        Err(e) => panic!("{url}: {e}"),
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends an oversized frame; 400 stands for "closed with 1009", 200 for anything echoed back.
async fn oversized(mut ws: Socket, size: usize) -> u16 {
    let _ = ws.send(Ws::Text("x".repeat(size).into())).await;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Ws::Close(Some(f))))) if u16::from(f.code) == 1009 => return 400,
            Ok(Some(Ok(Ws::Text(t)))) if t.len() >= size => return 200,
            Ok(Some(Ok(Ws::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return 499,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return 200,
        }
    }
}

#[tokio::test]
async fn hostile_inputs_are_all_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.embed_origins = vec!["https://shop.example".into()];
    let ts = TestServer::start_with(dir, config).await;
    let mut t = Tally::default();
    let alice = ts.login("alice").await;
    let bob = ts.login("bob").await;
    let gina = other_account(&ts).await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let cid = contact.id.as_str().to_owned();
    let vwho = Who::visitor(&visitor);
    let cookie = visitor.vvcu().unwrap();
    // One real file, for token forgery and cross-access.
    let mut events = alice.events().await.unwrap();
    let r = tus_send(&ts, &vwho, &contact.id, "real.png", Some("image/png"), &png(8, 8)).await;
    assert!(r.status().is_success());
    let real = support::ready(&mut events).await.attachment.unwrap();
    let (store_baseline, _) = files_on_disk(&ts);
    let stranger = VisitorClient::new(&ts.url).unwrap();
    stranger.open_contact(&OpenContact { account: "acme".into(), name: None, message: None }).await.unwrap();
    let swho = Who::visitor(&stranger);

    // ---- forged staff tokens ----------------------------------------------------------------
    let forged_tokens = [
        String::new(),
        "0".repeat(64),
        "f".repeat(64),
        "x".repeat(10_000),
        "' OR 1=1 --".into(),
        alice.token()[..63].to_owned(),
        format!("{}0", alice.token()),
        alice.token().to_uppercase(),
        support::sha256_hex(alice.token().as_bytes()),
        cookie.clone(),
    ];
    for tok in &forged_tokens {
        for path in ["/api/me", "/api/contacts", "/api/reports/contacts", "/api/users"] {
            t.saw(&format!("forged bearer {path}"), send(&ts, "GET", path, &Who::Bearer(tok.clone()), None, &[]).await);
        }
    }
    let ws_base = ts.url.replace("http", "ws");
    for tok in &forged_tokens[..5] {
        let (s, _) = ws_open(&format!("{ws_base}/api/events"), &[("authorization", format!("Bearer {tok}"))]).await;
        t.saw("forged bearer socket", s);
    }

    // ---- forged and replayed visitor cookies ------------------------------------------------
    let forged_cookies = [
        contact.visitor.to_string(),
        "0".repeat(32),
        "../../etc/passwd".into(),
        cookie.to_uppercase(),
        format!("{cookie}0"),
        cookie[..31].to_owned(),
        support::sha256_hex(cookie.as_bytes())[..32].to_owned(),
        "x".repeat(4000),
    ];
    for c in &forged_cookies {
        let who = Who::Vvcu(c.clone());
        for (m, path) in [
            ("GET", format!("/api/visitor/contacts/{cid}")),
            ("GET", format!("/api/visitor/contacts/{cid}/messages")),
            ("POST", format!("/api/visitor/contacts/{cid}/messages")),
            ("POST", format!("/api/visitor/contacts/{cid}/close")),
        ] {
            let body = (m == "POST").then(|| json!({"body": "hijack"}));
            t.saw(&format!("forged vvcu {m} {path}"), send(&ts, m, &path, &who, body, &[]).await);
        }
        let (s, _) = ws_open(&format!("{ws_base}/api/visitor/events"), &[("cookie", format!("vvcu={c}"))]).await;
        // A socket with a cookie that owns nothing opens but hears nothing; a bad one is refused.
        if s != 101 {
            t.saw("forged vvcu socket", s);
        }
    }

    // ---- forged consumer tokens -------------------------------------------------------------
    let consumer = format!("{ws_base}/ws_api/account/acme/messaging/consumer?v=3");
    for tok in
        ["ab".repeat(32), cookie.clone(), contact.visitor.to_string(), "z".repeat(64), String::new(), "'".repeat(64)]
    {
        let (s, _) = ws_open(&consumer, &[("authorization", format!("jwt {tok}"))]).await;
        t.saw("forged consumer token", s);
    }

    // ---- forged file tokens -----------------------------------------------------------------
    let token = real.url.split('/').nth(2).unwrap().to_owned();
    let mut forged_files = vec![
        format!("/files/{}/real.png", "0".repeat(96)),
        format!("/files/{}/real.png", &token[..95]),
        format!("/files/{token}0/real.png"),
        format!("/files/{}/real.png", token.to_uppercase()),
        format!("/files/{}/preview", "a".repeat(96)),
        "/files/../../etc/passwd".into(),
        "/files/%2e%2e/%2e%2e/etc/passwd".into(),
        format!("/files/{}{}/real.png", &token[..48], "0".repeat(48)),
        format!("/files/{}{}/real.png", "0".repeat(32), &token[32..]),
    ];
    for i in [0usize, 10, 47, 48, 60, 95] {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        forged_files.push(format!("/files/{}/real.png", String::from_utf8(bytes).unwrap()));
    }
    for path in &forged_files {
        t.saw(&format!("forged file {path}"), send(&ts, "GET", path, &Who::Nobody, None, &[]).await);
    }

    // ---- cross-role -------------------------------------------------------------------------
    let bw = Who::staff(&bob);
    let aw = Who::staff(&alice);
    for (m, path, body) in [
        ("GET", format!("/api/contacts/{cid}/messages"), None),
        ("POST", format!("/api/contacts/{cid}/messages"), Some(json!({"body": "not mine"}))),
        ("POST", format!("/api/contacts/{cid}/close"), None),
        ("GET", format!("/api/reports/contacts/{cid}"), None),
        ("GET", "/api/users".to_owned(), None),
        (
            "POST",
            "/api/users".to_owned(),
            Some(json!({"username": "mallory", "password": "12345678", "role": "admin"})),
        ),
        ("GET", "/api/account".to_owned(), None),
        ("PATCH", "/api/account".to_owned(), Some(json!({"max_upload_bytes": 31457280}))),
        ("PATCH", format!("/api/users/{}", alice.me().await.unwrap().user.id), Some(json!({"role": "admin"}))),
    ] {
        t.saw(&format!("agent bob {m} {path}"), send(&ts, m, &path, &bw, body.clone(), &[]).await);
    }
    for (m, path, body) in [
        ("GET", "/api/users".to_owned(), None),
        ("PATCH", "/api/account".to_owned(), Some(json!({"file_sharing_enabled": false}))),
        ("POST", "/api/users".to_owned(), Some(json!({"username": "m2", "password": "12345678", "role": "admin"}))),
    ] {
        t.saw(&format!("agent alice {m} {path}"), send(&ts, m, &path, &aw, body.clone(), &[]).await);
    }
    let ada = ts.login("ada").await;
    let queued = VisitorClient::new(&ts.url).unwrap();
    let q = queued.open_contact(&OpenContact { account: "acme".into(), name: None, message: None }).await.unwrap();
    t.saw(
        "admin accepts",
        send(&ts, "POST", &format!("/api/contacts/{}/accept", q.id), &Who::staff(&ada), None, &[]).await,
    );
    // Staff see only how many files wait in a queued contact: no file access by the stranger's
    // visitor either.
    t.saw(
        "stranger visitor reads file list",
        send(&ts, "GET", &format!("/api/visitor/contacts/{cid}/messages"), &swho, None, &[]).await,
    );

    // ---- cross-account ----------------------------------------------------------------------
    let gw = Who::staff(&gina);
    for (m, path, body) in [
        ("GET", format!("/api/contacts/{cid}/messages"), None),
        ("POST", format!("/api/contacts/{cid}/messages"), Some(json!({"body": "x"}))),
        ("POST", format!("/api/contacts/{cid}/accept"), None),
        ("POST", format!("/api/contacts/{cid}/close"), None),
        ("GET", format!("/api/reports/contacts/{cid}"), None),
        ("GET", real.url.clone(), None),
        ("GET", format!("/files/{token}/preview"), None),
        ("HEAD", real.url.clone(), None),
        ("PATCH", format!("/api/users/{}", alice.me().await.unwrap().user.id), Some(json!({"disabled": true}))),
    ] {
        t.saw(&format!("other account {m} {path}"), send(&ts, m, &path, &gw, body, &[]).await);
    }
    // The same browser in another account: its globex contact does not open acme's.
    let there =
        visitor.open_contact(&OpenContact { account: "globex".into(), name: None, message: None }).await.unwrap();
    for path in [format!("/api/contacts/{}/messages", there.id), format!("/api/reports/contacts/{}", there.id)] {
        t.saw("acme admin reads globex", send(&ts, "GET", &path, &Who::staff(&ada), None, &[]).await);
    }

    // ---- tus abuse --------------------------------------------------------------------------
    let meta = |name: &'static str| vec![("contact", cid.as_str()), ("filename", name)];
    for len in ["-1", "abc", "1e6", "", "99999999999999999999999", "18446744073709551615", "31457281", "0x10", "+5"] {
        let r = tus_create(&ts, &vwho, len, &meta("a.bin")).await;
        t.saw(&format!("tus length {len:?}"), r.status().as_u16());
    }
    let long_desc = "d".repeat(300 * 1024);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no contact", vec![("filename", "a.bin")]),
        ("bad contact", vec![("contact", "nope"), ("filename", "a.bin")]),
        ("unknown contact", vec![("contact", "0123456789abcdef0123456789abcdef"), ("filename", "a.bin")]),
        ("queued contact", vec![("contact", q.id.as_str()), ("filename", "a.bin")]),
        ("traversal", vec![("contact", &cid), ("filename", "../../etc/passwd")]),
        ("backslash", vec![("contact", &cid), ("filename", "..\\boot.ini")]),
        ("nul", vec![("contact", &cid), ("filename", "a\u{0}.png")]),
        ("newline", vec![("contact", &cid), ("filename", "a\n.png")]),
        ("bidi name", vec![("contact", &cid), ("filename", "x\u{202e}gnp.exe")]),
        ("bidi description", vec![("contact", &cid), ("filename", "a.txt"), ("description", "a\u{202e}b")]),
        ("isolate description", vec![("contact", &cid), ("filename", "a.txt"), ("description", "a\u{2066}b")]),
        ("huge description", vec![("contact", &cid), ("filename", "a.txt"), ("description", &long_desc)]),
        ("bad type", vec![("contact", &cid), ("filename", "a.txt"), ("filetype", "text/html\r\nX: y")]),
        ("empty name", vec![("contact", &cid), ("filename", "  ")]),
        ("dotdot", vec![("contact", &cid), ("filename", "..")]),
    ];
    for (label, m) in &cases {
        let r = tus_create(&ts, &vwho, "10", m).await;
        t.saw(&format!("tus create {label}"), r.status().as_u16());
    }
    for raw in ["contact !!notbase64", "contact", "contact ===", &format!("filename {}", b64("a.bin"))] {
        let r = vwho
            .apply(http().post(format!("{}/api/uploads", ts.url)))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", "10")
            .header("Upload-Metadata", raw)
            .send()
            .await
            .unwrap();
        t.saw("tus raw metadata", r.status().as_u16());
    }
    for (label, headers) in [
        ("no tus version", vec![("Upload-Length", "10")]),
        ("old tus version", vec![("Tus-Resumable", "0.2.0"), ("Upload-Length", "10")]),
        ("deferred length", vec![("Tus-Resumable", "1.0.0"), ("Upload-Defer-Length", "1")]),
    ] {
        let mut r = vwho.apply(http().post(format!("{}/api/uploads", ts.url)));
        for (k, v) in headers {
            r = r.header(k, v);
        }
        let r = r
            .header("Upload-Metadata", format!("contact {},filename {}", b64(&cid), b64("a.bin")))
            .send()
            .await
            .unwrap();
        t.saw(&format!("tus {label}"), r.status().as_u16());
    }
    // A real upload, then abuse of it.
    let r = tus_create(&ts, &vwho, "10", &meta("ten.bin")).await;
    assert_eq!(r.status(), 201);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    for (label, offset, body) in [
        ("offset ahead", 5u64, vec![1u8; 5]),
        ("past the end", 0, vec![1u8; 11]),
        ("offset far", 1 << 40, vec![1u8; 1]),
    ] {
        t.saw(&format!("tus patch {label}"), tus_patch(&ts, &vwho, &loc, offset, body, None).await.status().as_u16());
    }
    for checksum in ["md5 AAAA", "sha1 !!!", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="] {
        let r = tus_patch(&ts, &vwho, &loc, 0, vec![1u8; 10], Some(checksum.into())).await;
        t.saw(&format!("tus checksum {checksum}"), r.status().as_u16());
    }
    let r = vwho
        .apply(http().patch(format!("{}{loc}", ts.url)))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "text/plain")
        .body("0123456789")
        .send()
        .await
        .unwrap();
    t.saw("tus patch wrong content type", r.status().as_u16());
    for (label, who) in [("stranger", &swho), ("agent bob", &bw), ("other account", &gw), ("nobody", &Who::Nobody)] {
        t.saw(&format!("tus head by {label}"), send(&ts, "HEAD", &loc, who, None, &[("Tus-Resumable", "1.0.0")]).await);
        t.saw(
            &format!("tus patch by {label}"),
            tus_patch(&ts, who, &loc, 0, vec![1u8; 10], None).await.status().as_u16(),
        );
        t.saw(
            &format!("tus delete by {label}"),
            send(&ts, "DELETE", &loc, who, None, &[("Tus-Resumable", "1.0.0")]).await,
        );
        t.saw(&format!("tus status by {label}"), send(&ts, "GET", &loc, who, None, &[]).await);
    }
    assert_eq!(send(&ts, "DELETE", &loc, &vwho, None, &[("Tus-Resumable", "1.0.0")]).await, 204, "the owner cleans up");

    // ---- disguised files and SVG ------------------------------------------------------------
    let (html, exe) = (script_page(), windows_exe());
    let svg = |body: &str| {
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{body}</svg>"#)
            .into_bytes()
    };
    let pad = format!("<!--{}-->", "p".repeat(9 * 1024));
    let mut disguised: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("cat.png", Some("image/png"), html.clone()),
        ("cat.png", None, html.clone()),
        ("cat.jpg", Some("image/jpeg"), html.clone()),
        ("cat.gif", None, exe.clone()),
        ("cat.png", Some("image/png"), exe.clone()),
        ("doc.pdf", Some("application/pdf"), exe.clone()),
        ("page.txt", Some("text/plain"), html.clone()),
        ("page.bin", Some("application/octet-stream"), html.clone()),
        ("broken.png", Some("image/png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRjunkjunk".to_vec()),
        ("noise.png", Some("image/png"), noise(2048, 1)),
        ("a.png", Some("image/png"), png(4, 4)[..40].to_vec()),
        ("photo.webp", Some("image/webp"), png(4, 4)),
    ];
    for body in [
        r#"<script>alert(1)</script>"#.to_owned(),
        r#"<a href="&#106;avascript:alert(1)"><text>x</text></a>"#.to_owned(),
        r#"<a href="java&#x09;script:alert(1)"><text>x</text></a>"#.to_owned(),
        r#"<a xlink:href="JaVaScRiPt:alert(1)"><text>x</text></a>"#.to_owned(),
        r#"<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)"><text>x</text></a>"#
            .to_owned(),
        format!("{pad}<script>alert(1)</script>"),
        format!(r#"{pad}<rect onload="alert(1)"/>"#),
        r#"<rect onclick="x()"/>"#.to_owned(),
        r#"<rect OnMouseOver="x()"/>"#.to_owned(),
        r#"<image href="https://tracker.example/p.png"/>"#.to_owned(),
        r##"<use href="https://evil.example/s.svg#x"/>"##.to_owned(),
        r#"<style>@import url(https://evil.example/x.css);</style>"#.to_owned(),
        r#"<style>rect{fill:url(https://evil.example/x)}</style>"#.to_owned(),
        r#"<rect style="fill:url(https://evil.example/x)"/>"#.to_owned(),
        r#"<set attributeName="href" to="javascript:alert(1)"/>"#.to_owned(),
        r#"<animate attributeName="href" values="javascript:alert(1)"/>"#.to_owned(),
        r#"<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>"#.to_owned(),
        r#"<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>"#.to_owned(),
        r#"<iframe src="https://evil.example"/>"#.to_owned(),
        r#"<rect"#.to_owned(),
        r#"<text>&custom;</text>"#.to_owned(),
    ] {
        disguised.push(("logo.svg", Some("image/svg+xml"), svg(&body)));
    }
    disguised.push((
        "entity.svg",
        Some("image/svg+xml"),
        br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "javascript:">]><svg xmlns="http://www.w3.org/2000/svg"/>"#
            .to_vec(),
    ));
    disguised.push((
        "pi.svg",
        Some("image/svg+xml"),
        br#"<?xml-stylesheet href="https://evil.example/x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>"#.to_vec(),
    ));
    for (name, ty, bytes) in disguised {
        let r = tus_send(&ts, &vwho, &contact.id, name, ty, &bytes).await;
        t.saw(&format!("disguised {name} ({ty:?})"), r.status().as_u16());
    }

    // ---- foreign origins and non-JSON changes on cookie requests ----------------------------
    let evil = "http://evil.example";
    for (m, path, body) in [
        ("POST", "/api/account/acme/signup".to_owned(), None),
        ("POST", format!("/api/visitor/contacts/{cid}/close"), Some(json!({}))),
        ("POST", format!("/api/visitor/contacts/{cid}/messages"), Some(json!({"body": "csrf"}))),
        ("POST", "/api/visitor/contacts".to_owned(), Some(json!({"account": "acme"}))),
    ] {
        t.saw(&format!("foreign origin {path}"), send(&ts, m, &path, &vwho, body, &[("origin", evil)]).await);
        t.saw(&format!("null origin {path}"), send(&ts, m, &path, &vwho, None, &[("origin", "null")]).await);
    }
    for ct in ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"] {
        let r = vwho
            .apply(http().post(format!("{}/api/visitor/contacts/{cid}/close", ts.url)))
            .header("content-type", ct)
            .body("a=1")
            .send()
            .await
            .unwrap();
        t.saw(&format!("close as {ct}"), r.status().as_u16());
    }
    let r = vwho
        .apply(http().post(format!("{}/api/uploads", ts.url)))
        .header("origin", evil)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .header("Upload-Metadata", format!("contact {},filename {}", b64(&cid), b64("a.bin")))
        .send()
        .await
        .unwrap();
    t.saw("tus create from a foreign origin", r.status().as_u16());
    for origin in [evil, "null", "http://127.0.0.1.evil.example", "https://shop.example.evil"] {
        let h = [("cookie", format!("vvcu={cookie}")), ("origin", origin.to_owned())];
        t.saw(&format!("visitor socket from {origin}"), ws_open(&format!("{ws_base}/api/visitor/events"), &h).await.0);
        t.saw(&format!("consumer socket from {origin}"), ws_open(&consumer, &h).await.0);
    }

    // ---- text people read -------------------------------------------------------------------
    for text in
        ["\u{202e}gnp.exe", "a\u{200f}b", "a\u{2066}b\u{2069}", "bell\u{7}", "nul\u{0}", "", "   ", &"m".repeat(10_001)]
    {
        let r = send(
            &ts,
            "POST",
            &format!("/api/visitor/contacts/{cid}/messages"),
            &vwho,
            Some(json!({"body": text})),
            &[],
        )
        .await;
        t.saw("visitor message", r);
        let r =
            send(&ts, "POST", &format!("/api/contacts/{cid}/messages"), &aw, Some(json!({"body": text})), &[]).await;
        t.saw("agent message", r);
    }
    for name in ["Eve\u{202e}", "a\u{0}b", &"n".repeat(101)] {
        let r = send(
            &ts,
            "POST",
            "/api/visitor/contacts",
            &Who::Nobody,
            Some(json!({"account": "acme", "name": name})),
            &[],
        )
        .await;
        t.saw("customer name", r);
    }

    // ---- oversized frames -------------------------------------------------------------------
    let r = http().post(format!("{}/api/account/acme/signup", ts.url)).send().await.unwrap();
    let jwt = r.json::<Value>().await.unwrap()["jwt"].as_str().unwrap().to_owned();
    for size in [65 * 1024, 1 << 20, 8 << 20] {
        let (_, ws) = ws_open(&consumer, &[("authorization", format!("jwt {jwt}"))]).await;
        t.saw(&format!("consumer frame {size}"), oversized(ws.unwrap(), size).await);
    }
    for size in [5 * 1024, 1 << 20] {
        let (_, ws) =
            ws_open(&format!("{ws_base}/api/events"), &[("authorization", format!("Bearer {}", alice.token()))]).await;
        t.saw(&format!("staff frame {size}"), oversized(ws.unwrap(), size).await);
        let (_, ws) = ws_open(&format!("{ws_base}/api/visitor/events"), &[("cookie", format!("vvcu={cookie}"))]).await;
        t.saw(&format!("visitor frame {size}"), oversized(ws.unwrap(), size).await);
    }

    // ---- sign-in throttling -----------------------------------------------------------------
    for _ in 0..8 {
        let body = json!({"account": "acme", "username": "rita", "password": "guess"});
        t.saw("wrong password", send(&ts, "POST", "/api/login", &Who::Nobody, Some(body), &[]).await);
    }

    // ---- an expired report --------------------------------------------------------------------
    alice.close(&contact.id).await.unwrap();
    ada.update_account(&AccountPatch { report_retention_days: Some(0), ..Default::default() }).await.unwrap();
    let (v2, c2) = active_contact(&ts, &alice).await;
    alice.close(&c2.id).await.unwrap();
    let w2 = Who::visitor(&v2);
    for (who, path) in [
        (&Who::staff(&ada), format!("/api/reports/contacts/{}", c2.id)),
        (&Who::staff(&ada), format!("/api/contacts/{}/messages", c2.id)),
        (&w2, format!("/api/visitor/contacts/{}", c2.id)),
        (&w2, format!("/api/visitor/contacts/{}/messages", c2.id)),
    ] {
        t.saw(&format!("expired {path}"), send(&ts, "GET", &path, who, None, &[]).await);
    }

    // ---- leftovers --------------------------------------------------------------------------
    let (store, staging) = files_on_disk(&ts);
    let leftovers = store.saturating_sub(store_baseline) + staging;
    println!(
        "{} tried, {} accepted, {} 5xx, {} leftovers",
        t.tried,
        t.accepted.len(),
        t.server_errors.len(),
        leftovers
    );
    assert!(t.tried >= 200, "only {} cases", t.tried);
    assert!(t.accepted.is_empty(), "accepted: {:#?}", t.accepted);
    assert!(t.server_errors.is_empty(), "5xx: {:#?}", t.server_errors);
    assert_eq!(leftovers, 0, "files left on disk: store {store} (baseline {store_baseline}), staging {staging}");
}
