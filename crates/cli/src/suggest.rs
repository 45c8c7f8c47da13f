//! `egress-policy suggest`: turn observed traffic into a reviewed allowlist.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::time::SystemTime;

use egress_policy_core::{
    Context, Destination, Host, Policy, Reason, Scheme,
    addr::{is_metadata, is_public, special_purpose},
    record::{Observation, Record},
    time::{format_rfc3339, parse_instant},
};

pub use crate::rules::PLACEHOLDER;

/// What a destination is across periods: scheme, host and port.
fn key(o: &Observation) -> (String, String, u16) {
    (o.scheme.clone(), o.host.clone(), o.port)
}

/// One observation file: a period.
#[derive(Debug, Clone, Default)]
pub struct Period {
    /// Where it came from.
    pub source: String,
    /// Its observations.
    pub observations: Vec<Observation>,
    /// Destinations the recorder could not keep (its cap was reached).
    pub overflow: u64,
    /// The latest `last_seen` in it, to order periods.
    pub latest: Option<SystemTime>,
}

/// Reads an observation file (JSON lines); errors name the line.
pub fn read_period(path: &Path) -> Result<Period, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut period = Period {
        source: path.display().to_string(),
        ..Period::default()
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let obs = match Record::parse(line).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))? {
            Record::Observation(obs) => obs,
            Record::Overflow(o) => {
                period.overflow += o.overflow;
                continue;
            }
            other => return Err(format!("{}:{}: unexpected record {other:?}", path.display(), i + 1)),
        };
        if let Ok(t) = parse_instant(&obs.last_seen) {
            period.latest = Some(period.latest.map_or(t, |l| l.max(t)));
        }
        period.observations.push(obs);
    }
    Ok(period)
}

/// How `suggest` groups.
#[derive(Debug, Clone)]
pub struct Options {
    /// Distinct names under one registrable domain before they become `*.domain`.
    pub wildcard_threshold: usize,
    /// Distinct IP-literal destinations beyond which they are reported as not
    /// statically allow-listable (peer-to-peer-like traffic) instead of listed.
    pub ip_fanout_limit: usize,
    /// The time stamped in the output.
    pub now: SystemTime,
    /// The policy in force (`--policy`): its deny rules are carried over into
    /// the suggestion, and nothing they deny is proposed.
    pub policy: Option<Policy>,
    /// Tiers, readiness and provider ranges ([`crate::rollout`]).
    pub rollout: crate::rollout::Options,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            wildcard_threshold: 5,
            ip_fanout_limit: 32,
            now: SystemTime::now(),
            policy: None,
            rollout: crate::rollout::Options::default(),
        }
    }
}

/// A suggested policy and what the reviewer needs to know about it.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The policy file (TOML), with placeholders to fill in.
    pub policy: String,
    /// Destinations that were denied under `enforce`: blocked now, not in the allowlist.
    pub blocked_now: Vec<String>,
    /// Traffic that cannot be allow-listed statically.
    pub not_allowlistable: Vec<String>,
    /// Destinations first seen in the latest period (`None` with a single period).
    pub new_in_latest: Option<Vec<String>>,
    /// Destinations lost to recorder overflow.
    pub overflow: u64,
    /// What was observed but is never proposed: destinations a deny rule
    /// denied, cloud metadata addresses (as destinations or as answers), and
    /// answers a deny rule of `--policy` covers.
    pub refused: Vec<String>,
    /// Proposals a reviewer must look at twice: special-purpose addresses (they
    /// fail `validate` until the rule's placeholders are filled in) and
    /// wildcards that were not made from generated-looking names.
    pub warnings: Vec<String>,
    /// Per client: destinations, tier, horizon, readiness; the rollout order.
    pub plan: crate::rollout::Plan,
}

#[derive(Default)]
struct Group {
    /// The clients that used it (`None`: traffic without a client name).
    clients: BTreeSet<Option<String>>,
    names: BTreeSet<String>,
    pairs: BTreeSet<(String, u16)>,
    private_resolved: BTreeSet<IpAddr>,
    seen: u64,
    /// Names seen once whose first label looks generated (see [`generated_label`]).
    generated_one_offs: usize,
}

