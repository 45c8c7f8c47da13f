//! The live policy shared by every client in a process.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::{ArcSwap, ArcSwapOption, Guard};

use crate::admission::Admission;
use crate::decision::{Context, Decision, DecisionRef, PolicyId};
use crate::destination::Destination;
use crate::observe::Recorder;
use crate::policy::Policy;
use crate::time::{Clock, SystemClock};

/// The live policy: cheap to clone (one `Arc`), one lock-free `load()` per
/// decision, swapped atomically by [`SharedPolicy::store`]. Readers never block
/// and never see a half-applied policy.
///
/// ```
/// use egress_policy_core::{Policy, SharedPolicy};
///
/// let shared = SharedPolicy::new(Policy::from_toml_str(r#"
///     version = 1
///     [[allow]]
///     id = "a"
///     hosts = ["a.example"]
/// "#)?);
/// assert_eq!(shared.load().generation(), 1);
/// assert!(shared.decide_url("https://a.example/", None).is_allow());
///
/// let swap = shared.store(Policy::from_toml_str("version = 1\n")?);
/// assert_eq!((swap.previous.generation, swap.current.generation), (1, 2));
/// assert!(shared.decide_url("https://a.example/", None).blocks());
/// # Ok::<(), egress_policy_core::LoadError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SharedPolicy {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    current: ArcSwap<Policy>,
    clock: Arc<dyn Clock>,
    /// Held by writers; keeps the policy replaced by the previous store, so the
    /// writer (not a reader that happened to hold the last reference) frees it on
    /// the next store, long after readers let go.
    writer: Mutex<Option<Arc<Policy>>>,
    recorder: ArcSwapOption<Recorder>,
}

/// A loaded policy, held for the length of one decision.
pub type PolicyGuard = Guard<Arc<Policy>>;

/// The identities before and after a [`SharedPolicy::store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Swap {
    /// The policy that was replaced.
    pub previous: PolicyId,
    /// The policy now in force.
    pub current: PolicyId,
}

impl SharedPolicy {
    /// Shares `policy` as generation 1, with the system clock.
    pub fn new(policy: Policy) -> SharedPolicy {
        SharedPolicy::with_clock(policy, Arc::new(SystemClock))
    }

    /// Shares `policy` as generation 1, with an injected clock (tests, replays).
    pub fn with_clock(mut policy: Policy, clock: Arc<dyn Clock>) -> SharedPolicy {
        policy.set_generation(1);
        publish_policy_gauges(&policy, clock.now());
        SharedPolicy {
            inner: Arc::new(Inner {
                current: ArcSwap::from_pointee(policy),
                clock,
                writer: Mutex::new(None),
                recorder: ArcSwapOption::empty(),
            }),
        }
    }

    /// Records every decision (and the resolved addresses every admission saw)
    /// made through this handle into `recorder`; `None` stops.
    /// See [`Recorder`] for the observe-then-enforce workflow.
    pub fn set_recorder(&self, recorder: Option<Arc<Recorder>>) {
        self.inner.recorder.store(recorder);
    }

    /// The attached recorder, if any.
    pub fn recorder(&self) -> Option<Arc<Recorder>> {
        self.inner.recorder.load_full()
    }

    /// Records the answer an admission saw, for the observe-then-enforce
    /// workflow ([`SharedPolicy::admit`] and [`SharedPolicy::admit_decided`] do
    /// this themselves).
    fn record_admission(&self, admission: &Admission) {
        if let Some(r) = &*self.inner.recorder.load() {
            r.record_admission(admission);
        }
    }

    /// Re-publishes `egress_rule_expiry_seconds` (time left runs down: call this
    /// periodically; the watcher does on every fallback tick).
    pub fn refresh_expiry_metrics(&self) {
        publish_policy_gauges(&self.load(), self.now());
    }

    fn recorded(&self, d: Decision, client: Option<&str>) -> Decision {
        if let Some(r) = &*self.inner.recorder.load() {
            r.record(&d, client, self.now());
        }
        d
    }

    /// The policy in force now. Lock-free; hold it only for one decision.
    pub fn load(&self) -> PolicyGuard {
        self.inner.current.load()
    }

