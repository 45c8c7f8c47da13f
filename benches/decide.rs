//! Core decision costs: decision cost by policy size (10 … 100 000
//! rules: ~60% exact names, ~30% wildcards, ~10% CIDRs, generated
//! deterministically) for hits on each kind and misses; URL string to decision;
//! load + compile time for 100 000 rules (resident memory printed). Thread
//! scaling is `benches/scaling.rs`.
//!
//! ```text
//! cargo bench --bench decide
//! ```
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use egress_policy::{Context, Destination, Policy};

mod common;
use common::policy_text;

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn by_size(c: &mut Criterion) {
    let now = SystemTime::now();
    let cx = Context::at(now);
    let mut group = c.benchmark_group("decide");
    group.throughput(Throughput::Elements(1));
    for n in [10usize, 1_000, 10_000, 100_000] {
        let policy = Policy::from_toml_str(&policy_text(n)).expect("policy");
        // Hits on the last rule of each kind (the index must not care), and misses.
        let last = |kind: usize| {
            (0..n).rev().find(|i| match kind {
                0 => i % 10 <= 5,
                1 => (6..=8).contains(&(i % 10)),
                _ => i % 10 == 9,
            })
        };
        let mut cases: Vec<(&str, String)> = Vec::new();
        if let Some(i) = last(0) {
            cases.push(("hit_exact", format!("https://svc{i}.team{}.example.com/", i % 97)));
        }
        if let Some(i) = last(1) {
            cases.push(("hit_wildcard", format!("https://a.b.cdn{i}.example.net/")));
        }
        if let Some(i) = last(2) {
            cases.push(("hit_cidr", format!("https://10.{}.{}.7/", (i / 256) % 256, i % 256)));
        }
        cases.push(("miss_name", "https://www.unknown.example.org/".into()));
        cases.push(("miss_ip", "https://192.0.2.7/".into()));
        for (label, url) in cases {
            let dest = Destination::parse_url(&url).expect("dest");
            assert!(
                policy.decide_with(&dest, &cx).is_allow() == label.starts_with("hit"),
                "{label} {url}"
            );
            group.bench_with_input(BenchmarkId::new(label, n), &dest, |b, dest| {
                b.iter(|| black_box(policy.decide_with(black_box(dest), &cx)))
            });
        }
    }
    group.finish();
}

fn url_to_decision(c: &mut Criterion) {
    let policy = Policy::from_toml_str(&policy_text(10_000)).expect("policy");
    let cx = Context::at(SystemTime::now());
    let mut group = c.benchmark_group("url_to_decision");
    group.throughput(Throughput::Elements(1));
    for (label, url) in [
        ("hit", "https://svc9994.team5.example.com/v1/charges?id=42"),
        ("miss", "https://user:pw@www.unknown.example.org:8443/a/b?c=d#e"),
        ("ip_literal", "http://0x7f.1:8080/"),
    ] {
        group.bench_function(label, |b| b.iter(|| black_box(policy.decide_url_with(black_box(url), &cx))));
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    let text = policy_text(100_000);
    let before = resident_kib();
    let policy = Policy::from_toml_str(&text).expect("policy");
    let after = resident_kib();
    if let (Some(b), Some(a)) = (before, after) {
        eprintln!(
            "resident memory of a compiled 100 000-rule policy: {:.1} MiB (VmRSS delta)",
            (a.saturating_sub(b)) as f64 / 1024.0
        );
    }
    drop(policy);
    let mut group = c.benchmark_group("load");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("toml_100000_rules", |b| {
        b.iter(|| black_box(Policy::from_toml_str(black_box(&text)).expect("policy")))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = by_size, url_to_decision, load
}
criterion_main!(benches);
