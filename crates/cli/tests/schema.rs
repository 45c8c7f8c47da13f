//! The JSON Schema: committed and current, and agreeing with the loader wherever
//! JSON Schema can express the rule.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

#[path = "../../../testdata/cases.rs"]
mod cases;

use std::path::Path;

fn schema() -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_egress-policy"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The file as JSON, whatever its format; `None` when it does not parse at all.
fn as_json(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => toml::from_str(&text).ok(),
        Some("json") => serde_json::from_str(&text).ok(),
        Some("yaml" | "yml") => serde_saphyr::from_str(&text).ok(),
        _ => None,
    }
}

#[test]
fn committed_schema_is_current() {
    let root = cases::testdata_dir().join("..");
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("policy.schema.json")).unwrap()).unwrap();
    assert_eq!(
        committed,
        schema(),
        "policy.schema.json is stale: run `cargo run -p egress-policy-cli -- schema > policy.schema.json`"
    );
}

#[test]
fn schema_and_loader_agree() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let dir = cases::testdata_dir();
    // Every valid policy: both accept.
    let mut valid: Vec<_> = ["policies", "lint"]
        .iter()
        .flat_map(|d| std::fs::read_dir(dir.join(d)).unwrap().flatten().map(|e| e.path()))
        .collect();
    valid.push(dir.join("../examples/policy.toml"));
    for path in &valid {
        egress_policy_core::Policy::from_path(path).unwrap_or_else(|e| panic!("{e}"));
        let doc = as_json(path).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: schema rejects a valid policy: {errors:?}", path.display());
    }
    assert!(valid.len() > 30);
    // Invalid policies: the schema must reject the structural ones; the others
    // (canonical names, host bits, duplicate ids, ...) only the loader can judge.
    let structural = [
        "unknown-key.toml",
        "unknown-top-key.toml",
        "bad-mode.toml",
        "missing-version.toml",
        "empty.toml",
        "bad-expires.toml",
    ];
    let semantic = [
        "non-canonical-idn.toml",
        "host-bits.toml",
        "wildcard-star-star.toml",
        "wildcard-all.toml",
        "wildcard-middle.toml",
        "ip-in-hosts.toml",
        "upper-case.toml",
        "tcp-no-ports.toml",
        "duplicate-id.toml",
        "no-target.toml",
        "two-trailing-dots.toml",
        "control-char-reason.toml",
        "bad.yaml",
    ];
    for (path, _) in cases::invalid_policies() {
        assert!(egress_policy_core::Policy::from_path(&path).is_err());
        let name = path.file_name().unwrap().to_str().unwrap();
        let Some(doc) = as_json(&path) else {
            assert_eq!(name, "syntax.toml", "{name} does not parse as its format");
            continue;
        };
        let accepted = validator.is_valid(&doc);
        if structural.contains(&name) {
            assert!(!accepted, "{name}: the schema should reject it like the loader");
        } else {
            assert!(semantic.contains(&name), "{name}: classify it as structural or semantic");
            assert!(accepted, "{name}: semantic errors are the loader's; the schema accepted it before");
        }
    }
    // And a few structural mistakes written for the schema.
    for bad in [
        r#"{"version": 1, "allow": [{"id": "Bad Id", "hosts": ["a.example"]}]}"#,
        r#"{"version": 1, "allow": [{"id": "a", "hosts": ["a.example"], "ports": [0]}]}"#,
        r#"{"version": 1, "allow": [{"id": "a", "hosts": ["a.example"], "schemes": ["ftp"]}]}"#,
        r#"{"version": 1, "allow": [{"id": "a", "hosts": ["a.example"], "modes": ["open"]}]}"#,
        r#"{"version": 2}"#,
    ] {
        let doc: serde_json::Value = serde_json::from_str(bad).unwrap();
        assert!(!validator.is_valid(&doc), "schema accepted {bad}");
        assert!(
            egress_policy_core::Policy::from_str_format(bad, egress_policy_core::Format::Json).is_err(),
            "loader accepted {bad}"
        );
    }
}
