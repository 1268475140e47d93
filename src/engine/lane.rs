//! The fast path for plain HTTP/1.1: a batch's driver loops ("lanes") each
//! hold one connection of hyper's low-level `http1` API and send their
//! requests on it back to back, with no pool checkout and no task per request.
//! The lane's task also drives the connection itself (see [`driven`]), so a
//! response wakes no other task. Between calls the connections wait in a
//! small idle store keyed by origin.
//!
//! Only direct `http:` exchanges take this path; anything else (proxies,
//! https, HTTP/2, per-host caps and rate limits) goes through the pooled
//! client as before, so behaviour is the same either way.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use tower_service::Service;

use super::client::ClientInner;
use super::connector::{ConnectedAt, TcpConnector, TimedStream};
use super::error::find_io;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Sender = http1::SendRequest<Full<Bytes>>;
type Driver = Pin<Box<http1::Connection<TimedStream, Full<Bytes>>>>;
/// The connection future of the lane's connection, polled by the lane's task.
type Slot = Arc<Mutex<Option<Driver>>>;

/// One open connection and where it leads. Its connection future is in the
/// lane's slot while a lane holds it.
pub struct Conn {
    key: Arc<str>,
    sender: Sender,
    connected_at: Instant,
}

/// Runs `work` (a lane's loop) while driving the connection in `slot`, in
/// one task: the connection is polled before and after the work each time.
pub async fn driven<F: Future>(slot: Slot, work: F) -> F::Output {
    let mut work = std::pin::pin!(work);
    std::future::poll_fn(|cx| {
        drive(&slot, cx);
        let out = work.as_mut().poll(cx);
        if out.is_pending() {
            drive(&slot, cx);
        }
        super::batch::flush_if_due();
        out
    })
    .await
}

fn drive(slot: &Slot, cx: &mut Context<'_>) {
    let Ok(mut driver) = slot.lock() else { return };
    if let Some(conn) = driver.as_mut() {
        if conn.as_mut().poll(cx).is_ready() {
            *driver = None;
        }
    }
}

/// A request that could not be answered on the lane's connection.
pub enum SendFailure {
    /// A kept-alive connection was found closed once the request was on it;
    /// an idempotent request may go again at once.
    Stale(BoxError),
    Fatal(BoxError),
}

/// The connection one driver loop holds while it works through a batch.
#[derive(Default)]
pub struct Lane {
    conn: Option<Conn>,
    slot: Slot,
}

impl Lane {
    /// The slot to drive with [`driven`].
    pub fn slot(&self) -> Slot {
        self.slot.clone()
    }

    fn take_driver(&self) -> Option<Driver> {
        self.slot.lock().ok()?.take()
    }

