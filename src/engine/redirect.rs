//! How a request changes when it follows a redirect, as browsers and undici do.

use http::{header, HeaderMap, Method, StatusCode, Uri};
use url::Url;

use super::config::RedirectMode;
use super::error::{ErrorKind, FetchError, InvalidInput};
use super::request::{strip_userinfo, to_uri};
use super::userinfo::without_userinfo;

pub fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// What a call does with a redirect: follows it, up to `max` in all;
/// refuses it (`redirect: 'error'`); or hands it back as the response
/// (`redirect: 'manual'`).
pub struct RedirectPolicy {
    mode: RedirectMode,
    max: u32,
    followed: u32,
}

impl RedirectPolicy {
    pub fn new(mode: RedirectMode, max: u32) -> Self {
        RedirectPolicy {
            mode,
            max,
            followed: 0,
        }
    }

    /// The `Location` to follow from a response of `status` to `from`, or
    /// None when the response is the answer. Counts it as followed.
    pub fn location(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        from: &str,
    ) -> Result<Option<String>, FetchError> {
        if !is_redirect(status) || self.mode == RedirectMode::Manual {
            return Ok(None);
        }
        let Some(location) = headers.get(header::LOCATION) else {
            return Ok(None);
        };
        if self.mode == RedirectMode::Error {
            return Err(FetchError::new(
                ErrorKind::TooManyRedirects,
                format!("Redirect from {from} refused (redirect: 'error')"),
            ));
        }
        self.followed += 1;
        if self.followed > self.max {
            return Err(FetchError::new(
                ErrorKind::TooManyRedirects,
                format!("More than {} redirects", self.max),
            ));
        }
        Ok(Some(
            String::from_utf8_lossy(location.as_bytes()).into_owned(),
        ))
    }

    /// Redirects followed so far.
    pub fn followed(&self) -> u32 {
        self.followed
    }
}

/// Longest part of a server's `Location` that a message quotes.
const SHOWN_LOCATION: usize = 200;

/// The next URL, resolved against the current one, and its `Uri`; only http
/// and https. A `Location` that cannot be followed is the server's fault
/// (`ERR_HTTP_PROTOCOL`), and the message quotes only its start.
pub fn next_url(current: &Url, location: &str) -> Result<(Url, Uri), FetchError> {
    let shown = || {
        let cut = location.floor_char_boundary(SHOWN_LOCATION);
        let more = if cut < location.len() { "…" } else { "" };
        format!("{}{more}", without_userinfo(&location[..cut]))
    };
    let invalid = || {
        FetchError::new(
            ErrorKind::Protocol,
            format!("Invalid redirect location: {}", shown()),
        )
    };
    let next = current
        .join(location)
        .map_err(|e| invalid().with_cause(e))?;
    match next.scheme() {
        "http" | "https" => {}
        other => {
            return Err(FetchError::invalid(
                InvalidInput::UrlScheme,
                format!("Redirect to a {other}: URL is not followed"),
            ))
        }
    }
    let next = strip_userinfo(next);
    let uri = to_uri(&next).map_err(|_| invalid())?;
    Ok((next, uri))
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

/// Fields that speak for one origin: credentials, and a caller's `Host`,
/// which would name the old origin to the new one. A scheme change (an
/// https to http downgrade above all) makes another origin too.
pub const ORIGIN_BOUND: [header::HeaderName; 4] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
    header::HOST,
];

/// Whether `name` is one of [`ORIGIN_BOUND`].
pub fn is_origin_bound(name: &header::HeaderName) -> bool {
    ORIGIN_BOUND.contains(name)
}

