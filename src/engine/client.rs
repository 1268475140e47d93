//! The client: a tokio runtime (the workers), one pooled hyper client, the
//! registry of running batches and the counters behind `stats()`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::runtime::{Handle, Runtime};

use super::alpn::AlpnGate;
use super::batch::{Batch, Item, Joined};
use super::config::{CallOptions, ClientConfig, Http2Mode};
use super::connector::TcpConnector;
use super::deliver::{flush_deferred, worker_started, Sink};
use super::error::{ErrorKind, FetchError};
use super::lane::IdleStore;
use super::limits::{HostSemaphores, RateLimits};
use super::prefault::Prefault;
use super::proxy::{Proxies, ProxyConnector};
use super::request::RawRequest;
use super::response::Timing;
use super::tls::client_tls_config;

pub type Http = HyperClient<HttpsConnector<ProxyConnector>, Full<Bytes>>;

pub const USER_AGENT: &str = concat!("fetchpool/", env!("CARGO_PKG_VERSION"));

#[derive(Default)]
pub struct Stats {
    pub queued: AtomicU64,
    pub in_flight: AtomicU64,
    pub done: AtomicU64,
    pub failed: AtomicU64,
    pub bytes: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub queued: u64,
    pub in_flight: u64,
    pub done: u64,
    pub failed: u64,
    pub bytes: u64,
}

pub struct ClientInner {
    pub(crate) http: Http,
    pub(crate) proxies: Arc<Proxies>,
    /// Requests in flight per host, when `max_connections_per_host` is set.
    pub(crate) host_requests: Option<Arc<HostSemaphores>>,
    pub(crate) rates: RateLimits,
    /// Present when HTTP/2 is negotiated by ALPN (`Http2Mode::Auto`).
    pub(crate) alpn: Option<AlpnGate>,
    pub(crate) default_headers: HeaderMap,
    /// `default_headers` and `Accept-Encoding`: what a request with no
    /// fields of its own sends in a call that decompresses.
    pub(crate) decoding_headers: HeaderMap,
    pub(crate) stats: Stats,
    pub(crate) batches: Mutex<HashMap<u32, Arc<Batch>>>,
    /// Direct connections of the HTTP/1.1 fast path (see lane.rs).
    pub(crate) tcp: TcpConnector,
    pub(crate) idle: Arc<IdleStore>,
    /// Body buffers made ready off the workers (see prefault.rs).
    pub(crate) prefault: Option<Arc<Prefault>>,
    /// Joined `fetch` calls waiting for a lane (see batch.rs `Joined`).
    pub(crate) joined: Arc<Joined>,
    /// Open calls' queues, by call: held by their lanes, so a call whose
    /// batch was let go of between parts (nothing pending) and made again
    /// finds its lanes still waiting.
    pub(crate) open: Mutex<HashMap<u32, std::sync::Weak<Joined>>>,
    /// TLS for the fast path's `https:` connections: ALPN offers HTTP/1.1 only.
    pub(crate) lane_tls: Arc<rustls::ClientConfig>,
    /// Whether HTTP/1.1 requests may take the fast path: not with
    /// prior-knowledge HTTP/2, per-host caps or rate limits, which the pooled
    /// client implements.
    pub(crate) fast_h1: bool,
    pub config: ClientConfig,
}

impl ClientInner {
    /// The queue and lanes of open call `id` (a `stream`): the one its lanes
    /// still hold, or a new one for at most `cap` lanes.
    pub(crate) fn open_lanes(&self, id: u32, cap: usize) -> Arc<Joined> {
        let mut open = self.open.lock().expect("open calls");
        if let Some(queue) = open.get(&id).and_then(std::sync::Weak::upgrade) {
            return queue;
        }
        // Calls whose lanes have all ended leave only a dead entry.
        if open.len() >= 64 {
            open.retain(|_, queue| queue.strong_count() > 0);
        }
        let queue = Arc::new(Joined::new(cap));
        open.insert(id, Arc::downgrade(&queue));
        queue
    }
}

/// A call refused before anything of it was sent: the malformed item.
#[derive(Debug)]
pub struct Rejected {
    pub index: u32,
    pub error: FetchError,
}

/// When a submitted part starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// At once, together with the parts of its call held before it.
    Now,
    /// Not yet: it waits for a later part of its call.
    Hold,
    /// At once, on the client's lanes for joined `fetch` calls, which wait a
    /// little for more work before they end (see batch.rs `Joined`).
    Joined,
    /// At once, on lanes of the call's own that wait a little for its next
    /// part before they end: a call whose parts keep coming (`stream`).
    Open,
}

/// A pool of workers and connections. Cheap to share; `close` ends it.
pub struct Client {
    inner: Arc<ClientInner>,
    handle: Handle,
    runtime: Mutex<Option<Runtime>>,
}

