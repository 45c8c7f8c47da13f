//! One admission semantics across every integration, proven differentially.
//!
//! For generated (policy, URL, DNS answer, client) cases, every real client —
//! the hyper connector + resolver under the tower layer, reqwest's
//! `EnforcedClient`, and a reqwest-middleware client — must connect to exactly
//! the address `Policy::admit` admits first (the clients try answers in order),
//! to nothing when it admits nothing, and must look nothing up when the policy
//! denies the name. Listeners on 127.0.0.2–127.0.0.7 (one port) count accepted
//! connections and answer with their own address; injected lookups count
//! queries. Run with `EGRESS_ADMISSION_CASES=N` for more cases, or
//! `EGRESS_ADMISSION_SEED=S` for another seed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use egress_policy::hyper::{EnforceConnector, EnforceResolver};
use egress_policy::reqwest::{Builder, LookupFuture};
use egress_policy::tower::EnforcePolicyLayer;
use egress_policy::{Context, Destination, Policy, SharedPolicy};
use egress_policy_testkit::{CountingServer, StaticResolver};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tower::{Layer, ServiceExt};

const HOSTS: [u8; 6] = [2, 3, 4, 5, 6, 7];
const NAMES: [&str; 3] = ["a.test", "b.test", "c.other"];

/// The seeded generator the core's differential test uses too.
#[path = "../testdata/rng.rs"]
mod rng;
use rng::Rng;

fn addr(host: u8) -> String {
    format!("127.0.0.{host}")
}

/// A random policy over the listeners' port and one other, names `a.test`,
/// `b.test`, `*.test`, and CIDRs and `resolves_to` inside 127.0.0.0/29.
fn gen_policy(rng: &mut Rng, port: u16) -> String {
    let mut out = String::from("version = 1\n");
    out.push_str(&format!("mode = \"{}\"\n", rng.pick(&["sealed", "constrained", "open", "sealed"])));
    if rng.chance(50) {
        out.push_str("floor = true\n");
    }
    if rng.chance(10) {
        out.push_str("enforcement = \"observe\"\n");
    }
    let nets = |rng: &mut Rng| -> String {
        let mut v: Vec<String> = Vec::new();
        for _ in 0..=rng.below(2) {
            v.push(match rng.below(4) {
                0 => "\"127.0.0.0/29\"".into(),
                1 => "\"127.0.0.4/30\"".into(),
                _ => format!("\"{}/32\"", addr(*rng.pick(&HOSTS))),
            });
        }
        v.join(", ")
    };
    let ports = |rng: &mut Rng| -> String {
        match rng.below(4) {
            0 => "\"any\"".into(),
            1 => format!("[{}]", port.wrapping_add(1)),
            _ => format!("[{port}]"),
        }
    };
    for i in 0..rng.below(5) {
        out.push_str(&format!("[[allow]]\nid = \"allow-{i}\"\n"));
        let hosts: Vec<&str> = ["a.test", "b.test", "*.test"].into_iter().filter(|_| rng.chance(45)).collect();
        let cidrs = rng.chance(30) || hosts.is_empty();
        if !hosts.is_empty() {
            out.push_str(&format!(
                "hosts = [{}]\n",
                hosts.iter().map(|h| format!("\"{h}\"")).collect::<Vec<_>>().join(", ")
            ));
        }
        if cidrs {
            out.push_str(&format!("cidrs = [{}]\n", nets(rng)));
        }
        out.push_str(&format!("schemes = [\"{}\"]\n", rng.pick(&["http", "http", "tcp", "https"])));
        out.push_str(&format!("ports = {}\n", ports(rng)));
        if !hosts.is_empty() && rng.chance(50) {
            out.push_str(&format!("resolves_to = [{}]\n", nets(rng)));
        }
        if rng.chance(20) {
            out.push_str(&format!("clients = [\"{}\"]\n", rng.pick(&["alpha", "beta"])));
        }
        if rng.chance(15) {
            out.push_str("modes = [\"constrained\"]\n");
        }
        if rng.chance(15) {
            out.push_str("expires = \"2020-01-01\"\n");
        }
    }
    for i in 0..rng.below(3) {
        out.push_str(&format!("[[deny]]\nid = \"deny-{i}\"\n"));
        if rng.chance(25) {
            out.push_str(&format!("hosts = [\"{}\"]\n", rng.pick(&["b.test", "*.other"])));
        } else {
            out.push_str(&format!("cidrs = [{}]\n", nets(rng)));
        }
        if rng.chance(30) {
            out.push_str(&format!("schemes = [\"{}\"]\n", rng.pick(&["http", "tcp"])));
        }
        if rng.chance(30) {
            out.push_str(&format!("ports = {}\n", ports(rng)));
        }
        if rng.chance(10) {
            out.push_str("expires = \"2020-01-01\"\n");
        }
    }
    out
}

