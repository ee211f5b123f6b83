//! A deployment filled through the API, and what its users see of it: every file URL with its
//! bytes, every report and transcript. The migration and backup tests fill one, move it, and
//! check that the service on the other side shows exactly the same.
#![allow(dead_code)]

use crate::common::TestServer;
use crate::support::*;
use attache_client::*;

/// What the deployment's users see.
pub struct Seen {
    /// Every file and preview URL, who may open it, and its bytes.
    pub files: Vec<(String, Who, Vec<u8>)>,
    /// The report list and every report, as the admin reads them.
    pub reports: (Vec<Contact>, Vec<ContactDetails>),
    /// Each visitor's transcript, as the visitor reads it.
    pub transcripts: Vec<(String, ContactId, Vec<Message>)>,
    /// The admin's and an agent's session tokens.
    pub ada: String,
    pub alice: String,
    /// A closed contact's file URL and its visitor's cookie; an active contact's file URL.
    pub closed_url: String,
    pub closed_vvcu: String,
    pub active_url: String,
}

/// Fills `ts` (the demo account): an active contact with files both ways and a preview, a closed
/// one with an image, a queued one whose customer sent a file, text everywhere, and an upload
/// left half-sent. Returns the id of the unfinished upload.
pub async fn fill(ts: &TestServer) -> (Vec<(VisitorClient, ContactId)>, String) {
    let alice = ts.login("alice").await;
    let bob = ts.login("bob").await;
    let dir = tempfile::tempdir().unwrap();
    let send = |c: &ContactId, path: std::path::PathBuf, who: Session| {
        let c = c.clone();
        async move {
            match who.upload_file(&c, &path, &UploadOptions::default()).await.unwrap() {
                UploadOutcome::Sent(m) => m,
                other => panic!("upload: {other:?}"),
            }
        }
    };
    let (va, a) = active_contact(ts, &alice).await;
    send(&a.id, write(dir.path(), "photo.png", &png(320, 240)), va.session().clone()).await;
    send(&a.id, write(dir.path(), "notes.bin", &noise(150_000, 1)), alice.session().clone()).await;
    alice.send_message(&a.id, "Thanks, I have them").await.unwrap();
    va.send_message(&a.id, "Good").await.unwrap();

    let (vb, b) = active_contact(ts, &bob).await;
    send(&b.id, write(dir.path(), "receipt.png", &png(200, 300)), vb.session().clone()).await;
    bob.send_message(&b.id, "Done").await.unwrap();
    bob.close(&b.id).await.unwrap();

    let vc = VisitorClient::new(&ts.url).unwrap();
    let c = vc
        .open_contact(&OpenContact {
            account: "acme".into(),
            name: Some("Dora".into()),
            message: Some("waiting".into()),
        })
        .await
        .unwrap();
    send(&c.id, write(dir.path(), "waiting.txt", b"a file sent while queued"), vc.session().clone()).await;

    // Half an upload: its bytes are in the staging area, and stay behind in a migration.
    let who = Who::visitor(&va);
    let r = tus_create(ts, &who, "100000", &[("contact", a.id.as_str()), ("filename", "half.bin")]).await;
    assert_eq!(r.status(), 201);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(tus_patch(ts, &who, &loc, 0, noise(40_000, 2), None).await.status(), 204);
    let upload = loc.rsplit('/').next().unwrap().to_owned();
    (vec![(va, a.id), (vb, b.id), (vc, c.id)], upload)
}

/// Reads everything the users of `ts` see (after [`fill`]).
pub async fn seen(ts: &TestServer, visitors: &[(VisitorClient, ContactId)]) -> Seen {
    let ada = ts.login("ada").await;
    let alice = ts.login("alice").await;
    let list = ada.report_contacts(&ReportFilter::default()).await.unwrap();
    assert_eq!(list.len(), 3, "three contacts");
    let mut details = Vec::new();
    for c in &list {
        details.push(ada.report_contact(&c.id).await.unwrap());
    }
    let mut files = Vec::new();
    let mut transcripts = Vec::new();
    for (v, c) in visitors {
        let messages = v.messages(c).await.unwrap();
        for a in messages.iter().filter_map(|m| m.attachment.as_ref()) {
            for url in std::iter::once(&a.url).chain(a.preview_url.as_ref()) {
                let who = Who::visitor(v);
                files.push((url.clone(), who.clone(), get(&ts.url, url, &who).await.expect("file opens")));
            }
        }
        transcripts.push((v.vvcu().unwrap(), c.clone(), messages));
    }
    assert_eq!(files.len(), 6, "four files and two previews");
    let url_of = |i: usize| -> String {
        let m = transcripts[i].2.iter().find_map(|m| m.attachment.clone()).unwrap();
        m.url
    };
    Seen {
        closed_url: url_of(1),
        closed_vvcu: transcripts[1].0.clone(),
        active_url: url_of(0),
        files,
        reports: (list, details),
        transcripts,
        ada: ada.token().to_owned(),
        alice: alice.token().to_owned(),
    }
}

/// GETs a URL as `who`: the bytes, or the status when not 200.
pub async fn get(base: &str, url: &str, who: &Who) -> Result<Vec<u8>, u16> {
    let r = who.apply(http().get(format!("{base}{url}"))).send().await.unwrap();
    if r.status() != 200 {
        return Err(r.status().as_u16());
    }
    Ok(r.bytes().await.unwrap().to_vec())
}

/// Checks that the service at `base` shows what `before` saw, to the same sessions, and that
/// the access rules hold on it.
pub async fn shows_the_same(base: &str, before: &Seen) {
    for (url, who, bytes) in &before.files {
        assert_eq!(get(base, url, who).await.as_ref(), Ok(bytes), "{url} opens with the same bytes");
    }
    let ada = StaffClient::from_token(base, &before.ada).unwrap();
    let list = ada.report_contacts(&ReportFilter::default()).await.expect("the admin's session still works");
    assert_eq!(list, before.reports.0, "the report list");
    for d in &before.reports.1 {
        assert_eq!(&ada.report_contact(&d.contact.id).await.unwrap(), d, "the report of {}", d.contact.id);
    }
    for (vvcu, c, messages) in &before.transcripts {
        let v = VisitorClient::with_vvcu(base, vvcu).unwrap();
        assert_eq!(&v.messages(c).await.unwrap(), messages, "the customer's transcript of {c}");
    }
    // The access table on the moved deployment.
    let alice = Who::Bearer(before.alice.clone());
    assert_eq!(get(base, &before.closed_url, &Who::Nobody).await, Err(403), "closed: anyone holding the URL");
    assert_eq!(get(base, &before.closed_url, &alice).await, Err(403), "closed: another agent without rights");
    assert!(get(base, &before.closed_url, &Who::Vvcu(before.closed_vvcu.clone())).await.is_ok(), "closed: its visitor");
    assert!(get(base, &before.closed_url, &Who::Bearer(before.ada.clone())).await.is_ok(), "closed: admin");
    assert!(get(base, &before.active_url, &Who::Nobody).await.is_ok(), "active: anyone holding the URL");
    let forged = format!("/files/{}/photo.png", "ab".repeat(48));
    assert_eq!(get(base, &forged, &Who::Bearer(before.ada.clone())).await, Err(404), "a forged token");
}
