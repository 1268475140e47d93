//! Reading a response body: decoding, the size limit on decoded bytes, the idle
//! timeout between pieces, and streaming to a file for `saveTo`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_compression::tokio::bufread::{
    BrotliDecoder, DeflateDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder,
};
use bytes::{Bytes, BytesMut};
use futures_util::TryStreamExt;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt};
use tokio_util::io::StreamReader;

use super::classify::classify;
use super::error::{find_in_chain, ErrorKind, FetchError};
use super::prefault::Prefault;
use super::save_file::SaveFile;
use super::speed::{MinSpeed, SpeedCheck, TooSlow};
use super::wire::{WireBody, WireError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Most bytes reserved up front from a `Content-Length`: a larger body grows
/// as it arrives, so a server cannot make fetchpool allocate what it never
/// sends.
const MAX_RESERVE: u64 = 64 * 1024 * 1024;

/// A response body from either path: the pooled hyper client, or a lane's
/// own connection.
pub enum ResponseBody {
    Pooled(Incoming),
    Lane(WireBody),
}

impl ResponseBody {
    /// Drops a body nobody reads, leaving a small one's connection reusable
    /// where that costs no waiting.
    pub fn discard(self) {
        match self {
            ResponseBody::Pooled(body) => {
                if body.size_hint().upper().is_some_and(|n| n <= 64 * 1024) {
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(5), body.collect()).await;
                    });
                }
            }
            ResponseBody::Lane(body) => body.discard(),
        }
    }

    /// The field lines of a head fetchpool's own HTTP/1.1 read (see
    /// `Headers::Lines`); None for hyper's responses.
    pub fn take_lines(&mut self) -> Option<Bytes> {
        match self {
            ResponseBody::Pooled(_) => None,
            ResponseBody::Lane(body) => Some(body.take_lines()),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ResponseBody::Pooled(body) => Pin::new(body)
                .poll_frame(cx)
                .map_err(|e| Box::new(e) as BoxError),
            ResponseBody::Lane(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Pooled(body) => body.is_end_stream(),
            ResponseBody::Lane(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Pooled(body) => body.size_hint(),
            ResponseBody::Lane(body) => body.size_hint(),
        }
    }
}

/// Content codings fetchpool decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

/// The value fetchpool sends as `Accept-Encoding` when decoding is on.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Most codings undone on one body; a longer list is left as it came, as
/// one with a coding fetchpool does not know is.
pub const MAX_CODINGS: usize = 5;

/// A body's content codings, in the order they were applied: the last is
/// undone first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Codings {
    list: [Coding; MAX_CODINGS],
    len: usize,
}

impl Codings {
    /// The codings in the order they are undone.
    fn undo_order(self) -> impl Iterator<Item = Coding> {
        self.list.into_iter().take(self.len).rev()
    }
}

/// The codings to undo, if the response names any and fetchpool knows every
/// one (`identity` is none); across every `Content-Encoding` line.
pub fn coding_of(headers: &HeaderMap) -> Option<Codings> {
    let mut codings = Codings {
        list: [Coding::Gzip; MAX_CODINGS],
        len: 0,
    };
    for value in headers.get_all(http::header::CONTENT_ENCODING) {
        for name in value.to_str().ok()?.split(',') {
            let coding = match name.trim().to_ascii_lowercase().as_str() {
                "" | "identity" => continue,
                "gzip" | "x-gzip" => Coding::Gzip,
                "deflate" => Coding::Deflate,
                "br" => Coding::Brotli,
                "zstd" => Coding::Zstd,
                _ => return None,
            };
            *codings.list.get_mut(codings.len)? = coding;
            codings.len += 1;
        }
    }
    (codings.len > 0).then_some(codings)
}

pub struct BodyLimits {
    pub max_size: Option<u64>,
    pub idle: Option<Duration>,
    pub min_speed: Option<MinSpeed>,
}

/// Where the body goes: kept in memory, or written to a file.
pub enum BodyTarget<'a> {
    Memory,
    File(&'a mut SaveFile),
}

pub struct BodyRead {
    pub bytes: Bytes,
    pub saved: Option<u64>,
}

impl BodyRead {
    /// A body that went to a file: `bytes` of it were written.
    pub fn saved(bytes: u64) -> Self {
        BodyRead {
            bytes: Bytes::new(),
            saved: Some(bytes),
        }
    }
}

fn too_large(limit: u64) -> FetchError {
    FetchError::new(
        ErrorKind::BodyTooLarge,
        format!(
            "Response body is larger than {limit} bytes (maxBodySize; maxSaveSize with saveTo)"
        ),
    )
}

fn idle_timeout() -> FetchError {
    FetchError::new(ErrorKind::BodyTimeout, "Body timeout")
}

fn too_slow(slow: TooSlow) -> FetchError {
    FetchError::new(ErrorKind::BodyTimeout, slow.to_string())
}

