//! reqwest-middleware support: the request-level check as a `Middleware`.

use std::sync::Arc;

use egress_policy_core::Denied;
use http::Extensions;
use reqwest_middleware::{Middleware, Next, Result};

use crate::check::{Checker, Refused};
use crate::scope::scope;

/// The request-level check for reqwest-middleware stacks, made by
/// [`Builder::build_for_middleware`](crate::Builder::build_for_middleware)
/// together with the client it belongs to:
///
/// ```no_run
/// use egress_policy_core::{Policy, SharedPolicy};
/// use egress_policy_reqwest::Builder;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let policy = SharedPolicy::new(Policy::from_path("policy.toml")?);
/// let (client, enforce) = Builder::new(policy).client_name("billing").build_for_middleware()?;
/// let client = reqwest_middleware::ClientBuilder::new(client).with(enforce).build();
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
///
/// It makes the same checks as [`EnforcedClient`](crate::EnforcedClient): the
/// request and the proxy carrying it (re-decided on every request, so a policy
/// swap applies at once), local admission of targets behind a proxy, and the
/// decision handed to the client's resolver and redirect policy. Without it
/// (or with an `EnforceMiddleware` from another build) the client refuses
/// every lookup, new connection and redirect; a connection already in its pool
/// would still take a request, so never hand the bare client out.
///
/// Add it **last** (`.with(enforce)` after every other middleware), so it is the
/// innermost one and sees the request as it is sent: a middleware inside it that
/// rewrites the URL would send a request this check never saw (another name is
/// refused by the resolver, but the same name on another port or scheme, or an
/// IP literal, would go through).
///
/// A denial is `reqwest_middleware::Error::Middleware`; find it with
/// [`find_denied_middleware`]. reqwest errors passing through it lose their URL
/// (which may hold credentials or tokens).
#[derive(Debug, Clone)]
pub struct EnforceMiddleware {
    checker: Arc<Checker>,
}

impl EnforceMiddleware {
    pub(crate) fn new(checker: Arc<Checker>) -> Self {
        EnforceMiddleware { checker }
    }
}

#[async_trait::async_trait]
impl Middleware for EnforceMiddleware {
    async fn handle(&self, req: reqwest::Request, extensions: &mut Extensions, next: Next<'_>) -> Result<reqwest::Response> {
        let current = match self.checker.preflight(req.url()).await {
            Ok(current) => current,
            Err(Refused::Denied(denied)) => return Err(reqwest_middleware::Error::middleware(denied)),
            Err(Refused::Lookup(e)) => {
                return Err(reqwest_middleware::Error::middleware(crate::Error::from(Refused::Lookup(e))));
            }
        };
        scope(current, next.run(req, extensions)).await.map_err(|e| match e {
            reqwest_middleware::Error::Reqwest(e) => reqwest_middleware::Error::Reqwest(e.without_url()),
            other => other,
        })
    }
}

/// Finds the [`Denied`] in a reqwest-middleware error, whether the middleware
/// denied the request or reqwest did (redirect hop, lookup).
pub fn find_denied_middleware(err: &reqwest_middleware::Error) -> Option<&Denied> {
    match err {
        reqwest_middleware::Error::Middleware(e) => e.chain().find_map(|c| c.downcast_ref::<Denied>()),
        reqwest_middleware::Error::Reqwest(e) => Denied::find(e),
    }
}
