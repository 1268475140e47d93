//! One request from start to finish: retries around redirects around a single
//! exchange, under the call's timeouts.

use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::connect::{capture_connection, CaptureConnection};

use super::alpn::{Entry, Probe};
use super::body::{
    coding_of, read_body, BodyLimits, BodyRead, BodyTarget, ResponseBody, ACCEPT_ENCODING,
};
use super::classify::classify;
use super::config::{CallOptions, RedirectMode};
use super::connector::ConnectedAt;
use super::error::{find_in_chain, find_io, ErrorKind, FetchError};
use super::lane::{Lane, SendFailure};
use super::limits::host_key;
use super::network::Network;
use super::proxy::Route;
use super::redirect::{is_origin_bound, is_redirect, next_url, prune_headers, switches_to_get};
use super::request::{parse_url, Request};
use super::response::{Headers, ResponseData, Timing};
use super::retry::{backoff, may_retry_method, retry_after};
use super::save::{Received, SavePlan};

/// Runs `req` to completion. Returns the outcome and the number of attempts.
pub async fn execute(
    net: &Network,
    req: &Request,
    opts: &CallOptions,
    timing: &mut Timing,
    lane: Option<&mut Lane>,
) -> (Result<ResponseData, FetchError>, u32) {
    let total = req.timeout.or(opts.total_timeout);
    let mut attempts = 0;
    let run = attempt_loop(net, req, opts, timing, &mut attempts, lane);
    let result = match total {
        Some(limit) => match tokio::time::timeout(limit, run).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::new(ErrorKind::TotalTimeout, "Total timeout")),
        },
        None => run.await,
    };
    timing.end = Some(Instant::now());
    (result, attempts.max(1))
}

async fn attempt_loop(
    net: &Network,
    req: &Request,
    opts: &CallOptions,
    timing: &mut Timing,
    attempts: &mut u32,
    mut lane: Option<&mut Lane>,
) -> Result<ResponseData, FetchError> {
    let policy = &opts.retry;
    loop {
        *attempts += 1;
        // With `error_on_status` a failed status arrives as an error; its
        // Retry-After comes back beside it.
        let mut status_wait = None;
        let result = follow_redirects(
            net,
            req,
            opts,
            timing,
            &mut status_wait,
            lane.as_deref_mut(),
        )
        .await;
        let retries_left = *attempts <= policy.retries && may_retry_method(policy, &req.method);
        if !retries_left {
            return result;
        }
        let server_wait = match &result {
            Ok(resp) if policy.statuses.contains(&resp.status.as_u16()) => {
                retry_after(&resp.headers.to_map())
            }
            Err(e) if matches!(e.kind(), ErrorKind::HttpStatus(s) if policy.statuses.contains(s)) => {
                status_wait
            }
            Err(e) if policy.codes.iter().any(|c| c == e.code()) => None,
            _ => return result,
        };
        let wait = backoff(policy, *attempts, server_wait);
        tokio::time::sleep(wait).await;
    }
}

/// Follows the request's redirects; an error names the hop that failed.
async fn follow_redirects(
    net: &Network,
    req: &Request,
    opts: &CallOptions,
    timing: &mut Timing,
    status_wait: &mut Option<std::time::Duration>,
    lane: Option<&mut Lane>,
) -> Result<ResponseData, FetchError> {
    let mut hop_url = None;
    hops(net, req, opts, timing, status_wait, lane, &mut hop_url)
        .await
        .map_err(|e| e.at_url(hop_url))
}

