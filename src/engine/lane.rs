//! The fast path for HTTP/1.1: a batch's driver loops ("lanes") each
//! hold one connection and send their requests on it back to back, with no
//! pool checkout, no task per request and no task per connection: the lane's
//! own task writes each request and reads its response (wire.rs). Between
//! calls the connections wait in a small idle store keyed by origin
//! (idle.rs).
//!
//! Direct `http:` exchanges take this path, and `https:` ones to origins that
//! speak HTTP/1.1 (TLS offering only `http/1.1`; see alpn.rs for how an
//! origin is known). The first connection to an https origin offers HTTP/2
//! as well, and is used whichever the origin picks (handoff.rs). Anything
//! else (proxies, HTTP/2, per-host caps and rate limits) goes through the
//! pooled client, so behaviour is the same either way.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, Response, Uri};
use tower_service::Service;

use super::alpn::Probe;
use super::connector::{ConnectedAt, TcpConnector, TimedStream};
use super::handoff::Handed;
use super::network::Network;
use super::transport::{handshake, Transport};
use super::wire::{exchange, Conn, Home, WireBody};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request that could not be answered on the lane's connection.
pub enum SendFailure {
    /// A kept-alive connection was found closed once the request was on it;
    /// an idempotent request may go again at once.
    Stale(BoxError),
    Fatal(BoxError),
    /// The first connection to the origin negotiated HTTP/2: it waits for
    /// the pooled client (handoff.rs), and the request goes there.
    SpeaksH2(Handed),
}

/// The connection one driver loop holds while it works through a batch. It
/// is in `home` between exchanges; a response body being read has it.
#[derive(Default)]
pub struct Lane {
    home: Home,
}

impl Lane {
    fn take(&self) -> Option<Box<Conn>> {
        self.home.lock().ok()?.take()
    }

    /// Hands the connection back to the idle store for the next call.
    pub fn release(&mut self, net: &Network) {
        if let Some(conn) = self.take() {
            net.idle.put(conn);
        }
    }

    /// Forgets the connection: its state is unknown (a request on it was
    /// cancelled mid-way), so it is closed rather than reused.
    pub fn discard(&mut self) {
        self.take();
    }

    /// Sends a request to the origin `key` (an absolute `uri`) on
    /// this lane's connection, opening or reusing one as needed; on a new
    /// one when `fresh`. `probe`: this is the first request to an https
    /// origin (alpn.rs), whose version the connection it opens finds out.
    #[allow(clippy::too_many_arguments)] // one exchange's whole request
    pub async fn send(
        &mut self,
        net: &Network,
        key: &str,
        uri: &Uri,
        method: &Method,
        headers: &HeaderMap,
        body: &Bytes,
        sent_at: Instant,
        probe: &mut Option<Probe<'_>>,
        fresh: bool,
    ) -> Result<Response<WireBody>, SendFailure> {
        // A connection with anything beyond its last response is closed
        // here: those bytes would be read as this request's response.
        let held = match self.take() {
            Some(mut conn) if !fresh && &*conn.key == key => conn.is_reusable().then_some(conn),
            Some(other) => {
                net.idle.put(other);
                None
            }
            None => None,
        };
        let conn = match held {
            Some(conn) => conn,
            None => open(net, key, uri, probe, fresh).await?,
        };
        // A lane's connection to the origin: it speaks HTTP/1.1.
        if let Some(first) = probe.take() {
            first.succeeded(false);
        }
        let connected_at = conn.connected_at;
        let reused = connected_at < sent_at;
        let pool = net.prefault.as_ref();
        let mut response = exchange(conn, &self.home, pool, method, uri, headers, body)
            .await
            .map_err(|failed| {
                let err: BoxError = Box::new(failed.error);
                if reused && failed.unanswered {
                    SendFailure::Stale(err)
                } else {
                    SendFailure::Fatal(err)
                }
            })?;
        // Only a connection opened for this request goes in its timing.
        if !reused {
            response.extensions_mut().insert(ConnectedAt(connected_at));
        }
        Ok(response)
    }
}

/// An idle connection to `key`, unless `fresh`, or a new one. A probe's new
/// connection offers HTTP/2 too; one that gets it goes to the pooled client.
async fn open(
    net: &Network,
    key: &str,
    uri: &Uri,
    probe: &Option<Probe<'_>>,
    fresh: bool,
) -> Result<Box<Conn>, SendFailure> {
    if let Some(conn) = (!fresh).then(|| net.idle.take(key)).flatten() {
        return Ok(conn);
    }
    if probe.is_none() {
        return connect(net, key, uri).await.map_err(SendFailure::Fatal);
    }
    let (tcp, connected_at) = dial(net, uri).await.map_err(SendFailure::Fatal)?;
    let host = uri.host().unwrap_or("");
    let tls = handshake(&net.probe_tls, host, tcp)
        .await
        .map_err(|e| SendFailure::Fatal(e.into()))?;
    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
        let handed = net.handoff.put(uri, tls, connected_at);
        return Err(SendFailure::SpeaksH2(handed));
    }
    let transport = Transport::Tls(Box::new(tls));
    Ok(Conn::new(Arc::from(key), transport, connected_at))
}

async fn connect(net: &Network, key: &str, uri: &Uri) -> Result<Box<Conn>, BoxError> {
    let (tcp, connected_at) = dial(net, uri).await?;
    let transport = if uri.scheme_str() == Some("https") {
        Transport::tls(&net.lane_tls, uri.host().unwrap_or(""), tcp).await?
    } else {
        Transport::Tcp(tcp)
    };
    Ok(Conn::new(Arc::from(key), transport, connected_at))
}

/// A TCP connection to `uri`'s origin, and when it was made.
async fn dial(net: &Network, uri: &Uri) -> Result<(tokio::net::TcpStream, Instant), BoxError> {
    let mut tcp: TcpConnector = net.tcp.clone();
    let stream: TimedStream = tcp.call(uri.clone()).await?;
    let connected_at = stream.connected_at();
    Ok((stream.into_tcp(), connected_at))
}
