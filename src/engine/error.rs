//! The engine's one error type: a kind that the boundary maps to a stable code,
//! a human message, and the underlying cause.

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// What went wrong, independent of how the host language names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A socket-level failure, named by its errno (`ECONNREFUSED`, …).
    Socket(&'static str),
    /// The host name did not resolve.
    Dns,
    ConnectTimeout,
    HeadersTimeout,
    BodyTimeout,
    TotalTimeout,
    /// The peer's certificate was not trusted.
    TlsCert,
    /// Any other TLS failure.
    Tls,
    /// A malformed or truncated response.
    Protocol,
    TooManyRedirects,
    BodyTooLarge,
    Decompress,
    Proxy,
    /// A connection to a private address, refused by `allowPrivateNetworks: false`.
    PrivateNetwork,
    /// A saved body's digest differs from its `integrity`.
    Integrity,
    /// A non-2xx status, when the caller asked for those to fail.
    HttpStatus(u16),
    /// The request or its batch was cancelled.
    Aborted,
    /// Input that can never be sent; the payload says which rule it broke.
    Invalid(InvalidInput),
    /// A bug: a panic inside the engine, caught and reported.
    Internal,
}

/// Which rule a request broke before it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidInput {
    Url,
    UrlScheme,
    HttpToken,
    HeaderChar,
    ArgValue,
}

#[derive(Debug)]
pub struct FetchError {
    kind: ErrorKind,
    message: String,
    cause: Option<Box<dyn StdError + Send + Sync>>,
    /// The URL of the hop that failed, when it is not the request's own.
    url: Option<String>,
}

impl FetchError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        FetchError {
            kind,
            message: message.into(),
            cause: None,
            url: None,
        }
    }

    pub fn with_cause(mut self, cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn invalid(rule: InvalidInput, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid(rule), message)
    }

    pub fn aborted() -> Self {
        Self::new(ErrorKind::Aborted, "The operation was aborted")
    }

    /// Names the hop that failed: a redirect's target, not the URL asked for.
    pub fn at_url(mut self, url: Option<String>) -> Self {
        if url.is_some() {
            self.url = url;
        }
        self
    }

    /// The URL of the hop that failed, when a redirect led there.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The innermost cause's text, for diagnostics.
    pub fn cause_message(&self) -> Option<String> {
        let mut source: &(dyn StdError + 'static) = self.cause.as_deref()?;
        while let Some(next) = source.source() {
            source = next;
        }
        Some(source.to_string())
    }

    /// The stable code callers match on; the one place kinds get their names.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            ErrorKind::Socket(name) => name,
            ErrorKind::Dns => "ENOTFOUND",
            ErrorKind::ConnectTimeout => "ERR_CONNECT_TIMEOUT",
            ErrorKind::HeadersTimeout => "ERR_HEADERS_TIMEOUT",
            ErrorKind::BodyTimeout => "ERR_BODY_TIMEOUT",
            ErrorKind::TotalTimeout => "ERR_TOTAL_TIMEOUT",
            ErrorKind::TlsCert => "ERR_TLS_CERT",
            ErrorKind::Tls => "ERR_TLS",
            ErrorKind::Protocol => "ERR_HTTP_PROTOCOL",
            ErrorKind::TooManyRedirects => "ERR_TOO_MANY_REDIRECTS",
            ErrorKind::BodyTooLarge => "ERR_BODY_TOO_LARGE",
            ErrorKind::Decompress => "ERR_DECOMPRESS",
            ErrorKind::Proxy => "ERR_PROXY",
            ErrorKind::PrivateNetwork => "ERR_PRIVATE_NETWORK",
            ErrorKind::Integrity => "EINTEGRITY",
            ErrorKind::HttpStatus(_) => "ERR_HTTP_STATUS",
            ErrorKind::Aborted => "ABORT_ERR",
            ErrorKind::Invalid(InvalidInput::Url) => "ERR_INVALID_URL",
            ErrorKind::Invalid(InvalidInput::UrlScheme) => "ERR_INVALID_URL_SCHEME",
            ErrorKind::Invalid(InvalidInput::HttpToken) => "ERR_INVALID_HTTP_TOKEN",
            ErrorKind::Invalid(InvalidInput::HeaderChar) => "ERR_INVALID_CHAR",
            ErrorKind::Invalid(InvalidInput::ArgValue) => "ERR_INVALID_ARG_VALUE",
            ErrorKind::Internal => "ERR_FETCHPOOL_INTERNAL",
        }
    }

    pub fn is_timeout(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::ConnectTimeout
                | ErrorKind::HeadersTimeout
                | ErrorKind::BodyTimeout
                | ErrorKind::TotalTimeout
        )
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for FetchError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn StdError + 'static))
    }
}

