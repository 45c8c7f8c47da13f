#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Enforcement costs: the tower layer's own call, to a `Denied` error and to
//! the inner service's response. What the layer adds to a real request on
//! loopback is measured by `benches/end_to_end.rs`, with the cases
//! interleaved (a criterion pair runs one case after the other, and the
//! machine's drift between them was larger than the difference).
//!
//! ```text
//! cargo bench --features tower --bench enforce
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use egress_policy::tower::EnforcePolicyLayer;
use egress_policy::{Policy, SharedPolicy};
use tower::{Layer, Service};

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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(4));
    targets = deny
}
criterion_main!(benches);
