//! Audit events: one `tracing` event per decision (DESIGN.md §4).
//!
//! Events carry `scheme`, `host` and `port` only: a [`Destination`](crate::Destination)
//! holds no userinfo, path, query or fragment, so none can leak into a log line.

use crate::decision::{Decision, Verdict};
use crate::policy::Dropped;

/// The target of decision events.
pub const DECISION_TARGET: &str = "egress_policy::decision";
/// The target of reload events.
pub const RELOAD_TARGET: &str = "egress_policy::reload";

/// Emits the decision event: deny and would-deny at WARN, allow at DEBUG.
pub fn emit_decision(d: &Decision) {
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

/// Emits one WARN event listing the resolved addresses that were refused.
pub(crate) fn emit_dropped(d: &Decision, dropped: &[Dropped]) {
    let host = d.destination().map(|x| x.host().to_string()).unwrap_or_default();
    let list: Vec<String> = dropped.iter().map(|x| format!("{} ({})", x.addr, x.why)).collect();
    tracing::warn!(
        target: "egress_policy::decision",
        host = host.as_str(),
        dropped = list.join(", ").as_str(),
        enforced = d.is_enforced(),
        generation = d.policy().generation,
        digest = %d.policy().digest,
        "resolved addresses refused"
    );
}