    fn set_driver(&self, driver: Driver) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(driver);
        }
    }

    /// Hands the connection back to the idle store for the next call.
    pub fn release(&mut self, client: &ClientInner) {
        let driver = self.take_driver();
        if let (Some(conn), Some(driver)) = (self.conn.take(), driver) {
            client.idle.put(client, conn, driver);
        }
    }

    /// Forgets the connection: its state is unknown (a request on it was
    /// cancelled mid-way), so it is closed rather than reused.
    pub fn discard(&mut self) {
        self.conn = None;
        self.take_driver();
    }

    /// Sends `request` to the origin `key` (an absolute `http:` `uri`) on this
    /// lane's connection, opening or reusing one as needed.
    pub async fn send(
        &mut self,
        client: &ClientInner,
        key: &str,
        uri: &Uri,
        mut request: Request<Full<Bytes>>,
        sent_at: Instant,
    ) -> Result<Response<Incoming>, SendFailure> {
        prepare(&mut request, uri);
        // Connections that close before the request is written are replaced;
        // each is either an idle one (bounded by the store) or a new one.
        let mut unwritten_left = client.config.pool_max_idle_per_host + 2;
        loop {
            let mut conn = match self.conn.take() {
                Some(conn) if &*conn.key == key => conn,
                other => {
                    let driver = self.take_driver();
                    if let (Some(conn), Some(driver)) = (other, driver) {
                        client.idle.put(client, conn, driver);
                    }
                    let (conn, driver) =
                        match client.idle.take(key, client.config.pool_idle_timeout) {
                            Some(found) => found,
                            None => connect(client, key, uri)
                                .await
                                .map_err(SendFailure::Fatal)?,
                        };
                    self.set_driver(driver);
                    conn
                }
            };
            if conn.sender.ready().await.is_err() {
                // Closed while idle, or by the end of the previous exchange.
                unwritten_left = unwritten_left.saturating_sub(1);
                if unwritten_left == 0 {
                    return Err(SendFailure::Fatal("connection closed".into()));
                }
                continue;
            }
            match conn.sender.try_send_request(request).await {
                Ok(mut response) => {
                    response
                        .extensions_mut()
                        .insert(ConnectedAt(conn.connected_at));
                    self.conn = Some(conn);
                    return Ok(response);
                }
                Err(mut err) => {
                    let reused = conn.connected_at < sent_at;
                    match err.take_message() {
                        // Never written: it goes on another connection, as
                        // hyper-util's client retries canceled requests.
                        Some(unsent) if unwritten_left > 1 => {
                            unwritten_left -= 1;
                            request = unsent;
                        }
                        _ => {
                            let err = err.into_error();
                            return Err(if reused && is_closed(&err) {
                                SendFailure::Stale(Box::new(err))
                            } else {
                                SendFailure::Fatal(Box::new(err))
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Whether an exchange failed because the peer had closed the connection.
fn is_closed(err: &hyper::Error) -> bool {
    if err.is_incomplete_message() || err.is_canceled() || err.is_closed() {
        return true;
    }
    find_io(err).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionAborted
        )
    })
}

/// What hyper-util's client does to an HTTP/1 request: an origin-form target
/// and a `Host` header unless the caller set one.
fn prepare(request: &mut Request<Full<Bytes>>, uri: &Uri) {
    if !request.headers().contains_key(header::HOST) {
        if let Some(host) = uri.host() {
            let value = match uri.port_u16() {
                Some(port) if port != 80 => HeaderValue::from_str(&format!("{host}:{port}")),
                _ => HeaderValue::from_str(host),
            };
            if let Ok(value) = value {
                request.headers_mut().insert(header::HOST, value);
            }
        }
    }
    if request.method() != Method::CONNECT {
        let path = match uri.path_and_query() {
            Some(path) if path.as_str() != "/" => path.clone(),
            _ => http::uri::PathAndQuery::from_static("/"),
        };
        *request.uri_mut() = Uri::from(path);
    }
}

async fn connect(client: &ClientInner, key: &str, uri: &Uri) -> Result<(Conn, Driver), BoxError> {
    let mut tcp: TcpConnector = client.tcp.clone();
    let stream: TimedStream = tcp.call(uri.clone()).await?;
    let connected_at = stream.connected_at();
    let (sender, connection) = http1::Builder::new().handshake(stream).await?;
    let conn = Conn {
        key: Arc::from(key),
        sender,
        connected_at,
    };
    Ok((conn, Box::pin(connection)))
}

struct Idle {
    conn: Conn,
    driver: Driver,
    since: Instant,
}

impl Idle {
    /// Whether the connection is still open and young enough. Nobody drives
    /// an idle connection, so this polls it once to notice a peer's close.
    fn usable(&mut self, now: Instant, timeout: Duration) -> bool {
        if self.conn.sender.is_closed() || now.duration_since(self.since) >= timeout {
            return false;
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        !matches!(self.driver.as_mut().poll(&mut cx), Poll::Ready(_))
            && !self.conn.sender.is_closed()
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
    fn put(&self, client: &ClientInner, conn: Conn, driver: Driver) {
        if conn.sender.is_closed() || client.config.pool_max_idle_per_host == 0 {
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
                driver,
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
    fn take(&self, key: &str, timeout: Duration) -> Option<(Conn, Driver)> {
        let mut conns = self.conns.lock().ok()?;
        let list = conns.get_mut(key)?;
        let now = Instant::now();
        while let Some(mut idle) = list.pop() {
            if idle.usable(now, timeout) {
                return Some((idle.conn, idle.driver));
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
