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
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use bytes::Bytes;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use crate::engine::{Completion, Headers, Saved, Sink};

/// Completions per call into JavaScript: bounds the time one call holds the
/// JavaScript thread.
const MAX_CHUNK: usize = 256;
/// Longest a completion waits in the open chunk for its worker to run out of
/// work before the chunk is sent anyway.
const MAX_CHUNK_AGE: std::time::Duration = std::time::Duration::from_millis(1);
/// Copied bytes per chunk before it is sealed, so one chunk stays small.
const MAX_CHUNK_BYTES: usize = 1 << 20;
/// Unused room a sealed chunk gives back.
const SLACK: usize = 16 * 1024;
/// Bodies this large cross as their own Buffer: handing over the allocation
/// costs less than copying them into the chunk.
const OWN_BUFFER_MIN: usize = 16 * 1024;

use super::layout as at;
pub use super::layout::ROW;

pub type ChunkArgs = FnArgs<(Float64Array, ChunkData, Bodies, String)>;

/// The row's `SAVED_BYTES`: the saved file's length, or a `SAVED_*` code.
fn saved_code(saved: Option<Saved>) -> f64 {
    match saved {
        None => at::SAVED_NONE,
        Some(Saved::Written(len)) => len as f64,
        Some(Saved::Skipped) => at::SAVED_SKIPPED,
        Some(Saved::NotModified) => at::SAVED_NOT_MODIFIED,
    }
}

/// A chunk's large bodies: in JavaScript, an array of Buffers that each view
/// the body's own memory (a heap allocation, possibly a recycled buffer of
/// engine/prefault.rs) and let go of it when collected. Nothing is copied,
/// whoever else shares the bytes.
pub struct Bodies(Vec<Bytes>);

impl ToNapiValue for Bodies {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut array = std::ptr::null_mut();
        check_status!(
            // SAFETY: called by napi-rs on the JavaScript thread with the
            // `env` of this call; `array` is a valid out-pointer.
            unsafe { sys::napi_create_array_with_length(env, val.0.len(), &mut array) },
            "Failed to create the bodies array"
        )?;
        for (k, body) in val.0.into_iter().enumerate() {
            // SAFETY: the same live `env`, on the JavaScript thread.
            let buffer = unsafe { external_buffer(env, body, drop_body)? };
            check_status!(
                // SAFETY: `array` was made above with room for every body,
                // and `buffer` is a value of this `env`.
                unsafe { sys::napi_set_element(env, array, k as u32, buffer) },
                "Failed to fill the bodies array"
            )?;
        }
        Ok(array)
    }
}

/// A chunk's copied bytes (small bodies, header text): in JavaScript, one
/// Buffer that the chunk's responses view, whose release is counted for
/// engine/malloc.rs like a body's.
pub struct ChunkData(Vec<u8>);

impl ToNapiValue for ChunkData {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: called by napi-rs on the JavaScript thread with the `env`
        // of this call.
        unsafe { external_buffer(env, Bytes::from(val.0), drop_chunk) }
    }
}

