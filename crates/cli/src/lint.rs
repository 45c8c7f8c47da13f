//! Lint findings for a policy that loaded: legal, but risky, unaccountable or
//! dead. `egress-policy validate` prints them; `--strict` fails on warnings;
//! errors always fail.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use egress_policy_core::addr::{METADATA_ADDRESSES, special_purpose};
use egress_policy_core::{Enforcement, HostPattern, Mode, Policy, Rule, RuleKind};
use ipnet::IpNet;

use crate::rules::{self, coverage};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails `validate` even without `--strict`.
    Error,
    /// Fails `validate --strict`.
    Warning,
}

/// A lint: its stable code, its severity and what it catches. Every finding
/// comes from one of [`LINTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lint {
    /// The stable code, e.g. `broad-cidr`.
    pub code: &'static str,
    /// Errors fail `validate`; warnings fail `validate --strict`.
    pub severity: Severity,
    /// What it catches, in one line.
    pub summary: &'static str,
}

/// `mode-not-allowed`: the policy's mode (or observe enforcement) is weaker than `--require-mode`.
pub const MODE_NOT_ALLOWED: Lint = Lint {
    code: "mode-not-allowed",
    severity: Severity::Error,
    summary: "The policy's mode (or observe enforcement) is weaker than `--require-mode`.",
};
/// `environment-not-sealed`: an environment that must run sealed has a policy that is not sealed and enforced.
pub const ENVIRONMENT_NOT_SEALED: Lint = Lint {
    code: "environment-not-sealed",
    severity: Severity::Error,
    summary: "An environment that must run sealed has a policy that is not sealed and enforced.",
};
/// `metadata-address`: an allow range (`cidrs` or `resolves_to`) reaches a cloud metadata address.
pub const METADATA_ADDRESS: Lint = Lint {
    code: "metadata-address",
    severity: Severity::Error,
    summary: "An allow range (`cidrs` or `resolves_to`) reaches a cloud metadata address.",
};
/// `unreviewed-special-purpose`: a suggested rule admits special-purpose addresses and still has placeholders.
pub const UNREVIEWED_SPECIAL_PURPOSE: Lint = Lint {
    code: "unreviewed-special-purpose",
    severity: Severity::Error,
    summary: "A suggested rule admits special-purpose addresses and still has placeholders.",
};
/// `wildcard-public-suffix`: a wildcard covers a public suffix, under which anyone can register names.
pub const WILDCARD_PUBLIC_SUFFIX: Lint = Lint {
    code: "wildcard-public-suffix",
    severity: Severity::Warning,
    summary: "A wildcard covers a public suffix, under which anyone can register names.",
};
/// `broad-cidr`: an allow CIDR is shorter than `--min-prefix-v4` / `--min-prefix-v6`.
pub const BROAD_CIDR: Lint = Lint {
    code: "broad-cidr",
    severity: Severity::Warning,
    summary: "An allow CIDR is shorter than `--min-prefix-v4` / `--min-prefix-v6`.",
};
/// `embedded-ipv4-prefix`: an allow range lies in or covers an IPv6 prefix that embeds IPv4 (NAT64, 6to4, Teredo, IPv4-compatible).
pub const EMBEDDED_IPV4_PREFIX: Lint = Lint {
    code: "embedded-ipv4-prefix",
    severity: Severity::Warning,
    summary: "An allow range lies in or covers an IPv6 prefix that embeds IPv4 (NAT64, 6to4, Teredo, IPv4-compatible).",
};
/// `any-port`: an allow rule admits every port.
pub const ANY_PORT: Lint = Lint {
    code: "any-port",
    severity: Severity::Warning,
    summary: "An allow rule admits every port.",
};
/// `missing-metadata`: a rule has no `owner`, `reason` or `ticket`.
pub const MISSING_METADATA: Lint = Lint {
    code: "missing-metadata",
    severity: Severity::Warning,
    summary: "A rule has no `owner`, `reason` or `ticket`.",
};
/// `placeholder`: a field still holds the `FILL-IN` placeholder `suggest` writes.
pub const PLACEHOLDER: Lint = Lint {
    code: "placeholder",
    severity: Severity::Warning,
    summary: "A field still holds the `FILL-IN` placeholder `suggest` writes.",
};
/// `expired`: a rule's expiry has passed: it no longer allows (or denies) anything.
pub const EXPIRED: Lint = Lint {
    code: "expired",
    severity: Severity::Warning,
    summary: "A rule's expiry has passed: it no longer allows (or denies) anything.",
};
/// `expires-soon`: a rule expires within `--expiry-warning-days`.
pub const EXPIRES_SOON: Lint = Lint {
    code: "expires-soon",
    severity: Severity::Warning,
    summary: "A rule expires within `--expiry-warning-days`.",
};
/// `expires-too-far`: a rule's expiry is further out than `--max-expiry-days`.
pub const EXPIRES_TOO_FAR: Lint = Lint {
    code: "expires-too-far",
    severity: Severity::Warning,
    summary: "A rule's expiry is further out than `--max-expiry-days`.",
};
/// `shadowed`: a rule is covered by another one: it can never decide anything.
pub const SHADOWED: Lint = Lint {
    code: "shadowed",
    severity: Severity::Warning,
    summary: "A rule is covered by another one: it can never decide anything.",
};
/// `deny-removes-allow`: a deny rule removes everything an allow rule admits.
pub const DENY_REMOVES_ALLOW: Lint = Lint {
    code: "deny-removes-allow",
    severity: Severity::Warning,
    summary: "A deny rule removes everything an allow rule admits.",
};
/// `duplicate-entry`: a rule lists an entry another entry already covers.
pub const DUPLICATE_ENTRY: Lint = Lint {
    code: "duplicate-entry",
    severity: Severity::Warning,
    summary: "A rule lists an entry another entry already covers.",
};

