//! `egress-policy diff`: what a policy change makes reachable and unreachable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use egress_policy_core::{Enforcement, Policy, Rule, RuleKind, Scheme};

use crate::rules::{coverage, listed};

/// Which way a change moves access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// More becomes reachable.
    Widening,
    /// Less becomes reachable.
    Narrowing,
    /// Audit metadata only (owner, reason, ticket) or a rename.
    Metadata,
}

/// One difference between two policies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Widening, narrowing or metadata.
    pub direction: Direction,
    /// The rule (id), or `None` for policy-level settings.
    pub rule: Option<String>,
    /// `allow` or `deny` for rule changes.
    pub kind: Option<&'static str>,
    /// The field: `rule` (added/removed), `hosts`, `ports`, `mode`, ...
    pub field: String,
    /// What changed, for people.
    pub detail: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.direction {
            Direction::Widening => "widening ",
            Direction::Narrowing => "narrowing",
            Direction::Metadata => "metadata ",
        };
        match (&self.rule, self.kind) {
            (Some(rule), Some(kind)) => write!(f, "{dir}  {kind} rule `{rule}` {}: {}", self.field, self.detail),
            _ => write!(f, "{dir}  policy {}: {}", self.field, self.detail),
        }
    }
}

fn contains(ranges: &[(u16, u16)], port: u16) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= port && port <= hi)
}

/// `(scheme, ranges)` present in `a` but not in `b`, shown as `https:8443,9000-9100`.
fn coverage_minus(a: &[(Scheme, Vec<(u16, u16)>)], b: &[(Scheme, Vec<(u16, u16)>)]) -> Vec<String> {
    let mut out = Vec::new();
    for (scheme, ranges) in a {
        let other = b.iter().find(|(s, _)| s == scheme).map(|(_, r)| r.as_slice()).unwrap_or(&[]);
        let mut missing: Vec<(u16, u16)> = Vec::new();
        for &(lo, hi) in ranges {
            for port in lo..=hi {
                if !contains(other, port) {
                    match missing.last_mut() {
                        Some(last) if last.1 + 1 == port => last.1 = port,
                        _ => missing.push((port, port)),
                    }
                }
            }
        }
        if !missing.is_empty() {
            let shown: Vec<String> = missing
                .iter()
                .map(|&(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") })
                .collect();
            out.push(format!("{scheme}:{}", shown.join(",")));
        }
    }
    out
}

/// The rule without its id and metadata: what it grants or denies.
fn substance(rule: &Rule) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        rule.hosts(),
        rule.cidrs(),
        coverage(rule),
        rule.modes(),
        rule.clients(),
        rule.resolves_to(),
        rule.expires().map(|e| e.at()),
        rule.kind()
    )
}

/// Every difference between `old` and `new`. Rule order and formatting never
/// count; rules are matched by id (and a rule whose id alone changed is a rename).
pub fn diff(old: &Policy, new: &Policy) -> Vec<Change> {
    let mut changes = Vec::new();
    let top = |direction, field: &str, detail: String| Change {
        direction,
        rule: None,
        kind: None,
        field: field.into(),
        detail,
    };
    if old.mode() != new.mode() {
        let dir = if new.mode() > old.mode() {
            Direction::Widening
        } else {
            Direction::Narrowing
        };
        changes.push(top(dir, "mode", format!("{} -> {}", old.mode(), new.mode())));
    }
    if old.enforcement() != new.enforcement() {
        let dir = if new.enforcement() == Enforcement::Observe {
            Direction::Widening
        } else {
            Direction::Narrowing
        };
        changes.push(top(dir, "enforcement", format!("{} -> {}", old.enforcement(), new.enforcement())));
    }
    if old.floor() != new.floor() {
        let dir = if new.floor() { Direction::Narrowing } else { Direction::Widening };
        changes.push(top(dir, "floor", format!("{} -> {}", old.floor(), new.floor())));
    }

    let rules = |p: &Policy| -> BTreeMap<String, Rule> {
        p.allow_rules()
            .chain(p.deny_rules())
            .map(|r| (r.id().to_string(), r.clone()))
            .collect()
    };
    let (old_rules, new_rules) = (rules(old), rules(new));
    let mut removed: Vec<&Rule> = old_rules
        .iter()
        .filter(|(id, _)| !new_rules.contains_key(*id))
        .map(|(_, r)| r)
        .collect();
    let mut added: Vec<&Rule> = new_rules
        .iter()
        .filter(|(id, _)| !old_rules.contains_key(*id))
        .map(|(_, r)| r)
        .collect();

    // Renames: same substance, new id.
    let mut by_substance: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in &added {
        by_substance.entry(substance(a)).or_default().push(a.id().to_string());
    }
    let mut renames = Vec::new();
    removed.retain(|r| match by_substance.get_mut(&substance(r)).and_then(Vec::pop) {
        Some(to) => {
            renames.push((r.id().to_string(), to));
            false
        }
        None => true,
    });
    let renamed: BTreeSet<&str> = renames.iter().map(|(_, to)| to.as_str()).collect();
    added.retain(|a| !renamed.contains(a.id()));
    for (from, to) in renames {
        let kind = new_rules[&to].kind().as_str();
        changes.push(Change {
            direction: Direction::Metadata,
            rule: Some(to.clone()),
            kind: Some(kind),
            field: "id".into(),
            detail: format!("renamed from `{from}` (same destinations)"),
        });
    }

    let summary = |r: &Rule| {
        let parts = listed(r);
        format!(
            "{} ({})",
            parts.join(", "),
            coverage(r).iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>().join(",")
        )
    };
    for r in removed {
        let dir = if r.kind() == RuleKind::Allow {
            Direction::Narrowing
        } else {
            Direction::Widening
        };
        changes.push(rule_change(dir, r, "rule", format!("removed: {}", summary(r))));
    }
    for r in added {
        let dir = if r.kind() == RuleKind::Allow {
            Direction::Widening
        } else {
            Direction::Narrowing
        };
        changes.push(rule_change(dir, r, "rule", format!("added: {}", summary(r))));
    }
    for (id, o) in &old_rules {
        if let Some(n) = new_rules.get(id) {
            compare_rule(o, n, &mut changes);
        }
    }
    changes
}

