//! Supervisors' review: access records (who, grant, address, whole or range, one per download),
//! redaction (410 everywhere, tombstones live and in the transcript, who may) and file-only
//! retention (an "expired" tombstone while the transcript stays).

use crate::common::{next, TestServer};
use crate::support::*;
use attache_client::*;
use std::time::Duration;

/// A customer's file in an active contact of alice's: (visitor, contact, attachment).
async fn customer_file(ts: &TestServer, alice: &StaffClient, name: &str) -> (VisitorClient, Contact, Attachment) {
    let (visitor, contact) = active_contact(ts, alice).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, &png(120, 80));
    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &path, &UploadOptions::default()).await.unwrap()
    else {
        panic!("sent")
    };
    (visitor, contact, msg.attachment.unwrap())
}

async fn get(ts: &TestServer, path: &str, who: &Who, range: Option<&str>) -> reqwest::Response {
    let mut r = who.apply(http().get(format!("{}{path}", ts.url)));
    if let Some(range) = range {
        r = r.header("Range", range);
    }
    r.send().await.unwrap()
}

/// Records are written once the last byte went out: give the service a moment.
async fn records(sam: &StaffClient, contact: &ContactId, want: usize) -> Vec<AccessRecord> {
    for _ in 0..50 {
        let list = sam.access_records(contact, &AccessFilter::default()).await.unwrap();
        if list.len() >= want {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    sam.access_records(contact, &AccessFilter::default()).await.unwrap()
}

#[tokio::test]
async fn every_opening_is_recorded_once_with_who_grant_address_and_range() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let sam = ts.login("sam").await;
    let bob = ts.login("bob").await;
    let (visitor, contact, a) = customer_file(&ts, &alice, "card.png").await;
    assert!(records(&sam, &contact.id, 0).await.is_empty(), "the upload itself is not an opening");

    // A bare link, the customer, the agent; a preview; HEAD and 304 send no bytes.
    assert_eq!(get(&ts, &a.url, &Who::Nobody, None).await.bytes().await.unwrap().len() as u64, a.size);
    get(&ts, &a.url, &Who::visitor(&visitor), None).await.bytes().await.unwrap();
    get(&ts, &a.url, &Who::staff(&alice), None).await.bytes().await.unwrap();
    get(&ts, a.preview_url.as_ref().unwrap(), &Who::staff(&alice), None).await.bytes().await.unwrap();
    let head = Who::staff(&alice).apply(http().head(format!("{}{}", ts.url, a.url))).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let cached = Who::staff(&alice)
        .apply(http().get(format!("{}{}", ts.url, a.url)))
        .header("If-None-Match", format!("\"{}\"", a.sha256))
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    // One download in two ranges (a resume) is one record.
    let half = a.size / 2;
    let r1 = get(&ts, &a.url, &Who::staff(&bob), Some(&format!("bytes=0-{}", half - 1))).await;
    assert_eq!(r1.status(), 206);
    r1.bytes().await.unwrap();
    let r2 = get(&ts, &a.url, &Who::staff(&bob), Some(&format!("bytes={half}-"))).await;
    assert_eq!(r2.status(), 206);
    r2.bytes().await.unwrap();

    let list = records(&sam, &contact.id, 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let list2 = sam.access_records(&contact.id, &AccessFilter::default()).await.unwrap();
    assert_eq!(list2.len(), list.len(), "nothing more arrives: {list2:#?}");
    let summary: Vec<(AccessWho, AccessGrant, AccessWhat, bool)> =
        list.iter().map(|r| (r.who, r.grant, r.what, r.range.is_some())).collect();
    let expected = [
        (AccessWho::Link, AccessGrant::Url, AccessWhat::File, false),
        (AccessWho::Visitor, AccessGrant::ContactVisitor, AccessWhat::File, false),
        (AccessWho::Staff, AccessGrant::Agent, AccessWhat::File, false),
        (AccessWho::Staff, AccessGrant::Agent, AccessWhat::Preview, false),
        (AccessWho::Staff, AccessGrant::Url, AccessWhat::File, true),
    ];
    for e in expected {
        assert_eq!(summary.iter().filter(|s| **s == e).count(), 1, "one record of {e:?} in {summary:#?}");
    }
    let visitor_row = list.iter().find(|r| r.who == AccessWho::Visitor).unwrap();
    assert_eq!(visitor_row.who_name, "Carla");
    assert_eq!(visitor_row.who_id.as_deref(), Some(contact.visitor.as_str()), "the public id, never the cookie");
    assert_ne!(visitor_row.who_id, visitor.vvcu());
    assert_eq!(visitor_row.address.as_deref(), Some("127.0.0.1"));
    assert_eq!(visitor_row.bytes, a.size);
    assert_eq!(visitor_row.attachment_id.as_ref(), Some(&a.id));
    let bob_row = list.iter().find(|r| r.range.is_some()).unwrap();
    assert_eq!(bob_row.range, Some((0, half)), "the first range of the download");

    // After the contact: sam (the supervisor) opens the preview; the records say "supervisor".
    alice.close(&contact.id).await.unwrap();
    get(&ts, a.preview_url.as_ref().unwrap(), &Who::staff(&sam), None).await.bytes().await.unwrap();
    let list = records(&sam, &contact.id, list.len() + 1).await;
    assert!(list.iter().any(|r| r.grant == AccessGrant::Supervisor && r.what == AccessWhat::Preview));

    // Filterable; for reviewers only.
    let only = sam
        .access_records(&contact.id, &AccessFilter { who: Some(AccessWho::Visitor), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    let by_grant = sam
        .access_records(&contact.id, &AccessFilter { grant: Some(AccessGrant::Url), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(by_grant.len(), 2, "the link and bob");
    for (who, c) in [("the contact's agent without rights", &alice), ("another agent", &bob)] {
        let e = c.access_records(&contact.id, &AccessFilter::default()).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NoReportAccess, "{who}");
    }
    let rita = ts.login("rita").await;
    assert!(!rita.access_records(&contact.id, &AccessFilter::default()).await.unwrap().is_empty());
    // A customer has no way in: the route wants a staff session.
    let r = Who::visitor(&visitor)
        .apply(http().get(format!("{}/api/reports/contacts/{}/access", ts.url, contact.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_redaction_takes_the_bytes_at_once_and_leaves_a_tombstone_on_both_sides() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let sam = ts.login("sam").await;
    let (visitor, contact, a) = customer_file(&ts, &alice, "card.png").await;
    let (stored_before, _) = files_on_disk(&ts);
    let mut agent_events = alice.events().await.unwrap();
    let mut customer_events = visitor.events().await.unwrap();

    // Who may not, and reasons refused in words.
    let bob = ts.login("bob").await;
    for (who, c) in [("the contact's agent", &alice), ("another agent", &bob)] {
        assert_eq!(c.redact(&a.id, "wrong customer").await.unwrap_err().code(), ErrorCode::NoRedactAccess, "{who}");
    }
    let rita = ts.login("rita").await;
    let e = rita.redact(&a.id, "wrong customer").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoRedactAccess, "report viewers only if the account allows it");
    for (what, reason) in
        [("empty", "  "), ("too long", &"x".repeat(501)), ("control", "wrong\u{7}customer"), ("newline", "a\nb")]
    {
        let e = sam.redact(&a.id, reason).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{what}: {e}");
    }
    assert_eq!(sam.redact(&AttachmentId("0".repeat(32)), "x").await.unwrap_err().status(), Some(404));
    assert_eq!(get(&ts, &a.url, &Who::staff(&sam), None).await.status(), 200, "nothing lost by refusals");

    let done = sam.redact(&a.id, "wrong customer").await.unwrap();
    assert!(done.bytes_removed, "the store answered: {}", done.detail);
    let m = done.message;
    let t = m.attachment.as_ref().unwrap().removed.clone().expect("tombstone");
    assert_eq!(
        (t.kind, t.by.as_deref(), t.reason.as_deref()),
        (RemovalKind::Redacted, Some("Sam Supervisor"), Some("wrong customer"))
    );
    assert!(m.attachment.as_ref().unwrap().preview_url.is_none());
    // Live on both sides.
    for (side, events) in [("agent", &mut agent_events), ("customer", &mut customer_events)] {
        match next(events).await {
            Event::AttachmentRemoved { attachment_id, tombstone, sha256, contact_id, .. } => {
                assert_eq!((attachment_id, contact_id, sha256), (a.id.clone(), contact.id.clone(), a.sha256.clone()));
                assert_eq!(tombstone, t, "{side}");
            }
            other => panic!("{side}: expected attachment_removed, got {other:?}"),
        }
    }
    // Every URL answers 410, for everyone; the bytes and the preview left the store.
    for who in [Who::Nobody, Who::visitor(&visitor), Who::staff(&alice), Who::staff(&sam)] {
        for url in [a.url.as_str(), a.preview_url.as_deref().unwrap()] {
            let (status, code, words) = error_of(get(&ts, url, &who, None).await).await;
            assert_eq!((status, code.as_str()), (410, "file-removed"), "{url}");
            assert!(words.contains("Sam Supervisor") && words.contains("wrong customer"), "{words}");
        }
    }
    assert_eq!(files_on_disk(&ts).0, stored_before - 2, "file and preview deleted");
    // The transcripts keep the tombstone.
    let mine = visitor.messages(&contact.id).await.unwrap();
    let kept = mine.iter().find_map(|m| m.attachment.as_ref()).unwrap();
    assert_eq!((kept.removed.as_ref(), kept.sha256.as_str(), kept.size), (Some(&t), a.sha256.as_str(), a.size));
    let report = sam.report_contact(&contact.id).await.unwrap();
    assert!(report.messages.iter().any(|m| m.attachment.as_ref().is_some_and(|x| x.removed.is_some())));
    // Twice: 409 in words; where it stands.
    let e = sam.redact(&a.id, "again").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyRemoved);
    let status = sam.file_status(&[a.id.clone(), AttachmentId("f".repeat(32))]).await.unwrap();
    assert_eq!(status.iter().map(|s| s.state).collect::<Vec<_>>(), vec![FileState::Redacted, FileState::Gone]);

    // The account lets report viewers redact.
    let ada = ts.login("ada").await;
    ada.update_account(&AccountPatch { reports_may_redact: Some(true), ..Default::default() }).await.unwrap();
    let (_, _, b) = customer_file(&ts, &alice, "invoice.png").await;
    let rita = ts.login("rita").await;
    assert!(rita.redact(&b.id, "wrong invoice").await.unwrap().message.attachment.unwrap().removed.is_some());
}

#[tokio::test]
async fn file_only_retention_removes_files_and_keeps_the_transcript() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let ada = ts.login("ada").await;
    let sam = ts.login("sam").await;
    let (visitor, contact, a) = customer_file(&ts, &alice, "old.png").await;
    let (_, _, fresh) = customer_file(&ts, &alice, "fresh.png").await;
    let e = ada.update_account(&AccountPatch { file_retention_days: Some(3651), ..Default::default() }).await;
    assert_eq!(e.unwrap_err().code(), ErrorCode::InvalidPlan);
    let mut customer_events = visitor.events().await.unwrap();
    // The first file is three days old; the plan keeps files two.
    sqlx::query("UPDATE attachments SET created_at = created_at - 259200000000 WHERE id = $1")
        .bind(a.id.as_str())
        .execute(&ts.server().state().db)
        .await
        .unwrap();
    let plan = ada.update_account(&AccountPatch { file_retention_days: Some(2), ..Default::default() }).await.unwrap();
    assert_eq!(plan.plan.file_retention_days, 2);
    match next(&mut customer_events).await {
        Event::AttachmentRemoved { attachment_id, tombstone, .. } => {
            assert_eq!(attachment_id, a.id);
            assert_eq!((tombstone.kind, tombstone.by, tombstone.reason), (RemovalKind::Expired, None, None));
        }
        other => panic!("expected attachment_removed, got {other:?}"),
    }
    let (status, code, _) = error_of(get(&ts, &a.url, &Who::visitor(&visitor), None).await).await;
    assert_eq!((status, code.as_str()), (410, "file-removed"));
    assert_eq!(get(&ts, &fresh.url, &Who::staff(&sam), None).await.status(), 200, "a newer file stays");
    let messages = sam.report_contact(&contact.id).await.unwrap().messages;
    assert!(messages.iter().any(|m| m.body == "hello"), "the transcript stays");
    let kept = messages.iter().find_map(|m| m.attachment.as_ref()).unwrap();
    assert_eq!(kept.removed.as_ref().map(|t| t.kind), Some(RemovalKind::Expired));
    // Redacting after expiry: 409 in words.
    let e = sam.redact(&a.id, "too late").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyRemoved);
    assert!(e.to_string().contains("expired"), "{e}");
}

/// Where the store keeps an attachment's file and preview (the local folder store).
async fn stored_paths(ts: &TestServer, a: &Attachment) -> Vec<std::path::PathBuf> {
    use sqlx::Row;
    let state = ts.server().state();
    let row = sqlx::query("SELECT file_key, preview_key FROM attachments WHERE id = $1")
        .bind(a.id.as_str())
        .fetch_one(&state.db)
        .await
        .unwrap();
    let keys = [row.get::<String, _>("file_key"), row.get::<Option<String>, _>("preview_key").expect("a preview")];
    keys.iter()
        .map(|k| {
            let key = attache_server::storage::StoreKey::parse(k).unwrap();
            state.files.store.local_path(&key).expect("the local folder store (this test breaks its folder)")
        })
        .collect()
}

/// The deletions the database says are still owed: (count, fewest attempts so far).
async fn owed(ts: &TestServer) -> (i64, i64) {
    use sqlx::Row;
    let r = sqlx::query("SELECT COUNT(*) AS n, COALESCE(MIN(attempts), 0) AS tries FROM owed_deletes")
        .fetch_one(&ts.server().state().db)
        .await
        .unwrap();
    (r.get("n"), r.get("tries"))
}

/// Polls `check` every 50 ms for up to five seconds.
async fn eventually<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The store fails to delete a redacted file: its folder was replaced by a plain file, which
/// stops even root. The redaction still answers 2xx (it is durable) and says the bytes are still
/// being removed; every URL answers 410; the deletion is owed in the database, survives a
/// restart, and the sweep finishes it once the store works again, once.
#[tokio::test]
async fn a_redaction_whose_store_delete_fails_is_finished_by_the_sweep() {
    let mut ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let sam = ts.login("sam").await;
    let (visitor, _contact, a) = customer_file(&ts, &alice, "card.png").await;
    let preview = a.preview_url.clone().unwrap();
    let (stored_before, _) = files_on_disk(&ts);
    let paths = stored_paths(&ts, &a).await;
    let mut folders: Vec<std::path::PathBuf> = paths.iter().map(|p| p.parent().unwrap().to_owned()).collect();
    folders.dedup();
    for f in &folders {
        std::fs::rename(f, f.with_extension("aside")).unwrap();
        std::fs::write(f, b"not a folder").unwrap();
    }

    let done = sam.redact(&a.id, "wrong customer").await.unwrap();
    assert!(!done.bytes_removed, "the store failed: {done:?}");
    assert!(done.detail.contains("still being removed"), "said in words: {}", done.detail);
    let t = done.message.attachment.as_ref().and_then(|x| x.removed.clone()).expect("the tombstone");
    assert_eq!((t.kind, t.reason.as_deref()), (RemovalKind::Redacted, Some("wrong customer")));
    for url in [a.url.as_str(), preview.as_str()] {
        for who in [Who::staff(&sam), Who::visitor(&visitor), Who::Nobody] {
            let (status, code, _) = error_of(get(&ts, url, &who, None).await).await;
            assert_eq!((status, code.as_str()), (410, "file-removed"), "{url} while the store fails");
        }
    }
    // Owed, and retried by the sweep (every 100 ms here) while the store keeps failing.
    assert!(eventually(|| async { owed(&ts).await >= (2, 3) }).await, "retried: {:?}", owed(&ts).await);
    assert_eq!(owed(&ts).await.0, 2, "the file and its preview");

    // The debt is in the database, not in memory: the service restarts, then the store recovers.
    ts.restart().await;
    for f in &folders {
        std::fs::remove_file(f).unwrap();
        std::fs::rename(f.with_extension("aside"), f).unwrap();
    }
    assert!(eventually(|| async { owed(&ts).await.0 == 0 }).await, "the sweep finished: {:?}", owed(&ts).await);
    for p in &paths {
        assert!(!p.exists(), "{} deleted", p.display());
    }
    assert_eq!(files_on_disk(&ts).0, stored_before - 2, "nothing else deleted, nothing left behind");
    let sam = ts.login("sam").await;
    for url in [a.url.as_str(), preview.as_str()] {
        let (status, code, _) = error_of(get(&ts, url, &Who::staff(&sam), None).await).await;
        assert_eq!((status, code.as_str()), (410, "file-removed"), "{url} after recovery");
    }
    // Nothing is deleted twice: something put at the same place outlives further sweeps.
    std::fs::write(&paths[0], b"sentinel").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(paths[0].exists(), "a confirmed deletion is not done again");
    std::fs::remove_file(&paths[0]).unwrap();
    assert_eq!(sam.redact(&a.id, "again").await.unwrap_err().code(), ErrorCode::AlreadyRemoved);
}
