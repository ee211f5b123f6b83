//! Creating uploads: a small file sent whole with its creation is published in that one request
//! and comes back as its message; a contact holds a bounded number of unfinished uploads, also
//! when creations race.

use crate::{common, support};

use attache_client::*;
use common::TestServer;
use support::{active_contact, error_of, http, sha256_hex, tus_create, Who};

/// One round trip: the 201 of a creation-with-upload carries the transcript message, the same
/// one the transcript and the upload's status hold; the SDK returns it for a small file.
#[tokio::test]
async fn a_small_file_is_published_by_its_creation_request() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let bytes = support::noise(5000, 7);
    let meta = [("contact", contact.id.as_str()), ("filename", "notes.bin")];
    let meta: Vec<String> = meta.iter().map(|(k, v)| format!("{k} {}", support::b64(v))).collect();
    let r = Who::staff(&alice)
        .apply(http().post(format!("{}/api/uploads", ts.url)))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", meta.join(","))
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["upload-offset"], bytes.len().to_string().as_str());
    let id = r.headers()["attache-message-id"].to_str().unwrap().to_owned();
    let message: Message = r.json().await.unwrap();
    assert_eq!(message.id.as_str(), id);
    let att = message.attachment.clone().expect("the message carries the file");
    assert_eq!((att.name.as_str(), att.size), ("notes.bin", bytes.len() as u64));
    assert_eq!(att.sha256, sha256_hex(&bytes));
    let seen = visitor.messages(&contact.id).await.unwrap();
    assert!(seen.iter().any(|m| m.id == message.id), "the customer's transcript has it");

    // Through the SDK: the file comes back as sent, with its bytes intact.
    let dir = tempfile::tempdir().unwrap();
    let path = support::write(dir.path(), "small.bin", &support::noise(20_000, 8));
    let UploadOutcome::Sent(m) = alice.upload_file(&contact.id, &path, &UploadOptions::default()).await.unwrap() else {
        panic!("not sent")
    };
    let a = m.attachment.expect("a file");
    assert_eq!(a.sha256, sha256_hex(&std::fs::read(&path).unwrap()));
    assert!(alice.messages(&contact.id).await.unwrap().iter().any(|x| x.id == m.id));
}

/// At most 16 unfinished uploads per contact, counted and recorded in one statement: 24 racing
/// creations leave exactly 16, the others are told why; ending one makes room for one more.
#[tokio::test]
async fn unfinished_uploads_per_contact_are_bounded_even_when_creations_race() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (_visitor, contact) = active_contact(&ts, &alice).await;
    let who = Who::staff(&alice);
    let creations = (0..24).map(|i| {
        let (ts, who, contact) = (&ts, who.clone(), contact.id.clone());
        async move {
            let name = format!("part-{i}.bin");
            tus_create(ts, &who, "1000", &[("contact", contact.as_str()), ("filename", &name)]).await
        }
    });
    let answers = futures_util::future::join_all(creations).await;
    let mut created = Vec::new();
    for r in answers {
        match r.status().as_u16() {
            201 => created.push(r.headers()["location"].to_str().unwrap().to_owned()),
            _ => {
                let (status, code, message) = error_of(r).await;
                assert_eq!((status, code.as_str()), (409, "too-many-uploads"), "{message}");
                assert!(message.contains("16 unfinished uploads"), "{message}");
            }
        }
    }
    assert_eq!(created.len(), 16, "exactly the bound was created");
    let meta = [("contact", contact.id.as_str()), ("filename", "one-more.bin")];
    assert_eq!(tus_create(&ts, &who, "1000", &meta).await.status(), 409);
    let ended = who
        .apply(http().delete(format!("{}{}", ts.url, created[0])))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 204);
    assert_eq!(tus_create(&ts, &who, "1000", &meta).await.status(), 201, "room for one again");
}
