//! The nftables export: one `inet` table whose `output` chain is the policy,
//! for hosts and Docker Compose. Load it with `nft -f FILE`: the file deletes
//! and recreates its own table in one transaction, so loading it again swaps
//! the ruleset atomically and touches no other table.
//!
//! The chain accepts established and related traffic, loopback, IPv6 neighbour
//! discovery and DNS to `--dns-server` (the process never judges its resolver
//! traffic either); drops what deny rules name; accepts what allow rules name;
//! and drops the rest (`policy drop`).
//!
//! The `output` hook sees what the host's own processes send, and containers
//! with `network_mode: host`. Containers on a bridge network send through the
//! host's `forward` hook: load the file inside the container's network
//! namespace (`nsenter --net=/proc/PID/ns/net nft -f FILE`, or from an init
//! container with `CAP_NET_ADMIN`) to fence them. Under
//! `enforcement = "observe"` every drop becomes `log prefix "egress-policy
//! would-deny …" accept`.

use std::fmt::Write as _;
use std::net::IpAddr;

use egress_policy_core::Policy;
use ipnet::IpNet;

use super::{Dest, Entry, Export, Options, PortSet, Proto, Report, Severity, plan, special};

/// The table's name.
pub const TABLE: &str = "egress_policy";

fn elements(nets: &[IpNet]) -> String {
    let items: Vec<String> = nets
        .iter()
        .map(|n| {
            if n.prefix_len() == n.max_prefix_len() {
                n.addr().to_string()
            } else {
                n.to_string()
            }
        })
        .collect();
    format!("{{ {} }}", items.join(", "))
}

fn port_match(p: &PortSet) -> String {
    match &p.ranges {
        None => format!("meta l4proto {}", p.proto.as_str()),
        Some(r) => {
            let items: Vec<String> = r
                .iter()
                .map(|&(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") })
                .collect();
            format!("{} dport {{ {} }}", p.proto.as_str(), items.join(", "))
        }
    }
}

/// The statements for one entry: one line per family and port set.
fn lines(entry: &Entry, verdict: &str) -> Vec<String> {
    let dests: Vec<String> = match &entry.dest {
        Dest::Public => vec!["ip daddr != @special4".into(), "ip6 daddr != @special6".into()],
        Dest::Nets(nets) => {
            let (v4, v6): (Vec<IpNet>, Vec<IpNet>) = nets.iter().partition(|n| matches!(n, IpNet::V4(_)));
            let mut d = Vec::new();
            if !v4.is_empty() {
                d.push(format!("ip daddr {}", elements(&v4)));
            }
            if !v6.is_empty() {
                d.push(format!("ip6 daddr {}", elements(&v6)));
            }
            d
        }
    };
    let mut out = Vec::new();
    for d in &dests {
        match &entry.ports {
            None => out.push(format!("{d} {verdict}")),
            Some(sets) => {
                for p in sets {
                    out.push(format!("{d} {} {verdict}", port_match(p)));
                }
            }
        }
    }
    out
}

fn log_safe(s: &str) -> String {
    // nft strings are double-quoted; a log prefix holds rule ids only ([a-z0-9._-]).
    s.chars().filter(|c| c.is_ascii_alphanumeric() || "._- :=`".contains(*c)).collect()
}

/// Renders the table.
pub fn render(policy: &Policy, opts: &Options) -> Export {
    let mut p = plan(policy, opts, "nftables");
    if opts.dns_servers.is_empty() {
        p.reports.push(Report {
            severity: Severity::Warning,
            rule: None,
            message: "no --dns-server: DNS lookups are dropped unless an allow rule covers the resolver".into(),
        });
    }
    let drop = |why: &str| {
        if p.observe {
            // The kernel keeps at most 127 bytes of a log prefix; nft rejects longer ones.
            let mut prefix = log_safe(&format!("egress-policy would-deny {why}"));
            prefix.truncate(120);
            format!("log prefix \"{prefix}: \" accept")
        } else {
            "drop".to_string()
        }
    };
    let (special4, special6) = special();
    let mut t = String::new();
    for h in &p.header {
        let _ = writeln!(t, "# {h}");
    }
    let _ = writeln!(t, "# Load with `nft -f`: replaces table inet {TABLE} atomically.");
    let _ = writeln!(t, "table inet {TABLE}");
    let _ = writeln!(t, "delete table inet {TABLE}");
    let _ = writeln!(t, "table inet {TABLE} {{");
    let _ = writeln!(t, "\t# Special-purpose ranges: never reached through a name (the private floor).");
    let _ = writeln!(
        t,
        "\tset special4 {{\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = {}\n\t}}",
        elements(&special4)
    );
    let _ = writeln!(
        t,
        "\tset special6 {{\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = {}\n\t}}",
        elements(&special6)
    );
    let _ = writeln!(t, "\tchain output {{");
    let policy_verdict = if p.observe || p.open { "accept" } else { "drop" };
    let _ = writeln!(t, "\t\ttype filter hook output priority filter; policy {policy_verdict};");
    let _ = writeln!(t, "\t\tct state established,related accept");
    let _ = writeln!(t, "\t\toifname \"lo\" accept");
    let _ = writeln!(
        t,
        "\t\ticmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit }} accept"
    );
    if !opts.dns_servers.is_empty() {
        let _ = writeln!(t, "\t\t# DNS to the resolvers");
        let mut servers = opts.dns_servers.clone();
        servers.sort();
        servers.dedup();
        for s in servers {
            let fam = if matches!(s, IpAddr::V4(_)) { "ip" } else { "ip6" };
            for proto in [Proto::Udp, Proto::Tcp] {
                let _ = writeln!(t, "\t\t{fam} daddr {s} {} dport 53 accept", proto.as_str());
            }
        }
    }
    for entry in &p.deny {
        let _ = writeln!(t, "\t\t# {}", entry.comment);
        for l in lines(entry, &drop(&format!("rule={}", entry.rule))) {
            let _ = writeln!(t, "\t\t{l}");
        }
    }
    for entry in &p.allow {
        let _ = writeln!(t, "\t\t# {}", entry.comment);
        for l in lines(entry, "accept") {
            let _ = writeln!(t, "\t\t{l}");
        }
    }
    if p.floor_drop {
        let _ = writeln!(t, "\t\t# floor: special-purpose ranges not exempted above");
        let _ = writeln!(t, "\t\tip daddr @special4 {}", drop("floor"));
        let _ = writeln!(t, "\t\tip6 daddr @special6 {}", drop("floor"));
    }
    if p.observe && !p.open {
        let _ = writeln!(t, "\t\t{}", drop("no_matching_rule"));
    }
    let _ = writeln!(t, "\t}}");
    let _ = writeln!(t, "}}");
    Export {
        text: t,
        reports: p.reports,
    }
}
