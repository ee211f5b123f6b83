//! The LivePerson-style consumer API end to end: signup, the messaging WebSocket, temporary
//! signed upload and download URLs, publishing a `hosted/file`, and the agent's side of it.

use crate::{common, support};

use attache_client::*;
use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use support::png;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Ws;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Consumer {
    ws: Socket,
    next_id: u64,
    base: String,
    http: reqwest::Client,
}

impl Consumer {
    async fn signup(ts: &TestServer) -> Consumer {
        let http = reqwest::Client::new();
        let r = http.post(format!("{}/api/account/acme/signup", ts.url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let jwt = r.json::<Value>().await.unwrap()["jwt"].as_str().unwrap().to_owned();
        let url = format!("{}/ws_api/account/acme/messaging/consumer?v=3", ts.url.replace("http", "ws"));
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("jwt {jwt}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        Consumer { ws, next_id: 0, base: ts.url.clone(), http }
    }

    /// Sends a request and returns its response, keeping notifications for `notification`.
    async fn req(&mut self, ty: &str, body: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let frame = json!({"kind": "req", "id": id, "type": ty, "body": body});
        self.ws.send(Ws::Text(frame.to_string().into())).await.unwrap();
        loop {
            let v = self.frame().await;
            if v["kind"] == "resp" && v["reqId"] == id.as_str() {
                return v;
            }
        }
    }

    async fn frame(&mut self) -> Value {
        loop {
            let msg =
                tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await.expect("a frame").unwrap().unwrap();
            if let Ws::Text(t) = msg {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// The next notification of this type.
    async fn notification(&mut self, ty: &str) -> Value {
        loop {
            let v = self.frame().await;
            if v["kind"] == "notification" && v["type"] == ty {
                return v;
            }
        }
    }

    fn url(&self, generated: &Value) -> String {
        let b = &generated["body"];
        format!(
            "{}{}?temp_url_sig={}&temp_url_expires={}",
            self.base,
            b["relativePath"].as_str().unwrap(),
            b["queryParams"]["temp_url_sig"].as_str().unwrap(),
            b["queryParams"]["temp_url_expires"].as_str().unwrap()
        )
    }

    /// `ms.GenerateURLForUploadFile` then the PUT: the relative path of the stored file.
    async fn upload(&mut self, ty: &str, bytes: &[u8]) -> String {
        let up = self.req("ms.GenerateURLForUploadFile", json!({"fileSize": bytes.len(), "fileType": ty})).await;
        assert_eq!(up["code"], 200, "{up}");
        let r = self.http.put(self.url(&up)).body(bytes.to_vec()).send().await.unwrap();
        assert_eq!(r.status(), 201);
        up["body"]["relativePath"].as_str().unwrap().to_owned()
    }

    /// `ms.PublishEvent` of a `hosted/file`.
    async fn publish(&mut self, dialog: &ContactId, path: &str, ty: &str, preview: &str) -> Value {
        let event = json!({"type": "ContentEvent", "contentType": "hosted/file",
            "message": {"caption": "Hello Kitten", "relativePath": path, "fileType": ty, "preview": preview}});
        self.req("ms.PublishEvent", json!({"dialogId": dialog, "event": event})).await
    }

    async fn conversation(&mut self) -> ContactId {
        let conv = self.req("cm.ConsumerRequestConversation", json!({})).await;
        assert_eq!(conv["code"], 200, "{conv}");
        ContactId(conv["body"]["conversationId"].as_str().unwrap().to_owned())
    }
}

/// A refusal in LivePerson's shape: a `GenericResponse` with the status as `code`.
#[track_caller]
fn refused(frame: &Value, code: u16, error: &str) {
    assert_eq!(frame["kind"], "resp", "{frame}");
    assert_eq!(frame["type"], "GenericResponse", "{frame}");
    assert_eq!(frame["code"], code, "{frame}");
    assert_eq!(frame["body"]["error"], error, "{frame}");
    assert!(frame["body"]["msg"].as_str().is_some_and(|m| !m.is_empty()), "{frame}");
}

fn data_url(bytes: &[u8]) -> String {
    use base64::Engine;
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[tokio::test]
async fn a_consumer_shares_a_file_while_queued_and_the_agent_sees_it_on_accepting() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let mut alice_events = alice.events().await.unwrap();
    let mut consumer = Consumer::signup(&ts).await;

    let conv = consumer.req("cm.ConsumerRequestConversation", json!({})).await;
    assert_eq!(conv["code"], 200, "{conv}");
    assert_eq!(conv["type"], "cm.RequestConversationResponse");
    let conversation = ContactId(conv["body"]["conversationId"].as_str().unwrap().to_owned());
    assert!(matches!(common::next(&mut alice_events).await, Event::ContactQueued { .. }));

    // No agent yet: the file goes in at once, as the document's steps 3 to 7 do.
    let image = png(320, 200);
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": image.len(), "fileType": "PNG"})).await;
    assert_eq!(up["code"], 200, "{up}");
    assert_eq!(up["type"], "ms.BaseGenerateURLResponse");
    assert_eq!(up["reqId"], "2", "the id comes back as a string");
    let path = up["body"]["relativePath"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/v1/AUTH_attache/acme/") && path.ends_with(".PNG"), "{path}");
    let expires: i64 = up["body"]["queryParams"]["temp_url_expires"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now().timestamp();
    assert!((55..=61).contains(&left), "a minute to use it: {left}");
    let put_url = consumer.url(&up);
    let r = consumer.http.put(&put_url).body(image.clone()).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let again = consumer.http.put(&put_url).body(image.clone()).send().await.unwrap();
    assert_eq!(again.status(), 409, "a URL takes one file");

    let thumb = png(40, 30);
    let published = consumer.publish(&conversation, &path, "PNG", &data_url(&thumb)).await;
    assert_eq!(published["code"], 200, "{published}");
    assert_eq!(published["type"], "ms.PublishEventResponse");
    let note = consumer.notification("ms.MessagingEventNotification").await;
    let change = &note["body"]["changes"][0];
    assert_eq!(change["originatorMetadata"]["role"], "CONSUMER");
    assert_eq!(change["event"]["contentType"], "hosted/file");
    assert_eq!(change["event"]["message"]["caption"], "Hello Kitten");

    // The staff see how many files wait, never which: the queue entry again, with its count.
    match common::next(&mut alice_events).await {
        Event::ContactQueued { contact } => assert_eq!((contact.id.clone(), contact.files), (conversation.clone(), 1)),
        other => panic!("expected the queue entry with its count, got {other:?}"),
    }
    let queue = alice.contacts(Some(ContactState::Queued)).await.unwrap();
    assert_eq!(queue.iter().find(|c| c.id == conversation).map(|c| c.files), Some(1));
    let e = alice.messages(&conversation).await.unwrap_err();
    assert_eq!(e.status(), Some(403), "no names or bytes before accepting: {e}");

    // Downloads work while queued: for the path it uploaded to, and the path the note names.
    for p in [path.clone(), change["event"]["message"]["relativePath"].as_str().unwrap().to_owned()] {
        let down = consumer.req("ms.GenerateURLForDownloadFile", json!({"relativePath": p})).await;
        assert_eq!((down["code"].clone(), down["type"].clone()), (json!(200), json!("ms.BaseGenerateURLResponse")));
        let r = consumer.http.get(consumer.url(&down)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.bytes().await.unwrap().as_ref(), image.as_slice());
    }

    // Accepting: the card's transcript holds the file, checked and previewed like any other.
    let accepted = alice.accept(&conversation).await.unwrap();
    assert_eq!(accepted.files, 1);
    let open = consumer.notification("cm.ExConversationChangeNotification").await;
    assert_eq!(open["body"]["changes"][0]["result"]["conversationDetails"]["state"], "OPEN");
    let transcript = alice.messages(&conversation).await.unwrap();
    let a = transcript.iter().find_map(|m| m.attachment.clone()).expect("the queued file");
    assert_eq!(a.description.as_deref(), Some("Hello Kitten"));
    assert_eq!((a.media_type.as_str(), a.size), ("image/png", image.len() as u64));
    assert!(a.preview_url.is_some());
    let r = reqwest::Client::new().get(format!("{}{}", ts.url, a.url)).bearer_auth(alice.token()).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), image.as_slice());

    // Every download through a temporary URL is an access record, one per download: the
    // consumer it was given to, by the signed URL (beside the agent's own opening).
    let sam = ts.login("sam").await;
    let mut list = Vec::new();
    for _ in 0..50 {
        list = sam.access_records(&conversation, &AccessFilter::default()).await.unwrap();
        if list.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let by_consumer: Vec<_> = list.iter().filter(|r| r.who == AccessWho::Consumer).collect();
    assert_eq!(by_consumer.len(), 2, "one per temporary URL download: {list:#?}");
    for r in &by_consumer {
        assert_eq!(
            (r.grant, r.what, r.bytes, r.range),
            (AccessGrant::SignedUrl, AccessWhat::File, image.len() as u64, None)
        );
        assert_eq!(r.who_id.as_deref(), Some(accepted.visitor.as_str()), "the consumer's public id");
        assert_eq!((r.attachment_id.as_ref(), r.address.as_deref()), (Some(&a.id), Some("127.0.0.1")));
    }
    assert!(list.iter().any(|r| (r.who, r.grant) == (AccessWho::Staff, AccessGrant::Agent)), "{list:#?}");

    // Text both ways, and the agent's file arrives as hosted/file.
    alice.send_message(&conversation, "Cute kitten!").await.unwrap();
    let note = consumer.notification("ms.MessagingEventNotification").await;
    assert_eq!(note["body"]["changes"][0]["event"]["message"], "Cute kitten!");
    assert_eq!(note["body"]["changes"][0]["originatorMetadata"]["role"], "ASSIGNED_AGENT");
    let text = json!({"type": "ContentEvent", "contentType": "text/plain", "message": "Thanks"});
    let sent = consumer.req("ms.PublishEvent", json!({"dialogId": conversation, "event": text})).await;
    assert_eq!(sent["code"], 200, "{sent}");
    let transcript = alice.messages(&conversation).await.unwrap();
    assert_eq!(transcript.last().unwrap().body, "Thanks");

    // The customer ends it.
    let close = consumer
        .req(
            "cm.UpdateConversationField",
            json!({"conversationId": conversation,
            "conversationField": {"field": "ConversationStateField", "conversationState": "CLOSE"}}),
        )
        .await;
    assert_eq!(close["code"], 200, "{close}");
    assert_eq!(alice.report_contacts(&ReportFilter::default()).await.unwrap().len(), 0, "alice's access ended with it");
}

#[tokio::test]
async fn the_documents_limits_and_signatures_are_enforced() {
    let ts = TestServer::start().await;
    let mut consumer = Consumer::signup(&ts).await;
    let conversation = consumer.conversation().await;

    // Types: JPG, JPEG, PNG, GIF only (any case); an EXE is refused before a byte moves.
    for ty in ["EXE", "PDF", "TXT", "svg"] {
        let r = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 100, "fileType": ty})).await;
        refused(&r, 415, "type-not-allowed");
    }
    for ty in ["JPG", "jpeg", "PNG", "GIF"] {
        let r = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": "1000", "fileType": ty})).await;
        assert_eq!(r["code"], 200, "{ty}: {r}");
    }
    // 3 MB at most, though the plan allows 5 MiB; and never above a smaller plan.
    let over =
        consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 3 * 1024 * 1024 + 1, "fileType": "JPG"})).await;
    refused(&over, 413, "file-too-large");
    assert!(over["body"]["msg"].as_str().unwrap().contains("3 MiB"), "{over}");
    let at = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 3 * 1024 * 1024, "fileType": "JPG"})).await;
    assert_eq!(at["code"], 200, "{at}");
    let ada = ts.login("ada").await;
    ada.update_account(&AccountPatch { max_upload_bytes: Some(1024 * 1024), ..Default::default() }).await.unwrap();
    let plan =
        consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 2 * 1024 * 1024, "fileType": "JPG"})).await;
    refused(&plan, 413, "file-too-large");
    assert!(plan["body"]["msg"].as_str().unwrap().contains("1 MiB"), "{plan}");
    for body in [json!({"fileSize": "lots", "fileType": "JPG"}), json!({"fileType": "JPG"})] {
        refused(&consumer.req("ms.GenerateURLForUploadFile", body).await, 422, "invalid-request");
    }
    refused(&consumer.req("ms.Nonsense", json!({})).await, 400, "unknown-request");

    // A PUT URL: forged and expired signatures are 401; so is the wrong method for a signature;
    // a method a temporary URL never takes is 405.
    let image = png(64, 64);
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": image.len(), "fileType": "PNG"})).await;
    let put_url = consumer.url(&up);
    let path = up["body"]["relativePath"].as_str().unwrap().to_owned();
    let sig = up["body"]["queryParams"]["temp_url_sig"].as_str().unwrap().to_owned();
    let expires = up["body"]["queryParams"]["temp_url_expires"].as_str().unwrap().to_owned();
    let http = consumer.http.clone();
    let forged = put_url.replace(&sig, &"0".repeat(sig.len()));
    assert_eq!(http.put(&forged).body(image.clone()).send().await.unwrap().status(), 401, "forged");
    let later: i64 = expires.parse::<i64>().unwrap() + 3600;
    let stretched = put_url.replace(&expires, &later.to_string());
    assert_eq!(http.put(&stretched).body(image.clone()).send().await.unwrap().status(), 401, "expiry changed");
    let expired = format!("{}{path}?temp_url_sig={sig}&temp_url_expires=1", ts.url);
    assert_eq!(http.put(&expired).body(image.clone()).send().await.unwrap().status(), 401, "expired");
    assert_eq!(http.get(&put_url).send().await.unwrap().status(), 401, "GET with a PUT signature");
    assert_eq!(http.delete(&put_url).send().await.unwrap().status(), 405, "DELETE");
    assert_eq!(http.post(&put_url).body(image.clone()).send().await.unwrap().status(), 405, "POST");
    assert_eq!(
        http.put(format!("{}{path}", ts.url)).body(image.clone()).send().await.unwrap().status(),
        401,
        "unsigned"
    );
    // The document's way of writing it, https://{swiftDomain}/{relativePath}, is the same URL.
    let doubled = put_url.replacen("/v1/", "//v1/", 1);
    assert_eq!(http.put(&doubled).body(image.clone()).send().await.unwrap().status(), 201);

    // A GET URL taken for a PUT is 401 too, and an expired GET URL is 401.
    let published = consumer.publish(&conversation, &path, "PNG", "").await;
    assert_eq!(published["code"], 200, "{published}");
    let down = consumer.req("ms.GenerateURLForDownloadFile", json!({"relativePath": path})).await;
    let get_url = consumer.url(&down);
    assert_eq!(http.put(&get_url).body(image.clone()).send().await.unwrap().status(), 401, "PUT with a GET signature");
    let dsig = down["body"]["queryParams"]["temp_url_sig"].as_str().unwrap();
    let old = format!("{}{path}?temp_url_sig={dsig}&temp_url_expires=1", ts.url);
    assert_eq!(http.get(&old).send().await.unwrap().status(), 401, "expired GET");
    assert_eq!(http.get(&get_url).send().await.unwrap().status(), 200);

    // The preview: under 30 KB, an image that decodes, a data URL.
    let path2 = consumer.upload("PNG", &png(50, 50)).await;
    let big = crate::support::noise(31 * 1024, 7);
    refused(&consumer.publish(&conversation, &path2, "PNG", &data_url(&big)).await, 413, "preview-too-large");
    let mut broken = png(40, 40);
    broken.truncate(broken.len() / 2);
    refused(&consumer.publish(&conversation, &path2, "PNG", &data_url(&broken)).await, 422, "bad-preview");
    refused(&consumer.publish(&conversation, &path2, "PNG", "not a data url").await, 422, "bad-preview");
    let exe = data_url(b"MZ\x90\x00\x03\x00\x00\x00");
    refused(&consumer.publish(&conversation, &path2, "PNG", &exe).await, 422, "bad-preview");
    refused(&consumer.publish(&conversation, &path2, "GIF", "").await, 422, "invalid-request");
    let ok = consumer.publish(&conversation, &path2, "PNG", &data_url(&png(30, 30))).await;
    assert_eq!(ok["code"], 200, "{ok}");

    // Bytes that are not what the type says are refused by the same checks as every attachment.
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 64, "fileType": "JPG"})).await;
    let r = http.put(consumer.url(&up)).body(crate::support::noise(64, 3)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let fake = up["body"]["relativePath"].as_str().unwrap();
    let p = consumer.publish(&conversation, fake, "JPG", "").await;
    assert_eq!(p["type"], "GenericResponse", "{p}");
    assert_ne!(p["code"], 200, "{p}");
}

