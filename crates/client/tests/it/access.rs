//! DESIGN.md's access table for attachment URLs, row by row (roles × contact state × `vvcu` /
//! `vvca` × another account), forged and foreign tokens, and retention removing the files.

use crate::{common, support};

use attache_client::*;
use common::{other_account, TestServer};
use std::time::Duration;
use support::*;

/// What a request presents.
#[derive(Clone, Default)]
struct Caller {
    bearer: Option<String>,
    cookies: Vec<String>,
}

impl Caller {
    fn anon() -> Caller {
        Caller::default()
    }
    fn staff(c: &StaffClient) -> Caller {
        Caller { bearer: Some(c.token().to_owned()), cookies: vec![] }
    }
    fn visitor(v: &VisitorClient) -> Caller {
        Caller { bearer: None, cookies: vec![format!("vvcu={}", v.vvcu().unwrap())] }
    }
}

/// A GET of a path, presenting what `who` holds.
fn request(ts: &TestServer, path: &str, who: &Caller) -> reqwest::RequestBuilder {
    let mut r = http().get(format!("{}{path}", ts.url));
    if let Some(b) = &who.bearer {
        r = r.bearer_auth(b);
    }
    if !who.cookies.is_empty() {
        r = r.header("Cookie", who.cookies.join("; "));
    }
    r
}

/// GETs a path; returns the status and the `vvca` cookie set, if any.
async fn get(ts: &TestServer, path: &str, who: &Caller) -> (u16, Option<String>) {
    let resp = request(ts, path, who).send().await.unwrap();
    let vvca = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("vvca="))
        .map(str::to_owned);
    (resp.status().as_u16(), vvca)
}

