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
