//! The TCP connector under TLS: the `resolve` map, a connect timeout that covers
//! DNS, errors that say whether DNS or the timeout failed, and a timestamp on
//! every new connection so a response can tell whether it opened one.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use super::limits::HostPermit;
use super::private_net::AddressFilter;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Marks a failed host-name lookup in an error chain.
#[derive(Debug)]
pub struct DnsError(pub io::Error);

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DNS lookup failed: {}", self.0)
    }
}

impl std::error::Error for DnsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Marks a connect that outlasted `connect_timeout`.
#[derive(Debug)]
pub struct ConnectTimeoutError;

impl std::fmt::Display for ConnectTimeoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connect timed out")
    }
}

impl std::error::Error for ConnectTimeoutError {}

/// Marks a connection refused by the client's address filter
/// (`allowPrivateNetworks: false`): nothing was sent to that address.
#[derive(Debug)]
pub struct PrivateNetworkError(pub IpAddr);

impl std::fmt::Display for PrivateNetworkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection to the private address {} refused", self.0)
    }
}

impl std::error::Error for PrivateNetworkError {}

/// When a connection was established; travels in every response's extensions.
#[derive(Clone, Copy, Debug)]
pub struct ConnectedAt(pub Instant);

/// The system resolver, with lookup failures marked as [`DnsError`].
#[derive(Clone)]
pub struct Resolver(GaiResolver);

impl Default for Resolver {
    fn default() -> Self {
        Resolver(GaiResolver::new())
    }
}

impl Service<Name> for Resolver {
    type Response = <GaiResolver as Service<Name>>::Response;
    type Error = DnsError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, DnsError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), DnsError>> {
        self.0.poll_ready(cx).map_err(DnsError)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let fut = self.0.call(name);
        Box::pin(async move { fut.await.map_err(DnsError) })
    }
}

#[derive(Clone)]
pub struct TcpConnector {
    inner: HttpConnector<Resolver>,
    resolve: Arc<HashMap<String, SocketAddr>>,
    timeout: Option<Duration>,
    filter: Option<AddressFilter>,
}

impl TcpConnector {
    pub fn new(resolve: HashMap<String, SocketAddr>, timeout: Option<Duration>) -> Self {
        let mut inner = HttpConnector::new_with_resolver(Resolver::default());
        inner.enforce_http(false);
        inner.set_nodelay(true);
        inner.set_keepalive(Some(Duration::from_secs(60)));
        TcpConnector {
            inner,
            resolve: Arc::new(resolve),
            timeout,
            filter: None,
        }
    }

    /// Refuses connections to addresses `filter` rejects.
    pub fn filtering(mut self, filter: Option<AddressFilter>) -> Self {
        self.filter = filter;
        self
    }

    /// The same connector without the filter: for a proxy the caller named.
    pub fn unfiltered(&self) -> Self {
        let mut tcp = self.clone();
        tcp.filter = None;
        tcp
    }

    /// Refuses a destination written as an address the filter rejects,
    /// before any packet goes to it. A name is checked once connected.
    pub fn check_literal(&self, uri: &Uri) -> Result<(), PrivateNetworkError> {
        let host = uri.host().unwrap_or("");
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match (self.filter, host.parse::<IpAddr>()) {
            (Some(allowed), Ok(ip)) if !allowed(ip) => Err(PrivateNetworkError(ip)),
            _ => Ok(()),
        }
    }

    /// The address to dial for `uri`, after the `resolve` map.
    fn target(&self, uri: Uri) -> Uri {
        if self.resolve.is_empty() {
            return uri;
        }
        let Some(host) = uri.host() else { return uri };
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let key = format!("{}:{}", host.to_ascii_lowercase(), port);
        match self.resolve.get(&key) {
            Some(addr) => format!("http://{addr}/").parse().unwrap_or(uri),
            None => uri,
        }
    }
}

impl Service<Uri> for TcpConnector {
    type Response = TimedStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TimedStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let target = self.target(uri);
        if let Err(refused) = self.check_literal(&target) {
            return Box::pin(std::future::ready(Err(Box::new(refused) as BoxError)));
        }
        let connecting = self.inner.call(target);
        let timeout = self.timeout;
        let filter = self.filter;
        Box::pin(async move {
            let stream = match timeout {
                Some(limit) => tokio::time::timeout(limit, connecting)
                    .await
                    .map_err(|_| Box::new(ConnectTimeoutError) as BoxError)?,
                None => connecting.await,
            }
            .map_err(|e| Box::new(e) as BoxError)?;
            // The address actually connected to, after DNS: a name that
            // resolves to a private address is refused before a byte is sent.
            if let Some(allowed) = filter {
                let peer = stream.inner().peer_addr()?.ip();
                if !allowed(peer) {
                    return Err(Box::new(PrivateNetworkError(peer)) as BoxError);
                }
            }
            Ok(TimedStream {
                inner: stream,
                connected_at: Instant::now(),
                forwarding: false,
                _permit: None,
            })
        })
    }
}

/// A TCP stream that remembers when it was connected, whether it leads to a
/// forwarding proxy, and holds its host's connection permit while it lives.
pub struct TimedStream {
    inner: TokioIo<TcpStream>,
    connected_at: Instant,
    forwarding: bool,
    _permit: Option<HostPermit>,
}

impl TimedStream {
    /// Marks a connection to a forwarding proxy: requests on it carry
    /// absolute-form URIs.
    pub fn forwarding(mut self) -> Self {
        self.forwarding = true;
        self
    }

    /// When the connection was established.
    pub fn connected_at(&self) -> Instant {
        self.connected_at
    }

    /// The socket itself, for the fast path's own HTTP/1.1 (wire.rs).
    pub fn into_tcp(self) -> TcpStream {
        self.inner.into_inner()
    }

    /// Keeps `permit` until the connection closes.
    pub fn holding(mut self, permit: Option<HostPermit>) -> Self {
        self._permit = permit;
        self
    }
}

impl Connection for TimedStream {
    fn connected(&self) -> Connected {
        self.inner
            .connected()
            .proxy(self.forwarding)
            .extra(ConnectedAt(self.connected_at))
    }
}

impl Read for TimedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl Write for TimedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}
