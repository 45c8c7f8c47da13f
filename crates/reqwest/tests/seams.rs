//! Regression tests for the seams between reqwest and the core decision: each
//! one is an input that once made a real client connect where `Policy::admit`
//! says no. Connections are counted on real listeners on 127.0.0.1; lookups by
//! an injected table.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use egress_policy_core::{Context, Destination, Policy, Reason, SharedPolicy};
use egress_policy_reqwest::{Builder, EnforcedClient, LookupFuture, find_denied_middleware};
use egress_policy_testkit::CountingServer;

fn shared(src: &str) -> SharedPolicy {
    SharedPolicy::new(Policy::from_toml_str(src).unwrap_or_else(|e| panic!("{e}\n{src}")))
}

/// A lookup table that counts the queries it answers.
#[derive(Clone)]
struct Table {
    map: Arc<HashMap<String, Vec<IpAddr>>>,
    lookups: Arc<AtomicUsize>,
}

impl Table {
    fn new(entries: &[(&str, &[&str])]) -> Table {
        Table {
            map: Arc::new(
                entries
                    .iter()
                    .map(|(n, a)| (n.to_string(), a.iter().map(|x| x.parse().unwrap()).collect()))
                    .collect(),
            ),
            lookups: Arc::default(),
        }
    }
    fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
    fn lookup(&self) -> impl Fn(&str) -> LookupFuture + Send + Sync + 'static {
        let this = self.clone();
        move |name: &str| {
            this.lookups.fetch_add(1, Ordering::SeqCst);
            let found = this.map.get(name).cloned();
            let name = name.to_string();
            Box::pin(async move { found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, name)) })
        }
    }
}

/// A proxy on 127.0.0.1:`proxy_port` and `api.test` over http, both allowed.
fn proxy_and_api(proxy_port: u16) -> SharedPolicy {
    shared(&format!(
        "version = 1\n\
         [[allow]]\nid = \"proxy\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{proxy_port}]\n\
         [[allow]]\nid = \"api\"\nhosts = [\"api.test\"]\nschemes = [\"http\"]\n"
    ))
}

fn reason(e: &egress_policy_reqwest::Error) -> Reason {
    e.denied().unwrap_or_else(|| panic!("not denied: {e:#}")).decision().reason()
}

/// What `Policy::admit` says for `url` answering `addrs`, as the client `client`.
fn oracle(p: &SharedPolicy, url: &str, addrs: &[&str], client: Option<&str>) -> (Reason, Vec<IpAddr>) {
    let dest = Destination::parse_url(url).unwrap();
    let addrs: Vec<IpAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
    let cx = Context::now().with_client(client);
    let a = p.load().admit(&dest, &addrs, &cx);
    (a.decision().reason(), a.admitted().to_vec())
}

/// Issue item 1: `svc.test` is allowed for http on the server's port by a rule
/// without `resolves_to`; `other_rule` (for tcp:5432 only) must not admit the
/// private answer. The oracle and the client both refuse, without a connection.
async fn a_rule_for_another_port_does_not_admit(other_rule: &str) {
    let up = CountingServer::ok().await;
    let p = shared(&format!(
        "version = 1\n[[allow]]\nid = \"a-web\"\nhosts = [\"svc.test\"]\nschemes = [\"http\"]\nports = [{}]\n{other_rule}",
        up.port()
    ));
    let url = format!("http://svc.test:{}/", up.port());
    assert_eq!(oracle(&p, &url, &["127.0.0.1"], None).0, Reason::ResolvedToForbiddenAddress);
    let table = Table::new(&[("svc.test", &["127.0.0.1"])]);
    let c = EnforcedClient::builder(p).no_env_proxies().lookup(table.lookup()).build().unwrap();
    let e = c.get(&url).send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::ResolvedToForbiddenAddress);
    assert_eq!(up.connections(), 0);
}

/// Issue item 1: a `resolves_to` on another rule for the same name, but for
/// another scheme and port, must not admit a private answer.
#[tokio::test]
async fn resolves_to_of_a_rule_for_another_port_does_not_admit() {
    a_rule_for_another_port_does_not_admit(
        "[[allow]]\nid = \"b-db\"\nhosts = [\"svc.test\"]\nschemes = [\"tcp\"]\nports = [5432]\nresolves_to = [\"127.0.0.0/8\"]\n",
    )
    .await;
}