/// Every lint, errors first.
pub const LINTS: &[Lint] = &[
    MODE_NOT_ALLOWED,
    ENVIRONMENT_NOT_SEALED,
    METADATA_ADDRESS,
    UNREVIEWED_SPECIAL_PURPOSE,
    WILDCARD_PUBLIC_SUFFIX,
    BROAD_CIDR,
    EMBEDDED_IPV4_PREFIX,
    ANY_PORT,
    MISSING_METADATA,
    PLACEHOLDER,
    EXPIRED,
    EXPIRES_SOON,
    EXPIRES_TOO_FAR,
    SHADOWED,
    DENY_REMOVES_ALLOW,
    DUPLICATE_ENTRY,
];

/// One finding, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Stable code, e.g. `broad-cidr`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The rule, if the finding is about one.
    pub rule: Option<String>,
    /// The field, e.g. `hosts[0]`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]", self.code)?;
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

/// Lint settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The instant expiry is judged at.
    pub now: SystemTime,
    /// IPv4 allow CIDRs shorter than this are `broad-cidr`.
    pub min_prefix_v4: u8,
    /// IPv6 allow CIDRs shorter than this are `broad-cidr`.
    pub min_prefix_v6: u8,
    /// `expires` further out than this is `expires-too-far`.
    pub max_expiry: Duration,
    /// Rules expiring within this window are `expires-soon`.
    pub expiry_warning: Duration,
    /// The weakest mode allowed (`--require-mode`): stronger is fine.
    pub require_mode: Option<Mode>,
    /// `environment` labels that must run `sealed`.
    pub sealed_environments: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            now: SystemTime::now(),
            min_prefix_v4: 8,
            min_prefix_v6: 32,
            max_expiry: Duration::from_secs(365 * 86_400),
            expiry_warning: Duration::from_secs(14 * 86_400),
            require_mode: None,
            sealed_environments: ["sealed", "air-gapped", "airgapped", "airgap"].map(String::from).to_vec(),
        }
    }
}

