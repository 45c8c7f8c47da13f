//! reqwest integration for egress-policy: an enforced client in a few lines.
//!
//! # Overview
//!
//! reqwest has no single hook that sees every destination, so
//! [`EnforcedClient`] installs every piece together and there is none to forget:
//!
//! | path a request can take | what checks it |
//! |---|---|
//! | the request URL (names, IP literals, pooled connections after a policy swap, targets behind a proxy) | a request-level check before anything is sent ([`EnforcedClient::execute`]) |
//! | every redirect hop | a custom redirect policy deciding each hop, with its own hop limit |
//! | every name lookup (targets, redirect hops, proxy names) | a filtering resolver: admission on every answer, connect only to admitted addresses |
//! | `resolve()` overrides | offered by [`Builder::resolve`] only, and admitted like any answer |
//! | proxies (environment or explicit) | used only when the policy allows the proxy itself; re-checked per request |
//!
//! reqwest's resolver sees only a name, not the scheme or port, so lookups are
//! admitted with [`Policy::admit_name`](egress_policy_core::Policy::admit_name):
//! the exact scheme, host and port were decided on the request (or hop) just
//! before.
//!
//! # Example
//!
//! ```no_run
//! use egress_policy_core::{Policy, SharedPolicy};
//! use egress_policy_reqwest::EnforcedClient;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = SharedPolicy::new(Policy::from_path("/etc/egress/policy.toml")?);
//! let client = EnforcedClient::builder(policy).client_name("billing").build()?;
//!
//! match client.get("https://api.payments.example/v1/charges").send().await {
//!     Ok(res) => println!("{}", res.status()),
//!     Err(e) if e.denied().is_some() => println!("{e}"), // egress denied: no_matching_rule ...
//!     Err(e) => println!("failed: {e}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Residual gaps
//!
//! - reqwest's unstable HTTP/3 support (`reqwest_unstable`, feature `http3`) is
//!   not covered: QUIC connections are not checked by this crate. Do not enable it
//!   on an enforced client.
//! - [`Builder::danger_configure`] hands out the raw `reqwest::ClientBuilder`.
//!   The resolver, redirect policy and proxy settings are applied after it and
//!   win, but `resolve()` overrides set there bypass admission.
//! - NO_PROXY exemptions are not evaluated by the per-request proxy check: when
//!   a configured proxy for the target's scheme becomes denied, requests fail
//!   even if NO_PROXY would have sent them direct (fail closed).
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89.

#![forbid(unsafe_code)]

mod client;
mod error;
#[cfg(feature = "middleware")]
mod middleware;
mod proxy;
mod resolver;

pub use client::{Builder, EnforcedClient, RequestBuilder};
pub use egress_policy_core::{Denied, SharedPolicy};
pub use error::{BuildError, Error, find_denied};
#[cfg(feature = "middleware")]
pub use middleware::{EnforceMiddleware, find_denied_middleware};
pub use resolver::{Lookup, LookupFuture, SystemLookup};

/// The default redirect hop limit (reqwest's own default).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;