/// The seams the review found, as fixed cases ahead of the generated ones.
fn fixed_policies(port: u16) -> Vec<String> {
    vec![
        // resolves_to on a rule for the same name but another scheme and port.
        format!(
            "version = 1\n[[allow]]\nid = \"web\"\nhosts = [\"a.test\"]\nschemes = [\"http\"]\nports = [{port}]\n\
             [[allow]]\nid = \"db\"\nhosts = [\"a.test\"]\nschemes = [\"tcp\"]\nports = [5432]\nresolves_to = [\"127.0.0.0/8\"]\n"
        ),
        // cidrs of a rule for another scheme and port.
        format!(
            "version = 1\n[[allow]]\nid = \"web\"\nhosts = [\"a.test\"]\nschemes = [\"http\"]\nports = [{port}]\n\
             [[allow]]\nid = \"db\"\ncidrs = [\"127.0.0.0/8\"]\nschemes = [\"tcp\"]\nports = [5432]\n"
        ),
        // open + floor: an expired rule and a rule for another client.
        format!(
            "version = 1\nmode = \"open\"\nfloor = true\n\
             [[allow]]\nid = \"old\"\nhosts = [\"a.test\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.0/8\"]\nexpires = \"2020-01-01\"\n\
             [[allow]]\nid = \"theirs\"\nhosts = [\"b.test\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.0/8\"]\nclients = [\"beta\"]\n"
        ),
        // open + floor: the live rule for this port admits its resolves_to.
        format!(
            "version = 1\nmode = \"open\"\nfloor = true\n\
             [[allow]]\nid = \"ours\"\nhosts = [\"a.test\", \"b.test\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.4/30\"]\n"
        ),
    ]
}

/// A lookup table for reqwest that counts queries.
fn reqwest_lookup(
    table: Arc<HashMap<String, Vec<IpAddr>>>,
    count: Arc<AtomicUsize>,
) -> impl Fn(&str) -> LookupFuture + Send + Sync + 'static {
    move |name: &str| {
        count.fetch_add(1, Ordering::SeqCst);
        let found = table.get(name).cloned();
        let name = name.to_string();
        Box::pin(async move { found.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, name)) })
    }
}

struct Listeners {
    port: u16,
    servers: Vec<(u8, CountingServer)>,
}

impl Listeners {
    /// One listener per address in `HOSTS`, all on one port.
    async fn start() -> Listeners {
        'retry: for _ in 0..20 {
            let first = CountingServer::ok_on("127.0.0.2:0".parse().unwrap()).await;
            let port = first.port();
            let mut servers = vec![(2, first)];
            for &h in &HOSTS[1..] {
                let sock: SocketAddr = format!("{}:{port}", addr(h)).parse().unwrap();
                if std::net::TcpListener::bind(sock).is_err() {
                    continue 'retry;
                }
                servers.push((h, CountingServer::ok_on(sock).await));
            }
            return Listeners { port, servers };
        }
        panic!("no port free on every 127.0.0.x listener");
    }
    fn counts(&self) -> Vec<usize> {
        self.servers.iter().map(|(_, s)| s.connections()).collect()
    }
}

/// What a client did: the listener that answered (its address), or an error.
type Outcome = Result<String, String>;

async fn via_hyper(policy: &SharedPolicy, client: Option<&str>, resolver: StaticResolver, url: &str) -> Outcome {
    let http = HttpConnector::new_with_resolver(EnforceResolver::new(resolver, policy.clone()));
    let mut connector = EnforceConnector::new(http, policy.clone());
    let mut layer = EnforcePolicyLayer::new(policy.clone());
    if let Some(name) = client {
        connector = connector.client_name(name);
        layer = layer.client_name(name);
    }
    let hyper: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let svc = layer.layer(hyper);
    let req = http::Request::get(url).body(Empty::new()).unwrap();
    match svc.oneshot(req).await {
        Ok(res) => Ok(String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned()),
        Err(e) => Err(e.to_string()),
    }
}

async fn via_reqwest(builder: Builder, url: &str) -> Outcome {
    let c = builder.build().unwrap();
    match c.get(url).send().await {
        Ok(res) => Ok(res.text().await.unwrap()),
        Err(e) => Err(format!("{e:#}")),
    }
}

