//! The first connection to an https origin is the one used, whichever HTTP
//! version the origin picks. The fast path opens it offering HTTP/2 and
//! HTTP/1.1 (lane.rs): an HTTP/1.1 one stays on the lane, and an HTTP/2 one
//! is left here for the pooled client, whose connector takes it instead of
//! dialling a second connection to the origin.
//!
//! At most one stream an origin waits here (only one request probes an
//! origin at a time, alpn.rs), and only while that request is being sent:
//! its [`Handed`] guard closes a stream hyper did not take.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tower_service::Service;

use super::connector::{ConnectedAt, TimedStream};
use super::limits::host_key;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An established TLS connection that negotiated HTTP/2.
struct Waiting {
    tls: TlsStream<TcpStream>,
    connected_at: Instant,
    /// Tells this stream from a later one to the same origin.
    id: u64,
}

/// HTTP/2 connections opened by the fast path, by origin, until the pooled
/// client's connector takes them.
#[derive(Default)]
pub struct Handoff {
    waiting: Mutex<HashMap<String, Waiting>>,
    next_id: AtomicU64,
}

/// The origin key of `uri` as both sides compute it.
fn key_of(uri: &Uri) -> String {
    host_key(
        uri.scheme_str().unwrap_or(""),
        uri.host().unwrap_or(""),
        uri.port_u16(),
    )
}

impl Handoff {
    /// Leaves `tls` for the pooled client's next connection to `uri`'s
    /// origin. The stream is closed when the guard goes, if still here.
    pub fn put(
        self: &Arc<Self>,
        uri: &Uri,
        tls: TlsStream<TcpStream>,
        connected_at: Instant,
    ) -> Handed {
        let key = key_of(uri);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut waiting) = self.waiting.lock() {
            let stream = Waiting {
                tls,
                connected_at,
                id,
            };
            waiting.insert(key.clone(), stream);
        }
        Handed {
            handoff: self.clone(),
            key,
            id,
        }
    }

    fn take(&self, uri: &Uri) -> Option<Waiting> {
        let mut waiting = self.waiting.lock().ok()?;
        if waiting.is_empty() {
            return None;
        }
        waiting.remove(&key_of(uri))
    }
}

/// Held while the request that opened a handed-off stream is sent.
pub struct Handed {
    handoff: Arc<Handoff>,
    key: String,
    id: u64,
}

impl Drop for Handed {
    fn drop(&mut self) {
        if let Ok(mut waiting) = self.handoff.waiting.lock() {
            if waiting.get(&self.key).is_some_and(|w| w.id == self.id) {
                waiting.remove(&self.key);
            }
        }
    }
}

/// The pooled client's connector: a handed-off stream for its origin if one
/// waits, else a new connection from `inner`.
#[derive(Clone)]
pub struct HandoffConnector<C> {
    inner: C,
    handoff: Arc<Handoff>,
}

impl<C> HandoffConnector<C> {
    pub fn new(inner: C, handoff: Arc<Handoff>) -> Self {
        HandoffConnector { inner, handoff }
    }
}

type Dialling = Pin<Box<dyn Future<Output = Result<PooledStream, BoxError>> + Send>>;

impl<C> Service<Uri> for HandoffConnector<C>
where
    C: Service<Uri, Response = MaybeHttpsStream<TimedStream>, Error = BoxError>,
    C::Future: Send + 'static,
{
    type Response = PooledStream;
    type Error = BoxError;
    type Future = Dialling;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Dialling {
        if let Some(w) = self.handoff.take(&uri) {
            let handed = PooledStream::Handed(TokioIo::new(w.tls), w.connected_at);
            return Box::pin(std::future::ready(Ok(handed)));
        }
        let dialling = self.inner.call(uri);
        Box::pin(async move { dialling.await.map(PooledStream::Dialled) })
    }
}

/// A connection of the pooled client: dialled by it, or handed off.
pub enum PooledStream {
    Dialled(MaybeHttpsStream<TimedStream>),
    Handed(TokioIo<TlsStream<TcpStream>>, Instant),
}

