//! `suggest` and `diff` as real processes; observations come from the library's
//! `Recorder`, as a service would write them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use egress_policy_core::{Destination, Policy, Recorder, SharedPolicy};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_egress-policy")).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Observes `urls` (with optional resolved addresses) in observe mode and appends
/// them to `file` as one period.
fn observe(file: &Path, urls: &[(&str, &[&str])]) {
    let shared = SharedPolicy::new(Policy::from_toml_str("version = 1\nenforcement = \"observe\"\n").unwrap());
    let recorder = Arc::new(Recorder::new(10_000));
    shared.set_recorder(Some(recorder.clone()));
    for (url, resolved) in urls {
        let d = shared.decide_url(url, None);
        assert!(!d.blocks());
        if !resolved.is_empty() {
            let dest = Destination::parse_url(url).unwrap();
            shared.admit(&dest, &resolved.iter().map(|a| a.parse().unwrap()).collect::<Vec<_>>(), None);
        }
    }
    recorder.append_to(file).unwrap();
}

const DAY1: &[(&str, &[&str])] = &[
    ("https://api.payments.example/v1/charges", &["93.184.216.34"]),
    ("https://api.payments.example/v1/refunds", &[]),
    ("http://legacy.example:8080/status", &[]),
    ("https://db.internal.example:5432/", &["10.20.3.4"]),
    ("https://a.cdn.example/x.png", &[]),
    ("https://b.cdn.example/x.png", &[]),
    ("https://c.cdn.example/x.png", &[]),
    ("https://d.cdn.example/x.png", &[]),
    ("https://e.cdn.example/x.png", &[]),
    ("https://bucket-one.s3.amazonaws.com/", &[]),
    ("https://bucket-two.s3.amazonaws.com/", &[]),
    ("https://bucket-three.s3.amazonaws.com/", &[]),
    ("https://bucket-four.s3.amazonaws.com/", &[]),
    ("https://bucket-five.s3.amazonaws.com/", &[]),
    ("https://203.0.113.10/", &[]),
    ("tcp://db2.internal.example:5432", &[]),
];
const DAY2: &[(&str, &[&str])] = &[
    ("https://api.payments.example/v1/charges", &[]),
    ("https://new-partner.example/hook", &[]),
];

fn suggest_into(dir: &Path) -> (PathBuf, Output) {
    let (day1, day2, policy) = (dir.join("day1.jsonl"), dir.join("day2.jsonl"), dir.join("suggested.toml"));
    observe(&day1, DAY1);
    observe(&day2, DAY2);
    let out = run(&[
        "suggest",
        "-o",
        policy.to_str().unwrap(),
        day1.to_str().unwrap(),
        day2.to_str().unwrap(),
    ]);
    (policy, out)
}