/// A label that looks machine-generated: long, or mixing letters and digits
/// with many digits (`a8f3k29dq0`, `d41d8cd98f00b204`), as scanners and DNS
/// exfiltration produce, unlike `api`, `cdn2` or `eu-west-1`.
fn generated_label(label: &str) -> bool {
    let digits = label.bytes().filter(u8::is_ascii_digit).count();
    let letters = label.bytes().filter(u8::is_ascii_alphabetic).count();
    label.len() >= 20 || (label.len() >= 8 && digits >= 3 && letters >= 2)
}

/// The deny rule of `policy` that denies `scheme://host:port`, if any.
fn denied_by(policy: Option<&Policy>, scheme: &str, host: Host, port: u16, now: SystemTime) -> Option<String> {
    let policy = policy?;
    let dest = Destination::from_parts(Scheme::parse(scheme), host, port);
    let d = policy.decide_with(&dest, &Context::at(now));
    (d.reason() == Reason::DeniedByRule).then(|| d.rule().map(|r| r.id().to_string()).unwrap_or_default())
}

/// A record's host as the policy reads it: an address (IPv6 without
/// brackets, as records write it; IPv4-mapped as IPv4) or a canonical name.
/// `None` for anything else.
fn host_of(raw: &str) -> Option<Host> {
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(Host::Ip(egress_policy_core::addr::canonical_ip(ip)));
    }
    match Host::parse(raw).ok()? {
        Host::Name(n) if crate::import::canonical_name(raw).as_deref() == Some(&*n) => Some(Host::Name(n)),
        _ => None,
    }
}

/// Text from a record, safe in a comment line of the generated policy.
fn shown(s: &str) -> String {
    crate::export::comment_text(s)
}

/// Whether a port-53 destination is the cluster's resolver (internal or
/// special-purpose): its lookups are the resolver's, never judged by the
/// policy. A public address on port 53 is an outside resolver (or a tunnel):
/// external traffic like any other.
pub(crate) fn is_resolver(port: u16, host: &Host, resolved: &[IpAddr], internal: &[ipnet::IpNet]) -> bool {
    let inside = |ip: &IpAddr| !is_public(*ip) || internal.iter().any(|n| n.contains(ip));
    port == 53
        && match host {
            Host::Ip(ip) => inside(ip),
            Host::Name(n) => n.ends_with(".cluster.local") || n.ends_with(".svc") || (!resolved.is_empty() && resolved.iter().all(inside)),
        }
}

/// [`is_resolver`] for an observation record.
pub(crate) fn is_resolver_record(o: &Observation, internal: &[ipnet::IpNet]) -> bool {
    host_of(&o.host).is_some_and(|h| is_resolver(o.port, &h, &o.resolved, internal))
}

fn rule_id(base: &str, taken: &mut BTreeSet<String>) -> String {
    let id = egress_policy_core::rule_id_from(base).unwrap_or_else(|| "rule".into());
    let mut candidate = id.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{id}-{n}");
        n += 1;
    }
    candidate
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().map(|s| quote(&s)).collect::<Vec<_>>().join(", "))
}

