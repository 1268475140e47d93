//! Turns errors from hyper, rustls and the OS into the engine's error kinds.

use std::error::Error as StdError;

use super::connector::{ConnectTimeoutError, DnsError};
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
