//! Server-side: stamp `X-Sealed-Mode: true|false` on every response.
//!
//! `true` means the live policy is **sealed and enforced**
//! ([`Policy::is_sealed`](egress_policy_core::Policy::is_sealed)): a `sealed`
//! policy under `enforcement = "observe"` lets every destination through, so it
//! is reported as `false`. With
//! [`with_policy_identity`](SetSealedModeHeaderLayer::with_policy_identity) the
//! response also carries `X-Egress-Enforcement: enforce|observe`, the policy's
//! generation and its digest, so a probe can tell "open" from "sealed but only
//! observed".

mod future;
mod layer;

use std::task::{Context, Poll};

use egress_policy_core::SharedPolicy;
use http::{HeaderName, HeaderValue, Request, Response};
use tower_service::Service;

pub use future::ResponseFuture;
pub use layer::SetSealedModeHeaderLayer;

/// `x-sealed-mode`.
pub const SEALED_MODE: HeaderName = HeaderName::from_static("x-sealed-mode");
/// `x-egress-policy-generation` (opt-in).
pub const POLICY_GENERATION: HeaderName = HeaderName::from_static("x-egress-policy-generation");
/// `x-egress-policy-digest` (opt-in).
pub const POLICY_DIGEST: HeaderName = HeaderName::from_static("x-egress-policy-digest");
/// `x-egress-enforcement`: `enforce` or `observe` (opt-in, with the identity headers).
pub const ENFORCEMENT: HeaderName = HeaderName::from_static("x-egress-enforcement");

/// Sets `X-Sealed-Mode` on every response. See [`SetSealedModeHeaderLayer`].
#[derive(Debug, Clone)]
pub struct SetSealedModeHeader<S> {
    inner: S,
    policy: SharedPolicy,
    identity: bool,
}

impl<S> SetSealedModeHeader<S> {
    pub(crate) fn new(inner: S, policy: SharedPolicy, identity: bool) -> Self {
        SetSealedModeHeader { inner, policy, identity }
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for SetSealedModeHeader<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        ResponseFuture::new(self.inner.call(req), self.policy.clone(), self.identity)
    }
}

/// Stamps the headers from the policy in force now (read when the response is ready).
pub(crate) fn stamp<B>(res: &mut Response<B>, policy: &SharedPolicy, identity: bool) {
    let current = policy.load();
    let value = HeaderValue::from_static(if current.is_sealed() { "true" } else { "false" });
    let headers = res.headers_mut();
    headers.insert(SEALED_MODE, value);
    if identity {
        headers.insert(ENFORCEMENT, HeaderValue::from_static(current.enforcement().as_str()));
        headers.insert(POLICY_GENERATION, HeaderValue::from(current.generation()));
        if let Ok(v) = HeaderValue::from_str(&current.digest().to_string()) {
            headers.insert(POLICY_DIGEST, v);
        }
    }
}
