//! The napi boundary: one class, `NativeClient`, that the JavaScript API in
//! `lib/` drives. Requests cross in one call per batch; results come back in
//! coalesced chunks (see `delivery`).

mod delivery;
mod layout;
mod options;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi::{JsString, JsValue};
use napi_derive::napi;

use crate::engine::{CallOptions, Client, FetchError, RawRequest, SaveOptions, Start};
use delivery::{ChunkArgs, ChunkSink};
use options::{call_options, client_config, CallOptionsJs, ClientOptionsJs};

/// What a request adds to its URL; `i` is its position in the submitted list.
#[napi(object)]
pub struct RequestExtra {
    pub i: u32,
    pub method: Option<String>,
    /// `[name, value, name, value, …]`
    pub headers: Option<Vec<String>>,
    pub body: Option<Buffer>,
    pub timeout: Option<f64>,
    pub max_body_size: Option<f64>,
    pub save_to: Option<String>,
    pub save_any_status: Option<bool>,
    pub resume: Option<bool>,
    pub if_changed: Option<bool>,
    pub integrity: Option<String>,
    pub abortable: Option<bool>,
}

#[napi(object)]
pub struct NativeStats {
    pub queued: f64,
    pub in_flight: f64,
    pub done: f64,
    pub failed: f64,
    pub bytes: f64,
    pub batches: f64,
}

/// About what a client keeps in native memory until its JavaScript object is
/// collected (its scheduler, TLS configuration, buffers), told to V8 so that
/// a process that makes and closes many clients collects them as it goes.
const NATIVE_BYTES: i64 = 384 * 1024;

#[napi(custom_finalize)]
pub struct NativeClient {
    client: Client,
    sink: Arc<ChunkSink>,
    defaults: Arc<CallOptions>,
    /// The options of the batch that plain `fetch` calls share: the client's
    /// defaults, with no concurrency limit and no fail-fast.
    shared: Arc<CallOptions>,
}

/// An input error as `[code, message]`, for JavaScript to raise as Node would.
fn input_error(err: FetchError) -> Vec<String> {
    vec![err.code().to_string(), err.message().to_string()]
}

fn apply_extra(raw: &mut RawRequest, extra: RequestExtra) {
    raw.method = extra.method;
    if let Some(flat) = extra.headers {
        let mut it = flat.into_iter();
        while let (Some(name), Some(value)) = (it.next(), it.next()) {
            raw.headers.push((name, value));
        }
    }
    raw.body = extra.body.map(|b| Bytes::copy_from_slice(&b));
    raw.timeout = extra.timeout.and_then(options::millis);
    // Infinity lifts the call's limit for this request alone.
    raw.max_body_size = extra.max_body_size.map(|m| {
        if m.is_finite() {
            m.max(0.0) as u64
        } else {
            u64::MAX
        }
    });
    raw.save_to = extra.save_to.map(Into::into);
    raw.save_options = SaveOptions {
        any_status: extra.save_any_status.unwrap_or(false),
        resume: extra.resume.unwrap_or(false),
        if_changed: extra.if_changed.unwrap_or(false),
        integrity: None,
    };
    raw.integrity = extra.integrity;
    raw.abortable = extra.abortable.unwrap_or(false);
}

