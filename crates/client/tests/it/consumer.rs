//! The LivePerson-style consumer API end to end: signup, the messaging WebSocket, temporary
//! signed upload and download URLs, publishing a `hosted/file`, and the agent's side of it.

use crate::{common, support};

use attache_client::*;
use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use support::{png, ready};
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
}

#[tokio::test]
async fn a_consumer_shares_a_file_through_temporary_urls() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let mut consumer = Consumer::signup(&ts).await;

    let conv = consumer.req("cm.ConsumerRequestConversation", json!({})).await;
    assert_eq!(conv["code"], 200, "{conv}");
    assert_eq!(conv["type"], "cm.RequestConversationResponse");
    let conversation = ContactId(conv["body"]["conversationId"].as_str().unwrap().to_owned());

    // No file before an agent has joined.
    let early = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": "1000", "fileType": "PNG"})).await;
    assert_eq!(early["code"], 409, "{early}");

    alice.accept(&conversation).await.unwrap();
    let mut alice_events = alice.events().await.unwrap();
    let open = consumer.notification("cm.ExConversationChangeNotification").await;
    assert_eq!(open["body"]["changes"][0]["result"]["conversationDetails"]["state"], "OPEN");

    let image = png(320, 200);
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": image.len(), "fileType": "PNG"})).await;
    assert_eq!(up["code"], 200, "{up}");
    assert_eq!(up["type"], "ms.GenerateURLResponse");
    let path = up["body"]["relativePath"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/v1/AUTH_attache/acme/") && path.ends_with(".PNG"), "{path}");
    let expires: i64 = up["body"]["queryParams"]["temp_url_expires"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now().timestamp();
    assert!((55..=61).contains(&left), "a minute to use it: {left}");
    let put_url = consumer.url(&up);

    // A forged signature, or a GET with the PUT signature, is 401; the real one takes the file.
    let forged = put_url.replace("temp_url_sig=", "temp_url_sig=0");
    assert_eq!(consumer.http.put(&forged).body(image.clone()).send().await.unwrap().status(), 401);
    assert_eq!(consumer.http.get(&put_url).send().await.unwrap().status(), 401);
    let r = consumer.http.put(&put_url).body(image.clone()).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let again = consumer.http.put(&put_url).body(image.clone()).send().await.unwrap();
    assert_eq!(again.status(), 409, "a URL takes one file");

    // Publishing puts it in the transcript: the agent gets one attachment_ready with the caption.
    let event = json!({"type": "ContentEvent", "contentType": "hosted/file",
        "message": {"caption": "Hello Kitten", "relativePath": path, "fileType": "PNG", "preview": ""}});
    let published = consumer.req("ms.PublishEvent", json!({"dialogId": conversation, "event": event})).await;
    assert_eq!(published["code"], 200, "{published}");
    let message = ready(&mut alice_events).await;
    let a = message.attachment.expect("an attachment");
    assert_eq!(a.description.as_deref(), Some("Hello Kitten"));
    assert_eq!(a.media_type, "image/png");
    assert_eq!(a.size, image.len() as u64);
    assert!(a.preview_url.is_some());
    let note = consumer.notification("ms.MessagingEventNotification").await;
    let change = &note["body"]["changes"][0];
    assert_eq!(change["originatorMetadata"]["role"], "CONSUMER");
    assert_eq!(change["event"]["contentType"], "hosted/file");
    assert_eq!(change["event"]["message"]["caption"], "Hello Kitten");

    // Download URLs: for the path it uploaded to, and for the path the notification names.
    for p in [path.clone(), change["event"]["message"]["relativePath"].as_str().unwrap().to_owned()] {
        let down = consumer.req("ms.GenerateURLForDownloadFile", json!({"relativePath": p})).await;
        assert_eq!(down["code"], 200, "{down}");
        let r = consumer.http.get(consumer.url(&down)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.bytes().await.unwrap().as_ref(), image.as_slice());
    }

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
async fn bad_requests_and_foreign_files_are_refused() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let mut consumer = Consumer::signup(&ts).await;
    let conv = consumer.req("cm.ConsumerRequestConversation", json!({})).await;
    let conversation = ContactId(conv["body"]["conversationId"].as_str().unwrap().to_owned());
    alice.accept(&conversation).await.unwrap();

    // Over the plan's limit: refused before a byte moves, naming the limit.
    let big =
        consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 6 * 1024 * 1024, "fileType": "JPG"})).await;
    assert_eq!(big["code"], 413, "{big}");
    assert!(big["body"]["message"].as_str().unwrap().contains("5 MiB"));
    for (body, code) in
        [(json!({"fileSize": "lots", "fileType": "JPG"}), 422), (json!({"fileSize": 10, "fileType": "../x"}), 422)]
    {
        let r = consumer.req("ms.GenerateURLForUploadFile", body).await;
        assert_eq!(r["code"], code, "{r}");
    }
    assert_eq!(consumer.req("ms.Nonsense", json!({})).await["code"], 400);

    // A body shorter than announced is refused and nothing is published.
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 100, "fileType": "TXT"})).await;
    let r = consumer.http.put(consumer.url(&up)).body(vec![b'a'; 50]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let path = up["body"]["relativePath"].as_str().unwrap();
    let event = json!({"type": "ContentEvent", "contentType": "hosted/file", "message": {"relativePath": path}});
    let p = consumer.req("ms.PublishEvent", json!({"dialogId": conversation, "event": event})).await;
    assert_eq!(p["code"], 404, "the spent URL left nothing to publish: {p}");

    // A real file, then a second consumer may not download it nor publish it.
    let up = consumer.req("ms.GenerateURLForUploadFile", json!({"fileSize": 5, "fileType": "TXT"})).await;
    assert_eq!(consumer.http.put(consumer.url(&up)).body("hello").send().await.unwrap().status(), 201);
    let path = up["body"]["relativePath"].as_str().unwrap().to_owned();
    let mut other = Consumer::signup(&ts).await;
    let down = other.req("ms.GenerateURLForDownloadFile", json!({"relativePath": path})).await;
    assert_eq!(down["code"], 404, "{down}");
    let event = json!({"type": "ContentEvent", "contentType": "hosted/file", "message": {"relativePath": path}});
    assert_eq!(other.req("ms.PublishEvent", json!({"event": event})).await["code"], 404);

    // An expired URL is 401 even with a signature that once was right.
    let expired = format!("{}{path}?temp_url_sig={}&temp_url_expires=1", ts.url, "0".repeat(64));
    assert_eq!(reqwest::get(expired).await.unwrap().status(), 401);
    let unsigned = format!("{}{path}", ts.url);
    assert_eq!(reqwest::get(unsigned).await.unwrap().status(), 401);

    // No identity, no socket.
    let url = format!("{}/ws_api/account/acme/messaging/consumer?v=3", ts.url.replace("http", "ws"));
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
    let r = reqwest::Client::new().post(format!("{}/api/account/nobody/signup", ts.url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
