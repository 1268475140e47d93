//! The fast path for HTTP/1.1: a batch's driver loops ("lanes") each
//! hold one connection and send their requests on it back to back, with no
//! pool checkout, no task per request and no task per connection: the lane's
//! own task writes each request and reads its response (wire.rs). Between
//! calls the connections wait in a small idle store keyed by origin
//! (idle.rs).
//!
//! Direct `http:` exchanges take this path, and `https:` ones to origins that
//! speak HTTP/1.1 (TLS offering only `http/1.1`; see alpn.rs for how an
//! origin is known). Anything else (proxies, HTTP/2, per-host caps and rate
//! limits) goes through the pooled client, so behaviour is the same either
//! way.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, Response, Uri};
use tower_service::Service;

use super::connector::{ConnectedAt, TcpConnector, TimedStream};
use super::network::Network;
use super::transport::Transport;
use super::wire::{exchange, Conn, Home, WireBody};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request that could not be answered on the lane's connection.
pub enum SendFailure {
    /// A kept-alive connection was found closed once the request was on it;
    /// an idempotent request may go again at once.
    Stale(BoxError),
    Fatal(BoxError),
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
    /// this lane's connection, opening or reusing one as needed.
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
    ) -> Result<Response<WireBody>, SendFailure> {
        // A connection with anything beyond its last response is closed
        // here: those bytes would be read as this request's response.
        let held = match self.take() {
            Some(mut conn) if &*conn.key == key => conn.is_reusable().then_some(conn),
            Some(other) => {
                net.idle.put(other);
                None
            }
            None => None,
        };
        let conn = match held {
            Some(conn) => conn,
            None => match net.idle.take(key) {
                Some(conn) => conn,
                None => connect(net, key, uri).await.map_err(SendFailure::Fatal)?,
            },
        };
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

async fn connect(net: &Network, key: &str, uri: &Uri) -> Result<Box<Conn>, BoxError> {
    let mut tcp: TcpConnector = net.tcp.clone();
    let stream: TimedStream = tcp.call(uri.clone()).await?;
    let connected_at = stream.connected_at();
    let tcp = stream.into_tcp();
    let transport = if uri.scheme_str() == Some("https") {
        Transport::tls(&net.lane_tls, uri.host().unwrap_or(""), tcp).await?
    } else {
        Transport::Tcp(tcp)
    };
    Ok(Conn::new(Arc::from(key), transport, connected_at))
}
