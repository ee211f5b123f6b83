//! Two service instances on one PostgreSQL database and one shared data folder, as behind a load
//! balancer: events reach sockets on the other instance, sessions and files work on both.
//! Needs PostgreSQL: `ATTACHE_TEST_POSTGRES=$(bash scripts/postgres.sh --scratch /tmp/pg) cargo test --test it
//! cluster:: -- --include-ignored` (scripts/test.sh does this).

use crate::{common, support};

use attache_client::*;
use common::{closed, next, TestServer};
use support::{png, ready, write};

#[tokio::test]
#[ignore = "needs PostgreSQL (ATTACHE_TEST_POSTGRES); scripts/test.sh runs it"]
async fn two_instances_share_events_sessions_and_files() {
    assert!(std::env::var("ATTACHE_TEST_POSTGRES").is_ok(), "set ATTACHE_TEST_POSTGRES to a PostgreSQL server");
    let a = TestServer::start().await;
    let b = attache_server::Server::start(a.config.clone()).await.expect("a second instance starts");
    let b_url = b.url();
    assert_ne!(a.url, b_url);

    // Alice watches on instance A; the customer talks to instance B.
    let alice = a.login("alice").await;
    let mut alice_events = alice.events().await.unwrap();
    let visitor = VisitorClient::new(&b_url).unwrap();
    let contact = visitor
        .open_contact(&OpenContact {
            account: "acme".into(),
            name: Some("Bea".into()),
            message: Some("hi from B".into()),
        })
        .await
        .unwrap();
    match next(&mut alice_events).await {
        Event::ContactQueued { contact: c } => assert_eq!(c.id, contact.id),
        other => panic!("expected contact_queued across instances, got {other:?}"),
    }
    let mut visitor_events = visitor.events().await.unwrap();
    alice.accept(&contact.id).await.unwrap();
    assert!(matches!(next(&mut alice_events).await, Event::ContactAccepted { .. }));
    assert!(matches!(next(&mut visitor_events).await, Event::ContactAccepted { .. }), "B's socket hears A's accept");

    visitor.send_message(&contact.id, "order 42").await.unwrap();
    match next(&mut alice_events).await {
        Event::MessageCreated { message } => assert_eq!(message.body, "order 42"),
        other => panic!("expected message_created, got {other:?}"),
    }
    alice.send_message(&contact.id, "on its way").await.unwrap();
    assert!(matches!(next(&mut alice_events).await, Event::MessageCreated { .. }), "her own line comes back too");
    for expected in ["order 42", "on its way"] {
        match next(&mut visitor_events).await {
            Event::MessageCreated { message } => assert_eq!(message.body, expected),
            other => panic!("expected message_created, got {other:?}"),
        }
    }

    // A file sent through B is ready for alice on A, and A serves the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let image = png(200, 120);
    let path = write(dir.path(), "photo.png", &image);
    let UploadOutcome::Sent(_) = visitor.upload_file(&contact.id, &path, &UploadOptions::default()).await.unwrap()
    else {
        panic!("cancelled?")
    };
    let message = ready(&mut alice_events).await;
    let attachment = message.attachment.expect("an attachment");
    let cache = FileCache::new(dir.path().join("cache"), 10 << 20);
    let cached = alice.fetch_cached(&cache, &attachment).await.unwrap();
    assert_eq!(std::fs::read(cached).unwrap(), image);

    // Alice's session is one everywhere: signing out on B ends her stream on A.
    let alice_on_b = StaffClient::from_token(&b_url, alice.token()).unwrap();
    assert_eq!(alice_on_b.me().await.unwrap().user.username, "alice");
    alice_on_b.logout().await.unwrap();
    closed(&mut alice_events).await;
    b.stop().await.unwrap();
}
