//! SetSealedModeHeaderLayer on a real axum server on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use bytes::Bytes;
use egress_policy_core::{Policy, SharedPolicy};
use egress_policy_tower::SetSealedModeHeaderLayer;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn policy(mode: &str) -> Policy {
    Policy::from_toml_str(&format!("version = 1\nmode = \"{mode}\"\n")).unwrap()
}

async fn headers(addr: std::net::SocketAddr, path: &str) -> (StatusCode, http::HeaderMap) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let res = client.get(format!("http://{addr}{path}").parse().unwrap()).await.unwrap();
    (res.status(), res.headers().clone())
}

#[tokio::test]
async fn header_follows_mode_overwrites_handlers_and_tracks_swaps() {
    let shared = SharedPolicy::new(policy("sealed"));
    let router = Router::new()
        .route("/", get(|| async { "hello" }))
        .route(
            "/liar",
            get(|| async { ([("x-sealed-mode", "false"), ("x-sealed-mode", "maybe")], "lying handler") }),
        )
        .route("/fail", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }))
        .layer(SetSealedModeHeaderLayer::new(shared.clone()));
    let addr = serve(router).await;

    for path in ["/", "/liar", "/fail", "/no-such-route"] {
        let (status, h) = headers(addr, path).await;
        let values: Vec<_> = h.get_all("x-sealed-mode").iter().collect();
        assert_eq!(values, ["true"], "{path} ({status})");
        assert!(h.get("x-egress-policy-digest").is_none(), "identity headers are opt-in");
    }

    shared.store(policy("open"));
    let (_, h) = headers(addr, "/liar").await;
    assert_eq!(h.get_all("x-sealed-mode").iter().collect::<Vec<_>>(), ["false"]);

    shared.store(policy("constrained"));
    assert_eq!(headers(addr, "/").await.1["x-sealed-mode"], "false");
    shared.store(policy("sealed"));
    assert_eq!(headers(addr, "/").await.1["x-sealed-mode"], "true");
}

#[tokio::test]
async fn identity_headers_when_asked() {
    let shared = SharedPolicy::new(policy("sealed"));
    let router = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(SetSealedModeHeaderLayer::new(shared.clone()).with_policy_identity());
    let addr = serve(router).await;
    let (_, h) = headers(addr, "/").await;
    assert_eq!(h["x-egress-policy-generation"], "1");
    assert_eq!(h["x-egress-policy-digest"], shared.load().digest().to_string().as_str());
    shared.store(policy("open"));
    assert_eq!(headers(addr, "/").await.1["x-egress-policy-generation"], "2");
}

/// Sealed means sealed **and enforced**: an observed sealed policy lets every
/// destination through, so it must not be reported as sealed.
#[tokio::test]
async fn an_observed_sealed_policy_is_not_reported_sealed() {
    let observed = Policy::from_toml_str("version = 1\nmode = \"sealed\"\nenforcement = \"observe\"\n").unwrap();
    let shared = SharedPolicy::new(observed);
    let router = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(SetSealedModeHeaderLayer::new(shared.clone()).with_policy_identity());
    let addr = serve(router).await;
    let (_, h) = headers(addr, "/").await;
    assert_eq!(h["x-sealed-mode"], "false");
    assert_eq!(h["x-egress-enforcement"], "observe");
    shared.store(policy("sealed"));
    let (_, h) = headers(addr, "/").await;
    assert_eq!(
        (&h["x-sealed-mode"], &h["x-egress-enforcement"]),
        (
            &"true".parse::<http::HeaderValue>().unwrap(),
            &"enforce".parse::<http::HeaderValue>().unwrap()
        )
    );
}