/// Issue item 1: the `cidrs` of an allow rule limited to another scheme and port
/// must not exempt a resolved address from the floor.
#[tokio::test]
async fn cidrs_of_a_rule_for_another_port_do_not_admit() {
    a_rule_for_another_port_does_not_admit("[[allow]]\nid = \"b-db\"\ncidrs = [\"127.0.0.0/8\"]\nschemes = [\"tcp\"]\nports = [5432]\n")
        .await;
}

/// Issue item 1: in open mode with `floor = true`, an expired rule, or a rule
/// for another client, must not admit; the live rule for this client and port
/// does, in `check` (the oracle) and in the client alike.
#[tokio::test]
async fn open_floor_admits_only_under_the_live_rule_for_this_client_and_port() {
    let up = CountingServer::ok().await;
    let p = shared(&format!(
        "version = 1\nmode = \"open\"\nfloor = true\n\
         [[allow]]\nid = \"expired\"\nhosts = [\"old.test\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.0/8\"]\nexpires = \"2020-01-01\"\n\
         [[allow]]\nid = \"theirs\"\nhosts = [\"theirs.test\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.0/8\"]\nclients = [\"other\"]\n\
         [[allow]]\nid = \"ours\"\nhosts = [\"ours.test\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.1/32\"]\n",
        port = up.port()
    ));
    let table = Table::new(&[
        ("old.test", &["127.0.0.1"]),
        ("theirs.test", &["127.0.0.1"]),
        ("ours.test", &["127.0.0.1"]),
    ]);
    let c = EnforcedClient::builder(p.clone())
        .no_env_proxies()
        .lookup(table.lookup())
        .build()
        .unwrap();
    for name in ["old.test", "theirs.test"] {
        let url = format!("http://{name}:{}/", up.port());
        assert_eq!(
            oracle(&p, &url, &["127.0.0.1"], None).0,
            Reason::ResolvedToForbiddenAddress,
            "{name}"
        );
        let e = c.get(&url).send().await.unwrap_err();
        assert_eq!(reason(&e), Reason::ResolvedToForbiddenAddress, "{name}");
    }
    assert_eq!(up.connections(), 0);
    let url = format!("http://ours.test:{}/", up.port());
    let (why, admitted) = oracle(&p, &url, &["127.0.0.1"], None);
    assert_eq!((why, admitted.len()), (Reason::OpenMode, 1));
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(up.connections(), 1);
}

/// Issue item 4: a target allowed by name that resolves to the metadata address
/// must not be fetched through an allowed proxy (which would resolve it itself).
#[tokio::test]
async fn targets_behind_a_proxy_are_admitted_locally_first() {
    let proxy = CountingServer::ok().await;
    let p = proxy_and_api(proxy.port());
    let table = Table::new(&[("api.test", &["169.254.169.254"])]);
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());

    let c = EnforcedClient::builder(p.clone())
        .no_env_proxies()
        .proxy_http(&proxy_url)
        .lookup(table.lookup())
        .build()
        .unwrap();
    let e = c.get("http://api.test/latest/meta-data").send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::ResolvedToForbiddenAddress);
    assert_eq!(proxy.connections(), 0, "the proxy was asked for a forbidden target");

    // The same through environment proxies and reqwest-middleware.
    let env = {
        let url = proxy_url.clone();
        move |name: &str| (name == "HTTP_PROXY").then(|| url.clone())
    };
    let (client, enforce) = Builder::new(p.clone())
        .env_proxies_from(env)
        .lookup(table.lookup())
        .build_for_middleware()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(client).with(enforce).build();
    let e = client.get("http://api.test/").send().await.unwrap_err();
    assert_eq!(
        find_denied_middleware(&e).unwrap().decision().reason(),
        Reason::ResolvedToForbiddenAddress
    );
    assert_eq!(proxy.connections(), 0);

    // Trusting the proxy's resolution is an explicit opt-in.
    let c = EnforcedClient::builder(p)
        .no_env_proxies()
        .proxy_http(&proxy_url)
        .lookup(table.lookup())
        .danger_trust_proxy_resolution()
        .build()
        .unwrap();
    assert_eq!(c.get("http://api.test/").send().await.unwrap().status(), 200);
    assert_eq!(proxy.connections(), 1);
}

