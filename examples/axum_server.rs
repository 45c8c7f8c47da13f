//! An axum service with the `X-Sealed-Mode` header layer whose handler calls out
//! through the enforced client. The example starts it on loopback, calls it, flips
//! the policy from sealed to open, calls it again, and exits.
//!
//! ```text
//! cargo run --example axum_server --features tower,hyper
//! ```

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use bytes::Bytes;
use egress_policy::hyper::EnforcedHttpsConnector;
use egress_policy::tower::SetSealedModeHeaderLayer;
use egress_policy::{Denied, Policy, SharedPolicy};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;

type Outbound = Client<EnforcedHttpsConnector, Empty<Bytes>>;

/// Calls a partner API through the enforced client and reports what happened.
async fn relay(State((client, target)): State<(Outbound, String)>) -> String {
    match client.get(target.parse().expect("uri")).await {
        Ok(res) => format!("partner answered {}", res.status()),
        Err(e) => match Denied::find(&e) {
            Some(d) => format!("outbound call blocked: {d}"),
            None => format!("outbound call failed: {e}"),
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let policy = SharedPolicy::new(Policy::from_toml_str("version = 1\nmode = \"sealed\"\n")?);
    let outbound = egress_policy::hyper::https_client::<Empty<Bytes>>(policy.clone(), None)?;

    // A "partner" on loopback that the sealed policy does not name.
    let partner = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let partner_url = format!("http://{}/", partner.local_addr()?);
    tokio::spawn(async move { axum::serve(partner, Router::new().route("/", get(|| async { "partner" }))).await });

    let app = Router::new()
        .route("/relay", get(relay))
        .with_state((outbound, partner_url))
        .layer(SetSealedModeHeaderLayer::new(policy.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let caller: Client<_, Empty<Bytes>> = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    for _ in 0..2 {
        let res = caller.get(format!("http://{addr}/relay").parse()?).await?;
        let sealed = res.headers().get("x-sealed-mode").cloned();
        let body = res.into_body().collect().await?.to_bytes();
        println!("X-Sealed-Mode: {sealed:?} -> {}", String::from_utf8_lossy(&body));
        // Switch to open mode: the next response says so, and the call goes out.
        policy.store(Policy::from_toml_str("version = 1\nmode = \"open\"\n")?);
    }
    Ok(())
}
