//! A sealed client calling one allowed and one denied upstream, both on loopback.
//!
//! ```text
//! cargo run --example tower_client --features tower,hyper
//! ```

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use egress_policy::tower::EnforcePolicyLayer;
use egress_policy::{Denied, Policy, SharedPolicy};
use http_body_util::{BodyExt, Empty};
use tower::{Layer, ServiceExt};

async fn upstream(name: &'static str) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, Router::new().route("/", get(move || async move { name }))).await });
    addr
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let allowed = upstream("hello from the allowed upstream").await;
    let denied = upstream("you should never see this").await;

    // Sealed: only the first upstream's port on loopback.
    let policy = SharedPolicy::new(Policy::from_toml_str(&format!(
        r#"
        version = 1
        mode = "sealed"

        [[allow]]
        id = "local-upstream"
        cidrs = ["127.0.0.1/32"]
        schemes = ["http"]
        ports = [{}]
        owner = "example@example.com"
        reason = "demo"
        "#,
        allowed.port()
    ))?);

    // The enforced hyper client (connector + resolver), plus the request-level layer.
    let client = egress_policy::hyper::https_client::<Empty<Bytes>>(policy.clone(), None)?;
    let svc = EnforcePolicyLayer::new(policy).layer(client);

    for addr in [allowed, denied] {
        let req = http::Request::get(format!("http://{addr}/")).body(Empty::new())?;
        match svc.clone().oneshot(req).await {
            Ok(res) => {
                let body = res.into_body().collect().await?.to_bytes();
                println!("{addr}: {}", String::from_utf8_lossy(&body));
            }
            Err(err) => match Denied::find(&*err) {
                Some(d) => println!("{addr}: {d}"),
                None => println!("{addr}: error: {err}"),
            },
        }
    }
    Ok(())
}
