//! The parts of an HTTP/1.1 request head that fetchpool decides rather than
//! the caller, in one place for both paths: the fast path (wire.rs) writes
//! them, the pooled path hands them to hyper as fields.
//! - `Host`: the target's host, with its port only when it is not the
//!   scheme's default, unless the request names one;
//! - `Content-Length`: the body's own length, sent when the body is not
//!   empty, the method defines one (POST, PUT, PATCH) or the fields name
//!   one; never with `Transfer-Encoding`, which frames the body itself.

use http::{header, HeaderMap, Method, Uri};

/// The `Host` a request to `uri` sends, as host and port (the port only
/// when not the scheme's default); None when `fields` name one.
pub fn implied_host<'u>(uri: &'u Uri, fields: &HeaderMap) -> Option<(&'u str, Option<u16>)> {
    if fields.contains_key(header::HOST) {
        return None;
    }
    let host = uri.host()?;
    let default = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    Some((host, uri.port_u16().filter(|&p| p != default)))
}

/// The `Content-Length` a request with a body of `body_len` bytes sends.
pub fn implied_length(method: &Method, fields: &HeaderMap, body_len: usize) -> Option<usize> {
    if fields.contains_key(header::TRANSFER_ENCODING) {
        return None;
    }
    let sized = body_len > 0
        || matches!(*method, Method::POST | Method::PUT | Method::PATCH)
        || fields.contains_key(header::CONTENT_LENGTH);
    sized.then_some(body_len)
}

/// Adds the implied `Host` and `Content-Length` to `fields`, for a request
/// that hyper writes.
pub fn add_implied(fields: &mut HeaderMap, method: &Method, uri: &Uri, body_len: usize) {
    if let Some((host, port)) = implied_host(uri, fields) {
        let value = match port {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        if let Ok(value) = value.parse() {
            fields.insert(header::HOST, value);
        }
    }
    if let Some(len) = implied_length(method, fields, body_len) {
        fields.insert(header::CONTENT_LENGTH, len.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_has_its_port_only_when_not_the_default() {
        let none = HeaderMap::new();
        let uri: Uri = "http://a.test/x".parse().unwrap();
        assert_eq!(implied_host(&uri, &none), Some(("a.test", None)));
        let uri: Uri = "http://a.test:8080/x".parse().unwrap();
        assert_eq!(implied_host(&uri, &none), Some(("a.test", Some(8080))));
        let uri: Uri = "https://a.test:443/x".parse().unwrap();
        assert_eq!(implied_host(&uri, &none), Some(("a.test", None)));
        let uri: Uri = "https://[::1]:80/x".parse().unwrap();
        assert_eq!(implied_host(&uri, &none), Some(("[::1]", Some(80))));
        let mut given = HeaderMap::new();
        given.insert(header::HOST, "b.test".parse().unwrap());
        assert_eq!(implied_host(&uri, &given), None);
    }

    #[test]
    fn length_is_the_bodys_own_and_never_beside_transfer_encoding() {
        let none = HeaderMap::new();
        assert_eq!(implied_length(&Method::GET, &none, 0), None);
        assert_eq!(implied_length(&Method::DELETE, &none, 0), None);
        assert_eq!(implied_length(&Method::POST, &none, 0), Some(0));
        assert_eq!(implied_length(&Method::DELETE, &none, 3), Some(3));
        let mut chunked = HeaderMap::new();
        chunked.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        assert_eq!(implied_length(&Method::POST, &chunked, 3), None);
    }

    #[test]
    fn a_length_the_caller_names_is_sent_even_for_an_empty_body() {
        let mut named = HeaderMap::new();
        named.insert(header::CONTENT_LENGTH, "9".parse().unwrap());
        assert_eq!(implied_length(&Method::GET, &named, 0), Some(0));
        assert_eq!(implied_length(&Method::PUT, &HeaderMap::new(), 0), Some(0));
        assert_eq!(
            implied_length(&Method::PATCH, &HeaderMap::new(), 0),
            Some(0)
        );
        assert_eq!(implied_length(&Method::GET, &HeaderMap::new(), 1), Some(1));
    }

    #[test]
    fn the_pooled_path_gets_the_same_fields_as_fields() {
        let mut fields = HeaderMap::new();
        let uri: Uri = "http://a.test:8080/x".parse().unwrap();
        add_implied(&mut fields, &Method::POST, &uri, 5);
        assert_eq!(fields[header::HOST], "a.test:8080");
        assert_eq!(fields[header::CONTENT_LENGTH], "5");
        let mut fields = HeaderMap::new();
        add_implied(
            &mut fields,
            &Method::GET,
            &"https://a.test/".parse().unwrap(),
            0,
        );
        assert_eq!(fields[header::HOST], "a.test");
        assert!(!fields.contains_key(header::CONTENT_LENGTH));
    }
}
