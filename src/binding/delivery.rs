//! Delivery of finished requests to JavaScript through one weak threadsafe
//! function per client. Each completion is encoded on the worker that finished
//! it, into the chunk that is open; the JavaScript thread only takes a sealed
//! chunk and wraps it. A chunk crosses as one call with:
//! - `rows`: a Float64Array of fixed-size numeric rows, one per completion;
//! - `data`: one Buffer with each response's header lines and small body;
//! - `bodies`: large bodies, each its own Buffer, handed over without a copy;
//! - `extras`: a JSON array of the rare strings (final URL after a redirect,
//!   error details), or an empty string when there are none.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use crate::engine::{Completion, Headers, Saved, Sink, Timing};

/// Completions per call into JavaScript: bounds the time one call holds the
/// JavaScript thread.
const MAX_CHUNK: usize = 256;
/// Longest a completion waits in the open chunk for its worker to run out of
/// work before the chunk is sent anyway.
const MAX_HOLD: std::time::Duration = std::time::Duration::from_millis(1);
/// Copied bytes per chunk before it is sealed, so one chunk stays small.
const MAX_CHUNK_BYTES: usize = 1 << 20;
/// Unused room a sealed chunk gives back.
const SLACK: usize = 16 * 1024;
/// Bodies this large cross as their own Buffer: handing over the allocation
/// costs less than copying them into the chunk.
const OWN_BUFFER_MIN: usize = 16 * 1024;

/// Numbers per row. Layout (indices), for lib/client.js and lib/response.js:
/// 0 batch, 1 index, 2 status (0 = error), 3 version code (see
/// `version_code`), 4 attempts, 5 redirected (0/1; the HTTP status on an
/// error row), 6 headersStart, 7 headersEnd (= bodyStart), 8 bodyEnd in
/// `data`, or -(k + 1) when the body is `bodies[k]`, 9 the saveTo file (see
/// `saved_code`), 10 queued, 11 start, 12 connected (-1:
/// reused connection), 13 firstByte, 14 end, 15 extra (index into `extras`,
/// -1: none; the final URL on a response, `[code, message, url, cause]` on an
/// error).
pub const ROW: usize = 16;

pub type ChunkArgs = FnArgs<(Float64Array, Buffer, Bodies, String)>;

/// Row 9: the saved file's length, or -1 without `saveTo`, -2 when the
/// status was not saved, -3 when a `304` kept the saved copy.
fn saved_code(saved: Option<Saved>) -> f64 {
    match saved {
        None => -1.0,
        Some(Saved::Written(len)) => len as f64,
        Some(Saved::Skipped) => -2.0,
        Some(Saved::NotModified) => -3.0,
    }
}

/// A chunk's large bodies: in JavaScript, an array of Buffers that each view
/// the body's own memory (a heap allocation, or a mapping: see
/// engine/memory.rs) and let go of it when collected. Nothing is copied,
/// whoever else shares the bytes.
pub struct Bodies(Vec<Bytes>);

impl ToNapiValue for Bodies {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut array = std::ptr::null_mut();
        // SAFETY (this block): napi calls on the JavaScript thread, with
        // `env` live for the duration of the call.
        check_status!(
            unsafe { sys::napi_create_array_with_length(env, val.0.len(), &mut array) },
            "Failed to create the bodies array"
        )?;
        for (k, body) in val.0.into_iter().enumerate() {
            let buffer = unsafe { external_buffer(env, body)? };
            check_status!(
                unsafe { sys::napi_set_element(env, array, k as u32, buffer) },
                "Failed to fill the bodies array"
            )?;
        }
        Ok(array)
    }
}

/// A Buffer over `body`'s bytes that drops `body` when collected; a copy
/// where the runtime refuses external memory.
unsafe fn external_buffer(env: sys::napi_env, body: Bytes) -> Result<sys::napi_value> {
    let mut buffer = std::ptr::null_mut();
    let len = body.len();
    if len == 0 {
        check_status!(
            unsafe { sys::napi_create_buffer(env, 0, std::ptr::null_mut(), &mut buffer) },
            "Failed to create a body Buffer"
        )?;
        return Ok(buffer);
    }
    let data = body.as_ptr().cast_mut();
    let owner = Box::into_raw(Box::new(body));
    let status = unsafe {
        sys::napi_create_external_buffer(
            env,
            len,
            data.cast(),
            Some(drop_body),
            owner.cast(),
            &mut buffer,
        )
    };
    if status == sys::Status::napi_no_external_buffers_allowed {
        // SAFETY: not handed over: reclaimed here, once.
        let body = unsafe { Box::from_raw(owner) };
        check_status!(
            unsafe {
                sys::napi_create_buffer_copy(
                    env,
                    len,
                    body.as_ptr().cast(),
                    std::ptr::null_mut(),
                    &mut buffer,
                )
            },
            "Failed to copy a body Buffer"
        )?;
        return Ok(buffer);
    }
    check_status!(status, "Failed to create a body Buffer")?;
    Ok(buffer)
}

