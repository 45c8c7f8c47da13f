//! `egress-policy export`: the network-layer fence from the same policy file
//! ([`egress_policy_cli::export`]).

use std::net::IpAddr;
use std::path::PathBuf;

use egress_policy_cli::export::{self, Format, Names, Options, Severity};
use egress_policy_core::Policy;

use super::{Fatal, ModeArg, Status, instant, status};
use crate::out::Out;

/// The export formats on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// `networking.k8s.io/v1` NetworkPolicy (YAML).
    Kubernetes,
    /// An nftables `inet` table for `nft -f`.
    Nftables,
    /// `cilium.io/v2` CiliumNetworkPolicy (YAML), names as toFQDNs.
    Cilium,
    /// `projectcalico.org/v3` NetworkPolicy or GlobalNetworkPolicy (YAML), names as domains.
    Calico,
}

/// What names become on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum NamesArg {
    /// Names where the target has them (cilium, calico), else public unicast.
    Auto,
    /// Public unicast on the rule's ports (calico: for Calico Open Source, which has no domains).
    Public,
    /// Left to the process (reported).
    Omit,
}

/// The arguments of `export`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy file.
    #[arg(value_name = "POLICY")]
    policy: PathBuf,
    /// The target.
    #[arg(long, value_name = "FORMAT")]
    format: FormatArg,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Export the rules that apply to the client NAME (default: rules for every client).
    #[arg(long, value_name = "NAME")]
    client: Option<String>,
    /// Export as if the policy were in this mode.
    #[arg(long, value_name = "MODE")]
    mode: Option<ModeArg>,
    /// Judge expiry as of this UTC instant or date instead of now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// What allow rules' names become.
    #[arg(long, value_name = "HOW", default_value = "auto")]
    names: NamesArg,
    /// Fail (exit 1, nothing written) when the target cannot express part of the policy.
    #[arg(long)]
    strict: bool,
    /// nftables: a DNS resolver lookups may go to (repeatable).
    #[arg(long, value_name = "ADDR")]
    dns_server: Vec<IpAddr>,
    /// calico: a GlobalNetworkPolicy (no namespace) instead of a NetworkPolicy.
    #[arg(long)]
    global: bool,
    /// cilium: the Cilium release the output is for, MAJOR.MINOR (`**.` is any depth since 1.19).
    #[arg(long, value_name = "VERSION", default_value = "1.19")]
    cilium_version: String,
    /// kubernetes, cilium, calico: the policy's namespace.
    #[arg(long, value_name = "NS", default_value = "default")]
    namespace: String,
    /// kubernetes, cilium, calico: the policy's name.
    #[arg(long, value_name = "NAME", default_value = "egress-policy")]
    name: String,
    /// kubernetes, cilium, calico: the pods it applies to, `k=v,...` (default: all pods).
    #[arg(long, value_name = "LABELS")]
    pod_selector: Option<String>,
    /// kubernetes, cilium, calico: the cluster DNS pods, `NAMESPACE/k=v,...`.
    #[arg(long, value_name = "SELECTOR", default_value = "kube-system/k8s-app=kube-dns")]
    dns_selector: String,
}

/// A Kubernetes label name segment or value: at most 63 characters,
/// alphanumerics with `-`, `_` and `.` inside (a value may be empty).
fn label_word(s: &str, may_be_empty: bool) -> bool {
    if s.is_empty() {
        return may_be_empty;
    }
    let b = s.as_bytes();
    s.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
}

/// `k=v,...` with Kubernetes label syntax (`prefix/name` keys, where the
/// prefix is a DNS subdomain), so nothing else can reach a selector
/// (Calico selectors are expressions).
fn labels(flag: &str, raw: &str) -> Result<Vec<(String, String)>, Fatal> {
    raw.split(',')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let bad = || {
                Fatal(format!(
                    "{flag} `{}`: write key=value[,key=value...] with Kubernetes label keys and values",
                    raw.escape_debug()
                ))
            };
            let (k, v) = pair.split_once('=').ok_or_else(bad)?;
            let (prefix, name) = match k.rsplit_once('/') {
                Some((p, n)) => (Some(p), n),
                None => (None, k),
            };
            let prefix_ok = prefix.is_none_or(|p| p.len() <= 253 && p.split('.').all(|l| label_word(l, false) && !l.contains('_')));
            if prefix_ok && label_word(name, false) && label_word(v, true) {
                Ok((k.to_string(), v.to_string()))
            } else {
                Err(bad())
            }
        })
        .collect()
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let mut policy = Policy::from_path(&args.policy)?;
    if let Some(mode) = args.mode {
        policy = policy.with_mode(mode.into());
    }
    if let Some(c) = &args.client
        && egress_policy_core::rule_id_from(c).as_deref() != Some(c.as_str())
    {
        return Err(Fatal(format!(
            "--client `{}`: not a client name a rule can list ([a-z0-9][a-z0-9_.-]*)",
            c.escape_debug()
        )));
    }
    let mut opts = Options::new();
    opts.client = args.client;
    opts.now = instant(args.now.as_deref())?;
    opts.names = match args.names {
        NamesArg::Auto => Names::Auto,
        NamesArg::Public => Names::Public,
        NamesArg::Omit => Names::Omit,
    };
    opts.dns_servers = args.dns_server;
    opts.namespace = args.namespace;
    opts.name = args.name;
    if let Some(sel) = &args.pod_selector {
        opts.pod_selector = labels("--pod-selector", sel)?;
    }
    let (dns_ns, dns_labels) = args
        .dns_selector
        .split_once('/')
        .ok_or_else(|| Fatal(format!("--dns-selector `{}`: write NAMESPACE/key=value", args.dns_selector)))?;
    opts.dns_namespace = dns_ns.to_string();
    opts.dns_selector = labels("--dns-selector", dns_labels)?;
    opts.global = args.global;
    opts.cilium_version = args
        .cilium_version
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| Fatal(format!("--cilium-version `{}`: write MAJOR.MINOR, e.g. 1.19", args.cilium_version)))?;
    let format = match args.format {
        FormatArg::Kubernetes => Format::Kubernetes,
        FormatArg::Nftables => Format::Nftables,
        FormatArg::Cilium => Format::Cilium,
        FormatArg::Calico => Format::Calico,
    };

    let result = export::export(&policy, format, &opts);
    for r in &result.reports {
        eprintln!("egress-policy export: {r}");
    }
    let lossy = result.reports.iter().any(|r| r.severity == Severity::Lossy);
    if args.strict && lossy {
        eprintln!("egress-policy export: --strict: the target cannot express all of the policy; nothing written");
        return Ok(status(false));
    }
    match &args.output {
        Some(path) => std::fs::write(path, &result.text).map_err(|e| Fatal(format!("{}: {e}", path.display())))?,
        None => {
            out.text(&result.text)?;
            out.flush()?;
        }
    }
    Ok(status(true))
}