async fn with_idle<T>(
    idle: Option<Duration>,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, FetchError> {
    match idle {
        Some(limit) => tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| idle_timeout()),
        None => Ok(fut.await),
    }
}

pub async fn read_body(
    body: ResponseBody,
    codings: Option<Codings>,
    size_hint: Option<u64>,
    limits: &BodyLimits,
    target: BodyTarget<'_>,
    pool: Option<&Arc<Prefault>>,
) -> Result<BodyRead, FetchError> {
    if let (None, Some(max), Some(len)) = (codings, limits.max_size, size_hint) {
        if len > max {
            return Err(too_large(max));
        }
    }
    let Some(codings) = codings else {
        return match target {
            BodyTarget::Memory => read_plain(body, size_hint, limits, pool).await,
            BodyTarget::File(file) => write_plain(body, limits, file).await,
        };
    };
    // The speed counts bytes as they come off the wire, before decoding.
    let mut speed = SpeedCheck::new(limits.min_speed);
    let stream = body
        .into_data_stream()
        .map_err(io::Error::other)
        .and_then(move |data| {
            let checked = speed.add(data.len()).map(|()| data);
            std::future::ready(checked.map_err(io::Error::other))
        });
    let mut reader = StreamReader::new(stream);
    // No bytes at all is an empty body, whatever the coding: a 304 or
    // 204 that names its representation's coding, or an empty file
    // served with one, as browsers and Node's fetch read them.
    let head = with_idle(limits.idle, reader.fill_buf())
        .await?
        .map_err(read_error)?;
    if head.is_empty() {
        return read_decoded(Box::pin(reader).as_mut(), limits, target).await;
    }
    let mut undo = codings.undo_order();
    let first = undo.next().unwrap_or(Coding::Gzip);
    let mut decoded = if head.len() >= 2 {
        let zlib = is_zlib_header(head);
        decoder(first, reader, zlib)
    } else {
        // A first piece of one byte: too few to tell zlib from raw deflate.
        let (input, zlib) = sniffed(reader, limits).await?;
        decoder(first, input, zlib)
    };
    // An inner coding's input is the output of the one above it, which
    // no limit on the wire bounds: it counts against the body's limit
    // (a coded stream is hardly larger than what it decodes to), and it
    // yields now and then, so that timeouts and aborts still run.
    let inner_limit = limits
        .max_size
        .map(|max| max.saturating_add(max / 4).saturating_add(INNER_SLACK));
    for coding in undo {
        let layer = Layer {
            inner: decoded,
            limit: inner_limit,
            read: 0,
        };
        // A decoder may hand on one byte when the network pauses.
        let (input, zlib) = sniffed(layer, limits).await?;
        decoded = decoder(coding, tokio::io::BufReader::new(input), zlib);
    }
    read_decoded(decoded.as_mut(), limits, target).await
}

/// `reader` as it was, and whether it starts as zlib does: its first two
/// bytes are read whole, however they come, and given back ahead of it.
async fn sniffed<R: AsyncRead + Unpin>(
    mut reader: R,
    limits: &BodyLimits,
) -> Result<(tokio::io::Chain<std::io::Cursor<Vec<u8>>, R>, bool), FetchError> {
    let (head, got) = first_two(&mut reader, limits).await?;
    let zlib = is_zlib_header(&head[..got]);
    Ok((
        std::io::Cursor::new(head[..got].to_vec()).chain(reader),
        zlib,
    ))
}

/// The first two bytes of `reader`, or fewer at its end, and how many.
async fn first_two(
    reader: &mut (impl AsyncRead + Unpin),
    limits: &BodyLimits,
) -> Result<([u8; 2], usize), FetchError> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        let n = with_idle(limits.idle, reader.read(&mut head[got..]))
            .await?
            .map_err(read_error)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok((head, got))
}

/// Room above the body's limit for an inner coding's stream, whose framing
/// adds a little to what it holds.
const INNER_SLACK: u64 = 64 * 1024;

/// The output of one coding, read by the next: counted against `limit`,
/// and each read spends the task's budget, since a decoder reading another
/// never waits for the network and would otherwise run to its end in one
/// poll.
struct Layer {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    limit: Option<u64>,
    read: u64,
}

/// An inner coding's stream passed the body's limit.
#[derive(Debug)]
struct InnerTooLarge {
    limit: u64,
}

impl std::fmt::Display for InnerTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "A coding within the body decoded to more than {} bytes, past what maxBodySize allows it",
            self.limit
        )
    }
}

impl std::error::Error for InnerTooLarge {}

