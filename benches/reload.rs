//! Hot reload costs: time from a file write (a rename over the policy file) to
//! the applied swap, with the watcher's defaults (200 ms debounce, then the
//! 1 s quiet period that keeps torn files out) and with the quiet period off
//! (for deployments whose writers only rename), and decision throughput with
//! and without a reload (load + compile + swap) every 10 ms.
//!
//! ```text
//! cargo bench --features watch --bench reload
//! ```
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use egress_policy::watch::{Outcome, Watcher};
use egress_policy::{Destination, Policy};

fn policy_text(n: usize, tag: &str) -> String {
    let mut s = String::from("version = 1\nmode = \"sealed\"\n");
    for i in 0..n {
        s.push_str(&format!(
            "[[allow]]\nid = \"r{i}\"\nhosts = [\"svc{i}.{tag}.example\", \"*.cdn{i}.{tag}.example\"]\n"
        ));
    }
    s.push_str("[[allow]]\nid = \"api\"\nhosts = [\"api.example.com\"]\n");
    s
}

fn write_to_swap(c: &mut Criterion) {
    let mut group = c.benchmark_group("reload");
    group.sample_size(10);
    for (name, quiet) in [
        ("rename_to_applied/defaults", None),
        ("rename_to_applied/quiet_period_zero", Some(Duration::ZERO)),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("policy.toml");
        let texts = [policy_text(100, "a"), policy_text(100, "b")];
        std::fs::write(&path, &texts[0]).expect("write");
        let mut builder = Watcher::builder(&path).poll_interval(None);
        if let Some(quiet) = quiet {
            builder = builder.quiet_period(quiet);
        }
        let watcher = builder.start().expect("watch");
        let updates = watcher.subscribe();
        let digests: Vec<_> = texts.iter().map(|t| Policy::from_toml_str(t).expect("policy").digest()).collect();
        // Criterion calls the closure once per phase: the turn counter must outlive it,
        // or a phase would start by rewriting the policy already in force.
        let mut turn = 0;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    turn += 1;
                    let i = turn % 2;
                    let tmp = path.with_extension("tmp");
                    std::fs::write(&tmp, &texts[i]).expect("write");
                    let start = Instant::now();
                    std::fs::rename(&tmp, &path).expect("rename");
                    loop {
                        let e = updates.recv_timeout(Duration::from_secs(10)).expect("reload");
                        if matches!(e.outcome, Outcome::Applied(s) if s.current.digest == digests[i]) {
                            break;
                        }
                    }
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

fn throughput_under_reload(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = [dir.path().join("a.toml"), dir.path().join("b.toml")];
    std::fs::write(&paths[0], policy_text(1000, "a")).expect("write");
    std::fs::write(&paths[1], policy_text(1000, "b")).expect("write");
    let shared = egress_policy::SharedPolicy::new(Policy::from_path(&paths[0]).expect("policy"));
    let dest = Destination::parse_url("https://api.example.com/").expect("dest");

    let mut group = c.benchmark_group("decide_shared");
    group.throughput(Throughput::Elements(1));
    group.bench_function("no_reload", |b| b.iter(|| black_box(shared.decide(black_box(&dest), None))));

    let stop = Arc::new(AtomicBool::new(false));
    let reloader = {
        let (shared, stop, paths) = (shared.clone(), stop.clone(), paths.clone());
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let p = Policy::from_path(&paths[n % 2]).expect("policy");
                shared.store(p);
                n += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            n
        })
    };
    group.bench_function("reload_every_10ms", |b| b.iter(|| black_box(shared.decide(black_box(&dest), None))));
    stop.store(true, Ordering::Relaxed);
    let reloads = reloader.join().expect("reloader");
    eprintln!("reloads during the run: {reloads}");
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4));
    targets = write_to_swap, throughput_under_reload
}
criterion_main!(benches);
