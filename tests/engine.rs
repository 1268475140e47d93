//! The engine against a real loopback server, with no Node involved.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use fetchpool::engine::{CallOptions, Client, ClientConfig, Completion, ErrorKind, RawRequest};
use support::{start_server, Collect};

fn client() -> Client {
    Client::new(ClientConfig {
        workers: 2,
        ..ClientConfig::default()
    })
    .unwrap()
}

fn urls(items: &[String]) -> Vec<RawRequest> {
    items.iter().map(|u| RawRequest::get(u.clone())).collect()
}

#[test]
fn a_batch_completes_every_request_with_its_index() {
    let server = start_server();
    let client = client();
    let sink = Arc::new(Collect::default());
    let list: Vec<String> = (0..200).map(|i| server.url(&format!("/p/{i}"))).collect();
    client
        .submit(
            1,
            0,
            urls(&list),
            Arc::new(CallOptions::default()),
            sink.clone(),
        )
        .unwrap();
    let mut done = sink.wait_for(200);
    assert_eq!(done.len(), 200);
    done.sort_by_key(|c| c.index);
    for (i, c) in done.iter().enumerate() {
        assert_eq!(c.index as usize, i);
        let resp = c.result.as_ref().unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, format!("hello /p/{i}"));
        assert_eq!(resp.headers["x-path"], format!("/p/{i}"));
    }
    let stats = client.stats();
    assert_eq!(stats.done, 200);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.queued, 0);
}

#[test]
fn concurrency_bounds_the_requests_in_flight() {
    let server = start_server();
    let client = client();
    let sink = Arc::new(Collect::default());
    let list: Vec<String> = (0..30).map(|_| server.url("/slow?ms=20")).collect();
    let opts = CallOptions {
        concurrency: 4,
        ..CallOptions::default()
    };
    client
        .submit(2, 0, urls(&list), Arc::new(opts), sink.clone())
        .unwrap();
    assert_eq!(sink.wait_for(30).len(), 30);
    let max = server.stats.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=4).contains(&max), "max in flight {max}");
}

#[test]
fn fail_fast_delivers_one_error_and_cancels_the_rest() {
    let server = start_server();
    let client = client();
    let sink = Arc::new(Collect::default());
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut list: Vec<String> = (0..3).map(|_| server.url("/slow?ms=2000")).collect();
    list.push(format!("http://127.0.0.1:{refused}/"));
    list.extend((0..20).map(|_| server.url("/slow?ms=2000")));
    let opts = CallOptions {
        concurrency: 4,
        ..CallOptions::default()
    };
    client
        .submit(3, 0, urls(&list), Arc::new(opts), sink.clone())
        .unwrap();
    let first = sink.wait_for(1);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].index, 3);
    assert_eq!(first[0].result.as_ref().unwrap_err().code(), "ECONNREFUSED");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        sink.items.lock().unwrap().is_empty(),
        "nothing after the first error"
    );
    // The server cannot tell a dropped request from a slow one; the client can.
    assert_eq!(client.stats().in_flight, 0);
    assert!(server.stats.requests.load(Ordering::SeqCst) <= 4);
}

#[test]
fn a_malformed_single_request_is_refused_before_sending() {
    let client = client();
    let sink = Arc::new(Collect::default());
    let err = client
        .submit(
            4,
            0,
            vec![RawRequest::get("nope")],
            Arc::new(CallOptions::default()),
            sink,
        )
        .unwrap_err();
    assert_eq!(err.code(), "ERR_INVALID_URL");
}

/// Runs one request as batch `id` and waits for its completion.
fn fetch_one(client: &Client, id: u32, url: String, opts: CallOptions) -> Completion {
    let sink = Arc::new(Collect::default());
    client
        .submit(
            id,
            0,
            vec![RawRequest::get(url)],
            Arc::new(opts),
            sink.clone(),
        )
        .unwrap();
    sink.wait_for(1).pop().expect("one completion")
}

#[test]
fn timeouts_and_redirects() {
    let server = start_server();
    let client = client();
    let late = CallOptions {
        headers_timeout: Some(Duration::from_millis(50)),
        ..CallOptions::default()
    };
    let done = fetch_one(&client, 5, server.url("/slow?ms=1000"), late);
    assert_eq!(done.result.unwrap_err().kind(), &ErrorKind::HeadersTimeout);

    let done = fetch_one(
        &client,
        6,
        server.url("/redirect?n=3"),
        CallOptions::default(),
    );
    let resp = done.result.unwrap();
    assert!(resp.redirected);
    assert_eq!(resp.url.path(), "/done");

    let few = CallOptions {
        max_redirects: 2,
        ..CallOptions::default()
    };
    let done = fetch_one(&client, 7, server.url("/redirect?n=3"), few);
    assert_eq!(done.result.unwrap_err().code(), "ERR_TOO_MANY_REDIRECTS");
}

#[test]
fn cancelling_a_batch_silences_it() {
    let server = start_server();
    let client = client();
    let sink = Arc::new(Collect::default());
    let list: Vec<String> = (0..10).map(|_| server.url("/slow?ms=2000")).collect();
    client
        .submit(
            8,
            0,
            urls(&list),
            Arc::new(CallOptions::default()),
            sink.clone(),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    client.cancel(8);
    std::thread::sleep(Duration::from_millis(100));
    assert!(sink.items.lock().unwrap().is_empty());
    assert_eq!(client.stats().in_flight, 0);
    assert_eq!(client.stats().queued, 0);
}