thread_local! {
    /// Room for the UTF-8 of one `submit`'s URL lines, kept between calls: a
    /// fresh allocation of that size per call made glibc consolidate the main
    /// arena's free lists every time.
    static LINES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on the UTF-8 of `text`, copied into this thread's reused buffer.
fn with_utf8<R>(text: &JsString<'_>, f: impl FnOnce(&str) -> R) -> Result<R> {
    let len = text.utf8_len()?;
    let value = text.value();
    LINES.with(|lines| {
        let mut buf = lines.borrow_mut();
        buf.clear();
        buf.reserve(len + 1);
        let mut written = 0;
        // SAFETY: `buf` has room for `len` bytes and the terminating NUL that
        // napi writes; `value` is a live string on this thread.
        check_status!(unsafe {
            sys::napi_get_value_string_utf8(
                value.env,
                value.value,
                buf.as_mut_ptr().cast(),
                len + 1,
                &mut written,
            )
        })?;
        // SAFETY: napi wrote `written` bytes.
        unsafe { buf.set_len(written.min(len)) };
        let out = std::str::from_utf8(&buf)
            .map(f)
            .map_err(|e| Error::new(Status::InvalidArg, format!("URL lines: {e}")));
        // An unusually long call does not keep its room for good.
        if buf.capacity() > 1 << 20 {
            *buf = Vec::new();
        }
        out
    })
}

impl NativeClient {
    fn submit_with(
        &self,
        batch: u32,
        first_index: u32,
        urls: JsString<'_>,
        extras: Option<Vec<RequestExtra>>,
        opts: Arc<CallOptions>,
        start: Start,
    ) -> Result<Option<Vec<String>>> {
        let mut items: Vec<RawRequest> = with_utf8(&urls, |text| {
            // Counted first: `split` cannot tell `collect` how many lines come.
            let mut items = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 1);
            items.extend(text.split('\n').map(RawRequest::get));
            items
        })?;
        for extra in extras.unwrap_or_default() {
            if let Some(raw) = items.get_mut(extra.i as usize) {
                apply_extra(raw, extra);
            }
        }
        let sink = self.sink.clone();
        Ok(
            match self
                .client
                .submit_part(batch, first_index, items, opts, sink, start)
            {
                Ok(()) => None,
                Err(rejected) => {
                    let mut problem = input_error(rejected.error);
                    problem.push(rejected.index.to_string());
                    Some(problem)
                }
            },
        )
    }
}

#[napi]
impl NativeClient {
    /// `timeOrigin` is `performance.now()` taken just before this call.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        options: ClientOptionsJs,
        time_origin: f64,
        on_chunk: Function<'_, ChunkArgs, ()>,
    ) -> Result<Self> {
        // Taken first: building the client (runtime, certificates) takes
        // milliseconds, which would otherwise shift every timing.
        let origin = std::time::Instant::now();
        let config = client_config(options)?;
        let defaults = Arc::new(config.defaults.clone());
        let client = Client::new(config).map_err(|e| {
            Error::new(Status::InvalidArg, format!("{}: {}", e.code(), e.message()))
        })?;
        let sink = ChunkSink::new(time_origin, origin);
        sink.attach(on_chunk)?;
        let shared = Arc::new(CallOptions {
            // Under 'auto' the limit is the most in flight per origin.
            concurrency: if defaults.adaptive {
                defaults.concurrency
            } else {
                usize::MAX >> 4
            },
            fail_fast: false,
            ..(*defaults).clone()
        });
        // Only a hint to the garbage collector: a failure changes nothing else.
        let _ = env.adjust_external_memory(NATIVE_BYTES);
        Ok(NativeClient {
            client,
            sink,
            defaults,
            shared,
        })
    }

    /// Starts requests as part of batch `batch`, numbered from `firstIndex`.
    /// `urls` holds one URL per line. `start`: 0 (or none) at once; 1 held
    /// until a later part without it; 2 at once, on lanes of the call's own
    /// that wait for its next part (a call whose parts keep coming). Returns
    /// `[code, message, index]` when the call is refused (fail-fast and a
    /// malformed item: nothing of the call is sent), else null.
    #[napi(catch_unwind)]
    pub fn submit(
        &self,
        batch: u32,
        first_index: u32,
        urls: JsString<'_>,
        extras: Option<Vec<RequestExtra>>,
        options: Option<CallOptionsJs>,
        start: Option<u32>,
    ) -> Result<Option<Vec<String>>> {
        let opts = match options {
            Some(js) => Arc::new(call_options(&self.defaults, js)?),
            None => self.defaults.clone(),
        };
        self.submit_with(
            batch,
            first_index,
            urls,
            extras,
            opts,
            match start.unwrap_or(layout::START_NOW) {
                layout::START_HOLD => Start::Hold,
                layout::START_OPEN => Start::Open,
                _ => Start::Now,
            },
        )
    }

    /// `submit` for the batch that plain `fetch` calls share (see
    /// lib/join.js), with its options already converted: calls of
    /// one tick cross together, often a few at a time.
    #[napi(catch_unwind)]
    pub fn submit_shared(
        &self,
        batch: u32,
        first_index: u32,
        urls: JsString<'_>,
        extras: Option<Vec<RequestExtra>>,
    ) -> Result<Option<Vec<String>>> {
        let opts = self.shared.clone();
        self.submit_with(batch, first_index, urls, extras, opts, Start::Joined)
    }

    /// Checks a plain GET of `url` as `submit` would, without sending
    /// anything: the input error it would fail with, or null.
    #[napi(catch_unwind)]
    pub fn check_url(&self, url: String) -> Option<Vec<String>> {
        RawRequest::get(url).check().1.err().map(input_error)
    }

    #[napi(catch_unwind)]
    pub fn cancel(&self, batch: u32) {
        self.client.cancel(batch);
    }

    #[napi(catch_unwind)]
    pub fn cancel_item(&self, batch: u32, index: u32) {
        self.client.cancel_item(batch, index);
    }

    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeStats {
        let s = self.client.stats();
        NativeStats {
            queued: s.queued as f64,
            in_flight: s.in_flight as f64,
            done: s.done as f64,
            failed: s.failed as f64,
            bytes: s.bytes as f64,
            batches: s.batches as f64,
        }
    }

    /// `origin → limit` of the running `concurrency: 'auto'` calls.
    #[napi(catch_unwind)]
    pub fn limits(&self) -> std::collections::HashMap<String, u32> {
        self.client.adaptive_limits()
    }

    #[napi(getter)]
    pub fn workers(&self) -> u32 {
        self.client.config().workers as u32
    }

    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.client.close();
        self.sink.detach();
    }
}

