//! Audit events: one `tracing` event per decision ([`docs::audit`](crate::docs::audit)).
//!
//! Events carry `scheme`, `host` and `port` only: a [`Destination`](crate::Destination)
//! holds no userinfo, path, query or fragment, so none can leak into a log line.

use crate::decision::{DecisionRef, Verdict};

/// The target of decision events.
pub const DECISION_TARGET: &str = "egress_policy::decision";
/// The target of reload events.
pub const RELOAD_TARGET: &str = "egress_policy::reload";

/// Emits the decision event: deny and would-deny at WARN, allow at DEBUG.
/// (Counting is done by the policy, which holds the counter handles.)
pub(crate) fn emit_decision(d: DecisionRef<'_>) {
    let enabled = match d.verdict() {
        Verdict::Deny => tracing::enabled!(target: "egress_policy::decision", tracing::Level::WARN),
        Verdict::Allow => tracing::enabled!(target: "egress_policy::decision", tracing::Level::DEBUG),
    };
    if !enabled {
        return;
    }
    let (scheme, host, port) = match d.destination() {
        Some(dest) => (dest.scheme().as_str().to_string(), dest.host().to_string(), Some(dest.port())),
        None => (String::new(), String::new(), None),
    };
    let rule = d.rule().map(|r| r.id()).unwrap_or("");
    let owner = d.rule().and_then(|r| r.owner()).unwrap_or("");
    let ticket = d.rule().and_then(|r| r.ticket()).unwrap_or("");
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                target: "egress_policy::decision",
                $level,
                verdict = d.verdict().as_str(),
                enforced = d.is_enforced(),
                reason = d.reason().as_str(),
                rule,
                owner,
                ticket,
                mode = d.mode().as_str(),
                scheme = scheme.as_str(),
                host = host.as_str(),
                port,
                generation = d.policy().generation,
                digest = %d.policy().digest,
                "egress decision"
            )
        };
    }
    match d.verdict() {
        Verdict::Deny => event!(tracing::Level::WARN),
        Verdict::Allow => event!(tracing::Level::DEBUG),
    }
}

/// Counter handles for one compiled policy, registered on first use (so a
/// decision costs one atomic add, not a key built and hashed per call). Install
/// the metrics recorder before the first decision: handles registered before it
/// stay no-ops until the next policy swap.
#[derive(Default)]
pub(crate) struct Telemetry {
    #[cfg(feature = "metrics")]
    decisions: Box<[std::sync::OnceLock<metrics::Counter>]>,
    #[cfg(feature = "metrics")]
    allow_hits: Box<[std::sync::OnceLock<metrics::Counter>]>,
    #[cfg(feature = "metrics")]
    deny_hits: Box<[std::sync::OnceLock<metrics::Counter>]>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

impl Telemetry {
    pub(crate) fn new(allow_rules: usize, deny_rules: usize) -> Telemetry {
        #[cfg(feature = "metrics")]
        {
            let table = |n: usize| (0..n).map(|_| std::sync::OnceLock::new()).collect::<Box<[_]>>();
            Telemetry {
                decisions: table(2 * crate::decision::Reason::COUNT * 3 * 2),
                allow_hits: table(allow_rules),
                deny_hits: table(deny_rules),
            }
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = (allow_rules, deny_rules);
            Telemetry {}
        }
    }

    /// Counts `d`: `egress_decisions_total{verdict,reason,mode,enforced}` and, for
    /// decisions made by a rule, `egress_rule_hits_total{rule}`.
    pub(crate) fn count(&self, d: DecisionRef<'_>) {
        #[cfg(feature = "metrics")]
        {
            use crate::decision::Reason;
            use crate::model::Mode;
            let verdict = usize::from(d.is_deny());
            let mode = match d.mode() {
                Mode::Sealed => 0,
                Mode::Constrained => 1,
                _ => 2,
            };
            let reason = d.reason().index();
            assert!(reason < Reason::COUNT, "{} is missing from Reason::ALL", d.reason());
            let slot = ((verdict * Reason::COUNT + reason) * 3 + mode) * 2 + usize::from(d.is_enforced());
            if let Some(cell) = self.decisions.get(slot) {
                cell.get_or_init(|| {
                    metrics::counter!(
                        "egress_decisions_total",
                        "verdict" => d.verdict().as_str(),
                        "reason" => d.reason().as_str(),
                        "mode" => d.mode().as_str(),
                        "enforced" => if d.is_enforced() { "true" } else { "false" }
                    )
                })
                .increment(1);
            }
            if let (Some(rule), Reason::AllowedByRule | Reason::DeniedByRule) = (d.rule(), d.reason()) {
                let table = match rule.kind() {
                    crate::model::RuleKind::Allow => &self.allow_hits,
                    crate::model::RuleKind::Deny => &self.deny_hits,
                };
                if let Some(cell) = table.get(rule.slot as usize) {
                    cell.get_or_init(|| metrics::counter!("egress_rule_hits_total", "rule" => rule.id().to_string()))
                        .increment(1);
                }
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = d;
    }
}