#[tokio::test]
async fn file_sharing_off_and_closed_conversations_refuse_everything() {
    let ts = TestServer::start().await;
    let ada = ts.login("ada").await;
    let mut consumer = Consumer::signup(&ts).await;
    let conversation = consumer.conversation().await;
    let image = png(64, 64);
    let path = consumer.upload("PNG", &image).await;
    assert_eq!(consumer.publish(&conversation, &path, "PNG", "").await["code"], 200);
    let down = consumer.req("ms.GenerateURLForDownloadFile", json!({"relativePath": path})).await;
    let get_url = consumer.url(&down);
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": image.len(), "fileType": "PNG"})).await;
    let put_url = consumer.url(&up);

    // Off: no new URL, no publishing, no download URL, and URLs given before stop working.
    ada.update_account(&AccountPatch { file_sharing_enabled: Some(false), ..Default::default() }).await.unwrap();
    let r = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 10, "fileType": "PNG"})).await;
    refused(&r, 403, "file-sharing-disabled");
    refused(
        &consumer.req("ms.GenerateURLForDownloadFile", json!({"relativePath": path})).await,
        403,
        "file-sharing-disabled",
    );
    refused(&consumer.publish(&conversation, &path, "PNG", "").await, 403, "file-sharing-disabled");
    assert_eq!(consumer.http.get(&get_url).send().await.unwrap().status(), 403);
    assert_eq!(consumer.http.put(&put_url).body(image.clone()).send().await.unwrap().status(), 403);
    // Text still goes.
    let text = json!({"type": "ContentEvent", "contentType": "text/plain", "message": "still there?"});
    assert_eq!(consumer.req("ms.PublishEvent", json!({"dialogId": conversation, "event": text})).await["code"], 200);

    // On again, then the customer closes: no URL for a closed conversation, and a PUT URL from
    // before the close takes nothing.
    ada.update_account(&AccountPatch { file_sharing_enabled: Some(true), ..Default::default() }).await.unwrap();
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": image.len(), "fileType": "PNG"})).await;
    let late_put = consumer.url(&up);
    let close = consumer
        .req(
            "cm.UpdateConversationField",
            json!({"conversationId": conversation, "conversationField": {"conversationState": "CLOSE"}}),
        )
        .await;
    assert_eq!(close["code"], 200, "{close}");
    let r = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 10, "fileType": "PNG"})).await;
    refused(&r, 409, "no-open-conversation");
    assert_eq!(consumer.http.put(&late_put).body(image.clone()).send().await.unwrap().status(), 410);
    // Its files stay the customer's to download while the report lives.
    let down = consumer.req("ms.GenerateURLForDownloadFile", json!({"relativePath": path})).await;
    assert_eq!(down["code"], 200, "{down}");
}

