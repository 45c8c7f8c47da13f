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
    }
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
        &["export", "--format", "cilium", "examples/policy.toml"][..],
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
