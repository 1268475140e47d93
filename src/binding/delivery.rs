//! Delivery of finished requests to JavaScript through one weak threadsafe
//! function per client. Completions that finish while the JavaScript thread is
//! busy are coalesced into one call: a JSON string of metadata rows and one
//! Buffer holding every response's raw header block and body.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use crate::engine::{Completion, Sink, Timing};

/// Completions per call into JavaScript: bounds the time one call holds the
/// JavaScript thread.
const MAX_CHUNK: usize = 256;

pub type ChunkArgs = FnArgs<(String, Buffer)>;
pub type ChunkFn = ThreadsafeFunction<(), (), ChunkArgs, Status, false, true>;

pub struct ChunkSink {
    pending: Mutex<Vec<Completion>>,
    /// A call into JavaScript is queued and has not started yet.
    scheduled: AtomicBool,
    tsfn: OnceLock<ChunkFn>,
    origin: Instant,
    /// `performance.now()` at `origin`.
    time_origin: f64,
}

impl ChunkSink {
    pub fn new(time_origin: f64) -> Arc<Self> {
        Arc::new(ChunkSink {
            pending: Mutex::new(Vec::new()),
            scheduled: AtomicBool::new(false),
            tsfn: OnceLock::new(),
            origin: Instant::now(),
            time_origin,
        })
    }

    /// Connects the sink to the JavaScript function that receives chunks.
    pub fn attach(self: &Arc<Self>, on_chunk: Function<'_, ChunkArgs, ()>) -> Result<()> {
        let weak: Weak<ChunkSink> = Arc::downgrade(self);
        let tsfn = on_chunk
            .build_threadsafe_function::<()>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(move |_ctx| {
                let (meta, body) = match weak.upgrade() {
                    Some(sink) => sink.take_chunk(),
                    None => (String::new(), Vec::new()),
                };
                Ok(FnArgs::from((meta, Buffer::from(body))))
            })?;
        let _ = self.tsfn.set(tsfn);
        Ok(())
    }

    fn schedule(&self) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let status = match self.tsfn.get() {
            Some(tsfn) => tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking),
            None => Status::Closing,
        };
        if status != Status::Ok {
            // The environment is going away: nobody is left to receive these.
            self.pending.lock().map(|mut p| p.clear()).ok();
        }
    }

    /// Runs on the JavaScript thread: takes what finished and encodes it.
    fn take_chunk(&self) -> (String, Vec<u8>) {
        self.scheduled.store(false, Ordering::Release);
        let items: Vec<Completion> = {
            let mut pending = self.pending.lock().expect("pending completions");
            if pending.len() > MAX_CHUNK {
                let rest = pending.split_off(MAX_CHUNK);
                std::mem::replace(&mut *pending, rest)
            } else {
                std::mem::take(&mut *pending)
            }
        };
        let more = !self.pending.lock().map(|p| p.is_empty()).unwrap_or(true);
        if more {
            self.schedule();
        }
        self.encode(&items)
    }

    fn ms(&self, at: Option<Instant>) -> f64 {
        match at {
            Some(t) => {
                let since = t.saturating_duration_since(self.origin).as_secs_f64() * 1000.0;
                ((self.time_origin + since) * 1000.0).round() / 1000.0
            }
            None => -1.0,
        }
    }

    fn write_timing(&self, meta: &mut String, t: &Timing) {
        let _ = write!(
            meta,
            "{},{},{},{},{}",
            self.ms(Some(t.queued)),
            self.ms(t.start),
            self.ms(t.connected),
            self.ms(t.first_byte),
            self.ms(t.end)
        );
    }

    /// Rows, one per completion:
    /// ok:    `[batch, index, status, version, attempts, finalUrl|null, redirected,
    ///          headersStart, bodyStart, bodyEnd, savedBytes, queued, start, connected, firstByte, end]`
    /// error: `[batch, index, 0, code, message, attempts, url, cause|null, status,
    ///          queued, start, connected, firstByte, end]`
    fn encode(&self, items: &[Completion]) -> (String, Vec<u8>) {
        let body_len: usize = items
            .iter()
            .map(|c| match &c.result {
                Ok(r) => r.body.len() + r.headers.len() * 32,
                Err(_) => 0,
            })
            .sum();
        let mut buf = Vec::with_capacity(body_len);
        let mut meta = String::with_capacity(items.len() * 96);
        meta.push('[');
        for (n, c) in items.iter().enumerate() {
            if n > 0 {
                meta.push(',');
            }
            match &c.result {
                Ok(resp) => {
                    let headers_start = buf.len();
                    for (name, value) in &resp.headers {
                        buf.extend_from_slice(name.as_str().as_bytes());
                        buf.extend_from_slice(b": ");
                        buf.extend_from_slice(value.as_bytes());
                        buf.push(b'\n');
                    }
                    let body_start = buf.len();
                    buf.extend_from_slice(&resp.body);
                    let final_url = if resp.url.as_str() == c.url {
                        "null".to_string()
                    } else {
                        json_string(resp.url.as_str())
                    };
                    let _ = write!(
                        meta,
                        "[{},{},{},{},{},{},{},{},{},{},{},",
                        c.batch,
                        c.index,
                        resp.status.as_u16(),
                        version_code(resp.version),
                        c.attempts,
                        final_url,
                        u8::from(resp.redirected),
                        headers_start,
                        body_start,
                        buf.len(),
                        resp.saved_bytes.map_or(-1.0, |b| b as f64),
                    );
                }
                Err(err) => {
                    let status = match err.kind() {
                        crate::engine::ErrorKind::HttpStatus(s) => *s,
                        _ => 0,
                    };
                    let _ = write!(
                        meta,
                        "[{},{},0,\"{}\",{},{},{},{},{},",
                        c.batch,
                        c.index,
                        err.code(),
                        json_string(err.message()),
                        c.attempts,
                        json_string(&c.url),
                        err.cause_message()
                            .map_or_else(|| "null".to_string(), |m| json_string(&m)),
                        status,
                    );
                }
            }
            self.write_timing(&mut meta, &c.timing);
            meta.push(']');
        }
        meta.push(']');
        (meta, buf)
    }
}

impl Sink for ChunkSink {
    fn deliver(&self, completion: Completion) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.push(completion);
        }
        self.schedule();
    }
}

fn version_code(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "\"0.9\"",
        http::Version::HTTP_10 => "\"1.0\"",
        http::Version::HTTP_2 => "\"2\"",
        http::Version::HTTP_3 => "\"3\"",
        _ => "\"1.1\"",
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}
