//! The enforced reqwest client against real servers on 127.0.0.1. "Must not
//! connect" is the servers' accepted-connection count.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use egress_policy_core::{Policy, Reason, SharedPolicy};
use egress_policy_reqwest::{BuildError, Builder, EnforcedClient, LookupFuture, find_denied_middleware};
use egress_policy_testkit::{CountingServer, LogCapture};

fn shared(src: &str) -> SharedPolicy {
    SharedPolicy::new(Policy::from_toml_str(src).unwrap_or_else(|e| panic!("{e}\n{src}")))
}

/// A lookup answering from a table, so names resolve without DNS.
fn table(entries: &[(&str, &[&str])]) -> impl Fn(&str) -> LookupFuture + Send + Sync + 'static {
    let map: Arc<HashMap<String, Vec<IpAddr>>> = Arc::new(
        entries
            .iter()
            .map(|(n, a)| (n.to_string(), a.iter().map(|x| x.parse().unwrap()).collect()))
            .collect(),
    );
    move |name: &str| {
        let found = map.get(name).cloned();
        let name = name.to_string();
        Box::pin(async move { found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, name)) })
    }
}

fn builder(policy: &SharedPolicy) -> Builder {
    EnforcedClient::builder(policy.clone()).no_env_proxies()
}

fn allow_port(id: &str, cidr: &str, port: u16) -> String {
    format!("[[allow]]\nid = \"{id}\"\ncidrs = [\"{cidr}\"]\nschemes = [\"http\"]\nports = [{port}]\n")
}

fn reason(e: &egress_policy_reqwest::Error) -> Reason {
    e.denied().unwrap_or_else(|| panic!("not denied: {e:#}")).decision().reason()
}

#[tokio::test]
async fn allowed_name_and_ip_literal_succeed() {
    let up = CountingServer::ok().await;
    let p = shared(&format!(
        "version = 1\n{}[[allow]]\nid = \"svc\"\nhosts = [\"svc.test\"]\nschemes = [\"http\"]\nports = [{}]\nresolves_to = [\"127.0.0.1/32\"]\n",
        allow_port("lit", "127.0.0.1/32", up.port()),
        up.port()
    ));
    let c = builder(&p).lookup(table(&[("svc.test", &["127.0.0.1"])])).build().unwrap();
    let body = c.get(up.url("/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, format!("ok from {}", up.port()));
    let res = c.get(format!("http://svc.test:{}/", up.port())).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn denied_names_and_ip_literals_fail_without_a_connection() {
    let up = CountingServer::ok().await;
    let p = shared("version = 1\n[[allow]]\nid = \"other\"\nhosts = [\"other.test\"]\n");
    let c = builder(&p).lookup(table(&[("denied.test", &["127.0.0.1"])])).build().unwrap();
    let port = up.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://denied.test:{port}/"),
    ] {
        let e = c.get(&url).send().await.unwrap_err();
        assert_eq!(reason(&e), Reason::NoMatchingRule, "{url}");
        assert!(e.to_string().starts_with("egress denied: no_matching_rule"), "{e}");
    }
    assert_eq!(up.connections(), 0);
}

#[tokio::test]
async fn redirects_to_denied_destinations_stop_at_the_hop() {
    let target = CountingServer::ok().await;
    let t = target.port();
    for (location, want) in [
        (format!("http://denied.test:{t}/"), Reason::NoMatchingRule),
        (format!("http://127.0.0.1:{t}/"), Reason::PortNotAllowed),
        (format!("http://[::ffff:7f00:1]:{t}/"), Reason::PortNotAllowed),
        // a downgrade to plain http for a name whose rule is https-only
        (format!("http://secure.test:{t}/"), Reason::SchemeNotAllowed),
    ] {
        let redirector = CountingServer::redirect(302, location.clone()).await;
        let p = shared(&format!(
            "version = 1\n{}[[allow]]\nid = \"secure\"\nhosts = [\"secure.test\"]\nports = \"any\"\n",
            allow_port("redirector", "127.0.0.1/32", redirector.port())
        ));
        let c = builder(&p)
            .lookup(table(&[("denied.test", &["127.0.0.1"]), ("secure.test", &["127.0.0.1"])]))
            .build()
            .unwrap();
        let e = c.get(redirector.url("/start")).send().await.unwrap_err();
        assert_eq!(reason(&e), want, "{location}");
        assert!(e.reqwest().unwrap().is_redirect(), "{e:#}");
        assert!(format!("{e:#}").contains("egress denied: "), "{e:#}");
        assert_eq!(redirector.connections(), 1);
    }
    assert_eq!(target.connections(), 0, "a redirect hop reached a denied destination");
}

/// `RequestBuilder::map` hands out reqwest's builder, which an attacker-shaped
/// closure can swap for one made from a plain `reqwest::Client`: the request
/// must still go through the enforced client (its redirect policy, resolver
/// and connector), so the denied redirect target is never reached.
#[tokio::test]
async fn map_cannot_swap_in_an_unenforced_client() {
    let target = CountingServer::ok().await;
    let redirector = CountingServer::redirect(302, target.url("/")).await;
    let p = shared(&format!(
        "version = 1
{}",
        allow_port("redirector", "127.0.0.1/32", redirector.port())
    ));
    let c = builder(&p).build().unwrap();
    let plain = reqwest::Client::new();
    let url = redirector.url("/start");
    let swapped = url.clone();
    let e = c.get(&url).map(move |_| plain.get(swapped)).send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::PortNotAllowed, "{e:#}");
    assert_eq!(redirector.connections(), 1);
    assert_eq!(target.connections(), 0, "the swapped-in client followed the redirect");
}

/// The client inside the request builder that `map` hands out is not the
/// enforced one: a request sent with it fails, even to a destination the
/// enforced client has a pooled connection to (a pooled connection needs no
/// lookup and no connect, so the enforced client's own resolver and connector
/// would not see such a request).
#[tokio::test]
async fn the_client_map_hands_out_reaches_nothing() {
    let up = CountingServer::ok().await;
    let p = shared(&format!("version = 1\n{}", allow_port("up", "127.0.0.1/32", up.port())));
    let c = builder(&p).build().unwrap();
    let url = up.url("/");
    // A connection to `up` is now pooled.
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(up.connections(), 1);
    let leaked = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = leaked.clone();
    let _ = c.get(&url).map(move |b| {
        let (client, request) = b.build_split();
        *keep.lock().unwrap() = Some(client.clone());
        reqwest::RequestBuilder::from_parts(client, request.unwrap())
    });
    let leaked = leaked.lock().unwrap().take().unwrap();
    for target in [url.clone(), "http://169.254.169.254/".to_string()] {
        let e = leaked.get(&target).send().await.unwrap_err();
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(&format!(": {s}"));
            source = s.source();
        }
        assert!(chain.contains("request builder") && chain.contains("refused"), "{target}: {chain}");
    }
    assert_eq!(up.connections(), 1, "the leaked client connected");
}

