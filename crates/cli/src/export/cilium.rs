//! The Cilium export: one `cilium.io/v2` `CiliumNetworkPolicy` (YAML) that
//! keeps names at the network layer with `toFQDNs`.
//!
//! - Exact hosts become `matchName`; `*.suffix` becomes `matchPattern:
//!   "**.suffix"`, which Cilium 1.19 and later read as one or more labels before
//!   the suffix, never the suffix itself — the policy file's semantics. (Before
//!   1.19 Cilium reads `**.` as `*.`, exactly one label: it matches less, and the
//!   export says so with `--cilium-version`.)
//! - DNS to the cluster resolver carries an L7 `dns` rule (`matchPattern: "*"`),
//!   so Cilium's DNS proxy sees the lookups `toFQDNs` is built from.
//! - `cidrs` and `resolves_to` become `toCIDRSet`; deny rules' CIDRs become
//!   `egressDeny` (which wins over every allow); the private floor becomes an
//!   `egressDeny` of the special-purpose ranges, minus the networks allow rules
//!   name, so a name cannot reach a private address the policy does not list.
//! - `enforcement = "observe"`: a policy cannot log per rule in Cilium (policy
//!   audit mode is an agent or endpoint setting), so all egress is allowed
//!   (reported).

use std::fmt::Write as _;

use egress_policy_core::Policy;
use ipnet::IpNet;

use super::kubernetes::{labels, yaml_head, yaml_str};
use super::{Dest, Export, Options, PortSet, Report, Severity, plan, special};

/// The first Cilium minor version that reads `**.` as any depth.
pub const MULTI_LEVEL_SINCE: (u32, u32) = (1, 19);

fn to_ports(t: &mut String, indent: &str, sets: &[PortSet]) {
    let _ = writeln!(t, "{indent}toPorts:\n{indent}- ports:");
    for p in sets {
        let proto = p.proto.as_str().to_ascii_uppercase();
        match &p.ranges {
            None => {
                let _ = writeln!(t, "{indent}  - protocol: {proto}");
            }
            Some(ranges) => {
                for &(lo, hi) in ranges {
                    let _ = writeln!(t, "{indent}  - port: \"{lo}\"\n{indent}    protocol: {proto}");
                    if hi != lo {
                        let _ = writeln!(t, "{indent}    endPort: {hi}");
                    }
                }
            }
        }
    }
}

fn cidr_set(t: &mut String, nets: &[(IpNet, Vec<IpNet>)]) {
    let _ = writeln!(t, "  - toCIDRSet:");
    for (cidr, except) in nets {
        let _ = writeln!(t, "    - cidr: {cidr}");
        if !except.is_empty() {
            let _ = writeln!(t, "      except:");
            for e in except {
                let _ = writeln!(t, "      - {e}");
            }
        }
    }
}

/// `nets` with the networks of `minus` that fall strictly inside each excepted,
/// and those `minus` covers left out.
fn excepting(nets: &[IpNet], minus: &[IpNet]) -> Vec<(IpNet, Vec<IpNet>)> {
    nets.iter()
        .filter(|n| !minus.iter().any(|m| m.contains(*n)))
        .map(|n| {
            let except: Vec<IpNet> = minus.iter().filter(|m| n.contains(*m) && *m != n).copied().collect();
            (*n, IpNet::aggregate(&except))
        })
        .collect()
}

/// `**.suffix` for `*.suffix`; exact names as they are.
fn fqdn(host: &str) -> (&'static str, String) {
    match host.strip_prefix("*.") {
        Some(suffix) => ("matchPattern", format!("**.{suffix}")),
        None => ("matchName", host.to_string()),
    }
}