#[tokio::test]
async fn foreign_files_and_identities_are_refused() {
    let ts = TestServer::start().await;
    let mut consumer = Consumer::signup(&ts).await;
    let conversation = consumer.conversation().await;

    // A body shorter than announced is refused and nothing is published.
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 100, "fileType": "PNG"})).await;
    let r = consumer.http.put(consumer.url(&up)).body(vec![b'a'; 50]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let path = up["body"]["relativePath"].as_str().unwrap();
    refused(&consumer.publish(&conversation, path, "PNG", "").await, 404, "not-found");

    // A real file; a second consumer may neither download nor publish it.
    let path = consumer.upload("PNG", &png(20, 20)).await;
    let mut other = Consumer::signup(&ts).await;
    refused(&other.req("ms.GenerateURLForDownloadFile", json!({"relativePath": path})).await, 404, "not-found");
    let event = json!({"type": "ContentEvent", "contentType": "hosted/file", "message": {"relativePath": path}});
    refused(&other.req("ms.PublishEvent", json!({"event": event})).await, 404, "not-found");

    // No identity, no socket; no account, no signup.
    let url = format!("{}/ws_api/account/acme/messaging/consumer?v=3", ts.url.replace("http", "ws"));
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
    let r = reqwest::Client::new().post(format!("{}/api/account/nobody/signup", ts.url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn step_one_an_admin_signs_in_and_switches_file_sharing() {
    let ts = TestServer::start().await;
    let http = reqwest::Client::new();
    let login = |user: &str, password: &str| {
        http.post(format!("{}/api/account/acme/login?v=1.1", ts.url))
            .json(&json!({"username": user, "password": password}))
            .send()
    };
    let r = login("ada", common::PASSWORD).await.unwrap();
    assert_eq!(r.status(), 200);
    let bearer = r.json::<Value>().await.unwrap()["bearer"].as_str().unwrap().to_owned();
    // Not an admin, or a wrong password: no bearer.
    assert_eq!(login("alice", common::PASSWORD).await.unwrap().status(), 403);
    assert_eq!(login("ada", "wrong-password").await.unwrap().status(), 401);

    let props = format!("{}/api/account/acme/configuration/setting/properties?v=3.0", ts.url);
    let set = |value: Value| {
        http.put(&props)
            .bearer_auth(&bearer)
            .json(&json!([{"id": "messaging.file.sharing.enabled", "type": 1, "propertyValue": {"value": value}}]))
            .send()
    };
    let r = set(json!(false)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()[0]["propertyValue"]["value"], false);
    // The same switch as the admin API's.
    let ada = StaffClient::from_token(&ts.url, &bearer).unwrap();
    assert!(!ada.account().await.unwrap().plan.file_sharing_enabled);
    assert_eq!(set(json!("true")).await.unwrap().status(), 200);
    assert!(ada.account().await.unwrap().plan.file_sharing_enabled);
    let got = http.get(&props).bearer_auth(&bearer).send().await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(got, json!([{"id": "messaging.file.sharing.enabled", "type": 1, "propertyValue": {"value": true}}]));
    assert_eq!(set(json!("maybe")).await.unwrap().status(), 422);
    let unknown = http.put(&props).bearer_auth(&bearer).json(&json!([{"id": "x.y", "propertyValue": {"value": true}}]));
    assert_eq!(unknown.send().await.unwrap().status(), 422);
    let alice = ts.login("alice").await;
    let r = http.put(&props).bearer_auth(alice.token()).json(&json!([])).send().await.unwrap();
    assert_eq!(r.status(), 403, "agents do not change the account");
    assert_eq!(http.put(&props).json(&json!([])).send().await.unwrap().status(), 401);
    let elsewhere = props.replace("/acme/", "/other/");
    assert_eq!(http.get(&elsewhere).bearer_auth(&bearer).send().await.unwrap().status(), 404);
    assert_eq!(http.put(&elsewhere).bearer_auth(&bearer).json(&json!([])).send().await.unwrap().status(), 404);

    // Throttled like the main login: after 5 failures (one above), 429 with Retry-After, even
    // for the right password.
    for _ in 0..4 {
        assert_eq!(login("ada", "nope-nope").await.unwrap().status(), 401);
    }
    let r = login("ada", common::PASSWORD).await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));

    // Both routes are in the OpenAPI document.
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", ts.url)).await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/account/{account}/login"]["post"].is_object());
    assert!(doc["paths"]["/api/account/{account}/configuration/setting/properties"]["put"].is_object());
}
