//! The real `egress-policy` binary against the shared `testdata/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the test failing

#[path = "../../../testdata/cases.rs"]
mod cases;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use egress_policy_cli::lint::{LINTS, Severity};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_egress-policy"))
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn egress-policy");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(input) = stdin {
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
    }
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_json_agrees_with_every_testdata_case() {
    let dir = cases::testdata_dir();
    let mut checked = 0;
    for (path, file) in cases::case_files() {
        for policy in std::iter::once(&file.policy).chain(&file.also) {
            let policy_path = dir.join(policy);
            // One process per option set; URLs go through standard input as JSON
            // string lines, so NUL, tabs and backslashes arrive exactly.
            let mut groups: BTreeMap<Vec<String>, Vec<&cases::Case>> = BTreeMap::new();
            for case in &file.cases {
                let mut args = vec!["check".to_string(), "--json".into(), "--now".into(), file.now.clone()];
                args.extend(["--policy".to_string(), policy_path.display().to_string()]);
                if let Some(c) = &case.client {
                    args.extend(["--client".to_string(), c.clone()]);
                }
                if let Some(m) = &case.mode {
                    args.extend(["--mode".to_string(), m.clone()]);
                }
                for ip in &case.resolve {
                    let host = url::Url::parse(&case.url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .expect("host");
                    args.extend(["--resolve".to_string(), format!("{host}={ip}")]);
                }
                groups.entry(args).or_default().push(case);
            }
            for (args, group) in groups {
                let input: String = group
                    .iter()
                    .map(|c| format!("{}\n", serde_json::to_string(&c.url).unwrap()))
                    .collect();
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = run(&args, Some(&input));
                let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
                assert_eq!(
                    lines.len(),
                    group.len(),
                    "{}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                let any_not_allowed = group.iter().any(|c| c.verdict != "allow");
                assert_eq!(
                    out.status.code(),
                    Some(if any_not_allowed { 1 } else { 0 }),
                    "exit code for {args:?}"
                );
                for (case, got) in group.iter().zip(&lines) {
                    checked += 1;
                    let url = got["url"].as_str().expect("url");
                    if case.url.contains(['@', '?', '#']) {
                        assert!(!url.contains(['?', '#']), "query or fragment echoed: {url:?}");
                    } else {
                        assert_eq!(url, case.url, "url echoed exactly");
                    }
                    assert_eq!(
                        got["verdict"],
                        serde_json::json!(case.verdict),
                        "{} [{policy}]: {got}",
                        case.label()
                    );
                    assert_eq!(got["reason"], serde_json::json!(case.reason), "{} [{policy}]: {got}", case.label());
                    assert_eq!(got["rule"], serde_json::json!(case.rule), "{} [{policy}]: {got}", case.label());
                    let keys: Vec<&str> = got.as_object().unwrap().keys().map(String::as_str).collect();
                    assert_eq!(keys, ["host", "port", "reason", "rule", "scheme", "url", "verdict"]);
                }
            }
        }
    }
    assert!(checked > 100);
}

#[test]
fn check_output_fields_for_a_name() {
    let policy = cases::testdata_dir().join("policies/sealed.toml");
    let out = run(
        &[
            "check",
            "--json",
            "--now",
            "2026-06-01",
            "--policy",
            policy.to_str().unwrap(),
            "HTTPS://user:pw@API.payments.example.:0443/x?y#z",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"url": "https://api.payments.example./x", "verdict": "allow", "reason": "allowed_by_rule",
            "rule": "payments-api", "scheme": "https", "host": "api.payments.example", "port": 443})
    );
    let out = run(&["check", "--json", "--policy", policy.to_str().unwrap(), "not a url"], None);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["verdict"], "invalid");
    assert_eq!(v["host"], serde_json::Value::Null);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn check_reads_plain_lines_and_skips_blank_ones() {
    let policy = cases::testdata_dir().join("policies/sealed.toml");
    let out = run(
        &["check", "--now", "2026-06-01", "--policy", policy.to_str().unwrap()],
        Some("https://api.payments.example/\r\n\nhttps://evil.example/\n"),
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("allow   https://api.payments.example:443 allowed_by_rule rule=payments-api"),
        "{text}"
    );
    assert!(lines[1].starts_with("deny    https://evil.example:443 no_matching_rule"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn check_usage_and_policy_errors_exit_2() {
    let policy = cases::testdata_dir().join("policies/sealed.toml");
    let p = policy.to_str().unwrap();
    for args in [
        vec!["check", "--policy", p, "--resolve", "nonsense", "https://a.example/"],
        vec!["check", "--policy", p, "--resolve", "a.example=not-an-ip", "https://a.example/"],
        vec!["check", "--policy", p, "--mode", "wide-open", "https://a.example/"],
        vec!["check", "--policy", p, "--now", "yesterday", "https://a.example/"],
        vec!["check", "--policy", "/nonexistent/policy.toml", "https://a.example/"],
        vec!["check", "https://a.example/"],
        vec!["frobnicate"],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty());
    }
    let out = run(&["check", "--policy", p], Some("\"unterminated\n"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_with_an_invalid_policy_names_rule_field_and_fix() {
    let bad = cases::testdata_dir().join("invalid/non-canonical-idn.toml");
    let out = run(&["check", "--policy", bad.to_str().unwrap(), "https://a.example/"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rule `books` (allow[0]), field `hosts[0]`") && err.contains("write `xn--bcher-kva.example`"),
        "{err}"
    );
}

#[test]
fn validate_every_invalid_policy_exits_1_with_its_error() {
    for (path, expect) in cases::invalid_policies() {
        let out = run(&["validate", path.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(1), "{}", path.display());
        let text = stdout(&out);
        for want in expect {
            assert!(text.contains(&want), "{}:\nwant {want}\ngot {text}", path.display());
        }
    }
}

#[test]
fn validate_accepts_valid_policies() {
    let dir = cases::testdata_dir();
    let mut files: Vec<String> = std::fs::read_dir(dir.join("policies"))
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    files.push(dir.join("../examples/policy.toml").display().to_string());
    let mut args = vec!["validate", "--now", "2026-06-01"];
    args.extend(files.iter().map(String::as_str));
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out).lines().filter(|l| l.contains(": ok (")).count(), files.len());
}

#[test]
fn validate_strict_fails_on_findings_and_json_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broad.toml");
    std::fs::write(
        &path,
        "version = 1\n[[allow]]\nid = \"everything\"\ncidrs = [\"0.0.0.0/0\"]\nhosts = [\"*.com\"]\n\
         [[deny]]\nid = \"no-metadata\"\ncidrs = [\"169.254.169.254/32\", \"169.254.170.2/32\", \"100.100.100.200/32\", \"192.0.0.192/32\", \"168.63.129.16/32\"]\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    assert_eq!(
        run(&["validate", p], None).status.code(),
        Some(0),
        "warnings alone pass without --strict"
    );
    let out = run(&["validate", "--strict", "--json", p], None);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let codes: Vec<&str> = lines.iter().filter_map(|l| l["code"].as_str()).collect();
    assert!(
        codes.contains(&"broad-cidr") && codes.contains(&"wildcard-public-suffix") && codes.contains(&"missing-metadata"),
        "{codes:?}"
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["valid"], false);
    assert_eq!(summary["file"], p);

    let out = run(
        &[
            "validate",
            "--json",
            cases::testdata_dir().join("invalid/host-bits.toml").to_str().unwrap(),
        ],
        None,
    );
    let first: serde_json::Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["rule"], "lan");
    assert_eq!(first["field"], "cidrs[0]");
    assert_eq!(first["fix"], "did you mean `10.0.0.0/8`?");
    assert_eq!(first["line"], 5);
}

#[test]
fn validate_reports_expired_rules_with_a_fixed_clock() {
    let policy = cases::testdata_dir().join("policies/sealed.toml");
    let out = run(&["validate", "--now", "2026-06-01", policy.to_str().unwrap()], None);
    let text = stdout(&out);
    assert!(text.contains("warning[expired] rule `old-partner`"), "{text}");
    assert!(!text.contains("expires-soon"), "{text}");
    let out = run(&["validate", "--now", "2027-01-20", policy.to_str().unwrap()], None);
    assert!(stdout(&out).contains("warning[expires-soon] rule `payments-api`"));
}

/// At least one failing and one passing fixture per lint code
/// (`testdata/lint/<code>[.<variant>].{fail,pass}.toml`; a `# args:` line adds
/// flags), through the real binary with a fixed clock.
#[test]
fn every_lint_code_has_a_failing_and_a_passing_fixture() {
    let dir = cases::testdata_dir().join("lint");
    let mut fixtures: Vec<(String, String, bool)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let want = if name.ends_with(".fail.toml") {
                true
            } else if name.ends_with(".pass.toml") {
                false
            } else {
                return None;
            };
            let code = name.split('.').next()?.to_string();
            Some((code, name, want))
        })
        .collect();
    fixtures.sort();
    let codes: std::collections::BTreeSet<&str> = fixtures.iter().map(|(c, _, _)| c.as_str()).collect();
    let registry: std::collections::BTreeSet<&str> = LINTS.iter().map(|l| l.code).collect();
    assert_eq!(codes, registry, "fixtures and the lint registry name the same codes");
    for code in &codes {
        for want in [true, false] {
            assert!(
                fixtures.iter().any(|(c, _, w)| c == code && *w == want),
                "{code}: no {} fixture",
                if want { "failing" } else { "passing" }
            );
        }
    }
    for (code, name, want) in &fixtures {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let extra: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# args: "))
            .flat_map(|a| a.split_whitespace())
            .collect();
        let mut args = vec!["validate", "--json", "--strict", "--now", "2026-06-01"];
        args.extend(extra);
        args.push(path.to_str().unwrap());
        let out = run(&args, None);
        let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let found: Vec<&str> = lines.iter().filter_map(|l| l["code"].as_str()).collect();
        assert_eq!(found.contains(&code.as_str()), *want, "{name}: {found:?}");
        if *want {
            let f = lines.iter().find(|l| l["code"] == code.as_str()).unwrap();
            for key in ["severity", "file", "rule", "field", "message", "fix"] {
                assert!(f.get(key).is_some(), "{name}: no `{key}` in {f}");
            }
            let lint = LINTS.iter().find(|l| l.code == code).unwrap();
            let severity = match lint.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            assert_eq!(f["severity"], severity, "{name}");
            assert_eq!(out.status.code(), Some(1), "{name} must fail --strict");
        } else {
            assert!(found.is_empty(), "{name} has findings: {found:?}");
            assert_eq!(out.status.code(), Some(0), "{name} must pass --strict");
        }
    }
}

/// `check` reading standard input stops when its reader goes away, rather than
/// reading (and deciding) an input that never ends.
#[test]
fn check_from_stdin_stops_when_the_reader_goes_away() {
    let policy = cases::testdata_dir().join("policies/sealed.toml");
    let mut child = bin()
        .args(["check", "--policy", policy.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn egress-policy");
    drop(child.stdout.take());
    let mut input = child.stdin.take().expect("stdin");
    // Keep writing (never closing standard input) until the command exits and
    // the pipe breaks; 64 MiB is far beyond any pipe buffer.
    let line = b"https://denied.example/\n";
    let mut written = 0usize;
    while written < 64 << 20 && input.write_all(line).is_ok() {
        written += line.len();
    }
    assert!(written < 64 << 20, "check kept reading after its output was closed");
    drop(input);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(1));
}

/// The reference lists every code with its severity.
#[test]
fn every_code_is_documented() {
    let docs = std::fs::read_to_string(cases::testdata_dir().join("../crates/core/src/docs/cli.rs")).unwrap();
    for lint in LINTS {
        let severity = match lint.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let row = format!("//! | `{}` | {severity} |", lint.code);
        assert!(docs.contains(&row), "docs::cli has no row `{row}`");
    }
}

/// A reader that goes away (`| head -1`) ends the output quietly: no panic, no
/// "Broken pipe" on stderr, and the exit status of the verdicts.
#[test]
fn a_closed_pipe_ends_quietly() {
    let policy = cases::testdata_dir().join("policies/sealed.toml");
    let urls: Vec<String> = (0..20_000).map(|i| format!("https://n{i}.denied.example/")).collect();
    let mut args = vec!["check".to_string(), "--policy".into(), policy.display().to_string()];
    args.extend(urls);
    let mut child = bin()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn egress-policy");
    drop(child.stdout.take()); // the reader goes away at once
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "nothing on stderr");
    assert_eq!(out.status.code(), Some(1), "the URLs decided were denied");
}

/// `metadata-address` is an error: `validate` fails on it without `--strict`.
#[test]
fn metadata_findings_fail_validate_without_strict() {
    let dir = cases::testdata_dir().join("lint");
    for name in ["metadata-address.fail.toml", "metadata-address.resolves-to.fail.toml"] {
        let path = dir.join(name);
        let out = run(&["validate", "--now", "2026-06-01", path.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stdout(&out));
        assert!(stdout(&out).contains("error[metadata-address]"), "{}", stdout(&out));
    }
}

#[test]
fn error_findings_fail_without_strict_and_sarif_is_emitted() {
    let dir = cases::testdata_dir().join("lint");
    let env = dir.join("environment-not-sealed.fail.toml");
    let out = run(&["validate", env.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "an error finding fails without --strict");
    assert!(stdout(&out).contains("error[environment-not-sealed]"), "{}", stdout(&out));

    let bad = cases::testdata_dir().join("invalid/host-bits.toml");
    let warn = dir.join("any-port.fail.toml");
    let out = run(
        &[
            "validate",
            "--sarif",
            "--now",
            "2026-06-01",
            bad.to_str().unwrap(),
            warn.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let invalid = results.iter().find(|r| r["ruleId"] == "invalid-policy").unwrap();
    assert_eq!(invalid["level"], "error");
    assert_eq!(invalid["locations"][0]["physicalLocation"]["region"]["startLine"], 5);
    let any = results.iter().find(|r| r["ruleId"] == "any-port").unwrap();
    assert_eq!(any["level"], "warning");
}

#[test]
fn report_lists_rules_by_expiry_with_days_left() {
    let policy = cases::testdata_dir().join("policies/sealed.toml");
    let out = run(&["report", "--json", "--now", "2026-06-01", policy.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows[0]["rule"], "old-partner");
    assert_eq!(rows[0]["days_left"], -120); // 2026-02-01 to 2026-06-01
    assert_eq!(rows[1]["rule"], "payments-api");
    assert_eq!(rows[1]["days_left"], 245); // to 2027-02-01 (valid through 2027-01-31)
    assert_eq!(rows[1]["ticket"], "SEC-142");
    assert!(rows.last().unwrap()["expires"].is_null(), "never-expiring rules come last");
    let text = run(&["report", "--now", "2026-06-01", policy.to_str().unwrap()], None);
    assert!(
        stdout(&text).lines().nth(1).unwrap().starts_with("old-partner"),
        "{}",
        stdout(&text)
    );
}