/// Writes the rules for one destination group (names or an address sharing one
/// set of observed (scheme, port) pairs): one rule when the pairs are every
/// scheme's default port or a full schemes × ports product, else one rule per
/// scheme, so no scheme gains another scheme's port.
fn write_rules(
    out: &mut String,
    id_base: &str,
    hosts_or_cidrs: (&str, Vec<String>),
    group: &Group,
    all_clients: &BTreeSet<Option<String>>,
    taken: &mut BTreeSet<String>,
) {
    let defaults = group.pairs.iter().all(|(s, p)| Scheme::parse(s).default_port() == Some(*p));
    let schemes: BTreeSet<&str> = group.pairs.iter().map(|(s, _)| s.as_str()).collect();
    let ports: BTreeSet<u16> = group.pairs.iter().map(|(_, p)| *p).collect();
    let product = schemes.len() * ports.len() == group.pairs.len();
    let rules: Vec<(Vec<&str>, Option<Vec<u16>>)> = if defaults {
        vec![(schemes.into_iter().collect(), None)]
    } else if product {
        vec![(schemes.into_iter().collect(), Some(ports.into_iter().collect()))]
    } else {
        let mut by_scheme: BTreeMap<&str, Vec<u16>> = BTreeMap::new();
        for (s, p) in &group.pairs {
            by_scheme.entry(s.as_str()).or_default().push(*p);
        }
        by_scheme.into_iter().map(|(s, ports)| (vec![s], Some(ports))).collect()
    };
    let split = rules.len() > 1;
    for (schemes, ports) in rules {
        let suffix = if split { format!("-{}", schemes[0]) } else { String::new() };
        let id = rule_id(&format!("{id_base}{suffix}"), taken);
        let _ = writeln!(out, "\n[[allow]]\nid = {}", quote(&id));
        let _ = writeln!(out, "{} = {}", hosts_or_cidrs.0, list(hosts_or_cidrs.1.clone()));
        let _ = writeln!(out, "schemes = {}", list(schemes.iter().map(|s| s.to_string())));
        if let Some(ports) = ports {
            let _ = writeln!(out, "ports = [{}]", ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", "));
        }
        // Named clients: a rule names the clients that used it (only some of
        // them, or all, since clients not yet observed must not inherit it).
        // Traffic without a client name is never proposed then.
        if all_clients.iter().any(Option::is_some) {
            let _ = writeln!(out, "clients = {}", list(group.clients.iter().flatten().cloned()));
        }
        if hosts_or_cidrs.0 == "cidrs"
            && let Some(range) = hosts_or_cidrs
                .1
                .first()
                .and_then(|c| c.parse::<ipnet::IpNet>().ok())
                .and_then(|n| special_purpose(n.network()))
        {
            let _ = writeln!(
                out,
                "# WARNING: a special-purpose address ({}, {}): `validate` fails until owner and reason are filled in",
                range.name, range.network
            );
        }
        if !group.private_resolved.is_empty() {
            let nets = group.private_resolved.iter().map(|ip| ipnet::IpNet::from(*ip).to_string());
            let _ = writeln!(
                out,
                "# WARNING: observed private answers: is this name meant to reach them? `validate` fails until owner and reason are filled in"
            );
            let _ = writeln!(out, "resolves_to = {}", list(nets));
        }
        let _ = writeln!(out, "owner = {}", quote(PLACEHOLDER));
        let _ = writeln!(
            out,
            "reason = {}",
            quote(&format!(
                "{PLACEHOLDER}: why this service calls these ({} requests observed)",
                group.seen
            ))
        );
        let _ = writeln!(
            out,
            "# ticket = \"SEC-...\"\n# expires = \"YYYY-MM-DD\"  # {PLACEHOLDER}: required for validate --strict"
        );
    }
}

/// A destination's requests, answers and clients, over every period.
type Seen = (u64, BTreeSet<IpAddr>, BTreeSet<Option<String>>);

