//! The delay server of bench/latency.js: answers every HTTP/1.1 request
//! after a fixed delay, on as many connections as the client opens. One
//! tokio thread by default, so the client keeps the other core; a Node
//! server reached its own ceiling at a few thousand connections here, well
//! under concurrency ÷ delay.
//!
//! `cargo run --release --example delay_server -- <delay ms> [threads]`
//! prints its port on stdout, then serves until killed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\ncontent-type: text/plain\r\n\r\naaaaaaaaaaaaaaaa";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let delay = Duration::from_millis(args.next().and_then(|a| a.parse().ok()).unwrap_or(100));
    let threads = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
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
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(end) = head_end(&buf) {
            buf.drain(..end);
            tokio::time::sleep(delay).await;
            if stream.write_all(RESPONSE).await.is_err() {
                return;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}
