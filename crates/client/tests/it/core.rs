//! The service core end to end through the SDK: sign-in, roles, the contact lifecycle with live
//! events on both sockets, the visitor cookie, reports, retention and bad input.

use crate::common;

use attache_client::*;
use common::{next, silent, TestServer, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

fn api_code(e: &ClientError) -> (u16, &str) {
    (e.status().unwrap_or(0), e.code().as_str())
}

async fn open(ts: &TestServer, name: &str, first: &str) -> (VisitorClient, Contact) {
    let visitor = VisitorClient::new(&ts.url).unwrap();
    let contact = visitor
        .open_contact(&OpenContact { account: "acme".into(), name: Some(name.into()), message: Some(first.into()) })
        .await
        .unwrap();
    (visitor, contact)
}

#[tokio::test]
async fn login_good_bad_and_logout() {
    let ts = TestServer::start().await;
    let (alice, resp) = StaffClient::login(&ts.url, "acme", "alice", PASSWORD).await.unwrap();
    assert_eq!(resp.user.username, "alice");
    assert_eq!(resp.user.role, Role::Agent);
    assert_eq!(resp.account.name, "acme");
    assert_eq!(resp.account.plan.max_upload_bytes, 5 * 1024 * 1024);
    assert_eq!(alice.me().await.unwrap().user.display_name, "Alice Agent");

    for (account, user, pw) in
        [("acme", "alice", "wrong-password"), ("acme", "nobody", PASSWORD), ("other", "alice", PASSWORD)]
    {
        let e = StaffClient::login(&ts.url, account, user, pw).await.unwrap_err();
        assert_eq!(api_code(&e), (401, "bad-credentials"), "{account}/{user}");
        assert!(e.to_string().contains("wrong"), "the message says what is wrong: {e}");
    }

    let mut live = alice.events().await.unwrap();
    alice.logout().await.unwrap();
    common::closed(&mut live).await;
    let e = alice.me().await.unwrap_err();
    assert_eq!(api_code(&e), (401, "session-expired"));

    let raw = reqwest::get(format!("{}/api/me", ts.url)).await.unwrap();
    assert_eq!(raw.status(), StatusCode::UNAUTHORIZED);
    let body: ApiError = raw.json().await.unwrap();
    assert_eq!(body.error.as_str(), "unauthorized");

    let e = StaffClient::login("http://127.0.0.1:9", "acme", "alice", PASSWORD).await.unwrap_err();
    assert_eq!(e.code().as_str(), "unreachable");
}

#[tokio::test]
async fn contact_lifecycle_with_events_on_both_sockets() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let bob = ts.login("bob").await;
    let mut alice_events = alice.events().await.unwrap();
    let mut bob_events = bob.events().await.unwrap();

    let (visitor, contact) = open(&ts, "Carla", "Hello, my parcel is late").await;
    assert_eq!(contact.state, ContactState::Queued);
    assert_eq!(contact.customer_name, "Carla");
    let mut visitor_events = visitor.events().await.unwrap();

    for events in [&mut alice_events, &mut bob_events] {
        match next(events).await {
            Event::ContactQueued { contact: c } => assert_eq!(c.id, contact.id),
            other => panic!("expected contact_queued, got {other:?}"),
        }
    }
    let queue = alice.contacts(Some(ContactState::Queued)).await.unwrap();
    assert_eq!(queue.iter().map(|c| &c.id).collect::<Vec<_>>(), vec![&contact.id]);

    let accepted = alice.accept(&contact.id).await.unwrap();
    assert_eq!(accepted.state, ContactState::Active);
    assert_eq!(accepted.agent_name.as_deref(), Some("Alice Agent"));
    let e = bob.accept(&contact.id).await.unwrap_err();
    assert_eq!(api_code(&e), (409, "contact-not-queued"));
    for events in [&mut alice_events, &mut bob_events, &mut visitor_events] {
        match next(events).await {
            Event::ContactAccepted { contact: c } => assert_eq!(c.agent_id, accepted.agent_id),
            other => panic!("expected contact_accepted, got {other:?}"),
        }
    }

    // Customer -> agent: alice and the visitor hear it, bob does not.
    visitor.send_message(&contact.id, "Order 1234").await.unwrap();
    for events in [&mut alice_events, &mut visitor_events] {
        match next(events).await {
            Event::MessageCreated { message } => {
                assert_eq!(message.body, "Order 1234");
                assert_eq!(message.sender, Sender::Customer);
                assert_eq!(message.sender_name, "Carla");
            }
            other => panic!("expected message_created, got {other:?}"),
        }
    }
    // Agent -> customer.
    alice.send_message(&contact.id, "Let me check that for you").await.unwrap();
    match next(&mut visitor_events).await {
        Event::MessageCreated { message } => {
            assert_eq!(message.sender, Sender::Agent);
            assert_eq!(message.sender_name, "Alice Agent");
        }
        other => panic!("expected message_created, got {other:?}"),
    }
    silent(&mut bob_events).await;
    let e = bob.send_message(&contact.id, "hi").await.unwrap_err();
    assert_eq!(api_code(&e), (403, "not-your-contact"));

    let transcript = visitor.messages(&contact.id).await.unwrap();
    let bodies: Vec<_> = transcript.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["Hello, my parcel is late", "Order 1234", "Let me check that for you"]);
    assert_eq!(alice.messages(&contact.id).await.unwrap(), transcript);

    let closed = alice.close(&contact.id).await.unwrap();
    assert_eq!(closed.state, ContactState::Closed);
    assert_eq!(closed.closed_by, Some(Sender::Agent));
    let expires = closed.report_expires_at.unwrap() - closed.closed_at.unwrap();
    assert_eq!(expires.num_days(), 90);
    match next(&mut visitor_events).await {
        Event::ContactClosed { contact: c } => assert_eq!(c.state, ContactState::Closed),
        other => panic!("expected contact_closed, got {other:?}"),
    }
    match next(&mut bob_events).await {
        Event::ContactClosed { .. } => {}
        other => panic!("bob heard {other:?} before the close"),
    }
    let e = visitor.send_message(&contact.id, "still there?").await.unwrap_err();
    assert_eq!(api_code(&e), (409, "contact-not-active"));
    let e = alice.send_message(&contact.id, "bye").await.unwrap_err();
    assert_eq!(api_code(&e), (409, "contact-not-active"));
    assert_eq!(visitor.contact(&contact.id).await.unwrap().state, ContactState::Closed);
}

