//! One request from start to finish: retries around redirects around a single
//! exchange, under the call's timeouts.

use std::borrow::Cow;
use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::connect::{capture_connection, CaptureConnection};

use super::alpn::{Entry, Probe};
use super::body::{
    coding_of, read_body, BodyLimits, BodyRead, BodyTarget, Codings, ResponseBody, ACCEPT_ENCODING,
};
use super::classify::classify;
use super::config::CallOptions;
use super::connector::ConnectedAt;
use super::error::{find_in_chain, find_io, ErrorKind, FetchError};
use super::handoff::Handed;
use super::head::add_implied;
use super::lane::{Lane, SendFailure};
use super::limits::{host_key, HostPermit};
use super::network::Network;
use super::proxy::Route;
use super::redirect::{is_origin_bound, next_url, prune_headers, switches_to_get, RedirectPolicy};
use super::request::{parse_url, Request};
use super::response::{Headers, ResponseData, Timing};
use super::retry::{backoff, may_retry_method, retry_after};
use super::save::{Received, SavePlan, Saved};
use super::unprocessed::unprocessed;

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
    // The hop under way, kept out here so that a total timeout, which drops
    // the attempt midway, names it too.
    let mut hop_url = None;
    let run = attempt_loop(net, req, opts, timing, &mut attempts, &mut hop_url, lane);
    let result = match total {
        Some(limit) => match tokio::time::timeout(limit, run).await {
            Ok(result) => result,
            Err(_) => {
                Err(FetchError::new(ErrorKind::TotalTimeout, "Total timeout").at_url(hop_url))
            }
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
    hop_url: &mut Option<String>,
    mut lane: Option<&mut Lane>,
) -> Result<ResponseData, FetchError> {
    let policy = &opts.retry;
    loop {
        *attempts += 1;
        *hop_url = None;
        // With `error_on_status` a failed status arrives as an error; its
        // Retry-After comes back beside it.
        let mut status_wait = None;
        let result = follow_redirects(
            net,
            req,
            opts,
            timing,
            &mut status_wait,
            hop_url,
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
    hop_url: &mut Option<String>,
    lane: Option<&mut Lane>,
) -> Result<ResponseData, FetchError> {
    hops(net, req, opts, timing, status_wait, lane, hop_url)
        .await
        .map_err(|e| e.at_url(hop_url.clone()))
}

/// What the next hop of a request sends, changed by each redirect.
struct Hop<'r> {
    /// The current URL, serialized. A `Url` is made of it only to follow a
    /// redirect; the next hop's target and key are worked out then.
    url: Cow<'r, str>,
    /// The target and key after a redirect; the first hop's were worked out
    /// when the request was checked.
    next: Option<(Uri, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
    /// Set once a redirect leaves the first origin: from then on the
    /// client's credentials and Host are withheld too, as the request's own
    /// are.
    left_origin: bool,
}

impl<'r> Hop<'r> {
    fn first(req: &'r Request) -> Self {
        Hop {
            url: Cow::Borrowed(req.href.as_str()),
            next: None,
            method: req.method.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            left_origin: false,
        }
    }

    fn target<'a>(&'a self, req: &'a Request) -> (&'a Uri, &'a str) {
        match &self.next {
            None => (&req.uri, req.key.as_str()),
            Some((uri, key)) => (uri, key.as_str()),
        }
    }

    /// Moves to `location`, the redirect a response of `status` gave.
    fn redirect(&mut self, status: StatusCode, location: &str) -> Result<(), FetchError> {
        let current = parse_url(&self.url)?;
        let (next, next_uri) = next_url(&current, location)?;
        let drop_body = switches_to_get(status, &self.method);
        if drop_body {
            self.method = Method::GET;
            self.body = Bytes::new();
        }
        self.left_origin |= prune_headers(&mut self.headers, &current, &next, drop_body);
        let key = host_key(next.scheme(), next.host_str().unwrap_or(""), next.port());
        self.next = Some((next_uri, key));
        self.url = Cow::Owned(next.into());
        Ok(())
    }
}

/// One hop's request as it goes out.
struct Outgoing<'a> {
    uri: &'a Uri,
    key: &'a str,
    method: &'a Method,
    fields: &'a HeaderMap,
    body: &'a Bytes,
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
    let mut hop = Hop::first(req);
    let mut redirects = RedirectPolicy::new(opts.redirect, opts.max_redirects);
    let mut save = save_plan(req, &mut hop).await;
    loop {
        let (uri, key) = hop.target(req);
        let route = net.proxies.route(uri);
        let fields = outgoing_fields(net, opts, &route, &hop);
        let out = Outgoing {
            uri,
            key,
            method: &hop.method,
            fields: &fields,
            body: &hop.body,
        };
        // Held until this hop's body is read: the host's share of requests.
        let _host_permit = host_permit(net, key).await;
        let response = send(net, req, opts, timing, lane.as_deref_mut(), &route, &out).await?;
        let status = response.status();
        if let Some(refused) = proxy_auth_refused(status, &route, &hop.url) {
            response.into_body().discard();
            return Err(refused);
        }
        if let Some(location) = redirects.location(status, response.headers(), &hop.url)? {
            response.into_body().discard();
            hop.redirect(status, &location)?;
            *hop_url = Some(hop.url.to_string());
            continue;
        }
        let (parts, mut incoming) = response.into_parts();
        let answers_plan = save.as_ref().is_some_and(|p| p.answered_by(parts.status));
        if opts.error_on_status && !parts.status.is_success() && !answers_plan {
            *status_wait = retry_after(&parts.headers);
            incoming.discard();
            return Err(http_status_error(parts.status, &hop.url));
        }
        let lines = incoming.take_lines();
        let decodes = opts.decompress && hop.method != Method::HEAD;
        let coding = decodes.then(|| coding_of(&parts.headers)).flatten();
        let body = Incoming {
            parts: &parts,
            lines: &lines,
            body: incoming,
            coding,
        };
        let Some((read, saved)) = receive(net, req, opts, &mut save, &mut hop, body).await? else {
            continue;
        };
        return Ok(ResponseData {
            status: parts.status,
            version: parts.version,
            url: final_url(req, hop.url),
            redirected: redirects.followed() > 0,
            headers: response_fields(parts.headers, lines, coding.is_some()),
            body: read.bytes,
            saved_bytes: read.saved,
            saved,
        });
    }
}

/// A download's plan, whose validators and range the request sends.
async fn save_plan<'r>(req: &'r Request, hop: &mut Hop<'_>) -> Option<SavePlan<'r>> {
    let plan = SavePlan::prepare(req.save_to.as_ref()?, &req.save_options, &req.href).await;
    plan.add_headers(&mut hop.headers);
    Some(plan)
}

/// A forwarding proxy's 407: the proxy's refusal, not the origin's answer.
fn proxy_auth_refused(status: StatusCode, route: &Route, url: &str) -> Option<FetchError> {
    (status == StatusCode::PROXY_AUTHENTICATION_REQUIRED
        && matches!(route, Route::Forwarded { .. }))
    .then(|| {
        FetchError::new(
            ErrorKind::Proxy,
            format!("The proxy for {url} requires authentication (407)"),
        )
    })
}

/// The fields a hop sends: the client's, the call's `Accept-Encoding`, a
/// forwarding proxy's credentials and the request's own. A request that adds
/// nothing to the client's fields sends those, made once per client.
fn outgoing_fields<'n>(
    net: &'n Network,
    opts: &CallOptions,
    route: &Route,
    hop: &Hop,
) -> Cow<'n, HeaderMap> {
    let has_body = matches!(hop.method, Method::POST | Method::PUT | Method::PATCH);
    let forwarded_auth = matches!(route, Route::Forwarded { auth: Some(_) });
    let headers = &hop.headers;
    if headers.is_empty() && !has_body && !forwarded_auth && !hop.left_origin {
        return Cow::Borrowed(if opts.decompress {
            &net.decoding_headers
        } else {
            &net.default_headers
        });
    }
    let mut out = HeaderMap::with_capacity(net.default_headers.len() + headers.len() + 1);
    for (name, value) in &net.default_headers {
        let withheld = hop.left_origin && is_origin_bound(name);
        if !withheld && !headers.contains_key(name) {
            out.insert(name, value.clone());
        }
    }
    if opts.decompress && !headers.contains_key(header::ACCEPT_ENCODING) {
        out.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static(ACCEPT_ENCODING),
        );
    }
    if let Route::Forwarded { auth: Some(auth) } = route {
        if !headers.contains_key(header::PROXY_AUTHORIZATION) {
            out.insert(header::PROXY_AUTHORIZATION, auth.clone());
        }
    }
    for (name, value) in headers {
        out.append(name, value.clone());
    }
    // An empty body of a method that has one is still announced, as
    // browsers and undici do (hyper alone would send no length).
    if hop.body.is_empty() && has_body {
        out.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    Cow::Owned(out)
}

