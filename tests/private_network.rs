//! The address filter on every hop: a server the filter allows redirects to
//! one it refuses, and the second must see nothing. On loopback, 127.0.0.2
//! stands for the private network and 127.0.0.1 for the public one.

// This test uses only the completion sink of the shared support module.
#[allow(dead_code)]
mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fetchpool::engine::{CallOptions, Client, ClientConfig, RawRequest};
use support::Collect;

const REFUSED: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn allowed(ip: IpAddr) -> bool {
    ip != REFUSED
}

/// Answers every connection on `listener` with `response`.
fn serve(listener: TcpListener, response: String) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(response.as_bytes());
        }
    });
}

/// Counts the bytes that reach `listener`.
fn count_bytes(listener: TcpListener) -> Arc<AtomicUsize> {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                counter.fetch_add(n, Ordering::SeqCst);
            }
        }
    });
    seen
}

#[test]
fn a_redirect_to_a_refused_address_is_refused_before_a_byte_is_sent() {
    let private = TcpListener::bind((REFUSED, 0)).unwrap();
    let private_port = private.local_addr().unwrap().port();
    let seen = count_bytes(private);
    let public = TcpListener::bind("127.0.0.1:0").unwrap();
    let public_url = format!("http://{}/start", public.local_addr().unwrap());
    serve(
        public,
        format!(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:{private_port}/meta\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    );
    let client = Client::new(ClientConfig {
        workers: 1,
        address_filter: Some(allowed),
        ..ClientConfig::default()
    })
    .unwrap();
    let sink = Arc::new(Collect::default());
    client
        .submit(
            1,
            0,
            vec![RawRequest::get(public_url)],
            Arc::new(CallOptions::default()),
            sink.clone(),
        )
        .unwrap();
    let done = sink.wait_for(1).pop().expect("one completion");
    let err = done.result.unwrap_err();
    assert_eq!(err.code(), "ERR_PRIVATE_NETWORK");
    assert_eq!(
        err.url(),
        Some(format!("http://127.0.0.2:{private_port}/meta").as_str())
    );
    // The address is refused before connecting: nothing, not even a
    // connection, reaches it. Anything sent would have been sent by now.
    drop(client);
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}