#[tokio::test]
async fn customer_can_leave_and_close() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let mut alice_events = alice.events().await.unwrap();
    let (visitor, contact) = open(&ts, "", "").await;
    assert_eq!(contact.customer_name, "Customer");
    assert!(matches!(next(&mut alice_events).await, Event::ContactQueued { .. }));
    let closed = visitor.close(&contact.id).await.unwrap();
    assert_eq!(closed.closed_by, Some(Sender::Customer));
    assert!(matches!(next(&mut alice_events).await, Event::ContactClosed { .. }));
    assert!(alice.contacts(None).await.unwrap().is_empty(), "a closed contact leaves the queue");
    let e = alice.accept(&contact.id).await.unwrap_err();
    assert_eq!(api_code(&e), (409, "contact-not-queued"));
    assert_eq!(api_code(&visitor.close(&contact.id).await.unwrap_err()), (409, "contact-closed"));
    assert!(visitor.messages(&contact.id).await.unwrap().is_empty());
}

/// Sets up: c1 accepted by alice, c2 by bob, c3 queued.
async fn three_contacts(ts: &TestServer) -> (StaffClient, StaffClient, [Contact; 3]) {
    let alice = ts.login("alice").await;
    let bob = ts.login("bob").await;
    let (_, c1) = open(ts, "One", "first").await;
    let (_, c2) = open(ts, "Two", "second").await;
    let (_, c3) = open(ts, "Three", "third").await;
    alice.accept(&c1.id).await.unwrap();
    bob.accept(&c2.id).await.unwrap();
    (alice, bob, [c1, c2, c3])
}

