//! Photos lose their location and camera data before they are stored, checked with the tool
//! people use to look (`exiftool`, from Debian's libimage-exiftool-perl): a JPEG with GPS, an
//! author and a rotated orientation comes back without the first two and with the third; the
//! attachment's SHA-256 and size are the delivered bytes'. An account may keep the metadata.
//!
//! Also PDF previews (poppler's pdftoppm). Skipped with a note when a tool is missing, unless
//! `ATTACHE_REQUIRE_TOOLS` is set (scripts/test.sh sets it; scripts/setup.sh installs them).

use crate::{common, support};

use attache_client::*;
use common::TestServer;
use std::path::Path;
use std::process::Command;
use support::*;

/// `exiftool -j -n` of a file: its tags by name.
fn exif_tags(path: &Path) -> serde_json::Map<String, serde_json::Value> {
    let out = Command::new("exiftool").args(["-j", "-n", "-a", "-G0"]).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags = v[0].as_object().unwrap().clone();
    // Without the group prefix ("EXIF:GPSLatitude" -> "GPSLatitude"), the group kept apart.
    tags.into_iter().map(|(k, v)| (k.rsplit(':').next().unwrap_or(&k).to_owned(), v)).collect()
}

#[tokio::test]
async fn a_photo_comes_back_without_its_location_and_keeps_its_orientation() {
    if !tool_installed("exiftool", "-ver", "libimage-exiftool-perl") {
        return;
    }
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let ada = ts.login("ada").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();

    // A phone photo: GPS, author, camera serial, XMP creator, turned sideways.
    let img = image::RgbImage::from_fn(64, 32, |x, y| image::Rgb([(x * 4) as u8, (y * 8) as u8, 120]));
    let mut jpeg = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
    let photo = write(dir.path(), "holiday.jpg", &jpeg);
    let tagged = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-GPSLatitude=48.8584",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=2.2945",
            "-GPSLongitudeRef=E",
            "-Artist=Jane Doe",
            "-SerialNumber=CAM-12345",
            "-XMP-dc:Creator=Jane Doe",
            "-IPTC:By-line=Jane Doe",
            "-Orientation#=6",
        ])
        .arg(&photo)
        .status()
        .unwrap();
    assert!(tagged.success());
    let before = exif_tags(&photo);
    assert!(before.contains_key("GPSLatitude"), "the test photo has a position: {before:?}");

    let opts = UploadOptions::default();
    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &photo, &opts).await.unwrap() else { panic!() };
    let a = msg.attachment.unwrap();
    assert!(a.metadata_removed, "the attachment says so");
    assert_eq!((a.width, a.height), (Some(32), Some(64)), "shown upright: 64×32 turned a quarter");
    let got = alice.download_attachment(&a, &dir.path().join("got.jpg")).await.unwrap();
    let bytes = std::fs::read(&got.path).unwrap();
    assert_eq!(a.sha256, sha256_hex(&bytes), "the SHA-256 is the delivered bytes'");
    assert_eq!(a.size, bytes.len() as u64);
    let after = exif_tags(&got.path);
    for gone in ["GPSLatitude", "GPSLongitude", "GPSPosition", "Artist", "SerialNumber", "Creator", "By-line"] {
        assert!(!after.contains_key(gone), "{gone} is still there: {after:?}");
    }
    assert_eq!(after.get("Orientation").and_then(|v| v.as_i64()), Some(6), "orientation kept: {after:?}");
    let original = image::load_from_memory(&jpeg).unwrap().to_rgb8();
    assert_eq!(image::load_from_memory(&bytes).unwrap().to_rgb8(), original, "not re-encoded");

    // An account that keeps metadata gets the file as it was sent.
    ada.update_account(&AccountPatch { keep_metadata: Some(true), ..Default::default() }).await.unwrap();
    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &photo, &opts).await.unwrap() else { panic!() };
    let a = msg.attachment.unwrap();
    assert!(!a.metadata_removed);
    assert_eq!(a.sha256, sha256_hex(&std::fs::read(&photo).unwrap()));
    let got = alice.download_attachment(&a, &dir.path().join("kept.jpg")).await.unwrap();
    assert!(exif_tags(&got.path).contains_key("GPSLatitude"));
}

/// A one-page PDF (a red box) that poppler reads, its cross-reference table rebuilt.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n\
2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n\
3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]/Contents 4 0 R>> endobj\n\
4 0 obj <</Length 27>> stream\n1 0 0 rg 10 10 100 50 re f\nendstream endobj\n\
trailer <</Root 1 0 R>>\n%%EOF\n";

