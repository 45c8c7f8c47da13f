//! A deliberately naive reference matcher, written straight from the precedence in
//! `egress_policy_core::docs::matching`:
//! a linear scan over the rules with string suffix checks, no indexes. The
//! differential fuzz target and the main workspace's differential test both
//! compare the compiled matcher with it (`#[path]`-included there).
#![allow(unreachable_pub, clippy::collapsible_if)] // included as a private module; the nested ifs mirror the documented precedence step by step

use std::time::SystemTime;

use egress_policy_core::{Destination, Host, HostPattern, Mode, Policy, Ports, Reason, Rule, Verdict};

/// A host pattern on a canonical name: the definition, label by label.
pub fn naive_pattern(p: &HostPattern, name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|l| l.is_empty() || *l == "*") {
        return false;
    }
    match p {
        HostPattern::Exact(e) => **e == *name,
        HostPattern::Wildcard(suffix) => {
            let s: Vec<&str> = suffix.split('.').collect();
            labels.len() > s.len() && labels[labels.len() - s.len()..] == s[..]
        }
    }
}

/// A deny rule's host pattern: plain string equality or suffix, so a name no
/// allow rule can match (`x.*.corp.example`, `x..corp.example`) is still under
/// the deny rule `*.corp.example`.
fn naive_deny_pattern(p: &HostPattern, name: &str) -> bool {
    match p {
        HostPattern::Exact(e) => **e == *name,
        HostPattern::Wildcard(suffix) => name.ends_with(&format!(".{suffix}")),
    }
}

/// The IPv4 addresses embedded in an IPv6 address, written from the
/// definitions independently of the implementation (octets, not bit masks).
fn naive_embedded(v6: std::net::Ipv6Addr) -> Vec<std::net::Ipv4Addr> {
    use std::net::Ipv4Addr;
    let o = v6.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let zero = |r: std::ops::Range<usize>| o[r].iter().all(|b| *b == 0);
    let mut out = Vec::new();
    // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated), ::a.b.c.d (compatible, not :: or ::1)
    if zero(0..10) && o[10] == 0xff && o[11] == 0xff {
        out.push(tail);
    }
    if zero(0..8) && o[8] == 0xff && o[9] == 0xff && o[10] == 0 && o[11] == 0 {
        out.push(tail);
    }
    if zero(0..12) && u32::from(tail) > 1 {
        out.push(tail);
    }
    // NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48 (RFC 6052 /48 layout and the /96 one)
    if o[..4] == [0x00, 0x64, 0xff, 0x9b] && zero(4..12) {
        out.push(tail);
    }
    if o[..6] == [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01] {
        out.push(Ipv4Addr::new(o[6], o[7], o[9], o[10]));
        out.push(tail);
    }
    // 6to4 2002:AABB:CCDD::/48
    if o[0] == 0x20 && o[1] == 0x02 {
        out.push(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    // Teredo 2001:0000:SERVER:...:~CLIENT
    if o[..4] == [0x20, 0x01, 0x00, 0x00] {
        out.push(Ipv4Addr::new(o[4], o[5], o[6], o[7]));
        out.push(Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]));
    }
    // ISATAP: interface identifier 0000:5efe / 0200:5efe (u and g bits may be set)
    if o[8] & 0xfc == 0 && o[9] == 0 && o[10] == 0x5e && o[11] == 0xfe {
        out.push(tail);
    }
    out
}

/// A deny rule's host: its names by suffix, its CIDRs against the address and
/// every IPv4 address embedded in it.
fn deny_host_matches(rule: &Rule, dest: &Destination) -> bool {
    match dest.host() {
        Host::Name(n) => rule.hosts().iter().any(|p| naive_deny_pattern(p, n)),
        Host::Ip(ip) => {
            let mut addrs = vec![*ip];
            if let std::net::IpAddr::V6(v6) = ip {
                addrs.extend(naive_embedded(*v6).into_iter().map(std::net::IpAddr::V4));
            }
            rule.cidrs().iter().any(|c| addrs.iter().any(|a| c.contains(a)))
        }
    }
}

fn unmatchable(dest: &Destination) -> bool {
    matches!(dest.host(), Host::Name(n) if n.split('.').any(|l| l.is_empty() || l == "*"))
}

fn host_matches(rule: &Rule, dest: &Destination) -> bool {
    match dest.host() {
        Host::Name(n) => rule.hosts().iter().any(|p| naive_pattern(p, n)),
        Host::Ip(ip) => rule.cidrs().iter().any(|c| c.contains(ip)),
    }
}

fn port_ok(rule: &Rule, dest: &Destination) -> bool {
    match rule.ports() {
        Ports::Any => true,
        Ports::SchemeDefaults => dest.scheme().default_port() == Some(dest.port()),
        Ports::Ranges(r) => r.iter().any(|(lo, hi)| (*lo..=*hi).contains(&dest.port())),
        _ => unreachable!("a new Ports variant needs a reference"),
    }
}

fn live(rule: &Rule, now: SystemTime) -> bool {
    rule.expires().is_none_or(|e| now < e.at())
}

fn for_client(rule: &Rule, client: Option<&str>) -> bool {
    rule.clients().is_none_or(|cs| client.is_some_and(|c| cs.iter().any(|x| &**x == c)))
}

/// The verdict and reason the documented precedence gives.
pub fn reference(policy: &Policy, dest: &Destination, client: Option<&str>, now: SystemTime) -> (Verdict, Reason) {
    let covers = |r: &Rule| r.schemes().contains(dest.scheme()) && port_ok(r, dest);
    for rule in policy.deny_rules() {
        if live(rule, now) && deny_host_matches(rule, dest) && covers(rule) {
            return (Verdict::Deny, Reason::DeniedByRule);
        }
    }
    if unmatchable(dest) && policy.mode() == Mode::Open {
        return (Verdict::Deny, Reason::Invalid);
    }
    if policy.mode() == Mode::Open {
        if let (true, Host::Ip(ip)) = (policy.floor(), dest.host()) {
            if !egress_policy_core::addr::is_public(*ip) {
                let exempt = policy
                    .allow_rules()
                    .any(|r| live(r, now) && for_client(r, client) && host_matches(r, dest) && covers(r));
                return if exempt {
                    (Verdict::Allow, Reason::AllowedByRule)
                } else {
                    (Verdict::Deny, Reason::ForbiddenAddress)
                };
            }
        }
        return (Verdict::Allow, Reason::OpenMode);
    }
    let candidates: Vec<&Rule> = policy
        .allow_rules()
        .filter(|r| r.modes().contains(&policy.mode()) && for_client(r, client) && host_matches(r, dest))
        .collect();
    if candidates.iter().any(|r| live(r, now) && covers(r)) {
        return (Verdict::Allow, Reason::AllowedByRule);
    }
    if candidates.iter().any(|r| !live(r, now) && covers(r)) {
        return (Verdict::Deny, Reason::RuleExpired);
    }
    if candidates.iter().any(|r| live(r, now) && r.schemes().contains(dest.scheme())) {
        return (Verdict::Deny, Reason::PortNotAllowed);
    }
    if candidates.iter().any(|r| live(r, now)) {
        return (Verdict::Deny, Reason::SchemeNotAllowed);
    }
    (Verdict::Deny, Reason::NoMatchingRule)
}
