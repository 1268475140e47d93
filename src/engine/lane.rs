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

/// Idle fast-path connections kept across all origins. A crawl that meets
/// a new origin with every call would otherwise keep one socket and its
/// buffers per origin seen in the last `pool_idle_timeout`; past this many,
/// the connection idle longest is closed to make room.
pub const MAX_IDLE_TOTAL: usize = 1024;

/// Idle connections that keep their read and write buffers; the others
/// give them up, so that many idle origins cost little more than their
/// sockets, while the few a busy client reuses call after call do not
/// allocate new ones for every request.
const KEEP_BUFFERS_UP_TO: usize = 64;

/// Idle fast-path connections by origin, at most `pool_max_idle_per_host`
/// each and `MAX_IDLE_TOTAL` in all, closed after `pool_idle_timeout`.
#[derive(Default)]
pub struct IdleStore {
    conns: Mutex<Idles>,
    sweeping: AtomicBool,
}

#[derive(Default)]
struct Idles {
    by_origin: HashMap<Arc<str>, Vec<Idle>>,
    total: usize,
}

impl Idles {
    fn push(&mut self, mut conn: Box<Conn>, per_origin: usize) {
        if self.by_origin.get(&conn.key).map_or(0, Vec::len) >= per_origin {
            return;
        }
        if self.total >= MAX_IDLE_TOTAL {
            self.close_oldest();
        }
        if self.total >= KEEP_BUFFERS_UP_TO {
            conn.shed_buffers();
        }
        self.total += 1;
        let list = self.by_origin.entry(conn.key.clone()).or_default();
        list.push(Idle {
            conn,
            since: Instant::now(),
        });
    }

    /// Closes the connection idle longest, of any origin.
    fn close_oldest(&mut self) {
        let oldest = self
            .by_origin
            .iter()
            .filter_map(|(key, list)| Some((list.first()?.since, key.clone())))
            .min_by_key(|(since, _)| *since);
        if let Some((_, key)) = oldest {
            self.remove_at(&key, 0);
        }
    }

    fn remove_at(&mut self, key: &str, at: usize) -> Option<Idle> {
        let list = self.by_origin.get_mut(key)?;
        let idle = (at < list.len()).then(|| list.remove(at));
        if list.is_empty() {
            self.by_origin.remove(key);
        }
        self.total -= usize::from(idle.is_some());
        idle
    }

    fn retain(&mut self, mut keep: impl FnMut(&mut Idle) -> bool) {
        self.by_origin.retain(|_, list| {
            list.retain_mut(&mut keep);
            !list.is_empty()
        });
        self.total = self.by_origin.values().map(Vec::len).sum();
    }
}

impl IdleStore {
    fn put(&self, client: &ClientInner, conn: Box<Conn>) {
        let per_origin = client.config.pool_max_idle_per_host;
        if per_origin == 0 {
            return;
        }
        match self.conns.lock() {
            Ok(mut idles) => idles.push(conn, per_origin),
            Err(_) => return,
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
        if let Ok(mut idles) = self.conns.lock() {
            *idles = Idles::default();
        }
    }

    /// The most recently used open connection to `key`, if any.
    fn take(&self, key: &str, timeout: Duration) -> Option<Box<Conn>> {
        let mut idles = self.conns.lock().ok()?;
        let now = Instant::now();
        loop {
            let last = idles.by_origin.get(key)?.len().checked_sub(1)?;
            let mut idle = idles.remove_at(key, last)?;
            if idle.usable(now, timeout) {
                return Some(idle.conn);
            }
        }
    }
}

/// Closes connections idle for longer than `timeout`; ends when none is left.
async fn sweep(store: Arc<IdleStore>, timeout: Duration) {
    let every = (timeout / 2).clamp(Duration::from_millis(50), Duration::from_secs(5));
    loop {
        tokio::time::sleep(every).await;
        let Ok(mut idles) = store.conns.lock() else {
            return;
        };
        let now = Instant::now();
        idles.retain(|idle| idle.usable(now, timeout));
        if idles.total == 0 {
            store.sweeping.store(false, Ordering::Release);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn idle_connections_are_capped_across_origins_oldest_closed_first() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepting = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let mut idles = Idles::default();
        let origins = MAX_IDLE_TOTAL + 10;
        for i in 0..origins {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let key: Arc<str> = Arc::from(format!("http://origin-{i}:80"));
            idles.push(Conn::new(key, Transport::Tcp(tcp), Instant::now()), 4);
        }
        assert_eq!(idles.total, MAX_IDLE_TOTAL);
        assert_eq!(idles.by_origin.len(), MAX_IDLE_TOTAL);
        // The first origins, idle longest, made room for the last.
        assert!(!idles.by_origin.contains_key("http://origin-0:80"));
        assert!(!idles.by_origin.contains_key("http://origin-9:80"));
        assert!(idles.by_origin.contains_key("http://origin-10:80"));
        let last = format!("http://origin-{}:80", origins - 1);
        assert!(idles.remove_at(&last, 0).is_some());
        assert!(!idles.by_origin.contains_key(last.as_str()));
        assert_eq!(idles.total, MAX_IDLE_TOTAL - 1);
        accepting.abort();
    }
}
