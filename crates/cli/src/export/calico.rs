//! The Calico export: one `projectcalico.org/v3` `NetworkPolicy` (namespaced)
//! or `GlobalNetworkPolicy` (`--global`), in YAML, for `calicoctl apply` or the
//! Calico API server.
//!
//! Calico rules are ordered and the first `Allow` or `Deny` that matches ends
//! the search, so the export lists, in order: DNS to the cluster resolver; deny
//! rules (`Deny`); the networks allow rules name (`cidrs`, `resolves_to`);
//! when names are exported, the private floor (`Deny` of the special-purpose
//! ranges, so a name cannot reach a private address the policy does not list);
//! the names (`destination.domains`); and nothing else (`types: [Egress]`
//! denies the rest).
//!
//! `domains` (DNS policy) is a Calico Enterprise and Calico Cloud field: a
//! wildcard `*.suffix` matches one or more labels, never the suffix itself — the
//! policy file's semantics. With `--names public`, Calico Open Source gets
//! public unicast instead, as the Kubernetes export does.
//!
//! `enforcement = "observe"` becomes Calico's observe-then-enforce workflow:
//! every `Deny` becomes `Log` (which does not end the search) and the policy
//! ends with `Log` and `Allow`, so would-be denials are logged and let through.

use std::fmt::Write as _;

use egress_policy_core::Policy;
use ipnet::IpNet;

use super::kubernetes::{yaml_head, yaml_str};
use super::{Dest, Entry, Export, Options, PortSet, plan, special};

/// What names become in a Calico export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalicoNames {
    /// `destination.domains` (Calico Enterprise / Cloud).
    Domains,
    /// Public unicast, as in the Kubernetes export (Calico Open Source).
    Public,
}

fn selector(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return "all()".into();
    }
    let mut sorted = pairs.to_vec();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{k} == '{}'", v.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(" && ")
}

fn nets_list(nets: &[IpNet]) -> String {
    let items: Vec<String> = nets.iter().map(|n| format!("\"{n}\"")).collect();
    format!("[{}]", items.join(", "))
}

/// One rule per transport (Calico rules name one protocol); `None`: every protocol.
fn rules(t: &mut String, comment: &str, action: &str, destination: &str, not_nets: Option<&[IpNet]>, sets: Option<&[PortSet]>) {
    let _ = writeln!(t, "  # {comment}");
    let per_proto: Vec<Option<&PortSet>> = match sets {
        None => vec![None],
        Some(s) => s.iter().map(Some).collect(),
    };
    for set in per_proto {
        let _ = writeln!(t, "  - action: {action}");
        if let Some(set) = set {
            let _ = writeln!(t, "    protocol: {}", set.proto.as_str().to_ascii_uppercase());
        }
        let _ = writeln!(t, "    destination:");
        let _ = writeln!(t, "      {destination}");
        if let Some(not) = not_nets
            && !not.is_empty()
        {
            let _ = writeln!(t, "      notNets: {}", nets_list(not));
        }
        if let Some(PortSet { ranges: Some(r), .. }) = set {
            let ports: Vec<String> = r
                .iter()
                .map(|&(lo, hi)| if lo == hi { lo.to_string() } else { format!("\"{lo}:{hi}\"") })
                .collect();
            let _ = writeln!(t, "      ports: [{}]", ports.join(", "));
        }
    }
}

fn nets_of(entry: &Entry) -> Vec<IpNet> {
    match &entry.dest {
        Dest::Nets(n) => n.clone(),
        Dest::Public => Vec::new(),
    }
}

/// Renders the Calico policy.
pub fn render(policy: &Policy, opts: &Options, global: bool, names: CalicoNames) -> Export {
    let p = plan(policy, opts, "calico");
    let deny_action = if p.observe { "Log" } else { "Deny" };
    let kind = if global { "GlobalNetworkPolicy" } else { "NetworkPolicy" };
    let namespace = (!global).then_some(opts.namespace.as_str());
    let mut t = yaml_head(&p.header, "projectcalico.org/v3", kind, &opts.name, namespace, policy.id());
    let _ = writeln!(t, "  selector: {}", yaml_str(&selector(&opts.pod_selector)));
    let _ = writeln!(t, "  types:\n  - Egress\n  egress:");

    let dns_dest = format!(
        "selector: {}\n      namespaceSelector: {}\n      ports: [53]",
        yaml_str(&selector(&opts.dns_selector)),
        yaml_str(&format!("projectcalico.org/name == '{}'", opts.dns_namespace.replace('\'', "")))
    );
    let _ = writeln!(t, "  # DNS to the cluster resolver");
    for proto in ["UDP", "TCP"] {
        let _ = writeln!(t, "  - action: Allow\n    protocol: {proto}\n    destination:\n      {dns_dest}");
    }

    for entry in &p.deny {
        let nets = nets_of(entry);
        rules(
            &mut t,
            &entry.comment,
            deny_action,
            &format!("nets: {}", nets_list(&nets)),
            None,
            entry.ports.as_deref(),
        );
    }
    let names_entries: Vec<&Entry> = p.allow.iter().filter(|e| e.dest == Dest::Public).collect();
    for entry in p.allow.iter().filter(|e| e.dest != Dest::Public) {
        rules(
            &mut t,
            &entry.comment,
            "Allow",
            &format!("nets: {}", nets_list(&nets_of(entry))),
            None,
            entry.ports.as_deref(),
        );
    }
    let (v4, v6) = special();
    let all_special: Vec<IpNet> = v4.into_iter().chain(v6).collect();
    if (!names_entries.is_empty() && names == CalicoNames::Domains) || p.floor_drop {
        rules(
            &mut t,
            "the private floor: special-purpose ranges the rules above do not allow, never reached through a name",
            deny_action,
            &format!("nets: {}", nets_list(&all_special)),
            None,
            None,
        );
    }
    for entry in names_entries {
        match names {
            CalicoNames::Domains => {
                let domains: Vec<String> = entry.hosts.iter().map(|h| serde_json::to_string(h).unwrap_or_default()).collect();
                rules(
                    &mut t,
                    &format!(
                        "allow `{}`: names {} (`*.` is one or more labels, never the suffix)",
                        entry.rule,
                        entry.hosts.join(", ")
                    ),
                    "Allow",
                    &format!("domains: [{}]", domains.join(", ")),
                    None,
                    entry.ports.as_deref(),
                );
            }
            CalicoNames::Public => {
                for family in ["0.0.0.0/0", "::/0"] {
                    let net: IpNet = family.parse().expect("net");
                    let not: Vec<IpNet> = all_special.iter().filter(|n| net.contains(*n)).copied().collect();
                    rules(
                        &mut t,
                        &entry.comment,
                        "Allow",
                        &format!("nets: {}", nets_list(&[net])),
                        Some(&not),
                        entry.ports.as_deref(),
                    );
                }
            }
        }
    }
    if p.open {
        let _ = writeln!(t, "  # open mode: everything the rules above do not deny\n  - action: Allow");
    } else if p.observe {
        let _ = writeln!(
            t,
            "  # observe: log what enforcement would deny, and let it through\n  - action: Log\n  - action: Allow"
        );
    }
    Export {
        text: t,
        reports: p.reports,
    }
}
