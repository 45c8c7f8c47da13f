//! EnforcePolicyLayer around a real hyper-util client, against real servers on
//! 127.0.0.1. "Must not connect" is the server's accepted-connection count.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use bytes::Bytes;
use egress_policy_core::{Decision, Denied, Policy, Reason, SharedPolicy};
use egress_policy_testkit::{CountingServer, LogCapture};
use egress_policy_tower::{BoxError, EnforcePolicyLayer};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Layer, Service, ServiceExt};

type HyperClient = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

fn hyper_client() -> HyperClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn policy(src: &str) -> SharedPolicy {
    SharedPolicy::new(Policy::from_toml_str(src).unwrap_or_else(|e| panic!("{e}")))
}

fn allow_loopback_port(port: u16) -> String {
    format!("version = 1\n[[allow]]\nid = \"upstream\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{port}]\n")
}

fn get(url: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(url).body(Empty::new()).unwrap()
}

async fn send<S>(svc: S, url: &str) -> Result<String, BoxError>
where
    S: Service<http::Request<Empty<Bytes>>, Response = http::Response<hyper::body::Incoming>, Error = BoxError>,
{
    let res = svc.oneshot(get(url)).await?;
    let body = res.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn denied_reason(err: &BoxError) -> Reason {
    err.downcast_ref::<Denied>()
        .unwrap_or_else(|| panic!("not a Denied: {err}"))
        .decision()
        .reason()
}

#[tokio::test]
async fn allowed_destination_reaches_the_upstream() {
    let up = CountingServer::ok().await;
    let svc = EnforcePolicyLayer::new(policy(&allow_loopback_port(up.port()))).layer(hyper_client());
    let body = send(svc, &up.url("/hello?x=1")).await.unwrap();
    assert_eq!(body, format!("ok from {}", up.port()));
    assert_eq!(up.connections(), 1);
}

#[tokio::test]
async fn denied_destinations_fail_without_a_connection() {
    let allowed = CountingServer::ok().await;
    let other = CountingServer::ok().await;
    let p = policy(&format!(
        "{}\n[[allow]]\nid = \"tls-only\"\ncidrs = [\"127.0.0.2/32\"]\nports = \"any\"\n",
        allow_loopback_port(allowed.port())
    ));
    let svc = EnforcePolicyLayer::new(p).layer(hyper_client());
    let cases = [
        // by IP literal: another loopback server no rule names
        (other.url("/"), Reason::PortNotAllowed),
        // the same, spelled as hex / integer / mapped IPv6
        (format!("http://0x7f.1:{}/", other.port()), Reason::PortNotAllowed),
        (format!("http://2130706433:{}/", other.port()), Reason::PortNotAllowed),
        (format!("http://[::ffff:127.0.0.1]:{}/", other.port()), Reason::PortNotAllowed),
        // by name
        (format!("http://localhost:{}/", other.port()), Reason::NoMatchingRule),
        // by scheme: 127.0.0.2 is https-only
        (format!("http://127.0.0.2:{}/", other.port()), Reason::SchemeNotAllowed),
        // by port: https scheme to the allowed address on a port no rule names
        (format!("https://127.0.0.1:{}/", other.port()), Reason::SchemeNotAllowed),
    ];
    for (url, reason) in cases {
        let err = send(svc.clone(), &url).await.expect_err(&url);
        assert_eq!(denied_reason(&err), reason, "{url}");
    }
    assert_eq!(other.connections(), 0, "a denied destination was contacted");
    assert_eq!(allowed.connections(), 0);
}

#[tokio::test]
async fn relative_uris_use_the_host_header_or_are_denied() {
    let up = CountingServer::ok().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Decision>::new()));
    let seen2 = seen.clone();
    let inner = tower::service_fn(move |req: http::Request<Empty<Bytes>>| {
        seen2
            .lock()
            .unwrap()
            .push(req.extensions().get::<Decision>().cloned().expect("decision in extensions"));
        async { Ok::<_, std::convert::Infallible>(http::Response::new(())) }
    });
    let p = policy(&allow_loopback_port(up.port()));
    let svc = EnforcePolicyLayer::new(p)
        .default_scheme(egress_policy_core::Scheme::Http)
        .decision_extension()
        .layer(inner);
    let req = http::Request::get("/x")
        .header("host", format!("127.0.0.1:{}", up.port()))
        .body(Empty::new())
        .unwrap();
    svc.clone().oneshot(req).await.unwrap();
    assert_eq!(seen.lock().unwrap()[0].rule().unwrap().id(), "upstream");
    let err = svc.oneshot(http::Request::get("/x").body(Empty::new()).unwrap()).await.unwrap_err();
    assert_eq!(denied_reason(&err), Reason::Invalid);
    assert_eq!(seen.lock().unwrap().len(), 1, "the inner service ran for a denied request");
}

