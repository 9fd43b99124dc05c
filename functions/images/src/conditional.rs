//! `If-None-Match` (RFC 9110 §13.1.2): whether a client's copy is current.

/// Whether the `If-None-Match` header value names `etag` (or is `*`), so that a GET answers
/// 304. Entity tags are compared weakly (a `W/` prefix is ignored on either side); a value
/// that stops parsing matches nothing after that point.
pub(crate) fn none_match(header: &[u8], etag: &str) -> bool {
    let current = opaque(etag.as_bytes());
    let mut rest = header;
    loop {
        rest = trim_start(rest, |b| b == b',' || b == b' ' || b == b'\t');
        if rest.is_empty() {
            return false;
        }
        if rest[0] == b'*' {
            return true;
        }
        let tag = rest.strip_prefix(b"W/").unwrap_or(rest);
        let Some(body) = tag.strip_prefix(b"\"") else {
            return false;
        };
        let Some(end) = body.iter().position(|&b| b == b'"') else {
            return false;
        };
        if current == Some(&body[..end]) {
            return true;
        }
        rest = &body[end + 1..];
    }
}

/// The quoted part of an entity tag, without its quotes.
fn opaque(etag: &[u8]) -> Option<&[u8]> {
    let etag = etag.strip_prefix(b"W/").unwrap_or(etag);
    etag.strip_prefix(b"\"")?.strip_suffix(b"\"")
}

fn trim_start(bytes: &[u8], skip: impl Fn(u8) -> bool) -> &[u8] {
    let start = bytes.iter().position(|&b| !skip(b)).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETAG: &str = "\"5d41402abc4b2a76b9719d911017c592\"";

    #[test]
    fn the_current_etag_matches_alone_or_in_a_list() {
        assert!(none_match(ETAG.as_bytes(), ETAG));
        assert!(none_match(format!("W/{ETAG}").as_bytes(), ETAG));
        assert!(none_match(format!("\"other\", {ETAG}").as_bytes(), ETAG));
        assert!(none_match(format!("\"a,b\",{ETAG}").as_bytes(), ETAG));
        assert!(none_match(b"*", ETAG));
        assert!(none_match(b" \"x\" , *", ETAG));
        assert!(none_match(b"\"1-2\"", "W/\"1-2\""));
    }

    #[test]
    fn other_or_malformed_values_do_not() {
        for header in [
            &b""[..],
            b"\"other\"",
            b"5d41402abc4b2a76b9719d911017c592",
            b"\"5d41402abc4b2a76b9719d911017c592",
            b"w/\"5d41402abc4b2a76b9719d911017c592\"",
            b"garbage, \"5d41402abc4b2a76b9719d911017c592\"",
        ] {
            assert!(
                !none_match(header, ETAG),
                "{:?}",
                String::from_utf8_lossy(header)
            );
        }
        // An object without an ETag is never current.
        assert!(!none_match(b"\"\"", ""));
    }
}
