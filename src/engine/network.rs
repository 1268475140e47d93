//! The network layer behind one type: the pooled hyper client (connector,
//! TLS, proxies, HTTP/2), the fast path's direct connector, TLS and idle
//! connections, the per-host caps and rate limits, and the fields every
//! request sends. The exchange of one request (execute.rs) runs over it.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue};
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::alpn::AlpnGate;
use super::body::ACCEPT_ENCODING;
use super::config::{ClientConfig, Http2Mode, DEFAULT_IDLE, DEFAULT_IDLE_PER_HOST};
use super::connector::TcpConnector;
use super::error::FetchError;
use super::handoff::{Handoff, HandoffConnector};
use super::idle::IdleStore;
use super::limits::{HostSemaphores, RateLimits};
use super::prefault::Prefault;
use super::proxy::{Proxies, ProxyConnector};
use super::tls::client_tls_config;

pub type Http = HyperClient<HandoffConnector<HttpsConnector<ProxyConnector>>, Full<Bytes>>;

pub const USER_AGENT: &str = concat!("fetchpool/", env!("CARGO_PKG_VERSION"));

pub struct Network {
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
    /// Direct connections of the HTTP/1.1 fast path (see lane.rs).
    pub(crate) tcp: TcpConnector,
    pub(crate) idle: Arc<IdleStore>,
    /// Body buffers made ready off the workers (see prefault.rs).
    pub(crate) prefault: Option<Arc<Prefault>>,
    /// TLS for the fast path's `https:` connections: ALPN offers HTTP/1.1 only.
    pub(crate) lane_tls: Arc<rustls::ClientConfig>,
    /// TLS for an https origin's first connection, which offers HTTP/2 as
    /// well: the pooled client's ALPN list.
    pub(crate) probe_tls: Arc<rustls::ClientConfig>,
    /// HTTP/2 connections opened by the fast path, for the pooled client.
    pub(crate) handoff: Arc<Handoff>,
    /// Whether HTTP/1.1 requests may take the fast path: not with
    /// prior-knowledge HTTP/2, per-host caps or rate limits, which the pooled
    /// client implements.
    pub(crate) fast_h1: bool,
    /// Whether plain `http:` is always HTTP/1.1 (no prior-knowledge HTTP/2):
    /// then the pooled path sends the head fast path's rules too (head.rs).
    pub(crate) plain_h1: bool,
}

impl Network {
    /// The network stack `config` describes. Called within the runtime's
    /// context: the connectors' timers and resolver need it.
    pub fn new(config: &ClientConfig) -> Result<Network, FetchError> {
        let proxies = Arc::new(Proxies::new(&config.proxy)?);
        // One root store for both paths; the fast path offers only HTTP/1.1.
        let tls = client_tls_config(config)?;
        let mut lane_tls = tls.clone();
        lane_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut probe_tls = tls.clone();
        probe_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let tcp = TcpConnector::new(config.resolve.clone(), config.connect_timeout)
            .filtering(config.address_filter);
        let handoff = Arc::new(Handoff::default());
        let http = build_http(config, proxies.clone(), tls, handoff.clone())?;
        let default_headers = default_headers(config);
        let mut decoding_headers = default_headers.clone();
        decoding_headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(ACCEPT_ENCODING),
        );
        Ok(Network {
            http,
            proxies,
            host_requests: config.max_connections_per_host.map(HostSemaphores::new),
            rates: RateLimits::new(config.rate_limit, config.rate_limit_per_host),
            alpn: (config.http2 == Http2Mode::Auto).then(AlpnGate::default),
            default_headers,
            decoding_headers,
            tcp,
            idle: Arc::new(IdleStore::new(
                config.pool_max_idle_per_host,
                config.pool_max_idle,
                config.pool_idle_timeout,
            )),
            prefault: Prefault::start(),
            lane_tls: Arc::new(lane_tls),
            probe_tls: Arc::new(probe_tls),
            handoff,
            fast_h1: config.http2 != Http2Mode::PriorKnowledge
                && config.max_connections_per_host.is_none()
                && config.rate_limit.is_none()
                && config.rate_limit_per_host.is_none()
                && !pooled_h1_forced(),
            plain_h1: config.http2 != Http2Mode::PriorKnowledge,
        })
    }

    /// Closes the idle connections and stops the buffer maker.
    pub fn close(&self) {
        self.idle.clear();
        if let Some(pool) = &self.prefault {
            pool.close();
        }
    }
}

/// Whether `FETCHPOOL_H1_PATH=pooled` sends every HTTP/1.1 request through
/// the pooled client, read as a client is made. For tests: the same suites
/// run on both paths (see docs/testing.md).
fn pooled_h1_forced() -> bool {
    std::env::var_os("FETCHPOOL_H1_PATH").is_some_and(|v| v == "pooled")
}

/// The fields every request sends unless it gives its own.
fn default_headers(config: &ClientConfig) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    for (name, value) in &config.default_headers {
        headers.insert(name, value.clone());
    }
    headers
}

fn build_http(
    config: &ClientConfig,
    proxies: Arc<Proxies>,
    tls: rustls::ClientConfig,
    handoff: Arc<Handoff>,
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
        // hyper-util caps its pool per host only: no more than the total
        // either, so that a client told to keep few keeps few per host here.
        .pool_max_idle_per_host(
            config
                .pool_max_idle_per_host
                .unwrap_or(DEFAULT_IDLE_PER_HOST)
                .min(config.pool_max_idle.unwrap_or(DEFAULT_IDLE)),
        )
        .http2_only(config.http2 == Http2Mode::PriorKnowledge);
    Ok(builder.build(HandoffConnector::new(https, handoff)))
}