impl AsyncRead for Layer {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let before = buf.filled().len();
        std::task::ready!(self.inner.as_mut().poll_read(cx, buf))?;
        coop.made_progress();
        self.read += (buf.filled().len() - before) as u64;
        if let Some(limit) = self.limit.filter(|&limit| self.read > limit) {
            return std::task::Poll::Ready(Err(io::Error::other(InnerTooLarge { limit })));
        }
        std::task::Poll::Ready(Ok(()))
    }
}

/// A reader of `input` with `coding` undone. `zlib`: whether a deflate
/// stream starts with zlib's header.
fn decoder(
    coding: Coding,
    input: impl AsyncBufRead + Send + 'static,
    zlib: bool,
) -> Pin<Box<dyn AsyncRead + Send>> {
    match coding {
        // A gzip body may be several members back to back (RFC 1952 §2.2),
        // a zstd one several frames (RFC 8878 §3.1), as `cat a.gz b.gz`,
        // pigz and bgzip make: every one is decoded, as gunzip and Node's
        // zlib do. Bytes after the last that do not start another fail.
        Coding::Gzip => {
            let mut gzip = GzipDecoder::new(input);
            gzip.multiple_members(true);
            Box::pin(gzip)
        }
        // HTTP's deflate is zlib-wrapped, but some servers send raw
        // deflate; browsers accept both, and so does fetchpool.
        Coding::Deflate if zlib => Box::pin(ZlibDecoder::new(input)),
        Coding::Deflate => Box::pin(DeflateDecoder::new(input)),
        Coding::Brotli => Box::pin(BrotliDecoder::new(input)),
        Coding::Zstd => {
            let mut zstd = ZstdDecoder::new(input);
            zstd.multiple_members(true);
            Box::pin(zstd)
        }
    }
}

/// A zlib stream starts with CMF (method 8, window ≤ 32 KiB) and FLG such
/// that the pair is a multiple of 31 (RFC 1950); a raw deflate stream rarely
/// does. One byte alone is taken as zlib, whose decoder then reports the error.
fn is_zlib_header(head: &[u8]) -> bool {
    match head {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => true,
    }
}

