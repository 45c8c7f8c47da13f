//! `egress-policy export` as a real process: golden files in
//! `testdata/export/` (regenerate with `EGRESS_BLESS=1` and review the diff),
//! deterministic bytes, Kubernetes output that round-trips losslessly through
//! the official typed bindings (`k8s-openapi`), nftables output that `nft -c`
//! accepts (as root), and `--strict`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_egress-policy"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run egress-policy")
}

/// (policy, golden stem, extra options)
const POLICIES: &[(&str, &str, &[&str])] = &[
    (
        "examples/policy.toml",
        "example",
        &["--namespace", "payments", "--pod-selector", "app=api"],
    ),
    (
        "examples/policy.toml",
        "example-webhooks",
        &["--client", "webhooks", "--mode", "constrained"],
    ),
    ("testdata/export/netns.policy.toml", "netns", &[]),
    ("testdata/policies/open-deny.toml", "open-deny", &[]),
    ("testdata/policies/open-floor.toml", "open-floor", &[]),
    ("testdata/policies/observe.toml", "observe", &[]),
];

const FORMATS: &[(&str, &str, &[&str])] = &[
    ("nftables", "nft", &["--dns-server", "10.96.0.10", "--dns-server", "fd00:10:96::a"]),
    ("kubernetes", "k8s.yaml", &[]),
    ("cilium", "cilium.yaml", &[]),
    ("calico", "calico.yaml", &[]),
];

fn export(policy: &str, format: &str, extra: &[&str], format_extra: &[&str]) -> Output {
    let mut args = vec!["export", "--format", format, "--now", "2026-12-01"];
    args.extend_from_slice(extra);
    args.extend_from_slice(format_extra);
    args.push(policy);
    run(&args)
}

