//! The watcher against real files in temporary directories.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use egress_policy_core::Policy;
use egress_policy_watch::{Outcome, ReloadEvent, Trigger, WatchError, Watcher};

const A: &str = "version = 1\nmode = \"sealed\"\n[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\n";
const B: &str = "version = 1\nmode = \"open\"\n[[deny]]\nid = \"no-a\"\nhosts = [\"a.example\"]\n";
const C: &str = "version = 1\nmode = \"sealed\"\n[[allow]]\nid = \"c\"\nhosts = [\"c.example\"]\n";

/// Generous: CI machines are small and busy.
const BOUND: Duration = Duration::from_secs(5);

fn setup(initial: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, initial).unwrap();
    (dir, path)
}

fn digest(src: &str) -> String {
    Policy::from_toml_str(src).unwrap().digest().to_string()
}

/// Waits for a reload event matching `want`; returns it and the time it took.
fn wait_for(rx: &Receiver<ReloadEvent>, want: impl Fn(&ReloadEvent) -> bool) -> (ReloadEvent, Duration) {
    let start = Instant::now();
    loop {
        let left = BOUND
            .checked_sub(start.elapsed())
            .unwrap_or_else(|| panic!("no matching reload within {BOUND:?}"));
        let event = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no matching reload within {BOUND:?}"));
        if want(&event) {
            return (event, start.elapsed());
        }
    }
}

fn applied_digest(want: String) -> impl Fn(&ReloadEvent) -> bool {
    move |e| matches!(&e.outcome, Outcome::Applied(swap) if swap.current.digest.to_string() == want)
}

fn rejected(e: &ReloadEvent) -> bool {
    matches!(e.outcome, Outcome::Rejected { .. })
}

fn watch(path: &Path) -> Watcher {
    Watcher::builder(path)
        .debounce(Duration::from_millis(50))
        .quiet_period(Duration::from_millis(300))
        .poll_interval(None)
        .start()
        .unwrap()
}

#[test]
fn in_place_writes_are_applied() {
    let (_dir, path) = setup(A);
    let w = watch(&path);
    let rx = w.subscribe();
    assert!(w.policy().decide_url("https://a.example/", None).is_allow());
    std::fs::write(&path, B).unwrap();
    let (event, took) = wait_for(&rx, applied_digest(digest(B)));
    assert_eq!(event.trigger, Trigger::FileEvent);
    let Outcome::Applied(swap) = event.outcome else { unreachable!() };
    assert_eq!((swap.previous.generation, swap.current.generation), (1, 2));
    assert!(w.policy().decide_url("https://a.example/", None).blocks());
    assert!(w.policy().decide_url("https://other.example/", None).is_allow());
    eprintln!("in-place write applied after {took:?}");
}

#[test]
fn rename_over_the_file_is_applied() {
    let (dir, path) = setup(A);
    let w = watch(&path);
    let rx = w.subscribe();
    let tmp = dir.path().join(".policy.toml.swp");
    std::fs::write(&tmp, B).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let (_, took) = wait_for(&rx, applied_digest(digest(B)));
    eprintln!("rename applied after {took:?}");
}

#[test]
fn delete_then_recreate_keeps_the_last_good_policy_in_between() {
    let (_dir, path) = setup(A);
    let w = watch(&path);
    let rx = w.subscribe();
    std::fs::remove_file(&path).unwrap();
    let (event, _) = wait_for(&rx, rejected);
    let Outcome::Rejected { current, error } = event.outcome else {
        unreachable!()
    };
    assert_eq!(current.generation, 1);
    assert!(error.to_string().contains("cannot read policy file"), "{error}");
    assert!(
        w.policy().decide_url("https://a.example/", None).is_allow(),
        "the last good policy must stay"
    );
    std::fs::write(&path, C).unwrap();
    wait_for(&rx, applied_digest(digest(C)));
    assert!(w.policy().decide_url("https://c.example/", None).is_allow());
}

/// The Kubernetes ConfigMap volume layout: `policy.toml -> ..data/policy.toml`,
/// `..data -> ..<timestamp>`, updated by writing a new timestamped directory,
/// pointing `..data_tmp` at it and renaming `..data_tmp` over `..data`.
#[test]
fn configmap_style_symlink_swaps_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let v1 = root.join("..2026_11_25_01_00_00.000000001");
    std::fs::create_dir(&v1).unwrap();
    std::fs::write(v1.join("policy.toml"), A).unwrap();
    std::os::unix::fs::symlink("..2026_11_25_01_00_00.000000001", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/policy.toml", root.join("policy.toml")).unwrap();

    let w = watch(&root.join("policy.toml"));
    let rx = w.subscribe();
    assert!(w.policy().decide_url("https://a.example/", None).is_allow());

    for (n, content) in [(2, C), (3, B)] {
        let next = format!("..2026_11_25_01_00_00.00000000{n}");
        std::fs::create_dir(root.join(&next)).unwrap();
        std::fs::write(root.join(&next).join("policy.toml"), content).unwrap();
        std::os::unix::fs::symlink(&next, root.join("..data_tmp")).unwrap();
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
        let (_, took) = wait_for(&rx, applied_digest(digest(content)));
        eprintln!("configmap swap {n} applied after {took:?}");
    }
    assert!(w.policy().decide_url("https://a.example/", None).blocks());
}