unsafe extern "C" fn drop_body(
    _env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    owner: *mut std::ffi::c_void,
) {
    // SAFETY: `owner` is the box made in `external_buffer`, finalized once.
    drop(unsafe { Box::from_raw(owner.cast::<Bytes>()) });
}
pub type ChunkFn = ThreadsafeFunction<(), (), ChunkArgs, Status, false, true>;

/// Completions encoded and waiting for the JavaScript thread.
#[derive(Default)]
struct Chunk {
    rows: Vec<f64>,
    data: Vec<u8>,
    bodies: Vec<Bytes>,
    /// The elements of the `extras` array, comma-separated, without brackets.
    extras: String,
    extra_count: u32,
    /// When the first completion went in.
    opened: Option<Instant>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.rows.len() / ROW
    }

    fn extra(&mut self, json: impl FnOnce(&mut String)) -> f64 {
        if self.extra_count > 0 {
            self.extras.push(',');
        }
        json(&mut self.extras);
        self.extra_count += 1;
        f64::from(self.extra_count - 1)
    }
}

#[derive(Default)]
struct Outbox {
    open: Chunk,
    sealed: VecDeque<Chunk>,
    /// Rows the next chunk makes room for, and bytes per row, from the last
    /// sealed one: reserved when its first completion goes in.
    rows_hint: usize,
    row_bytes: usize,
}

impl Outbox {
    /// Seals the open chunk. This runs on the JavaScript thread too, so it
    /// reserves no room for the next chunk: the worker that opens it does
    /// (`open`).
    fn seal(&mut self) {
        let rows = self.open.len();
        // Twice as many rows as this one: a chunk sealed early, as the
        // worker ran out of work, may be followed by a fuller one.
        self.rows_hint = (rows * 2).clamp(16, MAX_CHUNK);
        self.row_bytes = self.open.data.len() / rows.max(1);
        // The chunk lives as long as any of its responses: room it did not
        // use goes back now (shrinking in place copies nothing).
        if self.open.data.capacity() - self.open.data.len() > SLACK {
            self.open.data.shrink_to_fit();
        }
        let full = std::mem::take(&mut self.open);
        self.sealed.push_back(full);
    }

    /// The open chunk, with room reserved if it is empty, so that it is
    /// seldom copied into a new allocation as it grows.
    fn open(&mut self) -> &mut Chunk {
        if self.open.rows.capacity() == 0 {
            let rows = self.rows_hint.max(16);
            self.open.rows.reserve(rows * ROW);
            self.open
                .data
                .reserve((self.row_bytes * rows).min(MAX_CHUNK_BYTES));
        }
        &mut self.open
    }
}

pub struct ChunkSink {
    outbox: Mutex<Outbox>,
    /// A call into JavaScript is queued and has not started yet.
    scheduled: AtomicBool,
    tsfn: OnceLock<ChunkFn>,
    origin: Instant,
    /// `performance.now()` at `origin`.
    time_origin: f64,
}

