//! How a request changes when it follows a redirect, as browsers and undici do.

use http::{header, HeaderMap, Method, StatusCode};
use url::Url;

use super::error::{ErrorKind, FetchError, InvalidInput};

pub fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The next URL, resolved against the current one; only http and https.
pub fn next_url(current: &Url, location: &str) -> Result<Url, FetchError> {
    let next = current.join(location).map_err(|e| {
        FetchError::new(
            ErrorKind::Protocol,
            format!("Invalid redirect location: {location}"),
        )
        .with_cause(e)
    })?;
    match next.scheme() {
        "http" | "https" => Ok(next),
        other => Err(FetchError::invalid(
            InvalidInput::UrlScheme,
            format!("Redirect to a {other}: URL is not followed"),
        )),
    }
}

/// Whether the redirect turns the request into a GET without a body.
pub fn switches_to_get(status: StatusCode, method: &Method) -> bool {
    match status.as_u16() {
        303 => *method != Method::HEAD,
        301 | 302 => *method == Method::POST,
        _ => false,
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Drops what must not follow the request: credentials to another origin, and
/// the body's description when the body is dropped.
pub fn prune_headers(headers: &mut HeaderMap, from: &Url, to: &Url, body_dropped: bool) {
    if !same_origin(from, to) {
        headers.remove(header::AUTHORIZATION);
        headers.remove(header::COOKIE);
        headers.remove(header::PROXY_AUTHORIZATION);
    }
    if body_dropped {
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::CONTENT_LANGUAGE,
            header::CONTENT_LOCATION,
        ] {
            headers.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_becomes_get_on_301_302_303() {
        for code in [301, 302, 303] {
            assert!(switches_to_get(
                StatusCode::from_u16(code).unwrap(),
                &Method::POST
            ));
        }
        assert!(!switches_to_get(
            StatusCode::TEMPORARY_REDIRECT,
            &Method::POST
        ));
        assert!(!switches_to_get(StatusCode::SEE_OTHER, &Method::HEAD));
    }

    #[test]
    fn credentials_stay_on_their_origin() {
        let from = Url::parse("http://a.test/x").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "t".parse().unwrap());
        headers.insert(header::COOKIE, "c".parse().unwrap());
        prune_headers(
            &mut headers,
            &from,
            &Url::parse("http://a.test:80/y").unwrap(),
            false,
        );
        assert_eq!(headers.len(), 2);
        prune_headers(
            &mut headers,
            &from,
            &Url::parse("http://b.test/y").unwrap(),
            false,
        );
        assert!(headers.is_empty());
    }

    #[test]
    fn only_http_schemes_are_followed() {
        let from = Url::parse("http://a.test/x").unwrap();
        assert_eq!(next_url(&from, "/y").unwrap().as_str(), "http://a.test/y");
        assert!(next_url(&from, "ftp://a.test/").is_err());
    }
}
