//! A sealed reqwest client against loopback upstreams: one allowed response, and
//! denials (a direct one and a redirect hop) with their reasons.
//!
//! ```text
//! cargo run --example reqwest_client --features reqwest
//! ```

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use egress_policy::reqwest::EnforcedClient;
use egress_policy::{Policy, SharedPolicy};

async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let forbidden = serve(Router::new().route("/", get(|| async { "you should never see this" }))).await;
    let forbidden_url = format!("http://{forbidden}/");
    let allowed = serve(
        Router::new()
            .route("/", get(|| async { "hello from the allowed upstream" }))
            .route("/jump", get(move || async move { Redirect::temporary(&forbidden_url) })),
    )
    .await;

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
    let client = EnforcedClient::builder(policy).build()?;

    let body = client.get(format!("http://{allowed}/")).send().await?.text().await?;
    println!("allowed:  {body}");

    for url in [format!("http://{forbidden}/"), format!("http://{allowed}/jump")] {
        match client.get(&url).send().await {
            Ok(res) => println!("unexpected: {url} answered {}", res.status()),
            Err(e) => match e.denied() {
                Some(denied) => println!("denied:   {url}\n          {denied}"),
                None => println!("failed:   {url}: {e:#}"),
            },
        }
    }
    Ok(())
}