/// A name the policy denies is never looked up: no DNS query leaves the
/// process for it (a lookup is an exfiltration channel in sealed networks).
#[tokio::test]
async fn denied_names_cause_no_lookup() {
    let p = shared("version = 1\n[[allow]]\nid = \"ok\"\nhosts = [\"ok.test\"]\nschemes = [\"http\"]\n");
    let table = Table::new(&[("secret-data.evil.test", &["203.0.113.7"]), ("ok.test", &["127.0.0.1"])]);
    let c = EnforcedClient::builder(p.clone())
        .no_env_proxies()
        .lookup(table.lookup())
        .build()
        .unwrap();
    let e = c.get("http://secret-data.evil.test/").send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::NoMatchingRule);
    assert_eq!(table.lookups(), 0);

    // A client from `build_for_middleware` used without its middleware: no
    // decision covers the lookup, so it is refused, without a query.
    let (bare, _enforce) = Builder::new(p)
        .no_env_proxies()
        .lookup(table.lookup())
        .build_for_middleware()
        .unwrap();
    let e = bare.get("http://ok.test/").send().await.unwrap_err();
    let chain = format!("{:?}", anyhow_chain(&e));
    assert!(chain.contains("outside an enforced request"), "{chain}");
    assert_eq!(table.lookups(), 0);
}

fn anyhow_chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out
}

/// Issue item 7: no error or `Debug` output carries userinfo, query, fragment
/// or proxy credentials.
#[tokio::test]
async fn errors_and_debug_output_carry_no_secrets() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed); // nothing listens there now: the connection is refused
    let redirector = CountingServer::redirect(302, "http://denied.test/next?token=SECRET3#frag".into()).await;
    let p = shared(&format!(
        "version = 1\n\
         [[allow]]\nid = \"lit\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{port}, {}]\n",
        redirector.port()
    ));
    let c = EnforcedClient::builder(p.clone())
        .no_env_proxies()
        .proxy_https("http://proxyuser:PROXYPASS@127.0.0.1:1")
        .build();
    // The https proxy is not allowed: a build error, without the credentials.
    let e = c.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("PROXYPASS"), "{shown}");

    let p2 = shared(&format!(
        "version = 1\n\
         [[allow]]\nid = \"lit\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [1, {port}, {}]\n",
        redirector.port()
    ));
    let c = EnforcedClient::builder(p2)
        .no_env_proxies()
        .proxy_https("http://proxyuser:PROXYPASS@127.0.0.1:1")
        .build()
        .unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("PROXYPASS") && !shown.contains("proxyuser"), "{shown}");

    let secret_urls = [
        format!("http://user:PASSWORD1@127.0.0.1:{port}/path?api_key=SECRET1#FRAG1"),
        "http://user:PASSWORD2@denied.test/path?api_key=SECRET2#FRAG2".to_string(),
        format!("http://user:PASSWORD4@127.0.0.1:{}/r?api_key=SECRET4#FRAG4", redirector.port()),
    ];
    for url in &secret_urls {
        let e = c.get(url).send().await.unwrap_err();
        let shown = format!("{e} | {e:#} | {e:?} | {:?}", anyhow_chain(&e));
        for secret in ["PASSWORD", "SECRET", "FRAG", "frag", "token"] {
            assert!(!shown.contains(secret), "{secret} in error for {url}: {shown}");
        }
    }
}

/// Behind a proxy, a redirect hop to the same name on another port is admitted
/// under the hop's own decision (a rule's `resolves_to` depends on the port),
/// with the answer resolved for the first request; a hop to a new name is
/// refused (it cannot be resolved from reqwest's redirect policy).
#[tokio::test]
async fn proxied_redirect_hops_are_admitted_under_their_own_decision() {
    let proxy = CountingServer::redirect(302, "http://api.test:8080/next".into()).await;
    let other = CountingServer::redirect(302, "http://elsewhere.test/".into()).await;
    let p = |proxy_port: u16| {
        shared(&format!(
            "version = 1\n\
             [[allow]]\nid = \"proxy\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{proxy_port}]\n\
             [[allow]]\nid = \"api-80\"\nhosts = [\"api.test\"]\nschemes = [\"http\"]\nresolves_to = [\"10.0.0.0/8\"]\n\
             [[allow]]\nid = \"api-8080\"\nhosts = [\"api.test\"]\nschemes = [\"http\"]\nports = [8080]\n\
             [[allow]]\nid = \"elsewhere\"\nhosts = [\"elsewhere.test\"]\nschemes = [\"http\"]\n"
        ))
    };
    let table = Table::new(&[("api.test", &["10.1.2.3"]), ("elsewhere.test", &["93.184.216.34"])]);
    let client = |policy: SharedPolicy, proxy_port: u16| {
        EnforcedClient::builder(policy)
            .no_env_proxies()
            .proxy_http(&format!("http://127.0.0.1:{proxy_port}"))
            .lookup(table.lookup())
            .build()
            .unwrap()
    };
    // http://api.test/ is admitted (10.1.2.3 is in api-80's resolves_to) and goes
    // to the proxy; the hop to port 8080 is not (api-8080 has no resolves_to).
    let c = client(p(proxy.port()), proxy.port());
    let e = c.get("http://api.test/").send().await.unwrap_err();
    assert_eq!(reason(&e), Reason::ResolvedToForbiddenAddress);
    assert_eq!(proxy.requests(), 1, "the hop reached the proxy");
    assert_eq!(table.lookups(), 1, "the hop reused the first answer");

    // A hop to another name through the proxy is refused.
    let c = client(p(other.port()), other.port());
    let e = c.get("http://api.test/").send().await.unwrap_err();
    assert!(format!("{e:#}").contains("redirect through a proxy to a name"), "{e:#}");
    assert_eq!(other.requests(), 1);
}

