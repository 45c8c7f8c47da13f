//! Hot reload for egress-policy: watch the policy file, validate the new one in
//! full, swap it in atomically, and keep the last good policy when it is bad.
//!
//! # Overview
//!
//! [`Watcher::watch`] loads the file (failing if it does not load: there is no
//! implicit fallback to `open`), shares it as a [`SharedPolicy`], and then:
//!
//! - watches the file's **parent directory** (debounced) and re-reads the
//!   configured path on any event there, so in-place writes, editors that write a
//!   temporary file and rename it (vim, `sed -i`), delete-and-recreate, and the
//!   Kubernetes ConfigMap volume layout (the file is a symlink into `..data`,
//!   itself a symlink swapped atomically to a new timestamped directory) are all
//!   seen;
//! - re-reads the path on a slow timer as a fallback (default every 30 s):
//!   inotify misses some updates, e.g. a ConfigMap update never produces an event
//!   naming the file itself, and watches on replaced symlink targets go stale;
//! - reloads on demand with [`Watcher::reload_now`] (SIGHUP, an admin endpoint).
//!
//! A new file is parsed and compiled in full before the swap. Invalid, unreadable,
//! missing, empty or half-written: the last good policy stays, the rejection is
//! logged at ERROR (target `egress_policy::reload`) with the full load error and
//! counted. Same digest: nothing is swapped (`unchanged`).
//!
//! Every outcome is observable: an event (target `egress_policy::reload`, with
//! old and new generation and digest and `sealed=true|false`), the counters
//! `egress_policy_reloads_total{outcome}` and the gauge `egress_policy_generation`
//! (through the `metrics` facade), and [`Watcher::subscribe`].
//!
//! Kubernetes note: a ConfigMap mounted with `subPath` **never updates** in the
//! pod; mount the whole volume and point `EGRESS_POLICY_FILE` into it.
//!
//! # Example
//!
//! ```no_run
//! use egress_policy_watch::Watcher;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let watcher = Watcher::watch("/etc/egress/policy.toml")?;
//! let policy = watcher.policy(); // hand clones of this to your clients
//! let updates = watcher.subscribe();
//! std::thread::spawn(move || {
//!     for event in updates {
//!         println!("policy reload: {}", event.outcome);
//!     }
//! });
//! # drop(policy);
//! # Ok(())
//! # }
//! ```
//!
//! Reloading on SIGHUP with tokio:
//!
//! ```no_run
//! # async fn run(watcher: egress_policy_watch::Watcher) -> std::io::Result<()> {
//! use tokio::signal::unix::{SignalKind, signal};
//! let mut hangups = signal(SignalKind::hangup())?;
//! while hangups.recv().await.is_some() {
//!     let outcome = watcher.reload_now();
//!     eprintln!("SIGHUP: {outcome}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version is 1.89.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use egress_policy_core::{LoadError, POLICY_FILE_ENV, Policy, PolicyId, SharedPolicy, Swap};
use notify::{EventKind, RecursiveMode, Watcher as _};

/// The default debounce: events closer together than this are one reload.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);
/// The default quiet period: a file is read only once it has not changed for
/// this long (see [`Builder::quiet_period`]).
pub const DEFAULT_QUIET_PERIOD: Duration = Duration::from_secs(1);
/// The default fallback re-read interval.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// What a reload did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// A new policy was swapped in.
    Applied(Swap),
    /// The file holds the policy already in force (same digest): nothing swapped.
    Unchanged(PolicyId),
    /// The file did not load; the policy in force (`current`) stays.
    Rejected {
        /// The policy still in force.
        current: PolicyId,
        /// Why the file was rejected.
        error: Arc<LoadError>,
    },
}

impl Outcome {
    /// `applied`, `unchanged` or `rejected` (the metric label).
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Applied(_) => "applied",
            Outcome::Unchanged(_) => "unchanged",
            Outcome::Rejected { .. } => "rejected",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Applied(swap) => write!(
                f,
                "applied: generation {} ({}) -> {} ({})",
                swap.previous.generation, swap.previous.digest, swap.current.generation, swap.current.digest
            ),
            Outcome::Unchanged(id) => write!(f, "unchanged: generation {} ({})", id.generation, id.digest),
            Outcome::Rejected { current, error } => write!(
                f,
                "rejected, keeping generation {} ({}): {}",
                current.generation,
                current.digest,
                Chain(&**error)
            ),
        }
    }
}