#[tokio::test]
async fn allowed_redirect_hops_are_followed_with_a_hop_limit() {
    let target = CountingServer::ok().await;
    let hop = CountingServer::redirect(307, target.url("/end")).await;
    let p = shared(&format!(
        "version = 1\n{}{}",
        allow_port("hop", "127.0.0.1/32", hop.port()),
        allow_port("end", "127.0.0.1/32", target.port())
    ));
    let c = builder(&p).build().unwrap();
    assert_eq!(c.get(hop.url("/")).send().await.unwrap().status(), 200);

    let looping = CountingServer::start_with(|port| {
        Arc::new(move |_req: &http::Request<hyper::body::Incoming>| {
            http::Response::builder()
                .status(302)
                .header("location", format!("http://127.0.0.1:{port}/again"))
                .body(Default::default())
                .unwrap()
        })
    })
    .await;
    let p = shared(&format!("version = 1\n{}", allow_port("loop", "127.0.0.1/32", looping.port())));
    let e = builder(&p)
        .max_redirects(3)
        .build()
        .unwrap()
        .get(looping.url("/"))
        .send()
        .await
        .unwrap_err();
    assert!(e.denied().is_none());
    assert!(format!("{e:#}").contains("too many redirects (limit 3)"), "{e:#}");
    assert_eq!(looping.requests(), 4);
}

#[tokio::test]
async fn dns_rebinding_and_mixed_answers() {
    let good = CountingServer::ok().await;
    let bad = CountingServer::ok_on(SocketAddr::from(([127, 0, 0, 2], good.port()))).await;
    let port = good.port();
    let p = shared(&format!(
        "version = 1\n[[allow]]\nid = \"rebind\"\nhosts = [\"rebind.test\"]\nschemes = [\"http\"]\nports = [{port}]\n\
         [[allow]]\nid = \"mixed\"\nhosts = [\"mixed.test\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.1/32\"]\n"
    ));
    let c = builder(&p)
        .lookup(table(&[
            ("rebind.test", &["127.0.0.1"]),
            ("mixed.test", &["127.0.0.2", "127.0.0.1"]),
        ]))
        .build()
        .unwrap();
    let e = c.get(format!("http://rebind.test:{port}/")).send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::ResolvedToForbiddenAddress);
    assert_eq!(good.connections(), 0);
    let res = c.get(format!("http://mixed.test:{port}/")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), format!("ok from {port}"));
    assert_eq!((good.connections(), bad.connections()), (1, 0));
}

#[tokio::test]
async fn resolve_overrides_go_through_admission() {
    let up = CountingServer::ok().await;
    let p = shared(&format!(
        "version = 1\n[[allow]]\nid = \"pinned\"\nhosts = [\"pinned.test\"]\nschemes = [\"http\"]\nports = [{}]\n",
        up.port()
    ));
    let c = builder(&p).resolve("pinned.test", &["127.0.0.1".parse().unwrap()]).build().unwrap();
    let e = c.get(format!("http://pinned.test:{}/", up.port())).send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::ResolvedToForbiddenAddress);
    assert_eq!(up.connections(), 0);
}

