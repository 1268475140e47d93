//! Settings of a client and of one call, each with its default.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::private_net::AddressFilter;
use super::speed::MinSpeed;

const MIB: u64 = 1024 * 1024;

/// Largest decoded body kept in memory by default: at the default
/// concurrency of 64 that is 4 GiB at most, and a gzip or brotli bomb from
/// a server nobody controls stops there instead of taking the process down.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 64 * MIB;

/// Largest decoded body `saveTo` writes by default: room for large
/// downloads, but a bomb cannot fill a disk.
pub const DEFAULT_MAX_SAVE_SIZE: u64 = 4 * 1024 * MIB;

/// Slowest body accepted by default, as curl's `--speed-limit 1024
/// --speed-time 30`: a body trickled a byte at a time fails within a minute.
pub const DEFAULT_MIN_SPEED: MinSpeed = MinSpeed {
    bytes_per_sec: 1024,
    window: Duration::from_secs(30),
};

/// How a call treats 3xx responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectMode {
    /// Follow up to `max_redirects` (default).
    Follow,
    /// Return the 3xx response as it is.
    Manual,
    /// Fail with `ERR_TOO_MANY_REDIRECTS` on any redirect.
    Error,
}

/// Which HTTP versions a client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http2Mode {
    /// HTTP/2 when the server offers it by ALPN over TLS, else HTTP/1.1 (default).
    Auto,
    /// HTTP/2 only, without negotiation (h2c on plain http).
    PriorKnowledge,
    /// HTTP/1.1 only.
    Off,
}

/// When and how failed requests are tried again.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Further attempts after the first (default 0: no retries).
    pub retries: u32,
    /// Backoff before the first retry (default 100 ms), doubled each time.
    pub min_delay: Duration,
    /// Cap on any one wait, including a `Retry-After` (default 10 s).
    pub max_delay: Duration,
    /// Statuses that are retried (default 408, 429, 500, 502, 503, 504).
    pub statuses: Vec<u16>,
    /// Error codes that are retried (default: connection errors and timeouts).
    pub codes: Vec<String>,
    /// Methods that may be retried (default: the idempotent ones).
    pub methods: Vec<http::Method>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 0,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            statuses: vec![408, 429, 500, 502, 503, 504],
            codes: [
                "ECONNRESET",
                "ECONNREFUSED",
                "EPIPE",
                "ETIMEDOUT",
                "ENOTFOUND",
                "EAI_AGAIN",
                "ERR_CONNECT_TIMEOUT",
                "ERR_HEADERS_TIMEOUT",
                "ERR_BODY_TIMEOUT",
                "ERR_HTTP_PROTOCOL",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            methods: vec![
                http::Method::GET,
                http::Method::HEAD,
                http::Method::OPTIONS,
                http::Method::PUT,
                http::Method::DELETE,
                http::Method::TRACE,
            ],
        }
    }
}

/// Options of one call (`fetch`, `gather`, …), falling back to the client's.
#[derive(Clone, Debug)]
pub struct CallOptions {
    /// Requests of this call in flight at once (default 64); with
    /// `adaptive`, the most any one origin may reach.
    pub concurrency: usize,
    /// Each origin's limit adapts to its latency and errors (default false;
    /// `concurrency: 'auto'` in JavaScript).
    pub adaptive: bool,
    /// From sending the request to the response head (default 30 s).
    pub headers_timeout: Option<Duration>,
    /// Longest pause between two pieces of the body (default 30 s).
    pub body_timeout: Option<Duration>,
    /// Whole request, redirects and retries included (default none).
    pub total_timeout: Option<Duration>,
    pub redirect: RedirectMode,
    /// Redirects followed before `ERR_TOO_MANY_REDIRECTS` (default 20).
    pub max_redirects: u32,
    /// Largest decoded body kept in memory (default 64 MiB).
    pub max_body_size: Option<u64>,
    /// Largest decoded body written by `saveTo` (default 4 GiB).
    pub max_save_size: Option<u64>,
    /// Slowest body accepted (default 1024 bytes/s over 30 s).
    pub min_speed: Option<MinSpeed>,
    /// Decode gzip, deflate, br and zstd bodies (default true).
    pub decompress: bool,
    /// First error ends the call and cancels the rest (default true).
    pub fail_fast: bool,
    /// Non-2xx statuses become `ERR_HTTP_STATUS` errors (default false).
    pub error_on_status: bool,
    pub retry: RetryPolicy,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            concurrency: 64,
            adaptive: false,
            headers_timeout: Some(Duration::from_secs(30)),
            body_timeout: Some(Duration::from_secs(30)),
            total_timeout: None,
            redirect: RedirectMode::Follow,
            max_redirects: 20,
            max_body_size: Some(DEFAULT_MAX_BODY_SIZE),
            max_save_size: Some(DEFAULT_MAX_SAVE_SIZE),
            min_speed: Some(DEFAULT_MIN_SPEED),
            decompress: true,
            fail_fast: true,
            error_on_status: false,
            retry: RetryPolicy::default(),
        }
    }
}

