//! Client-side enforcement: decide on every request before it is sent.

mod future;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use egress_policy_core::{Decision, Denied, Destination, Scheme, SharedPolicy};
use http::Request;
use tower_service::Service;

pub use future::ResponseFuture;
pub use layer::EnforcePolicyLayer;

/// Decides on every request's destination before calling the inner service.
/// See [`EnforcePolicyLayer`].
#[derive(Debug, Clone)]
pub struct EnforcePolicy<S> {
    inner: S,
    /// Shared by every clone: cloning the service (as `oneshot` callers do
    /// per request) writes one reference count.
    settings: Arc<Settings>,
}

/// What an [`EnforcePolicyLayer`] was configured with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) policy: SharedPolicy,
    pub(crate) client: Option<Arc<str>>,
    pub(crate) default_scheme: Scheme,
    pub(crate) require_matching_host: bool,
    pub(crate) decision_extension: bool,
}

impl<S> EnforcePolicy<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> Self {
        EnforcePolicy { inner, settings }
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
/// destinations (host or port) than `decided`, compared in canonical form.
fn host_header_mismatch<B>(req: &Request<B>, decided: &Destination) -> Option<HostHeaderMismatch> {
    let uri = req.uri();
    let scheme = uri.scheme_str()?;
    uri.authority()?;
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

/// What the decision on a request leads to.
enum Verdict {
    /// Refused: the owned decision goes into the error.
    Denied(Decision),
    /// Goes on, with the owned decision when the extension wants it.
    Proceed(Option<Decision>),
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
        let settings = &*self.settings;
        let client = settings.client.as_deref();
        let dest = match destination_parts(&req, &settings.default_scheme) {
            Some((scheme, authority)) if judged_scheme(scheme) => Destination::from_authority(scheme, authority).ok(),
            // Names no destination, or one whose connection the decision would
            // not describe: invalid.
            _ => None,
        };
        let verdict = match &dest {
            // Borrowed: an owned decision (which takes the matched rule's
            // reference count) is made only for an error or the extension.
            Some(dest) => settings.policy.with_decision(dest, client, |d| {
                if d.blocks() {
                    Verdict::Denied(d.to_decision())
                } else {
                    Verdict::Proceed(settings.decision_extension.then(|| d.to_decision()))
                }
            }),
            None => {
                let decision = settings.policy.decide_url("", client);
                match decision.blocks() {
                    true => Verdict::Denied(decision),
                    false => Verdict::Proceed(settings.decision_extension.then_some(decision)),
                }
            }
        };
        let decision = match verdict {
            Verdict::Denied(decision) => return ResponseFuture::denied(Denied::new(decision)),
            Verdict::Proceed(decision) => decision,
        };
        if settings.require_matching_host
            && let Some(dest) = &dest
            && let Some(mismatch) = host_header_mismatch(&req, dest)
        {
            return ResponseFuture::failed(Box::new(mismatch));
        }
        match decision {
            Some(decision) => {
                req.extensions_mut().insert(decision);
            }
            // No stale decision (the caller's, or an outer layer's) reaches
            // inner layers as if this one had made it.
            None => {
                req.extensions_mut().remove::<Decision>();
            }
        }
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
