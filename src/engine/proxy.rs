//! Forward proxies: which requests go through one (hyper-util's matcher, with
//! curl's `NO_PROXY` rules), and the connector that reaches the destination
//! through it — a CONNECT tunnel (hyper-util's `Tunnel`) for https, plain
//! forwarding with absolute-form request URIs for http. The per-host
//! connection cap is taken here too, keyed by the destination, so it means the
//! same with and without a proxy.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Uri};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use tower_service::Service;

use super::config::ProxyConfig;
use super::connector::{TcpConnector, TimedStream};
use super::error::{FetchError, InvalidInput};
use super::limits::{host_key, HostSemaphores};
use super::userinfo::without_userinfo;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Marks a failure to reach the destination through the proxy: the proxy
/// refused the connection, rejected the CONNECT or asked for credentials.
#[derive(Debug)]
pub struct ProxyError(pub BoxError);

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "proxy: {}", self.0)
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

fn proxy_error(err: impl Into<BoxError>) -> BoxError {
    Box::new(ProxyError(err.into()))
}

/// Which requests use which proxy.
pub struct Proxies {
    matcher: Option<Matcher>,
}

/// Checks one proxy URL (absolute, `http:`, with a host) and gives it back
/// as WHATWG serializes it, user info percent-encoded. hyper-util's matcher
/// reads the text with `http::Uri`, stricter than the URL parser: a
/// trailing newline, a space or a second `@` would leave it with no proxy,
/// and requests would go direct. The serialized form is what it reads; one
/// it still cannot read is refused here rather than ignored there.
fn check_proxy_url(name: &str, value: &str) -> Result<String, FetchError> {
    let invalid = |why: &str| {
        let shown = without_userinfo(value);
        FetchError::invalid(
            InvalidInput::ArgValue,
            format!("Invalid {name} proxy {shown:?}: {why}"),
        )
    };
    let url = url::Url::parse(value).map_err(|_| invalid("not a URL"))?;
    if url.scheme() != "http" {
        return Err(invalid("only http: proxies are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    let text = String::from(url);
    let readable = text.parse::<Uri>().ok().and_then(|uri| {
        uri.authority()
            .map(|a| a.as_str().matches('@').count() <= 1)
    });
    if readable != Some(true) {
        return Err(invalid("cannot be used as a proxy URL"));
    }
    Ok(text)
}

impl Proxies {
    pub fn new(config: &ProxyConfig) -> Result<Self, FetchError> {
        let http = config.http.as_deref().filter(|s| !s.trim().is_empty());
        let https = config.https.as_deref().filter(|s| !s.trim().is_empty());
        let http = http.map(|v| check_proxy_url("http", v)).transpose()?;
        let https = https.map(|v| check_proxy_url("https", v)).transpose()?;
        let no_proxy = config.no_proxy.as_deref().unwrap_or("");
        // curl's lone `*` bypasses every host; the matcher applies it to names only.
        let bypass_all = no_proxy.split(',').any(|entry| entry.trim() == "*");
        if (http.is_none() && https.is_none()) || bypass_all {
            return Ok(Proxies { matcher: None });
        }
        let matcher = Matcher::builder()
            .http(http.unwrap_or_default())
            .https(https.unwrap_or_default())
            .no(no_proxy)
            .build();
        Ok(Proxies {
            matcher: Some(matcher),
        })
    }

    /// The proxy for `uri`, if it goes through one.
    pub fn intercept(&self, uri: &Uri) -> Option<Intercept> {
        self.matcher.as_ref()?.intercept(uri)
    }

    /// How a request to `uri` travels.
    pub fn route(&self, uri: &Uri) -> Route {
        match self.intercept(uri) {
            None => Route::Direct,
            Some(_) if uri.scheme() == Some(&http::uri::Scheme::HTTPS) => Route::Tunnelled,
            Some(proxy) => Route::Forwarded {
                auth: proxy.basic_auth().cloned(),
            },
        }
    }
}

/// How a request reaches its destination.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Direct,
    /// Plain http handed to the proxy, which forwards it; the request carries
    /// the proxy's credentials itself.
    Forwarded {
        auth: Option<HeaderValue>,
    },
    /// https through a CONNECT tunnel; the tunnel carries the credentials.
    Tunnelled,
}

/// Connects to a destination directly or through its proxy, under the
/// per-host connection cap.
#[derive(Clone)]
pub struct ProxyConnector {
    tcp: TcpConnector,
    proxies: Arc<Proxies>,
    connections: Option<Arc<HostSemaphores>>,
}

impl ProxyConnector {
    pub fn new(
        tcp: TcpConnector,
        proxies: Arc<Proxies>,
        connections: Option<Arc<HostSemaphores>>,
    ) -> Self {
        ProxyConnector {
            tcp,
            proxies,
            connections,
        }
    }
}

impl Service<Uri> for ProxyConnector {
    type Response = TimedStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TimedStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Each call works on its own clone of the TCP connector, which is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let proxy = self.proxies.intercept(&dst);
        let mut tcp = self.tcp.clone();
        let connections = self.connections.clone();
        Box::pin(async move {
            let permit = match connections {
                Some(caps) => {
                    let key = host_key(
                        dst.scheme_str().unwrap_or("http"),
                        dst.host().unwrap_or(""),
                        dst.port_u16(),
                    );
                    Some(caps.acquire(key).await)
                }
                None => None,
            };
            if proxy.is_some() {
                // The proxy is the caller's own choice and may be private;
                // the destination is checked where it is written as an address.
                tcp.check_literal(&dst)?;
                tcp = tcp.unfiltered();
            }
            let stream = match proxy {
                None => tcp.call(dst).await?,
                Some(proxy) if dst.scheme() == Some(&http::uri::Scheme::HTTPS) => {
                    let mut tunnel = Tunnel::new(proxy.uri().clone(), tcp);
                    if let Some(auth) = proxy.basic_auth() {
                        tunnel = tunnel.with_auth(auth.clone());
                    }
                    tunnel.call(dst).await.map_err(proxy_error)?
                }
                Some(proxy) => tcp
                    .call(proxy.uri().clone())
                    .await
                    .map_err(proxy_error)?
                    .forwarding(),
            };
            Ok(stream.holding(permit))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(http: &str, https: &str, no: &str) -> ProxyConfig {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ProxyConfig {
            http: some(http),
            https: some(https),
            no_proxy: some(no),
        }
    }

    #[test]
    fn picks_the_proxy_by_scheme_and_honours_no_proxy() {
        let proxies = Proxies::new(&config(
            "http://u:p@127.0.0.1:3128",
            "http://127.0.0.1:3129",
            "skip.test, 10.0.0.0/8",
        ))
        .unwrap();
        let http = proxies
            .intercept(&"http://a.test/".parse().unwrap())
            .unwrap();
        assert_eq!(http.uri().port_u16(), Some(3128));
        assert!(http.basic_auth().is_some());
        let https = proxies
            .intercept(&"https://a.test/".parse().unwrap())
            .unwrap();
        assert_eq!(https.uri().port_u16(), Some(3129));
        assert!(proxies
            .intercept(&"http://www.skip.test/".parse().unwrap())
            .is_none());
        assert!(proxies
            .intercept(&"http://10.1.2.3/".parse().unwrap())
            .is_none());
        assert!(proxies
            .intercept(&"http://11.1.2.3/".parse().unwrap())
            .is_some());
    }

    #[test]
    fn a_proxy_url_is_used_as_the_url_parser_reads_it() {
        let target: Uri = "http://a.test/".parse().unwrap();
        for (given, user_pass) in [
            ("http://127.0.0.1:3128\n", None),
            (" http://127.0.0.1:3128 ", None),
            ("http://us er:p\"{|ü@127.0.0.1:3128", Some("us er:p\"{|ü")),
            ("http://user:p@ss@127.0.0.1:3128", Some("user:p@ss")),
        ] {
            let proxies = Proxies::new(&config(given, "", "")).unwrap();
            let proxy = proxies.intercept(&target).expect(given);
            assert_eq!(proxy.uri().port_u16(), Some(3128), "{given}");
            let auth = proxy.basic_auth().map(|v| {
                use base64::Engine;
                let b64 = &v.as_bytes()[b"Basic ".len()..];
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap();
                String::from_utf8(raw).unwrap()
            });
            assert_eq!(auth.as_deref(), user_pass, "{given}");
        }
    }

    #[test]
    fn a_lone_star_bypasses_every_host() {
        let proxies = Proxies::new(&config("http://127.0.0.1:3128", "", "*")).unwrap();
        assert!(proxies
            .intercept(&"http://127.0.0.1/".parse().unwrap())
            .is_none());
    }

    #[test]
    fn rejects_proxies_it_cannot_use() {
        for bad in [
            "socks5://127.0.0.1:1080",
            "https://127.0.0.1:3128",
            "not a url",
        ] {
            assert!(Proxies::new(&config(bad, "", "")).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_route_is_direct_forwarded_or_tunnelled() {
        let proxies = Proxies::new(&config(
            "http://u:p@127.0.0.1:3128",
            "http://127.0.0.1:3129",
            "skip.test",
        ))
        .unwrap();
        let route = |url: &str| proxies.route(&url.parse().unwrap());
        assert_eq!(route("http://skip.test/"), Route::Direct);
        assert_eq!(route("https://a.test/"), Route::Tunnelled);
        let Route::Forwarded { auth: Some(auth) } = route("http://a.test/") else {
            panic!("plain http is forwarded with the proxy's credentials");
        };
        assert!(auth.as_bytes().starts_with(b"Basic "));
        let none = Proxies::new(&config("", "", "")).unwrap();
        assert_eq!(
            none.route(&"http://a.test/".parse().unwrap()),
            Route::Direct
        );
    }

    #[test]
    fn a_proxy_error_keeps_its_cause() {
        let err = ProxyError(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        let cause = std::error::Error::source(&err).expect("a cause");
        assert!(cause.downcast_ref::<std::io::Error>().is_some());
    }

    /// A connector whose proxy for both schemes is a listener of the test's.
    async fn through_listener() -> (ProxyConnector, tokio::net::TcpListener) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = format!("http://{}", listener.local_addr().unwrap());
        let proxies = Proxies::new(&config(&proxy, &proxy, "")).unwrap();
        let tcp = TcpConnector::new(Default::default(), None);
        (ProxyConnector::new(tcp, Arc::new(proxies), None), listener)
    }

    #[tokio::test]
    async fn plain_http_goes_to_the_proxy_as_it_is() {
        use hyper_util::client::legacy::connect::Connection;
        use tokio::io::AsyncReadExt;
        let (mut connector, listener) = through_listener().await;
        let call = tokio::spawn(connector.call("http://a.test/".parse().unwrap()));
        let (mut seen, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        tokio::select! {
            stream = call => {
                let stream = stream.unwrap().expect("connected to the proxy");
                assert!(stream.connected().is_proxied(), "requests go in absolute form");
                drop(stream);
                assert_eq!(seen.read(&mut buf).await.unwrap(), 0, "nothing sent yet");
            }
            n = seen.read(&mut buf) => {
                panic!("the connector wrote {:?}", String::from_utf8_lossy(&buf[..n.unwrap()]));
            }
        }
    }

    #[tokio::test]
    async fn https_goes_through_a_connect_tunnel() {
        use tokio::io::AsyncReadExt;
        let (mut connector, listener) = through_listener().await;
        let call = tokio::spawn(connector.call("https://a.test/".parse().unwrap()));
        let (mut seen, _) = listener.accept().await.unwrap();
        let head = async {
            let mut request = Vec::new();
            let mut buf = [0u8; 256];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = seen.read(&mut buf).await.unwrap();
                assert!(n > 0, "the connector closed");
                request.extend_from_slice(&buf[..n]);
            }
            request
        };
        tokio::select! {
            _ = call => panic!("connected without asking the proxy for a tunnel"),
            request = head => assert!(
                request.starts_with(b"CONNECT a.test:443 HTTP/1.1\r\n"),
                "{}",
                String::from_utf8_lossy(&request)
            ),
        }
    }
}
