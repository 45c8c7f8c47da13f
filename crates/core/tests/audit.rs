//! Audit events: one per decision, the fields of `egress_policy_core::docs::audit`, never a secret.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the test failing

use std::io::Write;
use std::sync::{Arc, Mutex};

use egress_policy_core::{Destination, Policy, SharedPolicy};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// tracing caches each callsite's interest globally, across the thread-local
/// subscribers of tests running in parallel: a test that decides with no
/// subscriber, at the moment another test's capturing subscriber is being set
/// up, can leave a callsite cached as "never" for it. Every test in this file
/// that decides holds this lock, so none runs beside a capture.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn capture(level: &str, f: impl FnOnce()) -> Vec<String> {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let out = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(level)
        .with_writer(out.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    text.lines().map(str::to_string).collect()
}

fn shared() -> SharedPolicy {
    SharedPolicy::new(
        Policy::from_toml_str(
            r#"version = 1
[[allow]]
id = "api"
hosts = ["api.example"]
owner = "team@example.com"
ticket = "SEC-1"
"#,
        )
        .unwrap(),
    )
}

#[test]
fn one_event_per_decision_with_fields_and_no_secrets() {
    let shared = shared();
    let digest = shared.load().digest().to_string();
    let lines = capture("egress_policy=debug", || {
        shared.decide_url("https://user:hunter2@api.example/pay/secret-path?token=abc123#frag", None);
        shared.decide_url("https://user:hunter2@evil.example/secret-path?token=abc123#frag", None);
        shared.decide_url("https://evil.example:99999/secret-path", None);
    });
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for line in &lines {
        for secret in ["hunter2", "user:", "secret-path", "token", "abc123", "frag"] {
            assert!(!line.contains(secret), "event leaks `{secret}`: {line}");
        }
        assert!(line.contains("egress_policy::decision"), "{line}");
        assert!(line.contains(&format!("digest={digest}")), "{line}");
        assert!(line.contains("generation=1"), "{line}");
    }
    assert!(lines[0].contains("DEBUG"), "{}", lines[0]);
    for field in [
        "verdict=\"allow\"",
        "enforced=true",
        "reason=\"allowed_by_rule\"",
        "rule=\"api\"",
        "mode=\"sealed\"",
        "scheme=\"https\"",
        "host=\"api.example\"",
        "port=443",
        "ticket=\"SEC-1\"",
    ] {
        assert!(lines[0].contains(field), "missing {field}: {}", lines[0]);
    }
    assert!(
        lines[1].contains("WARN") && lines[1].contains("reason=\"no_matching_rule\""),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("WARN") && lines[2].contains("reason=\"invalid\""), "{}", lines[2]);
}

#[test]
fn allows_are_silent_at_warn_level_denies_are_not() {
    let shared = shared();
    let lines = capture("egress_policy=warn", || {
        shared.decide_url("https://api.example/", None);
        shared.decide_url("https://other.example/", None);
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("other.example"));
}

#[test]
fn dropped_addresses_are_logged_with_the_rebinding_denial() {
    let shared = shared();
    let dest = Destination::parse_url("https://api.example/").unwrap();
    let lines = capture("egress_policy=debug", || {
        let a = shared.admit(&dest, &["127.0.0.1".parse().unwrap()], None);
        assert!(a.admitted().is_empty());
    });
    // The allow, the resolved-to-forbidden deny, and the dropped-address event.
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[1].contains("reason=\"resolved_to_forbidden_address\""), "{}", lines[1]);
    assert!(lines[2].contains("127.0.0.1 (loopback (127.0.0.0/8))"), "{}", lines[2]);
}

#[test]
fn display_and_debug_of_decisions_hold_no_secrets() {
    // Decides without a capturing subscriber: that registers the decision
    // callsites too, so it must not run beside a capture (see `SERIAL`).
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let shared = shared();
    let d = shared.decide_url("https://user:hunter2@evil.example/secret?token=abc#frag", None);
    for text in [d.to_string(), format!("{d:?}")] {
        for secret in ["hunter2", "secret", "token", "abc", "frag"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    assert_eq!(
        d.to_string(),
        "egress denied: no_matching_rule for https://evil.example:443 [mode sealed, policy generation 1]"
    );
}
