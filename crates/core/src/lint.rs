//! Lint findings for a policy that loaded: legal, but risky or unaccountable.
//!
//! `egress-policy validate` prints these; `--strict` turns them into failures.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::host::HostPattern;
use crate::model::{Mode, Rule, RuleKind};
use crate::policy::Policy;

/// How long before expiry a rule is reported as expiring soon.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable code, e.g. `broad-cidr`.
    pub code: &'static str,
    /// The rule the finding is about.
    pub rule: Option<String>,
    /// The field, e.g. `hosts[0]`.
    pub field: Option<String>,
    /// What is risky.
    pub message: String,
    /// What to do about it.
    pub fix: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning[{}]", self.code)?;
        if let Some(rule) = &self.rule {
            write!(f, " rule `{rule}`")?;
        }
        if let Some(field) = &self.field {
            write!(f, " field `{field}`")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "; {fix}")?;
        }
        Ok(())
    }
}

fn finding(code: &'static str, rule: &Rule, field: Option<String>, message: String, fix: Option<&str>) -> Finding {
    Finding {
        code,
        rule: Some(rule.id().to_string()),
        field,
        message,
        fix: fix.map(str::to_string),
    }
}

/// Lints a policy as of `now`.
///
/// ```
/// use egress_policy_core::{Policy, lint};
/// let p = Policy::from_toml_str("version = 1\n[[allow]]\nid = \"all\"\ncidrs = [\"0.0.0.0/0\"]\n")?;
/// let codes: Vec<_> = lint::lint(&p, std::time::SystemTime::now()).into_iter().map(|f| f.code).collect();
/// assert!(codes.contains(&"broad-cidr"));
/// assert!(codes.contains(&"missing-metadata"));
/// # Ok::<(), egress_policy_core::LoadError>(())
/// ```
pub fn lint(policy: &Policy, now: SystemTime) -> Vec<Finding> {
    let mut out = Vec::new();
    let rules: Vec<&Rule> = policy.allow_rules().chain(policy.deny_rules()).collect();
    for rule in &rules {
        let allow = rule.kind() == RuleKind::Allow;
        for (i, h) in rule.hosts().iter().enumerate() {
            if let HostPattern::Wildcard(suffix) = h
                && !suffix.contains('.')
                && allow
            {
                out.push(finding(
                    "wildcard-public-suffix",
                    rule,
                    Some(format!("hosts[{i}]")),
                    format!("`{h}` covers a whole top-level domain"),
                    Some("name the registrable domain, e.g. `*.example.com`"),
                ));
            }
        }
        for (i, net) in rule.cidrs().iter().enumerate() {
            let broad = match net {
                ipnet::IpNet::V4(n) => n.prefix_len() < 8,
                ipnet::IpNet::V6(n) => n.prefix_len() < 32,
            };
            if broad && allow {
                out.push(finding(
                    "broad-cidr",
                    rule,
                    Some(format!("cidrs[{i}]")),
                    format!("`{net}` is a very broad range (shorter than /8 for IPv4, /32 for IPv6)"),
                    Some("name the networks the service really contacts"),
                ));
            }
        }
        if allow && policy.mode() != Mode::Open {
            let missing: Vec<&str> = [
                ("owner", rule.owner().is_none()),
                ("reason", rule.reason().is_none()),
                ("expires", rule.expires().is_none()),
            ]
            .into_iter()
            .filter_map(|(name, missing)| missing.then_some(name))
            .collect();
            if !missing.is_empty() {
                out.push(finding(
                    "missing-metadata",
                    rule,
                    None,
                    format!("allow rule in a {} policy without {}", policy.mode(), missing.join(", ")),
                    Some("every exception says who owns it, why it exists and until when"),
                ));
            }
        }
        for (field, value) in [("owner", rule.owner()), ("reason", rule.reason()), ("ticket", rule.ticket())] {
            if value.is_some_and(|v| v.contains("FILL-IN")) {
                out.push(finding(
                    "placeholder",
                    rule,
                    Some(field.into()),
                    format!("`{field}` is still a FILL-IN placeholder"),
                    Some("write who owns the rule, why it exists and its ticket"),
                ));
            }
        }
        if let Some(exp) = rule.expires() {
            if exp.at() <= now {
                out.push(finding(
                    "expired",
                    rule,
                    Some("expires".into()),
                    format!("expired at {}; the rule no longer applies", exp.to_rfc3339()),
                    Some("remove the rule, or renew it with a new ticket"),
                ));
            } else if exp.at() <= now + EXPIRY_WARNING {
                out.push(finding(
                    "expires-soon",
                    rule,
                    Some("expires".into()),
                    format!("expires at {}, within 14 days", exp.to_rfc3339()),
                    Some("renew it or plan its removal"),
                ));
            }
        }
    }
    // Duplicate entries across rules of the same kind.
    for (a_idx, a) in rules.iter().enumerate() {
        for b in rules.iter().skip(a_idx + 1).filter(|b| b.kind() == a.kind()) {
            for (i, h) in b.hosts().iter().enumerate() {
                if a.hosts().contains(h) {
                    out.push(finding(
                        "duplicate-entry",
                        b,
                        Some(format!("hosts[{i}]")),
                        format!("`{h}` is also listed by rule `{}`", a.id()),
                        Some("keep each destination in one rule"),
                    ));
                }
            }
            for (i, n) in b.cidrs().iter().enumerate() {
                if a.cidrs().contains(n) {
                    out.push(finding(
                        "duplicate-entry",
                        b,
                        Some(format!("cidrs[{i}]")),
                        format!("`{n}` is also listed by rule `{}`", a.id()),
                        Some("keep each destination in one rule"),
                    ));
                }
            }
        }
    }
    // Exact names already covered by a wildcard of the same rule.
    for rule in &rules {
        for (i, h) in rule.hosts().iter().enumerate() {
            if let HostPattern::Exact(name) = h
                && let Some(w) = rule
                    .hosts()
                    .iter()
                    .find(|p| matches!(p, HostPattern::Wildcard(_)) && p.matches(name))
            {
                out.push(finding(
                    "shadowed",
                    rule,
                    Some(format!("hosts[{i}]")),
                    format!("`{h}` is already covered by `{w}` in the same rule"),
                    Some("remove the redundant entry"),
                ));
            }
        }
    }
    out
}
