//! Network-layer exports of a policy: the fence below the process, generated
//! from the same file (`egress-policy export`).
//!
//! The process sees names; a network layer sees addresses and ports. An export
//! keeps what the target can express and reports the rest:
//!
//! - **CIDRs** (`cidrs`, and `resolves_to` of name rules) become address rules on
//!   the rule's transports and ports (`http`, `https`, `ws`, `wss`, `tcp` → TCP;
//!   `udp` → UDP; no `ports`: each scheme's default port).
//! - **Names** (`hosts`) stay names where the target has them (Cilium
//!   `toFQDNs`, Calico `domains`); elsewhere, unless `--names omit`, they become
//!   *public unicast* on the rule's ports: every address except the
//!   special-purpose table ([`special_purpose_networks`], IPv4-mapped forms
//!   left out as never on the wire) — the network layer keeps ports and the
//!   private floor, the process keeps names. ISATAP addresses cannot be
//!   excluded by prefix; the process still refuses them (reported).
//! - **Deny rules' CIDRs** are dropped (nftables, Cilium, Calico) or excepted
//!   (Kubernetes), with their NAT64, 6to4, IPv4-translated, -compatible and
//!   Teredo-server IPv6 forms and the whole local NAT64 `/48`; deny rules that
//!   name hosts cannot be expressed.
//! - **Modes**: sealed and constrained export the allow rules that apply in that
//!   mode; open allows everything but the deny rules (and, with `floor`, the
//!   special-purpose ranges not exempted by an allow rule's `cidrs`).
//! - **Enforcement** `observe`: nftables logs would-be drops and accepts them,
//!   Calico turns `Deny` into `Log`; Kubernetes and Cilium policies cannot log
//!   per rule, so they allow all egress (reported).
//! - **Clients**: only the rules that apply to `--client` (none: the rules for
//!   every client); **expired** rules are left out with a warning.
//!
//! Every such loss is a [`Report`]; `--strict` turns [`Severity::Lossy`] reports
//! into a failure. Output is deterministic: the same policy and options give the
//! same bytes.

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use egress_policy_core::addr::special_purpose_networks;
use egress_policy_core::{Enforcement, Mode, Policy, Ports, Rule, Scheme};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

pub mod calico;
pub mod cilium;
pub mod kubernetes;
pub mod nftables;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// `networking.k8s.io/v1` `NetworkPolicy` (YAML).
    Kubernetes,
    /// An nftables `inet` table (`nft -f`).
    Nftables,
    /// `cilium.io/v2` `CiliumNetworkPolicy` (YAML), names as `toFQDNs`.
    Cilium,
    /// `projectcalico.org/v3` `NetworkPolicy` or `GlobalNetworkPolicy` (YAML),
    /// names as `destination.domains`.
    Calico,
}

/// What the names of allow rules become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Names {
    /// Names where the target has them (Cilium `toFQDNs`, Calico `domains`),
    /// else public unicast on the rule's ports (the default).
    #[default]
    Auto,
    /// Public unicast on the rule's ports (Kubernetes, nftables, Calico Open
    /// Source); Cilium keeps `toFQDNs`.
    Public,
    /// Nothing: the rule's names are left to the process (reported).
    Omit,
}

/// Export options.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Export the rules that apply to this client; `None`: to every client.
    pub client: Option<String>,
    /// The instant rules are judged live at.
    pub now: SystemTime,
    /// What names become.
    pub names: Names,
    /// nftables: the DNS resolvers lookups may go to.
    pub dns_servers: Vec<IpAddr>,
    /// Kubernetes: the namespace of the `NetworkPolicy`.
    pub namespace: String,
    /// Kubernetes: the policy's name.
    pub name: String,
    /// Kubernetes: the pods it selects (`matchLabels`; empty: all pods).
    pub pod_selector: Vec<(String, String)>,
    /// Kubernetes: the DNS pods' namespace and labels.
    pub dns_namespace: String,
    /// Kubernetes: the DNS pods' labels.
    pub dns_selector: Vec<(String, String)>,
    /// Calico: a `GlobalNetworkPolicy` instead of a namespaced one.
    pub global: bool,
    /// Cilium: the release the output is for (`**.` is any depth since 1.19).
    pub cilium_version: (u32, u32),
}

