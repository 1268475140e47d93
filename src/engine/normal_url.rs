//! A quick check for the URLs most lists are made of: absolute http(s) URLs
//! already in the form WHATWG's URL parser gives back. Such a URL is valid
//! and its own serialization, so it need not be parsed when a request is
//! checked; a `Url` is made from it only if a redirect needs one. Anything
//! the check is not sure of goes to the full parser, so it can only say yes
//! where the parser would return the input unchanged (the tests below hold
//! it to that).

/// Whether `input` is in normal form. Accepted, byte for byte:
/// - `http://` or `https://`, in lower case;
/// - a host of non-empty lower-case labels of letters, digits and `-` (none
///   starting `xn--`), or, when the last label looks like a number (which
///   makes WHATWG read the host as IPv4), a dotted-decimal IPv4 address in
///   canonical form;
/// - no user info, and a port only when it is not the scheme's default,
///   written without leading zeros;
/// - a path from `/` without dot segments, of characters the parser keeps
///   as they are, `%` only before two hex digits (not an encoded dot);
/// - an optional query of such characters, and no fragment.
pub fn is_normal_http(input: &str) -> bool {
    let bytes = input.as_bytes();
    let (https, rest) = if let Some(rest) = bytes.strip_prefix(b"http://") {
        (false, rest)
    } else if let Some(rest) = bytes.strip_prefix(b"https://") {
        (true, rest)
    } else {
        return false;
    };
    let Some(slash) = rest.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (authority, target) = rest.split_at(slash);
    let (host, port) = match authority.iter().position(|&b| b == b':') {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    };
    if !normal_host(host) {
        return false;
    }
    if let Some(port) = port {
        if !normal_port(port, if https { 443 } else { 80 }) {
            return false;
        }
    }
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    };
    normal_path(path) && query.is_none_or(normal_query)
}

fn normal_host(host: &[u8]) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let labels = || host.split(|&b| b == b'.');
    let last = labels().next_back().unwrap_or_default();
    let numeric = !last.is_empty()
        && (last.iter().all(u8::is_ascii_digit)
            || last.starts_with(b"0x")
            || last.starts_with(b"0X"));
    if numeric {
        return canonical_ipv4(host);
    }
    labels().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with(b"xn--")
            && label
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

fn canonical_ipv4(host: &[u8]) -> bool {
    let mut parts = 0;
    for part in host.split(|&b| b == b'.') {
        parts += 1;
        let canonical = !part.is_empty()
            && part.len() <= 3
            && part.iter().all(u8::is_ascii_digit)
            && (part.len() == 1 || part[0] != b'0')
            && part.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 255;
        if !canonical {
            return false;
        }
    }
    parts == 4
}

fn normal_port(port: &[u8], default: u32) -> bool {
    if port.is_empty() || port.len() > 5 || port[0] == b'0' || !port.iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let n = port.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    n <= 65535 && n != default
}

