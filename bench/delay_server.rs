//! The delay server of bench/latency.js: answers every HTTP/1.1 request
//! after a fixed delay, on as many connections as the client opens. One
//! tokio thread by default, so the client keeps the other core; a Node
//! server reached its own ceiling at a few thousand connections here, well
//! under concurrency ÷ delay.
//!
//! `cargo run --release --example delay_server -- <delay ms> [threads]`
//! prints its port on stdout, then serves until killed. Each line read on
//! stdin gets one line of JSON on stdout: what the server saw since the last
//! one (see [`Seen`]), so a harness can tell the server's own lateness from
//! the client's.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\ncontent-type: text/plain\r\n\r\naaaaaaaaaaaaaaaa";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let delay = Duration::from_millis(args.next().and_then(|a| a.parse().ok()).unwrap_or(100));
    let threads = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    std::thread::spawn(report_on_request);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?
        .block_on(serve(delay))
}

/// Listeners sharing the port (SO_REUSEPORT): each has its own accept
/// queue, capped by net.core.somaxconn (4096 here), which one queue's worth
/// of connections opened at once overflows. A dropped SYN is sent again
/// only after a second, which would be charged to the client.
const LISTENERS: usize = 4;

async fn serve(delay: Duration) -> std::io::Result<()> {
    let first = listener(0)?;
    let port = first.local_addr()?.port();
    let mut listeners = vec![first];
    for _ in 1..LISTENERS {
        listeners.push(listener(port)?);
    }
    println!("{port}");
    let mut tasks = Vec::new();
    for listener in listeners {
        tasks.push(tokio::spawn(accept(listener, delay)));
    }
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

fn listener(port: u16) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(8192)
}

async fn accept(listener: TcpListener, delay: Duration) {
    loop {
        // Out of descriptors or a reset before accept: the next one may do.
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        tokio::spawn(connection(stream, delay));
    }
}

/// Reads request heads (bodies are not expected) and answers each after
/// `delay`, one at a time, as a keep-alive HTTP/1.1 server does.
async fn connection(mut stream: TcpStream, delay: Duration) {
    let _ = stream.set_nodelay(true);
    SEEN.connections.fetch_add(1, Ordering::Relaxed);
    let at = since_start(Instant::now());
    SEEN.first_accept.fetch_min(at, Ordering::Relaxed);
    SEEN.last_accept.fetch_max(at, Ordering::Relaxed);
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut answered: Option<Instant> = None;
    loop {
        while let Some(end) = head_end(&buf) {
            buf.drain(..end);
            let read = Instant::now();
            if let Some(at) = answered {
                SEEN.gap.add(read - at);
            }
            let due = read + delay;
            tokio::time::sleep_until(due.into()).await;
            if stream.write_all(RESPONSE).await.is_err() {
                return;
            }
            let now = Instant::now();
            SEEN.late.add(now.saturating_duration_since(due));
            answered = Some(now);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A sum, a count and a maximum of durations, in microseconds.
struct Tally {
    sum: AtomicU64,
    count: AtomicU64,
    max: AtomicU64,
}

impl Tally {
    const fn new() -> Self {
        Tally {
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }

    fn add(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum.fetch_add(us, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(us, Ordering::Relaxed);
    }

    /// `"name":{"n":…,"meanUs":…,"maxUs":…}`, and starts again.
    fn take(&self, name: &str) -> String {
        let sum = self.sum.swap(0, Ordering::Relaxed);
        let n = self.count.swap(0, Ordering::Relaxed);
        let max = self.max.swap(0, Ordering::Relaxed);
        let mean = sum.checked_div(n).unwrap_or(0);
        format!("\"{name}\":{{\"n\":{n},\"meanUs\":{mean},\"maxUs\":{max}}}")
    }
}

/// What the server saw. `late`: from when a response was due (its request
/// read, plus the delay) to when it was written, the server's own lateness.
/// `gap`: from a response written to the next request on that connection
/// read, the client's turn (and the time the request waited for the
/// server to read it). A round of the client costs about delay + late + gap.
struct Seen {
    connections: AtomicU64,
    /// The first and last connection accepted, in µs since [`START`]: how
    /// fast the client opened them.
    first_accept: AtomicU64,
    last_accept: AtomicU64,
    late: Tally,
    gap: Tally,
}

static SEEN: Seen = Seen {
    connections: AtomicU64::new(0),
    first_accept: AtomicU64::new(u64::MAX),
    last_accept: AtomicU64::new(0),
    late: Tally::new(),
    gap: Tally::new(),
};

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn since_start(at: Instant) -> u64 {
    let start = *START.get_or_init(Instant::now);
    u64::try_from(at.saturating_duration_since(start).as_micros()).unwrap_or(u64::MAX)
}

fn report_on_request() {
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            return;
        }
        let connections = SEEN.connections.swap(0, Ordering::Relaxed);
        let first = SEEN.first_accept.swap(u64::MAX, Ordering::Relaxed);
        let last = SEEN.last_accept.swap(0, Ordering::Relaxed);
        let span = last.saturating_sub(first);
        let late = SEEN.late.take("late");
        let gap = SEEN.gap.take("gap");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{{\"connections\":{connections},\"acceptSpanUs\":{span},{late},{gap}}}"
        );
        let _ = out.flush();
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}