    /// The policy in force now, as an owned `Arc`.
    pub fn load_full(&self) -> Arc<Policy> {
        self.inner.current.load_full()
    }

    /// Swaps in `policy` as the next generation. Concurrent stores are serialised;
    /// readers see either the old or the new policy, never a mix.
    pub fn store(&self, mut policy: Policy) -> Swap {
        let mut retired = self.inner.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let previous = self.inner.current.load().id();
        policy.set_generation(previous.generation + 1);
        let current = policy.id();
        publish_policy_gauges(&policy, self.now());
        let replaced = self.inner.current.swap(Arc::new(policy));
        // Frees the policy replaced one store ago (here, on the writer's thread).
        drop(retired.replace(replaced));
        Swap { previous, current }
    }

    /// The clock decisions use.
    pub fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }

    /// The clock's current instant.
    pub fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// The instant to decide at under `policy`: the clock's, unless no rule
    /// expires (then time cannot change a decision and the clock is not read).
    fn instant_for(&self, policy: &Policy) -> SystemTime {
        if policy.has_expiring_rules() {
            self.now()
        } else {
            SystemTime::UNIX_EPOCH
        }
    }

    /// Decides on `dest` for `client` under the policy in force now.
    pub fn decide(&self, dest: &Destination, client: Option<&str>) -> Decision {
        self.with_decision(dest, client, |d| d.to_decision())
    }

    /// Decides on `dest` for `client` and hands the decision to `f` borrowed,
    /// without making an owned [`Decision`]: the hot-path form of
    /// [`SharedPolicy::decide`], with the same audit event, counters and
    /// recording. It touches no reference count (of a rule or of the
    /// destination's host), so without a [`Recorder`] or a metrics recorder
    /// installed it writes nothing other threads read and checks on many cores
    /// scale; call [`DecisionRef::to_decision`] only when the decision must be
    /// kept, for a denial's error say.
    ///
    /// ```
    /// use egress_policy_core::{Destination, Policy, SharedPolicy};
    /// let shared = SharedPolicy::new(Policy::from_toml_str("version = 1\n[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\n")?);
    /// let dest = Destination::parse_url("https://a.example/").unwrap();
    /// let rule = shared.with_decision(&dest, None, |d| d.rule().map(|r| r.id().len()));
    /// assert_eq!(rule, Some(1));
    /// # Ok::<(), egress_policy_core::LoadError>(())
    /// ```
    pub fn with_decision<R>(&self, dest: &Destination, client: Option<&str>, f: impl FnOnce(DecisionRef<'_>) -> R) -> R {
        let policy = self.load();
        let cx = Context::at(self.instant_for(&policy)).with_client(client);
        let d = policy.judge(dest, &cx);
        if let Some(r) = &*self.inner.recorder.load() {
            r.record(d, client, self.now());
        }
        f(d)
    }

    /// Parses and decides on a URL; a URL that does not parse is denied (`invalid`).
    pub fn decide_url(&self, url: &str, client: Option<&str>) -> Decision {
        let policy = self.load();
        let cx = Context::at(self.instant_for(&policy)).with_client(client);
        self.recorded(policy.decide_url_with(url, &cx), client)
    }

    /// Decides on `scheme://authority/`: the scheme and authority of an HTTP
    /// request URI or a connector URI, parsed like any URL (an authority that
    /// does not parse, or holds a path, query or fragment, is `invalid`). The
    /// one place the integrations turn a URI into a decision.
    pub fn decide_authority(&self, scheme: &str, authority: &str, client: Option<&str>) -> Decision {
        match Destination::from_authority(scheme, authority) {
            Ok(dest) => self.decide(&dest, client),
            Err(_) => self.decide_url("", client),
        }
    }

    /// Connect-time admission of `addrs` for `dest` (see [`Policy::admit`]).
    pub fn admit(&self, dest: &Destination, addrs: &[IpAddr], client: Option<&str>) -> Admission {
        let cx = Context::at(self.now()).with_client(client);
        let admission = self.load().admit(dest, addrs, &cx);
        if let Some(r) = &*self.inner.recorder.load() {
            r.record(admission.decision(), client, self.now());
        }
        self.record_admission(&admission);
        admission
    }

    /// `decision` if it was made under the policy in force now by a rule that
    /// has not expired since, else the same destination decided again under
    /// it (and recorded). Integrations call this before they look a name up
    /// and before they connect, so a name a newly swapped-in policy denies is
    /// never queried, and a request that waited (on a lookup, a retry) past
    /// its rule's expiry does not connect under it.
    pub fn current(&self, decision: Decision, client: Option<&str>) -> Decision {
        let policy = self.load();
        // Generation and digest: two handles both start at generation 1. The
        // clock is read only for a decision made by an expiring rule.
        let outlived = || decision.rule().is_some_and(|r| r.expires().is_some() && !r.is_live_at(self.now()));
        if decision.policy() == policy.id() && !outlived() {
            return decision;
        }
        match decision.destination() {
            Some(dest) => {
                let cx = Context::at(self.instant_for(&policy)).with_client(client);
                self.recorded(policy.decide_with(dest, &cx), client)
            }
            None => decision, // nothing to decide again: it stays what it was (invalid)
        }
    }

    /// Connect-time admission of `addrs` under a decision already made through
    /// this handle (the request-level check, a connector): the one call
    /// integrations make once a lookup has answered. When the policy was swapped
    /// since the decision, the destination is decided and admitted again under
    /// the policy in force. The answer is recorded, and so is the decision when
    /// admission changed it (`resolved_to_forbidden_address`).
    pub fn admit_decided(&self, decision: Decision, addrs: &[IpAddr], client: Option<&str>) -> Admission {
        let policy = self.load();
        let cx = Context::at(self.now()).with_client(client);
        let before = (decision.policy(), decision.reason());
        let admission = match decision.destination().cloned() {
            Some(dest) if decision.policy() != policy.id() => policy.admit(&dest, addrs, &cx),
            _ => policy.admit_decided(decision, addrs, &cx),
        };
        let after = admission.decision();
        if (after.policy(), after.reason()) != before
            && let Some(r) = &*self.inner.recorder.load()
        {
            r.record(after, client, self.now());
        }
        self.record_admission(&admission);
        admission
    }
}

