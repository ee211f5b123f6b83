//! tus 1.0 header values: versions, extensions, lengths, metadata, checksums, expiry dates.

use super::Checksum;
use attache_protocol::ErrorCode;
use base64::Engine;
use std::collections::HashMap;

/// The protocol version spoken.
pub const VERSION: &str = "1.0.0";
/// Extensions offered.
pub const EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
/// Checksum algorithms offered.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";
/// The PATCH body type.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// A non-negative decimal header value (`Upload-Length`, `Upload-Offset`): digits only, fits in
/// `u64`; a sign, spaces or an overflow is not a length.
pub fn parse_u64(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// `Upload-Metadata`: `key base64,key2 base64`. Keys are unique ASCII without spaces or commas;
/// values must decode and be UTF-8.
pub fn parse_metadata(v: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    if v.trim().is_empty() {
        return Ok(out);
    }
    for pair in v.split(',') {
        let pair = pair.trim();
        let (key, value) = match pair.split_once(' ') {
            Some((k, v)) => (k, v.trim()),
            None => (pair, ""),
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("metadata key '{}' is not valid", key.chars().take(40).collect::<String>()));
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| format!("metadata value of '{key}' is not base64"))?;
        let text = String::from_utf8(raw).map_err(|_| format!("metadata value of '{key}' is not UTF-8"))?;
        if out.insert(key.to_owned(), text).is_some() {
            return Err(format!("metadata key '{key}' is repeated"));
        }
    }
    Ok(out)
}

/// Encodes metadata (the SDK side, and tests).
pub fn encode_metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", base64::engine::general_purpose::STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// `Upload-Checksum: <algorithm> <base64 digest>`. `unsupported-checksum` for an algorithm not
/// offered (400 per the spec), `bad-checksum` for a malformed value.
pub fn parse_checksum(v: &str) -> Result<Checksum, ErrorCode> {
    let (algo, digest) = v.trim().split_once(' ').ok_or(ErrorCode::BadChecksum)?;
    let digest = base64::engine::general_purpose::STANDARD.decode(digest.trim()).map_err(|_| ErrorCode::BadChecksum)?;
    match algo {
        "sha1" if digest.len() == 20 => Ok(Checksum::Sha1(digest)),
        "sha256" if digest.len() == 32 => Ok(Checksum::Sha256(digest)),
        "sha1" | "sha256" => Err(ErrorCode::BadChecksum),
        _ => Err(ErrorCode::UnsupportedChecksum),
    }
}

/// An `Upload-Expires` value (RFC 9110 date).
pub fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    let secs = u64::try_from(t.timestamp()).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_plain_digits() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("5242880"), Some(5_242_880));
        for bad in ["", "-1", "+1", " 1", "1e3", "0x10", "99999999999999999999999", "18446744073709551616"] {
            assert_eq!(parse_u64(bad), None, "{bad}");
        }
    }

    #[test]
    fn metadata_round_trips_and_rejects_junk() {
        let enc = encode_metadata(&[("filename", "résumé.pdf"), ("contact", "abc")]);
        let m = parse_metadata(&enc).unwrap();
        assert_eq!(m["filename"], "résumé.pdf");
        assert_eq!(m["contact"], "abc");
        assert_eq!(parse_metadata("flag").unwrap()["flag"], "");
        assert!(parse_metadata("a !!!").is_err());
        assert!(parse_metadata("a YQ==,a YQ==").is_err());
        assert!(parse_metadata("ké YQ==").is_err());
    }

    #[test]
    fn checksums() {
        assert!(matches!(parse_checksum("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="), Ok(Checksum::Sha1(_))));
        assert_eq!(parse_checksum("md5 1B2M2Y8AsgTpgAmY7PhCfg=="), Err(ErrorCode::UnsupportedChecksum));
        assert_eq!(parse_checksum("sha1 nope"), Err(ErrorCode::BadChecksum));
        assert_eq!(parse_checksum("sha256"), Err(ErrorCode::BadChecksum));
    }
}