#[tokio::test]
async fn a_pdf_gets_a_preview_of_its_first_page_and_a_broken_one_is_delivered_without() {
    if !tool_installed("pdftoppm", "-v", "poppler-utils") {
        return;
    }
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = UploadOptions::default();

    let path = write(dir.path(), "invoice.pdf", PDF);
    let UploadOutcome::Sent(msg) = alice.upload_file(&contact.id, &path, &opts).await.unwrap() else { panic!() };
    let a = msg.attachment.unwrap();
    assert_eq!(a.media_type, "application/pdf");
    let preview = a.preview_url.clone().expect("a preview of the first page");
    let r = http().get(format!("{}{preview}", ts.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let jpeg = r.bytes().await.unwrap().to_vec();
    assert!(jpeg.len() < 30 * 1024, "{} bytes", jpeg.len());
    let page = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap().to_rgb8();
    assert_eq!((page.width(), page.height()), (360, 180), "the page's shape, 360 on its longest side");
    let red = page.get_pixel(60, 140);
    assert!(red[0] > 200 && red[1] < 60 && red[2] < 60, "the red box is drawn: {red:?}");

    // A PDF that does not render is still delivered, without a preview.
    let path = write(dir.path(), "broken.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Kids [");
    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &path, &opts).await.unwrap() else { panic!() };
    assert!(msg.attachment.unwrap().preview_url.is_none());
}

#[tokio::test]
async fn an_iphone_photo_is_accepted_as_an_image_and_previewed() {
    if !tool_installed("heif-enc", "--help", "libheif-examples") {
        return;
    }
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();
    let png_path = write(dir.path(), "src.png", &png(640, 480));
    let heic = dir.path().join("IMG_0001.HEIC");
    let made = Command::new("heif-enc").args(["-q", "50", "-o"]).arg(&heic).arg(&png_path).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));

    let opts = UploadOptions { media_type: Some("image/heic".into()), ..Default::default() };
    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &heic, &opts).await.unwrap() else { panic!() };
    let a = msg.attachment.unwrap();
    assert_eq!(a.media_type, "image/heif", "sniffed as what it is");
    let preview = a.preview_url.clone().expect("a preview both sides see");
    let r = http().get(format!("{}{preview}", ts.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let jpeg = r.bytes().await.unwrap().to_vec();
    assert!(jpeg.len() < 30 * 1024);
    let p = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((p.width(), p.height()), (360, 270));
}

/// A scanned TIFF loses the same tags in place: the file keeps its length, its pixels and its
/// orientation; the position, the camera and the author are gone.
#[tokio::test]
async fn a_tiff_comes_back_without_its_location_and_camera() {
    if !tool_installed("exiftool", "-ver", "libimage-exiftool-perl") {
        return;
    }
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();
    let img = image::RgbImage::from_fn(80, 40, |x, y| image::Rgb([(x * 3) as u8, (y * 6) as u8, 77]));
    let scan = dir.path().join("scan.tif");
    img.save_with_format(&scan, image::ImageFormat::Tiff).unwrap();
    let tagged = Command::new("exiftool")
        .args([
            "-q",
            "-overwrite_original",
            "-GPSLatitude=41.9",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=12.5",
            "-GPSLongitudeRef=E",
            "-Make=Acme Cameras",
            "-Model=Snap 3000",
            "-SerialNumber=CAM-777",
            "-Artist=Jane Doe",
            "-XMP-dc:Creator=Jane Doe",
            "-IPTC:By-line=Jane Doe",
            "-Orientation#=6",
        ])
        .arg(&scan)
        .status()
        .unwrap();
    assert!(tagged.success());
    let sent = std::fs::read(&scan).unwrap();
    let before = exif_tags(&scan);
    assert!(before.contains_key("GPSLatitude") && before.contains_key("SerialNumber"), "{before:?}");
    assert!(String::from_utf8_lossy(&sent).contains("Jane Doe"));

    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &scan, &UploadOptions::default()).await.unwrap()
    else {
        panic!()
    };
    let a = msg.attachment.unwrap();
    assert!(a.metadata_removed);
    assert_eq!((a.width, a.height), (Some(40), Some(80)), "shown upright");
    assert!(a.preview_url.is_some(), "a TIFF has a preview");
    let got = alice.download_attachment(&a, &dir.path().join("got.tif")).await.unwrap();
    let bytes = std::fs::read(&got.path).unwrap();
    assert_eq!(bytes.len(), sent.len(), "rewritten in place");
    assert_eq!(a.sha256, sha256_hex(&bytes));
    let after = exif_tags(&got.path);
    for gone in ["GPSLatitude", "GPSLongitude", "Make", "Model", "SerialNumber", "Artist", "Creator", "By-line"] {
        assert!(!after.contains_key(gone), "{gone} is still there: {after:?}");
    }
    assert_eq!(after.get("Orientation").and_then(|v| v.as_i64()), Some(6), "orientation kept: {after:?}");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("Jane Doe") && !text.contains("CAM-777"), "no trace left in the bytes");
    assert_eq!(image::load_from_memory(&bytes).unwrap().to_rgb8(), img, "same pixels");
}

