//! Test support: a loopback server that answers one request with scripted
//! bytes, and the response as the fast path (wire.rs) reads it, for the
//! unit tests of what sits on top (body limits and decoding).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Response, Uri};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::transport::Transport;
use super::wire::{exchange, Conn, Home, WireBody};

/// Accepts one connection, reads a request head, writes each of `pieces`
/// in its own write and closes.
pub async fn serve_once(pieces: Vec<Vec<u8>>) -> SocketAddr {
    serve_paced(pieces, Duration::ZERO).await
}

/// [`serve_once`], waiting `pause` between pieces, so that each arrives
/// on its own.
pub async fn serve_paced(pieces: Vec<Vec<u8>>, pause: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
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
        for (i, piece) in pieces.into_iter().enumerate() {
            if i > 0 && !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            if socket.write_all(&piece).await.is_err() {
                return;
            }
        }
        let _ = socket.shutdown().await;
    });
    addr
}

/// The response to a GET of a server that sends `pieces`, read on the
/// fast path; the connection goes to `home` if it is reusable.
pub async fn fetch_on_lane(pieces: Vec<Vec<u8>>, home: &Home) -> Response<WireBody> {
    fetch_on_lane_with(pieces, home, &HeaderMap::new()).await
}

/// [`fetch_on_lane`], with the request's `fields`.
pub async fn fetch_on_lane_with(
    pieces: Vec<Vec<u8>>,
    home: &Home,
    fields: &HeaderMap,
) -> Response<WireBody> {
    fetch_paced(pieces, Duration::ZERO, home, fields).await
}

/// [`fetch_on_lane_with`], the server waiting `pause` between pieces.
pub async fn fetch_paced(
    pieces: Vec<Vec<u8>>,
    pause: Duration,
    home: &Home,
    fields: &HeaderMap,
) -> Response<WireBody> {
    let addr = serve_paced(pieces, pause).await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let conn = Conn::new(Arc::from("loopback"), Transport::Tcp(tcp), Instant::now());
    let uri: Uri = format!("http://{addr}/").parse().expect("uri");
    let body = Bytes::new();
    match exchange(conn, home, None, &Method::GET, &uri, fields, &body).await {
        Ok(response) => response,
        Err(failed) => panic!("exchange failed: {}", failed.error),
    }
}