impl Options {
    /// Defaults: every client, now, names as the target best keeps them
    /// ([`Names::Auto`]), no DNS server,
    /// namespace `default`, name `egress-policy`, all pods, DNS at `kube-system`
    /// / `k8s-app=kube-dns`.
    pub fn new() -> Options {
        Options {
            client: None,
            now: SystemTime::now(),
            names: Names::Auto,
            dns_servers: Vec::new(),
            namespace: "default".into(),
            name: "egress-policy".into(),
            pod_selector: Vec::new(),
            dns_namespace: "kube-system".into(),
            dns_selector: vec![("k8s-app".into(), "kube-dns".into())],
            global: false,
            cilium_version: cilium::MULTI_LEVEL_SINCE,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

/// How serious a report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// Left out by selection (client, mode): the export is still faithful.
    Note,
    /// Left out because expired.
    Warning,
    /// The target cannot express part of the policy: the export allows or denies
    /// more than the policy says (`--strict` fails).
    Lossy,
}

impl Severity {
    /// As printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Lossy => "cannot express",
        }
    }
}

/// Something an export left out or could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// How serious.
    pub severity: Severity,
    /// The rule concerned, if any.
    pub rule: Option<String>,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity.as_str())?;
        if let Some(rule) = &self.rule {
            write!(f, "rule `{rule}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// An export: the text and what it could not say.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Export {
    /// The generated configuration.
    pub text: String,
    /// Reports, in rule order.
    pub reports: Vec<Report>,
}

/// A transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Ports on one transport: `None` is every port; else inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PortSet {
    pub(crate) proto: Proto,
    pub(crate) ranges: Option<Vec<(u16, u16)>>,
}

/// Where a rule's traffic may go, at the network layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dest {
    /// These networks.
    Nets(Vec<IpNet>),
    /// Public unicast (names).
    Public,
}

/// One exported allow entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) rule: String,
    pub(crate) comment: String,
    /// The rule's host patterns (`Dest::Public` entries), as written.
    pub(crate) hosts: Vec<String>,
    pub(crate) dest: Dest,
    /// `None`: every protocol and port.
    pub(crate) ports: Option<Vec<PortSet>>,
}

/// The policy as the network layer sees it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) header: Vec<String>,
    pub(crate) observe: bool,
    /// Dropped before anything is accepted (deny rules), most specific first.
    pub(crate) deny: Vec<Entry>,
    /// Accepted after the deny entries.
    pub(crate) allow: Vec<Entry>,
    /// Open mode: accept the rest (after `floor_drop`).
    pub(crate) open: bool,
    /// Open mode with `floor`: drop special-purpose ranges after the allow
    /// entries (which then only exempt).
    pub(crate) floor_drop: bool,
    pub(crate) reports: Vec<Report>,
}

/// The special-purpose networks, split by family.
pub(crate) fn special() -> (Vec<IpNet>, Vec<IpNet>) {
    on_wire(special_purpose_networks())
        .into_iter()
        .partition(|n| matches!(n, IpNet::V4(_)))
}

/// `nets` without IPv4-mapped IPv6 networks (`::ffff:0:0/96`): no packet
/// carries such a destination (the kernel sends IPv4), and Kubernetes reads
/// them as IPv4 inside an IPv6 `ipBlock`, rejecting the policy.
pub(crate) fn on_wire(nets: Vec<IpNet>) -> Vec<IpNet> {
    let mapped: IpNet = "::ffff:0:0/96".parse().expect("net");
    nets.into_iter().filter(|n| !mapped.contains(n)).collect()
}

