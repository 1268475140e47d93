//! JavaScript option objects and their conversion to the engine's settings.
//! Ranges and types are checked in JavaScript first (with Node's error codes);
//! what arrives here is already well-formed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::engine::{
    is_public, CallOptions, ClientConfig, Http2Mode, MinSpeed, ProxyConfig, RedirectMode,
    RetryPolicy, DEFAULT_MIN_SPEED,
};

#[napi(object)]
pub struct RetryOptions {
    pub retries: Option<u32>,
    pub min_delay: Option<f64>,
    pub max_delay: Option<f64>,
    pub statuses: Option<Vec<u32>>,
    pub codes: Option<Vec<String>>,
    pub methods: Option<Vec<String>>,
}

/// Per-call options; every field falls back to the client's value.
#[napi(object)]
pub struct CallOptionsJs {
    pub concurrency: Option<u32>,
    /// `concurrency: 'auto'`: `concurrency` is then the most per origin.
    pub adaptive: Option<bool>,
    pub headers_timeout: Option<f64>,
    pub body_timeout: Option<f64>,
    pub total_timeout: Option<f64>,
    pub redirect: Option<String>,
    pub max_redirects: Option<u32>,
    pub max_body_size: Option<f64>,
    pub max_save_size: Option<f64>,
    /// Bytes a second; 0 lifts the guard.
    pub min_speed_limit: Option<f64>,
    /// Milliseconds the speed is averaged over.
    pub min_speed_time: Option<f64>,
    pub decompress: Option<bool>,
    pub fail_fast: Option<bool>,
    pub error_on_status: Option<bool>,
    pub retry: Option<RetryOptions>,
}

#[napi(object)]
pub struct ClientOptionsJs {
    pub workers: Option<u32>,
    pub connect_timeout: Option<f64>,
    pub pool_max_idle_per_host: Option<u32>,
    pub pool_max_idle: Option<u32>,
    pub pool_idle_timeout: Option<f64>,
    pub max_connections_per_host: Option<u32>,
    pub http2: Option<String>,
    pub ca: Option<Vec<String>>,
    pub reject_unauthorized: Option<bool>,
    /// false: refuse connections to loopback, private and link-local addresses.
    pub allow_private_networks: Option<bool>,
    /// `host:port` → `address:port`.
    pub resolve: Option<HashMap<String, String>>,
    pub proxy_http: Option<String>,
    pub proxy_https: Option<String>,
    pub no_proxy: Option<String>,
    /// `[name, value]` pairs sent with every request.
    pub headers: Option<Vec<Vec<String>>>,
    pub rate_limit: Option<f64>,
    pub rate_limit_per_host: Option<f64>,
    pub defaults: Option<CallOptionsJs>,
}

/// Milliseconds, where 0 or less (or Infinity) means "no limit".
pub(crate) fn millis(value: f64) -> Option<Duration> {
    (value.is_finite() && value > 0.0).then(|| duration_ms(value))
}

/// The longest wait taken as given: a century. A longer one waits no
/// differently, and past it a deadline would overflow the clock.
const LONGEST_MS: f64 = 100.0 * 365.25 * 24.0 * 3600.0 * 1000.0;

/// Milliseconds as a `Duration`: none below 0 (or NaN), a century at most.
pub(crate) fn duration_ms(value: f64) -> Duration {
    if value > 0.0 {
        Duration::from_secs_f64(value.min(LONGEST_MS) / 1000.0)
    } else {
        Duration::ZERO
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, message.into())
}

pub fn call_options(base: &CallOptions, js: CallOptionsJs) -> Result<CallOptions> {
    let mut opts = base.clone();
    if let Some(v) = js.concurrency {
        opts.concurrency = v.max(1) as usize;
    }
    if let Some(v) = js.adaptive {
        opts.adaptive = v;
    }
    if let Some(v) = js.headers_timeout {
        opts.headers_timeout = millis(v);
    }
    if let Some(v) = js.body_timeout {
        opts.body_timeout = millis(v);
    }
    if let Some(v) = js.total_timeout {
        opts.total_timeout = millis(v);
    }
    if let Some(mode) = js.redirect.as_deref() {
        opts.redirect = match mode {
            "follow" => RedirectMode::Follow,
            "manual" => RedirectMode::Manual,
            "error" => RedirectMode::Error,
            other => return Err(invalid(format!("Unknown redirect mode {other}"))),
        };
    }
    if let Some(v) = js.max_redirects {
        opts.max_redirects = v;
    }
    if let Some(v) = js.max_body_size {
        opts.max_body_size = v.is_finite().then_some(v.max(0.0) as u64);
    }
    if let Some(v) = js.max_save_size {
        opts.max_save_size = v.is_finite().then_some(v.max(0.0) as u64);
    }
    opts.min_speed = min_speed(opts.min_speed, js.min_speed_limit, js.min_speed_time);
    if let Some(v) = js.decompress {
        opts.decompress = v;
    }
    if let Some(v) = js.fail_fast {
        opts.fail_fast = v;
    }
    if let Some(v) = js.error_on_status {
        opts.error_on_status = v;
    }
    if let Some(retry) = js.retry {
        opts.retry = retry_policy(&opts.retry, retry)?;
    }
    Ok(opts)
}

