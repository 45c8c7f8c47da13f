//! End-to-end added latency per request on loopback, side by side in one run:
//! plain reqwest and hyper clients, the same clients enforced in-process, and
//! the plain reqwest client through a Squid allowlist proxy (what a user would
//! deploy instead), against nginx. Requests are interleaved in small blocks,
//! case by case, so machine drift hits every case alike; the added latency is
//! the difference of medians, computed per round and reported as the median
//! (and range) over rounds.
//!
//! It needs nginx on 127.0.0.1:18080 and Squid on 127.0.0.1:13128; the script
//! starts both (installing them from Debian if missing):
//!
//! ```text
//! benches/end_to_end.sh [ROUNDS] [PER_ROUND]
//! ```
//!
//! Run without them (`cargo bench`), it says so and exits. A benchmark, not a
//! test: CI only builds it. `E2E_PROFILE=CASE` (an index into the case table)
//! runs only that case in a loop, for `perf record`.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use egress_policy::tower::EnforcePolicyLayer;
use egress_policy::{Policy, SharedPolicy};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use tower::{Layer, Service, ServiceExt};

mod common;
use common::{env, median, range};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const UPSTREAM: &str = "http://api.example.com:18080/";
const DENIED: &str = "http://evil.example:18080/";
const NGINX: ([u8; 4], u16) = ([127, 0, 0, 1], 18080);
const SQUID: ([u8; 4], u16) = ([127, 0, 0, 1], 13128);
/// Requests of one case in a row before the next case's.
const BLOCK: usize = 20;

/// A resolver answering 127.0.0.1 for every name, without I/O, so the hyper
/// cases measure the client, not DNS.
#[derive(Clone)]
struct Loopback;

impl Service<Name> for Loopback {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: Name) -> Self::Future {
        std::future::ready(Ok(vec![SocketAddr::from(([127, 0, 0, 1], 0))].into_iter()))
    }
}

fn reachable(addr: ([u8; 4], u16)) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(addr), Duration::from_millis(200)).is_ok()
}

const CASES: [&str; 8] = [
    "reqwest plain",
    "reqwest enforced (EnforcedClient)",
    "reqwest through Squid",
    "hyper plain",
    "hyper enforced (connector + EnforcePolicyLayer)",
    "hyper enforced connector only",
    "hyper plain + EnforcePolicyLayer only",
    "hyper enforced, layer with the decision extension",
];

fn main() -> Result<(), BoxError> {
    if !reachable(NGINX) || !reachable(SQUID) {
        println!("end_to_end: needs nginx on 127.0.0.1:18080 and Squid on 127.0.0.1:13128; run benches/end_to_end.sh");
        return Ok(());
    }
    let rounds: usize = env("E2E_ROUNDS", 5).max(1);
    let per = env("E2E_PER", 2000).max(BLOCK);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(rounds, per))
}