async fn hops(
    net: &Network,
    req: &Request,
    opts: &CallOptions,
    timing: &mut Timing,
    status_wait: &mut Option<std::time::Duration>,
    mut lane: Option<&mut Lane>,
    hop_url: &mut Option<String>,
) -> Result<ResponseData, FetchError> {
    // The current URL, serialized. A `Url` is made of it only to follow a
    // redirect; the next hop's target and key are worked out then.
    let mut url = std::borrow::Cow::Borrowed(req.href.as_str());
    let mut next_hop: Option<(Uri, String)> = None;
    let mut method = req.method.clone();
    let mut headers = req.headers.clone();
    let mut body = req.body.clone();
    let mut redirects = 0u32;
    // Set once a redirect leaves the first origin: from then on the client's
    // credentials and Host are withheld too, as the request's own are.
    let mut left_origin = false;
    let mut save = match &req.save_to {
        Some(path) => Some(SavePlan::prepare(path, &req.save_options, &req.href).await),
        None => None,
    };
    if let Some(plan) = &save {
        plan.add_headers(&mut headers);
    }
    loop {
        // The first hop's target was worked out when the request was checked.
        let (uri, key) = match &next_hop {
            None => (&req.uri, req.key.as_str()),
            Some((uri, key)) => (uri, key.as_str()),
        };
        let route = net.proxies.route(uri);
        let has_body = matches!(method, Method::POST | Method::PUT | Method::PATCH);
        let forwarded_auth = matches!(route, Route::Forwarded { auth: Some(_) });
        // A request that adds nothing to the client's fields sends those, made
        // once per client.
        let out_headers = if headers.is_empty() && !has_body && !forwarded_auth && !left_origin {
            std::borrow::Cow::Borrowed(if opts.decompress {
                &net.decoding_headers
            } else {
                &net.default_headers
            })
        } else {
            let mut out_headers =
                HeaderMap::with_capacity(net.default_headers.len() + headers.len() + 1);
            for (name, value) in &net.default_headers {
                let withheld = left_origin && is_origin_bound(name);
                if !withheld && !headers.contains_key(name) {
                    out_headers.insert(name, value.clone());
                }
            }
            if opts.decompress && !headers.contains_key(header::ACCEPT_ENCODING) {
                out_headers.insert(
                    header::ACCEPT_ENCODING,
                    HeaderValue::from_static(ACCEPT_ENCODING),
                );
            }
            if let Route::Forwarded { auth: Some(auth) } = &route {
                if !headers.contains_key(header::PROXY_AUTHORIZATION) {
                    out_headers.insert(header::PROXY_AUTHORIZATION, auth.clone());
                }
            }
            for (name, value) in &headers {
                out_headers.append(name, value.clone());
            }
            // An empty body of a method that has one is still announced, as
            // browsers and undici do (hyper alone would send no length).
            if body.is_empty() && has_body {
                out_headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            }
            std::borrow::Cow::Owned(out_headers)
        };
        let make_request = || {
            let mut request = http::Request::new(Full::new(body.clone()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = out_headers.as_ref().clone();
            request
        };

        // Held until this hop's body is read: the host's share of requests.
        let _host_permit = match &net.host_requests {
            Some(hosts) => Some(hosts.acquire(key.to_string()).await),
            None => None,
        };
        if net.rates.is_limited() {
            net.rates.wait(key).await;
        }

        // Each stale connection fails once and leaves the pool, so resending
        // ends by the time the idle connections to this host are used up.
        let mut resends_left = if is_idempotent(&method) {
            net.max_idle_per_host + 1
        } else {
            0
        };
        // The first request to an https origin goes alone (see alpn.rs); the
        // protocol it finds tells the others where to go. Without HTTP/2 in
        // Auto mode, every origin speaks HTTP/1.1.
        let https = uri.scheme_str() == Some("https");
        let mut probe = None;
        let mut speaks_h1 = true;
        if let (Some(gate), true) = (&net.alpn, https) {
            match gate.enter(key).await {
                Entry::Probe(first) => {
                    probe = Some(first);
                    speaks_h1 = false;
                }
                Entry::Known { h2 } => speaks_h1 = !h2,
            }
        }
        // Direct HTTP/1.1 exchanges go on the lane's own connection. A
        // request body of its own framing (`Transfer-Encoding`) goes through
        // hyper, which encodes it. So does a body saved to a file: a lane
        // reads a body of known length whole before handing any of it on,
        // so a break would leave nothing on disk to resume from, and the
        // write then copies it out of cache (twice the CPU per MiB, and half
        // the throughput, in bench/download.js) where hyper's pieces are
        // written as they arrive.
        let to_lanes = net.fast_h1 && route == Route::Direct;
        let fast_lane = match lane.as_deref_mut() {
            Some(lane)
                if to_lanes
                    && req.save_to.is_none()
                    && speaks_h1
                    && method != Method::CONNECT
                    && !out_headers.contains_key(header::TRANSFER_ENCODING) =>
            {
                Some(lane)
            }
            _ => None,
        };
        let (response, sent_at) = if let Some(lane) = fast_lane {
            loop {
                let sent_at = Instant::now();
                timing.start.get_or_insert(sent_at);
                let pending = lane.send(net, key, uri, &method, &out_headers, &body, sent_at);
                let result = within_headers_timeout(opts, pending).await?;
                match result {
                    Ok(response) => break (response.map(ResponseBody::Lane), sent_at),
                    Err(SendFailure::Stale(_)) if resends_left > 0 => {
                        resends_left -= 1;
                    }
                    Err(SendFailure::Stale(err) | SendFailure::Fatal(err)) => {
                        return Err(classify(err))
                    }
                }
            }
        } else {
            loop {
                let mut request = make_request();
                let mut connection = capture_connection(&mut request);
                let sent_at = Instant::now();
                timing.start.get_or_insert(sent_at);
                let pending = send_probing(
                    net.http.request(request),
                    &mut connection,
                    &mut probe,
                    to_lanes,
                );
                let result = within_headers_timeout(opts, pending).await?;
                match result {
                    Ok(response) => {
                        if let Some(probe) = probe.take() {
                            probe.succeeded(response.version() == http::Version::HTTP_2);
                        }
                        break (response.map(ResponseBody::Pooled), sent_at);
                    }
                    // A kept-alive connection the server had already closed: the
                    // request never reached anyone who answers, so an idempotent
                    // one goes again at once on another connection, as browsers
                    // and Go's transport do. It is not a retry of `retry`.
                    Err(err) if resends_left > 0 && is_stale(&err, &connection, sent_at) => {
                        resends_left -= 1;
                    }
                    Err(err) => return Err(classify(Box::new(err))),
                }
            }
        };
        timing.first_byte = Some(Instant::now());
        if let Some(ConnectedAt(at)) = response.extensions().get::<ConnectedAt>() {
            if *at >= sent_at {
                timing.connected = Some(*at);
            }
        }

        let status = response.status();
        if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED
            && matches!(route, Route::Forwarded { .. })
        {
            response.into_body().discard();
            return Err(FetchError::new(
                ErrorKind::Proxy,
                format!("The proxy for {url} requires authentication (407)"),
            ));
        }
        if is_redirect(status) && opts.redirect != RedirectMode::Manual {
            if let Some(location) = response.headers().get(header::LOCATION) {
                if opts.redirect == RedirectMode::Error {
                    return Err(FetchError::new(
                        ErrorKind::TooManyRedirects,
                        format!("Redirect from {url} refused (redirect: 'error')"),
                    ));
                }
                redirects += 1;
                if redirects > opts.max_redirects {
                    return Err(FetchError::new(
                        ErrorKind::TooManyRedirects,
                        format!("More than {} redirects", opts.max_redirects),
                    ));
                }
                let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
                let current = parse_url(&url)?;
                let (next, next_uri) = next_url(&current, &location)?;
                response.into_body().discard();
                let drop_body = switches_to_get(status, &method);
                if drop_body {
                    method = Method::GET;
                    body = Bytes::new();
                }
                left_origin |= prune_headers(&mut headers, &current, &next, drop_body);
                let key = host_key(next.scheme(), next.host_str().unwrap_or(""), next.port());
                next_hop = Some((next_uri, key));
                url = std::borrow::Cow::Owned(next.into());
                *hop_url = Some(url.to_string());
                continue;
            }
        }

        let (parts, mut incoming) = response.into_parts();
        let answers_plan = save.as_ref().is_some_and(|p| p.answered_by(parts.status));
        if opts.error_on_status && !parts.status.is_success() && !answers_plan {
            *status_wait = retry_after(&parts.headers);
            incoming.discard();
            return Err(http_status_error(parts.status, &url));
        }
        let coding = if opts.decompress && method != Method::HEAD {
            coding_of(&parts.headers)
        } else {
            None
        };
        let size_hint = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // A body in memory and one on disk have separate defaults; a
        // request's own limit applies to either.
        let default_max = match req.save_to {
            Some(_) => opts.max_save_size,
            None => opts.max_body_size,
        };
        let limits = BodyLimits {
            max_size: req.max_body_size.or(default_max),
            idle: opts.body_timeout,
            min_speed: opts.min_speed,
        };
        let pool = net.prefault.as_ref();
        let lines = incoming.take_lines();
        let (read, saved) = match save.as_mut() {
            None => {
                let target = BodyTarget::Memory;
                let read = read_body(incoming, coding, size_hint, &limits, target, pool).await?;
                (read, None)
            }
            Some(plan) => match plan
                .receive(
                    parts.status,
                    &all_fields(&parts.headers, &lines),
                    incoming,
                    coding,
                    &limits,
                )
                .await?
            {
                Received::Done(saved, bytes) => (BodyRead::saved(bytes), Some(saved)),
                Received::Restart => {
                    plan.restart(&mut headers).await;
                    continue;
                }
            },
        };
        let headers = match (lines, coding.is_some()) {
            (Some(lines), false) => Headers::Lines(lines),
            (Some(lines), true) => Headers::Lines(without_length_and_coding(&lines)),
            (None, decoded) => {
                let mut map = parts.headers;
                if decoded {
                    // The body is decoded: its old length and coding no longer describe it.
                    map.remove(header::CONTENT_ENCODING);
                    map.remove(header::CONTENT_LENGTH);
                }
                Headers::Map(map)
            }
        };
        // The final URL goes back only where it is not the URL as given.
        let url = match url {
            std::borrow::Cow::Borrowed(_) if !req.rewritten => None,
            std::borrow::Cow::Owned(url) if !req.rewritten && url == req.href => None,
            url => Some(url.into_owned()),
        };
        return Ok(ResponseData {
            status: parts.status,
            version: parts.version,
            url,
            redirected: redirects > 0,
            headers,
            body: read.bytes,
            saved_bytes: read.saved,
            saved,
        });
    }
}

/// Every field of a response head: a lane's head (see `Headers::Lines`)
/// parses only those the engine reads, and a saved body needs more
/// (validators, Content-Range).
fn all_fields<'h>(parsed: &'h HeaderMap, lines: &Option<Bytes>) -> std::borrow::Cow<'h, HeaderMap> {
    match lines {
        Some(lines) => std::borrow::Cow::Owned(Headers::Lines(lines.clone()).to_map()),
        None => std::borrow::Cow::Borrowed(parsed),
    }
}

