//! Reports > Attachments (server-side search, paginated, within what the caller may review) and
//! the account's storage figures.

use crate::common::{other_account, TestServer};
use crate::support::*;
use attache_client::*;

#[tokio::test]
async fn files_are_found_by_name_type_sender_agent_and_page() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let bob = ts.login("bob").await;
    let sam = ts.login("sam").await;
    let ada = ts.login("ada").await;
    let dir = tempfile::tempdir().unwrap();
    let (v1, c1) = active_contact(&ts, &alice).await;
    let (v2, c2) = active_contact(&ts, &bob).await;
    let send = |who: &Session, c: &Contact, name: &str, bytes: Vec<u8>| {
        let path = write(dir.path(), name, &bytes);
        let (who, c) = (who.clone(), c.id.clone());
        async move {
            let UploadOutcome::Sent(m) = who.upload_file(&c, &path, &UploadOptions::default()).await.unwrap() else {
                panic!()
            };
            m.attachment.unwrap()
        }
    };
    let invoice = send(v1.session(), &c1, "Invoice_2026.pdf.txt", b"invoice".to_vec()).await;
    let photo = send(v1.session(), &c1, "photo.png", png(40, 30)).await;
    let reply = send(alice.session(), &c1, "reply-invoice.txt", b"our reply".to_vec()).await;
    let other = send(v2.session(), &c2, "invoice-bob.txt", b"bob's".to_vec()).await;
    let search = |s: AttachmentSearch| s;

    let all = ada.search_attachments(&search(AttachmentSearch::default())).await.unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(all.items[0].attachment.id, other.id, "newest first");
    let by_name =
        ada.search_attachments(&AttachmentSearch { name: Some("INVOICE".into()), ..Default::default() }).await.unwrap();
    assert_eq!(by_name.total, 3, "case-insensitive part of the name");
    let literal =
        ada.search_attachments(&AttachmentSearch { name: Some("e_2".into()), ..Default::default() }).await.unwrap();
    assert_eq!(
        literal.items.iter().map(|h| h.attachment.id.clone()).collect::<Vec<_>>(),
        vec![invoice.id.clone()],
        "_ is literal"
    );
    let images = ada
        .search_attachments(&AttachmentSearch { media_type: Some("image/".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(images.items.len(), 1);
    assert_eq!(images.items[0].attachment.id, photo.id);
    assert_eq!(images.items[0].customer_name, "Carla");
    assert_eq!(images.items[0].contact_id, c1.id, "each row opens its contact");
    let agents =
        ada.search_attachments(&AttachmentSearch { sender: Some(Sender::Agent), ..Default::default() }).await.unwrap();
    assert_eq!(agents.items.iter().map(|h| h.attachment.id.clone()).collect::<Vec<_>>(), vec![reply.id.clone()]);
    let bobs = ada
        .search_attachments(&AttachmentSearch { agent: Some(bob.me().await.unwrap().user.id), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(bobs.total, 1);
    assert_eq!(bobs.items[0].agent_name.as_deref(), Some("Bob Agent"));
    // Pages.
    let mut seen = Vec::new();
    for page in 1..=3 {
        let p = ada
            .search_attachments(&AttachmentSearch { per_page: Some(2), page: Some(page), ..Default::default() })
            .await
            .unwrap();
        assert_eq!((p.total, p.per_page, p.page), (4, 2, page));
        seen.extend(p.items.into_iter().map(|h| h.attachment.id));
    }
    assert_eq!(seen.len(), 4, "two pages of two, then none");
    // Within what each may review.
    let sams = sam.search_attachments(&AttachmentSearch::default()).await.unwrap();
    assert_eq!(sams.total, 3, "sam supervises alice, not bob");
    let bob_sees = bob.search_attachments(&AttachmentSearch::default()).await.unwrap();
    assert_eq!(bob_sees.total, 1, "an agent: their active contact only");
    let gina = other_account(&ts).await;
    assert_eq!(gina.search_attachments(&AttachmentSearch::default()).await.unwrap().total, 0);
    // Bad input.
    for bad in [
        AttachmentSearch { per_page: Some(0), ..Default::default() },
        AttachmentSearch { per_page: Some(101), ..Default::default() },
        AttachmentSearch { name: Some("x".repeat(201)), ..Default::default() },
        AttachmentSearch {
            from: Some("2026-02-01T00:00:00Z".parse().unwrap()),
            to: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            ..Default::default()
        },
    ] {
        assert_eq!(ada.search_attachments(&bad).await.unwrap_err().status(), Some(422), "{bad:?}");
    }
    let r = http()
        .get(format!("{}/api/reports/attachments?sender=bot", ts.url))
        .bearer_auth(ada.token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Storage, for admins: kept, and what went this month.
    let before = ada.storage_usage().await.unwrap();
    let total: u64 = [&invoice, &photo, &reply, &other].iter().map(|a| a.size).sum();
    assert_eq!((before.stored.files, before.stored.bytes), (4, total));
    sam.redact(&photo.id, "not needed").await.unwrap();
    let after = ada.storage_usage().await.unwrap();
    assert_eq!((after.stored.files, after.stored.bytes), (3, total - photo.size));
    assert_eq!((after.redacted_this_month.files, after.redacted_this_month.bytes), (1, photo.size));
    assert_eq!(after.expired_this_month.files, 0);
    assert_eq!(sam.storage_usage().await.unwrap_err().code(), ErrorCode::AdminOnly);
}
