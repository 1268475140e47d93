//! A differential oracle for the fast path's HTTP/1.1 reader (wire.rs): the
//! same response bytes, written over loopback in pieces split at random
//! points, are read by `wire::exchange` and by hyper's own HTTP/1.1 client
//! connection, and the two must agree: the same status, fields and body, or
//! an error from both.
//!
//! The hand-written cases are __test__/fixtures/http1-responses.json (the
//! JavaScript suite holds the same cases to llhttp); the mutants are those
//! cases with bytes inserted, removed, replaced and repeated, from a fixed
//! seed. `PROPTEST_CASES` sets how many (`npm run fuzz` runs many more).
//! Where fetchpool is stricter than hyper on purpose, the differences
//! allowed are named in `allowed`, and docs/http1-framing.md says why.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use http_body_util::{BodyExt, Empty};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::chunked::{BARE_LF_IN_TRAILER, WHITESPACE_AFTER_SIZE};
use super::transport::Transport;
use super::wire::{exchange, Conn, Home};

/// What a reader made of a response.
#[derive(Debug, Clone)]
enum Outcome {
    Response {
        status: u16,
        /// Lower-case names and values, sorted.
        fields: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    Error(String),
}

fn agree(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Error(a), Outcome::Error(b)) => (a == HUNG) == (b == HUNG),
        (
            Outcome::Response {
                status,
                fields,
                body,
            },
            Outcome::Response {
                status: s,
                fields: f,
                body: b,
            },
        ) => status == s && fields == f && body == b,
        _ => false,
    }
}

/// The differences from hyper fetchpool keeps on purpose, both where it is
/// stricter: hyper reads whitespace after a chunk size, and its trailer
/// parser may take a bare LF as a line end; RFC 9112's grammar and llhttp
/// refuse both.
fn allowed(fast: &Outcome, hyper: &Outcome) -> bool {
    matches!((fast, hyper), (Outcome::Error(why), Outcome::Response { .. })
        if why.ends_with(WHITESPACE_AFTER_SIZE) || why.ends_with(BARE_LF_IN_TRAILER))
}

/// Accepts one connection, reads a request head, writes `pieces` one by one
/// (letting the reader run between them) and closes.
async fn serve(listener: TcpListener, pieces: Vec<Vec<u8>>) {
    let Ok((mut socket, _)) = listener.accept().await else {
        return;
    };
    let _ = socket.set_nodelay(true);
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    for piece in pieces {
        if socket.write_all(&piece).await.is_err() {
            return;
        }
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
    }
    let _ = socket.shutdown().await;
}

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    (listener, addr)
}

/// `lines` (the head's field lines as they came) as sorted pairs.
fn fields_of_lines(lines: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut section = lines.to_vec();
    section.extend_from_slice(b"\r\n");
    let mut fields = [httparse::EMPTY_HEADER; 128];
    let Ok(httparse::Status::Complete((_, fields))) =
        httparse::parse_headers(&section, &mut fields)
    else {
        panic!("the kept field lines parse again");
    };
    let mut pairs: Vec<_> = fields
        .iter()
        .map(|f| (f.name.to_ascii_lowercase(), f.value.to_vec()))
        .collect();
    pairs.sort();
    pairs
}

async fn read_fast_path(addr: SocketAddr) -> Outcome {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let conn = Conn::new(Arc::from("oracle"), Transport::Tcp(tcp), Instant::now());
    let home = Home::default();
    let uri: Uri = format!("http://{addr}/").parse().expect("uri");
    let empty = (HeaderMap::new(), Bytes::new());
    let mut response =
        match exchange(conn, &home, None, &Method::GET, &uri, &empty.0, &empty.1).await {
            Ok(response) => response,
            Err(failed) => return Outcome::Error(failed.error.to_string()),
        };
    let status = response.status().as_u16();
    let fields = fields_of_lines(&response.body_mut().take_lines());
    match response.into_body().collect().await {
        Ok(body) => Outcome::Response {
            status,
            fields,
            body: body.to_bytes().to_vec(),
        },
        Err(err) => Outcome::Error(err.to_string()),
    }
}

