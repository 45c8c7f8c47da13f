#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Enforcement costs: time to a `Denied` error in the tower layer, and
//! the layer's overhead on an allowed request to a loopback server.
//!
//! ```text
//! cargo bench --features tower,hyper --bench enforce
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use egress_policy::tower::EnforcePolicyLayer;
use egress_policy::{Policy, SharedPolicy};
use egress_policy_testkit::CountingServer;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Layer, Service, ServiceExt};

fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    pin!(f).poll(&mut cx)
}

fn deny(c: &mut Criterion) {
    let policy = SharedPolicy::new(
        Policy::from_toml_str("version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example.com\", \"*.cdn.example.com\"]\n")
            .expect("policy"),
    );
    let inner = tower::service_fn(|_req: http::Request<()>| async { Ok::<_, Infallible>(http::Response::new(())) });
    let mut svc = EnforcePolicyLayer::new(policy).layer(inner);
    let mut group = c.benchmark_group("tower_layer");
    group.bench_function("deny_to_error", |b| {
        b.iter(|| {
            let req = http::Request::get("https://evil.example.net/path?q=1").body(()).expect("request");
            let Poll::Ready(Err(e)) = poll_once(svc.call(black_box(req))) else {
                panic!("not denied")
            };
            black_box(e)
        })
    });
    group.bench_function("allow_to_inner_response", |b| {
        b.iter(|| {
            let req = http::Request::get("https://api.example.com/path?q=1").body(()).expect("request");
            let Poll::Ready(Ok(r)) = poll_once(svc.call(black_box(req))) else {
                panic!("not allowed")
            };
            black_box(r)
        })
    });
    group.finish();
}

fn loopback_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(CountingServer::ok());
    let url = server.url("/");
    let policy = SharedPolicy::new(
        Policy::from_toml_str(&format!(
            "version = 1\n[[allow]]\nid = \"up\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n",
            server.port()
        ))
        .expect("policy"),
    );
    let plain = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let layered = EnforcePolicyLayer::new(policy).layer(plain.clone());

    let mut group = c.benchmark_group("loopback_request");
    group.bench_function("plain_client", |b| {
        b.to_async(&rt).iter(|| async {
            let req = http::Request::get(url.as_str()).body(Empty::new()).expect("request");
            let res = plain.clone().oneshot(req).await.expect("response");
            black_box(res.into_body().collect().await.expect("body"));
        })
    });
    group.bench_function("with_enforce_layer", |b| {
        b.to_async(&rt).iter(|| async {
            let req = http::Request::get(url.as_str()).body(Empty::new()).expect("request");
            let res = layered.clone().oneshot(req).await.expect("response");
            black_box(res.into_body().collect().await.expect("body"));
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(4));
    targets = deny, loopback_overhead
}
criterion_main!(benches);