#[test]
fn suggest_writes_a_policy_that_needs_review_then_allows_exactly_what_was_observed() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, out) = suggest_into(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("1 destination(s) new in the latest period") && stderr.contains("https://new-partner.example:443"),
        "{stderr}"
    );
    let suggested = std::fs::read_to_string(&policy).unwrap();
    assert!(suggested.contains("\"*.cdn.example\""), "{suggested}");
    assert!(
        !suggested.contains("*.s3.amazonaws.com") && suggested.contains("\"bucket-one.s3.amazonaws.com\""),
        "{suggested}"
    );
    assert!(suggested.contains("resolves_to = [\"10.20.3.4/32\"]"), "{suggested}");
    assert!(
        suggested.contains("hosts = [\"db2.internal.example\"]\nschemes = [\"tcp\"]\nports = [5432]"),
        "{suggested}"
    );

    // Loads, but fails until a person reviews it: plain `validate` on the rules
    // proposing special-purpose addresses (10.20.3.4, 203.0.113.10), --strict on
    // every placeholder.
    let p = policy.to_str().unwrap();
    let plain = run(&["validate", p]);
    assert_eq!(plain.status.code(), Some(1));
    let findings = text(&plain.stdout);
    assert_eq!(findings.matches("error[unreviewed-special-purpose]").count(), 2, "{findings}");
    assert!(suggested.contains("# WARNING: observed private answers"), "{suggested}");
    let strict = run(&["validate", "--strict", p]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(text(&strict.stdout).contains("warning[placeholder]") && text(&strict.stdout).contains("warning[missing-metadata]"));
    let reviewed = suggested
        .replace("owner = \"FILL-IN\"", "owner = \"team@example.com\"")
        .replace("reason = \"FILL-IN:", "reason = \"reviewed:")
        .replace("# expires = \"YYYY-MM-DD\"", "expires = \"2026-12-01\"\n#");
    std::fs::write(&policy, reviewed).unwrap();
    let strict = run(&["validate", "--strict", "--now", "2026-06-01", p]);
    assert_eq!(strict.status.code(), Some(0), "{}", text(&strict.stdout));

    // Enforced: every observed destination is allowed (resolved addresses too)...
    let mut args = vec!["check", "--json", "--now", "2026-06-01", "--policy", p];
    args.extend([
        "--resolve",
        "api.payments.example=93.184.216.34",
        "--resolve",
        "db.internal.example=10.20.3.4",
    ]);
    let observed: Vec<&str> = DAY1.iter().chain(DAY2).map(|(u, _)| *u).collect();
    args.extend(observed.iter().copied());
    let out = run(&args);
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for l in &lines {
        assert_eq!(l["verdict"], "allow", "{l}");
    }
    assert_eq!(out.status.code(), Some(0));
    // ...and unobserved ones are not.
    for url in [
        "https://payments.example/",
        "http://api.payments.example/",
        "https://legacy.example/",
        "http://legacy.example:8081/",
        "https://cdn.example/",
        "https://bucket-six.s3.amazonaws.com/",
        "https://203.0.113.11/",
        "https://evil.example/",
        "tcp://db2.internal.example:5433",
    ] {
        let out = run(&["check", "--json", "--now", "2026-06-01", "--policy", p, url]);
        let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
        assert_eq!(v["verdict"], "deny", "{url}: {v}");
    }
    let out = run(&[
        "check",
        "--json",
        "--now",
        "2026-06-01",
        "--policy",
        p,
        "--resolve",
        "db.internal.example=10.20.3.5",
        "https://db.internal.example:5432/",
    ]);
    assert!(text(&out.stdout).contains("resolved_to_forbidden_address"), "{}", text(&out.stdout));
}