/// Builds the suggestion from one or more periods (observation files).
pub fn suggest(periods: &[Period], opts: &Options) -> Suggestion {
    let mut ordered: Vec<&Period> = periods.iter().collect();
    ordered.sort_by_key(|p| p.latest);
    let overflow = periods.iter().map(|p| p.overflow).sum();

    let policy = opts.policy.as_ref();
    let every: Vec<&Observation> = periods.iter().flat_map(|p| &p.observations).collect();
    let plan = crate::rollout::plan(&every, &opts.rollout);
    let all_clients: BTreeSet<Option<String>> = plan.clients.iter().map(|c| c.client.clone()).collect();
    // Named tier D clients (broad egress) get no rules; unnamed traffic keeps
    // the single-service behaviour.
    let broad: BTreeSet<Option<String>> = plan
        .clients
        .iter()
        .filter(|c| c.tier == crate::rollout::Tier::D && c.client.is_some())
        .map(|c| c.client.clone())
        .collect();
    let mut allowed: BTreeMap<(String, String, u16), Seen> = BTreeMap::new();
    let mut blocked: BTreeSet<String> = BTreeSet::new();
    let mut refused: BTreeSet<String> = BTreeSet::new();
    // Names a deny rule refused: no wildcard may come to cover them.
    let mut refused_names: BTreeSet<String> = BTreeSet::new();
    let mut warnings: BTreeSet<String> = BTreeSet::new();
    // With named clients, every rule names its clients, and traffic no client
    // name accounts for is not proposed (it would apply to everyone).
    let named = all_clients.iter().any(Option::is_some);
    let mut unattributed: BTreeSet<String> = BTreeSet::new();
    for obs in periods.iter().flat_map(|p| &p.observations) {
        let Some(host) = host_of(&obs.host) else {
            warnings.insert(format!(
                "an observation's host `{}` is not an address or a DNS name: left out",
                shown(&obs.host)
            ));
            continue;
        };
        let host_text = match &host {
            Host::Ip(ip) => ip.to_string(),
            Host::Name(n) => n.to_string(),
        };
        let target = format!("{}://{}:{}", shown(&obs.scheme), host_text, obs.port);
        let host = Some(host);
        // A deny rule said no (seen under observe, or by the policy given now):
        // never an allow rule.
        let denied = if obs.reason == Reason::DeniedByRule.as_str() {
            Some(obs.rule.clone().unwrap_or_default())
        } else {
            host.clone().and_then(|h| denied_by(policy, &obs.scheme, h, obs.port, opts.now))
        };
        if let Some(rule) = denied {
            refused.insert(format!("{target}: denied by deny rule `{rule}`"));
            if let Some(Host::Name(name)) = &host {
                refused_names.insert(name.to_string());
            }
            continue;
        }
        if let Some(Host::Ip(ip)) = host
            && is_metadata(ip)
        {
            refused.insert(format!("{target}: a cloud metadata address"));
            continue;
        }
        if obs.verdict == "deny" && obs.enforced {
            blocked.insert(format!(
                "{target} ({}{})",
                shown(&obs.reason),
                obs.rule.as_deref().map(|r| format!(", rule {}", shown(r))).unwrap_or_default()
            ));
            continue;
        }
        if broad.contains(&obs.client) {
            continue;
        }
        if named && obs.client.is_none() {
            unattributed.insert(target.clone());
            continue;
        }
        // Imported lookups to the cluster's resolver are the resolver's, never
        // judged by the policy (network-layer exports allow DNS to it).
        if obs.source.is_some()
            && host
                .as_ref()
                .is_some_and(|h| is_resolver(obs.port, h, &obs.resolved, &opts.rollout.internal))
        {
            continue;
        }
        let e = allowed.entry((obs.scheme.clone(), host_text, obs.port)).or_default();
        e.0 += obs.count;
        e.2.insert(obs.client.clone());
        for &addr in &obs.resolved {
            if is_metadata(addr) {
                refused.insert(format!(
                    "{target} resolved to {addr}, a cloud metadata address (DNS rebinding?): never proposed"
                ));
            } else if let Some(rule) = denied_by(policy, &obs.scheme, Host::Ip(addr), obs.port, opts.now) {
                refused.insert(format!("{target} resolved to {addr}, denied by deny rule `{rule}`"));
            } else {
                e.1.insert(addr);
            }
        }
    }

    // Names grouped by registrable domain (Public Suffix List, private section
    // included, so `*.s3.amazonaws.com` can never come out); addresses apart.
    // Per host first: its (scheme, port) pairs, count and private answers.
    let mut per_name: BTreeMap<String, Group> = BTreeMap::new();
    let mut ip_groups: BTreeMap<IpAddr, Group> = BTreeMap::new();
    if !unattributed.is_empty() {
        warnings.insert(format!(
            "{} destination(s) seen from sources no client name accounts for, not proposed (they would apply to every client): {}",
            unattributed.len(),
            unattributed.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    for ((scheme, host, port), (count, resolved, clients)) in &allowed {
        let g = match host_of(host) {
            Some(Host::Ip(ip)) => ip_groups.entry(ip).or_default(),
            Some(Host::Name(name)) => per_name.entry(name.to_string()).or_default(),
            None => continue,
        };
        g.pairs.insert((scheme.clone(), *port));
        g.private_resolved.extend(resolved.iter().copied().filter(|a| !is_public(*a)));
        g.seen += count;
        g.clients.extend(clients.iter().cloned());
    }
    for (name, g) in &per_name {
        if !g.private_resolved.is_empty() {
            let addrs: Vec<String> = g.private_resolved.iter().map(ToString::to_string).collect();
            warnings.insert(format!(
                "{name} answered with special-purpose addresses ({}): proposed as `resolves_to`; `validate` fails until the rule is reviewed",
                addrs.join(", ")
            ));
        }
    }
    for ip in ip_groups.keys() {
        if let Some(range) = special_purpose(*ip) {
            warnings.insert(format!(
                "{ip} is a special-purpose address ({}): proposed as a CIDR; `validate` fails until the rule is reviewed",
                range.name
            ));
        }
    }
    // Then names sharing a registrable domain and the same pairs form a group.
    // Names only group with names the same clients used: a rule never hands
    // one client another's destination.
    type GroupKey = (String, Vec<(String, u16)>, Vec<Option<String>>);
    let mut name_groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for (name, g) in per_name {
        let domain = psl::domain_str(&name).unwrap_or(&name).to_string();
        let group = name_groups
            .entry((
                domain.clone(),
                g.pairs.iter().cloned().collect(),
                g.clients.iter().cloned().collect(),
            ))
            .or_default();
        let front = name.strip_suffix(&domain).unwrap_or(&name).trim_end_matches('.');
        if g.seen <= 1 && front.split('.').any(generated_label) {
            group.generated_one_offs += 1;
        }
        group.names.insert(name);
        group.clients.extend(g.clients);
        group.pairs.extend(g.pairs);
        group.private_resolved.extend(g.private_resolved);
        group.seen += g.seen;
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Suggested by `egress-policy suggest` at {} from {} observation file(s).",
        format_rfc3339(opts.now),
        periods.len()
    );
    let _ = writeln!(
        out,
        "# Review every rule: replace each {PLACEHOLDER} (owner, reason) and add `expires`;"
    );
    let _ = writeln!(out, "# `egress-policy validate --strict` fails until you do.");
    // Addresses inside a provider range (`--ranges`) share one rule on the range.
    let mut ranged: BTreeMap<(ipnet::IpNet, String, Vec<Option<String>>), Group> = BTreeMap::new();
    ip_groups.retain(|ip, g| match opts.rollout.range_of(*ip) {
        Some((net, provider)) => {
            let r = ranged
                .entry((*net, provider.clone(), g.clients.iter().cloned().collect()))
                .or_default();
            r.pairs.extend(g.pairs.iter().cloned());
            r.clients.extend(g.clients.iter().cloned());
            r.seen += g.seen;
            false
        }
        None => true,
    });
    let mut not_allowlistable = Vec::new();
    if ip_groups.len() > opts.ip_fanout_limit {
        not_allowlistable.push(format!(
            "{} distinct IP-literal destinations (more than {}): peer-to-peer-like traffic cannot be allow-listed statically; scope it with network policy or a dedicated client",
            ip_groups.len(),
            opts.ip_fanout_limit
        ));
    }
    for note in &not_allowlistable {
        let _ = writeln!(out, "# NOT ALLOW-LISTED: {note}");
    }
    if overflow > 0 {
        let _ = writeln!(
            out,
            "# WARNING: {overflow} destinations were not recorded (recorder full): observe longer with a larger capacity"
        );
    }
    for c in plan.clients.iter().filter(|c| broad.contains(&c.client)) {
        let _ = writeln!(
            out,
            "# NOT PROPOSED: client {} is tier D (broad egress: {} external destinations): keep it in observe",
            c.client.as_deref().unwrap_or_default(),
            c.external.len()
        );
    }
    let _ = writeln!(out, "\nversion = 1\nmode = \"sealed\"\nenforcement = \"enforce\"");

    let mut taken = BTreeSet::new();
    for ((domain, _, _), group) in &name_groups {
        let mut hosts: Vec<String> = Vec::new();
        let mut wildcard = group.names.len() >= opts.wildcard_threshold && psl::domain_str(domain) == Some(domain.as_str());
        if wildcard && group.generated_one_offs * 2 >= group.names.len() {
            // Many one-off, machine-made names under one domain is what scanning
            // and DNS exfiltration look like: list them, do not widen to `*.`.
            wildcard = false;
            let warning = format!(
                "{} names under {domain}, {} of them seen once with generated-looking labels: listed one by one, not as `*.{domain}` (scanning or DNS exfiltration looks like this)",
                group.names.len(),
                group.generated_one_offs
            );
            let _ = writeln!(out, "\n# WARNING: {warning}");
            warnings.insert(warning);
        }
        let suffix = format!(".{domain}");
        if wildcard && let Some(denied) = refused_names.iter().find(|n| n.ends_with(&suffix)) {
            wildcard = false;
            let warning = format!(
                "{} names under {domain} observed, but `*.{domain}` would also cover {denied}, which a deny rule refused: listed one by one",
                group.names.len()
            );
            let _ = writeln!(out, "\n# WARNING: {warning}");
            warnings.insert(warning);
        }
        if wildcard {
            hosts.push(format!("*.{domain}"));
            if group.names.contains(domain) {
                hosts.push(domain.clone());
            }
        } else {
            hosts.extend(group.names.iter().cloned());
        }
        write_rules(&mut out, domain, ("hosts", hosts), group, &all_clients, &mut taken);
    }
    for ((net, provider, _), group) in &ranged {
        write_rules(
            &mut out,
            provider,
            ("cidrs", vec![net.to_string()]),
            group,
            &all_clients,
            &mut taken,
        );
    }
    if ip_groups.len() <= opts.ip_fanout_limit {
        for (ip, group) in &ip_groups {
            write_rules(
                &mut out,
                &format!("ip-{ip}"),
                ("cidrs", vec![ipnet::IpNet::from(*ip).to_string()]),
                group,
                &all_clients,
                &mut taken,
            );
        }
    }
    if let Some(policy) = policy
        && let Ok(toml::Value::Table(table)) = policy.to_toml().parse::<toml::Table>().map(toml::Value::Table)
        && let Some(deny) = table.get("deny")
    {
        let mut carried = toml::Table::new();
        carried.insert("deny".into(), deny.clone());
        let _ = writeln!(out, "\n# Deny rules carried over from the policy in force:");
        let _ = write!(out, "{}", toml::to_string(&carried).unwrap_or_default());
    }
    let refused: Vec<String> = refused.into_iter().collect();
    if !refused.is_empty() {
        let _ = writeln!(out, "\n# REFUSED: observed, but never proposed:");
        for r in &refused {
            let _ = writeln!(out, "#   {r}");
        }
    }
    let blocked_now: Vec<String> = blocked.into_iter().collect();
    if !blocked_now.is_empty() {
        let _ = writeln!(out, "\n# Blocked now (denied under enforce while observed), left out:");
        for b in &blocked_now {
            let _ = writeln!(out, "#   {b}");
        }
    }

    let new_in_latest = (ordered.len() > 1).then(|| {
        let (last, earlier) = ordered.split_last().expect("two or more periods");
        let before: BTreeSet<_> = earlier.iter().flat_map(|p| p.observations.iter().map(key)).collect();
        let mut new: Vec<String> = last
            .observations
            .iter()
            .filter(|o| !before.contains(&key(o)))
            .map(|o| format!("{}://{}:{}", o.scheme, o.host, o.port))
            .collect();
        new.sort();
        new.dedup();
        new
    });
    Suggestion {
        policy: out,
        blocked_now,
        not_allowlistable,
        new_in_latest,
        overflow,
        refused,
        warnings: warnings.into_iter().collect(),
        plan,
    }
}
