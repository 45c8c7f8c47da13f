use egress_policy_core::SharedPolicy;
use tower_layer::Layer;

use super::SetSealedModeHeader;

/// Applies [`SetSealedModeHeader`]: every response gets `X-Sealed-Mode: true`
/// when the live policy is sealed and enforced, `false` otherwise (an observed
/// sealed policy lets everything through: it is not sealed).
///
/// The header **replaces** any value a handler or upstream set, and the policy is
/// re-read for every response, so a reload shows on the next one. Wrap the whole
/// router (outermost), so error responses produced by inner layers are stamped too.
///
/// ```
/// use egress_policy_core::{Policy, SharedPolicy};
/// use egress_policy_tower::SetSealedModeHeaderLayer;
/// # fn main() -> Result<(), egress_policy_core::LoadError> {
/// let policy = SharedPolicy::new(Policy::from_toml_str("version = 1\nmode = \"sealed\"\n")?);
/// let layer = SetSealedModeHeaderLayer::new(policy).with_policy_identity();
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SetSealedModeHeaderLayer {
    policy: SharedPolicy,
    identity: bool,
}

impl SetSealedModeHeaderLayer {
    /// Stamps `X-Sealed-Mode` from `policy`.
    pub fn new(policy: SharedPolicy) -> Self {
        SetSealedModeHeaderLayer { policy, identity: false }
    }

    /// Also stamps `X-Egress-Policy-Generation` and `X-Egress-Policy-Digest`
    /// (off by default: they tell callers which policy build is deployed).
    pub fn with_policy_identity(mut self) -> Self {
        self.identity = true;
        self
    }
}

impl<S> Layer<S> for SetSealedModeHeaderLayer {
    type Service = SetSealedModeHeader<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SetSealedModeHeader::new(inner, self.policy.clone(), self.identity)
    }
}
