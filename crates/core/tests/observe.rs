//! The observation recorder under concurrent load: exact counts, bounded memory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the test failing

use std::sync::Arc;

use egress_policy_core::{Destination, Policy, Recorder, SharedPolicy};

fn observe_policy() -> SharedPolicy {
    SharedPolicy::new(
        Policy::from_toml_str("version = 1\nenforcement = \"observe\"\n[[allow]]\nid = \"api\"\nhosts = [\"api.example\"]\n").unwrap(),
    )
}

#[test]
fn concurrent_recording_keeps_exact_counts() {
    let shared = observe_policy();
    let recorder = Arc::new(Recorder::new(1000));
    shared.set_recorder(Some(recorder.clone()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for i in 0..5000 {
                    shared.decide_url(&format!("https://host{}.example/", i % 50), None);
                    shared.decide_url("https://api.example/", if t % 2 == 0 { Some("billing") } else { None });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let lines: Vec<serde_json::Value> = recorder
        .drain_json_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 52, "50 hosts, and api.example for two clients");
    let total: u64 = lines.iter().map(|l| l["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 4 * 5000 * 2);
    let api: Vec<_> = lines.iter().filter(|l| l["host"] == "api.example").collect();
    assert_eq!(
        api.iter().map(|l| l["count"].as_u64().unwrap()).collect::<Vec<_>>(),
        [10_000, 10_000]
    );
    assert!(api.iter().all(|l| l["verdict"] == "allow" && l["rule"] == "api"));
    let other = lines.iter().find(|l| l["host"] == "host7.example").unwrap();
    assert_eq!(
        (other["count"].as_u64(), other["verdict"].as_str(), other["enforced"].as_bool()),
        (Some(400), Some("deny"), Some(false))
    );
    assert!(recorder.is_empty(), "drain starts a new period");
}

#[test]
fn a_flood_of_unique_names_stays_within_the_cap() {
    let shared = observe_policy();
    let recorder = Arc::new(Recorder::new(100));
    shared.set_recorder(Some(recorder.clone()));
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    shared.decide_url(&format!("https://n{t}-{i}.flood.example/"), None);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(recorder.len(), 100);
    assert_eq!(recorder.overflow(), 20_000 - 100);
    let lines = recorder.drain_json_lines();
    assert_eq!(lines.len(), 101);
    assert!(lines.last().unwrap().contains(&format!("\"overflow\":{}", 20_000 - 100)));
}

#[test]
fn resolved_addresses_are_recorded_per_name_and_flushed_to_a_file() {
    let shared = observe_policy();
    let recorder = Arc::new(Recorder::default());
    shared.set_recorder(Some(recorder.clone()));
    let dest = Destination::parse_url("https://api.example/").unwrap();
    shared.admit(&dest, &["10.0.0.1".parse().unwrap(), "93.184.216.34".parse().unwrap()], None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("obs.jsonl");
    {
        let _flusher = recorder.spawn_flusher(&path, std::time::Duration::from_secs(3600)).unwrap();
    } // dropping flushes
    shared.decide_url("https://api.example/", None);
    recorder.append_to(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["resolved"], serde_json::json!(["10.0.0.1", "93.184.216.34"]));
    assert_eq!(lines[1]["count"], 1);
}

/// The one seam integrations use: a decision made before a policy swap is
/// decided again under the new policy (`current`, before a lookup) and admitted
/// under it (`admit_decided`, after); admission that turns an allow into
/// `resolved_to_forbidden_address` is recorded, with the answer.
#[test]
fn integrations_admit_through_the_shared_handle_across_swaps() {
    use egress_policy_core::Reason;
    let allow =
        |extra: &str| Policy::from_toml_str(&format!("version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example\"]\n{extra}")).unwrap();
    let shared = SharedPolicy::new(allow(""));
    let recorder = Arc::new(Recorder::new(100));
    shared.set_recorder(Some(recorder.clone()));
    let dest = Destination::parse_url("https://api.example/").unwrap();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();

    // Same generation: admitted under the decision itself; a private answer is refused.
    let decision = shared.decide(&dest, Some("billing"));
    assert!(shared.current(decision.clone(), Some("billing")).policy().generation == 1);
    let a = shared.admit_decided(decision.clone(), &[ip("10.0.0.1")], Some("billing"));
    assert_eq!(a.decision().reason(), Reason::ResolvedToForbiddenAddress);

    // Swapped: the old decision is decided again (now denied) before any lookup...
    shared.store(Policy::from_toml_str("version = 1\n").unwrap());
    let again = shared.current(decision.clone(), Some("billing"));
    assert_eq!((again.policy().generation, again.reason()), (2, Reason::NoMatchingRule));
    // ...and admitted under the new policy if a lookup raced the swap.
    let a = shared.admit_decided(decision, &[ip("93.184.216.34")], Some("billing"));
    assert_eq!(
        (a.decision().policy().generation, a.decision().reason()),
        (2, Reason::NoMatchingRule)
    );
    assert!(a.admitted().is_empty());

    let lines: Vec<serde_json::Value> = recorder
        .drain_json_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let api = lines
        .iter()
        .find(|l| l["host"] == "api.example" && l["client"] == "billing")
        .unwrap();
    assert_eq!(api["reason"], "no_matching_rule", "the last decision recorded: {api}");
    // The answer is recorded when admission examined it; an answer for a name the
    // policy denies outright is not.
    assert_eq!(api["resolved"], serde_json::json!(["10.0.0.1"]), "{api}");
    assert!(api["count"].as_u64().unwrap() >= 3, "{api}");
}

/// Two handles both start at generation 1: a decision made by one is decided
/// again by the other (the digest differs), not taken as current.
#[test]
fn a_decision_from_another_handle_is_decided_again() {
    use egress_policy_core::Reason;
    let allows = SharedPolicy::new(Policy::from_toml_str("version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example\"]\n").unwrap());
    let denies = SharedPolicy::new(Policy::from_toml_str("version = 1\n").unwrap());
    let dest = Destination::parse_url("https://api.example/").unwrap();
    let decision = allows.decide(&dest, None);
    assert!(decision.is_allow());
    assert_eq!(denies.current(decision.clone(), None).reason(), Reason::NoMatchingRule);
    let a = denies.admit_decided(decision, &["93.184.216.34".parse().unwrap()], None);
    assert_eq!(a.decision().reason(), Reason::NoMatchingRule);
    assert!(a.admitted().is_empty());
}

/// A clock the test moves.
#[derive(Debug)]
struct Hands(std::sync::Mutex<std::time::SystemTime>);

impl egress_policy_core::Clock for Hands {
    fn now(&self) -> std::time::SystemTime {
        *self.0.lock().unwrap()
    }
}

/// `current` also decides again when the rule that allowed the decision has
/// expired since it was made (the same policy, no swap): a request that
/// waited past its rule's expiry (on a lookup, a retry) does not connect
/// under it. Before the expiry the decision comes back as it was.
#[test]
fn current_decides_again_once_the_deciding_rule_has_expired() {
    use egress_policy_core::{FixedClock, Reason};
    let at = |s: &str| FixedClock::parse(s).unwrap().0;
    let clock = Arc::new(Hands(std::sync::Mutex::new(at("2027-01-31T23:59:59Z"))));
    let shared = SharedPolicy::with_clock(
        Policy::from_toml_str("version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example\"]\nexpires = \"2027-01-31\"\n").unwrap(),
        clock.clone(),
    );
    let dest = Destination::parse_url("https://api.example/").unwrap();
    let decision = shared.decide(&dest, None);
    assert_eq!(decision.reason(), Reason::AllowedByRule);
    let same = shared.current(decision.clone(), None);
    assert_eq!(
        (same.reason(), same.is_allow()),
        (Reason::AllowedByRule, true),
        "not expired yet: unchanged"
    );
    // A date expires at the end of that day (UTC).
    *clock.0.lock().unwrap() = at("2027-02-01T00:00:00Z");
    let again = shared.current(decision, None);
    assert_eq!((again.reason(), again.policy().generation), (Reason::RuleExpired, 1));
    assert!(again.blocks());
}
