//! A request as the caller describes it, and its validation before sending.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use url::Url;

use super::error::{FetchError, InvalidInput};
use super::integrity::Integrity;
use super::limits::host_key;
use super::normal_url::is_normal_http;
use super::save::SaveOptions;
use super::userinfo::without_userinfo;

/// A request as it arrives, not yet checked.
#[derive(Clone, Debug, Default)]
pub struct RawRequest {
    pub url: String,
    pub method: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
    /// Overrides the call's total timeout for this request.
    pub timeout: Option<Duration>,
    /// Overrides the call's `max_body_size` for this request.
    pub max_body_size: Option<u64>,
    /// Stream the body to this file instead of buffering it.
    pub save_to: Option<PathBuf>,
    /// How `save_to` treats its file (`integrity` is checked with the rest).
    pub save_options: SaveOptions,
    /// The Subresource Integrity string the saved body must match.
    pub integrity: Option<String>,
    /// The request has its own AbortSignal and can be cancelled alone.
    pub abortable: bool,
}

impl RawRequest {
    pub fn get(url: impl Into<String>) -> Self {
        RawRequest {
            url: url.into(),
            ..Default::default()
        }
    }
}

/// A request that passed validation and can be sent.
#[derive(Clone, Debug)]
pub struct Request {
    /// The URL in WHATWG's serialization.
    pub href: String,
    /// `href` differs from the URL as given (which was not in normal form).
    pub rewritten: bool,
    /// `href` as sent, and its origin's key (`limits::host_key`): worked out
    /// with the rest of the checks, before the request reaches a worker.
    pub uri: Uri,
    pub key: String,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub timeout: Option<Duration>,
    pub max_body_size: Option<u64>,
    pub save_to: Option<PathBuf>,
    pub save_options: SaveOptions,
}