/// Field lines (see `Headers::Lines`) less `Content-Length` and
/// `Content-Encoding`, which no longer describe a decoded body.
fn without_length_and_coding(lines: &[u8]) -> Bytes {
    let mut kept = Vec::with_capacity(lines.len());
    for line in lines.split_inclusive(|&b| b == b'\n') {
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        if !name.eq_ignore_ascii_case(b"content-length")
            && !name.eq_ignore_ascii_case(b"content-encoding")
        {
            kept.extend_from_slice(line);
        }
    }
    Bytes::from(kept)
}

/// Awaits the response. A probe (see alpn.rs) succeeds as soon as hyper has
/// a connection for the request: an HTTP/2 one is in the pool to share by
/// then, and the requests waiting behind the probe need not wait for the
/// response too. An HTTP/1.1 one is not kept for later when `to_lanes`:
/// the origin's next requests go on lanes' connections, and it would only
/// wait, open, until the pool's idle timeout.
async fn send_probing<R>(
    sending: impl std::future::Future<Output = R>,
    connection: &mut CaptureConnection,
    probe: &mut Option<Probe<'_>>,
    to_lanes: bool,
) -> R {
    if probe.is_none() {
        return sending.await;
    }
    tokio::pin!(sending);
    tokio::select! {
        biased;
        result = &mut sending => return result,
        connected = connection.wait_for_connection_metadata() => {
            // None: the request was dropped unconnected; `sending` has the error.
            if let Some(connected) = connected.as_ref() {
                if let Some(probe) = probe.take() {
                    let h2 = connected.is_negotiated_h2();
                    if !h2 && to_lanes {
                        connected.poison();
                    }
                    probe.succeeded(h2);
                }
            }
        }
    }
    sending.await
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Whether `err` is a pooled connection found closed: it was opened before this
/// request was sent, and it ended before any response came back.
fn is_stale(
    err: &hyper_util::client::legacy::Error,
    connection: &CaptureConnection,
    sent_at: Instant,
) -> bool {
    let reused = connection.connection_metadata().as_ref().is_some_and(|c| {
        let mut extras = http::Extensions::new();
        c.get_extras(&mut extras);
        extras
            .get::<ConnectedAt>()
            .is_some_and(|ConnectedAt(at)| *at < sent_at)
    });
    if !reused || err.is_connect() {
        return false;
    }
    let closed = find_in_chain::<hyper::Error>(err)
        .is_some_and(|e| e.is_incomplete_message() || e.is_canceled() || e.is_closed());
    let reset = find_io(err).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionAborted
        )
    });
    closed || reset
}

fn http_status_error(status: StatusCode, url: &str) -> FetchError {
    FetchError::new(
        ErrorKind::HttpStatus(status.as_u16()),
        format!("Request failed with status {} ({url})", status.as_u16()),
    )
}

/// Waits for a response head under the call's `headers` timeout.
async fn within_headers_timeout<T>(
    opts: &CallOptions,
    pending: impl std::future::Future<Output = T>,
) -> Result<T, FetchError> {
    match opts.headers_timeout {
        Some(limit) => tokio::time::timeout(limit, pending)
            .await
            .map_err(|_| FetchError::new(ErrorKind::HeadersTimeout, "Headers timeout")),
        None => Ok(pending.await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_bodies_lose_their_length_and_coding_lines() {
        let lines =
            b"Content-Encoding: gzip\r\nVary: Accept-Encoding\r\ncontent-length:12\nX: y\r\n";
        assert_eq!(
            &without_length_and_coding(lines)[..],
            b"Vary: Accept-Encoding\r\nX: y\r\n"
        );
    }
}