/// GETs a path and reads the whole body (an opening the access records count); its length.
async fn download(ts: &TestServer, path: &str, who: &Caller) -> usize {
    request(ts, path, who).send().await.unwrap().bytes().await.unwrap().len()
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_access_table_row_by_row() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await; // the contact's agent, supervised by sam
    let bob = ts.login("bob").await; // another agent
    let sam = ts.login("sam").await; // alice's supervisor
    let ada = ts.login("ada").await; // admin
    let rita = ts.login("rita").await; // reports permission
    let gina = other_account(&ts).await; // admin with reports, of another account
    ada.update_account(&AccountPatch { report_retention_days: Some(1), ..Default::default() }).await.unwrap();

    let (visitor, contact) = active_contact(&ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "scan.png", &png(300, 200));
    let UploadOutcome::Sent(msg) = alice.upload_file(&contact.id, &path, &UploadOptions::default()).await.unwrap()
    else {
        panic!()
    };
    let a = msg.attachment.unwrap();
    let file = a.url.clone();
    let preview = a.preview_url.clone().unwrap();
    let other_visitor = VisitorClient::new(&ts.url).unwrap();
    other_visitor.open_contact(&OpenContact { account: "acme".into(), name: None, message: None }).await.unwrap();

    // ---- contact active ----
    let (status, vvca) = get(&ts, &file, &Caller::anon()).await;
    assert_eq!(status, 200, "anyone holding the URL, while active");
    let vvca = vvca.expect("vvca set when opened during the contact");
    assert!(vvca.contains("HttpOnly") && vvca.contains("SameSite=Lax") && vvca.contains("Path=/files/"), "{vvca}");
    let max_age: i64 = vvca.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert_eq!(max_age, 24 * 3600, "as long as the report (1 day)");
    let browser = Caller { bearer: None, cookies: vec![cookie_value(&vvca)] };
    let rows_active: Vec<(&str, Caller, u16)> = vec![
        ("the contact's visitor", Caller::visitor(&visitor), 200),
        ("another visitor holding the URL", Caller::visitor(&other_visitor), 200),
        ("browser with vvca", browser.clone(), 200),
        ("the contact's agent", Caller::staff(&alice), 200),
        ("another agent holding the URL", Caller::staff(&bob), 200),
        ("the agent's supervisor", Caller::staff(&sam), 200),
        ("admin", Caller::staff(&ada), 200),
        ("reports", Caller::staff(&rita), 200),
        ("another account's admin", Caller::staff(&gina), 404),
    ];
    for (who, caller, want) in &rows_active {
        assert_eq!(get(&ts, &file, caller).await.0, *want, "active: {who}");
        assert_eq!(get(&ts, &preview, caller).await.0, *want, "active preview: {who}");
    }
    // Staff sessions get no vvca.
    assert!(get(&ts, &file, &Caller::staff(&bob)).await.1.is_none());

    // Opened during the contact by a browser that later visits another contact's file: the
    // grant for the first one stays.
    let (visitor2, contact2) = active_contact(&ts, &bob).await;
    let p2 = write(dir.path(), "two.txt", b"second contact's file");
    let UploadOutcome::Sent(m2) = visitor2.upload_file(&contact2.id, &p2, &UploadOptions::default()).await.unwrap()
    else {
        panic!()
    };
    let a2 = m2.attachment.unwrap();
    let (status, vvca2) = get(&ts, &a2.url, &browser).await;
    assert_eq!(status, 200);
    let browser2 = Caller { bearer: None, cookies: vec![cookie_value(&vvca2.unwrap())] };

    // ---- closed, report alive ----
    alice.close(&contact.id).await.unwrap();
    let rows_closed: Vec<(&str, Caller, u16)> = vec![
        ("anyone holding the URL", Caller::anon(), 403),
        ("the contact's visitor (vvcu)", Caller::visitor(&visitor), 200),
        ("another visitor", Caller::visitor(&other_visitor), 403),
        ("browser with this contact's vvca", browser.clone(), 200),
        ("browser whose vvca also holds a later contact", browser2.clone(), 200),
        ("the contact's agent without rights", Caller::staff(&alice), 403),
        ("another agent", Caller::staff(&bob), 403),
        ("the agent's supervisor", Caller::staff(&sam), 200),
        ("admin", Caller::staff(&ada), 200),
        ("reports", Caller::staff(&rita), 200),
        ("another account's admin", Caller::staff(&gina), 404),
    ];
    for (who, caller, want) in &rows_closed {
        assert_eq!(get(&ts, &file, caller).await.0, *want, "closed: {who}");
        assert_eq!(get(&ts, &preview, caller).await.0, *want, "closed preview: {who}");
    }
    // A vvca for another contact, or a forged one, opens nothing.
    let only_second = Caller {
        bearer: None,
        cookies: vec![format!("vvca={}", cookie_value(&vvca2_for(&ts, &a2).await).trim_start_matches("vvca="))],
    };
    assert_eq!(get(&ts, &file, &only_second).await.0, 403, "vvca of another contact");
    let forged = Caller { bearer: None, cookies: vec![format!("vvca={}.{}", &file[7..39], "0".repeat(32))] };
    assert_eq!(get(&ts, &file, &forged).await.0, 403, "forged vvca");

    // Tokens: forged, of another contact, truncated, upper case, with junk.
    let token = &file[7..103];
    let token2 = &a2.url[7..103];
    let mixed = format!("{}{}", &token2[..32], &token[32..]);
    let forged_token = "ab".repeat(48);
    for (what, t) in [
        ("forged", forged_token.as_str()),
        ("another contact's half", mixed.as_str()),
        ("truncated", &token[..95]),
        ("upper case", &token.to_uppercase()),
        ("traversal", "..%2F..%2Fetc%2Fpasswd"),
    ] {
        assert_eq!(get(&ts, &format!("/files/{t}/scan.png"), &Caller::staff(&ada)).await.0, 404, "{what}");
    }

    // ---- report expired ----
    // Access records are kept with the report: the second contact's openings are there...
    for caller in [Caller::visitor(&visitor2), Caller::staff(&bob)] {
        assert_eq!(download(&ts, &a2.url, &caller).await, a2.size as usize);
    }
    // (A record is written as its download's last byte goes out: wait until the listing and the
    // table agree, a record may land between the two reads.)
    let (mut kept, mut in_db) = (0, -1);
    for _ in 0..50 {
        kept = ada.access_records(&contact2.id, &AccessFilter::default()).await.unwrap().len();
        in_db = records_in_db(&ts, &contact2.id).await;
        if kept >= 2 && in_db == kept as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(kept >= 2, "openings of the second contact's file recorded: {kept}");
    assert_eq!(in_db, kept as i64);
    let first_kept = records_in_db(&ts, &contact.id).await;
    assert!(first_kept > 0);
    // The second contact closes with a retention of 0 days: its report expires at once.
    assert_eq!(files_on_disk(&ts).0, 3, "two files and one preview");
    ada.update_account(&AccountPatch { report_retention_days: Some(0), ..Default::default() }).await.unwrap();
    bob.close(&contact2.id).await.unwrap();
    let mut gone = false;
    for _ in 0..60 {
        if files_on_disk(&ts).0 == 2 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "retention removed the expired contact's file from disk");
    for (who, caller) in [
        ("its visitor", Caller::visitor(&visitor2)),
        ("a browser with its vvca", browser2.clone()),
        ("admin", Caller::staff(&ada)),
        ("reports", Caller::staff(&rita)),
        ("its agent", Caller::staff(&bob)),
        ("anyone", Caller::anon()),
        ("another account", Caller::staff(&gina)),
    ] {
        let s = get(&ts, &a2.url, &caller).await.0;
        assert!(s == 404 || s == 410, "expired: {who} got {s}");
    }
    // The sweep removes the files first, then the report: "expired" (410) until it is gone (404).
    let mut status = None;
    for _ in 0..60 {
        status = ada.report_contact(&contact2.id).await.unwrap_err().status();
        if status != Some(410) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, Some(404));
    // ...and went with it; the first contact's stay with its live report.
    assert_eq!(records_in_db(&ts, &contact2.id).await, 0, "access records deleted with the report");
    assert_eq!(records_in_db(&ts, &contact.id).await, first_kept);
    // The first contact's report is alive, its file still there.
    assert_eq!(get(&ts, &file, &Caller::visitor(&visitor)).await.0, 200);
}

/// How many access records the database holds for a contact (read from the table itself: once
/// the report is gone, no route shows them).
async fn records_in_db(ts: &TestServer, contact: &ContactId) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM access_records WHERE contact_id = $1")
        .bind(contact.as_str())
        .fetch_one(&ts.server().state().db)
        .await
        .unwrap()
        .get("n")
}