/// Parses an absolute http(s) URL, as WHATWG's URL parser does.
pub fn parse_url(input: &str) -> Result<Url, FetchError> {
    let url = Url::parse(input).map_err(|e| {
        let shown = without_userinfo(input);
        FetchError::invalid(InvalidInput::Url, format!("Invalid URL: {shown}")).with_cause(e)
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(FetchError::invalid(
                InvalidInput::UrlScheme,
                format!("The URL scheme must be http or https, got {other}:"),
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FetchError::invalid(
            InvalidInput::Url,
            format!("Invalid URL: {}", without_userinfo(input)),
        ));
    }
    Ok(strip_userinfo(url))
}

/// The URL less its user info. User info is never sent: not in a request
/// line to a proxy nor in HTTP/2's `:authority` (RFC 9110 §4.2.4, RFC 9113
/// §8.3.1), nor as credentials that a redirect could carry elsewhere.
pub fn strip_userinfo(mut url: Url) -> Url {
    if !url.username().is_empty() || url.password().is_some() {
        // Neither can fail on an http(s) URL, which always has a host.
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    url
}

/// The `Uri` hyper sends to, for an already validated URL.
pub fn to_uri(url: &Url) -> Result<Uri, FetchError> {
    // The fragment never goes on the wire.
    let end = url.as_str().find('#').unwrap_or(url.as_str().len());
    url.as_str()[..end].parse::<Uri>().map_err(|e| {
        FetchError::invalid(InvalidInput::Url, format!("Invalid URL: {url}")).with_cause(e)
    })
}

/// The origin key (`limits::host_key`) of an absolute http(s) `Uri`.
fn key_of(uri: &Uri) -> String {
    host_key(
        uri.scheme_str().unwrap_or("http"),
        uri.host().unwrap_or(""),
        uri.port_u16(),
    )
}

/// A request that passed every check and waits for its turn.
///
/// A plain GET of a URL in normal form, the bulk of most lists, waits as its
/// parsed `Uri` alone, sharing the URL's text, and becomes a [`Request`] only
/// as it starts, on the worker that runs it: checking a long list then costs
/// a scan and a parse per URL, and holds a fraction of the memory.
#[derive(Debug)]
pub enum Checked {
    Plain(Uri),
    Full(Box<Request>),
}

impl Checked {
    pub fn into_request(self) -> Box<Request> {
        match self {
            Checked::Full(req) => req,
            Checked::Plain(uri) => {
                let scheme = uri.scheme_str().unwrap_or("http");
                let authority = uri.authority().map_or("", |a| a.as_str());
                let target = uri.path_and_query().map_or("/", |p| p.as_str());
                let mut href =
                    String::with_capacity(scheme.len() + 3 + authority.len() + target.len());
                href.push_str(scheme);
                href.push_str("://");
                href.push_str(authority);
                href.push_str(target);
                let key = key_of(&uri);
                Box::new(Request {
                    href,
                    rewritten: false,
                    uri,
                    key,
                    method: Method::GET,
                    headers: HeaderMap::new(),
                    body: Bytes::new(),
                    timeout: None,
                    max_body_size: None,
                    save_to: None,
                    save_options: SaveOptions::default(),
                })
            }
        }
    }
}

impl RawRequest {
    pub fn validate(self) -> Result<Request, FetchError> {
        self.check().1.map(|checked| *checked.into_request())
    }

    /// A GET of the URL alone, with no option of its own.
    fn is_plain(&self) -> bool {
        self.method.is_none()
            && self.headers.is_empty()
            && self.body.is_none()
            && self.timeout.is_none()
            && self.max_body_size.is_none()
            && self.save_to.is_none()
            && self.integrity.is_none()
    }

    /// Checks the request; gives back the URL as given beside the outcome.
    ///
    /// A URL in normal form moves into the request's `href`, and the string
    /// given back is then empty: the URL as given is `href`.
    pub fn check(mut self) -> (String, Result<Checked, FetchError>) {
        let mut input = std::mem::take(&mut self.url);
        if self.is_plain() && is_normal_http(&input) {
            // The `Uri` keeps the URL's own bytes: no copy.
            let text = Bytes::from(input);
            return match Uri::from_maybe_shared(text.clone()) {
                Ok(uri) => (String::new(), Ok(Checked::Plain(uri))),
                Err(e) => {
                    let input = String::from_utf8_lossy(&text).into_owned();
                    let error =
                        FetchError::invalid(InvalidInput::Url, format!("Invalid URL: {input}"))
                            .with_cause(e);
                    (input, Err(error))
                }
            };
        }
        let checked = self
            .checked(&mut input)
            .map(|req| Checked::Full(Box::new(req)));
        // The URL as given is shown in errors: never with its user info. A
        // refused request whose URL parses with a host (a scheme or a method
        // refused) is shown as given when it has none, else as its href less
        // it; one that does not parse, or has no host (`user:pass@host`
        // without a scheme parses as the scheme `user:`), is cut at its last
        // `@` (as lib/errors.js `shownUrl` does for the requests JavaScript
        // refuses).
        if input.contains('@') {
            input = match &checked {
                Ok(Checked::Full(req)) => req.href.clone(),
                _ => match Url::parse(&input) {
                    Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => {
                        if url.username().is_empty() && url.password().is_none() {
                            input
                        } else {
                            strip_userinfo(url).to_string()
                        }
                    }
                    _ => without_userinfo(&input).into_owned(),
                },
            };
        }
        (input, checked)
    }

    fn checked(self, input: &mut String) -> Result<Request, FetchError> {
        let (href, rewritten, uri, key) = target_of(input)?;
        let method = method_of(self.method.as_deref())?;
        let headers = fields_of(&self.headers)?;
        if matches!(method, Method::GET | Method::HEAD)
            && self.body.as_ref().is_some_and(|b| !b.is_empty())
        {
            return Err(FetchError::invalid(
                InvalidInput::ArgValue,
                "Request with GET/HEAD method cannot have body",
            ));
        }
        let mut save_options = self.save_options;
        if let Some(integrity) = &self.integrity {
            save_options.integrity = Some(Integrity::parse(integrity)?);
        }
        Ok(Request {
            // Taken only now: a check above that fails reports the URL as given.
            href: href.unwrap_or_else(|| std::mem::take(input)),
            rewritten,
            uri,
            key,
            method,
            headers,
            body: self.body.unwrap_or_default(),
            timeout: self.timeout,
            max_body_size: self.max_body_size,
            save_to: self.save_to,
            save_options,
        })
    }
}

/// The request's target: its `href` where parsing rewrote the URL given,
/// whether it did, its `Uri` and its origin's key. Most URLs are already in
/// normal form and need no parse into a `Url` (see normal_url.rs).
fn target_of(input: &str) -> Result<(Option<String>, bool, Uri, String), FetchError> {
    if is_normal_http(input) {
        let uri: Uri = input.parse().map_err(|e| {
            FetchError::invalid(InvalidInput::Url, format!("Invalid URL: {input}")).with_cause(e)
        })?;
        let key = key_of(&uri);
        return Ok((None, false, uri, key));
    }
    let url = parse_url(input)?;
    let uri = to_uri(&url)?;
    let key = host_key(url.scheme(), url.host_str().unwrap_or(""), url.port());
    let href = String::from(url);
    let rewritten = href != input;
    Ok((Some(href), rewritten, uri, key))
}

/// The request's method: well-known ones in upper case, as fetch does.
fn method_of(method: Option<&str>) -> Result<Method, FetchError> {
    let Some(m) = method else {
        return Ok(Method::GET);
    };
    let upper = m.to_ascii_uppercase();
    // Extension methods keep their case.
    let name = match upper.as_str() {
        "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "OPTIONS" | "PATCH" => &upper,
        _ => m,
    };
    let invalid = || {
        FetchError::invalid(
            InvalidInput::HttpToken,
            format!("Method must be a valid HTTP token [\"{m}\"]"),
        )
    };
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(invalid());
    }
    // CONNECT asks for a tunnel, not a resource; fetch and undici refuse
    // it too, in any case.
    if upper == "CONNECT" {
        return Err(FetchError::invalid(
            InvalidInput::ArgValue,
            format!("Method must not be CONNECT, which asks for a tunnel [\"{m}\"]"),
        ));
    }
    Method::from_bytes(name.as_bytes()).map_err(|_| invalid())
}

/// The request's fields, checked: names are tokens, values hold no line
/// breaks, and the framing is fetchpool's (see `check_framing`).
fn fields_of(given: &[(String, String)]) -> Result<HeaderMap, FetchError> {
    let mut headers = HeaderMap::with_capacity(given.len());
    for (name, value) in given {
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            FetchError::invalid(
                InvalidInput::HttpToken,
                format!("Header name must be a valid HTTP token [\"{name}\"]"),
            )
        })?;
        let header_value = HeaderValue::from_str(value.trim_matches([' ', '\t']))
            .ok()
            .filter(|_| !value.contains(['\r', '\n', '\0']))
            .ok_or_else(|| {
                FetchError::invalid(
                    InvalidInput::HeaderChar,
                    format!("Invalid character in header content [\"{name}\"]"),
                )
            })?;
        // The body's length is fetchpool's to write, as fetch's is.
        if header_name == http::header::CONTENT_LENGTH {
            continue;
        }
        check_framing(&headers, &header_name, &header_value)?;
        headers.append(header_name, header_value);
    }
    Ok(headers)
}