/// A client from `build_for_middleware` used without its middleware: an
/// IP-literal URL never reaches the resolver, so the connector refuses it
/// (no decision in scope), without a connection.
#[tokio::test]
async fn a_bare_middleware_client_refuses_ip_literals_too() {
    let up = CountingServer::ok().await;
    let p = shared(&format!(
        "version = 1\n[[allow]]\nid = \"lit\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n",
        up.port()
    ));
    let (bare, enforce) = Builder::new(p).no_env_proxies().build_for_middleware().unwrap();
    let e = bare.get(up.url("/")).send().await.unwrap_err();
    let chain = anyhow_chain(&e).join(": ");
    assert!(chain.contains("connection outside an enforced request"), "{chain}");
    assert_eq!(up.connections(), 0);
    // With its middleware, the same client works.
    let client = reqwest_middleware::ClientBuilder::new(bare).with(enforce).build();
    assert_eq!(client.get(up.url("/")).send().await.unwrap().status(), 200);
    assert_eq!(up.connections(), 1);
}

/// Behind a proxy, a target whose lookup answers no address is refused: the
/// proxy would otherwise resolve it itself, unchecked.
#[tokio::test]
async fn an_empty_answer_behind_a_proxy_is_refused() {
    let proxy = CountingServer::ok().await;
    let p = proxy_and_api(proxy.port());
    let table = Table::new(&[("api.test", &[])]);
    let c = EnforcedClient::builder(p)
        .no_env_proxies()
        .proxy_http(&format!("http://127.0.0.1:{}", proxy.port()))
        .lookup(table.lookup())
        .build()
        .unwrap();
    let e = c.get("http://api.test/").send().await.unwrap_err();
    assert!(format!("{e:#}").contains("resolved to no address"), "{e:#}");
    assert_eq!(proxy.connections(), 0);
}