impl ChunkSink {
    /// `time_origin` is `performance.now()` at `origin`.
    pub fn new(time_origin: f64, origin: Instant) -> Arc<Self> {
        Arc::new(ChunkSink {
            outbox: Mutex::new(Outbox::default()),
            scheduled: AtomicBool::new(false),
            tsfn: OnceLock::new(),
            origin,
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
                let chunk = match weak.upgrade() {
                    Some(sink) => sink.take_chunk(),
                    None => Chunk::default(),
                };
                Ok(into_args(chunk))
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
            if let Ok(mut outbox) = self.outbox.lock() {
                *outbox = Outbox::default();
            }
        }
    }

    /// Runs on the JavaScript thread: takes the oldest chunk, sealing the open
    /// one if nothing else waits.
    fn take_chunk(&self) -> Chunk {
        self.scheduled.store(false, Ordering::Release);
        let (chunk, more) = {
            let mut outbox = self.outbox.lock().expect("chunk outbox");
            if outbox.sealed.is_empty() && outbox.open.len() > 0 {
                outbox.seal();
            }
            let chunk = outbox.sealed.pop_front().unwrap_or_default();
            (chunk, !outbox.sealed.is_empty() || outbox.open.len() > 0)
        };
        if more {
            self.schedule();
        }
        chunk
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

    fn timing(&self, t: &Timing) -> [f64; 5] {
        [
            self.ms(Some(t.queued)),
            self.ms(t.start),
            self.ms(t.connected),
            self.ms(t.first_byte),
            self.ms(t.end),
        ]
    }

    /// Appends one completion to `chunk` (see [`ROW`] for the row layout).
    fn encode(&self, chunk: &mut Chunk, c: Completion) {
        let timing = self.timing(&c.timing);
        let row: [f64; ROW] = match c.result {
            Ok(resp) => {
                let headers_start = chunk.data.len();
                match &resp.headers {
                    Headers::Lines(lines) => chunk.data.extend_from_slice(lines),
                    Headers::Map(map) => {
                        for (name, value) in map {
                            chunk.data.extend_from_slice(name.as_str().as_bytes());
                            chunk.data.extend_from_slice(b": ");
                            chunk.data.extend_from_slice(value.as_bytes());
                            chunk.data.push(b'\n');
                        }
                    }
                }
                let headers_end = chunk.data.len();
                let body_end = if resp.body.len() >= OWN_BUFFER_MIN {
                    chunk.bodies.push(resp.body);
                    -(chunk.bodies.len() as f64)
                } else {
                    chunk.data.extend_from_slice(&resp.body);
                    chunk.data.len() as f64
                };
                let extra = match &resp.url {
                    None => -1.0,
                    Some(url) => chunk.extra(|out| json_string(out, url)),
                };
                [
                    f64::from(c.batch),
                    f64::from(c.index),
                    f64::from(resp.status.as_u16()),
                    version_code(resp.version),
                    f64::from(c.attempts),
                    f64::from(u8::from(resp.redirected)),
                    headers_start as f64,
                    headers_end as f64,
                    body_end,
                    saved_code(resp.saved),
                    timing[0],
                    timing[1],
                    timing[2],
                    timing[3],
                    timing[4],
                    extra,
                ]
            }
            Err(err) => {
                let status = match err.kind() {
                    crate::engine::ErrorKind::HttpStatus(s) => *s,
                    _ => 0,
                };
                let extra = chunk.extra(|out| {
                    let _ = write!(out, "[\"{}\",", err.code());
                    json_string(out, err.message());
                    out.push(',');
                    json_string(out, &c.url);
                    out.push(',');
                    match err.cause_message() {
                        Some(m) => json_string(out, &m),
                        None => out.push_str("null"),
                    }
                    out.push(']');
                });
                let d = chunk.data.len() as f64;
                [
                    f64::from(c.batch),
                    f64::from(c.index),
                    0.0,
                    0.0,
                    f64::from(c.attempts),
                    f64::from(status),
                    d,
                    d,
                    d,
                    -1.0,
                    timing[0],
                    timing[1],
                    timing[2],
                    timing[3],
                    timing[4],
                    extra,
                ]
            }
        };
        chunk.rows.extend_from_slice(&row);
    }
}

impl Sink for ChunkSink {
    /// Encodes the completion into the open chunk. A full chunk is sent at
    /// once; otherwise the call into JavaScript waits until the worker runs
    /// out of work (`flush`), so completions that finish together cross in
    /// one call and one wake-up of the JavaScript thread.
    fn deliver(&self, completion: Completion) -> bool {
        let full = match self.outbox.lock() {
            Ok(mut outbox) => {
                let opened = *outbox
                    .open()
                    .opened
                    .get_or_insert(completion.timing.end.unwrap_or(completion.timing.queued));
                self.encode(&mut outbox.open, completion);
                if outbox.open.len() >= MAX_CHUNK || outbox.open.data.len() >= MAX_CHUNK_BYTES {
                    outbox.seal();
                    true
                } else {
                    opened.elapsed() >= MAX_HOLD
                }
            }
            Err(_) => true,
        };
        if full {
            self.schedule();
        }
        !full
    }

    fn flush(&self) {
        self.schedule();
    }
}

fn into_args(chunk: Chunk) -> ChunkArgs {
    let extras = if chunk.extra_count == 0 {
        String::new()
    } else {
        format!("[{}]", chunk.extras)
    };
    FnArgs::from((
        Float64Array::new(chunk.rows),
        Buffer::from(chunk.data),
        Bodies(chunk.bodies),
        extras,
    ))
}

/// 0 "1.1", 1 "1.0", 2 "2", 3 "3", 4 "0.9": lib/response.js maps them back.
fn version_code(version: http::Version) -> f64 {
    match version {
        http::Version::HTTP_10 => 1.0,
        http::Version::HTTP_2 => 2.0,
        http::Version::HTTP_3 => 3.0,
        http::Version::HTTP_09 => 4.0,
        _ => 0.0,
    }
}

fn json_string(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(json) => out.push_str(&json),
        Err(_) => out.push_str("\"\""),
    }
}
