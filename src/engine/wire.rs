//! HTTP/1.1 on one connection (TCP, or TLS over it), for the fast path
//! (lane.rs).
//!
//! The request head and body go out in one write; the response head is parsed
//! by httparse straight from the connection's read buffer, and the body is
//! framed by `Content-Length`, chunked coding or the end of the connection
//! (RFC 9112 §6.3). A body of known length is read into one allocation of its
//! own size, which later becomes the JavaScript Buffer without another copy.
//! When a body has been read to its end on a connection that may stay open,
//! the connection goes back to its lane's [`Home`].

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{ready, Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode, Uri, Version};
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

use super::chunked::{Decoder, Progress};
use super::head::{implied_host, implied_length};
use super::platform::quickack;
use super::prefault::Prefault;
use super::transport::Transport;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Most response header fields accepted, as hyper's default.
const MAX_HEADERS: usize = 100;
/// Largest response head (status line and fields), as hyper's default buffer.
const MAX_HEAD: usize = 400 * 1024;
/// Request bodies larger than this are written on their own, not copied
/// behind the head.
const SEPARATE_BODY_FROM: usize = 64 * 1024;
/// Bytes asked of each read into the shared buffer.
const READ_SIZE: usize = 16 * 1024;
/// Bodies of a known length at least this large are read into their own
/// allocation; smaller ones are copied out of the shared buffer.
const OWN_BUFFER_FROM: u64 = 16 * 1024;
/// Longest body read into one allocation sized up front from
/// `Content-Length`; longer ones go through the shared buffer.
const OWN_BUFFER_UP_TO: u64 = 64 * 1024 * 1024;

/// What went wrong on the wire. I/O errors keep their `io::Error` as source,
/// so they classify by errno; the rest are protocol errors.
#[derive(Debug)]
pub enum WireError {
    Io(io::Error),
    /// The peer closed the connection before the message ended.
    Incomplete,
    Parse(&'static str),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Io(err) => write!(f, "{err}"),
            WireError::Incomplete => f.write_str("connection closed before message completed"),
            WireError::Parse(what) => write!(f, "invalid HTTP response: {what}"),
        }
    }
}

impl std::error::Error for WireError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WireError::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for WireError {
    fn from(err: io::Error) -> Self {
        WireError::Io(err)
    }
}

/// Where a connection goes once its response body has been read.
pub type Home = Arc<Mutex<Option<Box<Conn>>>>;

/// One open connection to an origin, with the bytes read from it and not yet
/// used.
pub struct Conn {
    pub key: Arc<str>,
    stream: Transport,
    buf: BytesMut,
    out: Vec<u8>,
    /// Quick ACKs were asked for during the current response.
    hurried: bool,
    pub connected_at: Instant,
}

impl Conn {
    pub fn new(key: Arc<str>, stream: Transport, connected_at: Instant) -> Box<Self> {
        Box::new(Conn {
            key,
            stream,
            buf: BytesMut::with_capacity(READ_SIZE),
            out: Vec::with_capacity(512),
            hurried: false,
            connected_at,
        })
    }

    fn io(&mut self) -> Pin<&mut Transport> {
        Pin::new(&mut self.stream)
    }

    /// Whether the connection may carry another request: its last response
    /// ended exactly where the received bytes end. Anything left in the
    /// buffer, readable through TLS, or waiting in the socket would be read
    /// as the next response, so such a connection is closed instead. Checked
    /// without waiting, when the connection is about to be reused.
    pub fn is_reusable(&mut self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        // Through TLS, records already read (a close_notify, data) are
        // seen first.
        if let Transport::Tls(_) = self.stream {
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let mut probe = [0u8; 1];
            let mut probe = ReadBuf::new(&mut probe);
            if !matches!(self.io().poll_read(&mut cx, &mut probe), Poll::Pending) {
                return false;
            }
        }
        // The runtime's readiness can lag behind the socket: the kernel's
        // queue is asked directly, and a peer's close reads as 0 here.
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
        let peeked = socket2::SockRef::from(self.stream.tcp()).peek(&mut byte);
        matches!(peeked, Err(err) if err.kind() == io::ErrorKind::WouldBlock)
    }

    /// Frees the buffers of an idle connection; its next exchange
    /// allocates others.
    pub fn shed_buffers(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
        self.out = Vec::new();
    }

    /// Called before waiting for the rest of a response that has begun to
    /// arrive. A request-response connection is in delayed-ACK mode, and a
    /// server that holds back a response's last small segment until its
    /// first is acknowledged (Nagle, or TCP_CORK with sendfile) would
    /// otherwise stall for the delayed-ACK timer, 40 ms on Linux, on
    /// responses a little larger than one segment. Setting TCP_QUICKACK
    /// sends an acknowledgement the kernel is holding back at once, so this
    /// is needed only when a read is about to wait.
    fn hurry(&mut self) {
        if !self.hurried {
            self.hurried = true;
            quickack(self.stream.tcp());
        }
    }

    /// Reads more bytes into the buffer; 0 means the peer closed.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < READ_SIZE / 4 {
            self.buf.reserve(READ_SIZE);
        }
        let Conn { stream, buf, .. } = self;
        tokio_util::io::poll_read_buf(Pin::new(stream), cx, buf)
    }

    /// A read of a response that has begun to arrive: the peer is hurried
    /// when it has to wait.
    fn waiting<T>(&mut self, polled: Poll<T>) -> Poll<T> {
        if polled.is_pending() {
            self.hurry();
        }
        polled
    }

    /// Reads more of a response that has begun to arrive.
    fn poll_more(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let polled = self.poll_fill(cx);
        self.waiting(polled)
    }

    async fn fill(&mut self) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }
}

