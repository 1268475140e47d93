//! Turns errors from hyper, rustls and the OS into the engine's error kinds.

use std::error::Error as StdError;

use super::connector::{ConnectTimeoutError, DnsError, PrivateNetworkError};
use super::error::{errno_name, find_in_chain, find_io, ErrorKind, FetchError};
use super::proxy::ProxyError;

/// Classifies a failure of `client.request(…)` or of reading a body.
pub fn classify(err: Box<dyn StdError + Send + Sync + 'static>) -> FetchError {
    let kind = kind_of(err.as_ref());
    let message = match &kind {
        ErrorKind::Dns => "getaddrinfo ENOTFOUND".to_string(),
        ErrorKind::ConnectTimeout => "Connect timeout".to_string(),
        _ => innermost(err.as_ref()),
    };
    FetchError::new(kind, message).with_cause(err)
}

fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn kind_of(err: &(dyn StdError + 'static)) -> ErrorKind {
    if find_in_chain::<PrivateNetworkError>(err).is_some() {
        return ErrorKind::PrivateNetwork;
    }
    // Whatever went wrong on the way to the proxy is the proxy's failure.
    if find_in_chain::<ProxyError>(err).is_some() {
        return ErrorKind::Proxy;
    }
    if find_in_chain::<ConnectTimeoutError>(err).is_some() {
        return ErrorKind::ConnectTimeout;
    }
    if find_in_chain::<DnsError>(err).is_some() {
        return ErrorKind::Dns;
    }
    if let Some(tls) = find_in_chain::<rustls::Error>(err) {
        return match tls {
            rustls::Error::InvalidCertificate(_) => ErrorKind::TlsCert,
            _ => ErrorKind::Tls,
        };
    }
    if let Some(found) = find_in_chain::<hyper::Error>(err) {
        if found.is_parse() || found.is_parse_status() || found.is_incomplete_message() {
            return ErrorKind::Protocol;
        }
        // hyper's HTTP/1.1 body decoder reports malformed chunked framing
        // (InvalidInput, or InvalidData for a bad chunk extension) and a
        // body cut short by the peer's close (UnexpectedEof) as I/O errors
        // of its own, with no OS error, where the fast path's wire.rs
        // reports a parse error and an incomplete message: both are
        // ERR_HTTP_PROTOCOL on either path. (A TLS failure under hyper has
        // a rustls error in its chain, and was classified above.)
        let malformed = find_io(err).is_some_and(|io| {
            io.raw_os_error().is_none()
                && matches!(
                    io.kind(),
                    std::io::ErrorKind::InvalidInput
                        | std::io::ErrorKind::InvalidData
                        | std::io::ErrorKind::UnexpectedEof
                )
        });
        if malformed {
            return ErrorKind::Protocol;
        }
    }
    if let Some(io) = find_io(err) {
        if io.raw_os_error().is_some()
            || !matches!(
                io.kind(),
                std::io::ErrorKind::Other | std::io::ErrorKind::InvalidData
            )
        {
            return ErrorKind::Socket(errno_name(io));
        }
        // rustls reports handshake failures as InvalidData I/O errors.
        if io.kind() == std::io::ErrorKind::InvalidData {
            return ErrorKind::Tls;
        }
    }
    if let Some(found) = find_in_chain::<hyper::Error>(err) {
        if found.is_canceled() || found.is_closed() {
            return ErrorKind::Socket("ECONNRESET");
        }
        if found.is_user() {
            return ErrorKind::Internal;
        }
    }
    ErrorKind::Protocol
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// rustls errors reach us inside an `io::Error` (tokio-rustls), inside the
    /// connector's box, inside hyper-util's error.
    fn wrapped(err: rustls::Error) -> Box<dyn StdError + Send + Sync> {
        let io = io::Error::new(io::ErrorKind::InvalidData, err);
        Box::new(OuterError(Box::new(io)))
    }

    #[derive(Debug)]
    struct OuterError(Box<dyn StdError + Send + Sync>);

    impl std::fmt::Display for OuterError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl StdError for OuterError {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(self.0.as_ref())
        }
    }

    #[test]
    fn certificate_failures_are_tls_cert() {
        use rustls::CertificateError;
        for cert in [
            CertificateError::Expired,
            CertificateError::UnknownIssuer,
            CertificateError::NotValidForName,
        ] {
            let err = classify(wrapped(rustls::Error::InvalidCertificate(cert)));
            assert_eq!(err.code(), "ERR_TLS_CERT");
        }
    }

    #[test]
    fn other_handshake_failures_are_tls() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert_eq!(classify(wrapped(alert)).code(), "ERR_TLS");
        let corrupt = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert_eq!(classify(wrapped(corrupt)).code(), "ERR_TLS");
    }

    #[test]
    fn anything_on_the_way_to_a_proxy_is_proxy() {
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let err = ProxyError(Box::new(refused));
        assert_eq!(classify(Box::new(err)).code(), "ERR_PROXY");
    }
}