fn ids(list: &[Contact]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|c| c.customer_name.clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn each_role_sees_its_own_queue() {
    let ts = TestServer::start().await;
    let (alice, bob, _) = three_contacts(&ts).await;
    let sam = ts.login("sam").await;
    let ada = ts.login("ada").await;
    let rita = ts.login("rita").await;
    assert_eq!(ids(&alice.contacts(None).await.unwrap()), ["One", "Three"]);
    assert_eq!(ids(&bob.contacts(None).await.unwrap()), ["Three", "Two"]);
    assert_eq!(ids(&sam.contacts(None).await.unwrap()), ["One", "Three"], "sam oversees alice");
    assert_eq!(ids(&ada.contacts(None).await.unwrap()), ["One", "Three", "Two"]);
    assert_eq!(ids(&rita.contacts(None).await.unwrap()), ["Three"]);
    assert_eq!(ids(&ada.contacts(Some(ContactState::Active)).await.unwrap()), ["One", "Two"]);
    // The queue comes first, oldest first.
    assert_eq!(alice.contacts(None).await.unwrap()[0].state, ContactState::Queued);
}

#[tokio::test]
async fn reports_follow_the_access_rules() {
    let ts = TestServer::start().await;
    let (alice, bob, [c1, c2, c3]) = three_contacts(&ts).await;
    let sam = ts.login("sam").await;
    let ada = ts.login("ada").await;
    let rita = ts.login("rita").await;
    let all = ReportFilter::default();

    // While active, agents read their own contact.
    assert_eq!(alice.report_contact(&c1.id).await.unwrap().messages[0].body, "first");
    assert_eq!(ids(&alice.report_contacts(&all).await.unwrap()), ["One"]);
    assert_eq!(api_code(&alice.report_contact(&c2.id).await.unwrap_err()), (403, "no-report-access"));

    alice.send_message(&c1.id, "answer").await.unwrap();
    alice.close(&c1.id).await.unwrap();
    bob.close(&c2.id).await.unwrap();

    // Closed: the agent lost access; reports, admin and alice's supervisor have it.
    assert!(alice.report_contacts(&all).await.unwrap().is_empty());
    assert_eq!(api_code(&alice.report_contact(&c1.id).await.unwrap_err()), (403, "no-report-access"));
    assert_eq!(api_code(&alice.messages(&c1.id).await.unwrap_err()), (403, "no-report-access"));
    assert_eq!(ids(&rita.report_contacts(&all).await.unwrap()), ["One", "Three", "Two"]);
    assert_eq!(ids(&ada.report_contacts(&all).await.unwrap()), ["One", "Three", "Two"]);
    assert_eq!(ids(&sam.report_contacts(&all).await.unwrap()), ["One"]);
    let details = sam.report_contact(&c1.id).await.unwrap();
    assert_eq!(details.messages.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["first", "answer"]);
    assert_eq!(details.contact.agent_name.as_deref(), Some("Alice Agent"));
    assert_eq!(api_code(&sam.report_contact(&c2.id).await.unwrap_err()), (403, "no-report-access"));
    assert_eq!(api_code(&bob.report_contact(&c2.id).await.unwrap_err()), (403, "no-report-access"));
    assert_eq!(rita.report_contact(&c2.id).await.unwrap().messages[0].body, "second");
    assert_eq!(ada.report_contact(&c3.id).await.unwrap().contact.state, ContactState::Queued);

    // Filters: agent, state, time window.
    let by_bob = ReportFilter { agent: c2_agent(&rita, &c2).await, ..Default::default() };
    assert_eq!(ids(&rita.report_contacts(&by_bob).await.unwrap()), ["Two"]);
    let queued = ReportFilter { state: Some(ContactState::Queued), ..Default::default() };
    assert_eq!(ids(&rita.report_contacts(&queued).await.unwrap()), ["Three"]);
    let future = ReportFilter { from: Some(chrono::Utc::now() + chrono::Duration::hours(1)), ..Default::default() };
    assert!(rita.report_contacts(&future).await.unwrap().is_empty());
    let window = ReportFilter { from: Some(c1.created_at), to: Some(c3.created_at), ..Default::default() };
    assert_eq!(ids(&rita.report_contacts(&window).await.unwrap()), ["One", "Two"]);
    let backwards = ReportFilter { from: Some(c3.created_at), to: Some(c1.created_at), ..Default::default() };
    assert_eq!(api_code(&rita.report_contacts(&backwards).await.unwrap_err()).0, 422);
}

async fn c2_agent(client: &StaffClient, c2: &Contact) -> Option<UserId> {
    client.report_contact(&c2.id).await.unwrap().contact.agent_id
}

fn set_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("vvcu="))
        .expect("a vvcu cookie is set")
}

