//! tower middleware for egress-policy.
//!
//! # Overview
//!
//! - [`EnforcePolicyLayer`] wraps any client `Service<http::Request<B>>` (a
//!   hyper-util `Client`, your own stack). It reads the live [`SharedPolicy`]
//!   once per request and decides on the request's destination **before any
//!   I/O**. A blocked request fails with a
//!   [`Denied`] error and the inner service is never called. Under `observe` the
//!   request goes through and the would-deny is logged. With
//!   [`EnforcePolicyLayer::decision_extension`] the [`Decision`] is put in the
//!   request's extensions for inner layers.
//! - [`SetSealedModeHeaderLayer`] is for the inbound side: it stamps
//!   `X-Sealed-Mode: true|false` on every response, overwriting what a handler or
//!   upstream set, re-reading the live policy for each response. `true` means
//!   sealed **and enforced**: a sealed policy under `observe` is `false`.
//!
//! **The layer decides on names, not on the addresses they resolve to.** For
//! a name it checks the rules (and a deny), but a private or metadata
//! address in the DNS answer (rebinding, `resolves_to`, the private floor of
//! open mode) is checked only by a resolver that admits answers: build the
//! client below with `egress-policy-hyper`'s connector and resolver
//! (`https_connector_with_resolver`, `https_client`), which admit every answer
//! and refuse connections the policy denies, or use `egress-policy-reqwest`.
//! Over a plain hyper-util client with its own resolver, a name the policy
//! allows connects wherever DNS points it.
//!
//! The decision is made on the URI's authority (where the connection goes); a
//! caller-supplied `Host` header is sent as it is, which a shared front end
//! (CDN) may route by: see
//! [`EnforcePolicyLayer::require_matching_host_header`].
//!
//! Redirects followed by a layer *outside* this one (tower-http's
//! `FollowRedirect`) re-enter it for every hop and are checked; the hyper
//! connector of `egress-policy-hyper` is the catch-all below.
//!
//! # Example
//!
//! ```
//! use egress_policy_core::{Denied, Policy, SharedPolicy};
//! use egress_policy_tower::EnforcePolicyLayer;
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let policy = SharedPolicy::new(Policy::from_toml_str(r#"
//!     version = 1
//!     [[allow]]
//!     id = "api"
//!     hosts = ["api.example.com"]
//! "#)?);
//! let inner = service_fn(|_req: http::Request<()>| async { Ok::<_, std::convert::Infallible>(http::Response::new(())) });
//! let svc = EnforcePolicyLayer::new(policy).layer(inner);
//!
//! let ok = svc.clone().oneshot(http::Request::get("https://api.example.com/").body(())?).await;
//! assert!(ok.is_ok());
//!
//! let err = svc.oneshot(http::Request::get("https://evil.example.com/").body(())?).await.unwrap_err();
//! let denied = err.downcast_ref::<Denied>().expect("denied");
//! assert_eq!(denied.decision().reason().as_str(), "no_matching_rule");
//! # Ok(())
//! # }
//! ```
//!
//! # Cost
//!
//! The layer decides on a decision borrowed from the policy: without a
//! `Recorder` or metrics recorder installed, and without
//! [`EnforcePolicyLayer::decision_extension`], deciding writes nothing another
//! thread reads. Cloning the service does: every clone shares the layer's
//! settings through one reference count, so `svc.clone().oneshot(req)` on a
//! service shared by many threads writes that count twice per request, as
//! the clone of any tower service with shared state does (a hyper-util
//! `Client` below takes several). Where many cores send requests, keep a
//! clone per task or connection and call it with
//! `ServiceExt::ready(&mut svc).await?.call(req)`.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod enforce;
pub mod sealed_header;

pub use egress_policy_core::{Decision, Denied, SharedPolicy};
pub use enforce::{EnforcePolicy, EnforcePolicyLayer, HostHeaderMismatch, destination_url};
pub use sealed_header::{ENFORCEMENT, POLICY_DIGEST, POLICY_GENERATION, SEALED_MODE, SetSealedModeHeader, SetSealedModeHeaderLayer};

/// The error type of the middleware: the inner error, or [`Denied`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
