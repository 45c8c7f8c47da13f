//! Egress policy for Rust services: decide, enforce and audit where a service may
//! connect.
//!
//! # Overview
//!
//! `egress-policy` is a library a service links in (an SDK, not a proxy). One
//! policy, loaded from a file, decides whether a destination (scheme, host, port)
//! may be contacted:
//!
//! - **modes** `sealed` (allowlist only), `constrained` (allowlist plus
//!   constrained-only rules), `open` (everything but `deny` rules);
//! - **enforcement** `enforce` (denials fail) or `observe` (denials are logged and
//!   counted, nothing fails);
//! - **rules** over exact and `*.` wildcard host names, CIDRs, schemes and ports,
//!   with audit metadata (owner, reason, ticket, expiry).
//!
//! This facade re-exports [`egress_policy_core`]. The enforcement integrations
//! (tower, hyper, reqwest) and the reload watcher are separate crates, each
//! behind a feature of this one (see the table below).
//!
//! # Example
//!
//! ```
//! use egress_policy::{Policy, Reason, SharedPolicy};
//!
//! let shared = SharedPolicy::new(Policy::from_toml_str(r#"
//!     version = 1
//!     mode = "sealed"
//!     [[allow]]
//!     id = "payments-api"
//!     hosts = ["api.payments.example"]
//! "#)?);
//!
//! let decision = shared.decide_url("https://api.payments.example/v1/charges", None);
//! assert!(decision.is_allow());
//!
//! let decision = shared.decide_url("http://169.254.169.254/latest/meta-data", None);
//! assert!(decision.blocks());
//! assert_eq!(decision.reason(), Reason::NoMatchingRule);
//! println!("{decision}"); // egress denied: no_matching_rule for http://169.254.169.254:80 [...]
//! # Ok::<(), egress_policy::LoadError>(())
//! ```
//!
//! Run the example with the built-in policy: `cargo run --example decide`.
//!
//! # Crate features
//!
//! | feature | what | module |
//! |---|---|---|
//! | (always) | the core: model, decisions, [`SharedPolicy`] | the crate root |
//! | `tower` | `EnforcePolicyLayer` (client), `SetSealedModeHeaderLayer` (server) | `tower` |
//! | `hyper` | `EnforceConnector`, `EnforceResolver`, `https_client` | `hyper` |
//! | `reqwest` | `EnforcedClient`: request, redirect hops, lookups and proxies checked | `reqwest` |
//! | `reqwest-middleware` | `EnforceMiddleware` for reqwest-middleware stacks | `reqwest` |
//! | `watch` | `Watcher`: hot reload with validate-then-swap | `watch` |
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89.
//!
//! # Threat model
//!
//! It stops code inside the service from reaching destinations the policy does not
//! name, through the HTTP stacks it wraps. It cannot stop raw sockets opened by
//! code that bypasses it: pair it with network policy (Kubernetes NetworkPolicy,
//! Cilium, Calico). See [`docs`] for the matching rules and known limitations.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use egress_policy_core::*;

/// tower middleware (feature `tower`): see [`egress_policy_tower`].
#[cfg(feature = "tower")]
pub use egress_policy_tower as tower;

/// hyper-util connector and resolver (feature `hyper`): see [`egress_policy_hyper`].
#[cfg(feature = "hyper")]
pub use egress_policy_hyper as hyper;

/// Hot reload (feature `watch`): see [`egress_policy_watch`].
#[cfg(feature = "watch")]
pub use egress_policy_watch as watch;

/// reqwest integration (feature `reqwest`): see [`egress_policy_reqwest`].
#[cfg(feature = "reqwest")]
pub use egress_policy_reqwest as reqwest;