/// A failed exchange, and whether any of the response had arrived.
pub struct ExchangeError {
    pub error: WireError,
    /// Nothing came back: on a reused connection, the peer had closed it.
    pub unanswered: bool,
}

/// Writes `method target` with `headers` and `body` on `conn`, then reads the
/// response head. The body is read through the returned response.
pub async fn exchange(
    mut conn: Box<Conn>,
    home: &Home,
    pool: Option<&Arc<Prefault>>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response<WireBody>, ExchangeError> {
    // A small body goes out in the head's write; a large one is written from
    // where it is rather than copied behind the head (the socket has
    // TCP_NODELAY, so the two writes do not wait on each other).
    let separate = body.len() > SEPARATE_BODY_FROM;
    let inline: &[u8] = if separate { &[] } else { body };
    encode(&mut conn.out, method, uri, headers, body.len(), inline);
    let written = async {
        let Conn { stream, out, .. } = &mut *conn;
        stream.write_all(out).await?;
        if separate {
            stream.write_all(body).await?;
        }
        // TLS keeps what the socket did not take yet.
        stream.flush().await?;
        Ok::<(), io::Error>(())
    }
    .await;
    if let Err(err) = written {
        return Err(ExchangeError {
            error: err.into(),
            unanswered: true,
        });
    }
    let closes = wants_close(headers);
    conn.hurried = false;
    let head = read_head(&mut conn).await?;
    let (framing, sound) = framing_of(method, &head).map_err(|error| ExchangeError {
        error,
        unanswered: false,
    })?;
    // After 101 the connection speaks another protocol: it is never reused.
    let keep_alive = !closes
        && sound
        && head.status != StatusCode::SWITCHING_PROTOCOLS
        && keeps_alive(head.version, &head.headers)
        && framing != Framing::Eof;
    let body = WireBody::new(conn, framing, keep_alive, home.clone(), pool, head.lines);
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.version_mut() = head.version;
    *response.headers_mut() = head.headers;
    Ok(response)
}

/// The request head in origin form, as hyper writes it: `Host` first unless
/// the caller set one, then the fields, then `Content-Length` (the body's
/// own, whatever the caller set) where the method or the body calls for it.
fn encode(
    out: &mut Vec<u8>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body_len: usize,
    body: &[u8],
) {
    use std::io::Write as _;
    out.clear();
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    match uri.path_and_query() {
        Some(path) if !path.as_str().is_empty() => out.extend_from_slice(path.as_str().as_bytes()),
        _ => out.push(b'/'),
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if let Some((host, port)) = implied_host(uri, headers) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host.as_bytes());
        if let Some(port) = port {
            let _ = write!(out, ":{port}");
        }
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in headers {
        // The length is always the body's own: a caller's value that did not
        // match would leave the connection out of step.
        if name == header::CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(len) = implied_length(method, headers, body_len) {
        let _ = write!(out, "content-length: {len}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

struct Head {
    status: StatusCode,
    version: Version,
    /// Only the fields fetchpool reads (see `engine_field`).
    headers: HeaderMap,
    /// All the field lines, as they came (see `Headers::Lines`).
    lines: Bytes,
}

/// Reads up to the end of a final response head, skipping informational
/// (1xx) heads other than 101.
async fn read_head(conn: &mut Conn) -> Result<Head, ExchangeError> {
    let mut received = false;
    loop {
        if let Some((len, head)) = parse_head(&conn.buf).map_err(|error| ExchangeError {
            error,
            unanswered: false,
        })? {
            if len > MAX_HEAD {
                return Err(ExchangeError {
                    error: WireError::Parse("message head is too large"),
                    unanswered: false,
                });
            }
            conn.buf.advance(len);
            let informational =
                head.status.is_informational() && head.status != StatusCode::SWITCHING_PROTOCOLS;
            if !informational {
                return Ok(head);
            }
            continue;
        }
        if conn.buf.len() > MAX_HEAD {
            return Err(ExchangeError {
                error: WireError::Parse("message head is too large"),
                unanswered: false,
            });
        }
        let filled = if received {
            std::future::poll_fn(|cx| conn.poll_more(cx)).await
        } else {
            conn.fill().await
        };
        match filled {
            Ok(0) => {
                return Err(ExchangeError {
                    error: WireError::Incomplete,
                    unanswered: !received && conn.buf.is_empty(),
                })
            }
            Ok(_) => received = true,
            Err(err) => {
                return Err(ExchangeError {
                    error: err.into(),
                    unanswered: !received && conn.buf.is_empty(),
                })
            }
        }
    }
}

/// One response head from the front of `buf`: its length and content, or
/// None when more bytes are needed. The field lines are kept as they came,
/// in one copy (`Head::lines`); only the fields fetchpool itself reads
/// are parsed into the head's map.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Head)>, WireError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(WireError::Parse("too many header fields"))
        }
        Err(_) => return Err(WireError::Parse("malformed message head")),
    };
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or(WireError::Parse("invalid status code"))?;
    let version = match response.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let offset = |s: &[u8]| s.as_ptr() as usize - buf.as_ptr() as usize;
    let (start, lines) = match (response.headers.first(), response.headers.last()) {
        (Some(first), Some(last)) => {
            let start = offset(first.name.as_bytes());
            let after_value = offset(last.value) + last.value.len();
            let end = buf[after_value..len]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |at| after_value + at + 1);
            (start, Bytes::copy_from_slice(&buf[start..end]))
        }
        _ => (0, Bytes::new()),
    };
    let mut headers = HeaderMap::new();
    for field in response.headers.iter() {
        let Some(name) = engine_field(field.name.as_bytes()) else {
            continue;
        };
        let at = offset(field.value) - start;
        let value = HeaderValue::from_maybe_shared(lines.slice(at..at + field.value.len()))
            .map_err(|_| WireError::Parse("invalid header value"))?;
        headers.append(name, value);
    }
    Ok(Some((
        len,
        Head {
            status,
            version,
            headers,
            lines,
        },
    )))
}

/// The response fields fetchpool reads itself: framing, connection reuse,
/// decoding, redirects and retry waits.
fn engine_field(name: &[u8]) -> Option<HeaderName> {
    const READ: [HeaderName; 6] = [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
        header::CONTENT_ENCODING,
        header::LOCATION,
        header::RETRY_AFTER,
    ];
    READ.into_iter().find(|known| {
        known.as_str().len() == name.len() && known.as_str().as_bytes().eq_ignore_ascii_case(name)
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Until the connection closes.
    Eof,
}

/// How the body of `head` is delimited, and whether the connection may be
/// reused after it. A response with both Transfer-Encoding and
/// Content-Length is framed by the former and its connection closed after
/// it (RFC 9112 §6.3): the two disagreeing is how responses are smuggled.
/// Transfer-Encoding in an HTTP/1.0 response is faulty framing (§6.1).
fn framing_of(method: &Method, head: &Head) -> Result<(Framing, bool), WireError> {
    let framing = framing(method, head.status, &head.headers)?;
    let coded = head.headers.contains_key(header::TRANSFER_ENCODING);
    if coded && framing != Framing::Empty && head.version == Version::HTTP_10 {
        return Err(WireError::Parse(
            "transfer-encoding in an HTTP/1.0 response",
        ));
    }
    let sound = !(coded && head.headers.contains_key(header::CONTENT_LENGTH));
    Ok((framing, sound))
}

/// How the body of a response to `method` is delimited (RFC 9112 §6.3).
fn framing(method: &Method, status: StatusCode, headers: &HeaderMap) -> Result<Framing, WireError> {
    if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(Framing::Empty);
    }
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return Ok(if ends_chunked(headers) {
            Framing::Chunked
        } else {
            Framing::Eof
        });
    }
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for part in value.as_bytes().split(|&b| b == b',') {
            let part = part.trim_ascii();
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(WireError::Parse("invalid content-length"));
            }
            let n: u64 = std::str::from_utf8(part)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(WireError::Parse("invalid content-length"))?;
            if length.is_some_and(|m| m != n) {
                return Err(WireError::Parse("conflicting content-length"));
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::Eof,
    })
}

