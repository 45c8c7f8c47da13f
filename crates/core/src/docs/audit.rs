//! Decisions, policy identity, audit events and metrics.
//!
//! - A [`Decision`](crate::Decision) carries the verdict, whether it is enforced,
//!   the [reason](super::reasons), the matched rule (id, owner, ticket), the mode
//!   and the policy's identity.
//! - **Identity**: `generation` (1 for the first policy loaded, +1 for each one
//!   swapped in) and `digest` (`sha256:` over
//!   [`Policy::canonical_json`](crate::Policy::canonical_json): comments, key and
//!   rule order, formatting and the file format do not change it).
//! - **One `tracing` event per decision**, target `egress_policy::decision`
//!   ([`DECISION_TARGET`](crate::DECISION_TARGET)): deny and would-deny at WARN,
//!   allow at DEBUG, with `verdict`, `enforced`, `reason`, `rule`, `mode`,
//!   `scheme`, `host`, `port`, `generation`, `digest`. Never userinfo, path,
//!   query or fragment.
//! - **Reloads** log at INFO (applied) or ERROR (rejected, with the reason),
//!   target `egress_policy::reload`, with old and new generation and digest, the
//!   mode, the enforcement and `sealed=true|false` (true only when sealed and
//!   enforced).
//! - **Counters** through the `metrics` facade (feature `metrics`), with no host
//!   labels: `egress_decisions_total{verdict,reason,mode,enforced}`,
//!   `egress_rule_hits_total{rule}`, `egress_resolved_addresses_dropped_total`,
//!   `egress_policy_reloads_total{outcome}`, `egress_policy_generation`,
//!   `egress_rule_expiry_seconds{rule}` (time left to each rule's expiry, so
//!   alerts fire before access silently disappears).