async fn read_hyper(addr: SocketAddr) -> Outcome {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let io = hyper_util::rt::TokioIo::new(tcp);
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(io).await {
        Ok(pair) => pair,
        Err(err) => return Outcome::Error(err.to_string()),
    };
    tokio::spawn(conn);
    let request = http::Request::get("/")
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(err) => return Outcome::Error(err.to_string()),
    };
    let status = response.status().as_u16();
    let mut fields: Vec<_> = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    fields.sort();
    match response.into_body().collect().await {
        Ok(body) => Outcome::Response {
            status,
            fields,
            body: body.to_bytes().to_vec(),
        },
        Err(err) => Outcome::Error(err.to_string()),
    }
}

/// A reader that hangs is an outcome of its own, which agrees with nothing.
async fn bounded(outcome: impl std::future::Future<Output = Outcome>) -> Outcome {
    tokio::time::timeout(Duration::from_secs(10), outcome)
        .await
        .unwrap_or_else(|_| Outcome::Error(HUNG.into()))
}

const HUNG: &str = "hung";

/// Both readers' outcomes for `bytes` written in pieces ending at `cuts`.
async fn both(bytes: &[u8], cuts: &[usize]) -> (Outcome, Outcome) {
    let mut pieces = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().filter(|&&cut| cut > 0 && cut < bytes.len()) {
        if cut > at {
            pieces.push(bytes[at..cut].to_vec());
            at = cut;
        }
    }
    pieces.push(bytes[at..].to_vec());
    let (fast_listener, fast_addr) = listener().await;
    let served = tokio::spawn(serve(fast_listener, pieces.clone()));
    let fast = bounded(read_fast_path(fast_addr)).await;
    let _ = served.await;
    let (hyper_listener, hyper_addr) = listener().await;
    let served = tokio::spawn(serve(hyper_listener, pieces));
    let hyper = bounded(read_hyper(hyper_addr)).await;
    let _ = served.await;
    (fast, hyper)
}

struct Case {
    name: String,
    bytes: Vec<u8>,
    /// fetchpool is stricter than hyper here on purpose.
    differs_from_hyper: bool,
}

fn cases() -> Vec<Case> {
    let text = include_str!("../../__test__/fixtures/http1-responses.json");
    let json: serde_json::Value = serde_json::from_str(text).expect("fixture");
    let cases = json["cases"].as_array().expect("cases");
    cases
        .iter()
        .map(|case| Case {
            name: case["name"].as_str().expect("name").to_owned(),
            bytes: latin1(&filled(case)),
            differs_from_hyper: !case["differs"]["hyper"].is_null(),
        })
        .collect()
}

/// A case's bytes with its `fill` marker, if any, replaced.
fn filled(case: &serde_json::Value) -> String {
    let bytes = case["bytes"].as_str().expect("bytes");
    let fill = &case["fill"];
    if fill.is_null() {
        return bytes.to_owned();
    }
    let text = fill["text"].as_str().expect("fill text");
    let count = fill["count"].as_u64().expect("fill count") as usize;
    bytes.replacen(
        fill["marker"].as_str().expect("fill marker"),
        &text.repeat(count),
        1,
    )
}

/// The fixture's strings hold bytes as Latin-1 code points.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 byte"))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// A failure message's view of a value, cut short for large cases.
fn brief(value: &impl std::fmt::Debug) -> String {
    let mut text = format!("{value:?}");
    if text.len() > 600 {
        text.truncate(600);
        text.push('…');
    }
    text
}

#[test]
fn the_hand_written_cases_read_as_hyper_reads_them_however_they_are_split() {
    let rt = runtime();
    for case in cases() {
        let len = case.bytes.len();
        let step = (len / 512).max(7);
        let splits = [vec![], vec![len / 2], (1..len).step_by(step).collect()];
        for cuts in splits {
            let (fast, hyper) = rt.block_on(both(&case.bytes, &cuts));
            let (f, h) = (brief(&fast), brief(&hyper));
            if case.differs_from_hyper {
                assert!(allowed(&fast, &hyper), "{}: {f} / {h}", case.name);
            } else {
                let at = brief(&cuts);
                assert!(
                    agree(&fast, &hyper),
                    "{} split at {at}:\nfast path {f}\nhyper     {h}",
                    case.name
                );
            }
        }
    }
}