/// The decision extension changes what the inner service finds in the
/// extensions and nothing else: the same requests go through, the same are
/// refused with the same decision, and a refused one makes no connection.
#[tokio::test]
async fn with_or_without_the_decision_extension_the_verdicts_are_the_same() {
    let up = CountingServer::ok().await;
    let other = CountingServer::ok().await;
    let p = policy(&allow_loopback_port(up.port()));
    let default = EnforcePolicyLayer::new(p.clone()).layer(hyper_client());
    let extension = EnforcePolicyLayer::new(p.clone()).decision_extension().layer(hyper_client());
    let urls = [
        up.url("/a"),
        other.url("/b"),
        format!("https://127.0.0.1:{}/", up.port()),
        format!("http://localhost:{}/", up.port()),
        "http://[::1]:1/".to_string(),
        "ftp://127.0.0.1/".to_string(),
    ];
    for url in &urls {
        let a = send(extension.clone(), url).await;
        let b = send(default.clone(), url).await;
        match (a, b) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{url}"),
            (Err(a), Err(b)) => {
                let (a, b) = (a.downcast_ref::<Denied>(), b.downcast_ref::<Denied>());
                let (a, b) = (a.expect("denied").decision(), b.expect("denied").decision());
                assert_eq!((a.reason(), a.destination()), (b.reason(), b.destination()), "{url}");
            }
            (a, b) => panic!("{url}: with the extension {a:?}, without {b:?}"),
        }
    }
    assert_eq!(up.connections(), 2, "the allowed URL, once per layer");
    assert_eq!(other.connections(), 0, "a denied destination was contacted");

    // What the inner service sees.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Option<Decision>>::new()));
    let seen2 = seen.clone();
    let inner = tower::service_fn(move |req: http::Request<Empty<Bytes>>| {
        seen2.lock().unwrap().push(req.extensions().get::<Decision>().cloned());
        async { Ok::<_, std::convert::Infallible>(http::Response::new(())) }
    });
    let url = up.url("/c");
    EnforcePolicyLayer::new(p.clone())
        .decision_extension()
        .layer(inner.clone())
        .oneshot(get(&url))
        .await
        .unwrap();
    // A decision already in the extensions (the caller's, or an outer layer's)
    // is not passed on as if this layer had made it.
    let mut planted = get(&url);
    planted.extensions_mut().insert(p.decide_url("https://elsewhere.example/", None));
    EnforcePolicyLayer::new(p).layer(inner).oneshot(planted).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].as_ref().and_then(Decision::rule).map(|r| r.id()), Some("upstream"));
    assert!(seen[1].is_none(), "a decision was in the extensions: {:?}", seen[1]);
}