/// Drops what must not follow the request: credentials to another origin, and
/// the body's description when the body is dropped. Returns whether the
/// redirect leaves the origin: the caller then withholds its own defaults
/// of the same names from this hop and every later one.
#[must_use]
pub fn prune_headers(headers: &mut HeaderMap, from: &Url, to: &Url, body_dropped: bool) -> bool {
    let leaves = !same_origin(from, to);
    if leaves {
        for name in ORIGIN_BOUND {
            headers.remove(name);
        }
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
    leaves
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
        headers.insert(header::HOST, "a.test".parse().unwrap());
        assert!(!prune_headers(
            &mut headers,
            &from,
            &Url::parse("http://a.test:80/y").unwrap(),
            false,
        ));
        assert_eq!(headers.len(), 3);
        assert!(prune_headers(
            &mut headers,
            &from,
            &Url::parse("http://b.test/y").unwrap(),
            false,
        ));
        assert!(headers.is_empty());
    }

    #[test]
    fn a_downgrade_to_http_leaves_the_origin() {
        let from = Url::parse("https://a.test/x").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "t".parse().unwrap());
        assert!(prune_headers(
            &mut headers,
            &from,
            &Url::parse("http://a.test/y").unwrap(),
            false,
        ));
        assert!(headers.is_empty());
    }

    #[test]
    fn only_http_schemes_are_followed() {
        let from = Url::parse("http://a.test/x").unwrap();
        assert_eq!(next_url(&from, "/y").unwrap().0.as_str(), "http://a.test/y");
        assert!(next_url(&from, "ftp://a.test/").is_err());
    }

    fn location_to(to: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, to.parse().unwrap());
        headers
    }

    #[test]
    fn only_redirect_statuses_redirect() {
        for code in [301, 302, 303, 307, 308] {
            assert!(is_redirect(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [200, 300, 304, 305, 306, 309] {
            assert!(!is_redirect(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn a_policy_follows_up_to_its_maximum() {
        let to = location_to("/next");
        let mut policy = RedirectPolicy::new(RedirectMode::Follow, 2);
        for n in 1..=2 {
            let next = policy.location(StatusCode::FOUND, &to, "http://a.test/");
            assert_eq!(next.unwrap().as_deref(), Some("/next"));
            assert_eq!(policy.followed(), n);
        }
        let third = policy.location(StatusCode::FOUND, &to, "http://a.test/");
        assert!(matches!(
            third.err().map(|e| e.code()),
            Some("ERR_TOO_MANY_REDIRECTS")
        ));
        // Not a redirect, or one without a Location: the response is the answer.
        let mut policy = RedirectPolicy::new(RedirectMode::Follow, 0);
        let ok = policy.location(StatusCode::OK, &to, "http://a.test/");
        assert_eq!(ok.unwrap(), None);
        let bare = policy.location(StatusCode::FOUND, &HeaderMap::new(), "http://a.test/");
        assert_eq!(bare.unwrap(), None);
        assert_eq!(policy.followed(), 0);
    }

    #[test]
    fn manual_hands_the_redirect_back_and_error_refuses_it() {
        let to = location_to("/next");
        let mut manual = RedirectPolicy::new(RedirectMode::Manual, 5);
        assert_eq!(
            manual
                .location(StatusCode::FOUND, &to, "http://a.test/")
                .unwrap(),
            None
        );
        let mut error = RedirectPolicy::new(RedirectMode::Error, 5);
        let refused = error.location(StatusCode::FOUND, &to, "http://a.test/");
        assert!(matches!(
            refused.err().map(|e| e.code()),
            Some("ERR_TOO_MANY_REDIRECTS")
        ));
        // Without a Location there is nothing to refuse.
        let bare = error.location(StatusCode::FOUND, &HeaderMap::new(), "http://a.test/");
        assert_eq!(bare.unwrap(), None);
    }

    #[test]
    fn get_stays_get_and_303_turns_any_other_method_to_get() {
        assert!(switches_to_get(StatusCode::SEE_OTHER, &Method::PUT));
        assert!(switches_to_get(StatusCode::SEE_OTHER, &Method::GET));
        for code in [301, 302] {
            let status = StatusCode::from_u16(code).unwrap();
            assert!(!switches_to_get(status, &Method::PUT), "{code}");
            assert!(!switches_to_get(status, &Method::HEAD), "{code}");
        }
        assert!(!switches_to_get(
            StatusCode::PERMANENT_REDIRECT,
            &Method::POST
        ));
    }

    #[test]
    fn another_host_or_port_is_another_origin() {
        let from = Url::parse("http://a.test/x").unwrap();
        for to in ["http://a.test:8080/y", "http://b.test/x"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, "c".parse().unwrap());
            let to = Url::parse(to).unwrap();
            assert!(prune_headers(&mut headers, &from, &to, false), "{to}");
            assert!(headers.is_empty(), "{to}");
        }
    }

    #[test]
    fn a_dropped_body_takes_its_description_along() {
        let from = Url::parse("http://a.test/x").unwrap();
        let mut headers = HeaderMap::new();
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::CONTENT_LANGUAGE,
            header::CONTENT_LOCATION,
            header::ACCEPT,
        ] {
            headers.insert(name, "v".parse().unwrap());
        }
        let kept = headers.clone();
        assert!(!prune_headers(&mut headers, &from, &from, false));
        assert_eq!(headers, kept);
        assert!(!prune_headers(&mut headers, &from, &from, true));
        assert_eq!(headers.keys().collect::<Vec<_>>(), [header::ACCEPT]);
    }

    #[test]
    fn origin_bound_fields_are_credentials_and_host() {
        for name in ORIGIN_BOUND {
            assert!(is_origin_bound(&name), "{name}");
        }
        assert!(!is_origin_bound(&header::ACCEPT));
        assert!(!is_origin_bound(&header::CONTENT_TYPE));
    }

    #[test]
    fn a_bad_location_is_quoted_only_in_part() {
        let from = Url::parse("http://a.test/x").unwrap();
        let fits = format!("http://[{}", "a".repeat(SHOWN_LOCATION - 8));
        assert_eq!(fits.len(), SHOWN_LOCATION);
        let failed = next_url(&from, &fits).unwrap_err();
        assert_eq!(failed.code(), "ERR_HTTP_PROTOCOL");
        assert!(failed.message().ends_with(&fits), "{}", failed.message());
        let long = format!("{fits}a");
        let failed = next_url(&from, &long).unwrap_err();
        assert!(
            failed.message().ends_with(&format!("{fits}…")),
            "{}",
            failed.message()
        );
    }
}
