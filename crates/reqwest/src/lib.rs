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
//! | every name lookup (targets, redirect hops, proxy names) | a filtering resolver: admission on every answer under the decision of the request in flight, connect only to admitted addresses |
//! | `resolve()` overrides | offered by [`Builder::resolve`] only, and admitted like any answer |
//! | proxies (environment or explicit) | used only when the policy allows the proxy itself; re-checked per request |
//! | the client inside a request builder ([`RequestBuilder::map`] hands it out) | not the enforced one: a client that shares no connection pool and refuses every lookup and connection; requests are always sent through the enforced client |
//! | targets behind a proxy | resolved and admitted locally before the request goes to the proxy (opt out with [`Builder::danger_trust_proxy_resolution`]) |
//!
//! ## One admission semantics
//!
//! reqwest's resolver sees only a name, not the scheme, port or client that
//! admission depends on. So the request-level check (and the redirect policy, at
//! every hop) leaves its decision in scope over reqwest's future (a
//! thread-local that holds it only while that future is being polled, tagged
//! with the client that decided), and the resolver admits each answer under exactly that decision with
//! [`Policy::admit_decided`](egress_policy_core::Policy::admit_decided): the
//! addresses a request connects to are the ones
//! [`Policy::admit`](egress_policy_core::Policy::admit) computes for the same
//! scheme, host, port, client and instant. The resolver decides **before** it
//! looks anything up: a lookup for a name no check decided (a client used
//! outside [`EnforcedClient`] or [`EnforceMiddleware`]), or for a name the policy
//! now denies, is refused and no DNS query leaves the process.
//!
//! ## Proxies
//!
//! A proxy resolves the target's name itself, where no resolver of ours sees
//! the answer. By default the client therefore resolves the target here first
//! (same lookup, same overrides) and runs admission on the answer: a target
//! allowed by name that resolves to a forbidden address is denied before the
//! proxy is contacted. What remains is a time-of-check gap: the proxy's own
//! lookup may return another answer than ours (a DNS server that answers
//! differently on the second query). Only the proxy can close it, by enforcing
//! a private floor of its own. A redirect hop through a proxy to a name that the
//! request has not resolved yet cannot be resolved from reqwest's (synchronous)
//! redirect policy and is refused; request the new URL yourself, or opt into
//! [`Builder::danger_trust_proxy_resolution`].
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
//!   even if NO_PROXY would have sent them direct (fail closed). `NO_PROXY` is
//!   read from the same source as the proxy variables
//!   ([`Builder::env_proxies_from`]).
//! - Connections pooled under an earlier policy are reused for a host the new
//!   policy still allows by name: the request is decided again, but the address
//!   the pooled connection went to was admitted under the old policy. Lower
//!   [`Builder::pool_idle_timeout`] where reloads must take effect on addresses
//!   at once.
//! - The decisions are in scope while the enforced request's future is polled,
//!   and the connector layer checks that a decision of *its own client* is in
//!   scope and still holds, not which URL it was made for (reqwest's connector
//!   sees no request). An [`EnforcedClient`] request, or one through a
//!   middleware client with its own [`EnforceMiddleware`], is always decided
//!   on its own, wherever it is sent from. A request on the bare client of
//!   *another* build (from [`Builder::build_for_middleware`]) polled inside
//!   that future is refused: its resolver, connector and redirect policy act
//!   only on decisions of their own client (but see the next item for a
//!   connection already in that client's pool). But a request on the *same*
//!   bare client polled inside that future runs under the outer request's
//!   decision (any IP literal, the same name on any port or scheme): a
//!   reqwest-middleware layer placed after [`EnforceMiddleware`] that sends
//!   requests of its own, or a custom [`Lookup`] that uses that client. Order
//!   [`EnforceMiddleware`] last, and send requests from hooks with an
//!   [`EnforcedClient`] or a middleware client of their own.
//! - The bare client from [`Builder::build_for_middleware`] refuses new
//!   connections and lookups without its middleware, but a connection already
//!   in its pool takes a request sent with it unchecked. Never hand it out
//!   without the middleware.
//! - [`EnforceMiddleware`] checks the request URL; the lookups, addresses and
//!   redirect hops are checked by the client built with it. Put in front of
//!   any other `reqwest::Client`, it checks the URL only, and cannot tell.
//! - Errors never carry the request URL (reqwest's `without_url`): userinfo,
//!   query strings and fragments stay out of logs.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod check;
mod client;
mod error;
#[cfg(feature = "middleware")]
mod middleware;
mod proxy;
mod resolver;
mod scope;

pub use client::{Builder, EnforcedClient, RequestBuilder};
pub use egress_policy_core::{Denied, SharedPolicy};
pub use error::{BuildError, Error};
#[cfg(feature = "middleware")]
pub use middleware::{EnforceMiddleware, find_denied_middleware};
pub use resolver::{Lookup, LookupFuture, SystemLookup};

/// The default redirect hop limit (reqwest's own default).
pub const DEFAULT_MAX_REDIRECTS: usize = 10;
