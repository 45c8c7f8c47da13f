//! reqwest-middleware support: the request-level check as a `Middleware`.

use std::sync::Arc;

use egress_policy_core::{Denied, Destination, SharedPolicy};
use http::Extensions;
use reqwest_middleware::{Middleware, Next, Result};

/// The request-level check for reqwest-middleware stacks.
///
/// This is **one** of the pieces: combine it with a client from
/// [`Builder::build_for_middleware`](crate::Builder::build_for_middleware), which
/// installs the filtering resolver, the redirect policy (reqwest-middleware does
/// not see redirect hops) and the proxy stance:
///
/// ```no_run
/// use egress_policy_core::{Policy, SharedPolicy};
/// use egress_policy_reqwest::{Builder, EnforceMiddleware};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let policy = SharedPolicy::new(Policy::from_path("policy.toml")?);
/// let client = reqwest_middleware::ClientBuilder::new(Builder::new(policy.clone()).build_for_middleware()?)
///     .with(EnforceMiddleware::new(policy))
///     .build();
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
///
/// A denial is `reqwest_middleware::Error::Middleware`; find it with
/// [`find_denied_middleware`] (reqwest-middleware's errors hide it from a plain
/// `source()` walk).
#[derive(Debug, Clone)]
pub struct EnforceMiddleware {
    policy: SharedPolicy,
    client: Option<Arc<str>>,
}

impl EnforceMiddleware {
    /// Checks every request against `policy`, as an unnamed client.
    pub fn new(policy: SharedPolicy) -> Self {
        EnforceMiddleware { policy, client: None }
    }
    /// Decides as the client `name`; use the same name as the client's builder.
    pub fn client_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.client = Some(name.into());
        self
    }
}

#[async_trait::async_trait]
impl Middleware for EnforceMiddleware {
    async fn handle(&self, req: reqwest::Request, extensions: &mut Extensions, next: Next<'_>) -> Result<reqwest::Response> {
        let decision = match Destination::from_url(req.url()) {
            Ok(dest) => self.policy.decide(&dest, self.client.as_deref()),
            Err(_) => self.policy.decide_url(req.url().as_str(), self.client.as_deref()),
        };
        if decision.blocks() {
            return Err(reqwest_middleware::Error::middleware(Denied::new(decision)));
        }
        next.run(req, extensions).await
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