#[test]
fn exports_match_their_golden_files_and_are_deterministic() {
    let bless = std::env::var_os("EGRESS_BLESS").is_some();
    let mut stale = Vec::new();
    for (policy, stem, extra) in POLICIES {
        for (format, ext, format_extra) in FORMATS {
            let out = export(policy, format, extra, format_extra);
            assert!(out.status.success(), "{policy} {format}: {}", String::from_utf8_lossy(&out.stderr));
            let again = export(policy, format, extra, format_extra);
            assert_eq!(out.stdout, again.stdout, "{policy} {format}: not deterministic");
            // The reports go to standard error, and are part of the golden file.
            let text = format!(
                "{}{}",
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr)
                    .unwrap()
                    .lines()
                    .map(|l| format!("# stderr: {l}\n"))
                    .collect::<String>()
            );
            let golden = root().join(format!("testdata/export/{stem}.{ext}"));
            if bless {
                std::fs::write(&golden, &text).unwrap();
            } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(text.as_str()) {
                stale.push(golden.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "differ from their golden files (EGRESS_BLESS=1 rewrites them; review the diff): {stale:#?}"
    );
}

/// The exports shown beside the example policy in `examples/`.
#[test]
fn the_example_exports_in_examples_are_current() {
    let bless = std::env::var_os("EGRESS_BLESS").is_some();
    for (format, path, extra) in [
        ("nftables", "examples/policy.nft", &["--dns-server", "10.96.0.10"][..]),
        (
            "kubernetes",
            "examples/policy.k8s.yaml",
            &["--namespace", "payments", "--pod-selector", "app=api"][..],
        ),
    ] {
        let out = export("examples/policy.toml", format, extra, &[]);
        assert!(out.status.success());
        let file = root().join(path);
        if bless {
            std::fs::write(&file, &out.stdout).unwrap();
        }
        assert_eq!(
            std::fs::read(&file).ok().as_deref(),
            Some(&out.stdout[..]),
            "{path} is stale: EGRESS_BLESS=1 cargo test -p egress-policy-cli --test export"
        );
    }
}

/// YAML → generic JSON value → typed `NetworkPolicy` → JSON value: the two
/// values are equal only if every field is one the bindings know, in its place.
#[test]
fn kubernetes_exports_round_trip_through_the_typed_bindings() {
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    for (policy, _, extra) in POLICIES {
        let out = export(policy, "kubernetes", extra, &[]);
        assert!(out.status.success());
        let yaml = String::from_utf8(out.stdout).unwrap();
        let generic: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{policy}: {e}\n{yaml}"));
        let typed: NetworkPolicy = serde_json::from_value(generic.clone()).unwrap_or_else(|e| panic!("{policy}: {e}\n{yaml}"));
        let back = serde_json::to_value(&typed).unwrap();
        assert_eq!(back, generic, "{policy}: fields lost or misplaced in the round trip");
        let spec = typed.spec.expect("spec");
        assert_eq!(spec.policy_types.as_deref(), Some(&["Egress".to_string()][..]), "{policy}");
        for rule in spec.egress.iter().flatten() {
            assert!(
                rule.to.as_ref().is_none_or(|to| !to.is_empty()),
                "{policy}: an empty `to` allows everything"
            );
            for block in rule.to.iter().flatten().filter_map(|peer| peer.ip_block.as_ref()) {
                except_is_valid(&block.cidr, block.except.as_deref().unwrap_or_default(), policy);
            }
        }
    }
}

/// `doc`'s `metadata` and `spec` through typed bindings and back: equal only if
/// every field is one the bindings know, in its place.
fn round_trip<Spec: serde::de::DeserializeOwned + serde::Serialize>(doc: &serde_json::Value, what: &str) {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let meta: ObjectMeta = serde_json::from_value(doc["metadata"].clone()).unwrap_or_else(|e| panic!("{what}: metadata: {e}"));
    assert_eq!(serde_json::to_value(&meta).unwrap(), doc["metadata"], "{what}: metadata");
    let spec: Spec = serde_json::from_value(doc["spec"].clone()).unwrap_or_else(|e| panic!("{what}: spec: {e}"));
    assert_eq!(
        serde_json::to_value(&spec).unwrap(),
        doc["spec"],
        "{what}: spec lost or misplaced a field"
    );
}

/// Cilium: every export round-trips through the bindings generated from
/// Cilium's CRD schema (`kcr_cilium_io`); wildcards are `**.` patterns.
#[test]
fn cilium_exports_round_trip_through_the_crd_bindings() {
    use kcr_cilium_io::v2::ciliumnetworkpolicies::CiliumNetworkPolicySpec;
    for (policy, _, extra) in POLICIES {
        let out = export(policy, "cilium", extra, &[]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let yaml = String::from_utf8(out.stdout).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{policy}: {e}\n{yaml}"));
        assert_eq!(
            (doc["apiVersion"].as_str(), doc["kind"].as_str()),
            (Some("cilium.io/v2"), Some("CiliumNetworkPolicy"))
        );
        round_trip::<CiliumNetworkPolicySpec>(&doc, policy);
    }
    let out = export("examples/policy.toml", "cilium", &[], &[]);
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(yaml.contains("matchPattern: \"**.cdn.payments.example\""), "{yaml}");
    assert!(yaml.contains("matchName: \"api.payments.example\""), "{yaml}");
    // Before 1.19 `**.` is one label: reported, and a failure under --strict.
    let old = export("examples/policy.toml", "cilium", &["--cilium-version", "1.18", "--strict"], &[]);
    assert_eq!(old.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&old.stderr).contains("reads `**.suffix` as exactly one label"));
}

/// Calico: every export's spec round-trips through the bindings generated from
/// Calico's CRD schema (`kcr_crd_projectcalico_org`, whose spec is the
/// `projectcalico.org/v3` one). The open-source schema has no `domains` (a
/// Calico Enterprise/Cloud field): they are checked apart and removed first.
#[test]
fn calico_exports_round_trip_through_the_crd_bindings() {
    use kcr_crd_projectcalico_org::v1::networkpolicies::NetworkPolicySpec;
    for (policy, _, extra) in POLICIES {
        for names in ["auto", "public"] {
            let out = export(policy, "calico", extra, &["--names", names]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let yaml = String::from_utf8(out.stdout).unwrap();
            let mut doc: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{policy}: {e}\n{yaml}"));
            assert_eq!(doc["apiVersion"], "projectcalico.org/v3");
            for rule in doc["spec"]["egress"].as_array_mut().unwrap() {
                if let Some(dest) = rule.get_mut("destination").and_then(|d| d.as_object_mut())
                    && let Some(domains) = dest.remove("domains")
                {
                    assert_eq!(names, "auto", "{policy}: domains with --names public");
                    for d in domains.as_array().unwrap() {
                        let d = d.as_str().unwrap();
                        assert!(
                            egress_policy_core::Destination::new(egress_policy_core::Scheme::Https, d.trim_start_matches("*."), 443)
                                .is_ok(),
                            "{d}"
                        );
                    }
                }
            }
            round_trip::<NetworkPolicySpec>(&doc, policy);
        }
    }
    // Observe: Calico's observe-then-enforce workflow, Log and Allow, never Deny.
    let observe = String::from_utf8(export("testdata/policies/observe.toml", "calico", &[], &[]).stdout).unwrap();
    assert!(!observe.contains("action: Deny"), "{observe}");
    assert!(observe.trim_end().ends_with("- action: Log\n  - action: Allow"), "{observe}");

    let global = export("examples/policy.toml", "calico", &["--global"], &[]);
    let doc: serde_json::Value = serde_saphyr::from_str(&String::from_utf8(global.stdout).unwrap()).unwrap();
    assert_eq!(doc["kind"], "GlobalNetworkPolicy");
    assert!(doc["metadata"].get("namespace").is_none());
}

/// Kubernetes' `ValidateIPBlock`: every `except` is a strict subset of `cidr`,
/// compared the way Go does, where an IPv4-mapped IPv6 address is IPv4 (so
/// `::ffff:0:0/96` is never inside `::/0`).
fn except_is_valid(cidr: &str, except: &[String], what: &str) {
    let cidr: ipnet::IpNet = cidr.parse().unwrap();
    let mapped: ipnet::IpNet = "::ffff:0:0/96".parse().unwrap();
    for e in except {
        let net: ipnet::IpNet = e.parse().unwrap();
        assert!(!mapped.contains(&net), "{what}: except {e} is IPv4 to Kubernetes");
        assert!(
            cidr.contains(&net) && net != cidr,
            "{what}: except {e} is not a strict subset of {cidr}"
        );
    }
}

/// Free text from the policy and the command line cannot add statements, YAML
/// reserved words stay strings, long rule ids fit nftables' log prefix, and a
/// Kubernetes policy whose deny rules cover everything allows nothing.
#[test]
fn hostile_inputs_stay_inert() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("hostile.toml");
    // A line break in free text is refused when the policy loads ...
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "version = 1\n[[deny]]\nid = \"d\"\ncidrs = [\"192.0.2.7/32\"]\nreason = \"x\\nflush ruleset\"\n",
    )
    .unwrap();
    let out = export(broken.to_str().unwrap(), "nftables", &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("field `reason`: holds a control character"));
    // ... and what one line can hold stays inside its comment.
    let reason = "x ; ip daddr 0.0.0.0/0 accept ; flush ruleset ; } table inet evil { - action: Allow";
    let hostile = |enforcement: &str, reason: &str| {
        format!(
            "version = 1\nenforcement = \"{enforcement}\"\n\
             [[allow]]\nid = \"api\"\ncidrs = [\"192.0.2.0/24\"]\n\
             [[deny]]\nid = \"d\"\ncidrs = [\"192.0.2.7/32\"]\nreason = \"{reason}\"\n"
        )
    };
    std::fs::write(&policy, hostile("enforce", reason)).unwrap();
    // The same policy with a plain reason: the hostile one must give as many lines.
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, hostile("enforce", "plain")).unwrap();
    for format in ["nftables", "kubernetes", "cilium", "calico"] {
        let out = export(policy.to_str().unwrap(), format, &[], &[]);
        assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let reference = String::from_utf8(export(plain.to_str().unwrap(), format, &[], &[]).stdout).unwrap();
        assert_eq!(
            text.lines().count(),
            reference.lines().count(),
            "{format}: the reason added lines:\n{text}"
        );
        let carrying: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("flush ruleset") || l.contains("0.0.0.0/0 accept"))
            .collect();
        for line in &carrying {
            assert!(line.trim_start().starts_with('#'), "{format}: injected line {line:?}");
        }
        // Kubernetes has no deny rules to comment on; the others show the reason, inert.
        if format != "kubernetes" {
            assert!(
                carrying.iter().any(|l| l.contains("flush ruleset")),
                "{format}: the reason is not shown:\n{text}"
            );
        }
    }
    // Observe: a deny rule with a long id still gives a log prefix nft accepts (< 128 bytes).
    let long_id = format!("a{}", "b".repeat(200));
    let observe = dir.path().join("observe.toml");
    std::fs::write(
        &observe,
        hostile("observe", "plain").replace("id = \"d\"", &format!("id = \"{long_id}\"")),
    )
    .unwrap();
    let text = String::from_utf8(export(observe.to_str().unwrap(), "nftables", &[], &[]).stdout).unwrap();
    let prefixes: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("log prefix"))
        .map(|l| l.split('"').nth(1).unwrap())
        .collect();
    assert!(prefixes.iter().any(|p| p.contains("rule=abbb")), "{text}");
    assert!(prefixes.iter().all(|p| p.len() < 128), "{prefixes:?}");
    // A --client that is not a client name is refused before anything is written.
    let out = export(policy.to_str().unwrap(), "nftables", &["--client", "x\ntable inet evil { }"], &[]);
    assert_eq!(out.status.code(), Some(2));

    // YAML 1.1 reserved words in label values stay strings.
    let out = export("examples/policy.toml", "kubernetes", &["--pod-selector", "app=Null,tier=ON"], &[]);
    let doc: serde_json::Value = serde_saphyr::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(doc["spec"]["podSelector"]["matchLabels"]["app"], "Null");
    assert_eq!(doc["spec"]["podSelector"]["matchLabels"]["tier"], "ON");

    // Open mode, every address denied (on one port): the NetworkPolicy allows DNS only.
    let all = dir.path().join("all.toml");
    std::fs::write(
        &all,
        "version = 1\nmode = \"open\"\n[[deny]]\nid = \"all\"\ncidrs = [\"0.0.0.0/0\", \"::/0\"]\nports = [25]\nschemes = [\"tcp\"]\n",
    )
    .unwrap();
    let out = export(all.to_str().unwrap(), "kubernetes", &[], &[]);
    let doc: serde_json::Value = serde_saphyr::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let egress = doc["spec"]["egress"].as_array().unwrap();
    assert_eq!(egress.len(), 1, "only the DNS rule: {egress:#?}");
    assert!(egress[0]["to"][0].get("namespaceSelector").is_some());
}

