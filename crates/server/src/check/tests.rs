//! The checks, case by case.

use super::*;

#[test]
fn names_are_display_text_only() {
    assert_eq!(file_name("  photo 1.png ").unwrap(), "photo 1.png");
    assert_eq!(file_name("résumé – 2026.pdf").unwrap(), "résumé – 2026.pdf");
    for bad in [
        "",
        "../../etc/passwd",
        "a/b.png",
        "a\\b.png",
        "..",
        "a\u{0}b",
        "a\nb.png",
        "x\u{202e}gnp.exe",
        &"x".repeat(10_000),
    ] {
        let e = file_name(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadFileName, "{bad:?}");
    }
}

#[test]
fn media_types_and_allow_lists() {
    assert_eq!(media_type("Image/JPG; q=1").unwrap(), "image/jpeg");
    assert!(media_type("png").is_err());
    assert!(media_type("text/html\r\nX: y").is_err());
    let list = vec!["image/*".to_owned(), "application/pdf".to_owned()];
    assert!(allowed(&list, "image/png"));
    assert!(allowed(&list, "application/pdf"));
    assert!(!allowed(&list, "application/vnd.microsoft.portable-executable"));
    assert!(allowed(&[], "application/vnd.microsoft.portable-executable"));
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

#[test]
fn sniffing_sees_through_disguises() {
    let png = sniff(PNG);
    assert_eq!(png.media_type, "image/png");
    assert_eq!(png.image, Some(image::ImageFormat::Png));
    assert!(compare("image/png", "a.png", &png).is_ok());
    assert!(compare("application/octet-stream", "a.png", &png).is_ok());

    let html = sniff(b"  <!DOCTYPE html><html><script>alert(1)</script>");
    assert_eq!(html.media_type, "text/html");
    assert_eq!(compare("image/png", "cat.png", &html).unwrap_err().code(), ErrorCode::TypeMismatch);
    assert_eq!(compare("application/octet-stream", "cat.png", &html).unwrap_err().code(), ErrorCode::TypeMismatch);
    assert!(compare("text/html", "page.html", &html).is_ok());

    let exe = sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x80\0\0\0PE\0\0L\x01");
    assert_eq!(exe.media_type, "application/vnd.microsoft.portable-executable");
    assert!(exe.active);
    assert_eq!(compare("image/png", "cat.png", &exe).unwrap_err().code(), ErrorCode::TypeMismatch);
    assert!(compare("application/x-msdownload", "setup.exe", &exe).is_ok());

    let svg = sniff(br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#);
    assert_eq!(compare("image/svg+xml", "a.svg", &svg).unwrap_err().code(), ErrorCode::UnsafeSvg);
    let svg = sniff(br#"<svg xmlns="http://www.w3.org/2000/svg"><rect onload ="x()"/></svg>"#);
    assert_eq!(compare("image/svg+xml", "a.svg", &svg).unwrap_err().code(), ErrorCode::UnsafeSvg);
    let svg = sniff(br#"<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>"#);
    assert!(!svg.active);
    assert!(compare("image/svg+xml", "a.svg", &svg).is_ok());

    let text = sniff("hello, wörld".as_bytes());
    assert_eq!(text.media_type, "text/plain");
    assert!(compare("text/plain", "notes.txt", &text).is_ok());
    // Text under a PDF name is odd but harmless: the sniffer cannot tell a broken PDF from text.
    assert!(compare("application/pdf", "doc.pdf", &text).is_ok());
    assert_eq!(compare("image/jpeg", "a.jpg", &text).unwrap_err().code(), ErrorCode::TypeMismatch);

    // An iPhone photo: declared image/heic, named .HEIC, a HEIF container inside.
    let heic = sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\0");
    assert_eq!(heic.media_type, "image/heif");
    assert!(compare(&media_type("image/heic").unwrap(), "IMG_1234.HEIC", &heic).is_ok());
    assert_eq!(compare("image/heic", "IMG_1234.HEIC", &png).unwrap_err().code(), ErrorCode::TypeMismatch);

    let pdf = sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    // SVG is judged whole, with entities decoded.
    let svg_with = |body: &str| {
        sniff(
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{body}</svg>"#
            )
            .as_bytes(),
        )
    };
    let padding = format!("<!--{}-->", "x".repeat(9 * 1024));
    for bad in [
        r#"<a href="&#106;avascript:alert(1)"><text>x</text></a>"#.to_owned(),
        r#"<a xlink:href="java&#x09;script:alert(1)"><text>x</text></a>"#.to_owned(),
        format!("{padding}<script>alert(1)</script>"),
        format!(r#"{padding}<rect onload="alert(1)"/>"#),
        r#"<rect ONLOAD="x()"/>"#.to_owned(),
        r#"<image href="https://tracker.example/p.png"/>"#.to_owned(),
        r##"<use href="https://evil.example/s.svg#x"/>"##.to_owned(),
        r#"<style>@import url(https://evil.example/x.css);</style>"#.to_owned(),
        r#"<rect style="fill:url(https://evil.example/x)"/>"#.to_owned(),
        r#"<set attributeName="href" to="javascript:alert(1)"/>"#.to_owned(),
        r#"<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>"#.to_owned(),
        r#"<foreignObject><div/></foreignObject>"#.to_owned(),
        r#"<rect"#.to_owned(),
    ] {
        let s = svg_with(&bad);
        assert_eq!(s.media_type, "image/svg+xml", "{bad}");
        assert!(s.active, "{bad}");
    }
    let entity =
        br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "javascript:">]><svg xmlns="http://www.w3.org/2000/svg"/>"#;
    assert!(sniff(entity).active);
    for good in [
        format!("{padding}<rect width=\"1\" height=\"1\" fill=\"url(#g)\"/>"),
        r##"<use href="#a"/><image href="data:image/png;base64,iVBORw0KGgo="/><text>R&amp;D &#169;</text>"##.to_owned(),
        r##"<style>rect { fill: red }</style><a href="#top"><text>t</text></a>"##.to_owned(),
    ] {
        assert!(!svg_with(&good).active, "{good}");
    }
    assert_eq!(pdf.media_type, "application/pdf");
    assert_eq!(compare("application/pdf", "x.png", &pdf).unwrap_err().code(), ErrorCode::TypeMismatch);
    assert!(compare("application/pdf", "x.pdf", &pdf).is_ok());
    assert!(!sniff(&[0xde, 0xad, 0xbe, 0xef, 0x00]).known);
}

#[test]
fn a_head_settles_the_type_unless_the_file_is_an_svg() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let mut long_png = png.clone();
    long_png.resize(TEXT_SNIFF_BYTES, 0);
    // The same answer as from the whole head, for a head of the full size or a whole short file.
    assert_eq!(sniff_prefix(&long_png, 1 << 20).unwrap().media_type, "image/png");
    assert_eq!(sniff_prefix(&png, png.len() as u64).unwrap().media_type, "image/png");
    assert_eq!(sniff_prefix(b"<!doctype html><p>hi", 20).unwrap().media_type, "text/html");
    assert!(sniff_prefix(b"<!doctype html><p>hi", 20).unwrap().active);
    assert_eq!(sniff_prefix(b"plain words", 11).unwrap().media_type, "text/plain");
    // Short of the head a larger file has: not settled.
    assert!(sniff_prefix(&png, 1 << 20).is_none());
    // An SVG is parsed whole, from the file.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>";
    assert!(sniff_prefix(svg, svg.len() as u64).is_none());
    assert_eq!(sniff(svg).media_type, "image/svg+xml");
}
