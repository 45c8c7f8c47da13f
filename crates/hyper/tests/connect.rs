//! EnforceConnector + EnforceResolver in a real hyper-util client against real
//! servers on loopback; "must not connect" is the servers' connection counts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::net::SocketAddr;

use bytes::Bytes;
use egress_policy_core::{Denied, Policy, Reason, SharedPolicy};
use egress_policy_hyper::{EnforceConnector, EnforceResolver};
use egress_policy_testkit::{CountingServer, LogCapture, StaticResolver};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Enforced = Client<EnforceConnector<HttpConnector<EnforceResolver<StaticResolver>>>, Empty<Bytes>>;

fn shared(src: &str) -> SharedPolicy {
    SharedPolicy::new(Policy::from_toml_str(src).unwrap_or_else(|e| panic!("{e}")))
}

fn client(policy: &SharedPolicy, resolver: StaticResolver) -> Enforced {
    let http = HttpConnector::new_with_resolver(EnforceResolver::new(resolver, policy.clone()));
    Client::builder(TokioExecutor::new()).build(EnforceConnector::new(http, policy.clone()))
}

async fn get(client: &Enforced, url: &str) -> Result<String, hyper_util::client::legacy::Error> {
    let res = client.get(url.parse().unwrap()).await?;
    Ok(String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned())
}

fn denied(err: &hyper_util::client::legacy::Error) -> &Denied {
    Denied::find(err).unwrap_or_else(|| panic!("no Denied in the chain: {err:?}"))
}

#[tokio::test]
async fn allowed_name_connects_through_the_resolver() {
    let up = CountingServer::ok().await;
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"svc\"\nhosts = [\"svc.test\"]\nschemes = [\"http\"]\nports = [{}]\nresolves_to = [\"127.0.0.0/8\"]\n",
        up.port()
    ));
    let resolver = StaticResolver::new(&[("svc.test", &["127.0.0.1"])]);
    let c = client(&policy, resolver.clone());
    assert!(
        get(&c, &format!("http://svc.test:{}/", up.port()))
            .await
            .unwrap()
            .starts_with("ok from")
    );
    assert_eq!((up.connections(), resolver.lookups()), (1, 1));
}

#[tokio::test]
async fn dns_rebinding_to_loopback_is_refused_without_a_connection() {
    let up = CountingServer::ok().await;
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.test\"]\nschemes = [\"http\"]\nports = [{}]\n",
        up.port()
    ));
    let resolver = StaticResolver::new(&[("api.test", &["127.0.0.1"])]);
    let c = client(&policy, resolver.clone());
    let err = get(&c, &format!("http://api.test:{}/", up.port())).await.unwrap_err();
    let d = denied(&err).decision();
    assert_eq!(d.reason(), Reason::ResolvedToForbiddenAddress);
    assert_eq!(d.rule().unwrap().id(), "api");
    assert_eq!(resolver.lookups(), 1);
    assert_eq!(up.connections(), 0);
}

#[tokio::test]
async fn a_mixed_answer_connects_only_to_the_admitted_address() {
    // Two servers on the same port: 127.0.0.1 (admitted by resolves_to) and
    // 127.0.0.2 (not admitted). The resolver lists 127.0.0.2 first, so an
    // unfiltered client would connect there.
    let good = CountingServer::ok().await;
    let bad = CountingServer::ok_on(SocketAddr::from(([127, 0, 0, 2], good.port()))).await;
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"svc\"\nhosts = [\"svc.test\"]\nschemes = [\"http\"]\nports = [{}]\nresolves_to = [\"127.0.0.1/32\"]\n",
        good.port()
    ));
    let logs = LogCapture::global();
    let resolver = StaticResolver::new(&[("svc.test", &["127.0.0.2", "127.0.0.1"])]);
    let c = client(&policy, resolver);
    let body = get(&c, &format!("http://svc.test:{}/", good.port())).await.unwrap();
    assert_eq!(body, format!("ok from {}", good.port()));
    assert_eq!((good.connections(), bad.connections()), (1, 0));
    let dropped = logs.lines_with("resolved addresses refused");
    assert!(dropped.iter().any(|l| l.contains("127.0.0.2 (loopback")), "{dropped:#?}");
}