/// The IPv6 prefixes that embed IPv4 addresses, when `net` lies inside one or
/// covers one (NAT64, IPv4-compatible, 6to4, Teredo).
fn embedding_prefix(net: &IpNet) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 5] = [
        ("64:ff9b::/96", "NAT64 (64:ff9b::/96)"),
        ("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"),
        ("::/96", "IPv4-compatible (::/96)"),
        ("2002::/16", "6to4 (2002::/16)"),
        ("2001::/32", "Teredo (2001::/32)"),
    ];
    let IpNet::V6(net) = net else { return None };
    PREFIXES.iter().find_map(|(prefix, kind)| {
        let prefix: ipnet::Ipv6Net = prefix.parse().ok()?;
        // The whole prefix or a part of it; a single address is a deliberate choice,
        // and wider ranges are `broad-cidr` already.
        (prefix.contains(net) && net.prefix_len() < 128).then_some(*kind)
    })
}

/// Whether a deny rule with no expiry refuses `addr` for every scheme and port.
fn denied_everywhere(policy: &Policy, addr: std::net::IpAddr) -> bool {
    policy.deny_rules().any(|d| {
        d.expires().is_none()
            && d.schemes().is_all()
            && matches!(d.ports(), egress_policy_core::Ports::Any)
            && d.cidrs().iter().any(|n| n.contains(&addr))
    })
}

fn finding(lint: Lint, rule: &Rule, field: Option<String>, message: String, fix: &str) -> Finding {
    Finding {
        code: lint.code,
        severity: lint.severity,
        rule: Some(rule.id().to_string()),
        field,
        message,
        fix: Some(fix.to_string()),
    }
}

/// Whether pattern `a` covers everything pattern `b` matches.
fn pattern_covers(a: &HostPattern, b: &HostPattern) -> bool {
    match (a, b) {
        (x, y) if x == y => true,
        (HostPattern::Wildcard(s), HostPattern::Exact(n)) => a.matches(n) && n.len() > s.len(),
        (HostPattern::Wildcard(s), HostPattern::Wildcard(t)) => t.ends_with(&format!(".{s}")),
        _ => false,
    }
}

fn net_covers(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b)
}

/// Whether `b`'s destinations (hosts, CIDRs, scheme/port coverage) all fall under `a`.
fn destinations_covered(a: &Rule, b: &Rule) -> bool {
    let hosts = b.hosts().iter().all(|h| a.hosts().iter().any(|p| pattern_covers(p, h)));
    let cidrs = b.cidrs().iter().all(|n| a.cidrs().iter().any(|m| net_covers(m, n)));
    let (ca, cb) = (coverage(a), coverage(b));
    let ports = cb.iter().all(|(scheme, ranges)| {
        ca.iter()
            .find(|(s, _)| s == scheme)
            .is_some_and(|(_, outer)| ranges.iter().all(|&(lo, hi)| outer.iter().any(|&(l, h)| l <= lo && hi <= h)))
    });
    hosts && cidrs && ports
}

/// Whether allow rule `a` grants at least what allow rule `b` grants.
fn allow_covers(a: &Rule, b: &Rule) -> bool {
    let modes = b.modes().iter().all(|m| a.modes().contains(m));
    let clients = match (a.clients(), b.clients()) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => y.iter().all(|c| x.contains(c)),
    };
    let resolves = b.resolves_to().iter().all(|n| a.resolves_to().iter().any(|m| net_covers(m, n)));
    let lives = match (a.expires(), b.expires()) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => x.at() >= y.at(),
    };
    destinations_covered(a, b) && modes && clients && resolves && lives
}

fn duplicate(rule: &Rule, field: String, entry: &dyn fmt::Display, other: &Rule) -> Finding {
    finding(
        DUPLICATE_ENTRY,
        rule,
        Some(field),
        format!("`{entry}` is also listed by rule `{}`", other.id()),
        "keep each destination in one rule",
    )
}

/// Rules by the destinations they list, to find the rules that could cover
/// another without comparing every pair.
struct Coverers<'a> {
    exact: HashMap<&'a str, Vec<usize>>,
    wildcard: HashMap<&'a str, Vec<usize>>,
    nets: HashMap<IpNet, Vec<usize>>,
}