#[test]
fn suggest_reports_fan_out_blocked_and_stable_periods() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<String> = (0..40).map(|i| format!("https://198.51.100.{i}:6881/")).collect();
    let many_refs: Vec<(&str, &[&str])> = many.iter().map(|u| (u.as_str(), &[] as &[&str])).collect();
    let obs = dir.path().join("p2p.jsonl");
    observe(&obs, &many_refs);
    // An enforced denial observed in a sealed, enforcing service.
    let shared = SharedPolicy::new(Policy::from_toml_str("version = 1\n").unwrap());
    let recorder = Arc::new(Recorder::default());
    shared.set_recorder(Some(recorder.clone()));
    shared.decide_url("https://exfil.example/", None);
    recorder.append_to(&obs).unwrap();
    let again = dir.path().join("p2p-day2.jsonl");
    std::fs::copy(&obs, &again).unwrap();

    let out = run(&["suggest", obs.to_str().unwrap(), again.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stderr.contains("not allow-listed: 40 distinct IP-literal destinations"), "{stderr}");
    assert!(
        stderr.contains("blocked now: https://exfil.example:443 (no_matching_rule)"),
        "{stderr}"
    );
    assert!(stderr.contains("no new destinations in the latest period"), "{stderr}");
    assert!(!stdout.contains("198.51.100."), "fan-out IPs were listed:\n{stdout}");
    assert!(!stdout.contains("[[allow]]\nid = \"exfil"), "{stdout}");
    assert!(stdout.contains("#   https://exfil.example:443"), "{stdout}");
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

#[test]
fn diff_classifies_changes_and_fails_on_widening() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = "version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example\"]\nowner = \"a\"\n[[allow]]\nid = \"db\"\ncidrs = [\"10.0.0.0/24\"]\nschemes = [\"tcp\"]\nports = [5432]\n[[deny]]\nid = \"meta\"\ncidrs = [\"169.254.169.254/32\"]\n";
    let old = write(d, "old.toml", base);

    // Reordered, reformatted, as JSON: no change.
    let reordered = write(
        d,
        "reordered.json",
        r#"{"version": 1, "deny": [{"id": "meta", "cidrs": ["169.254.169.254/32"]}],
            "allow": [{"id": "db", "cidrs": ["10.0.0.0/24"], "ports": [5432], "schemes": ["tcp"]}, {"id": "api", "owner": "a", "hosts": ["api.example"]}]}"#,
    );
    let out = run(&["diff", &old, &reordered]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).starts_with("0 widening, 0 narrowing, 0 metadata"),
        "{}",
        text(&out.stdout)
    );

    // Metadata only.
    let meta = write(d, "meta.toml", &base.replace("owner = \"a\"", "owner = \"b\"\nticket = \"SEC-9\""));
    let out = run(&["diff", "--json", &old, &meta]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["widening"], false);
    assert!(v["changes"].as_array().unwrap().iter().all(|c| c["direction"] == "metadata"), "{v}");

    // Widening: a host, a port range, a removed deny rule, open mode.
    let wide = base
        .replace("hosts = [\"api.example\"]", "hosts = [\"api.example\", \"*.partner.example\"]")
        .replace("ports = [5432]", "ports = [\"5432-5440\"]")
        .replace("[[deny]]\nid = \"meta\"\ncidrs = [\"169.254.169.254/32\"]\n", "")
        .replace("version = 1\n", "version = 1\nmode = \"open\"\n");
    let wide = write(d, "wide.toml", &wide);
    let out = run(&["diff", &old, &wide]);
    assert_eq!(out.status.code(), Some(1));
    let s = text(&out.stdout);
    for want in [
        "widening   policy mode: sealed -> open",
        "widening   allow rule `api` hosts: + *.partner.example",
        "widening   allow rule `db` schemes/ports: + tcp:5433-5440",
        "widening   deny rule `meta` rule: removed: 169.254.169.254/32",
        "this change WIDENS access",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }

    // Narrowing and a rename.
    let narrow = base.replace("id = \"db\"", "id = \"orders-db\"").replace(
        "hosts = [\"api.example\"]\nowner = \"a\"\n",
        "hosts = [\"api.example\"]\nowner = \"a\"\nexpires = \"2027-01-01\"\n",
    );
    let narrow = write(d, "narrow.toml", &narrow);
    let out = run(&["diff", &old, &narrow]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let s = text(&out.stdout);
    assert!(s.contains("metadata   allow rule `orders-db` id: renamed from `db`"), "{s}");
    assert!(
        s.contains("narrowing  allow rule `api` expires: never -> 2027-01-02T00:00:00Z"),
        "{s}"
    );

    assert_eq!(run(&["diff", &old, "/nonexistent.toml"]).status.code(), Some(2));
}