/// A Buffer over `body`'s bytes that drops `body` when collected; a copy
/// where the runtime refuses external memory.
///
/// # Safety
/// `env` must be the live environment of the current call, on the
/// JavaScript thread.
unsafe fn external_buffer(
    env: sys::napi_env,
    body: Bytes,
    finalize: Finalizer,
) -> Result<sys::napi_value> {
    let mut buffer = std::ptr::null_mut();
    let len = body.len();
    if len == 0 {
        check_status!(
            // SAFETY: a live `env` (the caller's contract); no data pointer
            // is asked for, and `buffer` is a valid out-pointer.
            unsafe { sys::napi_create_buffer(env, 0, std::ptr::null_mut(), &mut buffer) },
            "Failed to create a body Buffer"
        )?;
        return Ok(buffer);
    }
    let data = body.as_ptr().cast_mut();
    let owner = Box::into_raw(Box::new(body));
    // SAFETY: `data` points at `len` bytes owned by the `Bytes` in `owner`,
    // which stays alive (and its bytes unmoved: `Bytes` never moves its
    // storage) until napi calls `finalize` with `owner`, exactly once, when
    // the Buffer is collected. If the call fails, napi has taken nothing and
    // `owner` is reclaimed below or leaks on the error path only.
    let status = unsafe {
        sys::napi_create_external_buffer(
            env,
            len,
            data.cast(),
            Some(finalize),
            owner.cast(),
            &mut buffer,
        )
    };
    if status == sys::Status::napi_no_external_buffers_allowed {
        // SAFETY: not handed over: reclaimed here, once.
        let body = unsafe { Box::from_raw(owner) };
        check_status!(
            // SAFETY: `body` holds `len` readable bytes for the whole call,
            // which copies them.
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

/// How an external Buffer's owner is let go of.
type Finalizer = unsafe extern "C" fn(sys::napi_env, *mut std::ffi::c_void, *mut std::ffi::c_void);

/// The finalizer of an external body Buffer. A large body's memory is left
/// to malloc and engine/prefault.rs, which reuse it with its pages in.
///
/// # Safety
/// `owner` must be the pointer `external_buffer` made with `Box::into_raw`,
/// passed once: napi calls finalizers exactly once per Buffer.
unsafe extern "C" fn drop_body(
    _env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    owner: *mut std::ffi::c_void,
) {
    // SAFETY: `owner` is the box made in `external_buffer`, finalized once.
    drop(unsafe { Box::from_raw(owner.cast::<Bytes>()) });
}

/// The finalizer of a chunk's Buffer: its release is counted, so that
/// glibc gives such memory back (engine/malloc.rs).
///
/// # Safety
/// As for `drop_body`.
unsafe extern "C" fn drop_chunk(
    _env: sys::napi_env,
    _data: *mut std::ffi::c_void,
    owner: *mut std::ffi::c_void,
) {
    // SAFETY: `owner` is the box made in `external_buffer`, finalized once.
    let chunk = unsafe { Box::from_raw(owner.cast::<Bytes>()) };
    let len = chunk.len();
    drop(chunk);
    crate::engine::released(len);
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
    /// The JavaScript function that takes chunks, held until the client
    /// closes: it refers to the client's JavaScript object, which holds this
    /// sink, so while it is held neither can be collected.
    tsfn: Mutex<Option<ChunkFn>>,
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
            tsfn: Mutex::new(None),
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
        if let Ok(mut held) = self.tsfn.lock() {
            *held = Some(tsfn);
        }
        Ok(())
    }

    /// Lets go of the JavaScript function, once nothing more will be
    /// delivered (the client is closed), so that the client's objects on
    /// both sides can be collected.
    pub fn detach(&self) {
        let tsfn = self.tsfn.lock().ok().and_then(|mut held| held.take());
        drop(tsfn);
        if let Ok(mut outbox) = self.outbox.lock() {
            *outbox = Outbox::default();
        }
    }

    fn schedule(&self) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let status = match self.tsfn.lock().as_deref() {
            Ok(Some(tsfn)) => tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking),
            _ => Status::Closing,
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

    /// Writes the fields every row has: who it is for and its timing.
    fn common(&self, row: &mut [f64; ROW], c: &Completion) {
        let t = &c.timing;
        row[at::BATCH] = f64::from(c.batch);
        row[at::INDEX] = f64::from(c.index);
        row[at::ATTEMPTS] = f64::from(c.attempts);
        row[at::QUEUED] = self.ms(Some(t.queued));
        row[at::START] = self.ms(t.start);
        row[at::CONNECTED] = self.ms(t.connected);
        row[at::FIRST_BYTE] = self.ms(t.first_byte);
        row[at::END] = self.ms(t.end);
    }

    /// Appends one completion to `chunk` (see [`ROW`] for the row layout).
    fn encode(&self, chunk: &mut Chunk, c: Completion) {
        let mut row = [0.0; ROW];
        self.common(&mut row, &c);
        match c.result {
            Ok(resp) => {
                let headers_start = chunk.data.len();
                write_fields(&mut chunk.data, &resp.headers);
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
                row[at::STATUS] = f64::from(resp.status.as_u16());
                row[at::VERSION] = version_code(resp.version);
                row[at::REDIRECTED] = f64::from(u8::from(resp.redirected));
                row[at::HEADERS_START] = headers_start as f64;
                row[at::HEADERS_END] = headers_end as f64;
                row[at::BODY_END] = body_end;
                row[at::SAVED_BYTES] = saved_code(resp.saved);
                row[at::EXTRA] = extra;
            }
            Err(err) => {
                let status = match err.kind() {
                    crate::engine::ErrorKind::HttpStatus(s) => *s,
                    _ => 0,
                };
                let extra = chunk.extra(|out| error_json(out, &err, &c.url));
                let d = chunk.data.len() as f64;
                row[at::REDIRECTED] = f64::from(status);
                row[at::HEADERS_START] = d;
                row[at::HEADERS_END] = d;
                row[at::BODY_END] = d;
                row[at::SAVED_BYTES] = at::SAVED_NONE;
                row[at::EXTRA] = extra;
            }
        };
        chunk.rows.extend_from_slice(&row);
    }
}

/// A response's field lines as the row's header span holds them.
fn write_fields(data: &mut Vec<u8>, headers: &Headers) {
    match headers {
        Headers::Lines(lines) => data.extend_from_slice(lines),
        Headers::Map(map) => {
            for (name, value) in map {
                data.extend_from_slice(name.as_str().as_bytes());
                data.extend_from_slice(b": ");
                data.extend_from_slice(value.as_bytes());
                data.push(b'\n');
            }
        }
    }
}

/// An error's extra: `[code, message, url, cause or null]`.
fn error_json(out: &mut String, err: &crate::engine::FetchError, url: &str) {
    let _ = write!(out, "[\"{}\",", err.code());
    json_string(out, err.message());
    out.push(',');
    json_string(out, err.url().unwrap_or(url));
    out.push(',');
    match err.cause_message() {
        Some(m) => json_string(out, &m),
        None => out.push_str("null"),
    }
    out.push(']');
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
                    opened.elapsed() >= MAX_CHUNK_AGE
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
        ChunkData(chunk.data),
        Bodies(chunk.bodies),
        extras,
    ))
}

/// 0 "1.1", 1 "1.0", 2 "2", 3 "3", 4 "0.9": lib/response.js maps them back.
fn version_code(version: http::Version) -> f64 {
    match version {
        http::Version::HTTP_10 => at::VERSION_1_0,
        http::Version::HTTP_2 => at::VERSION_2,
        http::Version::HTTP_3 => at::VERSION_3,
        http::Version::HTTP_09 => at::VERSION_0_9,
        _ => at::VERSION_1_1,
    }
}

fn json_string(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(json) => out.push_str(&json),
        Err(_) => out.push_str("\"\""),
    }
}