/// `minSpeedLimit` and `minSpeedTime` over the base's: a limit that is not
/// a positive number turns the check off; a window alone keeps the limit.
fn min_speed(base: Option<MinSpeed>, limit: Option<f64>, time: Option<f64>) -> Option<MinSpeed> {
    let window = time.and_then(millis);
    match (limit, base) {
        (Some(l), _) if !(l.is_finite() && l > 0.0) => None,
        (Some(l), base) => Some(MinSpeed {
            bytes_per_sec: l as u64,
            window: window
                .or(base.map(|b| b.window))
                .unwrap_or(DEFAULT_MIN_SPEED.window),
        }),
        (None, Some(base)) => Some(MinSpeed {
            window: window.unwrap_or(base.window),
            ..base
        }),
        (None, None) => None,
    }
}

fn retry_policy(base: &RetryPolicy, js: RetryOptions) -> Result<RetryPolicy> {
    let mut policy = base.clone();
    if let Some(v) = js.retries {
        policy.retries = v;
    }
    if let Some(v) = js.min_delay {
        policy.min_delay = duration_ms(v);
    }
    if let Some(v) = js.max_delay {
        policy.max_delay = duration_ms(v);
    }
    if let Some(v) = js.statuses {
        policy.statuses = v.into_iter().map(|s| s as u16).collect();
    }
    if let Some(v) = js.codes {
        policy.codes = v;
    }
    if let Some(v) = js.methods {
        policy.methods = v
            .iter()
            .map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| invalid("Invalid retry method"))?;
    }
    Ok(policy)
}

pub fn client_config(js: ClientOptionsJs) -> Result<ClientConfig> {
    let mut config = ClientConfig::default();
    if let Some(v) = js.workers {
        config.workers = v.max(1) as usize;
    }
    if let Some(v) = js.connect_timeout {
        config.connect_timeout = millis(v);
    }
    if let Some(v) = js.pool_max_idle_per_host {
        config.pool_max_idle_per_host = Some(v as usize);
    }
    if let Some(v) = js.pool_max_idle {
        config.pool_max_idle = Some(v as usize);
    }
    if let Some(v) = js.pool_idle_timeout {
        config.pool_idle_timeout = duration_ms(v);
    }
    if let Some(v) = js.max_connections_per_host {
        config.max_connections_per_host = (v > 0).then_some(v as usize);
    }
    if let Some(mode) = js.http2.as_deref() {
        config.http2 = match mode {
            "auto" => Http2Mode::Auto,
            "prior-knowledge" => Http2Mode::PriorKnowledge,
            "off" => Http2Mode::Off,
            other => return Err(invalid(format!("Unknown http2 mode {other}"))),
        };
    }
    if let Some(ca) = js.ca {
        config.ca = ca.into_iter().map(String::into_bytes).collect();
    }
    if js.allow_private_networks == Some(false) {
        config.address_filter = Some(is_public);
    }
    if let Some(v) = js.reject_unauthorized {
        config.reject_unauthorized = v;
    }
    if let Some(map) = js.resolve {
        for (from, to) in map {
            let addr: SocketAddr = to
                .parse()
                .map_err(|_| invalid(format!("resolve: {to} is not an address:port")))?;
            config.resolve.insert(from.to_ascii_lowercase(), addr);
        }
    }
    config.proxy = ProxyConfig {
        http: js.proxy_http,
        https: js.proxy_https,
        no_proxy: js.no_proxy,
    };
    config.default_headers = default_fields(js.headers.unwrap_or_default())?;
    config.rate_limit = js.rate_limit.filter(|r| r.is_finite() && *r > 0.0);
    config.rate_limit_per_host = js.rate_limit_per_host.filter(|r| r.is_finite() && *r > 0.0);
    if let Some(defaults) = js.defaults {
        config.defaults = call_options(&config.defaults, defaults)?;
    }
    Ok(config)
}

/// The client's `headers`, as `[name, value]` pairs.
fn default_fields(pairs: Vec<Vec<String>>) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let mut fields = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let [name, value] = <[String; 2]>::try_from(pair)
            .map_err(|_| invalid("headers must be [name, value] pairs"))?;
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(format!("Invalid header name {name}")))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| invalid(format!("Invalid header value for {name}")))?;
        fields.push((name, value));
    }
    Ok(fields)
}
