//! The data-driven decision suite over `testdata/` (shared with the CLI tests).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the test failing

#[path = "../../../testdata/cases.rs"]
mod cases;

use std::net::IpAddr;

use egress_policy_core::time::parse_instant;
use egress_policy_core::{Context, Destination, Mode, Policy, Reason};

fn decide(policy: &Policy, case: &cases::Case, now: std::time::SystemTime) -> (String, String, Option<String>, bool) {
    let policy = match case.mode.as_deref() {
        Some(m) => policy.clone().with_mode(Mode::parse(m).expect("mode")),
        None => policy.clone(),
    };
    let cx = Context::at(now).with_client(case.client.as_deref());
    let mut decision = policy.decide_url_with(&case.url, &cx);
    if !case.resolve.is_empty() {
        let addrs: Vec<IpAddr> = case.resolve.iter().map(|a| a.parse().expect("address")).collect();
        assert!(
            matches!(Destination::parse_url(&case.url).map(|d| d.host().as_name().is_some()), Ok(true)),
            "resolve given for a non-name destination"
        );
        decision = policy.admit_decided(decision, &addrs, &cx).decision().clone();
    }
    let verdict = if decision.reason() == Reason::Invalid {
        "invalid"
    } else {
        decision.verdict().as_str()
    };
    (
        verdict.to_string(),
        decision.reason().as_str().to_string(),
        decision.rule().map(|r| r.id().to_string()),
        decision.is_enforced(),
    )
}

#[test]
fn decision_cases() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (path, file) in cases::case_files() {
        let now = parse_instant(&file.now).expect("now");
        for policy_path in std::iter::once(&file.policy).chain(&file.also) {
            let policy = Policy::from_path(cases::testdata_dir().join(policy_path)).unwrap_or_else(|e| panic!("{e}"));
            for case in &file.cases {
                count += 1;
                let (verdict, reason, rule, enforced) = decide(&policy, case, now);
                let want = (case.verdict.clone(), case.reason.clone(), case.rule.clone());
                if (verdict.clone(), reason.clone(), rule.clone()) != want || case.enforced.is_some_and(|e| e != enforced) {
                    failures.push(format!(
                        "{} [{policy_path}] {}: got {verdict}/{reason}/{rule:?} enforced={enforced}, want {}/{}/{:?}",
                        path.file_name().unwrap().to_string_lossy(),
                        case.label(),
                        want.0,
                        want.1,
                        want.2
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count > 100, "only {count} cases ran");
}

#[test]
fn invalid_policies_fail_with_located_errors() {
    for (path, expect) in cases::invalid_policies() {
        let err = match Policy::from_path(&path) {
            Ok(_) => panic!("{} loaded but must not", path.display()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&*path.file_name().unwrap().to_string_lossy()),
            "error does not name the file: {err}"
        );
        for want in expect {
            assert!(err.contains(&want), "{}:\n  want: {want}\n  got:  {err}", path.display());
        }
    }
}

#[test]
fn example_policy_loads() {
    let path = cases::testdata_dir().join("../examples/policy.toml");
    Policy::from_path(&path).unwrap_or_else(|e| panic!("{e}"));
}
