//! What the subcommands read off a rule in the same way: its coverage, what it
//! lists, and the placeholder `suggest` writes and `validate` rejects.

use egress_policy_core::{Ports, Rule, Scheme};

/// The marker `suggest` writes into fields a person must fill in, and that
/// `validate --strict` (and `unreviewed-special-purpose`) rejects until then.
pub const PLACEHOLDER: &str = "FILL-IN";

/// The rule's coverage: for each scheme it covers, the port ranges.
pub fn coverage(rule: &Rule) -> Vec<(Scheme, Vec<(u16, u16)>)> {
    Scheme::RULE_SCHEMES
        .into_iter()
        .filter(|s| rule.schemes().contains(s))
        .filter_map(|scheme| {
            let ranges = match rule.ports() {
                Ports::Any => vec![(1, u16::MAX)],
                Ports::Ranges(r) => r.clone(),
                _ => scheme.default_port().map(|p| vec![(p, p)]).unwrap_or_default(),
            };
            (!ranges.is_empty()).then_some((scheme, ranges))
        })
        .collect()
}

/// A rule's hosts and CIDRs, sorted: what it lists, for people.
pub fn listed(r: &Rule) -> Vec<String> {
    let mut out: Vec<String> = r
        .hosts()
        .iter()
        .map(ToString::to_string)
        .chain(r.cidrs().iter().map(ToString::to_string))
        .collect();
    out.sort();
    out
}