async fn via_middleware(builder: Builder, url: &str) -> Outcome {
    let (client, enforce) = builder.build_for_middleware().unwrap();
    let c = reqwest_middleware::ClientBuilder::new(client).with(enforce).build();
    match c.get(url).send().await {
        Ok(res) => Ok(res.text().await.unwrap()),
        Err(e) => Err(format!("{e:#}")),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_integration_connects_exactly_where_admit_says() {
    let seed: u64 = std::env::var("EGRESS_ADMISSION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_ad31);
    let generated: usize = std::env::var("EGRESS_ADMISSION_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let listeners = Listeners::start().await;
    let port = listeners.port;
    let mut rng = Rng(seed);
    let mut policies = fixed_policies(port);
    policies.extend((0..generated).map(|_| gen_policy(&mut rng, port)));

    let (mut connected, mut refused, mut denied_before_lookup) = (0, 0, 0);
    for (case, src) in policies.iter().enumerate() {
        let policy = Policy::from_toml_str(src).unwrap_or_else(|e| panic!("case {case}: generated policy must load: {e}\n{src}"));
        let shared = SharedPolicy::new(policy);
        // A name from the table, or (one case in four) an IP literal, which no
        // resolver sees and which must cause no lookup.
        let literal = rng.chance(25).then(|| addr(*rng.pick(&HOSTS)));
        let named = *rng.pick(&NAMES);
        let name: &str = literal.as_deref().unwrap_or(named);
        let client = rng.chance(30).then_some("alpha");
        // A non-empty answer: listeners in random order, maybe repeated.
        let mut answer: Vec<IpAddr> = Vec::new();
        for _ in 0..=rng.below(3) {
            let ip: IpAddr = addr(*rng.pick(&HOSTS)).parse().unwrap();
            if !answer.contains(&ip) {
                answer.push(ip);
            }
        }
        let url = format!("http://{name}:{port}/");

        // The oracle.
        let dest = Destination::parse_url(&url).unwrap();
        let cx = Context::now().with_client(client);
        let first = shared.load().decide_with(&dest, &cx);
        let admission = shared.load().admit(&dest, &answer, &cx);
        let expected: Option<String> = if admission.decision().blocks() {
            None
        } else if let Some(ip) = &literal {
            Some(format!("ok from {ip}:{port}"))
        } else {
            admission.admitted().first().map(|ip| format!("ok from {ip}:{port}"))
        };
        let label = format!("case {case} (seed {seed:#x}): {url} client={client:?} answer={answer:?}\n{src}");

        let table: Arc<HashMap<String, Vec<IpAddr>>> = Arc::new(std::iter::once((name.to_string(), answer.clone())).collect());
        let answer_strs: Vec<String> = answer.iter().map(ToString::to_string).collect();
        let answer_refs: Vec<&str> = answer_strs.iter().map(String::as_str).collect();
        for integration in ["hyper+tower", "reqwest", "reqwest-middleware"] {
            let before = listeners.counts();
            let lookups = Arc::new(AtomicUsize::new(0));
            let outcome = match integration {
                "hyper+tower" => {
                    let resolver = StaticResolver::new(&[(name, &answer_refs)]);
                    let out = via_hyper(&shared, client, resolver.clone(), &url).await;
                    lookups.store(resolver.lookups(), Ordering::SeqCst);
                    out
                }
                _ => {
                    let mut b = Builder::new(shared.clone())
                        .no_env_proxies()
                        .lookup(reqwest_lookup(table.clone(), lookups.clone()));
                    if let Some(c) = client {
                        b = b.client_name(c);
                    }
                    if integration == "reqwest" {
                        via_reqwest(b, &url).await
                    } else {
                        via_middleware(b, &url).await
                    }
                }
            };
            let after = listeners.counts();
            let used: Vec<u8> = listeners
                .servers
                .iter()
                .zip(before.iter().zip(&after))
                .filter(|(_, (b, a))| a > b)
                .map(|((h, _), _)| *h)
                .collect();
            match &expected {
                Some(body) => {
                    assert_eq!(outcome.as_deref(), Ok(body.as_str()), "{integration}: {label}");
                    assert_eq!(used.len(), 1, "{integration}: one connection, to {body}: {used:?}\n{label}");
                }
                None => {
                    assert!(
                        outcome.is_err(),
                        "{integration}: connected although admit says no: {outcome:?}\n{label}"
                    );
                    assert!(used.is_empty(), "{integration}: connections to 127.0.0.{used:?}\n{label}");
                }
            }
            if first.blocks() || literal.is_some() {
                assert_eq!(
                    lookups.load(Ordering::SeqCst),
                    0,
                    "{integration}: a denied name was looked up\n{label}"
                );
            }
        }
        match (&expected, first.blocks()) {
            (Some(_), _) => connected += 1,
            (None, true) => denied_before_lookup += 1,
            (None, false) => refused += 1,
        }
    }
    eprintln!(
        "{} cases x 3 integrations: {connected} connected, {refused} refused at admission, {denied_before_lookup} denied before lookup",
        policies.len()
    );
    // The generator must exercise every outcome, or the test proves little.
    assert!(
        connected >= 10 && refused >= 10 && denied_before_lookup >= 10,
        "{connected} {refused} {denied_before_lookup}"
    );
}