/// An error and its causes (`error: cause: cause`), for log lines that must
/// say why a read failed ([`LoadError`] keeps its I/O cause in `source()`).
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// What started a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// A file-system event in the watched directory.
    FileEvent,
    /// The fallback timer.
    Poll,
    /// [`Watcher::reload_now`].
    Manual,
}

/// One reload, as delivered to subscribers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReloadEvent {
    /// What happened.
    pub outcome: Outcome,
    /// What started it.
    pub trigger: Trigger,
    /// When it finished (UTC).
    pub at: SystemTime,
}

/// Why a watcher could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The first load failed: there is no last good policy to keep.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// `EGRESS_POLICY_FILE` is not set.
    #[error("EGRESS_POLICY_FILE is not set: set it to the policy file's path (there is no default policy, and no fallback to open)")]
    EnvUnset,
    /// The path has no parent directory to watch.
    #[error("cannot watch {0}: it has no parent directory")]
    NoParent(PathBuf),
    /// The file-system watcher could not start.
    #[error("cannot watch {path}: {source}")]
    Notify {
        /// The directory.
        path: PathBuf,
        /// The watcher's error.
        #[source]
        source: notify::Error,
    },
}

/// Configures a [`Watcher`].
#[derive(Debug, Clone)]
pub struct Builder {
    path: PathBuf,
    debounce: Duration,
    quiet: Duration,
    poll_interval: Option<Duration>,
    file_events: bool,
    shared: Option<SharedPolicy>,
}

impl Builder {
    /// Debounce window for file events (default 200 ms).
    pub fn debounce(mut self, window: Duration) -> Self {
        self.debounce = window;
        self
    }
    /// How long the file must stay unchanged before it is read (default 1 s), at
    /// start-up and on every reload, whatever triggered it: the watcher looks at
    /// its size, modification time and inode, waits this long, and reads only if
    /// nothing changed (then checks again after the read). Every load therefore
    /// takes at least this long. This is what keeps a half-written file (a slow writer, a
    /// shell appending with `>>`) from being applied: every pause of the writer
    /// must be shorter than this. Writing the new file elsewhere and renaming it
    /// over the path needs no such care.
    ///
    /// `Duration::ZERO` keeps only the check that the file did not change
    /// during the read: use it only when every writer replaces the file by
    /// rename.
    pub fn quiet_period(mut self, quiet: Duration) -> Self {
        self.quiet = quiet;
        self
    }
    /// Fallback re-read interval (default 30 s); `None` turns it off.
    pub fn poll_interval(mut self, interval: Option<Duration>) -> Self {
        self.poll_interval = interval;
        self
    }
    /// Do not watch file events; rely on the fallback timer and
    /// [`Watcher::reload_now`] (file systems without inotify support).
    pub fn without_file_events(mut self) -> Self {
        self.file_events = false;
        self
    }
    /// Swap into an existing [`SharedPolicy`] (for example one built with an
    /// injected clock) instead of a new one. The file is still loaded and
    /// validated first, and swapped in if it differs.
    pub fn shared(mut self, shared: SharedPolicy) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Loads the file (an error if it does not load) and starts watching.
    pub fn start(self) -> Result<Watcher, WatchError> {
        let path = absolute(&self.path);
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .ok_or_else(|| WatchError::NoParent(path.clone()))?
            .to_path_buf();
        let first = read_stable(&path, self.quiet)?;
        let shared = match self.shared {
            Some(shared) => {
                if shared.load().digest() != first.digest() {
                    shared.store(first);
                }
                shared
            }
            None => SharedPolicy::new(first),
        };
        let current = shared.load();
        tracing::info!(
            target: "egress_policy::reload",
            outcome = "loaded",
            path = %path.display(),
            generation = current.generation(),
            digest = %current.digest(),
            mode = current.mode().as_str(),
            sealed = current.is_sealed(),
            "egress policy loaded"
        );
        drop(current);

        let inner = Arc::new(Inner {
            path,
            quiet: self.quiet,
            shared,
            reloading: Mutex::new(()),
            subscribers: Mutex::new(Vec::new()),
        });

        // One worker thread: debounces file events, runs the fallback timer, stops on request.
        let (tx, rx) = mpsc::channel::<Msg>();
        let notifier = if self.file_events {
            let events = tx.clone();
            let mut notifier = notify::recommended_watcher(move |result: notify::Result<notify::Event>| match result {
                // Reading the file ourselves produces access events: ignore them, or
                // every reload would trigger the next.
                Ok(event) if matches!(event.kind, EventKind::Access(_)) => {}
                Ok(_) => {
                    let _ = events.send(Msg::Changed);
                }
                Err(e) => tracing::warn!(target: "egress_policy::reload", error = %e, "file watcher error"),
            })
            .map_err(|source| WatchError::Notify { path: dir.clone(), source })?;
            notifier
                .watch(&dir, RecursiveMode::NonRecursive)
                .map_err(|source| WatchError::Notify { path: dir.clone(), source })?;
            Some(notifier)
        } else {
            None
        };
        let worker_inner = inner.clone();
        let (debounce, poll) = (self.debounce, self.poll_interval);
        let worker = std::thread::Builder::new()
            .name("egress-policy-watch".into())
            .spawn(move || worker_loop(&worker_inner, &rx, debounce, poll))
            .map_err(|e| WatchError::Notify {
                path: dir.clone(),
                source: notify::Error::io(e),
            })?;

        Ok(Watcher {
            inner,
            notifier,
            stop: tx,
            worker: Some(worker),
        })
    }
}

