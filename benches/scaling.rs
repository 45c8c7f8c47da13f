//! Thread scaling of decisions: does a second core double the decisions per
//! second, or do the threads slow each other down by writing memory the other
//! reads (reference counts, spin or contended locks)?
//!
//! ```text
//! cargo bench --bench scaling
//! ```
//!
//! For each case (a 10 000-rule policy; each thread with its own `Destination`
//! or all sharing one; no rule matching or every decision made by the same
//! rule) and each way to decide (`decide`: the owned `Decision`;
//! `with_decision`: the borrowed hot-path form; `policy_judge`: the control,
//! `Policy::judge` on a policy the threads already hold, which writes nothing
//! shared), a round runs N decisions on one thread and N decisions on each of
//! two threads, in alternating order, and reports two ratios:
//!
//! - **wall**: 2 × wall(1 thread) / wall(2 threads), the throughput gain. On a
//!   small VM it also counts time the hypervisor or another process took a
//!   core away, which is no property of the code.
//! - **cpu**: 2 × (CPU time per decision on 1 thread) / (CPU time per decision
//!   on 2 threads), the same gain counted in the threads' own CPU time
//!   (`/proc/thread-self/schedstat`, which excludes steal time on a guest
//!   with paravirtual steal accounting). A shared write shows here as more
//!   CPU time per decision (cache lines bouncing between cores); a core taken
//!   away does not, and neither does a thread asleep on a lock (wall time
//!   does).
//!
//! Then the same for an integration: the tower layer (`EnforcePolicy::call` on
//! an allowed request, every thread's request matching the same rule, each
//! thread building its own request as a server does), as built by default
//! (borrowed decisions only) and with `decision_extension` (an owned
//! `Decision` per request); each called either on the thread's own instance
//! or on a clone of one shared service per request, as
//! `svc.clone().oneshot(req)` does (the clone shares the layer's settings
//! and their reference count).
//!
//! Each ratio is the median of the per-round ratios, with their range; the
//! ns/decision columns are medians of their own, so on a noisy machine
//! their quotient need not equal the ratio's median. Also printed: the run-queue
//! wait of the two-thread runs (time a thread was ready but not running) and
//! the steal time the VM reported during the whole run. A benchmark, not a
//! test: CI only builds it. `SCALING_ROUNDS` and `SCALING_PER` (decisions per
//! thread per run) override the defaults (15 and 1 000 000).

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Barrier;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use egress_policy::tower::EnforcePolicyLayer;
use egress_policy::{Context, Destination, Policy, SharedPolicy};
use tower::{Layer, Service};

mod common;
use common::{env, median, policy_text, range};

const HIT: &str = "https://svc9994.team3.example.com/";
const MISS: &str = "https://svc9994.team5.example.com/";

/// (label, threads share one `Destination`, URL).
const CASES: [(&str, bool, &str); 4] = [
    ("own destination, no rule matches", false, MISS),
    ("shared destination, no rule matches", true, MISS),
    ("own destination, the same rule matches", false, HIT),
    ("shared destination, the same rule matches", true, HIT),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Decide,
    WithDecision,
    Control,
    /// `EnforcePolicy::call` on an allowed `HIT` request, with or without the
    /// decision extension; on a clone of one shared service per request (the
    /// `oneshot` idiom) or on the thread's own instance.
    Tower {
        extension: bool,
        clone_per_request: bool,
    },
}

const APIS: [(Api, &str); 3] = [
    (Api::Decide, "decide"),
    (Api::WithDecision, "with_decision"),
    (Api::Control, "policy_judge (control)"),
];

const TOWER: [(Api, &str); 4] = [
    (
        Api::Tower {
            extension: false,
            clone_per_request: false,
        },
        "tower layer (default), one instance per thread",
    ),
    (
        Api::Tower {
            extension: false,
            clone_per_request: true,
        },
        "tower layer (default), a clone of one shared service per request",
    ),
    (
        Api::Tower {
            extension: true,
            clone_per_request: false,
        },
        "tower layer, `decision_extension`, one instance per thread",
    ),
    (
        Api::Tower {
            extension: true,
            clone_per_request: true,
        },
        "tower layer, `decision_extension`, a clone per request",
    ),
];

fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    pin!(f).poll(&mut std::task::Context::from_waker(Waker::noop()))
}

/// This thread's (CPU time, run-queue wait) so far, from the scheduler.
/// Without `/proc/thread-self/schedstat` the bench stops: the CPU-time
/// figures would be meaningless.
fn thread_times() -> (Duration, Duration) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (Linux with schedstats) is needed for the CPU-time figures");
    let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().expect("schedstat field"));
    let cpu = fields.next().expect("schedstat: CPU time");
    let wait = fields.next().expect("schedstat: run-queue wait");
    (Duration::from_nanos(cpu), Duration::from_nanos(wait))
}

/// The machine's steal time so far (USER_HZ ticks, usually 10 ms), if reported.
fn steal_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().next()?.split_whitespace().nth(8)?.parse().ok()
}

struct Sample {
    /// From the first thread's start to the last thread's end.
    wall: Duration,
    /// Summed over the threads.
    cpu: Duration,
    wait: Duration,
}

struct Bench {
    shared: SharedPolicy,
    held: std::sync::Arc<Policy>,
    cx: Context<'static>,
}

impl Bench {
    fn run(&self, threads: usize, per: u64, api: Api, share: bool, url: &str) -> Sample {
        let common = Destination::parse_url(url).expect("destination");
        // One layered service for all threads; each request goes through a
        // clone of it, as `svc.clone().oneshot(req)` does (its settings'
        // reference count is shared by every clone).
        let layered = match api {
            Api::Tower { extension, .. } => {
                let inner = tower::service_fn(|_: http::Request<()>| async { Ok::<_, Infallible>(http::Response::new(())) });
                let layer = EnforcePolicyLayer::new(self.shared.clone());
                Some(if extension { layer.decision_extension() } else { layer }.layer(inner))
            }
            _ => None,
        };
        let barrier = Barrier::new(threads);
        let spans: Vec<(Instant, Instant, Duration, Duration)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let own = Destination::parse_url(url).expect("destination");
                        let dest = if share { &common } else { &own };
                        // The thread's own instance: its own settings.
                        let mut own_svc = match api {
                            Api::Tower {
                                extension,
                                clone_per_request: false,
                            } => {
                                let inner =
                                    tower::service_fn(|_: http::Request<()>| async { Ok::<_, Infallible>(http::Response::new(())) });
                                let layer = EnforcePolicyLayer::new(self.shared.clone());
                                Some(if extension { layer.decision_extension() } else { layer }.layer(inner))
                            }
                            _ => None,
                        };
                        barrier.wait();
                        let (cpu0, wait0) = thread_times();
                        let start = Instant::now();
                        for _ in 0..per {
                            match api {
                                Api::Decide => {
                                    black_box(self.shared.decide(black_box(dest), None));
                                }
                                Api::WithDecision => {
                                    black_box(self.shared.with_decision(black_box(dest), None, |d| d.is_allow()));
                                }
                                Api::Control => {
                                    black_box(self.held.judge(black_box(dest), &self.cx).is_allow());
                                }
                                Api::Tower { clone_per_request, .. } => {
                                    let req = http::Request::get(url).body(()).expect("request");
                                    let ready = if clone_per_request {
                                        poll_once(layered.as_ref().expect("a shared service").clone().call(black_box(req)))
                                    } else {
                                        poll_once(own_svc.as_mut().expect("the thread's service").call(black_box(req)))
                                    };
                                    let Poll::Ready(Ok(res)) = ready else { panic!("not allowed") };
                                    black_box(res);
                                }
                            }
                        }
                        let end = Instant::now();
                        let (cpu1, wait1) = thread_times();
                        (start, end, cpu1 - cpu0, wait1 - wait0)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("bench thread")).collect()
        });
        let first = spans.iter().map(|s| s.0).min().expect("a thread");
        let last = spans.iter().map(|s| s.1).max().expect("a thread");
        Sample {
            wall: last - first,
            cpu: spans.iter().map(|s| s.2).sum(),
            wait: spans.iter().map(|s| s.3).sum(),
        }
    }
}