impl Connection for PooledStream {
    fn connected(&self) -> Connected {
        match self {
            PooledStream::Dialled(stream) => stream.connected(),
            PooledStream::Handed(tls, at) => tls
                .inner()
                .get_ref()
                .0
                .connected()
                .negotiated_h2()
                .extra(ConnectedAt(*at)),
        }
    }
}

impl Read for PooledStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PooledStream::Dialled(s) => Pin::new(s).poll_read(cx, buf),
            PooledStream::Handed(s, _) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl Write for PooledStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PooledStream::Dialled(s) => Pin::new(s).poll_write(cx, buf),
            PooledStream::Handed(s, _) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PooledStream::Dialled(s) => Pin::new(s).poll_flush(cx),
            PooledStream::Handed(s, _) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PooledStream::Dialled(s) => Pin::new(s).poll_shutdown(cx),
            PooledStream::Handed(s, _) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            PooledStream::Dialled(s) => s.is_write_vectored(),
            PooledStream::Handed(s, _) => s.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PooledStream::Dialled(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            PooledStream::Handed(s, _) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::lane_ab::{tls_configs, Tls};
    use rustls_pki_types::ServerName;
    use std::time::Duration;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;
    use tokio_rustls::TlsConnector;

    /// A TLS connection's client end, and a task that ends when the
    /// client closes it.
    async fn connection(
        tls: &Tls,
        listener: &TcpListener,
    ) -> (TlsStream<TcpStream>, JoinHandle<()>) {
        let dialled = TcpStream::connect(listener.local_addr().unwrap());
        let (tcp, accepted) = tokio::join!(dialled, listener.accept());
        let server = tls.server.clone();
        let held = tokio::spawn(async move {
            let (tcp, _) = accepted.unwrap();
            let mut stream = tokio_rustls::TlsAcceptor::from(server)
                .accept(tcp)
                .await
                .unwrap();
            let mut buf = [0u8; 64];
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        });
        let name = ServerName::try_from("localhost").unwrap();
        let connector = TlsConnector::from(tls.client.clone());
        let client = connector.connect(name, tcp.unwrap()).await.unwrap();
        (client, held)
    }

    async fn setup() -> (tempfile::TempDir, Tls, TcpListener, Arc<Handoff>) {
        let dir = tempfile::tempdir().unwrap();
        let tls = tls_configs(dir.path());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        (dir, tls, listener, Arc::new(Handoff::default()))
    }

    #[tokio::test]
    async fn a_stream_nobody_took_is_closed_when_its_request_ends() {
        let (_dir, tls, listener, handoff) = setup().await;
        let (stream, held) = connection(&tls, &listener).await;
        let uri: Uri = "https://localhost/".parse().unwrap();
        let handed = handoff.put(&uri, stream, Instant::now());
        drop(handed);
        assert!(handoff.waiting.lock().unwrap().is_empty());
        let closed = tokio::time::timeout(Duration::from_secs(10), held).await;
        assert!(closed.is_ok(), "the server saw the connection close");
    }

    #[tokio::test]
    async fn a_stream_is_taken_for_its_own_origin_only() {
        let (_dir, tls, listener, handoff) = setup().await;
        let (stream, _held) = connection(&tls, &listener).await;
        let put: Uri = "https://localhost/a".parse().unwrap();
        let _handed = handoff.put(&put, stream, Instant::now());
        for other in [
            "https://localhost:8443/",
            "http://localhost/",
            "https://other/",
        ] {
            assert!(handoff.take(&other.parse().unwrap()).is_none(), "{other}");
        }
        let same: Uri = "https://LOCALHOST:443/b".parse().unwrap();
        assert!(handoff.take(&same).is_some());
        assert!(handoff.take(&same).is_none(), "taken once");
    }

    #[tokio::test]
    async fn an_earlier_requests_guard_leaves_a_later_stream_alone() {
        let (_dir, tls, listener, handoff) = setup().await;
        let uri: Uri = "https://localhost/".parse().unwrap();
        let (first, _) = connection(&tls, &listener).await;
        let (second, _) = connection(&tls, &listener).await;
        let earlier = handoff.put(&uri, first, Instant::now());
        let _later = handoff.put(&uri, second, Instant::now());
        drop(earlier);
        assert!(handoff.take(&uri).is_some());
    }
}