/// Text for a comment line: control characters (newlines above all) and
/// Unicode line breaks become spaces, so free text from the policy (a rule's
/// `reason`) or the command line can never start a statement of its own.
pub(crate) fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The transports and ports a rule covers.
fn port_sets(rule: &Rule, reports: &mut Vec<Report>) -> Option<Vec<PortSet>> {
    let mut sets: Vec<PortSet> = Vec::new();
    for scheme in rule.schemes().iter() {
        let proto = match scheme {
            Scheme::Http | Scheme::Https | Scheme::Ws | Scheme::Wss | Scheme::Tcp => Proto::Tcp,
            Scheme::Udp => Proto::Udp,
            other => {
                reports.push(Report {
                    severity: Severity::Lossy,
                    rule: Some(rule.id().into()),
                    message: format!("scheme `{other}` has no transport the network layer can match; left out"),
                });
                continue;
            }
        };
        let ranges = match rule.ports() {
            Ports::Any => None,
            Ports::Ranges(r) => Some(r.clone()),
            Ports::SchemeDefaults => match scheme.default_port() {
                Some(p) => Some(vec![(p, p)]),
                None => continue,
            },
            // A port form this export does not know: leave the rule out rather
            // than widen it to every port.
            _ => {
                reports.push(Report {
                    severity: Severity::Lossy,
                    rule: Some(rule.id().into()),
                    message: format!("ports `{}` cannot be expressed; left out", rule.ports()),
                });
                return Some(Vec::new());
            }
        };
        match sets.iter_mut().find(|s| s.proto == proto) {
            Some(s) => match (&mut s.ranges, ranges) {
                (Some(have), Some(more)) => {
                    have.extend(more);
                    have.sort_unstable();
                    have.dedup();
                }
                (have, _) => *have = None,
            },
            None => sets.push(PortSet { proto, ranges }),
        }
    }
    sets.sort_by_key(|s| s.proto);
    Some(sets)
}

/// Every network an IPv4 deny network is reachable under in IPv6 by a prefix:
/// NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`), IPv4-translated
/// (`::ffff:0:0:0/96`), IPv4-compatible (`::/96`) and Teredo's server field
/// (`2001:0::/32`). The local-use NAT64 prefix (`64:ff9b:1::/48`) splits the
/// address around a reserved octet, so it is denied whole (see `plan`).
/// IPv4-mapped forms never reach the wire. Teredo's client field (inverted) and
/// ISATAP (any prefix) are no prefix: reported.
fn embeddings(net: Ipv4Net) -> Vec<IpNet> {
    let bits = u128::from(u32::from(net.network()));
    let len = net.prefix_len();
    [
        ((0x0064_ff9b_u128 << 96) | bits, 96 + len),
        ((0x2002_u128 << 112) | (bits << 80), 16 + len),
        ((0xffff_u128 << 48) | bits, 96 + len),
        (bits, 96 + len),
        ((0x2001_0000_u128 << 96) | (bits << 64), 32 + len),
    ]
    .into_iter()
    .filter_map(|(b, l)| Ipv6Net::new(std::net::Ipv6Addr::from(b), l).ok().map(IpNet::V6))
    .collect()
}