/// Names an I/O error the way Node's `net` module does.
pub fn errno_name(err: &io::Error) -> &'static str {
    // Windows reports WSA codes, not errno values: there the kind decides.
    #[cfg(unix)]
    if let Some(code) = err.raw_os_error() {
        let name = match code {
            libc::ECONNREFUSED => "ECONNREFUSED",
            libc::ECONNRESET => "ECONNRESET",
            libc::ECONNABORTED => "ECONNABORTED",
            libc::EPIPE => "EPIPE",
            libc::ETIMEDOUT => "ETIMEDOUT",
            libc::EHOSTUNREACH => "EHOSTUNREACH",
            libc::ENETUNREACH => "ENETUNREACH",
            libc::ENETDOWN => "ENETDOWN",
            libc::EHOSTDOWN => "EHOSTDOWN",
            libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
            libc::EADDRINUSE => "EADDRINUSE",
            libc::EACCES => "EACCES",
            libc::EPERM => "EPERM",
            libc::EMFILE => "EMFILE",
            libc::ENFILE => "ENFILE",
            libc::ENOBUFS => "ENOBUFS",
            libc::ENOENT => "ENOENT",
            libc::ENOTDIR => "ENOTDIR",
            libc::EISDIR => "EISDIR",
            libc::ENOSPC => "ENOSPC",
            libc::EROFS => "EROFS",
            libc::ENAMETOOLONG => "ENAMETOOLONG",
            libc::EDQUOT => "EDQUOT",
            libc::ELOOP => "ELOOP",
            libc::EFBIG => "EFBIG",
            libc::EEXIST => "EEXIST",
            libc::EPROTO => "EPROTO",
            _ => "",
        };
        if !name.is_empty() {
            return name;
        }
    }
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "ECONNREFUSED",
        io::ErrorKind::ConnectionReset => "ECONNRESET",
        io::ErrorKind::ConnectionAborted => "ECONNABORTED",
        io::ErrorKind::BrokenPipe => "EPIPE",
        io::ErrorKind::TimedOut => "ETIMEDOUT",
        io::ErrorKind::HostUnreachable => "EHOSTUNREACH",
        io::ErrorKind::NetworkUnreachable => "ENETUNREACH",
        io::ErrorKind::AddrNotAvailable => "EADDRNOTAVAIL",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::NotFound => "ENOENT",
        io::ErrorKind::UnexpectedEof => "ECONNRESET",
        _ => "EIO",
    }
}

/// The outermost I/O error in a cause chain, if any.
pub fn find_io<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            // An io::Error can wrap a richer error (TLS, our own markers).
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find_io(inner) {
                    if found.raw_os_error().is_some() {
                        return Some(found);
                    }
                }
            }
            return Some(io);
        }
        current = e.source();
    }
    None
}

/// The first error of type `T` in a cause chain, looking inside I/O errors too.
pub fn find_in_chain<'a, T: StdError + 'static>(
    err: &'a (dyn StdError + 'static),
) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find_in_chain::<T>(inner) {
                    return Some(found);
                }
            }
        }
        current = e.source();
    }
    None
}