/// A vvca cookie holding only a grant for the contact of `a` (a fresh browser opening it).
async fn vvca2_for(ts: &TestServer, a: &Attachment) -> String {
    get(ts, &a.url, &Caller::anon()).await.1.expect("vvca")
}

/// The table's last rows: a redacted file and one removed by file-only retention answer 410
/// `file-removed` to every caller that the live table would let in (and 404 to other accounts).
#[tokio::test]
async fn redacted_and_file_expired_rows() {
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let sam = ts.login("sam").await;
    let ada = ts.login("ada").await;
    let rita = ts.login("rita").await;
    let gina = other_account(&ts).await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in ["redacted.png", "expired.png"] {
        let path = write(dir.path(), name, &png(60, 40));
        let UploadOutcome::Sent(m) = visitor.upload_file(&contact.id, &path, &UploadOptions::default()).await.unwrap()
        else {
            panic!()
        };
        files.push(m.attachment.unwrap());
    }
    let (redacted, expired) = (&files[0], &files[1]);
    let (_, vvca) = get(&ts, &redacted.url, &Caller::anon()).await;
    let browser = Caller { bearer: None, cookies: vec![cookie_value(&vvca.unwrap())] };
    sam.redact(&redacted.id, "wrong customer").await.unwrap();
    sqlx::query("UPDATE attachments SET created_at = created_at - 172800000000 WHERE id = $1")
        .bind(expired.id.as_str())
        .execute(&ts.server().state().db)
        .await
        .unwrap();
    ada.update_account(&AccountPatch { file_retention_days: Some(1), ..Default::default() }).await.unwrap();
    let mut swept = false;
    for _ in 0..60 {
        if get(&ts, &expired.url, &Caller::visitor(&visitor)).await.0 == 410 {
            swept = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(swept, "file retention removed the old file");
    for state in ["active", "closed"] {
        let rows: Vec<(&str, Caller, u16)> = vec![
            ("anyone holding the URL", Caller::anon(), 410),
            ("the contact's visitor", Caller::visitor(&visitor), 410),
            ("browser with vvca", browser.clone(), 410),
            ("the contact's agent", Caller::staff(&alice), 410),
            ("the agent's supervisor", Caller::staff(&sam), 410),
            ("admin", Caller::staff(&ada), 410),
            ("reports", Caller::staff(&rita), 410),
            ("another account's admin", Caller::staff(&gina), 404),
        ];
        for (what, a) in [("redacted", redacted), ("file expired", expired)] {
            for (who, caller, want) in &rows {
                let preview = a.preview_url.clone().unwrap();
                assert_eq!(get(&ts, &a.url, caller).await.0, *want, "{what}, {state}: {who}");
                assert_eq!(get(&ts, &preview, caller).await.0, *want, "{what} preview, {state}: {who}");
            }
        }
        if state == "active" {
            alice.close(&contact.id).await.unwrap();
        }
    }
}
