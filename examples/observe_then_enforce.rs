//! The observe-then-enforce loop, end to end on loopback:
//!
//! 1. run a service's outbound client under an `observe` policy, recording what it contacts;
//! 2. flush the observations to a file (JSON lines);
//! 3. `suggest` an allowlist from them, review it (here: fill in the placeholders);
//! 4. enforce it: what was observed is allowed, anything new is denied.
//!
//! Metrics go to a Prometheus endpoint on loopback, printed at the end.
//!
//! ```text
//! cargo run --example observe_then_enforce --features reqwest
//! ```

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use egress_policy::reqwest::EnforcedClient;
use egress_policy::{Policy, Recorder, SharedPolicy};
use egress_policy_cli::suggest::{Options, read_period, suggest};

async fn upstream(body: &'static str) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, Router::new().route("/", get(move || async move { body }))).await });
    addr
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let (payments, search, newcomer) = (upstream("payments").await, upstream("search").await, upstream("newcomer").await);
    let dir = tempfile::tempdir()?;
    let observations = dir.path().join("observations.jsonl");

    // 1. Observe: nothing fails, everything is recorded.
    let policy = SharedPolicy::new(Policy::from_toml_str(
        "version = 1\nmode = \"sealed\"\nenforcement = \"observe\"\n",
    )?);
    let recorder = Arc::new(Recorder::default());
    policy.set_recorder(Some(recorder.clone()));
    let client = EnforcedClient::builder(policy.clone()).no_env_proxies().build()?;
    for addr in [payments, search, payments] {
        let body = client.get(format!("http://{addr}/")).send().await?.text().await?;
        println!("observe: http://{addr}/ -> {body}");
    }

    // 2. Flush (a service would run `recorder.spawn_flusher(path, interval)`).
    recorder.append_to(&observations)?;

    // 3. Suggest, then review: a person fills in owner, reason and expiry.
    let suggestion = suggest(&[read_period(&observations)?], &Options::default());
    println!("\n--- suggested policy ---\n{}", suggestion.policy);
    let reviewed = suggestion
        .policy
        .replace("owner = \"FILL-IN\"", "owner = \"platform@example.com\"")
        .replace("reason = \"FILL-IN:", "reason = \"reviewed:")
        .replace("# expires = \"YYYY-MM-DD\"", "expires = \"2027-06-30\"\n#");

    // 4. Enforce it on the same live handle.
    policy.store(Policy::from_toml_str(&reviewed)?);
    for addr in [payments, search, newcomer] {
        match client.get(format!("http://{addr}/")).send().await {
            Ok(res) => println!("enforce: http://{addr}/ -> {}", res.text().await?),
            Err(e) => println!("enforce: http://{addr}/ -> {e}"),
        }
    }

    println!("\n--- metrics ---");
    for line in metrics.render().lines().filter(|l| l.starts_with("egress_")) {
        println!("{line}");
    }
    Ok(())
}
