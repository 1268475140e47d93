//! Idle connections of the HTTP/1.1 fast path, kept between calls by
//! origin and closed once idle for too long or when there are too many.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::config::{DEFAULT_IDLE, DEFAULT_IDLE_PER_HOST};
use super::wire::Conn;

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

/// Idle connections that keep their read and write buffers; the others
/// give them up, so that many idle origins cost little more than their
/// sockets, while the few a busy client reuses call after call do not
/// allocate new ones for every request.
const KEEP_BUFFERS_UP_TO: usize = 64;

/// Idle fast-path connections by origin, at most `pool_max_idle_per_host`
/// each and `pool_max_idle` in all, closed after `pool_idle_timeout`. A
/// crawl that meets a new origin with every call would otherwise keep one
/// socket and its buffers per origin seen in the last `pool_idle_timeout`;
/// past the total, the connection idle longest is closed to make room.
/// Either cap, when not given, grows to the widest call's concurrency: a
/// call at 5,000 to one origin that ends would otherwise close all but 256
/// of its connections, which the next call opens again, in a storm of
/// 4,744 connects.
pub struct IdleStore {
    conns: Mutex<Idles>,
    sweeping: AtomicBool,
    /// `pool_max_idle_per_host`, or its default grown by [`Self::expect`].
    per_origin: Cap,
    /// `pool_max_idle`, or its default grown by [`Self::expect`].
    in_all: Cap,
    /// `pool_idle_timeout`.
    timeout: Duration,
}

/// A cap on idle connections: the one given, or a default that grows.
struct Cap {
    value: AtomicUsize,
    given: bool,
}

impl Cap {
    fn new(given: Option<usize>, default: usize) -> Self {
        Cap {
            value: AtomicUsize::new(given.unwrap_or(default)),
            given: given.is_some(),
        }
    }

    fn get(&self) -> usize {
        self.value.load(Ordering::Relaxed)
    }

    fn grow_to(&self, lanes: usize) {
        if !self.given {
            self.value.fetch_max(lanes, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct Idles {
    by_origin: HashMap<Arc<str>, Vec<Idle>>,
    total: usize,
}

impl Idles {
    fn push(&mut self, mut conn: Box<Conn>, per_origin: usize, in_all: usize) {
        if self.by_origin.get(&conn.key).map_or(0, Vec::len) >= per_origin {
            return;
        }
        while self.total >= in_all {
            if !self.close_oldest() {
                return;
            }
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

    /// Closes the connection idle longest, of any origin. False: there
    /// was none.
    fn close_oldest(&mut self) -> bool {
        let oldest = self
            .by_origin
            .iter()
            .filter_map(|(key, list)| Some((list.first()?.since, key.clone())))
            .min_by_key(|(since, _)| *since);
        oldest.is_some_and(|(_, key)| self.remove_at(&key, 0).is_some())
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
    /// `pool_max_idle_per_host` and `pool_max_idle`, if given.
    pub fn new(per_origin: Option<usize>, in_all: Option<usize>, timeout: Duration) -> Self {
        IdleStore {
            conns: Mutex::default(),
            sweeping: AtomicBool::new(false),
            per_origin: Cap::new(per_origin, DEFAULT_IDLE_PER_HOST),
            in_all: Cap::new(in_all, DEFAULT_IDLE),
            timeout,
        }
    }

    /// Idle connections kept per origin at most, now.
    #[cfg(test)]
    pub fn per_origin(&self) -> usize {
        self.per_origin.get()
    }

    /// Makes room for the connections of a call running `lanes` requests at
    /// once, in each cap that was not given.
    pub fn expect(&self, lanes: usize) {
        self.per_origin.grow_to(lanes);
        self.in_all.grow_to(lanes);
    }

    /// Keeps `conn` for a later request to its origin, if there is room.
    pub fn put(self: &Arc<Self>, conn: Box<Conn>) {
        let (per_origin, in_all) = (self.per_origin.get(), self.in_all.get());
        if per_origin == 0 || in_all == 0 {
            return;
        }
        match self.conns.lock() {
            Ok(mut idles) => idles.push(conn, per_origin, in_all),
            Err(_) => return,
        }
        if !self.sweeping.swap(true, Ordering::AcqRel) {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(sweep(self.clone(), self.timeout));
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
    pub fn take(&self, key: &str) -> Option<Box<Conn>> {
        let timeout = self.timeout;
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
    use crate::engine::transport::Transport;
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
        const MAX_IDLE_TOTAL: usize = 100;
        let mut idles = Idles::default();
        let origins = MAX_IDLE_TOTAL + 10;
        for i in 0..origins {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let key: Arc<str> = Arc::from(format!("http://origin-{i}:80"));
            let conn = Conn::new(key, Transport::Tcp(tcp), Instant::now());
            idles.push(conn, 4, MAX_IDLE_TOTAL);
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

    #[test]
    fn the_caps_grow_to_the_widest_call_unless_given() {
        let store = IdleStore::new(None, None, Duration::from_secs(30));
        assert_eq!(store.per_origin(), DEFAULT_IDLE_PER_HOST);
        store.expect(10);
        assert_eq!(store.per_origin(), DEFAULT_IDLE_PER_HOST);
        assert_eq!(store.in_all.get(), DEFAULT_IDLE);
        store.expect(5000);
        store.expect(300);
        assert_eq!(store.per_origin(), 5000);
        assert_eq!(store.in_all.get(), 5000);
        let given = IdleStore::new(Some(10), Some(20), Duration::from_secs(30));
        given.expect(5000);
        assert_eq!(given.per_origin(), 10);
        assert_eq!(given.in_all.get(), 20);
    }
}
