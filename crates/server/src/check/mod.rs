//! Checks on what a sender says and what the bytes are: file names, media types, the account's
//! allow list, and the real type sniffed from the bytes (magic numbers, HTML and SVG with
//! active content).
//!
//! Pure functions: the upload domain calls them at creation (on what is declared) and at
//! finalisation (on the bytes).

mod svg;

pub use svg::svg_is_active;

use crate::error::AppError;
use attache_protocol::ErrorCode;

/// Longest file name, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// How many leading bytes the sniffer is given: the whole of any SVG it accepts (a longer SVG
/// cannot be checked whole and is refused).
pub const SNIFF_BYTES: usize = 1024 * 1024;
/// How many of them the text and magic-number sniffing looks at.
pub const TEXT_SNIFF_BYTES: usize = 8 * 1024;

/// Validates a file name as display text. It is never a path: separators, `..`, control
/// characters and overlong names are refused rather than silently changed, so the sender knows.
pub fn file_name(raw: &str) -> Result<String, AppError> {
    let bad = |why: &str| AppError::Refused(ErrorCode::BadFileName, format!("the file name {why}"));
    let name = raw.trim();
    if name.is_empty() {
        return Err(bad("is empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(bad(&format!("is longer than {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(bad("contains control or direction-changing characters"));
    }
    if name.contains('/') || name.contains('\\') {
        return Err(bad("contains a path separator; send the name only"));
    }
    if name == "." || name == ".." || name.starts_with("..") {
        return Err(bad("is not a file name"));
    }
    Ok(name.to_owned())
}

/// Characters that change the direction of the text around them (and can disguise `exe.png` as
/// `gnp.exe`): marks, embeddings, overrides, isolates.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Validates and normalises a declared media type (`image/png`); parameters are dropped.
pub fn media_type(raw: &str) -> Result<String, AppError> {
    let t = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let part = |s: &str| {
        !s.is_empty() && s.len() <= 100 && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-+._".contains(&c))
    };
    match t.split_once('/') {
        Some((a, b)) if part(a) && part(b) => Ok(normalise(&t).to_owned()),
        _ => Err(AppError::Refused(
            ErrorCode::BadMediaType,
            format!("'{}' is not a media type like image/png", raw.chars().take(100).collect::<String>()),
        )),
    }
}

/// Common aliases mapped to one name.
fn normalise(t: &str) -> &str {
    match t {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "image/x-png" => "image/png",
        "image/x-ms-bmp" | "image/x-bmp" => "image/bmp",
        // iPhone photos: declared as HEIC, sniffed as their HEIF container.
        "image/heic" | "image/heic-sequence" | "image/heif-sequence" => "image/heif",
        "application/x-msdownload" | "application/x-msdos-program" | "application/x-dosexec" | "application/exe" => {
            "application/vnd.microsoft.portable-executable"
        }
        "application/x-elf" | "application/x-sharedlib" => "application/x-executable",
        "text/xml" => "application/xml",
        other => other,
    }
}

/// The media type a file name's extension implies, for the extensions whose content we can
/// recognise (so a `.png` must really be a PNG).
pub fn type_of_extension(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" | "jpe" | "jfif" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "heic" | "heif" => "image/heif",
        "svg" | "svgz" => "image/svg+xml",
        "pdf" => "application/pdf",
        "html" | "htm" | "xhtml" => "text/html",
        "exe" | "dll" => "application/vnd.microsoft.portable-executable",
        "zip" => "application/zip",
        _ => return None,
    })
}

/// Whether `media` is allowed by an allow list (`image/*` wildcards; empty allows all).
pub fn allowed(allow: &[String], media: &str) -> bool {
    allow.is_empty()
        || allow.iter().any(|p| match p.strip_suffix("/*") {
            Some(top) => media.split_once('/').is_some_and(|(t, _)| t.eq_ignore_ascii_case(top)),
            None => p == "*/*" || normalise(&p.to_ascii_lowercase()) == media,
        })
}

/// What the first bytes of a file are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// Media type; `application/octet-stream` when unknown.
    pub media_type: String,
    /// Whether the type was recognised from the bytes.
    pub known: bool,
    /// The content can run code in a browser or on a machine (HTML, SVG with script,
    /// executables).
    pub active: bool,
    /// An image format the service decodes and previews.
    pub image: Option<image::ImageFormat>,
}

fn is_executable(t: &str) -> bool {
    matches!(
        t,
        "application/vnd.microsoft.portable-executable"
            | "application/x-executable"
            | "application/x-mach-binary"
            | "application/x-msi"
            | "application/x-ole-storage"
            | "text/x-shellscript"
    )
}