/// A proxy for plain http and one for https (tunnelled with CONNECT), with hosts
/// that bypass both.
#[derive(Clone, Debug, Default)]
pub struct ProxyConfig {
    pub http: Option<String>,
    pub https: Option<String>,
    pub no_proxy: Option<String>,
}

/// Idle connections kept per host when `poolMaxIdlePerHost` is not given,
/// at the least.
pub const DEFAULT_IDLE_PER_HOST: usize = 256;

/// Idle connections kept across all hosts when `poolMaxIdle` is not given,
/// at the least.
pub const DEFAULT_IDLE: usize = 1024;

/// Settings fixed when a client is built.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Worker threads of the pool (default: one per CPU but one, at least 1).
    pub workers: usize,
    /// TCP connect, DNS included (default 10 s).
    pub connect_timeout: Option<Duration>,
    /// Idle connections kept per host. Unset: [`DEFAULT_IDLE_PER_HOST`],
    /// or as many as the client's widest call had in flight if more, so that
    /// call after call at high concurrency to one origin re-opens nothing.
    pub pool_max_idle_per_host: Option<usize>,
    /// Idle connections kept across all hosts. Unset: [`DEFAULT_IDLE`], or
    /// the widest call's concurrency if more.
    pub pool_max_idle: Option<usize>,
    /// How long an idle connection is kept (default 30 s).
    pub pool_idle_timeout: Duration,
    /// Connections per host at once (default: unlimited).
    pub max_connections_per_host: Option<usize>,
    pub http2: Http2Mode,
    /// Extra trusted roots, PEM.
    pub ca: Vec<Vec<u8>>,
    /// Verify certificates (default true).
    pub reject_unauthorized: bool,
    /// host:port → address, like curl's `--resolve`.
    pub resolve: HashMap<String, SocketAddr>,
    pub proxy: ProxyConfig,
    /// Every address connected to must pass this (default: none, every
    /// address is allowed); `is_public` refuses private networks.
    pub address_filter: Option<AddressFilter>,
    /// Sent with every request unless the request sets them.
    pub default_headers: Vec<(HeaderName, HeaderValue)>,
    /// Requests per second over the whole client (default: unlimited).
    pub rate_limit: Option<f64>,
    /// Requests per second to any one host (default: unlimited).
    pub rate_limit_per_host: Option<f64>,
    pub defaults: CallOptions,
}

/// One worker per CPU but one: the JavaScript thread that consumes the
/// results needs a core too. On two cores one worker gives the same
/// throughput as two with less CPU per request and a steadier event loop.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .saturating_sub(1)
        .max(1)
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            workers: default_workers(),
            connect_timeout: Some(Duration::from_secs(10)),
            pool_max_idle_per_host: None,
            pool_max_idle: None,
            pool_idle_timeout: Duration::from_secs(30),
            max_connections_per_host: None,
            http2: Http2Mode::Auto,
            ca: Vec::new(),
            reject_unauthorized: true,
            resolve: HashMap::new(),
            proxy: ProxyConfig::default(),
            address_filter: None,
            default_headers: Vec::new(),
            rate_limit: None,
            rate_limit_per_host: None,
            defaults: CallOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_bounded_by_default() {
        let d = CallOptions::default();
        let in_memory = d.max_body_size.expect("a finite in-memory limit");
        // The default concurrency times the limit must fit an ordinary machine.
        assert!(in_memory * d.concurrency as u64 <= 4 * 1024 * MIB);
        assert!(d.max_save_size.is_some());
        let speed = d.min_speed.expect("a trickle guard");
        assert!(speed.bytes_per_sec > 0 && !speed.window.is_zero());
        assert!(ClientConfig::default().address_filter.is_none());
    }
}