async fn run(rounds: usize, per: usize) -> Result<(), BoxError> {
    let policy = SharedPolicy::new(Policy::from_toml_str(
        r#"
        version = 1
        mode = "sealed"
        [[allow]]
        id = "upstream"
        hosts = ["api.example.com"]
        schemes = ["http"]
        ports = [18080]
        resolves_to = ["127.0.0.1/32"]
        "#,
    )?);
    let lo: IpAddr = [127, 0, 0, 1].into();

    let plain_reqwest = reqwest::Client::builder()
        .no_proxy()
        .resolve("api.example.com", SocketAddr::new(lo, 18080))
        .build()?;
    let squid_reqwest = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http("http://127.0.0.1:13128")?)
        .build()?;
    let enforced_reqwest = egress_policy::reqwest::EnforcedClient::builder(policy.clone())
        .no_env_proxies()
        .resolve("api.example.com", &[lo])
        .build()?;

    let executor = TokioExecutor::new;
    let plain_hyper: Client<_, Empty<Bytes>> = Client::builder(executor()).build(HttpConnector::new_with_resolver(Loopback));
    let connector = egress_policy::hyper::https_connector_with_resolver(policy.clone(), None, Loopback)?;
    let enforced_hyper = EnforcePolicyLayer::new(policy.clone()).layer(Client::builder(executor()).build::<_, Empty<Bytes>>(connector));
    let connector = egress_policy::hyper::https_connector_with_resolver(policy.clone(), None, Loopback)?;
    let connector_only: Client<_, Empty<Bytes>> = Client::builder(executor()).build(connector);
    let layer_only = EnforcePolicyLayer::new(policy.clone()).layer(plain_hyper.clone());
    let connector = egress_policy::hyper::https_connector_with_resolver(policy.clone(), None, Loopback)?;
    let enforced_ext = EnforcePolicyLayer::new(policy.clone())
        .decision_extension()
        .layer(Client::builder(executor()).build::<_, Empty<Bytes>>(connector));

    // Every hyper case goes through `oneshot` on a clone, so they compare alike.
    let one = |case: usize| {
        let (plain_reqwest, enforced_reqwest, squid_reqwest) = (&plain_reqwest, &enforced_reqwest, &squid_reqwest);
        let (plain_hyper, enforced_hyper, connector_only, layer_only, enforced_ext) =
            (&plain_hyper, &enforced_hyper, &connector_only, &layer_only, &enforced_ext);
        async move {
            let req = || http::Request::get(UPSTREAM).body(Empty::<Bytes>::new());
            match case {
                0 => drop(plain_reqwest.get(UPSTREAM).send().await?.bytes().await?),
                1 => drop(enforced_reqwest.get(UPSTREAM).send().await?.bytes().await?),
                2 => {
                    let r = squid_reqwest.get(UPSTREAM).send().await?;
                    assert!(r.status().is_success(), "squid answered {}", r.status());
                    drop(r.bytes().await?);
                }
                3 => drop(plain_hyper.clone().oneshot(req()?).await?.into_body().collect().await?),
                4 => drop(enforced_hyper.clone().oneshot(req()?).await?.into_body().collect().await?),
                5 => drop(connector_only.clone().oneshot(req()?).await?.into_body().collect().await?),
                6 => drop(layer_only.clone().oneshot(req()?).await?.into_body().collect().await?),
                _ => drop(enforced_ext.clone().oneshot(req()?).await?.into_body().collect().await?),
            }
            Ok::<(), BoxError>(())
        }
    };

    if let Ok(case) = std::env::var("E2E_PROFILE") {
        let case: usize = case.parse()?;
        for _ in 0..rounds * per {
            one(case).await?;
        }
        return Ok(());
    }
    // Warm-up: connections pooled, caches warm.
    for case in 0..CASES.len() {
        for _ in 0..200 {
            one(case).await?;
        }
    }
    // p50 per case per round.
    let mut p50: Vec<Vec<f64>> = vec![Vec::new(); CASES.len()];
    for _ in 0..rounds {
        let mut lat: Vec<Vec<f64>> = vec![Vec::with_capacity(per); CASES.len()];
        for _ in 0..per / BLOCK {
            for (case, lat) in lat.iter_mut().enumerate() {
                for _ in 0..BLOCK {
                    let t = Instant::now();
                    one(case).await?;
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
            }
        }
        for (case, lat) in lat.iter_mut().enumerate() {
            p50[case].push(median(lat));
        }
    }
    // Added p50 of `case` over `base`, per round: median and range over rounds.
    let added = |case: usize, base: usize| {
        let mut d: Vec<f64> = p50[case].iter().zip(&p50[base]).map(|(c, b)| c - b).collect();
        let (lo, hi) = range(&d);
        (median(&mut d), lo, hi)
    };

    println!("{rounds} rounds x {per} requests per case, interleaved in blocks of {BLOCK}\n");
    println!("| case | p50 per request (µs, median of rounds) |");
    println!("|---|---|");
    for (case, name) in CASES.iter().enumerate() {
        println!("| {name} | {:.1} |", median(&mut p50[case].clone()));
    }
    println!("\n| added p50 per allowed request | median (range over rounds) |");
    println!("|---|---|");
    let rows = [
        ("reqwest `EnforcedClient` over plain reqwest", added(1, 0)),
        ("hyper connector + `EnforcePolicyLayer` over plain hyper", added(4, 3)),
        ("hyper connector only", added(5, 3)),
        ("`EnforcePolicyLayer` only", added(6, 3)),
        ("hyper connector + layer with the decision extension", added(7, 3)),
        ("Squid allowlist proxy over plain reqwest", added(2, 0)),
    ];
    for (name, (m, lo, hi)) in rows {
        println!("| {name} | {m:+.2} µs ({lo:+.2} … {hi:+.2}) |");
    }

    // Time to a denial: in-process errors vs Squid's 403, interleaved; and the
    // cost of building the same requests without sending them, so the
    // library's own share of a denial can be told apart.
    let mut deny: [Vec<f64>; 5] = Default::default();
    let denied_req = || http::Request::get(DENIED).body(Empty::<Bytes>::new());
    for i in 0..5 * per {
        let t = Instant::now();
        match i % 5 {
            0 => {
                let e = enforced_reqwest.get(DENIED).send().await.expect_err("must be denied");
                assert!(e.denied().is_some(), "{e}");
            }
            1 => {
                let e = enforced_hyper.clone().oneshot(denied_req()?).await.expect_err("must be denied");
                assert!(e.is::<egress_policy::Denied>(), "{e}");
            }
            2 => {
                let r = squid_reqwest.get(DENIED).send().await?;
                assert_eq!(r.status(), 403);
                drop(r.bytes().await?);
            }
            3 => drop(std::hint::black_box(plain_reqwest.get(DENIED).build()?)),
            _ => drop(std::hint::black_box((enforced_hyper.clone(), denied_req()?))),
        }
        deny[i % 5].push(t.elapsed().as_secs_f64() * 1e6);
    }
    let [r, h, s, r_build, h_build] = deny.each_mut().map(|v| median(v));
    println!("\n| time to a denial (p50) | µs | of which building the request |");
    println!("|---|---|---|");
    println!("| reqwest `EnforcedClient` | {r:.2} | {r_build:.2} (library: {:.2}) |", r - r_build);
    println!(
        "| hyper + `EnforcePolicyLayer` | {h:.2} | {h_build:.2} (library: {:.2}) |",
        h - h_build
    );
    println!("| Squid 403 | {s:.1} | — |");
    let (ours, hyper, ext, squid) = (added(1, 0).0, added(4, 3).0, added(7, 3).0, added(2, 0).0);
    println!(
        "\nRESULT added_reqwest_us={ours:.2} added_hyper_us={hyper:.2} added_hyper_ext_us={ext:.2} added_squid_us={squid:.1} ratio_reqwest={:.0}x ratio_hyper={:.0}x ratio_hyper_ext={:.0}x deny_reqwest_us={r:.2} deny_hyper_us={h:.2} deny_library_reqwest_us={:.2} deny_library_hyper_us={:.2} deny_squid_us={s:.1}",
        squid / ours.max(0.01),
        squid / hyper.max(0.01),
        squid / ext.max(0.01),
        r - r_build,
        h - h_build
    );
    Ok(())
}
