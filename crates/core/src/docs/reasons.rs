//! Every reason a decision can carry. The snake_case strings are stable:
//! alerts and dashboards may key on them. See [`Reason`](crate::Reason).
//!
//! | reason | verdict | when |
//! |---|---|---|
//! | `allowed_by_rule` | allow | a live allow rule covers the destination (in `open` mode with `floor = true`, also for a special-purpose IP literal an allow rule names) |
//! | `open_mode` | allow | mode `open` and no deny rule covers it |
//! | `denied_by_rule` | deny | a live deny rule covers it (IPv6 embeddings unwrapped) |
//! | `rule_expired` | deny | only an expired allow rule would have covered it |
//! | `port_not_allowed` | deny | a live allow rule covers host and scheme, not the port |
//! | `scheme_not_allowed` | deny | a live allow rule covers the host, not the scheme |
//! | `no_matching_rule` | deny | nothing covers it (in `sealed`/`constrained`, also names no rule can match) |
//! | `forbidden_address` | deny | `open` mode with `floor = true`: an IP literal in a special-purpose range that no allow rule names |
//! | `resolved_to_forbidden_address` | deny | connect time: every resolved address was refused (see [`admission`](super::admission)) |
//! | `invalid` | deny | the destination does not parse, has no host, or (in `open` mode) is a name no rule can match |
//!
//! Under `enforcement = "observe"` the verdict and reason are the same, but the
//! decision is not enforced (`enforced=false`): nothing fails, the would-deny is
//! logged at WARN and counted. `egress-policy check` prints such a decision as
//! `deny ... (observe: not enforced)` and still exits 1, so a CI gate on `check`
//! behaves the same whether the policy is observed or enforced.