/// Whether the final transfer coding is chunked: the last element of the
/// last Transfer-Encoding field, even an empty one, as hyper and llhttp read
/// it (`chunked,` ends in an empty element, so the body runs to the close).
fn ends_chunked(headers: &HeaderMap) -> bool {
    let Some(last) = headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .next_back()
    else {
        return false;
    };
    let Ok(value) = last.to_str() else {
        return false;
    };
    value
        .rsplit(',')
        .next()
        .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"))
}

fn has_token(headers: &HeaderMap, name: HeaderName, token: &[u8]) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
    })
}

fn wants_close(headers: &HeaderMap) -> bool {
    has_token(headers, header::CONNECTION, b"close")
}

/// Whether the connection may carry another request after this response.
fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    if has_token(headers, header::CONNECTION, b"close") {
        return false;
    }
    version == Version::HTTP_11 || has_token(headers, header::CONNECTION, b"keep-alive")
}

enum State {
    /// `left` bytes to go, through the shared buffer.
    Length {
        left: u64,
    },
    /// A body of known length filling its own allocation.
    Own {
        body: Vec<u8>,
        len: usize,
        /// Where the buffer came from, to go back to once the body is gone.
        pool: Option<Weak<Prefault>>,
    },
    Chunked(Decoder),
    Eof,
    Done,
}

/// A response body read from the connection it arrived on.
pub struct WireBody {
    conn: Option<Box<Conn>>,
    state: State,
    keep_alive: bool,
    home: Home,
    /// The head's field lines, as they came (see `Headers::Lines`); the
    /// response's own map holds only the fields fetchpool reads.
    lines: Bytes,
}

impl WireBody {
    fn new(
        conn: Box<Conn>,
        framing: Framing,
        keep_alive: bool,
        home: Home,
        pool: Option<&Arc<Prefault>>,
        lines: Bytes,
    ) -> Self {
        let state = match framing {
            Framing::Empty => State::Done,
            Framing::Length(n) if (OWN_BUFFER_FROM..=OWN_BUFFER_UP_TO).contains(&n) => State::Own {
                body: match pool {
                    Some(pool) => pool.take(n as usize),
                    None => Vec::with_capacity(n as usize),
                },
                len: n as usize,
                pool: pool.map(Arc::downgrade),
            },
            Framing::Length(n) => State::Length { left: n },
            Framing::Chunked => State::Chunked(Decoder::default()),
            Framing::Eof => State::Eof,
        };
        let mut body = WireBody {
            conn: Some(conn),
            state,
            keep_alive,
            home,
            lines,
        };
        if matches!(body.state, State::Done) {
            body.finish();
        }
        body
    }