enum Msg {
    Changed,
    Stop,
}

fn worker_loop(inner: &Inner, rx: &Receiver<Msg>, debounce: Duration, poll: Option<Duration>) {
    // With no timer, wait "forever" (a day at a time).
    let idle = poll.unwrap_or(Duration::from_secs(86_400));
    loop {
        match rx.recv_timeout(idle) {
            Ok(Msg::Changed) => {
                // Debounce: wait until the directory has been quiet for `debounce`.
                loop {
                    match rx.recv_timeout(debounce) {
                        Ok(Msg::Changed) => continue,
                        Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => break,
                    }
                }
                inner.reload(Trigger::FileEvent);
            }
            Err(RecvTimeoutError::Timeout) => {
                if poll.is_some() {
                    inner.reload(Trigger::Poll);
                    inner.shared.refresh_expiry_metrics();
                }
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Watches a policy file and keeps a [`SharedPolicy`] current. Dropping it stops
/// its threads; the `SharedPolicy` keeps the last policy.
#[must_use = "dropping the Watcher stops watching the file"]
pub struct Watcher {
    inner: Arc<Inner>,
    notifier: Option<notify::RecommendedWatcher>,
    stop: Sender<Msg>,
    worker: Option<JoinHandle<()>>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("path", &self.inner.path)
            .field("file_events", &self.notifier.is_some())
            .finish()
    }
}

struct Inner {
    path: PathBuf,
    quiet: Duration,
    shared: SharedPolicy,
    /// One reload at a time, whatever triggered it.
    reloading: Mutex<()>,
    subscribers: Mutex<Vec<Sender<ReloadEvent>>>,
}

impl Watcher {
    /// Loads `path` and watches it with the defaults (200 ms debounce, 30 s
    /// fallback re-read). Fails if the first load fails.
    pub fn watch(path: impl AsRef<Path>) -> Result<Watcher, WatchError> {
        Watcher::builder(path).start()
    }

    /// Watches the file named by `EGRESS_POLICY_FILE` ([`docs::reload`](egress_policy_core::docs::reload)). Fails when
    /// it is unset or empty, or the file does not load.
    pub fn from_env() -> Result<Watcher, WatchError> {
        let path = std::env::var_os(POLICY_FILE_ENV)
            .filter(|v| !v.is_empty())
            .ok_or(WatchError::EnvUnset)?;
        Watcher::watch(PathBuf::from(path))
    }

    /// A builder for `path`.
    pub fn builder(path: impl AsRef<Path>) -> Builder {
        Builder {
            path: path.as_ref().to_path_buf(),
            debounce: DEFAULT_DEBOUNCE,
            quiet: DEFAULT_QUIET_PERIOD,
            poll_interval: Some(DEFAULT_POLL_INTERVAL),
            file_events: true,
            shared: None,
        }
    }

    /// The live policy (clone it into clients and layers).
    pub fn policy(&self) -> SharedPolicy {
        self.inner.shared.clone()
    }

    /// The watched path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Re-reads the file now (SIGHUP, an admin endpoint) and reports what happened.
    pub fn reload_now(&self) -> Outcome {
        self.inner.reload(Trigger::Manual)
    }

    /// A channel receiving every reload from now on.
    pub fn subscribe(&self) -> Receiver<ReloadEvent> {
        let (tx, rx) = mpsc::channel();
        self.inner.subscribers.lock().unwrap_or_else(|p| p.into_inner()).push(tx);
        rx
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Stop notify's thread, then the worker, and wait for the worker.
        self.notifier.take();
        let _ = self.stop.send(Msg::Stop);
        if let Some(handle) = self.worker.take() {
            let _ = handle.join();
        }
    }
}

impl Inner {
    fn reload(&self, trigger: Trigger) -> Outcome {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        // Read what we need and let go of the guard before the (slow) file read.
        let (old, old_mode, old_sealed) = {
            let current = self.shared.load();
            (current.id(), current.mode(), current.is_sealed())
        };
        let outcome = match read_stable(&self.path, self.quiet) {
            Err(error) => {
                tracing::error!(
                    target: "egress_policy::reload",
                    outcome = "rejected",
                    path = %self.path.display(),
                    generation = old.generation,
                    digest = %old.digest,
                    error = %Chain(&error),
                    "egress policy reload rejected; keeping the last good policy"
                );
                Outcome::Rejected {
                    current: old,
                    error: Arc::new(error),
                }
            }
            Ok(new) if new.digest() == old.digest => Outcome::Unchanged(old),
            Ok(new) => {
                let (new_mode, new_enforcement, new_sealed) = (new.mode(), new.enforcement(), new.is_sealed());
                let swap = self.shared.store(new);
                tracing::info!(
                    target: "egress_policy::reload",
                    outcome = "applied",
                    path = %self.path.display(),
                    old_generation = swap.previous.generation,
                    old_digest = %swap.previous.digest,
                    generation = swap.current.generation,
                    digest = %swap.current.digest,
                    old_mode = old_mode.as_str(),
                    mode = new_mode.as_str(),
                    enforcement = new_enforcement.as_str(),
                    old_sealed,
                    sealed = new_sealed,
                    "egress policy reloaded"
                );
                Outcome::Applied(swap)
            }
        };
        metrics::counter!("egress_policy_reloads_total", "outcome" => outcome.as_str()).increment(1);
        let event = ReloadEvent {
            outcome: outcome.clone(),
            trigger,
            at: SystemTime::now(),
        };
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|tx| tx.send(event.clone()).is_ok());
        outcome
    }
}

/// What identifies one version of the file: size, modification time and (on
/// Unix) device and inode, so a rename over the path is a change too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    file: (u64, u64),
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::MetadataExt as _;
        (meta.dev(), meta.ino())
    };
    #[cfg(not(unix))]
    let file = (0, 0);
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        file,
    })
}

