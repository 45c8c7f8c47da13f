//! The metrics of `egress_policy_core::docs::audit`, scraped in the Prometheus text format from a real
//! `/metrics` endpoint on loopback. Its own test binary: the metrics recorder is
//! process-global.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use axum::Router;
use axum::routing::get;
use egress_policy::Destination;
use egress_policy::watch::Watcher;
use metrics_exporter_prometheus::PrometheusBuilder;

async fn scrape(addr: std::net::SocketAddr) -> String {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let res = client.get(format!("http://{addr}/metrics").parse().unwrap()).await.unwrap();
    assert_eq!(res.status(), 200);
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

fn series<'a>(text: &'a str, name: &str, labels: &[&str]) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|want| l.contains(want)))
        .collect()
}

#[tokio::test]
async fn prometheus_scrape_has_the_expected_series() {
    let handle = PrometheusBuilder::new().install_recorder().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let h = handle.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            Router::new().route("/metrics", get(move || std::future::ready(h.render()))),
        )
        .await
    });

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(
        &path,
        "version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example\"]\nexpires = \"2999-01-01\"\n[[deny]]\nid = \"no-meta\"\ncidrs = [\"169.254.169.254/32\"]\n",
    )
    .unwrap();
    // Reloads only through `reload_now`: file events would add reloads of their own.
    let watcher = Watcher::builder(&path).poll_interval(None).without_file_events().start().unwrap();
    let shared = watcher.policy();
    shared.decide_url("https://api.example/", None); // allowed by rule
    shared.decide_url("https://evil.example/secret", None); // denied
    shared.decide_url("http://169.254.169.254/", None); // denied by rule
    let dest = Destination::parse_url("https://api.example/").unwrap();
    shared.admit(&dest, &["127.0.0.1".parse().unwrap(), "93.184.216.34".parse().unwrap()], None);
    std::fs::write(&path, "version = 1\nenforcement = \"observe\"\n").unwrap();
    assert!(matches!(watcher.reload_now(), egress_policy::watch::Outcome::Applied(_)));
    std::fs::write(&path, "version = 1\n[[allow]\n").unwrap();
    watcher.reload_now();
    shared.decide_url("https://observed.example/", None); // would-deny under observe

    let text = scrape(addr).await;
    let one = |name: &str, labels: &[&str]| {
        let found = series(&text, name, labels);
        assert_eq!(found.len(), 1, "{name} {labels:?} in:\n{text}");
        found[0].rsplit(' ').next().unwrap().parse::<f64>().unwrap()
    };
    assert_eq!(
        one(
            "egress_decisions_total{",
            &[
                "verdict=\"allow\"",
                "reason=\"allowed_by_rule\"",
                "mode=\"sealed\"",
                "enforced=\"true\""
            ]
        ),
        2.0
    );
    assert_eq!(
        one(
            "egress_decisions_total{",
            &["verdict=\"deny\"", "reason=\"no_matching_rule\"", "enforced=\"true\""]
        ),
        1.0
    );
    assert_eq!(
        one("egress_decisions_total{", &["verdict=\"deny\"", "reason=\"denied_by_rule\""]),
        1.0
    );
    assert_eq!(
        one(
            "egress_decisions_total{",
            &["verdict=\"deny\"", "reason=\"no_matching_rule\"", "enforced=\"false\""]
        ),
        1.0
    );
    assert_eq!(one("egress_rule_hits_total{", &["rule=\"api\""]), 2.0);
    assert_eq!(one("egress_rule_hits_total{", &["rule=\"no-meta\""]), 1.0);
    assert_eq!(one("egress_resolved_addresses_dropped_total", &[]), 1.0);
    assert_eq!(one("egress_policy_reloads_total{", &["outcome=\"applied\""]), 1.0);
    assert_eq!(one("egress_policy_reloads_total{", &["outcome=\"rejected\""]), 1.0);
    assert_eq!(one("egress_policy_generation", &[]), 2.0);
    let left = one("egress_rule_expiry_seconds{", &["rule=\"api\""]);
    assert!(left > 86_400.0 * 365.0 * 900.0, "{left}");
    for line in text.lines() {
        assert!(
            !line.contains("host=") && !line.contains("evil.example") && !line.contains("secret"),
            "host in a label: {line}"
        );
    }
}