impl<'a> Coverers<'a> {
    fn new(rules: &[&'a Rule]) -> Self {
        let mut index = Coverers {
            exact: HashMap::new(),
            wildcard: HashMap::new(),
            nets: HashMap::new(),
        };
        for (i, r) in rules.iter().enumerate() {
            for h in r.hosts() {
                match h {
                    HostPattern::Exact(n) => index.exact.entry(&**n).or_default().push(i),
                    HostPattern::Wildcard(s) => index.wildcard.entry(&**s).or_default().push(i),
                }
            }
            for n in r.cidrs() {
                index.nets.entry(*n).or_default().push(i);
            }
        }
        index
    }

    /// Every rule that lists `b`'s first host, a wildcard over it, or a network
    /// holding `b`'s first CIDR (in index order, without repeats).
    fn candidates(&self, b: &Rule) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        if let Some(h) = b.hosts().first() {
            let (name, exact) = match h {
                HostPattern::Exact(n) => (&**n, true),
                HostPattern::Wildcard(s) => (&**s, false),
            };
            if exact {
                found.extend(self.exact.get(name).into_iter().flatten());
            }
            found.extend(self.wildcard.get(name).into_iter().flatten());
            for (dot, _) in name.match_indices('.') {
                found.extend(self.wildcard.get(&name[dot + 1..]).into_iter().flatten());
            }
        } else if let Some(n) = b.cidrs().first() {
            for len in 0..=n.prefix_len() {
                if let Ok(outer) = IpNet::new(n.network(), len) {
                    found.extend(self.nets.get(&outer.trunc()).into_iter().flatten());
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Lints `policy`.
pub fn lint(policy: &Policy, opts: &Options) -> Vec<Finding> {
    let mut out = Vec::new();
    let top = |lint: Lint, message: String, fix: &str| Finding {
        code: lint.code,
        severity: lint.severity,
        rule: None,
        field: Some("mode".into()),
        message,
        fix: Some(fix.into()),
    };
    // Under `observe` nothing is refused: whatever the mode says, the policy is
    // as weak as `open`.
    let observed = policy.enforcement() == Enforcement::Observe;
    if let Some(required) = opts.require_mode {
        if policy.mode() > required {
            out.push(top(
                MODE_NOT_ALLOWED,
                format!("mode `{}` is weaker than the required `{required}`", policy.mode()),
                "this fleet only accepts stricter policies",
            ));
        } else if observed && required != Mode::Open {
            out.push(Finding {
                field: Some("enforcement".into()),
                ..top(
                    MODE_NOT_ALLOWED,
                    format!(
                        "mode `{}` under `enforcement = \"observe\"` refuses nothing, which is weaker than the required `{required}`",
                        policy.mode()
                    ),
                    "set `enforcement = \"enforce\"`",
                )
            });
        }
    }
    if let Some(env) = policy.environment()
        && !policy.is_sealed()
        && opts.sealed_environments.iter().any(|s| s.eq_ignore_ascii_case(env))
    {
        let (field, message, fix) = if policy.mode() == Mode::Sealed {
            (
                "enforcement",
                format!("environment `{env}` must run sealed, but the policy is only observed (`enforcement = \"observe\"`)"),
                "set `enforcement = \"enforce\"`, or correct the `environment` label",
            )
        } else {
            (
                "mode",
                format!("environment `{env}` must run sealed, but the mode is `{}`", policy.mode()),
                "set `mode = \"sealed\"`, or correct the `environment` label",
            )
        };
        out.push(Finding {
            field: Some(field.into()),
            ..top(ENVIRONMENT_NOT_SEALED, message, fix)
        });
    }

    let all: Vec<&Rule> = policy.allow_rules().chain(policy.deny_rules()).collect();
    for rule in &all {
        let allow = rule.kind() == RuleKind::Allow;
        if allow {
            for (i, h) in rule.hosts().iter().enumerate() {
                if let HostPattern::Wildcard(suffix) = h {
                    let public = psl::suffix(suffix.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes() == suffix.as_bytes());
                    if public {
                        out.push(finding(
                            WILDCARD_PUBLIC_SUFFIX,
                            rule,
                            Some(format!("hosts[{i}]")),
                            format!("`{h}` covers a public suffix: anyone can register a name under it"),
                            "name the registrable domains you mean, e.g. `*.example.co.uk` or `my-bucket.s3.amazonaws.com`",
                        ));
                    }
                }
            }
            for (field, nets) in [("cidrs", rule.cidrs()), ("resolves_to", rule.resolves_to())] {
                for (i, net) in nets.iter().enumerate() {
                    let broad = match net {
                        IpNet::V4(n) => n.prefix_len() < opts.min_prefix_v4,
                        IpNet::V6(n) => n.prefix_len() < opts.min_prefix_v6,
                    };
                    if let Some(kind) = embedding_prefix(net) {
                        out.push(finding(
                            EMBEDDED_IPV4_PREFIX,
                            rule,
                            Some(format!("{field}[{i}]")),
                            format!(
                                "`{net}` covers {kind} addresses, which carry IPv4 addresses inside: it admits the IPv4 space behind it (private and metadata addresses included, where the gateway translates them) as IPv6"
                            ),
                            "name the IPv6 addresses or a narrower prefix; deny rules on IPv4 ranges still apply to the embedded addresses",
                        ));
                    }
                    if let Some(range) = special_purpose(net.network()).or_else(|| special_purpose(net.broadcast()))
                        && [rule.owner(), rule.reason()]
                            .iter()
                            .any(|v| v.is_some_and(|v| v.contains(rules::PLACEHOLDER)))
                    {
                        out.push(finding(
                            UNREVIEWED_SPECIAL_PURPOSE,
                            rule,
                            Some(format!("{field}[{i}]")),
                            format!(
                                "`{net}` reaches special-purpose space ({}, {}) and the rule still has {} placeholders: it was suggested from observed traffic and not reviewed",
                                range.name,
                                range.network,
                                rules::PLACEHOLDER
                            ),
                            "confirm the service must reach this range, then fill in owner and reason; otherwise remove it",
                        ));
                    }
                    for m in METADATA_ADDRESSES {
                        if net.contains(&m) && !denied_everywhere(policy, m) {
                            out.push(finding(
                                METADATA_ADDRESS,
                                rule,
                                Some(format!("{field}[{i}]")),
                                format!(
                                    "`{net}` covers the cloud metadata address {m}: a request forged through this rule reaches the instance's credentials"
                                ),
                                &format!(
                                    "narrow the range, or add a deny rule for `{}` (metadata is for the cloud SDK's own client, not an enforced one)",
                                    IpNet::from(m)
                                ),
                            ));
                        }
                    }
                    if broad {
                        out.push(finding(
                            BROAD_CIDR,
                            rule,
                            Some(format!("{field}[{i}]")),
                            format!(
                                "`{net}` is very broad (IPv4 shorter than /{}, IPv6 shorter than /{})",
                                opts.min_prefix_v4, opts.min_prefix_v6
                            ),
                            "name the networks the service really contacts",
                        ));
                    }
                }
            }
            if !rule.hosts().is_empty() && matches!(rule.ports(), egress_policy_core::Ports::Any) {
                out.push(finding(
                    ANY_PORT,
                    rule,
                    Some("ports".into()),
                    "`ports = \"any\"` on a name rule".into(),
                    "list the ports the service uses",
                ));
            }
            if policy.mode() != Mode::Open {
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
                        MISSING_METADATA,
                        rule,
                        None,
                        format!("allow rule in a {} policy without {}", policy.mode(), missing.join(", ")),
                        "every exception says who owns it, why it exists and until when",
                    ));
                }
            }
        }
        for (field, value) in [("owner", rule.owner()), ("reason", rule.reason()), ("ticket", rule.ticket())] {
            if value.is_some_and(|v| v.contains(rules::PLACEHOLDER)) {
                out.push(finding(
                    PLACEHOLDER,
                    rule,
                    Some(field.into()),
                    format!("`{field}` is still a {} placeholder", rules::PLACEHOLDER),
                    "write who owns the rule, why it exists and its ticket",
                ));
            }
        }
        if let Some(exp) = rule.expires() {
            let at = exp.at();
            if at <= opts.now {
                out.push(finding(
                    EXPIRED,
                    rule,
                    Some("expires".into()),
                    format!("expired at {}: the rule no longer applies", exp.to_rfc3339()),
                    "remove the rule, or renew it with a new ticket",
                ));
            } else if at <= opts.now + opts.expiry_warning {
                let days = at.duration_since(opts.now).unwrap_or_default().as_secs() / 86_400;
                out.push(finding(
                    EXPIRES_SOON,
                    rule,
                    Some("expires".into()),
                    format!("expires at {} ({days} days left)", exp.to_rfc3339()),
                    "renew it or plan its removal",
                ));
            } else if at > opts.now + opts.max_expiry {
                out.push(finding(
                    EXPIRES_TOO_FAR,
                    rule,
                    Some("expires".into()),
                    format!(
                        "expires at {}, more than {} days out",
                        exp.to_rfc3339(),
                        opts.max_expiry.as_secs() / 86_400
                    ),
                    "exceptions are reviewed at least yearly: pick a nearer date",
                ));
            }
        }
        // Exact names already covered by a wildcard of the same rule.
        for (i, h) in rule.hosts().iter().enumerate() {
            if let Some(w) = rule.hosts().iter().find(|p| *p != h && pattern_covers(p, h)) {
                out.push(finding(
                    SHADOWED,
                    rule,
                    Some(format!("hosts[{i}]")),
                    format!("`{h}` is already covered by `{w}` in the same rule"),
                    "remove the redundant entry",
                ));
            }
        }
    }

    // Pairwise checks, but only against rules that could cover `b`: a rule
    // covering `b` must cover its first host or its first CIDR, and those are
    // found by lookup (the policies the loader accepts have 100 000 rules; an
    // all-pairs loop would take minutes).
    let index = Coverers::new(&all);
    for (bi, b) in all.iter().enumerate() {
        // The same entry in an earlier rule of the same kind, for every entry.
        let earlier = |listed: Option<&Vec<usize>>| -> Vec<usize> {
            listed
                .into_iter()
                .flatten()
                .copied()
                .filter(|&ai| ai < bi && all[ai].kind() == b.kind())
                .collect()
        };
        for (i, h) in b.hosts().iter().enumerate() {
            let listed = match h {
                HostPattern::Exact(n) => index.exact.get(&**n),
                HostPattern::Wildcard(w) => index.wildcard.get(&**w),
            };
            for ai in earlier(listed) {
                out.push(duplicate(b, format!("hosts[{i}]"), h, all[ai]));
            }
        }
        for (i, n) in b.cidrs().iter().enumerate() {
            for ai in earlier(index.nets.get(n)) {
                out.push(duplicate(b, format!("cidrs[{i}]"), n, all[ai]));
            }
        }
        for ai in index.candidates(b) {
            if ai == bi {
                continue;
            }
            let a = all[ai];
            let same_kind = a.kind() == b.kind();
            // `b` adds nothing `a` does not already grant (ties: the later id is reported).
            let shadows = same_kind
                && match b.kind() {
                    RuleKind::Allow => allow_covers(a, b) && (!allow_covers(b, a) || ai < bi),
                    RuleKind::Deny => destinations_covered(a, b) && a.expires().is_none() && (!destinations_covered(b, a) || ai < bi),
                };
            if shadows {
                out.push(finding(
                    SHADOWED,
                    b,
                    None,
                    format!("everything it covers is already covered by rule `{}`", a.id()),
                    "remove it, or narrow the broader rule",
                ));
            }
            if a.kind() == RuleKind::Deny && b.kind() == RuleKind::Allow && a.expires().is_none() && destinations_covered(a, b) {
                out.push(finding(
                    DENY_REMOVES_ALLOW,
                    b,
                    None,
                    format!(
                        "deny rule `{}` removes everything this rule grants: it can never allow anything",
                        a.id()
                    ),
                    "remove the allow rule, or narrow the deny rule",
                ));
            }
        }
    }
    out
}