#[test]
fn bad_files_are_rejected_and_the_last_good_policy_stays() {
    let (dir, path) = setup(A);
    let w = watch(&path);
    let rx = w.subscribe();
    let good = w.policy().load().id();
    for (content, error) in [
        ("version = 1\n[[allow]\nid = \"x\"\n", "line 2"),
        ("", "missing field `version`"),
        (
            "version = 1\n[[allow]]\nid = \"x\"\nhost = [\"x.example\"]\n",
            "unknown field `host`",
        ),
        (
            "version = 1\nmode = \"sealed\"\n[[allow]]\nid = \"half\"\nhosts = [\"half.exam",
            "line 5",
        ),
        (
            "version = 1\n[[allow]]\nid = \"x\"\nhosts = [\"Bücher.example\"]\n",
            "write `xn--bcher-kva.example`",
        ),
    ] {
        // Rename in place, so each bad file arrives whole.
        let tmp = dir.path().join("next.tmp");
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        // Other events in the directory (the temporary file) may re-reject the
        // previous file first: wait for this file's rejection.
        let (event, _) = wait_for(
            &rx,
            |e| matches!(&e.outcome, Outcome::Rejected { error: e, .. } if e.to_string().contains(error)),
        );
        let Outcome::Rejected { current, .. } = event.outcome else {
            unreachable!()
        };
        assert_eq!(current, good);
        assert_eq!(w.policy().load().id(), good, "a rejected file replaced the policy");
        assert!(w.policy().decide_url("https://a.example/", None).is_allow());
    }
    std::fs::write(&path, C).unwrap();
    let (event, _) = wait_for(&rx, applied_digest(digest(C)));
    let Outcome::Applied(swap) = event.outcome else { unreachable!() };
    assert_eq!(swap.current.generation, 2, "rejections do not consume generations");
}

#[test]
fn same_digest_is_unchanged_and_reload_now_reports_it() {
    let (_dir, path) = setup(A);
    let w = Watcher::builder(&path).without_file_events().poll_interval(None).start().unwrap();
    std::fs::write(&path, format!("# reformatted\n\n{}", A.replace("\n", "\n\n"))).unwrap();
    let outcome = w.reload_now();
    assert!(matches!(outcome, Outcome::Unchanged(id) if id.generation == 1), "{outcome}");
    std::fs::write(&path, B).unwrap();
    assert!(matches!(w.reload_now(), Outcome::Applied(_)));
    assert_eq!(w.policy().load().generation(), 2);
}

#[test]
fn the_fallback_timer_picks_up_changes_without_file_events() {
    let (_dir, path) = setup(A);
    let w = Watcher::builder(&path)
        .without_file_events()
        .poll_interval(Some(Duration::from_millis(100)))
        .start()
        .unwrap();
    let rx = w.subscribe();
    std::fs::write(&path, C).unwrap();
    let (event, took) = wait_for(&rx, applied_digest(digest(C)));
    assert_eq!(event.trigger, Trigger::Poll);
    eprintln!("poll applied after {took:?}");
}

#[test]
fn start_up_fails_without_a_good_policy() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    assert!(matches!(Watcher::watch(&missing), Err(WatchError::Load(_))));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\nmode = \"wide-open\"\n").unwrap();
    let err = Watcher::watch(&bad).unwrap_err();
    assert!(err.to_string().contains("unknown variant `wide-open`"), "{err}");
}