/// Builds the plan.
pub(crate) fn plan(policy: &Policy, opts: &Options, target: &str) -> Plan {
    let id = policy.id();
    let mut reports = Vec::new();
    let mode = policy.mode();
    let observe = policy.enforcement() == Enforcement::Observe;
    let header = vec![
        format!("egress-policy export --format {target}"),
        format!("policy generation {} {}", id.generation, id.digest),
        format!(
            "mode {}, enforcement {}{}{}",
            mode,
            policy.enforcement().as_str(),
            if policy.floor() { ", floor" } else { "" },
            opts.client
                .as_ref()
                .map(|c| format!(", client {}", comment_text(c)))
                .unwrap_or_default()
        ),
    ];
    let selected = |rule: &Rule, reports: &mut Vec<Report>| -> bool {
        if !rule.is_live_at(opts.now) {
            reports.push(Report {
                severity: Severity::Warning,
                rule: Some(rule.id().into()),
                message: format!(
                    "expired (expires = {}); left out",
                    rule.expires().map(|e| e.as_written().to_string()).unwrap_or_default()
                ),
            });
            return false;
        }
        true
    };

    let mut deny = Vec::new();
    let mut v4_deny = false;
    for rule in policy.deny_rules() {
        if !selected(rule, &mut reports) {
            continue;
        }
        if !rule.hosts().is_empty() {
            reports.push(Report {
                severity: Severity::Lossy,
                rule: Some(rule.id().into()),
                message: "a network layer cannot deny names; its hosts are denied by the process only".into(),
            });
        }
        if rule.cidrs().is_empty() {
            continue;
        }
        let mut nets: Vec<IpNet> = rule.cidrs().to_vec();
        for net in rule.cidrs() {
            if let IpNet::V4(v4) = net {
                nets.extend(embeddings(*v4));
                nets.push("64:ff9b:1::/48".parse().expect("net"));
                v4_deny = true;
            }
        }
        let nets = on_wire(nets);
        // A deny rule's ports that cannot be expressed deny every port (never less).
        let ports = if rule.schemes().is_all() && matches!(rule.ports(), Ports::Any) {
            None
        } else {
            port_sets(rule, &mut reports).filter(|p| !p.is_empty())
        };
        deny.push(Entry {
            rule: rule.id().into(),
            comment: comment_text(&format!(
                "deny `{}`{}",
                rule.id(),
                rule.reason().map(|r| format!(": {r}")).unwrap_or_default()
            )),
            hosts: Vec::new(),
            dest: Dest::Nets(IpNet::aggregate(&nets)),
            ports,
        });
    }

    let mut allow = Vec::new();
    let mut names_exported = false;
    for rule in policy.allow_rules() {
        // Open mode consults no `modes`: its allow rules only exempt from the floor.
        let in_mode = mode == Mode::Open || rule.modes().contains(&mode);
        if !in_mode {
            reports.push(Report {
                severity: Severity::Note,
                rule: Some(rule.id().into()),
                message: format!(
                    "applies only in {:?} mode; left out",
                    rule.modes().iter().map(|m| m.as_str()).collect::<Vec<_>>()
                ),
            });
            continue;
        }
        if let Some(clients) = rule.clients()
            && !opts.client.as_deref().is_some_and(|c| clients.iter().any(|n| &**n == c))
        {
            reports.push(Report {
                severity: Severity::Note,
                rule: Some(rule.id().into()),
                message: format!(
                    "applies only to clients {:?}; left out{}",
                    clients.iter().map(|c| &**c).collect::<Vec<_>>(),
                    if opts.client.is_none() {
                        " (export one with --client NAME)"
                    } else {
                        ""
                    }
                ),
            });
            continue;
        }
        if !selected(rule, &mut reports) {
            continue;
        }
        if mode == Mode::Open && !policy.floor() {
            continue; // open without floor: everything not denied is allowed anyway
        }
        let ports = port_sets(rule, &mut reports);
        if ports.as_ref().is_some_and(Vec::is_empty) {
            continue;
        }
        let expiry = rule
            .expires()
            .map(|e| format!(" (expires {}: export again before then)", e.as_written()))
            .unwrap_or_default();
        let mut nets: Vec<IpNet> = rule.cidrs().to_vec();
        if !rule.hosts().is_empty() {
            nets.extend(rule.resolves_to());
        }
        if !nets.is_empty() {
            allow.push(Entry {
                rule: rule.id().into(),
                comment: format!("allow `{}`: {}{expiry}", rule.id(), describe_nets(rule)),
                hosts: Vec::new(),
                dest: Dest::Nets(IpNet::aggregate(&nets)),
                ports: ports.clone(),
            });
        }
        if !rule.hosts().is_empty() && mode != Mode::Open {
            let hosts: Vec<String> = rule.hosts().iter().map(ToString::to_string).collect();
            match opts.names {
                Names::Auto | Names::Public => {
                    names_exported = true;
                    allow.push(Entry {
                        rule: rule.id().into(),
                        comment: format!(
                            "allow `{}`: names {} as public unicast on the rule's ports (the network layer keeps ports and the private floor; the process keeps names){expiry}",
                            rule.id(),
                            hosts.join(", ")
                        ),
                        hosts: hosts.clone(),
                        dest: Dest::Public,
                        ports,
                    });
                }
                Names::Omit => reports.push(Report {
                    severity: Severity::Lossy,
                    rule: Some(rule.id().into()),
                    message: format!(
                        "names {} omitted (--names omit): their traffic is dropped at the network layer",
                        hosts.join(", ")
                    ),
                }),
            }
        }
    }
    let open = mode == Mode::Open;
    let v6_allowed = allow
        .iter()
        .any(|e| matches!(&e.dest, Dest::Nets(n) if n.iter().any(|n| matches!(n, IpNet::V6(_)))));
    if names_exported || open || (v4_deny && v6_allowed) {
        reports.push(Report {
            severity: Severity::Lossy,
            rule: None,
            message: "IPv6 addresses that embed a private, special-purpose or denied IPv4 address through ISATAP (interface id 0:5efe:a.b.c.d under any prefix) or Teredo's client field cannot be described by prefixes; the process refuses them".into(),
        });
    }
    Plan {
        header,
        observe,
        deny,
        allow,
        open,
        floor_drop: open && policy.floor(),
        reports,
    }
}