/// One `Host` at most, and of `Transfer-Encoding` only a lone `chunked`:
/// the one coding fetchpool writes. Anything else would be sent as given
/// or rewritten, and read by servers and proxies each their own way.
fn check_framing(
    headers: &HeaderMap,
    name: &HeaderName,
    value: &HeaderValue,
) -> Result<(), FetchError> {
    let refused = |why: &str| {
        FetchError::invalid(
            InvalidInput::ArgValue,
            format!("Header {name} {why} [{value:?}]"),
        )
    };
    if *name == http::header::HOST && headers.contains_key(http::header::HOST) {
        return Err(refused("may be given once"));
    }
    if *name == http::header::TRANSFER_ENCODING
        && (headers.contains_key(http::header::TRANSFER_ENCODING)
            || !value.as_bytes().eq_ignore_ascii_case(b"chunked"))
    {
        return Err(refused("may only be a single 'chunked'"));
    }
    Ok(())
}

fn is_token_byte(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::error::ErrorKind;

    fn kind_of(raw: RawRequest) -> ErrorKind {
        raw.validate().unwrap_err().kind().clone()
    }

    #[test]
    fn connect_is_refused_in_any_case() {
        for m in ["CONNECT", "connect", "Connect"] {
            let mut raw = RawRequest::get("http://a.test/x");
            raw.method = Some(m.into());
            assert_eq!(kind_of(raw), ErrorKind::Invalid(InvalidInput::ArgValue));
        }
    }

    #[test]
    fn only_a_plain_get_waits_as_its_uri() {
        let plain = RawRequest::get("http://a.test/x?y=1").check().1.unwrap();
        assert!(matches!(plain, Checked::Plain(_)));
        let mut with_method = RawRequest::get("http://a.test/x");
        with_method.method = Some("GET".into());
        let mut with_timeout = RawRequest::get("http://a.test/x");
        with_timeout.timeout = Some(Duration::from_secs(1));
        for raw in [
            with_method,
            with_timeout,
            RawRequest::get("HTTP://a.test/x"),
        ] {
            let (_, checked) = raw.check();
            assert!(matches!(checked.unwrap(), Checked::Full(_)));
        }
        // A URL not in normal form is given back as it came, for errors.
        let (given, checked) = RawRequest::get("HTTP://a.test/x").check();
        assert_eq!(given, "HTTP://a.test/x");
        assert_eq!(checked.unwrap().into_request().href, "http://a.test/x");
    }

    #[test]
    fn accepts_plain_urls() {
        let req = RawRequest::get("http://example.com/a b?q=1#frag")
            .validate()
            .unwrap();
        assert_eq!(req.method, Method::GET);
        assert_eq!(req.uri.to_string(), "http://example.com/a%20b?q=1");
    }

    #[test]
    fn user_info_is_neither_sent_nor_shown() {
        let raw = RawRequest::get("http://u:p%40ss@a.test:81/x");
        let (given, checked) = raw.check();
        assert_eq!(given, "http://a.test:81/x");
        let req = checked.unwrap().into_request();
        assert_eq!(req.href, "http://a.test:81/x");
        assert_eq!(req.uri.to_string(), "http://a.test:81/x");
        assert_eq!(without_userinfo("http://a:b/c@d@h/p?q@r"), "http://h/p?q@r");
        let (given, _) = RawRequest::get("HTTP://h/@me?a@b").check();
        assert_eq!(given, "http://h/@me?a@b");
        let (given, _) = RawRequest::get("http://u:p@/").check();
        assert!(!given.contains("u:p"), "{given}");
        // Refused, but parsed: shown whole, less the user info.
        let (given, checked) = RawRequest::get("GOPHER://h/a/../b@c").check();
        assert!(checked.is_err());
        assert_eq!(given, "GOPHER://h/a/../b@c");
        let (given, checked) = RawRequest::get("ftp://u:p@h/x@y").check();
        assert!(checked.is_err());
        assert_eq!(given, "ftp://h/x@y");
    }

    #[test]
    fn framing_fields_are_refused_when_ambiguous() {
        for headers in [
            vec![("host", "a"), ("Host", "b")],
            vec![("transfer-encoding", "chunked, identity")],
            vec![
                ("transfer-encoding", "chunked"),
                ("transfer-encoding", "chunked"),
            ],
        ] {
            let mut raw = RawRequest::get("http://x/");
            raw.method = Some("POST".into());
            raw.headers = headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(kind_of(raw), ErrorKind::Invalid(InvalidInput::ArgValue));
        }
    }

    #[test]
    fn rejects_bad_input_by_rule() {
        assert_eq!(
            kind_of(RawRequest::get("not a url")),
            ErrorKind::Invalid(InvalidInput::Url)
        );
        assert_eq!(
            kind_of(RawRequest::get("ftp://example.com/")),
            ErrorKind::Invalid(InvalidInput::UrlScheme)
        );
        let mut bad_method = RawRequest::get("http://x/");
        bad_method.method = Some("GE T".into());
        assert_eq!(
            kind_of(bad_method),
            ErrorKind::Invalid(InvalidInput::HttpToken)
        );
        let mut bad_name = RawRequest::get("http://x/");
        bad_name.headers = vec![("a b".into(), "v".into())];
        assert_eq!(
            kind_of(bad_name),
            ErrorKind::Invalid(InvalidInput::HttpToken)
        );
        let mut bad_value = RawRequest::get("http://x/");
        bad_value.headers = vec![("a".into(), "v\r\nx: y".into())];
        assert_eq!(
            kind_of(bad_value),
            ErrorKind::Invalid(InvalidInput::HeaderChar)
        );
    }
}