/// Characters the parser keeps as they are in a path and a query alike.
fn kept(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// `%` followed by two hex digits that do not encode a dot.
fn escapes_ok(text: &[u8]) -> bool {
    let mut at = 0;
    while let Some(found) = text[at..].iter().position(|&b| b == b'%') {
        let pct = at + found;
        match text.get(pct + 1..pct + 3) {
            Some([hi, lo]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                if *hi == b'2' && (*lo == b'e' || *lo == b'E') {
                    return false;
                }
            }
            _ => return false,
        }
        at = pct + 3;
    }
    true
}

fn normal_path(path: &[u8]) -> bool {
    path.first() == Some(&b'/')
        && path.iter().all(|&b| kept(b) || b == b'%')
        && path
            .split(|&b| b == b'/')
            .all(|segment| segment != b"." && segment != b"..")
        && escapes_ok(path)
}

fn normal_query(query: &[u8]) -> bool {
    query.iter().all(|&b| kept(b) || b == b'?' || b == b'%') && escapes_ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::limits::host_key;
    use crate::engine::request::{Checked, RawRequest};
    use url::Url;

    /// The rule the check lives by: a yes means the parser gives the input
    /// back unchanged, as an http(s) URL with a host.
    fn holds(input: &str) {
        if is_normal_http(input) {
            let url = Url::parse(input).unwrap_or_else(|e| panic!("{input:?} accepted: {e}"));
            assert_eq!(url.as_str(), input, "accepted but not normal");
            assert!(matches!(url.scheme(), "http" | "https"));
            assert!(url.host_str().is_some_and(|h| !h.is_empty()));
            // Such a URL waits as its `Uri` alone, and the request made
            // from it as it starts is the one the parser's URL would give.
            let (given, checked) = RawRequest::get(input).check();
            assert!(
                given.is_empty(),
                "{input:?}: the URL moves into the request"
            );
            let checked = checked.unwrap_or_else(|e| panic!("{input:?} refused: {e:?}"));
            assert!(
                matches!(checked, Checked::Plain(_)),
                "{input:?} waits plain"
            );
            let req = checked.into_request();
            assert_eq!(req.href, input);
            assert!(!req.rewritten);
            assert_eq!(req.uri.to_string(), input);
            assert_eq!(
                req.key,
                host_key(url.scheme(), url.host_str().unwrap_or(""), url.port())
            );
        }
    }

    #[test]
    fn everyday_urls_are_normal() {
        for url in [
            "http://127.0.0.1:8080/f.bin?r=0&i=12",
            "https://example.com/",
            "https://api.example.com/v1/items/42?fields=a,b&sort=-date",
            "http://localhost:3000/a/b-c_d~e/%20x",
            "https://a.b.c.example/path/with:colon@at;semi=1",
            "http://10.0.0.255:65535/",
            "https://1.example/x?y=%2F",
        ] {
            assert!(is_normal_http(url), "{url}");
            holds(url);
        }
    }

    #[test]
    fn anything_the_parser_would_change_is_not() {
        for url in [
            "HTTP://example.com/",
            "http://Example.com/",
            "http://example.com",
            "http://example.com?q",
            "http://example.com:80/",
            "https://example.com:443/",
            "http://example.com:080/",
            "http://example.com:/",
            "http://example.com:99999/",
            "http://user@example.com/",
            "http://user:pw@example.com/",
            "http://example.com/a/../b",
            "http://example.com/a/./b",
            "http://example.com/a/%2e/b",
            "http://example.com/a/.%2E/b",
            "http://example.com/a b",
            "http://example.com/a|b",
            "http://example.com/a\\b",
            "http://example.com/?q='x'",
            "http://example.com/?q=\"x\"",
            "http://example.com/#frag",
            "http://example.com/%zz",
            "http://example.com/%4",
            "http://xn--nxasmq6b.example/",
            "http://example..com/",
            "http://example.com./",
            "http://0x7f.1/",
            "http://127.1/",
            "http://127.0.0.01/",
            "http://256.0.0.1/",
            "http://1.2.3.4.5/",
            "http://a.0x10/",
            "http://a.123/",
            "http://[::1]:8080/",
            "http://exämple.com/",
            "ftp://example.com/",
            "http:/example.com/",
            "http:///example.com/",
        ] {
            assert!(!is_normal_http(url), "{url}");
        }
    }

    #[test]
    fn random_inputs_never_break_the_rule() {
        const PIECES: &[&str] = &[
            "http://", "https://", "a", "Z", "0", "1", "9", "25", "255", "256", "0x", "xn--", "-",
            ".", "..", "/", ":", "80", "443", "8080", "@", "?", "#", "%", "2e", "2E", "41", "zz",
            "&", "=", "'", "\"", " ", "\\", "|", "[", "]", "^", "`", "{", "}", "<", ">", "~", "é",
            "\t", "!", "*", "(", ";", ",",
        ];
        // A small linear congruential generator: the same inputs every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % n
        };
        let mut accepted = 0;
        for _ in 0..200_000 {
            let mut input = String::from(if next(2) == 0 { "http://" } else { "https://" });
            for _ in 0..next(12) {
                input.push_str(PIECES[next(PIECES.len())]);
            }
            accepted += usize::from(is_normal_http(&input));
            holds(&input);
        }
        assert!(
            accepted > 100,
            "the inputs reach the accepting side ({accepted})"
        );
    }
}