/// A 5 KB PDF whose page draws a form that draws the one below twice, 30 levels deep (a billion
/// drawings, no cycle for poppler to catch): rendering it would take hours.
fn pdf_bomb() -> Vec<u8> {
    fn stream(dict: &str, body: &str) -> String {
        format!("<<{dict}/Length {}>> stream\n{body}\nendstream", body.len())
    }
    let top = 35;
    let mut objs = vec![
        "<</Type/Catalog/Pages 2 0 R>>".to_owned(),
        "<</Type/Pages/Kids[3 0 R]/Count 1>>".to_owned(),
        format!(
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Resources <</XObject <</X {top} 0 R>>>>/Contents 4 0 R>>"
        ),
        stream("", "/X Do"),
        stream("/Type/XObject/Subtype/Form/BBox[0 0 200 200]", "0 0 1 rg 10 10 50 50 re f"),
    ];
    for k in 6..=top {
        let dict = format!("/Type/XObject/Subtype/Form/BBox[0 0 200 200]/Resources <</XObject <</Y {} 0 R>>>>", k - 1);
        objs.push(stream(&dict, "/Y Do /Y Do"));
    }
    let mut out = "%PDF-1.4\n".to_owned();
    for (i, o) in objs.iter().enumerate() {
        out.push_str(&format!("{} 0 obj {o} endobj\n", i + 1));
    }
    out.push_str("trailer <</Root 1 0 R>>\n%%EOF\n");
    out.into_bytes()
}

/// Files made to hurt the renderers: a PDF bomb is given up after the time limit and an iPhone
/// photo claiming 100000×100000 pixels is not expanded; both are delivered without a preview,
/// and the service answers meanwhile.
#[tokio::test]
async fn renderer_bombs_are_delivered_without_a_preview() {
    if !tool_installed("pdftoppm", "-v", "poppler-utils") || !tool_installed("heif-enc", "--help", "libheif-examples") {
        return;
    }
    let ts = TestServer::start().await;
    let alice = ts.login("alice").await;
    let (visitor, contact) = active_contact(&ts, &alice).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = UploadOptions::default();

    let bomb = write(dir.path(), "statement.pdf", &pdf_bomb());
    let started = std::time::Instant::now();
    let sending = visitor.upload_file(&contact.id, &bomb, &opts);
    let talking = async {
        // While the renderer runs, the service keeps serving the contact.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let t = std::time::Instant::now();
        alice.send_message(&contact.id, "still here").await.unwrap();
        t.elapsed()
    };
    let (sent, answer) = tokio::join!(sending, talking);
    let UploadOutcome::Sent(msg) = sent.unwrap() else { panic!() };
    let a = msg.attachment.unwrap();
    assert_eq!(a.media_type, "application/pdf");
    assert!(a.preview_url.is_none(), "no preview of a bomb");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(60), "given up after the limit, took {took:?}");
    assert!(answer < std::time::Duration::from_secs(5), "a message took {answer:?} while rendering");

    // heif-enc's photo with its size property ('ispe') rewritten to 100000×100000.
    let png_path = write(dir.path(), "src.png", &png(64, 48));
    let heic = dir.path().join("IMG_9999.HEIC");
    let made = Command::new("heif-enc").args(["-q", "50", "-o"]).arg(&heic).arg(&png_path).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let mut bytes = std::fs::read(&heic).unwrap();
    let at = bytes.windows(4).position(|w| w == b"ispe").expect("an ispe property") + 8;
    bytes[at..at + 4].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[at + 4..at + 8].copy_from_slice(&100_000u32.to_be_bytes());
    std::fs::write(&heic, &bytes).unwrap();
    let opts = UploadOptions { media_type: Some("image/heic".into()), ..Default::default() };
    let UploadOutcome::Sent(msg) = visitor.upload_file(&contact.id, &heic, &opts).await.unwrap() else { panic!() };
    let a = msg.attachment.unwrap();
    assert_eq!(a.media_type, "image/heif");
    assert!(a.preview_url.is_none(), "no preview of an absurd size");
}
