//! Validation of the raw model into rules: one function per field, every
//! problem collected (a file is reported whole, never one error at a time).

use std::collections::HashMap;

use ipnet::IpNet;

use crate::addr::parse_cidr;
use crate::host::{HostPattern, parse_pattern};
use crate::invalid::Invalid;
use crate::model::{Expiry, Mode, Ports, Rule, RuleKind, Scheme, SchemeSet};
use crate::time::parse_expiry;

use super::Parsed;
use super::error::{LoadError, LoadErrorKind, Problem, RuleLocation};
use super::ids::{id_fix, valid_id};
use super::locate::Locator;
use super::raw::{RawExpires, RawPolicy, RawPort, RawPorts, RawRule};

/// Every mode: where deny rules apply.
const ALL_MODES: [Mode; 3] = [Mode::Sealed, Mode::Constrained, Mode::Open];

/// Validates a whole file: the top-level fields, then every rule.
pub(super) fn validate(raw: RawPolicy, loc: &Locator<'_>) -> Result<Parsed, LoadError> {
    let mut problems = Vec::new();
    if raw.version != 1 {
        problems.push(Problem {
            line: None,
            column: None,
            rule: None,
            field: Some("version".into()),
            message: format!("unsupported policy format version {}; this library reads version 1", raw.version),
            fix: Some("write `version = 1`".into()),
        });
    }
    let mut seen_ids: HashMap<String, (RuleKind, usize)> = HashMap::new();
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for (kind, rules, out) in [(RuleKind::Allow, raw.allow, &mut allow), (RuleKind::Deny, raw.deny, &mut deny)] {
        for (index, raw_rule) in rules.into_iter().enumerate() {
            let mut rc = RuleCtx {
                loc,
                problems: &mut problems,
                kind,
                index,
                id: raw_rule.id.clone().filter(|id| valid_id(id)),
            };
            if let Some(id) = &raw_rule.id {
                if let Some((k, i)) = seen_ids.get(id) {
                    rc.err(
                        "id",
                        None,
                        Invalid::new(format!("duplicate rule id `{id}` (also {}[{i}])", k.as_str())).fix("give every rule its own id"),
                    );
                } else {
                    seen_ids.insert(id.clone(), (kind, index));
                }
            }
            if let Some(rule) = rule(raw_rule, &mut rc) {
                out.push(rule);
            }
        }
    }
    if !problems.is_empty() {
        return Err(LoadError::new(LoadErrorKind::Invalid(problems)));
    }
    Ok(Parsed {
        environment: raw.environment.filter(|e| !e.trim().is_empty()),
        mode: raw.mode.unwrap_or_default(),
        enforcement: raw.enforcement.unwrap_or_default(),
        floor: raw.floor.unwrap_or(false),
        allow,
        deny,
    })
}

/// Where one rule's problems go, located at the rule and field.
struct RuleCtx<'p, 'l> {
    loc: &'p Locator<'l>,
    problems: &'p mut Vec<Problem>,
    kind: RuleKind,
    index: usize,
    /// The rule's id when it is valid (to name the rule in every problem).
    id: Option<String>,
}

impl RuleCtx<'_, '_> {
    /// Reports a problem with `field` (element `elem` of a list).
    fn err(&mut self, field: &str, elem: Option<usize>, invalid: Invalid) {
        let (line, column) = self.loc.find(self.kind, self.index, Some(field), elem).unzip();
        let field = match elem {
            Some(i) => format!("{field}[{i}]"),
            None => field.to_string(),
        };
        self.problems.push(Problem {
            line,
            column,
            rule: Some(RuleLocation {
                kind: self.kind,
                index: self.index,
                id: self.id.clone(),
            }),
            field: Some(field),
            message: invalid.message,
            fix: invalid.fix,
        });
    }

    /// Parses every element of a list field, reporting each one that fails.
    fn each<T>(&mut self, field: &str, list: &[String], parse: impl Fn(&str) -> Result<T, Invalid>) -> Vec<T> {
        let mut out = Vec::with_capacity(list.len());
        for (i, raw) in list.iter().enumerate() {
            match parse(raw) {
                Ok(value) => out.push(value),
                Err(invalid) => self.err(field, Some(i), invalid),
            }
        }
        out
    }

    /// Reports `field` as an empty list, with what to write instead.
    fn empty(&mut self, field: &str, message: &str, fix: &str) {
        self.err(field, None, Invalid::new(message).fix(fix));
    }

    /// Reports a field the rule's kind does not accept.
    fn not_for_kind(&mut self, field: &str, message: &str) {
        self.err(field, None, Invalid::new(message).fix(format!("remove `{field}`")));
    }
}