#[derive(Default)]
struct Tally {
    ns_one: Vec<f64>,
    ns_two: Vec<f64>,
    wall: Vec<f64>,
    cpu: Vec<f64>,
    wait_share: Vec<f64>,
}

fn main() {
    // `cargo bench` passes `--bench`; a filter or `--list` asks for nothing here.
    if std::env::args().skip(1).any(|a| a == "--list" || !a.starts_with('-')) {
        return;
    }
    let rounds = env("SCALING_ROUNDS", 15).max(1);
    let per = env("SCALING_PER", 1_000_000).max(1);
    let shared = SharedPolicy::new(Policy::from_toml_str(&policy_text(10_000)).expect("policy"));
    let held = shared.load_full();
    let bench = Bench {
        shared,
        held,
        cx: Context::at(SystemTime::UNIX_EPOCH),
    };
    for (_, _, url) in CASES {
        let dest = Destination::parse_url(url).expect("destination");
        assert_eq!(bench.shared.decide(&dest, None).is_allow(), url == HIT, "{url}");
    }
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!("thread scaling: {rounds} rounds x {per} decisions per thread, {cpus} CPUs available");
    let steal0 = steal_ticks();
    let started = Instant::now();
    // (case, api label, api, threads share a destination, URL)
    let mut configs: Vec<(&str, &str, Api, bool, &str)> = Vec::new();
    for &(case, share, url) in &CASES {
        for &(api, label) in &APIS {
            configs.push((case, label, api, share, url));
        }
    }
    for &(api, label) in &TOWER {
        configs.push(("allowed request, the same rule matches", label, api, false, HIT));
    }
    let mut tallies: Vec<Tally> = configs.iter().map(|_| Tally::default()).collect();
    for round in 0..rounds {
        for (t, &(_, _, api, share, url)) in tallies.iter_mut().zip(&configs) {
            // Alternate which goes first, so drift within a round cancels.
            let (one, two) = if round % 2 == 0 {
                let one = bench.run(1, per, api, share, url);
                (one, bench.run(2, per, api, share, url))
            } else {
                let two = bench.run(2, per, api, share, url);
                (bench.run(1, per, api, share, url), two)
            };
            let n = per as f64;
            t.ns_one.push(one.wall.as_nanos() as f64 / n);
            t.ns_two.push(two.wall.as_nanos() as f64 / (2.0 * n));
            t.wall.push(2.0 * one.wall.as_secs_f64() / two.wall.as_secs_f64());
            let cpu_one = one.cpu.as_secs_f64() / n;
            let cpu_two = two.cpu.as_secs_f64() / (2.0 * n);
            t.cpu.push(2.0 * cpu_one / cpu_two);
            t.wait_share.push(two.wait.as_secs_f64() / (2.0 * two.wall.as_secs_f64()));
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }
    let elapsed = started.elapsed();
    println!();
    println!(
        "| case | api | ns/decision, 1 thread (median) | ns/decision, 2 threads (median) | wall scaling (median of rounds) | cpu scaling (median of rounds) | run-queue wait (2 threads) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (t, &(case, api, _, _, _)) in tallies.iter_mut().zip(&configs) {
        let (wall_lo, wall_hi) = range(&t.wall);
        let (cpu_lo, cpu_hi) = range(&t.cpu);
        println!(
            "| {case} | {api} | {:.1} | {:.1} | {:.2}× ({wall_lo:.2}–{wall_hi:.2}) | {:.2}× ({cpu_lo:.2}–{cpu_hi:.2}) | {:.1}% |",
            median(&mut t.ns_one),
            median(&mut t.ns_two),
            median(&mut t.wall),
            median(&mut t.cpu),
            100.0 * median(&mut t.wait_share),
        );
    }
    match (steal0, steal_ticks()) {
        (Some(a), Some(b)) => println!(
            "\nsteal time reported by the VM during the run: {} ticks (USER_HZ) over {:.1} s",
            b - a,
            elapsed.as_secs_f64()
        ),
        _ => println!("\nsteal time: not reported"),
    }
}
