//! The engine against a real loopback server, with no Node involved.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use fetchpool::engine::{CallOptions, Client, ClientConfig, Completion, ErrorKind, RawRequest};
use support::{start_closing_server, start_server, Collect};

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
    let list: Vec<String> = (0..200).map(|i| server.url(&format!("/p/{i}"))).collect();
    let sink = start(&client, 1, &list, CallOptions::default());
    let mut done = sink.wait_for(200);
    assert_eq!(done.len(), 200);
    done.sort_by_key(|c| c.index);
    for (i, c) in done.iter().enumerate() {
        assert_eq!(c.index as usize, i);
        let resp = c.result.as_ref().unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, format!("hello /p/{i}"));
        assert_eq!(resp.headers.to_map()["x-path"], format!("/p/{i}"));
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

/// Starts `list` as batch `id` and returns the sink its completions go to.
fn start(client: &Client, id: u32, list: &[String], opts: CallOptions) -> Arc<Collect> {
    let sink = Arc::new(Collect::default());
    client
        .submit(id, 0, urls(list), Arc::new(opts), sink.clone())
        .unwrap();
    sink
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
    let url = resp.url.as_deref().unwrap_or_default();
    assert!(url.ends_with("/done"), "{url}");

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
    let list: Vec<String> = (0..10).map(|_| server.url("/slow?ms=2000")).collect();
    let sink = start(&client, 8, &list, CallOptions::default());
    std::thread::sleep(Duration::from_millis(100));
    client.cancel(8);
    std::thread::sleep(Duration::from_millis(100));
    assert!(sink.items.lock().unwrap().is_empty());
    assert_eq!(client.stats().in_flight, 0);
    assert_eq!(client.stats().queued, 0);
}

#[test]
fn connections_are_reused_within_and_across_calls() {
    let server = start_server();
    let client = client();
    let opts = Arc::new(CallOptions {
        concurrency: 4,
        ..CallOptions::default()
    });
    for batch in 0..3u32 {
        let sink = Arc::new(Collect::default());
        let list: Vec<String> = (0..50).map(|i| server.url(&format!("/r/{i}"))).collect();
        client
            .submit(20 + batch, 0, urls(&list), opts.clone(), sink.clone())
            .unwrap();
        let done = sink.wait_for(50);
        assert_eq!(done.len(), 50);
        assert!(done
            .iter()
            .all(|c| c.result.as_ref().unwrap().status == 200));
        // Only requests that opened a connection say when it was opened.
        let connected = done.iter().filter(|c| c.timing.connected.is_some()).count();
        if batch == 0 {
            assert!((1..=4).contains(&connected), "{connected} connected");
        } else {
            assert_eq!(connected, 0, "batch {batch} reuses the idle connections");
        }
    }
    // Single requests take an idle connection too.
    for i in 0..5u32 {
        let sink = Arc::new(Collect::default());
        client
            .submit(
                30 + i,
                0,
                urls(&[server.url("/one")]),
                opts.clone(),
                sink.clone(),
            )
            .unwrap();
        let done = sink.wait_for(1);
        assert_eq!(done[0].result.as_ref().unwrap().status, 200);
        assert!(done[0].timing.connected.is_none());
    }
    let opened = server.stats.connections.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&opened),
        "{opened} connections for 155 requests"
    );
}

#[test]
fn connections_closed_by_the_server_are_replaced_and_requests_resent() {
    for per_connection in [1, 5] {
        let (addr, accepted) = start_closing_server(per_connection);
        let client = client();
        let opts = Arc::new(CallOptions {
            concurrency: 3,
            ..CallOptions::default()
        });
        for batch in 0..2u32 {
            let sink = Arc::new(Collect::default());
            let list: Vec<String> = (0..40).map(|i| format!("http://{addr}/c/{i}")).collect();
            client
                .submit(batch, 0, urls(&list), opts.clone(), sink.clone())
                .unwrap();
            let mut done = sink.wait_for(40);
            assert_eq!(done.len(), 40);
            done.sort_by_key(|c| c.index);
            for (i, c) in done.iter().enumerate() {
                let resp = c.result.as_ref().unwrap_or_else(|e| panic!("{i}: {e:?}"));
                assert_eq!(resp.body, format!("hello /c/{i}"));
            }
        }
        assert!(accepted.load(Ordering::SeqCst) >= 80 / per_connection);
        assert_eq!(client.stats().failed, 0);
    }
}