/// The common case: no coding, into memory. A body of one frame is not copied.
async fn read_plain(
    mut body: ResponseBody,
    size_hint: Option<u64>,
    limits: &BodyLimits,
    pool: Option<&Arc<Prefault>>,
) -> Result<BodyRead, FetchError> {
    let mut first: Option<Bytes> = None;
    let mut rest: Option<Vec<u8>> = None;
    let mut total: u64 = 0;
    let mut speed = SpeedCheck::new(limits.min_speed);
    loop {
        let frame = with_idle(limits.idle, body.frame()).await?;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(classify)?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if data.is_empty() {
            continue; // progress on a body read into its own buffer
        }
        total += data.len() as u64;
        if let Some(max) = limits.max_size {
            if total > max {
                return Err(too_large(max));
            }
        }
        speed.add(data.len()).map_err(too_slow)?;
        match (&mut first, &mut rest) {
            (None, None) => first = Some(data),
            (Some(head), None) => {
                let capacity = size_hint.unwrap_or(0).min(MAX_RESERVE).max(total) as usize;
                let mut buf = match pool {
                    // A buffer whose pages are already in (see prefault.rs).
                    Some(pool) => pool.take(capacity),
                    None => Vec::with_capacity(capacity),
                };
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                first = None;
                rest = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    let bytes = match (first, rest) {
        (_, Some(mut all)) => match pool {
            Some(pool) => pool.freeze(all),
            None => {
                all.shrink_to_fit();
                Bytes::from(all)
            }
        },
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    };
    Ok(BodyRead { bytes, saved: None })
}

/// No coding, to a file: each frame is written as it comes, without going
/// through a reader's fixed-size chunks.
async fn write_plain(
    mut body: ResponseBody,
    limits: &BodyLimits,
    file: &mut SaveFile,
) -> Result<BodyRead, FetchError> {
    let mut total: u64 = 0;
    let mut speed = SpeedCheck::new(limits.min_speed);
    loop {
        let frame = with_idle(limits.idle, body.frame()).await?;
        let Some(frame) = frame else { break };
        let Ok(data) = frame.map_err(classify)?.into_data() else {
            continue; // trailers
        };
        speed.add(data.len()).map_err(too_slow)?;
        total += data.len() as u64;
        if let Some(max) = limits.max_size {
            if total > max {
                return Err(too_large(max));
            }
        }
        if !data.is_empty() {
            file.write(data).await?;
        }
    }
    Ok(BodyRead {
        bytes: Bytes::new(),
        saved: Some(total),
    })
}

/// Errors from the decoder are `ERR_DECOMPRESS`; errors from the transport
/// underneath keep their own kind.
fn read_error(err: io::Error) -> FetchError {
    if let Some(slow) = find_in_chain::<TooSlow>(&err) {
        return too_slow(TooSlow { limit: slow.limit });
    }
    if let Some(inner) = find_in_chain::<InnerTooLarge>(&err) {
        return FetchError::new(ErrorKind::BodyTooLarge, inner.to_string());
    }
    if find_in_chain::<hyper::Error>(&err).is_some() || find_in_chain::<WireError>(&err).is_some() {
        return classify(Box::new(err));
    }
    FetchError::new(
        ErrorKind::Decompress,
        format!("Decompression failed: {err}"),
    )
    .with_cause(err)
}

async fn read_decoded(
    mut reader: Pin<&mut (dyn AsyncRead + Send)>,
    limits: &BodyLimits,
    target: BodyTarget<'_>,
) -> Result<BodyRead, FetchError> {
    let mut file = match target {
        BodyTarget::File(file) => Some(file),
        BodyTarget::Memory => None,
    };
    let mut out = BytesMut::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        // Decoders reading what is already in hand never wait: each piece
        // counts against the task's budget, so that a body that decodes to
        // much still lets the worker's other tasks run.
        tokio::task::coop::consume_budget().await;
        let n = with_idle(limits.idle, reader.read(&mut chunk))
            .await?
            .map_err(read_error)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if let Some(max) = limits.max_size {
            if total > max {
                return Err(too_large(max));
            }
        }
        match file.as_mut() {
            Some(f) => f.write(Bytes::copy_from_slice(&chunk[..n])).await?,
            None => out.extend_from_slice(&chunk[..n]),
        }
    }
    if file.is_some() {
        // The file is flushed and put in place by its owner (save.rs).
        return Ok(BodyRead {
            bytes: Bytes::new(),
            saved: Some(total),
        });
    }
    Ok(BodyRead {
        bytes: out.freeze(),
        saved: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::loopback::fetch_on_lane;
    use crate::engine::wire::Home;

    #[test]
    fn tells_zlib_from_raw_deflate() {
        // zlib at each compression level flag, as zlib writes them.
        for head in [
            [0x78, 0x01],
            [0x78, 0x5e],
            [0x78, 0x9c],
            [0x78, 0xda],
            [0x58, 0x85],
        ] {
            assert!(is_zlib_header(&head), "{head:x?}");
        }
        // Raw deflate from Node's deflateRawSync of text, and garbage.
        for head in [[0xcb, 0x48], [0x4b, 0x4c], [0x74, 0x68]] {
            assert!(!is_zlib_header(&head), "{head:x?}");
        }
    }

    #[test]
    fn a_zlib_header_names_deflate_a_small_window_and_a_checksum() {
        // Method 8 with the check bits right, but a window over 32 KiB.
        assert!(!is_zlib_header(&[0x88, 0x98]));
        // Method 7, checksum right: not deflate.
        assert!(!is_zlib_header(&[0x77, 0x0a]));
        // Method 8, window fine, checksum wrong.
        assert!(!is_zlib_header(&[0x78, 0x9d]));
        // Too short to tell: the zlib decoder reports what is wrong.
        assert!(is_zlib_header(&[0x4b]));
        assert!(is_zlib_header(&[]));
    }

    /// The codings of a response with these `Content-Encoding` lines.
    fn coded(lines: &[&'static str]) -> Option<Vec<Coding>> {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(http::header::CONTENT_ENCODING, line.parse().unwrap());
        }
        coding_of(&headers).map(|c| c.list[..c.len].to_vec())
    }

    #[test]
    fn every_known_coding_is_named_in_the_order_applied() {
        use Coding::{Brotli, Deflate, Gzip, Zstd};
        assert_eq!(coded(&[" GZIP "]), Some(vec![Gzip]));
        assert_eq!(coded(&["x-gzip"]), Some(vec![Gzip]));
        assert_eq!(coded(&["deflate"]), Some(vec![Deflate]));
        assert_eq!(coded(&["br"]), Some(vec![Brotli]));
        assert_eq!(coded(&["zstd"]), Some(vec![Zstd]));
        assert_eq!(coded(&["gzip, br"]), Some(vec![Gzip, Brotli]));
        assert_eq!(
            coded(&["deflate", "zstd,gzip"]),
            Some(vec![Deflate, Zstd, Gzip])
        );
        assert_eq!(coded(&["identity, gzip,"]), Some(vec![Gzip]));
        assert_eq!(
            coded(&["gzip, gzip, gzip, gzip, gzip"]).map(|c| c.len()),
            Some(MAX_CODINGS)
        );
        // None to undo, one unknown, or too many: the body stays as it came.
        assert_eq!(coded(&[]), None);
        assert_eq!(coded(&["identity"]), None);
        assert_eq!(coded(&["gzip, compress"]), None);
        assert_eq!(coded(&["gzip", "x-custom"]), None);
        assert_eq!(coded(&["gzip, gzip, gzip, gzip, gzip, gzip"]), None);
    }

    /// A response of `body` in chunks of `chunk` bytes, each chunk its own
    /// frame.
    fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for piece in body.chunks(chunk) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    fn limits(max_size: Option<u64>) -> BodyLimits {
        BodyLimits {
            max_size,
            idle: None,
            min_speed: None,
        }
    }

    /// Reads `response`'s body with `applied` to undo (in the order they
    /// were applied).
    async fn read_coded(
        response: Vec<u8>,
        applied: &[Coding],
        size_hint: Option<u64>,
        max_size: Option<u64>,
    ) -> Result<BodyRead, FetchError> {
        let mut codings = Codings {
            list: [Coding::Gzip; MAX_CODINGS],
            len: applied.len(),
        };
        codings.list[..applied.len()].copy_from_slice(applied);
        let home = Home::default();
        let body = ResponseBody::Lane(fetch_on_lane(vec![response], &home).await.into_body());
        let limits = limits(max_size);
        let codings = (!applied.is_empty()).then_some(codings);
        read_body(body, codings, size_hint, &limits, BodyTarget::Memory, None).await
    }

    async fn read(
        response: Vec<u8>,
        coding: Option<Coding>,
        size_hint: Option<u64>,
        max_size: Option<u64>,
    ) -> Result<BodyRead, FetchError> {
        let applied: &[Coding] = match &coding {
            Some(one) => std::slice::from_ref(one),
            None => &[],
        };
        read_coded(response, applied, size_hint, max_size).await
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n).map(|i| b'a' + (i % 26) as u8).collect()
    }

    #[tokio::test]
    async fn a_plain_body_of_many_frames_is_whole_and_its_limit_is_inclusive() {
        let body = text(1000);
        let whole = read(chunked(&body, 100), None, None, Some(1000)).await;
        assert_eq!(&whole.expect("exactly the limit").bytes[..], &body[..]);
        let over = read(chunked(&text(1001), 100), None, None, Some(1000)).await;
        assert!(matches!(
            over.err().map(|e| e.code()),
            Some("ERR_BODY_TOO_LARGE")
        ));
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_fails_before_reading() {
        // The body the server sends fits; the length it declared does not.
        let small = chunked(b"abc", 3);
        let refused = read(small.clone(), None, Some(11), Some(10)).await;
        assert!(matches!(
            refused.err().map(|e| e.code()),
            Some("ERR_BODY_TOO_LARGE")
        ));
        let at_limit = read(small, None, Some(10), Some(10)).await;
        assert_eq!(&at_limit.expect("at the limit").bytes[..], b"abc");
    }

    async fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        async_compression::tokio::bufread::GzipEncoder::new(data)
            .read_to_end(&mut out)
            .await
            .unwrap();
        out
    }

    #[tokio::test]
    async fn the_limit_counts_decoded_bytes() {
        let body = text(200_000);
        let packed = gzip(&body).await;
        assert!(packed.len() < 10_000);
        let whole = read(
            chunked(&packed, 4096),
            Some(Coding::Gzip),
            None,
            Some(200_000),
        )
        .await;
        assert_eq!(whole.expect("exactly the limit").bytes, body);
        // The declared length is of the coded bytes, which fit.
        let len = Some(packed.len() as u64);
        let over = read(
            chunked(&packed, 4096),
            Some(Coding::Gzip),
            len,
            Some(199_999),
        )
        .await;
        assert!(matches!(
            over.err().map(|e| e.code()),
            Some("ERR_BODY_TOO_LARGE")
        ));
    }

    #[tokio::test]
    async fn a_corrupt_coding_is_a_decompression_error() {
        let mut packed = gzip(&text(1000)).await;
        let middle = packed.len() / 2;
        packed[middle] ^= 0xff;
        packed[middle + 1] ^= 0xff;
        let failed = read(chunked(&packed, 64), Some(Coding::Gzip), None, None).await;
        assert!(matches!(
            failed.err().map(|e| e.code()),
            Some("ERR_DECOMPRESS")
        ));
    }

    #[tokio::test]
    async fn a_cut_body_under_a_coding_keeps_its_own_code() {
        let packed = gzip(&text(1000)).await;
        let mut cut = chunked(&packed, 64);
        cut.truncate(cut.len() - 20);
        let failed = read(cut, Some(Coding::Gzip), None, None).await;
        assert!(matches!(
            failed.err().map(|e| e.code()),
            Some("ERR_HTTP_PROTOCOL")
        ));
    }

    #[tokio::test]
    async fn deflate_is_read_with_or_without_its_zlib_wrapper() {
        use async_compression::tokio::bufread::{DeflateEncoder, ZlibEncoder};
        let body = text(5000);
        let mut wrapped = Vec::new();
        ZlibEncoder::new(&body[..])
            .read_to_end(&mut wrapped)
            .await
            .unwrap();
        let mut raw = Vec::new();
        DeflateEncoder::new(&body[..])
            .read_to_end(&mut raw)
            .await
            .unwrap();
        for packed in [wrapped, raw] {
            let read = read(chunked(&packed, 512), Some(Coding::Deflate), None, None).await;
            assert_eq!(read.expect("decoded").bytes, body);
        }
    }

    /// `data` with `coding` applied; deflate raw or zlib-wrapped.
    async fn encode(coding: Coding, data: &[u8], raw: bool) -> Vec<u8> {
        use async_compression::tokio::bufread as enc;
        let mut out = Vec::new();
        let _ = match coding {
            Coding::Gzip => enc::GzipEncoder::new(data).read_to_end(&mut out).await,
            Coding::Deflate if raw => enc::DeflateEncoder::new(data).read_to_end(&mut out).await,
            Coding::Deflate => enc::ZlibEncoder::new(data).read_to_end(&mut out).await,
            Coding::Brotli => enc::BrotliEncoder::new(data).read_to_end(&mut out).await,
            Coding::Zstd => enc::ZstdEncoder::new(data).read_to_end(&mut out).await,
        }
        .unwrap();
        out
    }

    #[tokio::test]
    async fn stacked_codings_are_undone_last_first() {
        use Coding::{Brotli, Deflate, Gzip, Zstd};
        let body = text(50_000);
        // Raw deflate and zlib's, each beneath another coding, where the
        // decoder tells them apart by the bytes the one above gives it.
        for (applied, raw) in [
            (vec![Gzip, Brotli], false),
            (vec![Deflate, Gzip, Brotli], true),
            (vec![Zstd, Deflate, Gzip], false),
            (vec![Gzip, Gzip, Gzip, Gzip, Gzip], false),
        ] {
            let mut packed = body.clone();
            for coding in &applied {
                packed = encode(*coding, &packed, raw).await;
            }
            let whole = read_coded(chunked(&packed, 1000), &applied, None, None).await;
            assert_eq!(whole.expect("decoded").bytes, body, "{applied:?}");
            // Named in the wrong order, they do not decode.
            let mut reversed = applied.clone();
            reversed.reverse();
            if reversed != applied {
                let failed = read_coded(chunked(&packed, 1000), &reversed, None, None).await;
                assert_eq!(failed.err().map(|e| e.code()), Some("ERR_DECOMPRESS"));
            }
            // The limit counts the bytes of the last one undone.
            let over = read_coded(chunked(&packed, 1000), &applied, None, Some(49_999)).await;
            assert_eq!(over.err().map(|e| e.code()), Some("ERR_BODY_TOO_LARGE"));
        }
    }

    #[tokio::test]
    async fn every_member_of_a_gzip_body_and_frame_of_a_zstd_one_is_decoded() {
        use Coding::{Brotli, Gzip, Zstd};
        let (first, second) = (text(30_000), text(20_000).repeat(2));
        let whole = [first.clone(), second.clone()].concat();
        for coding in [Gzip, Zstd] {
            let joined = [
                encode(coding, &first, false).await,
                encode(coding, &second, false).await,
            ]
            .concat();
            for piece in [joined.len(), 1000, 7] {
                let read = read_coded(chunked(&joined, piece), &[coding], None, None).await;
                assert_eq!(read.expect("decoded").bytes, whole, "{coding:?} in {piece}");
            }
            // Beneath another coding too.
            let outer = encode(Brotli, &joined, false).await;
            let read = read_coded(chunked(&outer, 1000), &[coding, Brotli], None, None).await;
            assert_eq!(read.expect("decoded").bytes, whole, "{coding:?} under br");
            // Bytes after the last member that do not start another fail.
            let junk = [
                encode(coding, &first, false).await,
                b"not a member".to_vec(),
            ]
            .concat();
            let read = read_coded(chunked(&junk, 1000), &[coding], None, None).await;
            assert_eq!(
                read.err().map(|e| e.code()),
                Some("ERR_DECOMPRESS"),
                "{coding:?}"
            );
        }
    }

    /// A gzip stream whose header names a file of `len` bytes that never
    /// ends: a decoder reads it all and gives nothing back. Gzipped once
    /// more, it is a few hundred KiB.
    async fn endless_name(len: u64) -> Vec<u8> {
        use async_compression::tokio::bufread::GzipEncoder;
        use async_compression::Level;
        let header: &[u8] = &[0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3];
        let name = tokio::io::BufReader::new(header.chain(tokio::io::repeat(b'a').take(len)));
        let mut out = Vec::new();
        GzipEncoder::with_quality(name, Level::Fastest)
            .read_to_end(&mut out)
            .await
            .unwrap();
        gzip(&out).await
    }

    #[tokio::test]
    async fn an_inner_coding_is_held_to_the_body_limit() {
        let packed = endless_name(64 << 20).await;
        assert!(packed.len() < 1 << 20, "{}", packed.len());
        let started = std::time::Instant::now();
        let over = read_coded(
            chunked(&packed, 4096),
            &[Coding::Gzip, Coding::Gzip, Coding::Gzip],
            None,
            Some(1024),
        )
        .await;
        assert_eq!(over.err().map(|e| e.code()), Some("ERR_BODY_TOO_LARGE"));
        // Stopped near the limit, not at the end of 64 MiB.
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// "ok" gzipped with a file name of `len` bytes in its header: a
    /// stream of about `len` bytes that decodes to two.
    async fn named(len: usize) -> Vec<u8> {
        let plain = gzip(b"ok").await;
        let mut out = plain[..10].to_vec();
        out[3] |= 0x08; // FNAME
        out.extend(std::iter::repeat_n(b'a', len));
        out.push(0);
        out.extend_from_slice(&plain[10..]);
        out
    }

    #[tokio::test]
    async fn an_inner_coding_has_a_quarter_more_room_than_the_limit() {
        const MIB: usize = 1 << 20;
        let max = Some(MIB as u64);
        let applied = [Coding::Gzip, Coding::Gzip];
        // 1.2 MiB inside: within the limit and its quarter.
        let within = gzip(&named(MIB + MIB / 5).await).await;
        let read = read_coded(chunked(&within, 4096), &applied, None, max).await;
        assert_eq!(&read.expect("within").bytes[..], b"ok");
        // 2 MiB inside: past them.
        let past = gzip(&named(2 * MIB).await).await;
        let read = read_coded(chunked(&past, 4096), &applied, None, max).await;
        assert_eq!(read.err().map(|e| e.code()), Some("ERR_BODY_TOO_LARGE"));
    }

    #[tokio::test]
    async fn an_inner_coding_yields_so_the_idle_timeout_still_runs() {
        // No limit: only the pauses between the layers' turns let the
        // timeout between pieces see that nothing came out for 20 ms.
        let packed = endless_name(512 << 20).await;
        let home = Home::default();
        let answer = fetch_on_lane(vec![chunked(&packed, 4096)], &home).await;
        let body = ResponseBody::Lane(answer.into_body());
        let limits = BodyLimits {
            max_size: None,
            idle: Some(Duration::from_millis(20)),
            min_speed: None,
        };
        let mut codings = Codings {
            list: [Coding::Gzip; MAX_CODINGS],
            len: 3,
        };
        codings.list[..3].copy_from_slice(&[Coding::Gzip; 3]);
        let read = read_body(body, Some(codings), None, &limits, BodyTarget::Memory, None).await;
        assert_eq!(read.err().map(|e| e.code()), Some("ERR_BODY_TIMEOUT"));
    }

    /// Hands out one byte, then waits once, then the rest: what a decoder
    /// above gives when the network pauses.
    struct OneThenRest {
        bytes: Vec<u8>,
        at: usize,
        waited: bool,
    }

    impl AsyncRead for OneThenRest {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            if self.at == 1 && !self.waited {
                self.waited = true;
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            let end = if self.at == 0 {
                self.bytes.len().min(1)
            } else {
                self.bytes.len()
            };
            let n = (end - self.at).min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.bytes[at..at + n]);
            self.at += n;
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn the_sniff_gets_two_bytes_across_a_pause() {
        let zlib = encode(Coding::Deflate, &text(100), false).await;
        let mut reader = OneThenRest {
            bytes: zlib.clone(),
            at: 0,
            waited: false,
        };
        let (head, got) = first_two(&mut reader, &limits(None)).await.unwrap();
        assert_eq!((got, &head[..]), (2, &zlib[..2]));
        assert!(is_zlib_header(&head));
        let mut empty = OneThenRest {
            bytes: Vec::new(),
            at: 0,
            waited: false,
        };
        assert_eq!(first_two(&mut empty, &limits(None)).await.unwrap().1, 0);
    }

    #[tokio::test]
    async fn a_body_decoding_to_much_lets_other_tasks_run() {
        // 64 MiB of zeros gzipped three times is a few hundred bytes: once
        // they are in, nothing waits on the network, and without a pause
        // the decoders would run to the end in one poll.
        let zeros = tokio::io::repeat(0).take(64 << 20);
        let mut once = Vec::new();
        async_compression::tokio::bufread::GzipEncoder::new(tokio::io::BufReader::new(zeros))
            .read_to_end(&mut once)
            .await
            .unwrap();
        let packed = gzip(&gzip(&once).await).await;
        let home = Home::default();
        let answer = fetch_on_lane(vec![chunked(&packed, packed.len())], &home).await;
        let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                loop {
                    tokio::task::yield_now().await;
                    ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        };
        tokio::task::yield_now().await;
        let before = ticks.load(std::sync::atomic::Ordering::Relaxed);
        let read = read_coded_body(answer, &[Coding::Gzip; 3]).await;
        let during = ticks.load(std::sync::atomic::Ordering::Relaxed) - before;
        ticker.abort();
        assert_eq!(read.expect("decoded").bytes.len(), 64 << 20);
        assert!(during >= 4, "the other task ran {during} times");
    }

    #[tokio::test]
    async fn an_inner_deflate_is_told_apart_when_its_first_byte_comes_alone() {
        use crate::engine::loopback::fetch_paced;
        let body = text(20_000);
        for raw in [true, false] {
            let inner = encode(Coding::Deflate, &body, raw).await;
            // gzip in stored blocks: past its 10-byte header and a block's
            // 5, each byte on the wire is one byte of the deflate stream.
            let mut packed = Vec::new();
            async_compression::tokio::bufread::GzipEncoder::with_quality(
                &inner[..],
                async_compression::Level::Precise(0),
            )
            .read_to_end(&mut packed)
            .await
            .unwrap();
            let response = chunked(&packed, packed.len());
            let at = response.len() - packed.len() - 7;
            // The head and the first `first` bytes of the gzip stream, then
            // the rest a little later: the gzip decoder hands on what it has
            // by then, a single byte of the deflate stream at 16.
            for first in 14..18 {
                let cut = at + first;
                let pieces = vec![response[..cut].to_vec(), response[cut..].to_vec()];
                let home = Home::default();
                let pause = Duration::from_millis(5);
                let answer = fetch_paced(pieces, pause, &home, &HeaderMap::new()).await;
                let read = read_coded_body(answer, &[Coding::Deflate, Coding::Gzip]).await;
                assert_eq!(
                    read.expect("decoded").bytes,
                    body,
                    "raw {raw}, cut at {first}"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_deflate_body_is_told_apart_when_its_first_byte_comes_alone() {
        use crate::engine::loopback::fetch_paced;
        let body = text(20_000);
        for raw in [true, false] {
            let packed = encode(Coding::Deflate, &body, raw).await;
            let response = chunked(&packed, packed.len());
            let cut = response.len() - packed.len() - 7 + 1;
            let pieces = vec![response[..cut].to_vec(), response[cut..].to_vec()];
            let home = Home::default();
            let pause = Duration::from_millis(5);
            let answer = fetch_paced(pieces, pause, &home, &HeaderMap::new()).await;
            let read = read_coded_body(answer, &[Coding::Deflate]).await;
            assert_eq!(read.expect("decoded").bytes, body, "raw {raw}");
        }
    }

    async fn read_coded_body(
        answer: http::Response<WireBody>,
        applied: &[Coding],
    ) -> Result<BodyRead, FetchError> {
        let mut codings = Codings {
            list: [Coding::Gzip; MAX_CODINGS],
            len: applied.len(),
        };
        codings.list[..applied.len()].copy_from_slice(applied);
        let body = ResponseBody::Lane(answer.into_body());
        let limits = limits(None);
        read_body(body, Some(codings), None, &limits, BodyTarget::Memory, None).await
    }

    #[tokio::test]
    async fn no_bytes_under_any_coding_is_an_empty_body() {
        for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli, Coding::Zstd] {
            let read = read(chunked(b"", 1), Some(coding), None, None).await;
            assert_eq!(read.expect("an empty body").bytes, Bytes::new());
        }
        // One byte is no stream of any of them.
        for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli, Coding::Zstd] {
            let read = read(chunked(b"x", 1), Some(coding), None, None).await;
            assert_eq!(read.err().map(|e| e.code()), Some("ERR_DECOMPRESS"));
        }
    }

    /// A plain body of `len` bytes in chunks of 100, saved to a file under
    /// `max_size`: the outcome, and the file's bytes when it was kept.
    async fn save(len: usize, max_size: u64) -> (Result<BodyRead, FetchError>, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("saved");
        let home = Home::default();
        let answer = fetch_on_lane(vec![chunked(&text(len), 100)], &home).await;
        let body = ResponseBody::Lane(answer.into_body());
        let mut file = SaveFile::temp_beside(&target, None).await.unwrap();
        let limits = limits(Some(max_size));
        let read = read_body(body, None, None, &limits, BodyTarget::File(&mut file), None).await;
        if read.is_err() {
            return (read, Vec::new());
        }
        file.commit(&target, None).await.unwrap();
        (read, std::fs::read(&target).unwrap())
    }

    #[tokio::test]
    async fn a_plain_body_saved_to_a_file_is_held_to_the_limit() {
        let (read, saved) = save(1000, 1000).await;
        assert_eq!(read.expect("exactly the limit").saved, Some(1000));
        assert_eq!(saved, text(1000));
        let (over, _) = save(1001, 1000).await;
        assert!(matches!(
            over.err().map(|e| e.code()),
            Some("ERR_BODY_TOO_LARGE")
        ));
    }
}
