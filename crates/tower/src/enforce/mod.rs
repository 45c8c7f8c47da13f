//! Client-side enforcement: decide on every request before it is sent.

mod future;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use egress_policy_core::{Denied, Destination, Scheme, SharedPolicy};
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
    require_matching_host: bool,
}

impl<S> EnforcePolicy<S> {
    pub(crate) fn new(
        inner: S,
        policy: SharedPolicy,
        client: Option<Arc<str>>,
        default_scheme: Scheme,
        require_matching_host: bool,
    ) -> Self {
        EnforcePolicy {
            inner,
            policy,
            client,
            default_scheme,
            require_matching_host,
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
    destination_parts(req, default_scheme).map(|(scheme, authority)| format!("{scheme}://{authority}/"))
}

/// The scheme and authority [`destination_url`] is made of, borrowed.
fn destination_parts<'r, B>(req: &'r Request<B>, default_scheme: &'r Scheme) -> Option<(&'r str, &'r str)> {
    let uri = req.uri();
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        return Some((scheme, authority.as_str()));
    }
    if uri.authority().is_some() {
        return None; // an authority without a scheme is not a destination we can judge
    }
    Some((default_scheme.as_str(), strict_host_header(req)?))
}

/// The request's one `Host` header, when it is a plain `host[:port]`: several
/// `Host` headers, userinfo (`evil.example:80@allowed.example`, which parsers
/// split differently) or anything that is not an authority name no destination.
fn strict_host_header<B>(req: &Request<B>) -> Option<&str> {
    let mut values = req.headers().get_all(http::header::HOST).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() || value.is_empty() || value.contains('@') {
        return None;
    }
    value.parse::<http::uri::Authority>().ok()?;
    Some(value)
}

/// The schemes whose connection a decision describes: hyper-util connects any
/// other scheme (`ws`, `wss`, `ftp`) in plaintext to port 80 unless the URI
/// names a port, while the decision would use the scheme's own default port.
/// Compared exactly: the `http` crate reads `HTTPS://` from a string as the
/// standard scheme (`https`), but keeps a builder's `HTTPS` as another scheme,
/// which hyper-util does not treat as https.
fn judged_scheme(scheme: &str) -> bool {
    scheme == "http" || scheme == "https"
}

/// A request refused by
/// [`EnforcePolicyLayer::require_matching_host_header`]: its `Host` header names
/// another destination than its URI. Shows both as `scheme://host:port` only.
#[derive(Debug, Clone, thiserror::Error)]
#[error("egress-policy: the Host header ({header}) does not name the request's destination ({uri}); refused")]
#[non_exhaustive]
pub struct HostHeaderMismatch {
    /// The URI's destination.
    pub uri: String,
    /// The `Host` header's destination, or why it could not be read.
    pub header: String,
}

/// With an absolute URI and a `Host` header, whether they name different
/// destinations (host or port), compared in canonical form.
fn host_header_mismatch<B>(req: &Request<B>, decision: &egress_policy_core::Decision) -> Option<HostHeaderMismatch> {
    let uri = req.uri();
    let scheme = uri.scheme_str()?;
    uri.authority()?;
    let decided = decision.destination()?;
    let mut headers = req.headers().get_all(http::header::HOST).iter();
    let first = headers.next()?;
    let mismatch = |header: String| {
        Some(HostHeaderMismatch {
            uri: decided.to_string(),
            header,
        })
    };
    if headers.next().is_some() {
        return mismatch("several Host headers".into());
    }
    let Ok(value) = first.to_str() else {
        return mismatch("not valid text".into());
    };
    if value.contains('@') || value.parse::<http::uri::Authority>().is_err() {
        return mismatch("not a plain host[:port]".into());
    }
    match Destination::from_authority(scheme, value) {
        Ok(d) if d.host() == decided.host() && d.port() == decided.port() => None,
        Ok(d) => mismatch(d.to_string()),
        Err(_) => mismatch("unparsable".into()),
    }
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
        let client = self.client.as_deref();
        let decision = match destination_parts(&req, &self.default_scheme) {
            Some((scheme, authority)) if judged_scheme(scheme) => self.policy.decide_authority(scheme, authority, client),
            // Names no destination, or one whose connection the decision would
            // not describe: invalid.
            _ => self.policy.decide_url("", client),
        };
        if decision.blocks() {
            return ResponseFuture::denied(Denied::new(decision));
        }
        if self.require_matching_host
            && let Some(mismatch) = host_header_mismatch(&req, &decision)
        {
            return ResponseFuture::failed(Box::new(mismatch));
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
