//! Dropping a watcher stops its threads. Alone in its own test binary, so no
//! other test's threads are counted.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::time::{Duration, Instant};

use egress_policy_watch::Watcher;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn dropping_the_watcher_stops_its_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, "version = 1\n").unwrap();
    let before = threads();
    for _ in 0..5 {
        let w = Watcher::builder(&path)
            .poll_interval(Some(Duration::from_millis(50)))
            .start()
            .unwrap();
        assert!(threads() > before, "the watcher runs threads");
        drop(w);
    }
    let start = Instant::now();
    while threads() > before {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "leaked threads: {} before, {} now",
            before,
            threads()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