/// [`sniff`] from a shorter head: the first [`TEXT_SNIFF_BYTES`] of a file of `length` bytes
/// (all of a shorter one). `None` when that is not enough: the head is short of them, or the
/// file is an SVG, which is parsed whole.
pub fn sniff_prefix(head: &[u8], length: u64) -> Option<Sniffed> {
    let complete = head.len() >= TEXT_SNIFF_BYTES || head.len() as u64 == length;
    let head = &head[..head.len().min(TEXT_SNIFF_BYTES)];
    if !complete || text_prefix(head).is_some_and(|t| looks_like_svg(&t)) {
        return None;
    }
    Some(sniff(head))
}

/// Sniffs the type of a file from its first bytes ([`SNIFF_BYTES`]); an SVG is parsed whole.
pub fn sniff(whole_head: &[u8]) -> Sniffed {
    let head = &whole_head[..whole_head.len().min(TEXT_SNIFF_BYTES)];
    let text_head = text_prefix(head);
    if let Some(markup) = &text_head {
        if looks_like_svg(markup) {
            let active = whole_head.len() >= SNIFF_BYTES || svg_is_active(whole_head);
            return Sniffed { media_type: "image/svg+xml".into(), known: true, active, image: None };
        }
        if looks_like_html(markup) {
            return Sniffed { media_type: "text/html".into(), known: true, active: true, image: None };
        }
    }
    if let Some(t) = infer::get(head) {
        let media = normalise(t.mime_type()).to_owned();
        let image = match media.as_str() {
            "image/png" => Some(image::ImageFormat::Png),
            "image/jpeg" => Some(image::ImageFormat::Jpeg),
            "image/gif" => Some(image::ImageFormat::Gif),
            "image/webp" => Some(image::ImageFormat::WebP),
            "image/bmp" => Some(image::ImageFormat::Bmp),
            "image/tiff" => Some(image::ImageFormat::Tiff),
            _ => None,
        };
        let active = is_executable(&media) || media == "text/html";
        return Sniffed { media_type: media, known: true, active, image };
    }
    if text_head.is_some() {
        return Sniffed { media_type: "text/plain".into(), known: true, active: false, image: None };
    }
    Sniffed { media_type: "application/octet-stream".into(), known: false, active: false, image: None }
}

/// The head as lowercase text, when it is text (UTF-8 allowing a cut last character, no NULs).
fn text_prefix(head: &[u8]) -> Option<String> {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    if valid.contains('\0') {
        return None;
    }
    Some(valid.to_ascii_lowercase())
}

fn looks_like_html(t: &str) -> bool {
    let s = t.trim_start();
    const STARTS: &[&str] = &[
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
        "<meta",
        "<title",
        "<style",
        "<a ",
        "<div",
        "<img",
        "<table",
        "<h1",
        "<br",
        "<p>",
        "<p ",
        "<font",
        "<b>",
        "<!--",
    ];
    STARTS.iter().any(|p| s.starts_with(p)) || t.contains("<script") || t.contains("<html")
}

fn looks_like_svg(t: &str) -> bool {
    let s = t.trim_start();
    (s.starts_with("<?xml") || s.starts_with("<svg") || s.starts_with("<!doctype svg") || s.starts_with("<!--"))
        && t.contains("<svg")
}

/// Compares what the sender claimed (declared type and file extension) with what the bytes are.
///
/// Refused: active content (HTML, SVG with script, executables) under any other claim; an
/// image claim whose bytes are not that image; a recognised type claimed as another
/// recognisable one.
pub fn compare(declared: &str, name: &str, sniffed: &Sniffed) -> Result<(), AppError> {
    if sniffed.media_type == "image/svg+xml" && sniffed.active {
        return Err(AppError::Refused(
            ErrorCode::UnsafeSvg,
            "the SVG image contains script or event handlers; it was refused".into(),
        ));
    }
    let claims = [Some(declared), type_of_extension(name)];
    for claim in claims.into_iter().flatten() {
        let claim = normalise(claim);
        if claim == sniffed.media_type || claim == "application/octet-stream" && !sniffed.active {
            continue;
        }
        // Office documents, e-books and Java archives are zip files inside.
        if claim == "application/zip" && is_zip_family(&sniffed.media_type) {
            continue;
        }
        let mismatch = sniffed.active
            || claim.starts_with("image/")
            || (sniffed.known && type_of_extension_known(claim) && sniffed.media_type != "text/plain");
        if mismatch {
            return Err(AppError::Refused(
                ErrorCode::TypeMismatch,
                format!("the file claims to be {claim} but its content is {}; it was refused", sniffed.media_type),
            ));
        }
    }
    Ok(())
}

fn is_zip_family(t: &str) -> bool {
    t == "application/zip"
        || t.starts_with("application/vnd.openxmlformats-officedocument.")
        || t.starts_with("application/vnd.oasis.opendocument.")
        || matches!(t, "application/epub+zip" | "application/java-archive" | "application/vnd.android.package-archive")
}

/// Types whose content the sniffer recognises reliably.
fn type_of_extension_known(t: &str) -> bool {
    matches!(
        t,
        "application/pdf"
            | "application/zip"
            | "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/bmp"
            | "image/tiff"
    ) || is_executable(t)
}

#[cfg(test)]
mod tests;