/// Renders the `CiliumNetworkPolicy`. `version` is the Cilium release the
/// output is for (`MAJOR.MINOR`).
pub fn render(policy: &Policy, opts: &Options, version: (u32, u32)) -> Export {
    let mut p = plan(policy, opts, "cilium");
    let mut t = yaml_head(
        &p.header,
        "cilium.io/v2",
        "CiliumNetworkPolicy",
        &opts.name,
        Some(&opts.namespace),
        policy.id(),
    );
    let _ = write!(t, "  endpointSelector:");
    labels(&mut t, "    ", &opts.pod_selector);

    if p.observe {
        p.reports.push(Report {
            severity: Severity::Lossy,
            rule: None,
            message: "enforcement = \"observe\": a CiliumNetworkPolicy cannot log per rule (use Cilium's policy audit mode), so all egress is allowed; export again once the policy enforces".into(),
        });
        let _ = writeln!(
            t,
            "  egress:\n  # enforcement = \"observe\": allow all egress\n  - toEntities:\n    - all"
        );
        return Export {
            text: t,
            reports: p.reports,
        };
    }

    let _ = writeln!(t, "  egress:");
    let _ = writeln!(
        t,
        "  # DNS to the cluster resolver, seen by Cilium's DNS proxy (toFQDNs is built from it)"
    );
    let mut dns = vec![("k8s:io.kubernetes.pod.namespace".to_string(), opts.dns_namespace.clone())];
    dns.extend(opts.dns_selector.iter().map(|(k, v)| (format!("k8s:{k}"), v.clone())));
    let _ = writeln!(t, "  - toEndpoints:\n    - matchLabels:");
    dns.sort();
    for (k, v) in &dns {
        let _ = writeln!(t, "        {}: {}", yaml_str(k), yaml_str(v));
    }
    let _ = writeln!(
        t,
        "    toPorts:\n    - ports:\n      - port: \"53\"\n        protocol: UDP\n      - port: \"53\"\n        protocol: TCP\n      rules:\n        dns:\n        - matchPattern: \"*\""
    );

    let deny: Vec<IpNet> = IpNet::aggregate(
        &p.deny
            .iter()
            .filter(|d| d.ports.is_none())
            .flat_map(|d| match &d.dest {
                Dest::Nets(n) => n.clone(),
                Dest::Public => Vec::new(),
            })
            .collect::<Vec<_>>(),
    );
    let allowed_nets: Vec<IpNet> = IpNet::aggregate(
        &p.allow
            .iter()
            .flat_map(|e| match &e.dest {
                Dest::Nets(n) => n.clone(),
                Dest::Public => Vec::new(),
            })
            .collect::<Vec<_>>(),
    );
    let names = p.allow.iter().any(|e| e.dest == Dest::Public);
    if names && version < MULTI_LEVEL_SINCE && p.allow.iter().any(|e| e.hosts.iter().any(|h| h.starts_with("*."))) {
        p.reports.push(Report {
            severity: Severity::Lossy,
            rule: None,
            message: format!(
                "Cilium {}.{} reads `**.suffix` as exactly one label (any depth since {}.{}): wildcard hosts match less than the policy",
                version.0, version.1, MULTI_LEVEL_SINCE.0, MULTI_LEVEL_SINCE.1
            ),
        });
    }

    for entry in &p.allow {
        match &entry.dest {
            Dest::Public => {
                let _ = writeln!(
                    t,
                    "  # allow `{}`: names {} (`**.` needs Cilium >= {}.{}: any depth, never the suffix itself)",
                    entry.rule,
                    entry.hosts.join(", "),
                    MULTI_LEVEL_SINCE.0,
                    MULTI_LEVEL_SINCE.1
                );
                let _ = writeln!(t, "  - toFQDNs:");
                for h in &entry.hosts {
                    let (key, value) = fqdn(h);
                    let _ = writeln!(t, "    - {key}: {}", serde_json::to_string(&value).unwrap_or_default());
                }
            }
            Dest::Nets(nets) => {
                let blocks = excepting(nets, &deny);
                if blocks.is_empty() {
                    continue;
                }
                let _ = writeln!(t, "  # {}", entry.comment);
                cidr_set(&mut t, &blocks);
            }
        }
        if let Some(sets) = &entry.ports {
            to_ports(&mut t, "    ", sets);
        }
    }
    if p.open {
        let _ = writeln!(t, "  # open mode: everything but what deny rules name\n  - toEntities:\n    - all");
    }

    let floor = (names && !p.open) || p.floor_drop;
    if p.deny.is_empty() && !floor {
        return Export {
            text: t,
            reports: p.reports,
        };
    }
    let _ = writeln!(t, "  egressDeny:");
    for entry in &p.deny {
        let Dest::Nets(nets) = &entry.dest else { continue };
        let _ = writeln!(t, "  # {}", entry.comment);
        cidr_set(&mut t, &nets.iter().map(|n| (*n, Vec::new())).collect::<Vec<_>>());
        if let Some(sets) = &entry.ports {
            to_ports(&mut t, "    ", sets);
        }
    }
    if floor {
        let (v4, v6) = special();
        let all: Vec<IpNet> = v4.into_iter().chain(v6).collect();
        let _ = writeln!(
            t,
            "  # the private floor: special-purpose ranges, except the networks allow rules name, never reached through a name"
        );
        cidr_set(&mut t, &excepting(&all, &allowed_nets));
    }
    Export {
        text: t,
        reports: p.reports,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_become_multi_level_patterns() {
        assert_eq!(super::fqdn("*.cdn.example"), ("matchPattern", "**.cdn.example".to_string()));
        assert_eq!(super::fqdn("api.example"), ("matchName", "api.example".to_string()));
    }
}