/// Validates one rule; `None` when any of its fields has a problem.
fn rule(raw: RawRule, rc: &mut RuleCtx<'_, '_>) -> Option<Rule> {
    let start = rc.problems.len();
    let kind = rc.kind;
    let id = id(raw.id, rc);
    let mut hosts = hosts(raw.hosts.as_deref(), rc);
    let mut cidrs = nets("cidrs", raw.cidrs.as_deref(), rc);
    let named = raw.hosts.as_ref().is_some_and(|h| !h.is_empty());
    if !named && raw.cidrs.as_ref().is_none_or(Vec::is_empty) {
        rc.err("hosts", None, Invalid::new("a rule needs at least one of `hosts` or `cidrs`"));
    }
    let schemes = schemes(raw.schemes.as_deref(), rc);
    let ports = ports(raw.ports, schemes, rc);
    let modes = modes(raw.modes.as_deref(), rc);
    let clients = clients(raw.clients, rc);
    let mut resolves_to = resolves_to(raw.resolves_to.as_deref(), named, rc);
    let expires = expires(raw.expires, rc);
    let owner = text("owner", raw.owner, rc);
    let reason = text("reason", raw.reason, rc);
    let ticket = text("ticket", raw.ticket, rc);
    if rc.problems.len() > start {
        return None;
    }
    hosts.sort();
    hosts.dedup();
    cidrs.sort();
    cidrs.dedup();
    resolves_to.sort();
    resolves_to.dedup();
    Some(Rule {
        kind,
        id: id.into(),
        hosts,
        cidrs,
        schemes,
        ports,
        modes,
        clients,
        resolves_to,
        owner,
        reason,
        ticket,
        expires,
        slot: 0,
    })
}

/// `id`: required, `[a-z0-9][a-z0-9_.-]*` (uniqueness is checked across rules).
fn id(raw: Option<String>, rc: &mut RuleCtx<'_, '_>) -> String {
    match raw {
        None => {
            rc.err(
                "id",
                None,
                Invalid::new("missing; every rule needs a unique id").fix("add `id = \"my-rule\"` ([a-z0-9][a-z0-9_.-]*)"),
            );
            String::new()
        }
        Some(id) if !valid_id(&id) => {
            let invalid = Invalid::new(format!("`{id}` is not a valid id: [a-z0-9][a-z0-9_.-]*")).maybe_fix(id_fix(&id));
            rc.err("id", None, invalid);
            id
        }
        Some(id) => id,
    }
}

/// `hosts`: canonical names and `*.` wildcards.
fn hosts(raw: Option<&[String]>, rc: &mut RuleCtx<'_, '_>) -> Vec<HostPattern> {
    rc.each("hosts", raw.unwrap_or_default(), parse_pattern)
}

/// `cidrs` and `resolves_to`: networks without host bits set.
fn nets(field: &str, raw: Option<&[String]>, rc: &mut RuleCtx<'_, '_>) -> Vec<IpNet> {
    rc.each(field, raw.unwrap_or_default(), parse_cidr)
}

/// `schemes`: default `https` for allow rules, every scheme for deny rules.
fn schemes(raw: Option<&[String]>, rc: &mut RuleCtx<'_, '_>) -> SchemeSet {
    let Some(list) = raw else {
        return match rc.kind {
            RuleKind::Deny => SchemeSet::ALL,
            RuleKind::Allow => SchemeSet::of(&[Scheme::Https]),
        };
    };
    if list.is_empty() {
        rc.empty(
            "schemes",
            "empty list",
            "omit `schemes` for the default (allow: [\"https\"]; deny: every scheme)",
        );
    }
    let parsed = rc.each("schemes", list, |s| match Scheme::parse(s) {
        Scheme::Other(_) => {
            let lower = s.to_ascii_lowercase();
            let fix = (!matches!(Scheme::parse(&lower), Scheme::Other(_))).then(|| format!("write `{lower}`"));
            Err(Invalid::new(format!("unknown scheme `{s}`; one of http, https, ws, wss, tcp, udp")).maybe_fix(fix))
        }
        scheme => Ok(scheme),
    });
    SchemeSet::of(&parsed)
}

/// `ports`: default each scheme's default port (deny rules: every port);
/// `"any"`, a port, a range, or a list of those.
fn ports(raw: Option<RawPorts>, schemes: SchemeSet, rc: &mut RuleCtx<'_, '_>) -> Ports {
    match raw {
        None if rc.kind == RuleKind::Deny => Ports::Any,
        None => {
            if schemes.contains(&Scheme::Tcp) || schemes.contains(&Scheme::Udp) {
                rc.empty(
                    "ports",
                    "`tcp` and `udp` have no default port",
                    "list the ports, e.g. `ports = [5432]`",
                );
            }
            Ports::SchemeDefaults
        }
        Some(RawPorts::Any) => Ports::Any,
        Some(RawPorts::List(list)) => {
            if list.is_empty() {
                rc.empty(
                    "ports",
                    "empty list",
                    "omit `ports` for the schemes' default ports, or write `ports = \"any\"`",
                );
            }
            let mut ranges = Vec::with_capacity(list.len());
            for (i, p) in list.iter().enumerate() {
                match port_range(p) {
                    Ok(r) => ranges.push(r),
                    Err(invalid) => rc.err("ports", Some(i), invalid),
                }
            }
            Ports::from_ranges(ranges)
        }
    }
}