#[tokio::test]
async fn a_policy_swap_denies_the_next_request_despite_a_pooled_connection() {
    let up = CountingServer::ok().await;
    let p = shared(&format!("version = 1\n{}", allow_port("up", "127.0.0.1/32", up.port())));
    let c = builder(&p).build().unwrap();
    c.get(up.url("/")).send().await.unwrap().text().await.unwrap();
    c.get(up.url("/")).send().await.unwrap().text().await.unwrap();
    assert_eq!((up.connections(), up.requests()), (1, 2));
    p.store(Policy::from_toml_str("version = 1\n").unwrap());
    let e = c.get(up.url("/")).send().await.unwrap_err();
    assert_eq!(e.denied().unwrap().decision().policy().generation, 2);
    assert_eq!(up.requests(), 2);
}

#[tokio::test]
async fn environment_proxies_are_used_only_when_the_policy_allows_them() {
    let proxy = CountingServer::ok().await;
    let target = CountingServer::ok().await;
    let env = {
        let url = format!("http://127.0.0.1:{}", proxy.port());
        move |name: &str| (name == "HTTP_PROXY").then(|| url.clone())
    };

    // The proxy is not allowed: it is ignored and the request goes direct.
    let p = shared(&format!("version = 1\n{}", allow_port("target", "127.0.0.1/32", target.port())));
    let c = EnforcedClient::builder(p).env_proxies_from(env.clone()).build().unwrap();
    c.get(target.url("/")).send().await.unwrap();
    assert_eq!((proxy.connections(), target.connections()), (0, 1));

    // The proxy is allowed: requests go through it, denied targets are still denied.
    let p = shared(&format!(
        "version = 1\n{}{}",
        allow_port("target", "127.0.0.1/32", target.port()),
        allow_port("proxy", "127.0.0.1/32", proxy.port())
    ));
    let c = EnforcedClient::builder(p.clone()).env_proxies_from(env).build().unwrap();
    let body = c.get(target.url("/via-proxy")).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, format!("ok from {}", proxy.port()), "answered by the (fake) proxy");
    assert_eq!((proxy.connections(), target.connections()), (1, 1));
    let e = c.get("http://denied.example/").send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::NoMatchingRule);
    assert_eq!(proxy.requests(), 1, "a denied target reached the proxy");

    // The policy stops allowing the proxy: the next request through it fails.
    p.store(Policy::from_toml_str(&format!("version = 1\n{}", allow_port("target", "127.0.0.1/32", target.port()))).unwrap());
    let e = c.get(target.url("/")).send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::PortNotAllowed);
    assert_eq!(proxy.requests(), 1);
}

#[tokio::test]
async fn an_explicit_proxy_the_policy_does_not_allow_is_a_build_error() {
    let p = shared("version = 1\n");
    let err = builder(&p).proxy_all("http://user:secret@127.0.0.1:3128").build().unwrap_err();
    assert!(matches!(err, BuildError::ProxyDenied { .. }), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(err.to_string().contains("proxy http://127.0.0.1:3128 is not allowed"), "{err}");
}

#[tokio::test]
async fn observe_mode_lets_everything_through_and_logs() {
    let up = CountingServer::ok().await;
    let logs = LogCapture::global();
    let p = shared("version = 1\nenforcement = \"observe\"\n");
    let c = builder(&p).lookup(table(&[("observed.test", &["127.0.0.1"])])).build().unwrap();
    c.get(up.url("/")).send().await.unwrap();
    c.get(format!("http://observed.test:{}/", up.port())).send().await.unwrap();
    assert_eq!(up.connections(), 2);
    let lines = logs.lines_with(&format!("port={}", up.port()));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("verdict=\"deny\"") && l.contains("enforced=false"))
            .count(),
        2,
        "{lines:#?}"
    );
}

#[tokio::test]
async fn reqwest_middleware_users_get_the_same_checks() {
    let up = CountingServer::ok().await;
    let redirector = CountingServer::redirect(302, up.url("/")).await;
    let p = shared(&format!(
        "version = 1\n{}",
        allow_port("redirector", "127.0.0.1/32", redirector.port())
    ));
    let (client, enforce) = Builder::new(p).no_env_proxies().build_for_middleware().unwrap();
    let client = reqwest_middleware::ClientBuilder::new(client).with(enforce).build();
    let e = client.get(up.url("/")).send().await.unwrap_err();
    assert_eq!(find_denied_middleware(&e).unwrap().decision().reason(), Reason::PortNotAllowed);
    let e = client.get(redirector.url("/")).send().await.unwrap_err();
    assert_eq!(find_denied_middleware(&e).unwrap().decision().reason(), Reason::PortNotAllowed);
    assert_eq!(up.connections(), 0);
}
