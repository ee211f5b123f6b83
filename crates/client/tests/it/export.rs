//! "Download all": the ZIP read back by an independent reader (Python's zipfile, CRCs checked),
//! its bytes against the manifest, tombstones without bytes, odd names, Content-Length, Range
//! resume (HTTP and the SDK's `.part`), ZIP64, who may, and one access record per download.

use crate::common::{self, other_account, TestServer};
use crate::support::*;
use attache_client::*;
use std::path::Path;

/// What Python's zipfile finds: every entry's name and SHA-256 after `testzip` passed.
fn read_zip(path: &Path) -> serde_json::Value {
    let script = "import sys, json, zipfile, hashlib\nz = zipfile.ZipFile(sys.argv[1])\nbad = z.testzip()\n\
                  assert bad is None, bad\nprint(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))";
    let out = std::process::Command::new("python3").arg("-c").arg(script).arg(path).output().expect("python3 runs");
    assert!(out.status.success(), "zipfile: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn entry(path: &Path, name: &str) -> String {
    let script = "import sys, zipfile\nsys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())";
    let out = std::process::Command::new("python3").arg("-c").arg(script).arg(path).arg(name).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn contact_with_files(ts: &TestServer) -> (StaffClient, StaffClient, Contact, Vec<Attachment>) {
    let alice = ts.login("alice").await;
    let sam = ts.login("sam").await;
    let (visitor, contact) = active_contact(ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    for (name, bytes, media) in [
        ("photo.png", png(200, 100), "image/png"),
        ("we\"ird: name?.txt", b"odd name, plain text".to_vec(), "text/plain"),
        ("card.png", png(90, 60), "image/png"),
    ] {
        let path = write(dir.path(), name, &bytes);
        let options = UploadOptions { media_type: Some(media.into()), ..Default::default() };
        let UploadOutcome::Sent(m) = visitor.upload_file(&contact.id, &path, &options).await.unwrap() else { panic!() };
        out.push(m.attachment.unwrap());
    }
    alice.send_message(&contact.id, "Here are your files").await.unwrap();
    sam.redact(&out[2].id, "wrong customer").await.unwrap();
    (alice, sam, contact, out)
}

#[tokio::test]
async fn download_all_is_a_zip_whose_bytes_match_its_manifest() {
    let ts = TestServer::start().await;
    let (alice, sam, contact, files) = contact_with_files(&ts).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("contact.zip");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let progress: ProgressFn = std::sync::Arc::new(move |p: Progress| s2.lock().unwrap().push(p));
    let done = sam.export_contact(&contact.id, &dest, Some(progress)).await.unwrap();
    assert_eq!(done.size, std::fs::metadata(&dest).unwrap().len());
    let last = *seen.lock().unwrap().last().unwrap();
    assert_eq!((last.sent, last.total), (done.size, done.size), "progress reaches the whole length");

    let entries = read_zip(&dest);
    let names: Vec<&str> = entries.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(names.contains(&"manifest.json") && names.contains(&"manifest.csv") && names.contains(&"transcript.txt"));
    let manifest: serde_json::Value = serde_json::from_str(&entry(&dest, "manifest.json")).unwrap();
    let rows = manifest["files"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "every attachment, the redacted one too");
    for (row, a) in rows.iter().zip(&files) {
        assert_eq!(row["sha256"], a.sha256.as_str());
        assert_eq!(row["size"], a.size);
        assert_eq!(row["sender"], "customer");
        match row["file"].as_str() {
            Some(path) => assert_eq!(entries[path], a.sha256.as_str(), "the bytes of {path} are the manifest's"),
            None => {
                assert!(row["redaction"].as_str().unwrap().contains("wrong customer"), "{row}");
                assert!(a.id == files[2].id, "only the redacted file has no bytes");
            }
        }
    }
    // Odd names stay inside the archive's folder.
    assert!(names.iter().all(|n| !n.contains("..") && !n.starts_with('/') && !n.contains('\\')), "{names:?}");
    assert_eq!(names.iter().filter(|n| n.starts_with("files/")).count(), 2);
    let csv = entry(&dest, "manifest.csv");
    assert_eq!(csv.lines().count(), 4, "a header and three rows:\n{csv}");
    assert!(csv.lines().next().unwrap().starts_with("file,name,description,sender"));
    let text = entry(&dest, "transcript.txt");
    assert!(text.contains("Carla (customer): hello") && text.contains("Here are your files"), "{text}");
    assert!(text.contains("removed by Sam Supervisor") && text.contains("wrong customer"), "{text}");

    // The HTTP side: length up front, HEAD, Range + If-Range resume, a stale validator starts over.
    let url = format!("{}/api/reports/contacts/{}/export", ts.url, contact.id);
    let whole = std::fs::read(&dest).unwrap();
    let head = http().head(&url).bearer_auth(sam.token()).send().await.unwrap();
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), whole.len().to_string());
    let etag = head.headers()["etag"].to_str().unwrap().to_owned();
    assert!(head.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"contact Carla"));
    let cut = whole.len() / 3;
    let tail = http()
        .get(&url)
        .bearer_auth(sam.token())
        .header("Range", format!("bytes={cut}-"))
        .header("If-Range", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(&tail.bytes().await.unwrap()[..], &whole[cut..], "a resumed archive is the same bytes");
    let stale = http()
        .get(&url)
        .bearer_auth(sam.token())
        .header("Range", format!("bytes={cut}-"))
        .header("If-Range", "\"zip-stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    let beyond = http().get(&url).bearer_auth(sam.token()).header("Range", "bytes=99999999-").send().await.unwrap();
    assert_eq!(beyond.status(), 416);

    // The SDK resumes from its .part.
    let again = dir.path().join("again.zip");
    std::fs::write(part_path(&again), &whole[..cut]).unwrap();
    std::fs::write(dir.path().join("again.zip.part.etag"), &etag).unwrap();
    let resumed = sam.export_contact(&contact.id, &again, None).await.unwrap();
    assert_eq!(resumed.resumed_from, cut as u64);
    assert_eq!(std::fs::read(&again).unwrap(), whole);

    // Who may: the access table's staff rows.
    let bob = ts.login("bob").await;
    let e = bob.export_contact(&contact.id, &dir.path().join("x.zip"), None).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoReportAccess);
    let gina = other_account(&ts).await;
    assert_eq!(
        gina.export_contact(&contact.id, &dir.path().join("y.zip"), None).await.unwrap_err().status(),
        Some(404)
    );
    assert!(!dir.path().join("x.zip").exists() && !dir.path().join("y.zip").exists(), "nothing written on refusal");
    alice.export_contact(&contact.id, &dir.path().join("alice.zip"), None).await.unwrap();
    alice.close(&contact.id).await.unwrap();
    let e = alice.export_contact(&contact.id, &dir.path().join("z.zip"), None).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NoReportAccess, "the agent, once the contact closed, without report rights");

    // Recorded once per completed download, with who and grant.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let records = sam
        .access_records(&contact.id, &AccessFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.what == AccessWhat::Export)
        .collect::<Vec<_>>();
    let by = |g: AccessGrant| records.iter().filter(|r| r.grant == g).count();
    assert_eq!(
        by(AccessGrant::Supervisor),
        2,
        "sam's whole download and the stale restart; his resumes merged: {records:#?}"
    );
    assert_eq!(by(AccessGrant::Agent), 1);
    assert!(records.iter().all(|r| r.attachment_id.is_none()));
}

#[tokio::test]
async fn zip64_archives_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(&dir);
    config.zip64_always = true;
    let ts = TestServer::start_with(dir, config).await;
    let (_, sam, contact, files) = contact_with_files(&ts).await;
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("c.zip");
    sam.export_contact(&contact.id, &dest, None).await.unwrap();
    let entries = read_zip(&dest);
    assert!(entries.as_object().unwrap().values().any(|v| v == files[0].sha256.as_str()));
    let raw = std::fs::read(&dest).unwrap();
    assert!(raw.windows(4).any(|w| w == [0x50, 0x4b, 0x06, 0x06]), "a ZIP64 end record");
}