/// The host's share of requests, when capped, and the rate limits' wait.
async fn host_permit(net: &Network, key: &str) -> Option<HostPermit> {
    let permit = match &net.host_requests {
        Some(hosts) => Some(hosts.acquire(key.to_string()).await),
        None => None,
    };
    if net.rates.is_limited() {
        net.rates.wait(key).await;
    }
    permit
}

/// Sends one hop on the lane's connection or through the pool, and stamps
/// its timing.
async fn send(
    net: &Network,
    req: &Request,
    opts: &CallOptions,
    timing: &mut Timing,
    lane: Option<&mut Lane>,
    route: &Route,
    out: &Outgoing<'_>,
) -> Result<Response<ResponseBody>, FetchError> {
    // A kept-alive connection found closed sends an idempotent request
    // again, once: a server that took the request and then dropped the
    // connection sees it twice at most, whatever `retry` says.
    let resends = usize::from(is_idempotent(out.method));
    // The first request to an https origin goes alone (see alpn.rs); the
    // protocol it finds tells the others where to go. Without HTTP/2 in
    // Auto mode, every origin speaks HTTP/1.1.
    let mut probe = None;
    let mut speaks_h1 = true;
    if let (Some(gate), Some("https")) = (&net.alpn, out.uri.scheme_str()) {
        match gate.enter(out.key).await {
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
    // A probe that can go on a lane does: the connection it opens serves
    // this request whichever version the origin picks (handoff.rs).
    let to_lanes = net.fast_h1 && *route == Route::Direct;
    let fast = to_lanes
        && req.save_to.is_none()
        && (speaks_h1 || probe.is_some())
        && !out.fields.contains_key(header::TRANSFER_ENCODING);
    let (response, sent_at) = match lane {
        Some(lane) if fast => {
            match send_on_lane(net, opts, timing, lane, out, resends, &mut probe).await? {
                OnLane::Sent(sent) => sent,
                OnLane::SpeaksH2(handed, sent_at) => {
                    let probing = (probe, to_lanes);
                    let (response, _) = send_pooled(net, opts, timing, out, probing, 0).await?;
                    drop(handed);
                    (response, sent_at)
                }
            }
        }
        _ => send_pooled(net, opts, timing, out, (probe, to_lanes), resends).await?,
    };
    timing.first_byte = Some(Instant::now());
    if let Some(ConnectedAt(at)) = response.extensions().get::<ConnectedAt>() {
        if *at >= sent_at {
            timing.connected = Some(*at);
        }
    }
    Ok(response)
}

/// A response and when its request was sent.
type Sent = (Response<ResponseBody>, Instant);

/// What a request sent on a lane came to.
enum OnLane {
    Sent(Sent),
    /// It was the origin's first, and the origin picked HTTP/2: the
    /// connection waits for the pooled client until `Handed` goes. With
    /// when the request was first sent.
    SpeaksH2(Handed, Instant),
}

/// Sends on the lane's own connection; a kept-alive one found closed is
/// resent at once on a new connection, which cannot have gone stale,
/// `resends` times at most.
async fn send_on_lane(
    net: &Network,
    opts: &CallOptions,
    timing: &mut Timing,
    lane: &mut Lane,
    out: &Outgoing<'_>,
    mut resends: usize,
    probe: &mut Option<Probe<'_>>,
) -> Result<OnLane, FetchError> {
    let mut fresh = false;
    loop {
        let sent_at = Instant::now();
        timing.start.get_or_insert(sent_at);
        let (uri, method) = (out.uri, out.method);
        let pending = lane.send(
            net, out.key, uri, method, out.fields, out.body, sent_at, probe, fresh,
        );
        match within_headers_timeout(opts, pending).await? {
            Ok(response) => return Ok(OnLane::Sent((response.map(ResponseBody::Lane), sent_at))),
            Err(SendFailure::SpeaksH2(handed)) => return Ok(OnLane::SpeaksH2(handed, sent_at)),
            Err(SendFailure::Stale(_)) if resends > 0 => {
                resends -= 1;
                fresh = true;
            }
            Err(SendFailure::Stale(err) | SendFailure::Fatal(err)) => return Err(classify(err)),
        }
    }
}

/// Sends through hyper's pool. `probing`: the ALPN probe this request is,
/// if any, and whether the origin's HTTP/1.1 requests go on lanes.
async fn send_pooled(
    net: &Network,
    opts: &CallOptions,
    timing: &mut Timing,
    out: &Outgoing<'_>,
    probing: (Option<Probe<'_>>, bool),
    mut resends: usize,
) -> Result<Sent, FetchError> {
    let (mut probe, to_lanes) = probing;
    let mut unprocessed_resends = UNPROCESSED_RESENDS;
    loop {
        let mut request = http::Request::new(Full::new(out.body.clone()));
        *request.method_mut() = out.method.clone();
        *request.uri_mut() = out.uri.clone();
        *request.headers_mut() = out.fields.clone();
        // Plain http is HTTP/1.1 here: its head follows the fast path's rules.
        if net.plain_h1 && out.uri.scheme_str() == Some("http") {
            add_implied(request.headers_mut(), out.method, out.uri, out.body.len());
        }
        let mut connection = capture_connection(&mut request);
        let sent_at = Instant::now();
        timing.start.get_or_insert(sent_at);
        let sending = net.http.request(request);
        let pending = send_probing(sending, &mut connection, &mut probe, to_lanes);
        match within_headers_timeout(opts, pending).await? {
            Ok(response) => {
                if let Some(probe) = probe.take() {
                    probe.succeeded(response.version() == http::Version::HTTP_2);
                }
                return Ok((response.map(ResponseBody::Pooled), sent_at));
            }
            // A kept-alive connection the server had already closed: the
            // request never reached anyone who answers, so an idempotent
            // one goes again at once on another connection, as browsers
            // and Go's transport do. It is not a retry of `retry`. hyper
            // picks that connection; when it too was closed, the request
            // fails, and `retry` decides.
            Err(err) if resends > 0 && is_stale(&err, &connection, sent_at) => resends -= 1,
            // An HTTP/2 server that turned the request away unprocessed
            // (RFC 9113 §8.7) is asked again, whatever the method. hyper
            // hands out no connection that has received a GOAWAY, so a
            // request it turned away goes on another.
            Err(err) if unprocessed_resends > 0 && unprocessed(&err) => {
                unprocessed_resends -= 1;
            }
            Err(err) => return Err(classify(Box::new(err))),
        }
    }
}

/// A response's head and its body, not yet read.
struct Incoming<'a> {
    parts: &'a http::response::Parts,
    lines: &'a Option<Bytes>,
    body: ResponseBody,
    coding: Option<Codings>,
}

/// Reads the body into memory or to the request's file. None: the file's
/// download starts over (the server ignored the range asked for).
async fn receive(
    net: &Network,
    req: &Request,
    opts: &CallOptions,
    save: &mut Option<SavePlan<'_>>,
    hop: &mut Hop<'_>,
    incoming: Incoming<'_>,
) -> Result<Option<(BodyRead, Option<Saved>)>, FetchError> {
    let Incoming {
        parts,
        lines,
        body,
        coding,
    } = incoming;
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
    let Some(plan) = save.as_mut() else {
        let size_hint = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let pool = net.prefault.as_ref();
        let target = BodyTarget::Memory;
        let read = read_body(body, coding, size_hint, &limits, target, pool).await?;
        return Ok(Some((read, None)));
    };
    let fields = all_fields(&parts.headers, lines);
    match plan
        .receive(parts.status, &fields, body, coding, &limits)
        .await?
    {
        Received::Done(saved, bytes) => Ok(Some((BodyRead::saved(bytes), Some(saved)))),
        Received::Restart => {
            plan.restart(&mut hop.headers).await;
            Ok(None)
        }
    }
}

/// The response's fields as delivered: a decoded body's old length and
/// coding no longer describe it.
fn response_fields(map: HeaderMap, lines: Option<Bytes>, decoded: bool) -> Headers {
    match (lines, decoded) {
        (Some(lines), false) => Headers::Lines(lines),
        (Some(lines), true) => Headers::Lines(without_length_and_coding(&lines)),
        (None, decoded) => {
            let mut map = map;
            if decoded {
                map.remove(header::CONTENT_ENCODING);
                map.remove(header::CONTENT_LENGTH);
            }
            Headers::Map(map)
        }
    }
}

/// The final URL goes back only where it is not the URL as given.
fn final_url(req: &Request, url: Cow<'_, str>) -> Option<String> {
    match url {
        Cow::Borrowed(_) if !req.rewritten => None,
        Cow::Owned(url) if !req.rewritten && url == req.href => None,
        url => Some(url.into_owned()),
    }
}

/// Every field of a response head: a lane's head (see `Headers::Lines`)
/// parses only those the engine reads, and a saved body needs more
/// (validators, Content-Range).
fn all_fields<'h>(parsed: &'h HeaderMap, lines: &Option<Bytes>) -> Cow<'h, HeaderMap> {
    match lines {
        Some(lines) => Cow::Owned(Headers::Lines(lines.clone()).to_map()),
        None => Cow::Borrowed(parsed),
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

/// How many times one exchange goes again after an HTTP/2 server turned it
/// away unprocessed. Many times: a connection that a server closes after
/// so many requests (nginx's `keepalive_requests`) refuses what is in
/// flight beyond them, and a request sent again can meet the same on the
/// next connection while many more are in flight than one connection
/// serves (64 in flight against 10 a connection turned 41 of 200 away
/// with 10 resends); bounded, so that a server refusing everything fails
/// the request.
const UNPROCESSED_RESENDS: u32 = 64;

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
