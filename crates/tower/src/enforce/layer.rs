use std::sync::Arc;

use egress_policy_core::{Scheme, SharedPolicy};
use tower_layer::Layer;

use super::{EnforcePolicy, Settings};

/// Applies [`EnforcePolicy`]: every request is decided on before it is sent.
///
/// - Absolute request URIs are decided on their scheme and authority.
/// - Relative URIs fall back to the `Host` header with the
///   [`default_scheme`](EnforcePolicyLayer::default_scheme) (`https` unless set).
///   The header must be one plain `host[:port]`: several `Host` headers, or one
///   with userinfo (`evil.example:80@allowed.example`, which parsers split
///   differently), name no destination.
/// - Only `http` and `https` are judged: hyper-util connects any other scheme
///   (`ws`, `wss`, `ftp`) in plaintext to port 80, which a decision on `wss:443`
///   would not describe. Requests that name no judged destination are denied as
///   `invalid`.
/// - A blocked request returns [`Denied`](egress_policy_core::Denied) without
///   calling the inner service.
#[derive(Debug, Clone)]
pub struct EnforcePolicyLayer {
    settings: Settings,
}

impl EnforcePolicyLayer {
    /// Enforces `policy` for an unnamed client.
    pub fn new(policy: SharedPolicy) -> Self {
        EnforcePolicyLayer {
            settings: Settings {
                policy,
                client: None,
                default_scheme: Scheme::Https,
                require_matching_host: false,
                decision_extension: false,
            },
        }
    }

    /// Decides as the client `name`: it also gets the rules whose `clients` name it.
    pub fn client_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.settings.client = Some(name.into());
        self
    }

    /// Refuses a request whose URI is absolute and whose `Host` header names
    /// another host or port than the URI (or that has several `Host` headers),
    /// with a [`HostHeaderMismatch`](super::HostHeaderMismatch) error.
    ///
    /// The decision is made on the URI's authority, which is where the
    /// connection goes; hyper sends a caller-supplied `Host` header unchanged. A
    /// CDN or shared front end that routes by `Host` would then forward the
    /// request to a site the policy never saw (domain fronting through an
    /// allowed front). Turn this on when callers can set headers and the
    /// allowed destinations include shared front ends. Off by default, because
    /// setting `Host` to reach a virtual host on an allowed address is
    /// legitimate.
    pub fn require_matching_host_header(mut self) -> Self {
        self.settings.require_matching_host = true;
        self
    }

    /// Puts the allowed request's [`Decision`](egress_policy_core::Decision)
    /// in its extensions, for inner layers (to log or count the rule that
    /// allowed a request, say):
    ///
    /// ```
    /// use egress_policy_core::{Decision, Policy, SharedPolicy};
    /// use egress_policy_tower::EnforcePolicyLayer;
    /// use tower::{Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let policy = SharedPolicy::new(Policy::from_toml_str(
    ///     "version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example.com\"]\n",
    /// )?);
    /// let inner = tower::service_fn(|req: http::Request<()>| async move {
    ///     let rule = req.extensions().get::<Decision>().and_then(Decision::rule).map(|r| r.id().to_string());
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(rule))
    /// });
    /// let svc = EnforcePolicyLayer::new(policy).decision_extension().layer(inner);
    /// let res = svc.oneshot(http::Request::get("https://api.example.com/").body(())?).await?;
    /// assert_eq!(res.body().as_deref(), Some("api"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Off by default, because with it every allowed request costs an owned
    /// decision and the extensions map's allocations (about 0.1–0.5 µs), and
    /// the owned decision takes a reference to the matched rule, a count
    /// every core writes. When many requests match one rule that limits how
    /// the layer scales across cores (on 2 threads, 1.56–1.75× one thread's
    /// throughput with the extension and 1.91–1.98× without, in this
    /// project's `scaling` benchmark). Every decision is also in the audit
    /// event, with its rule.
    ///
    /// Without it, a `Decision` already in the request's extensions (the
    /// caller's, or an outer layer's) is removed, so nothing below mistakes it
    /// for this layer's. Denials are the same either way: their
    /// [`Denied`](egress_policy_core::Denied) error always carries the decision.
    pub fn decision_extension(mut self) -> Self {
        self.settings.decision_extension = true;
        self
    }

    /// The scheme assumed for relative URIs taken from the `Host` header.
    pub fn default_scheme(mut self, scheme: Scheme) -> Self {
        self.settings.default_scheme = scheme;
        self
    }
}

impl<S> Layer<S> for EnforcePolicyLayer {
    type Service = EnforcePolicy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EnforcePolicy::new(inner, Arc::new(self.settings.clone()))
    }
}