fn rule_change(direction: Direction, r: &Rule, field: &str, detail: String) -> Change {
    Change {
        direction,
        rule: Some(r.id().to_string()),
        kind: Some(r.kind().as_str()),
        field: field.into(),
        detail,
    }
}

fn compare_rule(o: &Rule, n: &Rule, changes: &mut Vec<Change>) {
    if o.kind() != n.kind() {
        changes.push(rule_change(
            Direction::Widening,
            n,
            "kind",
            format!("{} -> {}", o.kind().as_str(), n.kind().as_str()),
        ));
        return;
    }
    let allow = n.kind() == RuleKind::Allow;
    // For deny rules, granting more means denying less.
    let grow = if allow { Direction::Widening } else { Direction::Narrowing };
    let shrink = if allow { Direction::Narrowing } else { Direction::Widening };
    let sets = |field: &str, a: BTreeSet<String>, b: BTreeSet<String>, changes: &mut Vec<Change>| {
        let plus: Vec<_> = b.difference(&a).cloned().collect();
        let minus: Vec<_> = a.difference(&b).cloned().collect();
        if !plus.is_empty() {
            changes.push(rule_change(grow, n, field, format!("+ {}", plus.join(", "))));
        }
        if !minus.is_empty() {
            changes.push(rule_change(shrink, n, field, format!("- {}", minus.join(", "))));
        }
    };
    sets(
        "hosts",
        o.hosts().iter().map(ToString::to_string).collect(),
        n.hosts().iter().map(ToString::to_string).collect(),
        changes,
    );
    sets(
        "cidrs",
        o.cidrs().iter().map(ToString::to_string).collect(),
        n.cidrs().iter().map(ToString::to_string).collect(),
        changes,
    );
    let (co, cn) = (coverage(o), coverage(n));
    let plus = coverage_minus(&cn, &co);
    let minus = coverage_minus(&co, &cn);
    if !plus.is_empty() {
        changes.push(rule_change(grow, n, "schemes/ports", format!("+ {}", plus.join(" "))));
    }
    if !minus.is_empty() {
        changes.push(rule_change(shrink, n, "schemes/ports", format!("- {}", minus.join(" "))));
    }
    sets(
        "modes",
        o.modes().iter().map(|m| m.to_string()).collect(),
        n.modes().iter().map(|m| m.to_string()).collect(),
        changes,
    );
    sets(
        "resolves_to",
        o.resolves_to().iter().map(ToString::to_string).collect(),
        n.resolves_to().iter().map(ToString::to_string).collect(),
        changes,
    );
    match (o.clients(), n.clients()) {
        (None, None) => {}
        (Some(_), None) => changes.push(rule_change(grow, n, "clients", "limit removed: every client".into())),
        (None, Some(c)) => changes.push(rule_change(shrink, n, "clients", format!("limited to {}", c.join(", ")))),
        (Some(a), Some(b)) => {
            let a: BTreeSet<String> = a.iter().map(|s| s.to_string()).collect();
            let b: BTreeSet<String> = b.iter().map(|s| s.to_string()).collect();
            sets("clients", a, b, changes);
        }
    }
    match (o.expires(), n.expires()) {
        (None, None) => {}
        (Some(a), Some(b)) if a.at() == b.at() => {}
        (Some(a), Some(b)) => {
            let dir = if b.at() > a.at() { grow } else { shrink };
            changes.push(rule_change(dir, n, "expires", format!("{} -> {}", a.to_rfc3339(), b.to_rfc3339())));
        }
        (Some(a), None) => changes.push(rule_change(grow, n, "expires", format!("{} -> never", a.to_rfc3339()))),
        (None, Some(b)) => changes.push(rule_change(shrink, n, "expires", format!("never -> {}", b.to_rfc3339()))),
    }
    for (field, a, b) in [
        ("owner", o.owner(), n.owner()),
        ("reason", o.reason(), n.reason()),
        ("ticket", o.ticket(), n.ticket()),
    ] {
        if a != b {
            changes.push(rule_change(Direction::Metadata, n, field, format!("{a:?} -> {b:?}")));
        }
    }
}