#[tokio::test]
async fn resolves_to_admits_private_ranges_for_its_own_rule_only() {
    let up = CountingServer::ok().await;
    let p = up.port();
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"a\"\nhosts = [\"a.test\"]\nschemes = [\"http\"]\nports = [{p}]\nresolves_to = [\"127.0.0.0/8\"]\n\
         [[allow]]\nid = \"b\"\nhosts = [\"b.test\"]\nschemes = [\"http\"]\nports = [{p}]\n"
    ));
    let c = client(
        &policy,
        StaticResolver::new(&[("a.test", &["127.0.0.1"]), ("b.test", &["127.0.0.1"])]),
    );
    get(&c, &format!("http://a.test:{p}/")).await.unwrap();
    let err = get(&c, &format!("http://b.test:{p}/")).await.unwrap_err();
    assert_eq!(denied(&err).decision().reason(), Reason::ResolvedToForbiddenAddress);
    assert_eq!(up.connections(), 1);
}

#[tokio::test]
async fn ip_literals_and_names_are_decided_in_the_connector_before_any_lookup() {
    let up = CountingServer::ok().await;
    let p = up.port();
    let policy = shared("version = 1\n[[allow]]\nid = \"other\"\nhosts = [\"other.test\"]\n");
    let resolver = StaticResolver::new(&[("evil.test", &["127.0.0.1"])]);
    let c = client(&policy, resolver.clone());
    for url in [
        format!("http://127.0.0.1:{p}/"),
        format!("http://[::ffff:127.0.0.1]:{p}/"),
        format!("http://0x7f.1:{p}/"),
        format!("http://2130706433:{p}/"),
        format!("http://evil.test:{p}/"),
    ] {
        let err = get(&c, &url).await.unwrap_err();
        assert_eq!(denied(&err).decision().reason(), Reason::NoMatchingRule, "{url}");
    }
    assert_eq!(resolver.lookups(), 0, "a denied destination was looked up");
    assert_eq!(up.connections(), 0);
}

#[tokio::test]
async fn observe_mode_connects_and_logs_the_would_be_drop() {
    let up = CountingServer::ok().await;
    let policy = shared(&format!(
        "version = 1\nenforcement = \"observe\"\n[[allow]]\nid = \"api\"\nhosts = [\"observe.test\"]\nschemes = [\"http\"]\nports = [{}]\n",
        up.port()
    ));
    let logs = LogCapture::global();
    let c = client(&policy, StaticResolver::new(&[("observe.test", &["127.0.0.1"])]));
    get(&c, &format!("http://observe.test:{}/", up.port())).await.unwrap();
    assert_eq!(up.connections(), 1);
    let lines = logs.lines_with(&format!("port={}", up.port()));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("reason=\"resolved_to_forbidden_address\"") && l.contains("enforced=false")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn with_the_tower_layer_a_policy_swap_stops_pooled_connections() {
    use tower::{Layer, ServiceExt};
    let up = CountingServer::ok().await;
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"up\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n",
        up.port()
    ));
    let svc = egress_policy_tower::EnforcePolicyLayer::new(policy.clone()).layer(client(&policy, StaticResolver::default()));
    let req = || http::Request::get(up.url("/")).body(Empty::<Bytes>::new()).unwrap();
    let res = svc.clone().oneshot(req()).await.unwrap();
    res.into_body().collect().await.unwrap();
    assert_eq!(up.connections(), 1);
    policy.store(Policy::from_toml_str("version = 1\n").unwrap());
    let err = svc.oneshot(req()).await.unwrap_err();
    assert_eq!(Denied::find(&*err).unwrap().decision().reason(), Reason::NoMatchingRule);
    assert_eq!((up.connections(), up.requests()), (1, 1));
}