/// How many times a file that keeps changing is waited for before the read is
/// given up (and, on reload, rejected: the last good policy stays).
const STABLE_ATTEMPTS: u32 = 8;

/// Loads `path` only once it is stable, so a torn or half-written file is never
/// applied, even one whose prefix parses (an `open` policy whose deny rules are
/// not written yet):
///
/// 1. the file's size, modification time and inode must be the same in two
///    looks `quiet` apart, taken by this process (the file's own timestamps are
///    not trusted to say how old it is: they have 1 s or 2 s resolution on some
///    file systems, come from another clock on network ones, and a writer can
///    set them);
/// 2. it is read, and must still be the same after the read.
///
/// A file still changing after a few attempts is an error (the last good policy
/// stays). A writer that pauses for longer than `quiet` between two writes of
/// one update cannot be told apart from a finished one: write the new file
/// beside the old one and rename it over (what editors, `kubectl` and ConfigMap
/// volumes do).
fn read_stable(path: &Path, quiet: Duration) -> Result<Policy, LoadError> {
    let mut seen = stamp(path);
    if seen.is_none() {
        // Missing or unreadable: report the loader's error at once. If the file
        // appeared in the meantime, its content is not taken unchecked.
        Policy::from_path(path)?;
    }
    for _ in 0..STABLE_ATTEMPTS {
        if !quiet.is_zero() {
            std::thread::sleep(quiet);
        }
        let now = stamp(path);
        if now.is_none() || now != seen {
            seen = now; // (re)appeared, vanished or changed during the quiet period: wait again
            continue;
        }
        let result = Policy::from_path(path);
        if stamp(path) == now {
            return result;
        }
        // Changed while it was read: start over.
        seen = stamp(path);
    }
    // Still changing, or still missing: the last good policy stays. A file that
    // is missing gets the loader's own error; a present one is never returned
    // without the checks above.
    Policy::from_path(path)?;
    Err(LoadError::io(
        path,
        std::io::Error::other(format!(
            "the file kept changing ({STABLE_ATTEMPTS} attempts, quiet period {quiet:?}); not applied"
        )),
    ))
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
}