#[tokio::test]
async fn observe_mode_lets_requests_through_and_logs_the_would_deny() {
    let up = CountingServer::ok().await;
    let logs = LogCapture::global();
    let p = policy("version = 1\nenforcement = \"observe\"\n");
    let svc = EnforcePolicyLayer::new(p).layer(hyper_client());
    let body = send(svc, &up.url("/secret?token=abc")).await.unwrap();
    assert!(body.starts_with("ok from"));
    assert_eq!(up.connections(), 1);
    let lines = logs.lines_with(&format!("port={}", up.port()));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
    assert!(
        lines[0].contains("verdict=\"deny\"") && lines[0].contains("enforced=false"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("secret") && !lines[0].contains("token"), "{}", lines[0]);
}

#[tokio::test]
async fn a_policy_swap_denies_the_next_request_despite_a_pooled_connection() {
    let up = CountingServer::ok().await;
    let p = policy(&allow_loopback_port(up.port()));
    let svc = EnforcePolicyLayer::new(p.clone()).layer(hyper_client());
    send(svc.clone(), &up.url("/")).await.unwrap();
    send(svc.clone(), &up.url("/")).await.unwrap();
    assert_eq!((up.connections(), up.requests()), (1, 2), "the connection is pooled");
    p.store(Policy::from_toml_str("version = 1\n").unwrap());
    let err = send(svc, &up.url("/")).await.unwrap_err();
    let denied = err.downcast_ref::<Denied>().unwrap();
    assert_eq!(denied.decision().reason(), Reason::NoMatchingRule);
    assert_eq!(denied.decision().policy().generation, 2);
    assert_eq!(up.requests(), 2, "the pooled connection carried a denied request");
}

/// Domain fronting: the decision is on the URI, hyper sends the caller's `Host`.
/// With `require_matching_host_header` a mismatching `Host` is refused before
/// any connection; without it the request goes to the URI's (allowed) address.
#[tokio::test]
async fn a_mismatching_host_header_is_refused_when_asked() {
    use egress_policy_tower::HostHeaderMismatch;
    let up = CountingServer::ok().await;
    let p = policy(&allow_loopback_port(up.port()));
    let fronted = |host: &str| {
        http::Request::get(up.url("/"))
            .header("host", host)
            .body(Empty::<Bytes>::new())
            .unwrap()
    };
    let strict = EnforcePolicyLayer::new(p.clone())
        .require_matching_host_header()
        .layer(hyper_client());
    for host in ["evil.example", "127.0.0.1:1", "127.0.0.1:80"] {
        let err = strict.clone().oneshot(fronted(host)).await.unwrap_err();
        let mismatch = err.downcast_ref::<HostHeaderMismatch>().unwrap_or_else(|| panic!("{err}"));
        assert_eq!(mismatch.uri, format!("http://127.0.0.1:{}", up.port()));
    }
    assert_eq!(up.connections(), 0);
    // The same host, spelled differently, is the same destination.
    let same = format!("127.0.0.1:{}", up.port());
    assert_eq!(strict.clone().oneshot(fronted(&same)).await.unwrap().status(), 200);
    let res = strict.oneshot(get(&up.url("/"))).await.unwrap();
    assert_eq!(res.status(), 200, "no Host header: hyper fills it from the URI");
    // Off by default: the caller's Host header is sent as it is.
    let lax = EnforcePolicyLayer::new(p).layer(hyper_client());
    assert_eq!(lax.oneshot(fronted("evil.example")).await.unwrap().status(), 200);
}

/// Only `http` and `https` are judged, spelled exactly so (as hyper-util
/// compares them): a `wss://` (or `ftp://`, or a builder-made `HTTPS`) URI
/// would be connected in plaintext to port 80 by hyper-util while a decision
/// would use 443 (or 21). Relative URIs take their destination only from one plain
/// `host[:port]` header.
#[tokio::test]
async fn schemes_and_host_headers_a_decision_would_misdescribe_are_refused() {
    let up = CountingServer::ok().await;
    let p = policy(
        "version = 1\n[[allow]]\nid = \"all\"\ncidrs = [\"127.0.0.1/32\"]\nhosts = [\"allowed.example\"]\nschemes = [\"http\", \"https\", \"ws\", \"wss\"]\nports = \"any\"\n",
    );
    let send_req = |req: http::Request<Empty<Bytes>>| {
        let svc = EnforcePolicyLayer::new(p.clone()).layer(hyper_client());
        async move { svc.oneshot(req).await }
    };
    for uri in [format!("wss://127.0.0.1:{}/", up.port()), format!("ws://127.0.0.1:{}/", up.port())] {
        let err = send_req(get(&uri)).await.unwrap_err();
        assert_eq!(denied_reason(&err), Reason::Invalid, "{uri}");
    }
    // A scheme set through the builder keeps its case: `HTTPS` is not
    // `Scheme::HTTPS` to hyper-util, which would connect it in plaintext (to
    // port 80 unless the URI names one), so it is not judged as https.
    for scheme in ["HTTPS", "HTTP", "Https"] {
        let uri = http::Uri::builder()
            .scheme(scheme)
            .authority(format!("127.0.0.1:{}", up.port()))
            .path_and_query("/")
            .build()
            .unwrap();
        assert_ne!(uri.scheme(), Some(&http::uri::Scheme::HTTPS));
        assert_ne!(uri.scheme(), Some(&http::uri::Scheme::HTTP));
        let req = http::Request::get(uri).body(Empty::<Bytes>::new()).unwrap();
        let err = send_req(req).await.unwrap_err();
        assert_eq!(denied_reason(&err), Reason::Invalid, "{scheme}");
    }
    let relative = |hosts: &[&str]| {
        let mut b = http::Request::get("/path");
        for h in hosts {
            b = b.header("host", *h);
        }
        b.body(Empty::<Bytes>::new()).unwrap()
    };
    for hosts in [
        vec!["evil.example:80@allowed.example"],
        vec!["allowed.example", "evil.example"],
        vec!["allowed.example/x"],
    ] {
        let err = send_req(relative(&hosts)).await.unwrap_err();
        assert_eq!(denied_reason(&err), Reason::Invalid, "{hosts:?}");
    }
    assert_eq!(up.connections(), 0);
}

/// `require_matching_host_header` reads the header as a plain `host[:port]`:
/// userinfo, backslashes or a query in it never count as the allowed host.
#[tokio::test]
async fn a_host_header_that_only_parses_as_the_allowed_host_is_a_mismatch() {
    use egress_policy_tower::HostHeaderMismatch;
    let up = CountingServer::ok().await;
    let p = policy(&allow_loopback_port(up.port()));
    let strict = EnforcePolicyLayer::new(p).require_matching_host_header().layer(hyper_client());
    let port = up.port();
    for host in [
        format!("evil.example:{port}@127.0.0.1:{port}"),
        format!("127.0.0.1:{port}\\@evil.example"),
        format!("127.0.0.1:{port}?x"),
    ] {
        let req = http::Request::get(up.url("/"))
            .header("host", host.as_str())
            .body(Empty::<Bytes>::new())
            .unwrap();
        let err = strict.clone().oneshot(req).await.unwrap_err();
        assert!(err.downcast_ref::<HostHeaderMismatch>().is_some(), "{host}: {err}");
    }
    assert_eq!(up.connections(), 0);
}
