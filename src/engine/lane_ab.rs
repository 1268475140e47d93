//! An A/B of the fast path's HTTP/1.1 (wire.rs) against lanes that drive
//! hyper's `client::conn::http1` connections directly, with no pool
//! checkout: the same number of lanes, each with one keep-alive connection,
//! sending GETs back to back to one loopback server, at 1 KiB and 64 KiB,
//! over http and https. It measures the HTTP/1.1 layer alone (no JavaScript
//! delivery, which is the same for both), and alternates the two so that a
//! shared machine's noise falls on both.
//!
//!   cargo test --release --lib lane_ab -- --ignored --nocapture
//!
//! `AB_SECONDS` sets each run's length (default 3), `AB_LANES` the lanes
//! (default 64).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

use super::transport::Transport;
use super::wire::{exchange, Conn, Home};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A CA and a localhost certificate it signed, made with openssl.
#[allow(clippy::too_many_lines)] // a test fixture: one openssl script
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ]
    .iter()
    .chain(&[
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=ab-ca",
    ])
    .copied()
    .collect::<Vec<_>>());
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ]
    .iter()
    .chain(&[
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ])
    .copied()
    .collect::<Vec<_>>());
    std::fs::write(dir.join("ext"), "subjectAltName=DNS:localhost\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    )
}

pub(super) struct Tls {
    pub(super) client: Arc<rustls::ClientConfig>,
    pub(super) server: Arc<rustls::ServerConfig>,
}

pub(super) fn tls_configs(dir: &Path) -> Tls {
    let (ca, leaf, key) = make_certs(dir);
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"http/1.1".to_vec()];
    let chain: Vec<_> = CertificateDer::pem_file_iter(&leaf)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::from_pem_file(&key).unwrap())
        .unwrap();
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Tls {
        client: Arc::new(client),
        server: Arc::new(server),
    }
}

/// A keep-alive hyper server answering every request with `size` bytes.
async fn serve(listener: TcpListener, size: usize, tls: Option<Arc<rustls::ServerConfig>>) {
    let body = Bytes::from(vec![b'a'; size]);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let _ = tcp.set_nodelay(true);
        let body = body.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_req| {
                let body = body.clone();
                async move { Ok::<_, Infallible>(hyper::Response::new(Full::new(body))) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(config) => {
                    let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await
                    else {
                        return;
                    };
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
            }
        });
    }
}

#[derive(Clone, Copy, Debug)]
enum Side {
    FastPath,
    HyperLanes,
}

struct Run {
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    size: usize,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
}

async fn connect(run: &Run) -> Transport {
    let tcp = TcpStream::connect(run.addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    match &run.tls {
        Some(config) => Transport::tls(config, "localhost", tcp).await.unwrap(),
        None => Transport::Tcp(tcp),
    }
}

fn request_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static("*/*"));
    headers
}

async fn fast_path_lane(run: Arc<Run>) {
    let scheme = if run.tls.is_some() { "https" } else { "http" };
    let uri: Uri = format!("{scheme}://localhost:{}/", run.addr.port())
        .parse()
        .unwrap();
    let headers = request_headers();
    let body = Bytes::new();
    let home = Home::default();
    let mut conn = Conn::new(Arc::from("ab"), connect(&run).await, Instant::now());
    while !run.stop.load(Ordering::Relaxed) {
        let response = exchange(conn, &home, None, &Method::GET, &uri, &headers, &body)
            .await
            .unwrap_or_else(|failed| panic!("{}", failed.error));
        let got = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(got.len(), run.size);
        run.done.fetch_add(1, Ordering::Relaxed);
        conn = home.lock().unwrap().take().expect("kept alive");
        // The lane's check before reuse, as `Lane::send` makes it.
        assert!(conn.is_reusable());
    }
}

async fn hyper_lane(run: Arc<Run>) {
    let (mut sender, driver) = match connect(&run).await {
        Transport::Tcp(tcp) => {
            let (sender, conn) =
                hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tcp))
                    .await
                    .unwrap();
            (
                sender,
                tokio::spawn(async move {
                    conn.await.ok();
                }),
            )
        }
        Transport::Tls(tls) => {
            let (sender, conn) =
                hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(*tls))
                    .await
                    .unwrap();
            (
                sender,
                tokio::spawn(async move {
                    conn.await.ok();
                }),
            )
        }
    };
    let authority = format!("localhost:{}", run.addr.port());
    while !run.stop.load(Ordering::Relaxed) {
        let mut request = http::Request::get("/").body(Empty::new()).unwrap();
        request.headers_mut().extend(request_headers());
        request
            .headers_mut()
            .insert("host", HeaderValue::from_str(&authority).unwrap());
        sender.ready().await.unwrap();
        let response = sender.send_request(request).await.unwrap();
        let got = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(got.len(), run.size);
        run.done.fetch_add(1, Ordering::Relaxed);
    }
    drop(sender);
    let _ = driver.await;
}

/// Requests per second of `side` with `lanes` lanes for `seconds`.
fn measure(side: Side, addr: SocketAddr, tls: &Option<Tls>, size: usize) -> f64 {
    let lanes = env_or("AB_LANES", 64);
    let seconds = env_or("AB_SECONDS", 3);
    // The client gets one worker thread, the server the other core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let run = Arc::new(Run {
        addr,
        tls: tls.as_ref().map(|t| t.client.clone()),
        size,
        stop: Arc::new(AtomicBool::new(false)),
        done: Arc::new(AtomicU64::new(0)),
    });
    rt.block_on(async {
        let tasks: Vec<_> = (0..lanes)
            .map(|_| match side {
                Side::FastPath => tokio::spawn(fast_path_lane(run.clone())),
                Side::HyperLanes => tokio::spawn(hyper_lane(run.clone())),
            })
            .collect();
        // Connections are up and warm before counting starts.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let start = (Instant::now(), run.done.load(Ordering::Relaxed));
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let done = run.done.load(Ordering::Relaxed) - start.1;
        let rate = done as f64 / start.0.elapsed().as_secs_f64();
        run.stop.store(true, Ordering::Relaxed);
        for task in tasks {
            task.await.unwrap();
        }
        rate
    })
}

#[test]
#[ignore = "a benchmark: cargo test --release --lib lane_ab -- --ignored --nocapture"]
fn fast_path_against_hyper_lanes() {
    let dir = std::env::temp_dir().join(format!("fetchpool-ab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!("scheme\tsize\tfast path req/s\thyper lanes req/s\thyper/fast");
    for tls in [false, true] {
        let configs = tls.then(|| tls_configs(&dir));
        for size in [1024, 64 * 1024] {
            let listener = server_rt
                .block_on(TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let server_tls = configs.as_ref().map(|t| t.server.clone());
            let server = server_rt.spawn(serve(listener, size, server_tls));
            let (mut fast, mut hyper) = (Vec::new(), Vec::new());
            for _ in 0..2 {
                fast.push(measure(Side::FastPath, addr, &configs, size));
                hyper.push(measure(Side::HyperLanes, addr, &configs, size));
            }
            server.abort();
            let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
            let scheme = if tls { "https" } else { "http" };
            println!(
                "{scheme}\t{}K\t{:.0} {fast:.0?}\t{:.0} {hyper:.0?}\t{:.2}",
                size / 1024,
                best(&fast),
                best(&hyper),
                best(&hyper) / best(&fast)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
