//! A loopback hyper server for the engine's tests, and a sink that collects
//! completions.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fetchpool::engine::{Completion, Sink};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Default)]
pub struct ServerStats {
    pub requests: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// Connections accepted.
    pub connections: AtomicUsize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub stats: Arc<ServerStats>,
    _runtime: tokio::runtime::Runtime,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

async fn route(
    req: Request<Incoming>,
    stats: Arc<ServerStats>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let param = |name: &str| -> Option<u64> {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
    };
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let response = match path.as_str() {
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(param("ms").unwrap_or(100))).await;
            Response::new(Full::new(Bytes::from(format!(
                "slow {}",
                param("id").unwrap_or(0)
            ))))
        }
        "/redirect" => {
            let n = param("n").unwrap_or(1);
            let location = if n > 1 {
                format!("/redirect?n={}", n - 1)
            } else {
                "/done".into()
            };
            Response::builder()
                .status(302)
                .header("location", location)
                .body(Full::new(Bytes::new()))
                .unwrap()
        }
        _ => Response::builder()
            .header("x-path", path.clone())
            .body(Full::new(Bytes::from(format!("hello {path}"))))
            .unwrap(),
    };
    stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    Ok(response)
}

pub fn start_server() -> TestServer {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let stats = Arc::new(ServerStats::default());
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let server_stats = stats.clone();
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            server_stats.connections.fetch_add(1, Ordering::SeqCst);
            let stats = server_stats.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| route(req, stats.clone()));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    TestServer {
        addr,
        stats,
        _runtime: runtime,
    }
}

/// Collects completions and wakes a waiter when `expected` have arrived.
#[derive(Default)]
pub struct Collect {
    pub items: Mutex<Vec<Completion>>,
    pub arrived: Notify,
}

impl Sink for Collect {
    fn deliver(&self, completion: Completion) -> bool {
        self.items.lock().unwrap().push(completion);
        self.arrived.notify_one();
        false
    }
}

impl Collect {
    /// Waits (up to 10 s) until `n` completions arrived, or returns what came.
    pub fn wait_for(&self, n: usize) -> Vec<Completion> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if self.items.lock().unwrap().len() >= n {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::mem::take(&mut *self.items.lock().unwrap())
    }
}

/// A bare HTTP/1.1 server that answers `per_connection` requests on each
/// connection and then closes it without saying so (no `Connection: close`),
/// as a server whose keep-alive timeout or request limit just ran out does.
/// Returns its address and its count of accepted connections.
pub fn start_closing_server(per_connection: usize) -> (SocketAddr, Arc<AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                for _ in 0..per_connection {
                    let mut path = String::new();
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if path.is_empty() {
                            path = line.split(' ').nth(1).unwrap_or("").to_string();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let body = format!("hello {path}");
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    if writer
                        .write_all(format!("{head}{body}").as_bytes())
                        .is_err()
                    {
                        return;
                    }
                }
                let _ = writer.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (addr, accepted)
}