impl ObjectFinalize for NativeClient {
    fn finalize(self, env: Env) -> Result<()> {
        let _ = env.adjust_external_memory(-NATIVE_BYTES);
        Ok(())
    }
}

/// The defaults the engine applies, for the JavaScript API and its types.
// Only JavaScript calls it: the test build has no caller.
#[cfg_attr(test, allow(dead_code))]
#[napi]
pub fn native_defaults() -> serde_json::Value {
    let c = crate::engine::ClientConfig::default();
    let d = &c.defaults;
    let ms =
        |v: Option<Duration>| v.map_or(serde_json::Value::Null, |d| (d.as_millis() as u64).into());
    serde_json::json!({
        "workers": c.workers,
        "connectTimeout": ms(c.connect_timeout),
        "poolMaxIdlePerHost": c
            .pool_max_idle_per_host
            .unwrap_or(crate::engine::DEFAULT_IDLE_PER_HOST),
        "poolMaxIdle": c.pool_max_idle.unwrap_or(crate::engine::DEFAULT_IDLE),
        "poolIdleTimeout": c.pool_idle_timeout.as_millis() as u64,
        "concurrency": d.concurrency,
        "headersTimeout": ms(d.headers_timeout),
        "bodyTimeout": ms(d.body_timeout),
        "totalTimeout": ms(d.total_timeout),
        "maxRedirects": d.max_redirects,
        "maxBodySize": d.max_body_size,
        "maxSaveSize": d.max_save_size,
        "minSpeed": d.min_speed.map(|s| serde_json::json!({
            "limit": s.bytes_per_sec,
            "time": s.window.as_millis() as u64,
        })),
        "userAgent": crate::engine::USER_AGENT,
        "acceptEncoding": crate::engine::ACCEPT_ENCODING,
    })
}