#[cfg(any(feature = "aws-lc-rs", feature = "ring"))]
#[tokio::test]
async fn the_one_call_https_client_enforces() {
    let up = CountingServer::ok().await;
    let other = CountingServer::ok().await;
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"up\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n",
        up.port()
    ));
    let c = egress_policy_hyper::https_client::<Empty<Bytes>>(policy, Some("billing")).expect("native roots");
    let res = c.get(up.url("/").parse().unwrap()).await.unwrap();
    assert_eq!(res.status(), 200);
    let err = c.get(other.url("/").parse().unwrap()).await.unwrap_err();
    assert_eq!(denied(&err).decision().reason(), Reason::PortNotAllowed);
    let err = c
        .get("https://169.254.169.254/latest/meta-data".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(denied(&err).decision().reason(), Reason::NoMatchingRule);
    assert_eq!((up.connections(), other.connections()), (1, 0));
}

/// hyper-util connects a `wss://` URI in plaintext to port 80 (or the URI's
/// port): a decision on `wss` would not describe that connection, so the
/// connector refuses every scheme but `http` and `https`.
#[tokio::test]
async fn the_connector_refuses_schemes_hyper_would_connect_in_plaintext() {
    use tower_service::Service as _;
    let up = CountingServer::ok().await;
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"ws\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"ws\", \"wss\"]\nports = [{}]\n",
        up.port()
    ));
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let mut connector = EnforceConnector::new(http, policy);
    for scheme in ["wss", "ws"] {
        let uri: http::Uri = format!("{scheme}://127.0.0.1:{}/", up.port()).parse().unwrap();
        let err = connector.call(uri).await.unwrap_err();
        let denied = err.downcast_ref::<Denied>().unwrap_or_else(|| panic!("{err}"));
        assert_eq!(denied.decision().reason(), Reason::Invalid, "{scheme}");
    }
    assert_eq!(up.connections(), 0);
}

/// A resolver with no connector above it has no decision to admit under: it
/// refuses, and looks nothing up.
#[tokio::test]
async fn a_resolver_without_its_connector_refuses_without_a_lookup() {
    let up = CountingServer::ok().await;
    let policy = shared(
        "version = 1\n[[allow]]\nid = \"svc\"\nhosts = [\"svc.test\"]\nschemes = [\"http\", \"https\"]\nports = \"any\"\nresolves_to = [\"127.0.0.0/8\"]\n",
    );
    let resolver = StaticResolver::new(&[("svc.test", &["127.0.0.1"])]);
    let http = HttpConnector::new_with_resolver(EnforceResolver::new(resolver.clone(), policy));
    let bare: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(http);
    let err = bare
        .get(format!("http://svc.test:{}/", up.port()).parse().unwrap())
        .await
        .unwrap_err();
    let mut chain = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cur {
        chain.push(e.to_string());
        cur = e.source();
    }
    assert!(
        chain.iter().any(|m| m.contains("no EnforceConnector above the resolver")),
        "{chain:?}"
    );
    assert_eq!((up.connections(), resolver.lookups()), (0, 0));
}

/// A name the policy denies is decided in the connector and never looked up.
#[tokio::test]
async fn denied_names_cause_no_lookup() {
    let policy = shared("version = 1\n[[allow]]\nid = \"ok\"\nhosts = [\"ok.test\"]\nschemes = [\"http\"]\n");
    let resolver = StaticResolver::new(&[("exfil.evil.test", &["127.0.0.1"])]);
    let c = client(&policy, resolver.clone());
    let err = get(&c, "http://exfil.evil.test/").await.unwrap_err();
    assert_eq!(denied(&err).decision().reason(), Reason::NoMatchingRule);
    assert_eq!(resolver.lookups(), 0);
}

/// hyper-util reads only plain IP literals; `0x7f.1` reaches the resolver as a
/// name. The connector decided it as 127.0.0.1: the resolver answers that
/// address and sends no query.
#[tokio::test]
async fn addresses_spelled_as_names_are_not_looked_up() {
    let up = CountingServer::ok().await;
    let policy = shared(&format!(
        "version = 1\n[[allow]]\nid = \"lit\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n",
        up.port()
    ));
    let resolver = StaticResolver::new(&[("0x7f.1", &["127.0.0.2"])]);
    let c = client(&policy, resolver.clone());
    let body = get(&c, &format!("http://0x7f.1:{}/", up.port())).await.unwrap();
    assert_eq!(body, format!("ok from {}", up.port()));
    assert_eq!((up.connections(), resolver.lookups()), (1, 0));
}