/// A misspelled field is caught by the round trip (the test above can fail).
#[test]
fn the_round_trip_catches_a_misplaced_field() {
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    let out = export("examples/policy.toml", "kubernetes", &[], &[]);
    let yaml = String::from_utf8(out.stdout)
        .unwrap()
        .replace("endPort", "endport")
        .replacen("    ports:", "    portz:", 1);
    let generic: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    let typed: NetworkPolicy = serde_json::from_value(generic.clone()).unwrap();
    assert_ne!(serde_json::to_value(&typed).unwrap(), generic);
}

#[test]
fn nft_accepts_every_nftables_export() {
    let root_user = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n");
    let nft = Command::new("nft").arg("--version").output().is_ok_and(|o| o.status.success());
    if !(root_user && nft) {
        if std::env::var_os("EGRESS_NETNS_REQUIRED").is_some_and(|v| v == "1") {
            panic!("EGRESS_NETNS_REQUIRED=1 but nft cannot check rulesets here (root: {root_user}, nft: {nft})");
        }
        eprintln!("SKIPPED nft -c check: needs root and nftables");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (policy, stem, extra) in POLICIES {
        let (format, _, format_extra) = FORMATS[0];
        let out = export(policy, format, extra, format_extra);
        let file = dir.path().join(format!("{stem}.nft"));
        std::fs::write(&file, &out.stdout).unwrap();
        let check = Command::new("nft").arg("-c").arg("-f").arg(&file).output().unwrap();
        assert!(
            check.status.success(),
            "{policy}: nft -c rejected it: {}\n{}",
            String::from_utf8_lossy(&check.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn strict_fails_on_what_the_target_cannot_express_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.nft");
    let out = run(&[
        "export",
        "--format",
        "nftables",
        "--strict",
        "-o",
        file.to_str().unwrap(),
        "testdata/policies/open-deny.toml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot express: rule `no-corp`: a network layer cannot deny names"),
        "{stderr}"
    );
    assert!(!file.exists(), "--strict wrote a file");

    // A policy of CIDRs only is expressible: --strict passes and -o writes.
    let policy = dir.path().join("cidrs.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[allow]]\nid = \"db\"\ncidrs = [\"10.0.0.0/24\"]\nschemes = [\"tcp\"]\nports = [5432]\n",
    )
    .unwrap();
    let out = run(&[
        "export",
        "--format",
        "kubernetes",
        "--strict",
        "-o",
        file.to_str().unwrap(),
        policy.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("cidr: 10.0.0.0/24") && text.contains("port: 5432"), "{text}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["export", "--format", "iptables", "examples/policy.toml"][..],
        &["export", "--format", "cilium", "--cilium-version", "latest", "examples/policy.toml"],
        &["export", "--format", "kubernetes", "--pod-selector", "app", "examples/policy.toml"],
        &[
            "export",
            "--format",
            "kubernetes",
            "--dns-selector",
            "k8s-app=kube-dns",
            "examples/policy.toml",
        ],
        &["export", "--format", "nftables", "--dns-server", "resolver", "examples/policy.toml"],
        &["export", "--format", "nftables", "testdata/invalid/does-not-exist.toml"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