#[tokio::test]
async fn vvcu_cookie_is_set_and_renewed() {
    let ts = TestServer::start().await;
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/api/visitor/contacts", ts.url))
        .json(&json!({"account": "acme", "name": "Vera"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let cookie = set_cookie(&resp);
    let contact: Contact = resp.json().await.unwrap();
    let value = cookie.trim_start_matches("vvcu=").split(';').next().unwrap().to_owned();
    assert_eq!(value.len(), 32);
    assert_ne!(contact.visitor.as_str(), value, "staff-visible id is not the cookie");
    for attr in ["Max-Age=94608000", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} has {attr}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: not Secure");

    // A later visit renews the same cookie for another three years.
    let resp = http
        .get(format!("{}/api/visitor/contacts/{}", ts.url, contact.id))
        .header("cookie", format!("vvcu={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let renewed = set_cookie(&resp);
    assert!(renewed.starts_with(&format!("vvcu={value};")) && renewed.contains("Max-Age=94608000"));

    // Another browser does not see the contact; a forged cookie value is replaced.
    let resp = http
        .get(format!("{}/api/visitor/contacts/{}", ts.url, contact.id))
        .header("cookie", "vvcu=../../etc/passwd")
        .send()
        .await
        .unwrap();
    let fresh = set_cookie(&resp);
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(!fresh.contains("passwd") && !fresh.contains(&value));

    // The SDK's visitor keeps the cookie across calls and reuses it for its event socket.
    let visitor = VisitorClient::with_vvcu(&ts.url, &value).unwrap();
    assert_eq!(visitor.contact(&contact.id).await.unwrap().id, contact.id);
    assert_eq!(visitor.vvcu().as_deref(), Some(value.as_str()));
    let e = VisitorClient::new(&ts.url).unwrap().events().await.unwrap_err();
    assert_eq!(api_code(&e), (401, "no-visitor"));
}

#[tokio::test]
async fn retention_deletes_expired_reports() {
    let ts = TestServer::start().await;
    let ada = ts.login("ada").await;
    let alice = ts.login("alice").await;
    let (_, kept) = open(&ts, "Kept", "keep me").await;
    alice.accept(&kept.id).await.unwrap();
    alice.close(&kept.id).await.unwrap();

    ada.update_account(&AccountPatch { report_retention_days: Some(0), ..Default::default() }).await.unwrap();
    let (_, gone) = open(&ts, "Gone", "delete me").await;
    alice.accept(&gone.id).await.unwrap();
    alice.send_message(&gone.id, "reply").await.unwrap();
    alice.close(&gone.id).await.unwrap();

    let mut deleted = false;
    for _ in 0..50 {
        match ada.report_contact(&gone.id).await {
            Err(e) if e.status() == Some(404) => {
                deleted = true;
                break;
            }
            // Expired but not swept yet: already gone to readers (410), rows still there.
            Err(e) if e.status() == Some(410) => tokio::time::sleep(Duration::from_millis(100)).await,
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(deleted, "the expired contact is deleted by the retention job");
    let left: i64 = sqlx_count(&ts, &gone.id).await;
    assert_eq!(left, 0, "its messages went with it");
    assert_eq!(ada.report_contact(&kept.id).await.unwrap().messages.len(), 1, "a live report stays");
    assert_eq!(ids(&ada.report_contacts(&ReportFilter::default()).await.unwrap()), ["Kept"]);
}

async fn sqlx_count(ts: &TestServer, contact: &ContactId) -> i64 {
    // Reads the database the service uses, to prove the rows are gone, not just hidden.
    let db = &ts.server().state().db;
    let messages = attache_server::repo::contact::messages(db, contact).await.unwrap();
    let row = attache_server::repo::contact::get(db, contact).await.unwrap();
    messages.len() as i64 + i64::from(row.is_some())
}

#[tokio::test]
async fn bad_requests_get_clear_client_errors() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", ts.url);

    let r =
        http.post(url("/api/login")).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<ApiError>().await.unwrap().error.as_str(), "malformed-json");
    let r = http.post(url("/api/login")).json(&json!({"account": 1})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = http.post(url("/api/login")).body("account=acme").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http.get(url("/api/contacts?state=sleeping")).bearer_auth(alice.token()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<ApiError>().await.unwrap().error.as_str(), "bad-query");
    let r = http.get(url("/api/reports/contacts?from=yesterday")).bearer_auth(alice.token()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http.get(url("/api/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<ApiError>().await.unwrap().error.as_str(), "not-found");
    let r = http.get(url("/api/events")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http.get(url("/api/events")).bearer_auth(alice.token()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a plain GET on the socket asks for an upgrade");
    let r = http.post(url("/api/contacts/x/accept")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http.get(url("/api/me")).bearer_auth("forged").send().await.unwrap();
    assert_eq!(r.json::<ApiError>().await.unwrap().error.as_str(), "session-expired");

    // Unknown and malformed ids.
    let unknown = ContactId("0123456789abcdef0123456789abcdef".into());
    assert_eq!(api_code(&alice.accept(&unknown).await.unwrap_err()), (404, "not-found"));
    assert_eq!(api_code(&alice.accept(&ContactId("..%2F..".into())).await.unwrap_err()).0, 404);
    assert_eq!(api_code(&alice.report_contact(&unknown).await.unwrap_err()).0, 404);
    let v = VisitorClient::new(&ts.url).unwrap();
    assert_eq!(api_code(&v.messages(&unknown).await.unwrap_err()).0, 404);
    let e = v.open_contact(&OpenContact { account: "nope".into(), name: None, message: None }).await.unwrap_err();
    assert_eq!(api_code(&e), (404, "not-found"));

    // Message bodies.
    let (visitor, c) = open(&ts, "Eve", "hi").await;
    alice.accept(&c.id).await.unwrap();
    assert_eq!(api_code(&alice.send_message(&c.id, "   ").await.unwrap_err()), (422, "invalid-request"));
    let long = "x".repeat(MAX_MESSAGE_CHARS + 1);
    assert_eq!(api_code(&visitor.send_message(&c.id, &long).await.unwrap_err()).0, 422);
    assert_eq!(api_code(&visitor.send_message(&c.id, "bell\u{7}").await.unwrap_err()).0, 422);
    let e = v.open_contact(&OpenContact { account: "acme".into(), name: Some("n".repeat(101)), message: None }).await;
    assert_eq!(api_code(&e.unwrap_err()).0, 422);

    // Plan limits and admin-only changes.
    let ada = ts.login("ada").await;
    let over = AccountPatch { max_upload_bytes: Some(MAX_PLAN_UPLOAD_BYTES + 1), ..Default::default() };
    let e = ada.update_account(&over).await.unwrap_err();
    assert_eq!(api_code(&e), (422, "invalid-plan"));
    assert!(e.to_string().contains("30 MiB"));
    let raised = ada
        .update_account(&AccountPatch { max_upload_bytes: Some(MAX_PLAN_UPLOAD_BYTES), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(raised.plan.max_upload_bytes, 30 * 1024 * 1024);
    assert_eq!(api_code(&alice.update_account(&AccountPatch::default()).await.unwrap_err()), (403, "admin-only"));
    assert_eq!(api_code(&alice.users().await.unwrap_err()), (403, "admin-only"));
    let r =
        http.patch(url("/api/account")).bearer_auth(ada.token()).json(&json!({"max_upload": 1})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn another_accounts_ids_are_not_found() {
    let ts = TestServer::start().await;
    let gina = common::other_account(&ts).await;

    let (_, acme_contact) = open(&ts, "Acme customer", "hi").await;
    assert!(gina.contacts(None).await.unwrap().is_empty(), "acme's queue is not globex's");
    assert!(gina.report_contacts(&ReportFilter::default()).await.unwrap().is_empty());
    assert_eq!(api_code(&gina.report_contact(&acme_contact.id).await.unwrap_err()), (404, "not-found"));
    assert_eq!(api_code(&gina.accept(&acme_contact.id).await.unwrap_err()), (404, "not-found"));
    assert_eq!(api_code(&gina.close(&acme_contact.id).await.unwrap_err()), (404, "not-found"));
    assert_eq!(api_code(&gina.messages(&acme_contact.id).await.unwrap_err()), (404, "not-found"));
    let alice = ts.login("alice").await;
    let alice_id = alice.me().await.unwrap().user.id;
    let e = gina.update_user(&alice_id, &UserPatch { disabled: Some(true), ..Default::default() }).await.unwrap_err();
    assert_eq!(api_code(&e), (404, "not-found"));
    assert!(gina.users().await.unwrap().iter().all(|u| u.username == "gina"));
    let mut gina_events = gina.events().await.unwrap();
    open(&ts, "Another acme customer", "hi").await;
    silent(&mut gina_events).await;
}

#[tokio::test]
async fn admins_manage_users() {
    let ts = TestServer::start().await;
    let ada = ts.login("ada").await;
    let users = ada.users().await.unwrap();
    assert_eq!(users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["ada", "alice", "bob", "rita", "sam"]);
    let sam = users.iter().find(|u| u.username == "sam").unwrap();

    let new = NewUser {
        username: "carol".into(),
        password: "carol-password".into(),
        display_name: Some("Carol".into()),
        role: Role::Agent,
        reports: false,
        supervisor_id: Some(sam.id.clone()),
    };
    let carol = ada.create_user(&new).await.unwrap();
    assert_eq!(carol.supervisor_id.as_ref(), Some(&sam.id));
    assert_eq!(api_code(&ada.create_user(&new).await.unwrap_err()), (409, "username-taken"));
    let weak = NewUser { username: "dan".into(), password: "short".into(), ..new.clone() };
    assert_eq!(api_code(&ada.create_user(&weak).await.unwrap_err()), (422, "weak-password"));
    let bad_sup = NewUser { username: "dan".into(), supervisor_id: Some(carol.id.clone()), ..new.clone() };
    assert_eq!(api_code(&ada.create_user(&bad_sup).await.unwrap_err()).0, 422, "an agent cannot supervise");

    let (carol_client, _) = StaffClient::login(&ts.url, "acme", "carol", "carol-password").await.unwrap();
    let mut carol_live = carol_client.events().await.unwrap();
    // A new password signs carol out everywhere, her live stream too; the new one works.
    ada.update_user(&carol.id, &UserPatch { password: Some("new-carol-password".into()), ..Default::default() })
        .await
        .unwrap();
    common::closed(&mut carol_live).await;
    assert_eq!(api_code(&carol_client.me().await.unwrap_err()), (401, "session-expired"));
    let (carol_client, _) = StaffClient::login(&ts.url, "acme", "carol", "new-carol-password").await.unwrap();
    // Reports permission, then disabling.
    let updated = ada.update_user(&carol.id, &UserPatch { reports: Some(true), ..Default::default() }).await.unwrap();
    assert!(updated.reports);
    ada.update_user(&carol.id, &UserPatch { disabled: Some(true), ..Default::default() }).await.unwrap();
    assert_eq!(carol_client.me().await.unwrap_err().status(), Some(401));
    let e = StaffClient::login(&ts.url, "acme", "carol", "new-carol-password").await.unwrap_err();
    assert_eq!(api_code(&e), (403, "user-disabled"));
    let ada_id = ada.me().await.unwrap().user.id;
    let e = ada.update_user(&ada_id, &UserPatch { role: Some(Role::Agent), ..Default::default() }).await.unwrap_err();
    assert_eq!(api_code(&e), (409, "last-admin"));
}

#[tokio::test]
async fn openapi_document_names_every_route() {
    let ts = TestServer::start().await;
    let doc: serde_json::Value =
        reqwest::get(format!("{}/api/openapi.json", ts.url)).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/login",
        "/api/logout",
        "/api/me",
        "/api/account",
        "/api/users",
        "/api/users/{id}",
        "/api/visitor/contacts",
        "/api/visitor/contacts/{id}",
        "/api/visitor/contacts/{id}/messages",
        "/api/visitor/contacts/{id}/close",
        "/api/contacts",
        "/api/contacts/{id}/accept",
        "/api/contacts/{id}/close",
        "/api/contacts/{id}/messages",
        "/api/reports/contacts",
        "/api/reports/contacts/{id}",
        "/api/events",
        "/api/visitor/events",
        "/api/openapi.json",
        "/api/uploads",
        "/api/uploads/{id}",
        "/files/{token}/{name}",
        "/widget/",
        "/healthz",
        "/ws_api/account/{account}/messaging/consumer",
        "/v1/{container}/{account}/{file}",
        "/api/account/{account}/signup",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    assert!(doc["components"]["schemas"]["Contact"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn data_survives_a_restart() {
    let mut ts = TestServer::start().await;
    let (visitor, c) = open(&ts, "Persistent", "still here?").await;
    let vvcu = visitor.vvcu().unwrap();
    ts.restart().await;
    let alice = ts.login("alice").await;
    assert_eq!(ids(&alice.contacts(Some(ContactState::Queued)).await.unwrap()), ["Persistent"]);
    let visitor = VisitorClient::with_vvcu(&ts.url, &vvcu).unwrap();
    assert_eq!(visitor.messages(&c.id).await.unwrap()[0].body, "still here?");
}
