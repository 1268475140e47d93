//! The fast path for HTTP/1.1: a batch's driver loops ("lanes") each
//! hold one connection and send their requests on it back to back, with no
//! pool checkout, no task per request and no task per connection: the lane's
//! own task writes each request and reads its response (wire.rs). Between
//! calls the connections wait in a small idle store keyed by origin.
//!
//! Direct `http:` exchanges take this path, and `https:` ones to origins that
//! speak HTTP/1.1 (TLS offering only `http/1.1`; see alpn.rs for how an
//! origin is known). Anything else (proxies, HTTP/2, per-host caps and rate
//! limits) goes through the pooled client, so behaviour is the same either
//! way.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Response, Uri};
use tower_service::Service;

use super::client::ClientInner;
use super::connector::{ConnectedAt, TcpConnector, TimedStream};
use super::transport::Transport;
use super::wire::{exchange, Conn, Home, WireBody};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs `work` (a lane's loop), passing on held completions when they are
/// due each time it is polled.
pub async fn driven<F: Future>(work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        let out = work.as_mut().poll(cx);
        super::batch::flush_if_due();
        out
    })
    .await
}

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
    pub fn release(&mut self, client: &ClientInner) {
        if let Some(conn) = self.take() {
            client.idle.put(client, conn);
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
        client: &ClientInner,
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
                client.idle.put(client, other);
                None
            }
            None => None,
        };
        let conn = match held {
            Some(conn) => conn,
            None => match client.idle.take(key, client.config.pool_idle_timeout) {
                Some(conn) => conn,
                None => connect(client, key, uri)
                    .await
                    .map_err(SendFailure::Fatal)?,
            },
        };
        let connected_at = conn.connected_at;
        let reused = connected_at < sent_at;
        let pool = client.prefault.as_ref();
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

async fn connect(client: &ClientInner, key: &str, uri: &Uri) -> Result<Box<Conn>, BoxError> {
    let mut tcp: TcpConnector = client.tcp.clone();
    let stream: TimedStream = tcp.call(uri.clone()).await?;
    let connected_at = stream.connected_at();
    let tcp = stream.into_tcp();
    let transport = if uri.scheme_str() == Some("https") {
        Transport::tls(&client.lane_tls, uri.host().unwrap_or(""), tcp).await?
    } else {
        Transport::Tcp(tcp)
    };
    Ok(Conn::new(Arc::from(key), transport, connected_at))
}

struct Idle {
    conn: Box<Conn>,
    since: Instant,
}

impl Idle {
    /// Whether the connection is still open and young enough.
    fn usable(&mut self, now: Instant, timeout: Duration) -> bool {
        now.duration_since(self.since) < timeout && self.conn.is_reusable()
    }
}

/// Idle fast-path connections by origin, at most `pool_max_idle_per_host`
/// each, closed after `pool_idle_timeout`.
#[derive(Default)]
pub struct IdleStore {
    conns: Mutex<HashMap<Arc<str>, Vec<Idle>>>,
    sweeping: AtomicBool,
}

impl IdleStore {
    fn put(&self, client: &ClientInner, conn: Box<Conn>) {
        if client.config.pool_max_idle_per_host == 0 {
            return;
        }
        {
            let Ok(mut conns) = self.conns.lock() else {
                return;
            };
            let list = conns.entry(conn.key.clone()).or_default();
            if list.len() >= client.config.pool_max_idle_per_host {
                return;
            }
            list.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
        if !self.sweeping.swap(true, Ordering::AcqRel) {
            let timeout = client.config.pool_idle_timeout;
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                let store = client.idle.clone();
                handle.spawn(sweep(store, timeout));
            } else {
                self.sweeping.store(false, Ordering::Release);
            }
        }
    }

    /// Closes every idle connection.
    pub fn clear(&self) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.clear();
        }
    }

    /// The most recently used open connection to `key`, if any.
    fn take(&self, key: &str, timeout: Duration) -> Option<Box<Conn>> {
        let mut conns = self.conns.lock().ok()?;
        let list = conns.get_mut(key)?;
        let now = Instant::now();
        while let Some(mut idle) = list.pop() {
            if idle.usable(now, timeout) {
                return Some(idle.conn);
            }
        }
        conns.remove(key);
        None
    }
}

/// Closes connections idle for longer than `timeout`; ends when none is left.
async fn sweep(store: Arc<IdleStore>, timeout: Duration) {
    let every = (timeout / 2).clamp(Duration::from_millis(50), Duration::from_secs(5));
    loop {
        tokio::time::sleep(every).await;
        let Ok(mut conns) = store.conns.lock() else {
            return;
        };
        let now = Instant::now();
        conns.retain(|_, list| {
            list.retain_mut(|idle| idle.usable(now, timeout));
            !list.is_empty()
        });
        if conns.is_empty() {
            store.sweeping.store(false, Ordering::Release);
            return;
        }
    }
}
