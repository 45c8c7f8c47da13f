use std::sync::Arc;

use egress_policy_core::{Scheme, SharedPolicy};
use tower_layer::Layer;

use super::EnforcePolicy;

/// Applies [`EnforcePolicy`]: every request is decided on before it is sent.
///
/// - Absolute request URIs are decided on their scheme and authority.
/// - Relative URIs fall back to the `Host` header with the
///   [`default_scheme`](EnforcePolicyLayer::default_scheme) (`https` unless set);
///   a request with neither is denied as `invalid`.
/// - A blocked request returns [`Denied`](egress_policy_core::Denied) without
///   calling the inner service.
#[derive(Debug, Clone)]
pub struct EnforcePolicyLayer {
    policy: SharedPolicy,
    client: Option<Arc<str>>,
    default_scheme: Scheme,
}

impl EnforcePolicyLayer {
    /// Enforces `policy` for an unnamed client.
    pub fn new(policy: SharedPolicy) -> Self {
        EnforcePolicyLayer {
            policy,
            client: None,
            default_scheme: Scheme::Https,
        }
    }

    /// Decides as the client `name`: it also gets the rules whose `clients` name it.
    pub fn client(mut self, name: impl Into<Arc<str>>) -> Self {
        self.client = Some(name.into());
        self
    }

    /// The scheme assumed for relative URIs taken from the `Host` header.
    pub fn default_scheme(mut self, scheme: Scheme) -> Self {
        self.default_scheme = scheme;
        self
    }
}

impl<S> Layer<S> for EnforcePolicyLayer {
    type Service = EnforcePolicy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EnforcePolicy::new(inner, self.policy.clone(), self.client.clone(), self.default_scheme.clone())
    }
}