/// The environment variable that names a service's policy file ([`docs::reload`](crate::docs::reload)).
pub const POLICY_FILE_ENV: &str = "EGRESS_POLICY_FILE";

/// Why [`load_from_env`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    /// `EGRESS_POLICY_FILE` is not set (or empty). There is no default policy.
    #[error("EGRESS_POLICY_FILE is not set: set it to the policy file's path (there is no default policy, and no fallback to open)")]
    Unset,
    /// The file named by `EGRESS_POLICY_FILE` did not load.
    #[error(transparent)]
    Load(#[from] crate::LoadError),
}

/// Loads the policy file named by `EGRESS_POLICY_FILE` into a [`SharedPolicy`].
/// Fails when the variable is unset or empty, or the file does not load: there
/// is never an implicit fallback to `open`. To also watch the file, use
/// `egress_policy_watch::Watcher::from_env`.
pub fn load_from_env() -> Result<SharedPolicy, EnvError> {
    let path = std::env::var_os(POLICY_FILE_ENV).filter(|v| !v.is_empty()).ok_or(EnvError::Unset)?;
    Ok(SharedPolicy::new(Policy::from_path(path)?))
}

/// Sets `egress_policy_generation` and `egress_rule_expiry_seconds{rule}` (time
/// left to each rule's expiry, negative once expired) for `policy` as of `now`.
fn publish_policy_gauges(policy: &crate::Policy, now: std::time::SystemTime) {
    #[cfg(feature = "metrics")]
    {
        metrics::gauge!("egress_policy_generation").set(policy.generation() as f64);
        for rule in policy.allow_rules().chain(policy.deny_rules()) {
            if let Some(e) = rule.expires() {
                let left = match e.at().duration_since(now) {
                    Ok(d) => d.as_secs_f64(),
                    Err(past) => -past.duration().as_secs_f64(),
                };
                metrics::gauge!("egress_rule_expiry_seconds", "rule" => rule.id().to_string()).set(left);
            }
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (policy, now);
}
