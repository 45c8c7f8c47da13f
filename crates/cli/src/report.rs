//! `egress-policy report`: every rule with its owner, ticket and expiry, for
//! periodic access reviews.

use std::time::SystemTime;

use egress_policy_core::Policy;

use crate::rules::listed;

/// One row of the governance report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// Rule id.
    pub rule: String,
    /// `allow` or `deny`.
    pub kind: &'static str,
    /// Owner, if set.
    pub owner: Option<String>,
    /// Ticket, if set.
    pub ticket: Option<String>,
    /// Reason, if set.
    pub reason: Option<String>,
    /// Expiry instant (RFC 3339 UTC), if set.
    pub expires: Option<String>,
    /// Whole days until expiry (negative once expired), if it expires.
    pub days_left: Option<i64>,
    /// What the rule covers, for reviewers.
    pub covers: String,
}

/// The rows, soonest expiry first; rules that never expire last, by id.
pub fn report(policy: &Policy, now: SystemTime) -> Vec<Row> {
    let mut rows: Vec<(Option<SystemTime>, Row)> = policy
        .allow_rules()
        .chain(policy.deny_rules())
        .map(|r| {
            let at = r.expires().map(|e| e.at());
            let days_left = at.map(|at| match at.duration_since(now) {
                Ok(d) => (d.as_secs() / 86_400) as i64,
                Err(e) => -(e.duration().as_secs().div_ceil(86_400) as i64),
            });
            let covers = listed(r);
            (
                at,
                Row {
                    rule: r.id().to_string(),
                    kind: r.kind().as_str(),
                    owner: r.owner().map(str::to_string),
                    ticket: r.ticket().map(str::to_string),
                    reason: r.reason().map(str::to_string),
                    expires: r.expires().map(|e| e.to_rfc3339()),
                    days_left,
                    covers: covers.join(", "),
                },
            )
        })
        .collect();
    rows.sort_by(|(a, ra), (b, rb)| match (a, b) {
        (Some(x), Some(y)) => x.cmp(y).then_with(|| ra.rule.cmp(&rb.rule)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => ra.rule.cmp(&rb.rule),
    });
    rows.into_iter().map(|(_, r)| r).collect()
}
