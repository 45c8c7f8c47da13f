//! The reference: the policy file, matching, admission, reasons, audit,
//! reload, the command line, the threat model and the known limitations.
//!
//! This module holds documentation only. Each topic is a module:
//!
//! | topic | what it answers |
//! |---|---|
//! | [`policy_file`] | every field of the file, its default, and the errors |
//! | [`matching`] | host patterns, addresses, IPv6 embeddings, precedence and near-miss reasons |
//! | [`admission`] | which resolved addresses a connection may use; the special-purpose table; proxies |
//! | [`reasons`] | every reason string and when it is given |
//! | [`audit`] | decisions, policy identity, events, metrics |
//! | [`reload`] | the live policy, the watcher, torn files |
//! | [`cli`] | the `egress-policy` commands, their output and exit status |
//! | [`limitations`] | the threat model and what the library does not do |
//!
//! # Threat model
//!
//! egress-policy stops code inside a service from reaching destinations the
//! policy does not name, **through the HTTP stacks it wraps** (tower, hyper,
//! reqwest) and through every destination checked with this crate's API. It cannot
//! stop raw sockets opened by code that bypasses it (a C library, a crate that
//! opens its own `TcpStream`). Pair it with network policy (Kubernetes
//! NetworkPolicy, Cilium, Calico): the library gives precise, audited, per-client
//! decisions with reasons; the network layer is the backstop.
//!
//! # Defaults
//!
//! | what | default | why |
//! |---|---|---|
//! | `mode` | `sealed` | the strict choice |
//! | `enforcement` | `enforce` | the strict choice |
//! | allow rule `schemes` | `["https"]` | plain text needs saying |
//! | allow rule `ports` | each scheme's default port | `https` → 443, `http`/`ws` → 80 |
//! | allow rule `modes` | `["sealed", "constrained"]` | |
//! | deny rule `schemes`, `ports` | every scheme, every port | a deny rule without them denies the destination entirely |
//! | `floor` | `false` | only meaningful in `open` mode |

pub mod admission;
pub mod audit;
pub mod cli;
pub mod matching;
pub mod policy_file;
pub mod reasons;
pub mod reload;

/// The threat model's edges: what the library does not do, and where a
/// guarantee has a gap.
///
/// - Enforcement covers only the paths that go through this library. Raw sockets,
///   other HTTP clients and child processes are out of reach.
/// - Expiry is judged against the injected clock; a wrong system clock moves it.
/// - Policy lints (public-suffix wildcards, broad CIDRs, missing metadata,
///   shadowed rules, ...) live in the CLI's library (`egress_policy_cli::lint`),
///   so this crate does not carry the Public Suffix List.
/// - Rules cannot name schemes other than http, https, ws, wss, tcp, udp; other
///   schemes (`ftp`) pass only in `open` mode.
/// - **Proxies re-resolve.** After the local admission of a target, the proxy
///   looks the name up again and may get another answer (a DNS server that
///   answers the second query differently). Only the proxy can close this
///   time-of-check gap, with a private floor of its own. A redirect hop through
///   a proxy to a name the request has not resolved is refused by the reqwest
///   client (reqwest's redirect policy cannot resolve), unless the proxy's
///   resolution is trusted.
/// - **Pooled connections outlive a reload.** Every request is decided under the
///   policy in force, but a pooled connection to a host the new policy still
///   allows by name keeps the address admitted under the old one until it is
///   closed. Lower the client's pool idle timeout where that matters.
/// - **`Host` headers.** Decisions are made on the URI's authority, where the
///   connection goes; a caller-supplied `Host` header is sent as it is, and a
///   shared front end (CDN) may route by it (domain fronting). The tower layer
///   can refuse mismatches (`EnforcePolicyLayer::require_matching_host_header`).
/// - **reqwest-middleware order.** `EnforceMiddleware` must be the innermost
///   middleware (added last): a middleware inside it that rewrites the URL sends
///   a request the check never saw. Names are still refused by the client's
///   resolver, but an IP literal would go through (reqwest's connector layers
///   cannot see the URI).
/// - **The hyper integration has no proxy support**: a proxy or tunnel connector
///   between `EnforceConnector` and `EnforceResolver` makes the resolver refuse
///   the proxy's name (fail closed).
/// - **Sealed means sealed and enforced.** A `sealed` policy under `observe`
///   refuses nothing; `X-Sealed-Mode`, the reload log's `sealed=` field and
///   [`Policy::is_sealed`](crate::Policy::is_sealed) report it as not sealed, and
///   the lints `mode-not-allowed` and `environment-not-sealed` reject it.
pub mod limitations {}