    /// The body is complete: the connection goes home if it may be reused
    /// and nothing beyond the response arrived on it.
    fn finish(&mut self) {
        self.state = State::Done;
        if let Some(conn) = self.conn.take() {
            if self.keep_alive && conn.buf.is_empty() {
                if let Ok(mut home) = self.home.lock() {
                    *home = Some(conn);
                }
            }
        }
    }

    pub fn take_lines(&mut self) -> Bytes {
        std::mem::take(&mut self.lines)
    }

    /// Reads what is already buffered of the body without waiting, so that a
    /// small body nobody wants still frees its connection. A body that needs
    /// more reads is dropped with its connection.
    pub fn discard(mut self) {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        while let Poll::Ready(Some(Ok(_))) = Pin::new(&mut self).poll_frame(&mut cx) {}
    }

    fn fail(&mut self, err: WireError) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.state = State::Done;
        self.conn = None;
        Poll::Ready(Some(Err(Box::new(err))))
    }

    /// The next frame: each state's step (below) reads what it needs,
    /// as hyper's decoders are written; a body that ends sends its
    /// connection home.
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, WireError>>> {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Poll::Ready(None);
            };
            let step = match &mut self.state {
                State::Done => return Poll::Ready(None),
                State::Length { left } => ready!(step_length(conn, left, cx)),
                State::Own { body, len, pool } => ready!(step_own(conn, body, *len, pool, cx)),
                State::Eof => ready!(step_eof(conn, cx)),
                State::Chunked(decoder) => ready!(step_chunked(conn, decoder, cx)),
            };
            let (out, ended) = match step {
                Err(err) => return Poll::Ready(Some(Err(err))),
                Ok(Step::Again) => continue,
                Ok(Step::Data(bytes, ended)) => (Some(Ok(Frame::data(bytes))), ended),
                Ok(Step::End) => (None, true),
            };
            if ended {
                self.finish();
            }
            return Poll::Ready(out);
        }
    }
}

/// What one step of a body's state gives.
enum Step {
    /// A piece of the body, and whether it is the last.
    Data(Bytes, bool),
    /// The body ended with nothing more.
    End,
    /// More arrived: step again.
    Again,
}

type Stepped = Poll<Result<Step, WireError>>;

/// A body of `left` more bytes, handed on as they arrive.
fn step_length(conn: &mut Conn, left: &mut u64, cx: &mut Context<'_>) -> Stepped {
    if conn.buf.is_empty() && ready!(conn.poll_more(cx))? == 0 {
        return Poll::Ready(Err(WireError::Incomplete));
    }
    let n = (*left).min(conn.buf.len() as u64) as usize;
    *left -= n as u64;
    Poll::Ready(Ok(Step::Data(take(&mut conn.buf, n), *left == 0)))
}

/// A body of `len` bytes read whole into its own buffer, handed on once.
fn step_own(
    conn: &mut Conn,
    body: &mut Vec<u8>,
    len: usize,
    pool: &Option<Weak<Prefault>>,
    cx: &mut Context<'_>,
) -> Stepped {
    if body.is_empty() && !conn.buf.is_empty() {
        let n = len.min(conn.buf.len());
        body.extend_from_slice(&conn.buf[..n]);
        conn.buf.advance(n);
    }
    if body.len() < len {
        // Straight into the body's own allocation.
        let want = len - body.len();
        let mut read = ReadBuf::uninit(&mut body.spare_capacity_mut()[..want]);
        let polled = conn.io().poll_read(cx, &mut read);
        ready!(conn.waiting(polled))?;
        let n = read.filled().len();
        if n == 0 {
            return Poll::Ready(Err(WireError::Incomplete));
        }
        // SAFETY: `read` initialised the next `n` bytes of spare capacity.
        unsafe { body.set_len(body.len() + n) };
        if body.len() < len {
            // Progress without a frame: an empty one, so the caller's idle
            // timeout starts again.
            return Poll::Ready(Ok(Step::Data(Bytes::new(), false)));
        }
    }
    let mut full = std::mem::take(body);
    let bytes = match pool.as_ref().and_then(Weak::upgrade) {
        Some(pool) => pool.freeze(full),
        None => {
            full.shrink_to_fit();
            Bytes::from(full)
        }
    };
    Poll::Ready(Ok(Step::Data(bytes, true)))
}

/// A body that ends when the connection closes.
fn step_eof(conn: &mut Conn, cx: &mut Context<'_>) -> Stepped {
    if conn.buf.is_empty() && ready!(conn.poll_more(cx))? == 0 {
        return Poll::Ready(Ok(Step::End));
    }
    let n = conn.buf.len();
    Poll::Ready(Ok(Step::Data(take(&mut conn.buf, n), false)))
}