fn describe_nets(rule: &Rule) -> String {
    let mut parts = Vec::new();
    if !rule.cidrs().is_empty() {
        parts.push(format!("cidrs {}", join(rule.cidrs())));
    }
    if !rule.hosts().is_empty() && !rule.resolves_to().is_empty() {
        parts.push(format!("names may resolve to {}", join(rule.resolves_to())));
    }
    parts.join("; ")
}

pub(crate) fn join(nets: &[IpNet]) -> String {
    nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Exports `policy` in `format`.
pub fn export(policy: &Policy, format: Format, opts: &Options) -> Export {
    match format {
        Format::Nftables => nftables::render(policy, opts),
        Format::Kubernetes => kubernetes::render(policy, opts),
        Format::Cilium => cilium::render(policy, opts, opts.cilium_version),
        Format::Calico => {
            let names = if opts.names == Names::Public {
                calico::CalicoNames::Public
            } else {
                calico::CalicoNames::Domains
            };
            calico::render(policy, opts, opts.global, names)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv6Addr};

    use super::*;

    /// Every prefix-expressible IPv6 form of an address in a denied IPv4
    /// network is inside the exported deny networks, as `embedded_ipv4` (what
    /// the process judges) finds it there.
    #[test]
    fn deny_embeddings_cover_every_prefix_form() {
        let policy =
            Policy::from_toml_str("version = 1\n[[deny]]\nid = \"d\"\ncidrs = [\"10.0.0.0/8\", \"169.254.169.254/32\"]\n").expect("policy");
        let p = plan(&policy, &Options::new(), "test");
        let Dest::Nets(nets) = &p.deny[0].dest else { panic!("nets") };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let v4 = if next() % 2 == 0 {
                0x0a00_0000 | (next() as u32 & 0x00ff_ffff)
            } else {
                0xa9fe_a9fe
            };
            let v4b = u128::from(v4);
            let r = u128::from(next()) << 64 | u128::from(next());
            let forms = [
                (0x0064_ff9b_u128 << 96) | v4b,                                      // NAT64
                (0x2002_u128 << 112) | (v4b << 80) | (r & ((1 << 80) - 1)),          // 6to4
                (0xffff_u128 << 48) | v4b,                                           // translated
                v4b,                                                                 // compatible
                (0x2001_0000_u128 << 96) | (v4b << 64) | (r & u128::from(u64::MAX)), // Teredo server
                (0x0064_ff9b_0001_u128 << 80) | (r & ((1 << 80) - 1)),               // local NAT64, any layout
            ];
            for bits in forms {
                let ip = Ipv6Addr::from(bits);
                assert!(
                    nets.iter().any(|n| n.contains(&IpAddr::V6(ip))),
                    "{ip} (embedding {}) is not denied",
                    std::net::Ipv4Addr::from(v4)
                );
            }
        }
        assert!(
            !nets.iter().any(|n| "::ffff:0:0/96".parse::<IpNet>().expect("net").contains(n)),
            "mapped forms are left out"
        );
    }

    #[test]
    fn comments_cannot_break_out_of_their_line() {
        assert_eq!(comment_text("a\nb\r\tc\u{2028}d\u{85}e"), "a b  c d e");
    }
}
