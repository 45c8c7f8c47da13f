//! The Kubernetes export: one `networking.k8s.io/v1` `NetworkPolicy` (YAML)
//! selecting `--pod-selector` pods in `--namespace`, with `policyTypes:
//! [Egress]` (so everything not listed is denied), DNS to the cluster resolver,
//! and one egress rule per exported policy rule.
//!
//! `NetworkPolicy` only allows: deny rules' CIDRs become `except` entries of
//! every `ipBlock` they fall inside (and remove blocks they cover), on every
//! port even when the deny rule names ports (reported). It cannot log, so a
//! policy under `enforcement = "observe"` exports as "allow all egress"
//! (reported).

use std::fmt::Write as _;

use egress_policy_core::Policy;
use ipnet::IpNet;

use super::{Dest, Entry, Export, Options, PortSet, Report, Severity, plan, special};

pub(crate) fn labels(t: &mut String, indent: &str, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        let _ = writeln!(t, " {{}}");
        return;
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "{indent}matchLabels:");
    let mut sorted = pairs.to_vec();
    sorted.sort();
    for (k, v) in sorted {
        let _ = writeln!(t, "{indent}  {}: {}", yaml_str(&k), yaml_str(&v));
    }
}

/// A YAML scalar: plain when safe, else double-quoted (JSON escaping is valid YAML).
pub(crate) fn yaml_str(s: &str) -> String {
    // YAML 1.1 reads these (in any case) as booleans or null.
    const RESERVED: &[&str] = &["true", "false", "null", "yes", "no", "on", "off", "y", "n"];
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// The start of a Kubernetes object: the header comments, `apiVersion`,
/// `kind` and `metadata` (name, the namespace when given, and the policy's
/// digest and generation as annotations), up to `spec:`. Shared by the
/// Kubernetes, Cilium and Calico exports.
pub(crate) fn yaml_head(
    header: &[String],
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    id: egress_policy_core::PolicyId,
) -> String {
    let mut t = String::new();
    for h in header {
        let _ = writeln!(t, "# {h}");
    }
    let _ = writeln!(t, "apiVersion: {api_version}\nkind: {kind}\nmetadata:");
    let _ = writeln!(t, "  name: {}", yaml_str(name));
    if let Some(ns) = namespace {
        let _ = writeln!(t, "  namespace: {}", yaml_str(ns));
    }
    let _ = writeln!(t, "  annotations:");
    let _ = writeln!(t, "    egress-policy/digest: {}", yaml_str(&id.digest.to_string()));
    let _ = writeln!(t, "    egress-policy/generation: \"{}\"", id.generation);
    let _ = writeln!(t, "spec:");
    t
}

/// The `ipBlock`s of an entry, with deny networks excepted.
fn blocks(entry: &Entry, deny: &[IpNet], floor: bool) -> Vec<(IpNet, Vec<IpNet>)> {
    let (special4, special6) = special();
    let bases: Vec<(IpNet, Vec<IpNet>)> = match &entry.dest {
        Dest::Public => vec![
            ("0.0.0.0/0".parse().expect("net"), special4),
            ("::/0".parse().expect("net"), special6),
        ],
        Dest::Nets(nets) => nets.iter().map(|n| (*n, Vec::new())).collect(),
    };
    let mut out = Vec::new();
    for (cidr, mut except) in bases {
        if floor {
            except.extend(special4_or_6(&cidr));
        }
        if deny.iter().any(|d| d.contains(&cidr)) {
            continue; // wholly denied
        }
        except.extend(deny.iter().filter(|d| cidr.contains(*d)));
        let except: Vec<IpNet> = IpNet::aggregate(&except)
            .into_iter()
            .filter(|e| cidr.contains(e) && *e != cidr)
            .collect();
        out.push((cidr, except));
    }
    out
}

fn special4_or_6(cidr: &IpNet) -> Vec<IpNet> {
    let (v4, v6) = special();
    if matches!(cidr, IpNet::V4(_)) { v4 } else { v6 }
}

fn ports(t: &mut String, sets: &[PortSet]) {
    let _ = writeln!(t, "    ports:");
    for p in sets {
        let proto = p.proto.as_str().to_ascii_uppercase();
        match &p.ranges {
            None => {
                let _ = writeln!(t, "    - protocol: {proto}");
            }
            Some(ranges) => {
                for &(lo, hi) in ranges {
                    let _ = writeln!(t, "    - protocol: {proto}\n      port: {lo}");
                    if hi != lo {
                        let _ = writeln!(t, "      endPort: {hi}");
                    }
                }
            }
        }
    }
}

/// One egress rule; nothing when `blocks` is empty (an egress rule without
/// `to` allows every destination).
fn rule(t: &mut String, comment: &str, blocks: &[(IpNet, Vec<IpNet>)], sets: Option<&[PortSet]>) {
    if blocks.is_empty() {
        return;
    }
    let _ = writeln!(t, "  # {comment}");
    let _ = writeln!(t, "  - to:");
    for (cidr, except) in blocks {
        let _ = writeln!(t, "    - ipBlock:\n        cidr: {cidr}");
        if !except.is_empty() {
            let _ = writeln!(t, "        except:");
            for e in except {
                let _ = writeln!(t, "        - {e}");
            }
        }
    }
    if let Some(sets) = sets {
        ports(t, sets);
    }
}

/// Renders the `NetworkPolicy`.
pub fn render(policy: &Policy, opts: &Options) -> Export {
    let mut p = plan(policy, opts, "kubernetes");
    let mut t = yaml_head(
        &p.header,
        "networking.k8s.io/v1",
        "NetworkPolicy",
        &opts.name,
        Some(&opts.namespace),
        policy.id(),
    );
    let _ = write!(t, "  podSelector:");
    labels(&mut t, "    ", &opts.pod_selector);
    let _ = writeln!(t, "  policyTypes:\n  - Egress");
    let _ = writeln!(t, "  egress:");

    if p.observe {
        p.reports.push(Report {
            severity: Severity::Lossy,
            rule: None,
            message: "enforcement = \"observe\": NetworkPolicy cannot log, so all egress is allowed; export again once the policy enforces"
                .into(),
        });
        let _ = writeln!(
            t,
            "  # enforcement = \"observe\": allow all egress (NetworkPolicy cannot log would-be denials)"
        );
        let _ = writeln!(t, "  - {{}}");
        return Export {
            text: t,
            reports: p.reports,
        };
    }

    let _ = writeln!(t, "  # DNS to the cluster resolver");
    let _ = writeln!(t, "  - to:");
    let _ = write!(t, "    - namespaceSelector:");
    labels(
        &mut t,
        "        ",
        &[("kubernetes.io/metadata.name".to_string(), opts.dns_namespace.clone())],
    );
    let _ = write!(t, "      podSelector:");
    labels(&mut t, "        ", &opts.dns_selector);
    let _ = writeln!(
        t,
        "    ports:\n    - protocol: UDP\n      port: 53\n    - protocol: TCP\n      port: 53"
    );

    let mut deny: Vec<IpNet> = Vec::new();
    for d in &p.deny {
        if d.ports.is_some() {
            p.reports.push(Report {
                severity: Severity::Lossy,
                rule: Some(d.rule.clone()),
                message: "NetworkPolicy `except` applies to every port: its CIDRs are denied on all ports, not only the rule's".into(),
            });
        }
        if let Dest::Nets(nets) = &d.dest {
            deny.extend(nets);
        }
    }
    let deny = IpNet::aggregate(&deny);

    for entry in &p.allow {
        let b = blocks(entry, &deny, false);
        if b.is_empty() {
            p.reports.push(Report {
                severity: Severity::Note,
                rule: Some(entry.rule.clone()),
                message: "every address it names is denied by a deny rule; left out".into(),
            });
            continue;
        }
        rule(&mut t, &entry.comment, &b, entry.ports.as_deref());
    }
    if p.open {
        let all = Entry {
            rule: String::new(),
            comment: String::new(),
            hosts: Vec::new(),
            dest: Dest::Nets(vec!["0.0.0.0/0".parse().expect("net"), "::/0".parse().expect("net")]),
            ports: None,
        };
        let comment = if p.floor_drop {
            "open mode: everything public but what deny rules name (floor: special-purpose ranges excepted)"
        } else {
            "open mode: everything but what deny rules name"
        };
        let open_blocks = blocks(&all, &deny, p.floor_drop);
        if open_blocks.is_empty() {
            p.reports.push(Report {
                severity: Severity::Note,
                rule: None,
                message: "open mode, but deny rules cover every address: nothing but DNS is allowed".into(),
            });
        }
        rule(&mut t, comment, &open_blocks, None);
    }
    Export {
        text: t,
        reports: p.reports,
    }
}