/// One change to a response's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index, usize),
    Replace(prop::sample::Index, u8),
    /// Repeats a stretch of the bytes where it is.
    Repeat(prop::sample::Index, usize),
    /// Replaces one of the bytes that delimit (line ends, separators,
    /// digits), or removes it when the byte is None.
    Delimiter(prop::sample::Index, Option<u8>),
}

/// Bytes where framing decisions are made.
const DELIMITERS: &[u8] = b"\r\n;:, 0123456789abcdefABCDEF";

/// Bytes that matter to framing, and a few that do not.
const INTERESTING: &[u8] = b"\r\n\r\n \t;:,=\"0123456789aAfFxX-+\0\x7f\xff";

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(INTERESTING),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<prop::sample::Index>(), byte()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => (any::<prop::sample::Index>(), 1usize..4).prop_map(|(at, n)| Mutation::Remove(at, n)),
        1 => (any::<prop::sample::Index>(), byte()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        1 => (any::<prop::sample::Index>(), 1usize..12).prop_map(|(at, n)| Mutation::Repeat(at, n)),
        4 => (any::<prop::sample::Index>(), prop::option::weighted(0.8, byte()))
            .prop_map(|(at, b)| Mutation::Delimiter(at, b)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len().max(1);
        match mutation {
            Mutation::Insert(at, b) => bytes.insert(at.index(len + 1).min(bytes.len()), *b),
            Mutation::Remove(at, n) if !bytes.is_empty() => {
                let start = at.index(bytes.len());
                let end = (start + n).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Replace(at, b) if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes[at] = *b;
            }
            Mutation::Repeat(at, n) if !bytes.is_empty() => {
                let start = at.index(bytes.len());
                let end = (start + n).min(bytes.len());
                let stretch = bytes[start..end].to_vec();
                bytes.splice(end..end, stretch);
            }
            Mutation::Delimiter(at, b) => {
                let places: Vec<usize> = (0..bytes.len())
                    .filter(|&i| DELIMITERS.contains(&bytes[i]))
                    .collect();
                if places.is_empty() {
                    continue;
                }
                let place = places[at.index(places.len())];
                match b {
                    Some(b) => bytes[place] = *b,
                    None => {
                        bytes.remove(place);
                    }
                }
            }
            _ => {}
        }
    }
    bytes
}

fn mutants_to_run() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000)
}

#[test]
fn mutants_of_the_cases_read_as_hyper_reads_them() {
    // Large cases test limits; their mutants would only be slow.
    let bases: Vec<Case> = cases()
        .into_iter()
        .filter(|case| case.bytes.len() < 4096)
        .collect();
    let config = Config {
        cases: mutants_to_run(),
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    let seed = std::env::var("FUZZ_SEED").unwrap_or_else(|_| "fetchpool wire".to_owned());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(&seed));
    let mut runner = TestRunner::new_with_rng(config, rng);
    let rt = runtime();
    let strategy = (
        0..bases.len(),
        prop::collection::vec(mutation(), 1..5),
        prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    );
    let result = runner.run(&strategy, |(base, mutations, cuts)| {
        let bytes = mutate(bases[base].bytes.clone(), &mutations);
        let mut cuts: Vec<usize> = cuts.iter().map(|at| at.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let (fast, hyper) = rt.block_on(both(&bytes, &cuts));
        prop_assert!(
            agree(&fast, &hyper) || allowed(&fast, &hyper),
            "{:?} split at {cuts:?}:\nfast path {}\nhyper     {}",
            show(&bytes),
            brief(&fast),
            brief(&hyper)
        );
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// A seed of the 32 bytes ChaCha takes, from any text.
fn seed_bytes(text: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (i, b) in text.bytes().enumerate() {
        seed[i % 32] = seed[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    seed
}