/// Observed under `observe`: what a deny rule refused, and metadata answers,
/// must never come back as allow rules; the policy's deny rules are carried
/// over; generated one-off names are not widened into a wildcard.
#[test]
fn suggest_never_proposes_what_a_deny_rule_or_the_floor_refused() {
    let dir = tempfile::tempdir().unwrap();
    let policy_path = dir.path().join("in-force.toml");
    std::fs::write(
        &policy_path,
        "version = 1\nmode = \"open\"\nenforcement = \"observe\"\n\
         [[deny]]\nid = \"no-paste\"\nhosts = [\"paste.example\", \"paste.files.example\"]\n\
         [[deny]]\nid = \"no-private\"\ncidrs = [\"10.0.0.0/8\"]\n",
    )
    .unwrap();
    let shared = SharedPolicy::new(Policy::from_path(&policy_path).unwrap());
    let recorder = Arc::new(Recorder::new(10_000));
    shared.set_recorder(Some(recorder.clone()));
    let mut urls: Vec<(String, Vec<&str>)> = vec![
        ("https://paste.example/upload".into(), vec![]),
        ("https://api.partner.example/".into(), vec!["93.184.216.34"]),
        ("https://innocent.example/".into(), vec!["169.254.169.254"]),
        ("https://internal.example/".into(), vec!["10.1.2.3"]),
        ("http://169.254.169.254/latest/meta-data".into(), vec![]),
    ];
    for i in 0..6 {
        urls.push((format!("https://x{i}q7k2m9z4w.exfil.example/"), vec![]));
    }
    // Five names under one domain would become `*.files.example`, but a deny
    // rule refused one more name under it.
    for n in ["a", "b", "c", "d", "e", "paste"] {
        urls.push((format!("https://{n}.files.example/"), vec![]));
    }
    for (url, resolved) in &urls {
        let d = shared.decide_url(url, None);
        assert!(!d.blocks(), "observe mode");
        if !resolved.is_empty() {
            let dest = Destination::parse_url(url).unwrap();
            shared.admit(&dest, &resolved.iter().map(|a| a.parse().unwrap()).collect::<Vec<_>>(), None);
        }
    }
    let obs = dir.path().join("observed.jsonl");
    recorder.append_to(&obs).unwrap();
    let out_path = dir.path().join("suggested.toml");
    let out = run(&[
        "suggest",
        "--policy",
        policy_path.to_str().unwrap(),
        "-o",
        out_path.to_str().unwrap(),
        obs.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let suggested = std::fs::read_to_string(&out_path).unwrap();
    for line in [
        "refused: https://paste.example:443: denied by deny rule `no-paste`",
        "169.254.169.254, a cloud metadata address",
        "http://169.254.169.254:80: a cloud metadata address",
        "10.1.2.3, denied by deny rule `no-private`",
        "generated-looking labels",
    ] {
        assert!(stderr.contains(line), "no warning `{line}` in:\n{stderr}");
    }
    // Nothing refused is in an allow rule (as a host, a CIDR or a resolves_to).
    let table: toml::Table = suggested.parse().unwrap();
    let allow = table["allow"].to_string();
    for absent in ["\"paste.example\"", "169.254", "10.1.2.3", "*.exfil.example"] {
        assert!(!allow.contains(absent), "{absent} proposed:\n{suggested}");
    }
    assert!(allow.contains("\"api.partner.example\""), "{suggested}");
    assert!(
        !allow.contains("*.files.example") && allow.contains("\"a.files.example\""),
        "{suggested}"
    );
    assert!(stderr.contains("would also cover paste.files.example"), "{stderr}");
    assert_eq!(table["deny"].as_array().map(Vec::len), Some(2), "{suggested}");
    // The deny rules are carried over and still deny.
    let p = out_path.to_str().unwrap();
    for (url, want) in [
        ("https://paste.example/", "denied_by_rule"),
        ("https://x0q7k2m9z4w.exfil.example/", "allowed_by_rule"),
        ("https://x9q7k2m9z4w.exfil.example/", "no_matching_rule"),
    ] {
        let out = run(&["check", "--json", "--now", "2026-06-01", "--policy", p, url]);
        let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
        assert_eq!(v["reason"], want, "{url}: {v}");
    }
}

/// `suggest | head -1`: the policy's reader going away is not a crash.
#[test]
fn suggest_to_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("observed.jsonl");
    observe(&obs, &[("https://api.example.com/", &[]), ("https://b.example.net/", &[])]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_egress-policy"))
        .args(["suggest", obs.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