fn build_http(
    config: &ClientConfig,
    proxies: Arc<Proxies>,
    tls: rustls::ClientConfig,
) -> Result<Http, FetchError> {
    let tcp = TcpConnector::new(config.resolve.clone(), config.connect_timeout)
        .filtering(config.address_filter);
    // Connections per host are capped where they are made, so a connection
    // that outlives its request (idle in the pool) still counts.
    let connections = config.max_connections_per_host.map(HostSemaphores::new);
    let tcp = ProxyConnector::new(tcp, proxies, connections);
    let https = match config.http2 {
        Http2Mode::Off => HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp),
        Http2Mode::Auto => HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp),
        Http2Mode::PriorKnowledge => HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http2()
            .wrap_connector(tcp),
    };
    let mut builder = HyperClient::builder(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(config.pool_idle_timeout)
        .pool_max_idle_per_host(config.pool_max_idle_per_host)
        .http2_only(config.http2 == Http2Mode::PriorKnowledge);
    Ok(builder.build(https))
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, FetchError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.workers.max(1))
            .thread_name("fetchpool-worker")
            .on_thread_start(worker_started)
            .on_thread_park(flush_deferred)
            .on_thread_stop(flush_deferred)
            .enable_all()
            .build()
            .map_err(|e| FetchError::new(ErrorKind::Internal, e.to_string()))?;
        let proxies = Arc::new(Proxies::new(&config.proxy)?);
        // One root store for both paths; the fast path offers only HTTP/1.1.
        let tls = client_tls_config(&config)?;
        let mut lane_tls = tls.clone();
        lane_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let (http, tcp) = {
            // The connector's timer and resolver need the runtime's context.
            let _guard = runtime.enter();
            let tcp = TcpConnector::new(config.resolve.clone(), config.connect_timeout)
                .filtering(config.address_filter);
            (build_http(&config, proxies.clone(), tls)?, tcp)
        };
        let mut default_headers = HeaderMap::new();
        default_headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        default_headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        for (name, value) in &config.default_headers {
            default_headers.insert(name, value.clone());
        }
        let mut decoding_headers = default_headers.clone();
        decoding_headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(super::body::ACCEPT_ENCODING),
        );
        Ok(Client {
            handle: runtime.handle().clone(),
            inner: Arc::new(ClientInner {
                http,
                proxies,
                host_requests: config.max_connections_per_host.map(HostSemaphores::new),
                rates: RateLimits::new(config.rate_limit, config.rate_limit_per_host),
                alpn: (config.http2 == Http2Mode::Auto).then(AlpnGate::default),
                default_headers,
                decoding_headers,
                stats: Stats::default(),
                batches: Mutex::new(HashMap::new()),
                tcp,
                idle: Arc::new(IdleStore::default()),
                prefault: Prefault::start(),
                joined: Arc::default(),
                open: Mutex::default(),
                lane_tls: Arc::new(lane_tls),
                fast_h1: config.http2 != Http2Mode::PriorKnowledge
                    && config.max_connections_per_host.is_none()
                    && config.rate_limit.is_none()
                    && config.rate_limit_per_host.is_none(),
                config,
            }),
            runtime: Mutex::new(Some(runtime)),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    pub fn defaults(&self) -> &CallOptions {
        &self.inner.config.defaults
    }

    pub fn is_closed(&self) -> bool {
        self.runtime.lock().map(|r| r.is_none()).unwrap_or(true)
    }

    /// Starts `items` as part of batch `batch_id` (created if it does not
    /// exist), numbering them from `first_index`. Each outcome goes to `sink`.
    /// See [`Client::submit_part`]; this is the whole of a call at once.
    pub fn submit(
        &self,
        batch_id: u32,
        first_index: u32,
        items: Vec<RawRequest>,
        opts: Arc<CallOptions>,
        sink: Arc<dyn Sink>,
    ) -> Result<(), FetchError> {
        self.submit_part(batch_id, first_index, items, opts, sink, Start::Now)
            .map_err(|rejected| rejected.error)
    }

    /// Validates `items` here, on the caller's thread, and queues them on
    /// batch `batch_id`. With [`Start::Hold`] they wait for a later part
    /// without it, so that a call can cross in pieces and still start as one.
    ///
    /// In fail-fast mode a malformed item rejects the whole call: nothing of
    /// it is sent, parts held before included. Otherwise a malformed item is
    /// that item's error, delivered like any outcome.
    pub fn submit_part(
        &self,
        batch_id: u32,
        first_index: u32,
        items: Vec<RawRequest>,
        opts: Arc<CallOptions>,
        sink: Arc<dyn Sink>,
        start: Start,
    ) -> Result<(), Rejected> {
        if self.is_closed() {
            return Err(Rejected {
                index: first_index,
                error: FetchError::new(
                    ErrorKind::Invalid(super::error::InvalidInput::ArgValue),
                    "The client is closed",
                ),
            });
        }
        let queued_at = Instant::now();
        let count = items.len();
        let mut valid = Vec::with_capacity(count);
        let mut invalid = Vec::new();
        for (offset, raw) in items.into_iter().enumerate() {
            let index = first_index + offset as u32;
            let abortable = raw.abortable;
            let (url, checked) = raw.check();
            match checked {
                Ok(req) => valid.push(Item {
                    index,
                    url,
                    req,
                    abortable,
                    queued_at,
                }),
                Err(error) => invalid.push((index, url, error)),
            }
        }
        if opts.fail_fast && !invalid.is_empty() {
            self.cancel(batch_id);
            let (index, _, error) = invalid.swap_remove(0);
            return Err(Rejected { index, error });
        }
        let batch = self.batch(batch_id, opts, sink, count);
        let stats = &self.inner.stats;
        stats.queued.fetch_add(count as u64, Ordering::Relaxed);
        for (index, url, error) in invalid {
            stats.queued.fetch_sub(1, Ordering::Relaxed);
            batch.finish(
                &self.inner,
                index,
                url,
                Timing::queued_at(queued_at),
                0,
                Err(error),
            );
        }
        let Some(valid) = batch.queue(valid, start == Start::Hold) else {
            return Ok(());
        };
        let inner = self.inner.clone();
        if start == Start::Joined {
            Batch::drive_joined(&self.handle, &inner, &batch, &inner.joined, valid);
        } else if start == Start::Open {
            let queue = inner.open_lanes(batch_id, batch.concurrency());
            Batch::drive_joined(&self.handle, &inner, &batch, &queue, valid);
        } else if valid.len() == 1 {
            let item = valid.into_iter().next().expect("one item");
            self.handle.spawn(Batch::drive_one(inner, batch, item));
        } else if !valid.is_empty() {
            self.handle.spawn(Batch::drive(inner, batch, valid));
        }
        Ok(())
    }

    fn batch(
        &self,
        id: u32,
        opts: Arc<CallOptions>,
        sink: Arc<dyn Sink>,
        count: usize,
    ) -> Arc<Batch> {
        let mut batches = self.inner.batches.lock().expect("batch registry");
        let batch = batches
            .entry(id)
            .or_insert_with(|| Arc::new(Batch::new(id, opts, sink)))
            .clone();
        batch.add_pending(count);
        batch
    }

    /// Cancels a whole batch: nothing more starts and what runs is dropped.
    pub fn cancel(&self, batch_id: u32) {
        let batch = self
            .inner
            .batches
            .lock()
            .expect("batch registry")
            .remove(&batch_id);
        if let Some(batch) = batch {
            let held = batch.drop_held();
            self.inner
                .stats
                .queued
                .fetch_sub(held as u64, Ordering::Relaxed);
            batch.cancel();
        }
    }

    /// Cancels one request of a batch; it fails with `ABORT_ERR`.
    pub fn cancel_item(&self, batch_id: u32, index: u32) {
        let batch = self
            .inner
            .batches
            .lock()
            .expect("batch registry")
            .get(&batch_id)
            .cloned();
        if let Some(batch) = batch {
            batch.cancel_item(index);
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.inner.stats;
        StatsSnapshot {
            queued: s.queued.load(Ordering::Relaxed),
            in_flight: s.in_flight.load(Ordering::Relaxed),
            done: s.done.load(Ordering::Relaxed),
            failed: s.failed.load(Ordering::Relaxed),
            bytes: s.bytes.load(Ordering::Relaxed),
        }
    }

    /// The adaptive limit of each origin that running `concurrency: 'auto'`
    /// calls fetch from (the highest, where several calls share one).
    pub fn adaptive_limits(&self) -> HashMap<String, u32> {
        let batches: Vec<_> = self
            .inner
            .batches
            .lock()
            .map(|b| b.values().cloned().collect())
            .unwrap_or_default();
        let mut out = HashMap::new();
        for (origin, limit) in batches.iter().filter_map(|b| b.adaptive_limits()).flatten() {
            let entry = out.entry(origin).or_insert(limit);
            *entry = (*entry).max(limit);
        }
        out
    }

    /// Cancels every batch and stops the workers without waiting for them.
    pub fn close(&self) {
        let batches: Vec<_> = self
            .inner
            .batches
            .lock()
            .map(|mut b| b.drain().map(|(_, v)| v).collect())
            .unwrap_or_default();
        for batch in &batches {
            batch.cancel();
        }
        if let Some(runtime) = self.runtime.lock().ok().and_then(|mut r| r.take()) {
            runtime.shutdown_background();
        }
        self.inner.joined.clear(&self.inner);
        let open: Vec<_> = self
            .inner
            .open
            .lock()
            .map(|mut o| o.drain().filter_map(|(_, q)| q.upgrade()).collect())
            .unwrap_or_default();
        for queue in open {
            queue.clear(&self.inner);
        }
        self.inner.idle.clear();
        if let Some(pool) = &self.inner.prefault {
            pool.close();
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}
