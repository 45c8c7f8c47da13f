//! `egress-policy test`, as a real process: the shared `testdata/` cases pass
//! when written as a tests file and every one of them fails when its expected
//! verdict is flipped; errors name the file, case and field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the test failing

#[path = "../../../testdata/cases.rs"]
mod cases;

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_egress-policy"))
        .args(args)
        .output()
        .expect("run egress-policy")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A tests file holding the cases of a `testdata/cases` file, each verdict
/// flipped when `flip`.
fn tests_file(file: &cases::CaseFile, flip: bool) -> String {
    let mut out = format!("now = {:?}\n", file.now);
    for c in &file.cases {
        let verdict = match (c.verdict.as_str(), flip) {
            (v, false) => v,
            ("allow", true) => "deny",
            (_, true) => "allow",
        };
        out += &format!(
            "\n[[case]]\nurl = {}\nverdict = {verdict:?}\nreason = {:?}\n",
            toml_str(&c.url),
            c.reason
        );
        out += &format!("rule = {:?}\n", c.rule.as_deref().unwrap_or(""));
        if let Some(client) = &c.client {
            out += &format!("client = {client:?}\n");
        }
        if let Some(mode) = &c.mode {
            out += &format!("mode = {mode:?}\n");
        }
        if let Some(note) = &c.note {
            out += &format!("name = {}\n", toml_str(note));
        }
        if !c.resolve.is_empty() {
            out += &format!("resolve = {:?}\n", c.resolve);
        }
    }
    out
}

/// A TOML basic string for any text (control characters escaped).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[test]
fn every_testdata_case_passes_and_fails_when_flipped() {
    let dir = tempfile::tempdir().unwrap();
    let testdata = cases::testdata_dir();
    let mut total = 0;
    for (path, file) in cases::case_files() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let policy = testdata.join(&file.policy);
        for (flip, suffix) in [(false, "pass"), (true, "flip")] {
            let tests = dir.path().join(format!("{name}.{suffix}.toml"));
            std::fs::write(&tests, tests_file(&file, flip)).unwrap();
            let out = run(&["test", "--json", policy.to_str().unwrap(), tests.to_str().unwrap()]);
            let report: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {}{}", text(&out.stdout), text(&out.stderr)));
            let n = file.cases.len() as u64;
            if flip {
                assert_eq!(out.status.code(), Some(1), "{name} flipped");
                assert_eq!(report["failed"], n, "{name}: every flipped case fails");
                for case in report["cases"].as_array().unwrap() {
                    let first = case["mismatches"][0].as_str().unwrap();
                    assert!(first.starts_with("verdict: expected"), "{name}: {case}");
                }
            } else {
                let failures: Vec<_> = report["cases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["passed"] == false)
                    .collect();
                assert!(failures.is_empty(), "{name}: {failures:#?}");
                assert_eq!((out.status.code(), report["passed"].as_u64()), (Some(0), Some(n)), "{name}");
            }
        }
        total += file.cases.len();
    }
    assert!(total > 100, "only {total} cases");
}

#[test]
fn the_example_policy_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = run(&[
        "test",
        root.join("examples/policy.toml").to_str().unwrap(),
        root.join("examples/policy.tests.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).starts_with("16 passed, 0 failed"), "{}", text(&out.stdout));
}

#[test]
fn failures_show_the_decision_made_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example\"]\n").unwrap();
    let tests = dir.path().join("t.toml");
    std::fs::write(
        &tests,
        "[[case]]\nurl = \"https://user:hunter2@api.example/?token=s3cret\"\nverdict = \"deny\"\nrule = \"\"\n\
         [[case]]\nurl = \"https://api.example/\"\nverdict = \"allow\"\nrule = \"api\"\n",
    )
    .unwrap();
    let out = run(&["test", policy.to_str().unwrap(), tests.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("case 1 (https://api.example/)"), "{stdout}");
    assert!(stdout.contains("verdict: expected deny, got allow"), "{stdout}");
    assert!(stdout.contains("rule: expected no rule, got `api`"), "{stdout}");
    assert!(stdout.contains("decided: egress allowed: allowed_by_rule (rule `api`)"), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
    assert!(!stdout.contains("hunter2") && !stdout.contains("s3cret"), "{stdout}");
}

#[test]
fn bad_tests_files_are_usage_errors_naming_case_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, "version = 1\n").unwrap();
    for (body, want) in [
        (
            "[[case]]\nurl = \"https://x/\"\nverdict = \"maybe\"\n",
            "case 1: verdict: `maybe`: write allow, deny or invalid",
        ),
        ("[[case]]\nur = \"https://x/\"\nverdict = \"allow\"\n", "unknown field `ur`"),
        (
            "[[case]]\nurl = \"https://x/\"\nverdict = \"deny\"\nreason = \"nope\"\n",
            "case 1: reason: `nope` is not a reason",
        ),
        (
            "[[case]]\nname = \"n\"\nhost = \"x\"\nverdict = \"deny\"\n",
            "case 1 (\"n\"): scheme: missing",
        ),
        (
            "[[case]]\nscheme = \"tcp\"\nhost = \"db\"\nverdict = \"deny\"\n",
            "port: missing: scheme `tcp` has no default port",
        ),
        (
            "[[case]]\nurl = \"https://x/\"\nverdict = \"deny\"\nresolve = [\"10.0.0\"]\n",
            "resolve: `10.0.0` is not an IP address",
        ),
        (
            "[[case]]\nurl = \"https://x/\"\nverdict = \"deny\"\nnow = \"yesterday\"\n",
            "case 1: now:",
        ),
        ("now = \"2026-01-01\"\n", "no cases"),
    ] {
        let tests = dir.path().join("t.toml");
        std::fs::write(&tests, body).unwrap();
        let out = run(&["test", policy.to_str().unwrap(), tests.to_str().unwrap()]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {stderr}");
        assert!(stderr.contains(want), "{body}: {stderr}");
        assert!(stderr.contains(&format!("{}:", tests.display())), "the file is named: {stderr}");
    }
    let out = run(&["test", policy.to_str().unwrap(), "/nonexistent/t.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["test", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "TESTS is required");
}