/// A chunked body, decoded by chunked.rs.
fn step_chunked(conn: &mut Conn, decoder: &mut Decoder, cx: &mut Context<'_>) -> Stepped {
    let step = match decoder.decode(&mut conn.buf) {
        Ok(Progress::Data(n)) => Step::Data(take(&mut conn.buf, n), false),
        Ok(Progress::End) => Step::End,
        Ok(Progress::More) => {
            if ready!(conn.poll_more(cx))? == 0 {
                return Poll::Ready(Err(WireError::Incomplete));
            }
            Step::Again
        }
        Err(what) => return Poll::Ready(Err(WireError::Parse(what))),
    };
    Poll::Ready(Ok(step))
}

/// The next `n` bytes of `buf`. Small pieces are copied out, which leaves the
/// buffer unshared and so reusable for the next read without a new allocation.
fn take(buf: &mut BytesMut, n: usize) -> Bytes {
    if (n as u64) < OWN_BUFFER_FROM {
        let data = Bytes::copy_from_slice(&buf[..n]);
        buf.advance(n);
        data
    } else {
        buf.split_to(n).freeze()
    }
}

impl Body for WireBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match this.poll_next(cx) {
            Poll::Ready(Some(Err(err))) => this.fail(err),
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.state {
            State::Done => SizeHint::with_exact(0),
            State::Length { left } => SizeHint::with_exact(*left),
            State::Own { body, len, .. } => SizeHint::with_exact((*len - body.len()) as u64),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_host_field_names_a_port_only_where_it_is_not_the_default() {
        let mut out = Vec::new();
        for (url, host) in [
            ("http://a.test/x", "host: a.test\r\n"),
            ("http://a.test:8080/x", "host: a.test:8080\r\n"),
            ("http://a.test:443/x", "host: a.test:443\r\n"),
            ("https://a.test/x", "host: a.test\r\n"),
            ("https://a.test:80/x", "host: a.test:80\r\n"),
            ("https://a.test:8443/x", "host: a.test:8443\r\n"),
        ] {
            let uri: Uri = url.parse().unwrap();
            encode(&mut out, &Method::GET, &uri, &HeaderMap::new(), 0, b"");
            let text = String::from_utf8(out.clone()).unwrap();
            assert_eq!(text, format!("GET /x HTTP/1.1\r\n{host}\r\n"), "{url}");
        }
        encode(
            &mut out,
            &Method::POST,
            &"http://a.test/".parse().unwrap(),
            &HeaderMap::new(),
            5,
            b"hello",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST / HTTP/1.1\r\nhost: a.test\r\ncontent-length: 5\r\n\r\nhello"
        );
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = Method::GET;
        let ok = StatusCode::OK;
        assert_eq!(
            framing(&Method::HEAD, ok, &headers(&[("content-length", "5")])).unwrap(),
            Framing::Empty
        );
        assert_eq!(
            framing(&get, StatusCode::NO_CONTENT, &headers(&[])).unwrap(),
            Framing::Empty
        );
        assert_eq!(
            framing(
                &get,
                StatusCode::NOT_MODIFIED,
                &headers(&[("content-length", "5")])
            )
            .unwrap(),
            Framing::Empty
        );
        assert_eq!(
            framing(&get, ok, &headers(&[("content-length", "5")])).unwrap(),
            Framing::Length(5)
        );
        assert_eq!(
            framing(&get, ok, &headers(&[("content-length", "5, 5")])).unwrap(),
            Framing::Length(5)
        );
        assert!(framing(
            &get,
            ok,
            &headers(&[("content-length", "5"), ("content-length", "6")])
        )
        .is_err());
        assert!(framing(&get, ok, &headers(&[("content-length", "-1")])).is_err());
        assert!(framing(&get, ok, &headers(&[("content-length", "+5")])).is_err());
        let chunked = headers(&[
            ("transfer-encoding", "gzip, chunked"),
            ("content-length", "5"),
        ]);
        assert_eq!(framing(&get, ok, &chunked).unwrap(), Framing::Chunked);
        assert_eq!(
            framing(&get, ok, &headers(&[("transfer-encoding", "gzip")])).unwrap(),
            Framing::Eof
        );
        assert_eq!(framing(&get, ok, &headers(&[])).unwrap(), Framing::Eof);
        // The last element of the last field decides, even an empty one.
        for (value, expected) in [
            ("chunked,", Framing::Eof),
            ("chunked, gzip", Framing::Eof),
            ("gzip , CHUNKED ", Framing::Chunked),
        ] {
            let coded = headers(&[("transfer-encoding", value)]);
            assert_eq!(framing(&get, ok, &coded).unwrap(), expected, "{value}");
        }
        let two = headers(&[
            ("transfer-encoding", "chunked"),
            ("transfer-encoding", "gzip"),
        ]);
        assert_eq!(framing(&get, ok, &two).unwrap(), Framing::Eof);
    }

    #[test]
    fn mixed_framing_closes_and_transfer_coding_needs_http_1_1() {
        let head = |version, pairs| Head {
            status: StatusCode::OK,
            version,
            headers: headers(pairs),
            lines: Bytes::new(),
        };
        let both = [("transfer-encoding", "chunked"), ("content-length", "3")];
        let (framing, sound) = framing_of(&Method::GET, &head(Version::HTTP_11, &both)).unwrap();
        assert_eq!((framing, sound), (Framing::Chunked, false));
        let chunked = [("transfer-encoding", "chunked")];
        let (framing, sound) = framing_of(&Method::GET, &head(Version::HTTP_11, &chunked)).unwrap();
        assert_eq!((framing, sound), (Framing::Chunked, true));
        assert!(framing_of(&Method::GET, &head(Version::HTTP_10, &chunked)).is_err());
        // No body to frame: the field does not matter.
        assert!(framing_of(&Method::HEAD, &head(Version::HTTP_10, &chunked)).is_ok());
    }

    #[tokio::test]
    async fn a_connection_is_reusable_only_with_nothing_after_its_response() {
        use tokio::io::AsyncWriteExt as _;
        use tokio::net::TcpStream;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = |tcp| Conn::new(Arc::from("t"), Transport::Tcp(tcp), Instant::now());
        let mut quiet = open(TcpStream::connect(addr).await.unwrap());
        let (_quiet_peer, _) = listener.accept().await.unwrap();
        assert!(quiet.is_reusable());
        // A byte waiting in the socket, never read through the runtime.
        let mut chatty = open(TcpStream::connect(addr).await.unwrap());
        let (mut chatty_peer, _) = listener.accept().await.unwrap();
        chatty_peer.write_all(b"x").await.unwrap();
        chatty.stream.tcp().readable().await.unwrap();
        assert!(!chatty.is_reusable());
        // The peer closed.
        let mut closed = open(TcpStream::connect(addr).await.unwrap());
        let (closed_peer, _) = listener.accept().await.unwrap();
        drop(closed_peer);
        closed.stream.tcp().readable().await.unwrap();
        assert!(!closed.is_reusable());
        // Bytes already in the read buffer.
        let mut buffered = open(TcpStream::connect(addr).await.unwrap());
        let (_buffered_peer, _) = listener.accept().await.unwrap();
        buffered.buf.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        assert!(!buffered.is_reusable());
    }

    #[test]
    fn keep_alive_follows_version_and_connection() {
        assert!(keeps_alive(Version::HTTP_11, &headers(&[])));
        assert!(!keeps_alive(
            Version::HTTP_11,
            &headers(&[("connection", "Close")])
        ));
        assert!(!keeps_alive(Version::HTTP_10, &headers(&[])));
        assert!(keeps_alive(
            Version::HTTP_10,
            &headers(&[("connection", "keep-alive")])
        ));
    }

    #[test]
    fn requests_are_written_in_origin_form() {
        let mut out = Vec::new();
        let uri: Uri = "http://example.com:8080/a?b=1".parse().unwrap();
        encode(
            &mut out,
            &Method::POST,
            &uri,
            &headers(&[("x-a", "1")]),
            2,
            b"hi",
        );
        assert_eq!(
            out,
            b"POST /a?b=1 HTTP/1.1\r\nhost: example.com:8080\r\nx-a: 1\r\ncontent-length: 2\r\n\r\nhi"
        );
        let uri: Uri = "http://example.com".parse().unwrap();
        encode(
            &mut out,
            &Method::GET,
            &uri,
            &headers(&[("host", "other")]),
            0,
            b"",
        );
        assert_eq!(out, b"GET / HTTP/1.1\r\nhost: other\r\n\r\n");
        // A caller's Content-Length gives way to the body's own.
        encode(
            &mut out,
            &Method::POST,
            &uri,
            &headers(&[("content-length", "99")]),
            2,
            b"hi",
        );
        assert_eq!(
            out,
            b"POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 2\r\n\r\nhi"
        );
        // A large body is written after the head, not copied into it.
        encode(&mut out, &Method::PUT, &uri, &headers(&[]), 100_000, b"");
        assert_eq!(
            out,
            b"PUT / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 100000\r\n\r\n"
        );
    }

    #[test]
    fn heads_parse_or_wait_for_more() {
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le")
            .unwrap()
            .is_none());
        let raw = b"HTTP/1.0 404 Not Found\r\nA: b\r\nContent-Length:  3 \n\r\nrest";
        let (len, head) = parse_head(raw).unwrap().unwrap();
        assert_eq!(len, raw.len() - 4);
        assert_eq!(head.status, StatusCode::NOT_FOUND);
        assert_eq!(head.version, Version::HTTP_10);
        // Every line is kept as it came; only the fields fetchpool reads are parsed.
        assert_eq!(&head.lines[..], b"A: b\r\nContent-Length:  3 \n");
        assert_eq!(head.headers.len(), 1);
        assert_eq!(head.headers[header::CONTENT_LENGTH], "3");
        let (_, bare) = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(bare.lines.is_empty() && bare.headers.is_empty());
        assert!(parse_head(b"HTTP/1.1 2000 OK\r\n\r\n").is_err());
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    /// Whether the connection a GET answered with `response` went home
    /// once the body was read.
    async fn goes_home(response: &str, fields: &[(&'static str, &'static str)]) -> bool {
        use http_body_util::BodyExt as _;
        let home = Home::default();
        let pieces = vec![response.as_bytes().to_vec()];
        let fields = headers(fields);
        let answer = crate::engine::loopback::fetch_on_lane_with(pieces, &home, &fields);
        let body = answer.await.into_body().collect().await;
        assert!(body.is_ok(), "{response:?}");
        let home = home.lock().unwrap();
        home.is_some()
    }

    #[tokio::test]
    async fn a_connection_goes_home_only_when_both_sides_keep_it() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi";
        assert!(goes_home(ok, &[]).await);
        assert!(goes_home("HTTP/1.1 204 No Content\r\n\r\n", &[]).await);
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
        assert!(goes_home(chunked, &[]).await);
        let old_kept = "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nhi";
        assert!(goes_home(old_kept, &[]).await);
        for (response, why) in [
            ("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi", "close"),
            ("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nhi", "HTTP/1.0"),
            ("HTTP/1.1 200 OK\r\n\r\nhi", "ends at close"),
            ("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n", "upgraded"),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
                "mixed framing",
            ),
            ("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiXX", "bytes after"),
        ] {
            assert!(!goes_home(response, &[]).await, "{why}");
        }
        assert!(
            !goes_home(ok, &[("connection", "close")]).await,
            "asked to close"
        );
    }

    #[test]
    fn an_io_error_on_the_wire_classifies_by_its_errno() {
        let reset = WireError::from(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(
            crate::engine::classify::classify(Box::new(reset)).code(),
            "ECONNRESET"
        );
        let cut = WireError::Incomplete;
        assert_eq!(
            crate::engine::classify::classify(Box::new(cut)).code(),
            "ERR_HTTP_PROTOCOL"
        );
    }

    /// How an exchange ends with a server that sends `pieces` and closes.
    async fn closed_after(pieces: Vec<Vec<u8>>) -> ExchangeError {
        let addr = crate::engine::loopback::serve_once(pieces).await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let conn = Conn::new(Arc::from("t"), Transport::Tcp(tcp), Instant::now());
        let uri: Uri = format!("http://{addr}/").parse().unwrap();
        let (home, fields, body) = (Home::default(), HeaderMap::new(), Bytes::new());
        match exchange(conn, &home, None, &Method::GET, &uri, &fields, &body).await {
            Ok(_) => panic!("a response from a server that closed"),
            Err(failed) => failed,
        }
    }

    #[tokio::test]
    async fn a_close_before_any_answer_is_told_from_one_midway() {
        // On a reused connection, the first means the server had closed it:
        // the request may go again on a new one.
        let silent = closed_after(Vec::new()).await;
        assert!(matches!(silent.error, WireError::Incomplete));
        assert!(silent.unanswered);
        for piece in [
            &b"HTTP/1.1 200 OK\r\n"[..],
            b"HTTP/1.1 100 Continue\r\n\r\n",
        ] {
            let midway = closed_after(vec![piece.to_vec()]).await;
            assert!(matches!(midway.error, WireError::Incomplete));
            assert!(!midway.unanswered, "{:?}", String::from_utf8_lossy(piece));
        }
    }

    /// A response head of exactly `len` bytes; without its last CRLF
    /// when not `whole`.
    fn head_of(len: usize, whole: bool) -> Vec<u8> {
        let mut head = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n".to_vec();
        while head.len() + 2 < len {
            let room = (len - 2 - head.len()).min(40_000);
            let fill = room.saturating_sub(b"x: \r\n".len()).max(1);
            head.extend_from_slice(b"x: ");
            head.resize(head.len() + fill, b'a');
            head.extend_from_slice(b"\r\n");
        }
        assert_eq!(head.len() + 2, len, "a head of {len} bytes");
        if whole {
            head.extend_from_slice(b"\r\n");
        } else {
            head.extend_from_slice(b"x:");
        }
        head
    }

    /// What `read_head` makes of `buffered`, already read, on a connection
    /// whose peer has closed.
    async fn read_buffered(buffered: &[u8]) -> Result<Head, ExchangeError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await;
        drop(listener.accept().await.unwrap());
        let mut conn = Conn::new(Arc::from("t"), Transport::Tcp(tcp.unwrap()), Instant::now());
        conn.buf.extend_from_slice(buffered);
        read_head(&mut conn).await
    }

    #[tokio::test]
    async fn a_head_of_400_kib_is_read_and_one_byte_more_refused() {
        let limit = 400 * 1024;
        assert!(read_buffered(&head_of(limit, true)).await.is_ok());
        let over = read_buffered(&head_of(limit + 1, true)).await;
        assert!(matches!(
            over.err().map(|e| e.error),
            Some(WireError::Parse(_))
        ));
        // Not yet whole: at the limit it waits for more (and finds the peer
        // gone); past it, it stops reading.
        let waiting = read_buffered(&head_of(limit, false)[..limit]).await;
        assert!(matches!(
            waiting.err().map(|e| e.error),
            Some(WireError::Incomplete)
        ));
        let endless = read_buffered(&head_of(limit + 10, false)[..limit + 1]).await;
        assert!(matches!(
            endless.err().map(|e| e.error),
            Some(WireError::Parse(_))
        ));
    }

    /// The server side of one connection, once the head of its request
    /// has arrived.
    async fn accept_request(listener: tokio::net::TcpListener) -> tokio::net::TcpStream {
        use tokio::io::AsyncReadExt as _;
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut chunk).await.unwrap();
            request.extend_from_slice(&chunk[..n]);
        }
        socket
    }

    /// Closes with a reset rather than a FIN when `socket` is dropped.
    fn reset_on_close(socket: &tokio::net::TcpStream) {
        let linger = Some(std::time::Duration::ZERO);
        socket2::SockRef::from(socket).set_linger(linger).unwrap();
    }

    /// A GET on `tcp` to a server that resets it: the failed exchange.
    async fn get_reset(tcp: tokio::net::TcpStream, addr: std::net::SocketAddr) -> ExchangeError {
        let conn = Conn::new(Arc::from("t"), Transport::Tcp(tcp), Instant::now());
        let uri: Uri = format!("http://{addr}/").parse().unwrap();
        let (home, fields, body) = (Home::default(), HeaderMap::new(), Bytes::new());
        let Err(failed) = exchange(conn, &home, None, &Method::GET, &uri, &fields, &body).await
        else {
            panic!("a response from a server that reset");
        };
        assert!(
            matches!(&failed.error, WireError::Io(e) if e.kind() == io::ErrorKind::ConnectionReset)
        );
        failed
    }

    #[tokio::test]
    async fn a_reset_before_any_answer_is_unanswered_too() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let socket = accept_request(listener).await;
            reset_on_close(&socket);
        });
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let failed = get_reset(tcp, addr).await;
        assert!(failed.unanswered);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_reset_after_an_informational_head_is_answered() {
        use std::os::fd::AsRawFd as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let client_fd = tcp.as_raw_fd();
        tokio::spawn(async move {
            let mut socket = accept_request(listener).await;
            socket
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .unwrap();
            // A reset discards what the client has not read yet, so it waits
            // until the client has read the 100: all of it acknowledged by
            // the client's kernel (TIOCOUTQ is SIOCOUTQ on Linux) and none
            // of it left in the client's receive queue.
            loop {
                let (mut unacked, mut unread): (libc::c_int, libc::c_int) = (0, 0);
                // SAFETY: both descriptors are open sockets (the client's
                // stays open until its exchange fails, after the reset), and
                // each request writes one c_int.
                let asked = unsafe {
                    libc::ioctl(socket.as_raw_fd(), libc::TIOCOUTQ, &mut unacked) == 0
                        && libc::ioctl(client_fd, libc::FIONREAD, &mut unread) == 0
                };
                assert!(asked, "ioctl: {}", io::Error::last_os_error());
                if unacked == 0 && unread == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            reset_on_close(&socket);
        });
        let failed = get_reset(tcp, addr).await;
        // The server had begun to answer: the request may not go again.
        assert!(!failed.unanswered);
    }

    #[tokio::test]
    async fn a_body_read_into_its_own_buffer_arrives_whole() {
        use http_body_util::BodyExt as _;
        // From 16 KiB, a body of known length is read into an allocation
        // of its own; sent in one piece and in several.
        for len in [16 * 1024, 100_000] {
            let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut response =
                format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n").into_bytes();
            response.extend_from_slice(&body);
            let pieces = [
                vec![response.clone()],
                response.chunks(7000).map(<[u8]>::to_vec).collect(),
            ];
            for pieces in pieces {
                let home = Home::default();
                let answer = crate::engine::loopback::fetch_on_lane(pieces, &home).await;
                let read = answer.into_body().collect().await.expect("the whole body");
                assert_eq!(read.to_bytes(), body, "{len}");
                assert!(
                    home.lock().unwrap().is_some(),
                    "{len}: the connection goes home"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_discarded_small_body_frees_its_connection() {
        let home = Home::default();
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi".to_vec();
        let body = crate::engine::loopback::fetch_on_lane(vec![ok], &home)
            .await
            .into_body();
        // The server has written all and closed: what is left is readable.
        if let Some(conn) = body.conn.as_ref() {
            conn.stream.tcp().readable().await.unwrap();
        }
        body.discard();
        assert!(home.lock().unwrap().is_some());
    }

    #[tokio::test]
    async fn a_body_of_its_own_buffered_whole_with_its_head_needs_no_read() {
        use http_body_util::BodyExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await;
        // The peer stays open and sends nothing more.
        let (_peer, _) = listener.accept().await.unwrap();
        let body: Vec<u8> = (0..20_000).map(|i| (i % 251) as u8).collect();
        let mut conn = Conn::new(Arc::from("t"), Transport::Tcp(tcp.unwrap()), Instant::now());
        conn.buf.extend_from_slice(&body);
        let home = Home::default();
        let framing = Framing::Length(body.len() as u64);
        let wire = WireBody::new(conn, framing, true, home.clone(), None, Bytes::new());
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), wire.collect())
            .await
            .expect("no read is waited for")
            .expect("the whole body");
        assert_eq!(read.to_bytes(), body);
        assert!(home.lock().unwrap().is_some());
    }

    #[tokio::test]
    async fn a_body_of_its_own_is_read_with_nothing_of_it_buffered() {
        use http_body_util::BodyExt as _;
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await;
        let (mut peer, _) = listener.accept().await.unwrap();
        let body: Vec<u8> = (0..20_000).map(|i| (i % 251) as u8).collect();
        peer.write_all(&body).await.unwrap();
        // The head was read before: the body starts with an empty buffer.
        let conn = Conn::new(Arc::from("t"), Transport::Tcp(tcp.unwrap()), Instant::now());
        let home = Home::default();
        let framing = Framing::Length(body.len() as u64);
        let wire = WireBody::new(conn, framing, true, home.clone(), None, Bytes::new());
        let read = wire.collect().await.expect("the whole body");
        assert_eq!(read.to_bytes(), body);
        assert!(home.lock().unwrap().is_some());
    }
}