/// `NO_PROXY` is read from the same source as the proxy variables
/// (`env_proxies_from`), not from the process environment.
#[tokio::test]
async fn no_proxy_comes_from_the_same_source_as_the_proxies() {
    let proxy = CountingServer::ok().await;
    let target = CountingServer::ok().await;
    let p = shared(&format!(
        "version = 1\n\
         [[allow]]\nid = \"proxy\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}, {}]\n",
        proxy.port(),
        target.port()
    ));
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let env = move |name: &str| match name {
        "HTTP_PROXY" => Some(proxy_url.clone()),
        "NO_PROXY" => Some("127.0.0.1".to_string()),
        _ => None,
    };
    let c = EnforcedClient::builder(p).env_proxies_from(env).build().unwrap();
    let body = c.get(target.url("/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, format!("ok from {}", target.port()), "NO_PROXY sent it direct");
    assert_eq!((proxy.connections(), target.connections()), (0, 1));
}

/// A request on one enforced client sent from inside another's request (here
/// from the outer client's `Lookup`, while its request is being polled) does
/// not run under the outer request's decision: the outer decision covers the
/// outer URL only, and the inner client's connector, resolver and redirect
/// policy refuse decisions they did not make. Before, the inner IP-literal
/// request to an address the policy denies connected.
#[tokio::test]
async fn a_request_sent_from_inside_another_clients_request_gets_no_cover() {
    let allowed = CountingServer::ok().await;
    let forbidden = CountingServer::ok().await;
    let p = shared(&format!(
        "version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.test\"]\nschemes = [\"http\"]\nports = [{}]\n\
         resolves_to = [\"127.0.0.1/32\"]\n",
        allowed.port()
    ));
    assert_eq!(oracle(&p, &forbidden.url("/"), &[], None).0, Reason::NoMatchingRule);

    // The inner clients: a bare middleware client and a raw name lookup.
    let (bare, _enforce) = Builder::new(p.clone()).no_env_proxies().build_for_middleware().unwrap();
    let (bare_names, _enforce) = Builder::new(p.clone())
        .no_env_proxies()
        .lookup(Table::new(&[("api.test", &["127.0.0.1"])]).lookup())
        .build_for_middleware()
        .unwrap();
    let inner_errors: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let (errors, forbidden_url) = (inner_errors.clone(), forbidden.url("/"));
    let names_url = format!("http://api.test:{}/", allowed.port());
    let hook = move |_: &str| -> LookupFuture {
        let (bare, bare_names, errors) = (bare.clone(), bare_names.clone(), errors.clone());
        let (forbidden_url, names_url) = (forbidden_url.clone(), names_url.clone());
        Box::pin(async move {
            for (client, url) in [(&bare, &forbidden_url), (&bare_names, &names_url)] {
                let outcome = client.get(url).send().await;
                errors
                    .lock()
                    .unwrap()
                    .push(outcome.map_or_else(|e| anyhow_chain(&e).join(": "), |r| format!("sent: {}", r.status())));
            }
            Ok(vec!["127.0.0.1".parse().unwrap()])
        })
    };
    let outer = EnforcedClient::builder(p).no_env_proxies().lookup(hook).build().unwrap();
    let url = format!("http://api.test:{}/", allowed.port());
    assert_eq!(outer.get(&url).send().await.unwrap().status(), 200);

    let errors = inner_errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("under a decision another enforced client made"), "{errors:?}");
    assert!(errors[1].contains("under a decision another enforced client made"), "{errors:?}");
    assert_eq!(forbidden.connections(), 0, "the inner IP-literal request connected");
    assert_eq!(allowed.connections(), 1, "only the outer request connected");
}

/// A policy swap that lands while the request waits (here on the target's
/// lookup, made locally because a proxy carries the request) stops the
/// connection made after it: the proxy, an IP literal that no lookup
/// re-decides, is checked again when the connection is made, under the
/// policy in force. This is the connector layer's work in `EnforcedClient`:
/// without it the client connected to a proxy the new policy denies.
#[tokio::test]
async fn a_policy_swap_while_the_request_waits_stops_the_connection_to_a_now_denied_proxy() {
    let proxy = CountingServer::ok().await;
    let api = "[[allow]]\nid = \"api\"\nhosts = [\"api.test\"]\nschemes = [\"http\"]\nresolves_to = [\"127.0.0.1/32\"]\n";
    let p = shared(&format!(
        "version = 1\n[[allow]]\nid = \"proxy\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n{api}",
        proxy.port()
    ));
    // The lookup of the target waits until the test has swapped the policy.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(Some((started_tx, go_rx))));
    let lookup = move |_: &str| -> LookupFuture {
        let gate = gate.lock().unwrap().take();
        Box::pin(async move {
            if let Some((started, go)) = gate {
                let _ = started.send(());
                let _ = go.await;
            }
            Ok(vec!["127.0.0.1".parse().unwrap()])
        })
    };
    let c = EnforcedClient::builder(p.clone())
        .no_env_proxies()
        .proxy_http(&format!("http://127.0.0.1:{}", proxy.port()))
        .lookup(lookup)
        .build()
        .unwrap();
    let request = tokio::spawn(async move { c.get("http://api.test/").send().await });
    started_rx.await.unwrap();
    // The new policy still allows the target, but no longer the proxy.
    p.store(Policy::from_toml_str(&format!("version = 1\n{api}")).unwrap());
    go_tx.send(()).unwrap();
    let e = request.await.unwrap().unwrap_err();
    assert_eq!(reason(&e), Reason::NoMatchingRule, "{e:#}");
    assert_eq!(e.denied().unwrap().decision().policy().generation, 2);
    assert_eq!(proxy.connections(), 0, "connected to a proxy the policy in force denies");
}