#[test]
fn concurrent_deciders_only_ever_see_policies_that_were_on_disk() {
    let (dir, path) = setup(A);
    // Whole files renamed into place: no quiet period needed (see the torn-write test).
    let w = Watcher::builder(&path)
        .debounce(Duration::from_millis(10))
        .quiet_period(Duration::ZERO)
        .poll_interval(Some(Duration::from_millis(5)))
        .start()
        .unwrap();
    let policy = w.policy();
    // Expected verdict for https://a.example/ under each valid policy.
    let expected: Arc<[(String, bool)]> = Arc::new([(digest(A), true), (digest(B), false), (digest(C), false)]);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(3));
    let deciders: Vec<_> = (0..2)
        .map(|_| {
            let (policy, expected, stop, start) = (policy.clone(), expected.clone(), stop.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut seen = std::collections::HashSet::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let d = policy.decide_url("https://a.example/", None);
                    let digest = d.policy().digest.to_string();
                    let want = expected
                        .iter()
                        .find(|(dg, _)| *dg == digest)
                        .unwrap_or_else(|| panic!("decision under unknown policy {digest}"));
                    assert_eq!(d.is_allow(), want.1, "verdict does not match policy {digest}");
                    seen.insert(digest);
                    n += 1;
                }
                (n, seen.len())
            })
        })
        .collect();
    start.wait();
    let contents = [A, B, "version = 1\n[[allow]]\nid = \"x\"\nhosts = [\"*\"]\n", C, "", "version = "];
    for i in 0..300 {
        let tmp = dir.path().join("w.tmp");
        std::fs::write(&tmp, contents[i % contents.len()]).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        if i % 3 == 0 {
            w.reload_now();
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    for d in deciders {
        let (n, kinds) = d.join().unwrap();
        assert!(n > 1000, "only {n} decisions");
        assert!(kinds >= 2, "deciders saw only {kinds} policies");
    }
    assert!(w.policy().load().generation() > 10);
}

/// The parent runs this test again as a child process with `EGRESS_POLICY_FILE`
/// set (the 2024 edition makes `set_var` unsafe, and this crate forbids unsafe).
#[test]
fn from_env_watches_the_named_file_or_fails_clearly() {
    if let Ok(expect) = std::env::var("EGRESS_TEST_CHILD_EXPECT") {
        match (expect.as_str(), Watcher::from_env()) {
            ("ok", Ok(w)) => assert!(w.policy().decide_url("https://a.example/", None).is_allow()),
            ("unset", Err(WatchError::EnvUnset)) => {}
            (want, got) => panic!("want {want}, got {got:?}"),
        }
        return;
    }
    let (_dir, path) = setup(A);
    let run = |env: Option<&Path>, expect: &str| {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "from_env_watches_the_named_file_or_fails_clearly", "--test-threads=1"]);
        cmd.env("EGRESS_TEST_CHILD_EXPECT", expect).env_remove("EGRESS_POLICY_FILE");
        if let Some(p) = env {
            cmd.env("EGRESS_POLICY_FILE", p);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{expect}: {}", String::from_utf8_lossy(&out.stdout));
    };
    run(Some(&path), "ok");
    run(None, "unset");
    let err = WatchError::EnvUnset.to_string();
    assert!(err.contains("no fallback to open"), "{err}");
}

/// Reading the policy file produces inotify access events; they must not
/// trigger reloads (that loop once re-read the file every debounce window).
#[test]
fn reading_the_file_does_not_trigger_more_reloads() {
    let (_dir, path) = setup(A);
    let w = watch(&path);
    let rx = w.subscribe();
    std::fs::write(&path, C).unwrap();
    wait_for(&rx, applied_digest(digest(C)));
    w.reload_now();
    let _manual = rx.recv_timeout(BOUND).unwrap();
    let quiet = rx.recv_timeout(Duration::from_millis(800));
    assert!(quiet.is_err(), "reloads keep coming: {:?}", quiet.map(|e| e.outcome.to_string()));
}

/// A writer that truncates the file and appends `B` line by line, pausing
/// longer than the debounce (and the poll interval) between lines, as a slow
/// `>>` script does; with `backdate`, it sets the file's modification time back
/// to that instant after every write. Several prefixes parse (the first lines
/// alone are an `open` policy with no deny rule): none may be applied, only the
/// complete file, as the first swap.
fn slow_writer_only_the_whole_file_is_applied(backdate: Option<std::time::SystemTime>) {
    let (_dir, path) = setup(C);
    let w = Watcher::builder(&path)
        .debounce(Duration::from_millis(50))
        .poll_interval(Some(Duration::from_millis(100)))
        .quiet_period(Duration::from_millis(1000))
        .start()
        .unwrap();
    let rx = w.subscribe();
    let prefix_open = "version = 1\nmode = \"open\"\n";
    assert!(Policy::from_toml_str(prefix_open).is_ok(), "the test needs a prefix that parses");
    {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&path).unwrap(); // truncates: an empty file first
        if let Some(t) = backdate {
            file.set_modified(t).unwrap();
        }
        for line in B.split_inclusive('\n') {
            std::thread::sleep(Duration::from_millis(300));
            file.write_all(line.as_bytes()).unwrap();
            file.flush().unwrap();
            if let Some(t) = backdate {
                file.set_modified(t).unwrap();
            }
        }
    }
    let (event, _) = wait_for(&rx, applied_digest(digest(B)));
    let Outcome::Applied(swap) = event.outcome else { unreachable!() };
    assert_eq!(swap.current.generation, 2, "something was applied before the whole file");
    assert!(w.policy().decide_url("https://a.example/", None).blocks());
    // Nothing else was applied on the way: every event seen was not an applied swap.
    while let Ok(e) = rx.try_recv() {
        assert!(!matches!(e.outcome, Outcome::Applied(_)), "{}", e.outcome);
    }
}

#[test]
fn a_file_written_line_by_line_is_never_applied_half_written() {
    slow_writer_only_the_whole_file_is_applied(None);
}

/// The same slow writer, backdating the file (a writer can set timestamps; some
/// file systems round them to seconds; network ones use another clock): the
/// file's own modification time must not be taken as proof that it is quiet.
#[test]
fn a_backdated_file_written_line_by_line_is_never_applied_half_written() {
    slow_writer_only_the_whole_file_is_applied(Some(std::time::SystemTime::now() - Duration::from_secs(3600)));
}
