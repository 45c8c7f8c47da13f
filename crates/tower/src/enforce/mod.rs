//! Client-side enforcement: decide on every request before it is sent.

mod future;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use egress_policy_core::{Denied, Scheme, SharedPolicy};
use http::Request;
use tower_service::Service;

pub use future::ResponseFuture;
pub use layer::EnforcePolicyLayer;

/// Decides on every request's destination before calling the inner service.
/// See [`EnforcePolicyLayer`].
#[derive(Debug, Clone)]
pub struct EnforcePolicy<S> {
    inner: S,
    policy: SharedPolicy,
    client: Option<Arc<str>>,
    default_scheme: Scheme,
}

impl<S> EnforcePolicy<S> {
    pub(crate) fn new(inner: S, policy: SharedPolicy, client: Option<Arc<str>>, default_scheme: Scheme) -> Self {
        EnforcePolicy {
            inner,
            policy,
            client,
            default_scheme,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

/// The `scheme://authority/` a request goes to, as a string for the WHATWG
/// parser: the absolute URI's scheme and authority, or (for a relative URI) the
/// `Host` header with `default_scheme`. `None` when neither names a destination.
///
/// Only scheme and authority are used, so path and query never reach a decision
/// or a log line.
pub fn destination_url<B>(req: &Request<B>, default_scheme: &Scheme) -> Option<String> {
    let uri = req.uri();
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        return Some(format!("{scheme}://{authority}/"));
    }
    if uri.authority().is_some() {
        return None; // an authority without a scheme is not a destination we can judge
    }
    let host = req.headers().get(http::header::HOST)?.to_str().ok()?;
    (!host.is_empty()).then(|| format!("{default_scheme}://{host}/"))
}

impl<S, B> Service<Request<B>> for EnforcePolicy<S>
where
    S: Service<Request<B>>,
    S::Error: Into<crate::BoxError>,
{
    type Response = S::Response;
    type Error = crate::BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let url = destination_url(&req, &self.default_scheme).unwrap_or_default();
        let decision = self.policy.decide_url(&url, self.client.as_deref());
        if decision.blocks() {
            return ResponseFuture::denied(Denied::new(decision));
        }
        req.extensions_mut().insert(decision);
        ResponseFuture::called(self.inner.call(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_of_requests() {
        let https = Scheme::Https;
        let req = |uri: &str, host: Option<&str>| {
            let mut b = Request::get(uri);
            if let Some(h) = host {
                b = b.header("host", h);
            }
            destination_url(&b.body(()).expect("request"), &https)
        };
        assert_eq!(
            req("http://user:pw@API.example:8080/p?q=1", None).as_deref(),
            Some("http://user:pw@API.example:8080/")
        );
        assert_eq!(req("/relative?x", Some("api.example")).as_deref(), Some("https://api.example/"));
        assert_eq!(req("/relative", None), None);
        assert_eq!(req("/relative", Some("")), None);
    }
}
