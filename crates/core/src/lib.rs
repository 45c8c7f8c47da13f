//! The core of egress-policy: the policy model, its parsing and normalisation,
//! compiled matching, decisions with audit identity, and the shared live policy.
//!
//! # Overview
//!
//! A [`Policy`] is loaded from a TOML, JSON or YAML file ([`docs::policy_file`]). It decides,
//! for any [`Destination`] (scheme, canonical host, port), [`Verdict::Allow`] or
//! [`Verdict::Deny`] with a stable [`Reason`], the matched [`Rule`] and the policy's
//! identity (generation and `sha256:` digest). A [`SharedPolicy`] holds the policy in
//! force for a whole process and swaps it atomically on reload.
//!
//! This crate does no I/O beyond reading a policy file and knows nothing of async
//! runtimes or HTTP stacks: the integration crates (tower, hyper, reqwest, watch)
//! build on it.
//!
//! # Example
//!
//! ```
//! use egress_policy_core::{Destination, Policy, Reason, Scheme, SharedPolicy};
//!
//! let policy = Policy::from_toml_str(r#"
//!     version = 1
//!     mode = "sealed"
//!
//!     [[allow]]
//!     id = "payments-api"
//!     hosts = ["api.payments.example"]
//!     owner = "payments-team@example.com"
//!     ticket = "SEC-142"
//!
//!     [[allow]]
//!     id = "orders-db"
//!     hosts = ["db.orders.internal"]
//!     schemes = ["tcp"]
//!     ports = [5432]
//!     resolves_to = ["10.20.0.0/16"]
//!
//!     [[deny]]
//!     id = "no-metadata"
//!     cidrs = ["169.254.169.254/32"]
//! "#)?;
//! let shared = SharedPolicy::new(policy);
//!
//! let d = shared.decide_url("https://api.payments.example/v1/charges", None);
//! assert!(d.is_allow());
//! assert_eq!(d.rule().and_then(|r| r.ticket()), Some("SEC-142"));
//!
//! // Userinfo does not change the host: this is evil.example.
//! let d = shared.decide_url("https://api.payments.example@evil.example/", None);
//! assert_eq!(d.reason(), Reason::NoMatchingRule);
//!
//! // Odd IPv4 spellings are the address they spell.
//! let d = shared.decide_url("http://0xa9.0xfe.0xa9.0xfe/latest/meta-data", None);
//! assert_eq!(d.reason(), Reason::DeniedByRule);
//!
//! // Non-URL destinations go through the same decision.
//! let db = Destination::new(Scheme::Tcp, "db.orders.internal", 5432)?;
//! assert!(shared.decide(&db, None).is_allow());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Matching rules
//!
//! See the [`docs`] module for the full semantics, the threat model and the known
//! limitations. In short:
//!
//! - Names compare in canonical form (WHATWG host: UTS #46, lower case, A-labels,
//!   one trailing dot removed). Policy files must already be canonical.
//! - `*.example.com` matches any depth below `example.com`, never the apex.
//! - CIDR rules match IP-literal destinations; names are never resolved to decide.
//! - Deny rules win in every mode; `open` allows everything else; `sealed` and
//!   `constrained` allow only what a live allow rule names.
//!
//! # Crate features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `metrics` | yes | counters and gauges through the `metrics` facade (see [`docs::audit`]); without a recorder installed each costs an atomic load |
//! | `schema` | no | `policy_schema()`: the JSON Schema of the policy file (schemars), for editors and CI |
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod addr;
mod admission;
mod audit;
mod decision;
mod destination;
pub mod docs;
mod host;
mod index;
mod invalid;
mod load;
mod model;
mod observe;
mod policy;
pub mod record;
mod shared;
pub mod time;

pub use admission::{Admission, DropReason, Dropped};
pub use audit::{DECISION_TARGET, RELOAD_TARGET};
pub use decision::{Context, Decision, DecisionRef, Denied, Digest, PolicyId, Reason, Verdict};
pub use destination::{Destination, DestinationError, redact_url};
pub use host::{Host, HostPattern};
pub use load::{Format, LoadError, LoadErrorKind, Problem, RuleLocation, rule_id_from};
pub use model::{Enforcement, Expiry, Mode, Ports, Rule, RuleKind, Scheme, SchemeSet};
pub use observe::{Flusher, Recorder};
pub use policy::Policy;
pub use shared::{EnvError, POLICY_FILE_ENV, PolicyGuard, SharedPolicy, Swap, load_from_env};
/// The JSON Schema of the policy file format (feature `schema`), for editors and
/// CI. The loader is stricter: canonical names, CIDR host bits, expiry dates and
/// cross-field rules are checked only by it.
#[cfg(feature = "schema")]
pub fn policy_schema() -> serde_json::Value {
    load::policy_schema()
}

pub use time::{Clock, FixedClock, SystemClock};