/// One element of `ports`: a number 1-65535 or a range `"lo-hi"`.
fn port_range(p: &RawPort) -> Result<(u16, u16), Invalid> {
    let one = |n: i64| -> Result<u16, Invalid> {
        u16::try_from(n)
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| Invalid::new(format!("port {n} is out of range 1-65535")))
    };
    let s = match p {
        RawPort::Num(n) => return one(*n).map(|p| (p, p)),
        RawPort::Str(s) if s == "any" => {
            return Err(Invalid::new("`any` cannot be part of a list").fix("write `ports = \"any\"`"));
        }
        RawPort::Str(s) => s,
    };
    let number = |t: &str| -> Result<u16, Invalid> {
        let n: i64 = t
            .trim()
            .parse()
            .map_err(|_| Invalid::new(format!("`{s}` is not a port or a range like \"8000-8099\"")))?;
        one(n)
    };
    match s.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (number(lo)?, number(hi)?);
            if lo > hi {
                return Err(Invalid::new(format!("range `{s}` is empty (start after end)")).fix(format!("write \"{hi}-{lo}\"")));
            }
            Ok((lo, hi))
        }
        None => number(s).map(|n| (n, n)),
    }
}

/// `modes`: allow rules only, default sealed and constrained; never `open`.
fn modes(raw: Option<&[String]>, rc: &mut RuleCtx<'_, '_>) -> Vec<Mode> {
    let list = match (raw, rc.kind) {
        (Some(_), RuleKind::Deny) => {
            rc.not_for_kind("modes", "deny rules apply in every mode");
            return ALL_MODES.to_vec();
        }
        (None, RuleKind::Deny) => return ALL_MODES.to_vec(),
        (None, RuleKind::Allow) => return vec![Mode::Sealed, Mode::Constrained],
        (Some(list), RuleKind::Allow) => list,
    };
    if list.is_empty() {
        rc.empty(
            "modes",
            "empty list: the rule would never apply",
            "omit `modes` for both sealed and constrained",
        );
    }
    let mut modes = rc.each("modes", list, |m| match Mode::parse(m) {
        Some(Mode::Open) => Err(
            Invalid::new("`open` is not a rule mode: in open mode everything not denied is allowed")
                .fix("use `sealed` and/or `constrained`"),
        ),
        Some(mode) => Ok(mode),
        None => Err(Invalid::new(format!("unknown mode `{m}`; one of sealed, constrained"))),
    });
    modes.sort();
    modes.dedup();
    modes
}

/// `clients`: allow rules only; names like rule ids, compared exactly.
fn clients(raw: Option<Vec<String>>, rc: &mut RuleCtx<'_, '_>) -> Option<Vec<Box<str>>> {
    let list = raw?;
    if rc.kind == RuleKind::Deny {
        rc.not_for_kind("clients", "deny rules apply to every client");
        return None;
    }
    if list.is_empty() {
        rc.empty(
            "clients",
            "empty list: the rule would apply to no client",
            "omit `clients` to apply to every client",
        );
    }
    let mut names = rc.each("clients", &list, |c| {
        if valid_id(c) {
            Ok(Box::<str>::from(c))
        } else {
            Err(Invalid::new(format!("`{c}` is not a valid client name: [a-z0-9][a-z0-9_.-]*")).maybe_fix(id_fix(c)))
        }
    });
    names.sort();
    names.dedup();
    Some(names)
}

/// `resolves_to`: allow rules naming hosts only.
fn resolves_to(raw: Option<&[String]>, named: bool, rc: &mut RuleCtx<'_, '_>) -> Vec<IpNet> {
    if raw.is_some() {
        if rc.kind == RuleKind::Deny {
            rc.not_for_kind("resolves_to", "only allow rules can admit resolution into private ranges");
        } else if !named {
            rc.empty(
                "resolves_to",
                "only applies to name rules (`hosts`)",
                "add the names to `hosts`, or put the ranges in `cidrs`",
            );
        }
    }
    nets("resolves_to", raw, rc)
}

/// `expires`: a date (valid through that UTC day) or a UTC instant.
fn expires(raw: Option<RawExpires>, rc: &mut RuleCtx<'_, '_>) -> Option<Expiry> {
    let RawExpires(written) = raw?;
    match parse_expiry(&written) {
        Ok(at) => Some(Expiry {
            at,
            written: written.into(),
        }),
        Err(invalid) => {
            rc.err("expires", None, invalid);
            None
        }
    }
}

/// `owner`, `reason`, `ticket`: free text on one line, not blank when present.
/// Control characters (newlines, tabs) and Unicode line breaks are refused:
/// the text travels into logs, reports and generated firewall and cluster
/// configuration, where a line break could start something else.
fn text(field: &str, raw: Option<String>, rc: &mut RuleCtx<'_, '_>) -> Option<Box<str>> {
    match raw {
        Some(s) if s.trim().is_empty() => {
            rc.empty(field, "empty", &format!("fill in `{field}` or remove it"));
            None
        }
        Some(s) if let Some(c) = s.chars().find(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) => {
            rc.err(
                field,
                None,
                Invalid::new(format!("holds a control character ({})", c.escape_unicode()))
                    .fix(format!("write `{field}` on one line, without tabs or control characters")),
            );
            None
        }
        other => other.map(Into::into),
    }
}
