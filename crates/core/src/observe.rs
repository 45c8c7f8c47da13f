//! Observation: what a service really contacts, aggregated in bounded memory and
//! exported as JSON lines for `egress-policy suggest` (observe first, then
//! enforce).

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::admission::Admission;
use crate::decision::{DecisionRef, Reason, Verdict};
use crate::destination::Destination;
use crate::host::Host;
use crate::record::{Observation, Overflow, Record};
use crate::time::format_rfc3339;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    client: Option<Box<str>>,
    destination: Destination,
}

#[derive(Debug, Clone)]
struct Entry {
    count: u64,
    first_seen: SystemTime,
    last_seen: SystemTime,
    verdict: Verdict,
    reason: Reason,
    rule: Option<Box<str>>,
    enforced: bool,
}

#[derive(Debug, Default)]
struct State {
    destinations: HashMap<Key, Entry>,
    resolved: HashMap<Arc<str>, BTreeSet<IpAddr>>,
    overflow: u64,
}

/// A bounded, thread-safe aggregate of the destinations seen by the decision
/// path: scheme, canonical host, port and client name, with count, first and last
/// seen (UTC), the latest verdict, reason and rule, and the addresses names
/// resolved to.
///
/// Memory is bounded: at most `capacity` distinct destinations (new ones past
/// that are counted in an overflow counter, never stored) and
/// [`Recorder::MAX_ADDRESSES_PER_NAME`] addresses per name.
///
/// Attach it to a [`SharedPolicy`](crate::SharedPolicy) with
/// [`set_recorder`](crate::SharedPolicy::set_recorder), and flush it to a file
/// with [`Recorder::append_to`] or [`Recorder::spawn_flusher`].
///
/// ```
/// use std::sync::Arc;
/// use egress_policy_core::{Policy, Recorder, SharedPolicy};
///
/// let shared = SharedPolicy::new(Policy::from_toml_str("version = 1\nenforcement = \"observe\"\n")?);
/// let recorder = Arc::new(Recorder::new(1000));
/// shared.set_recorder(Some(recorder.clone()));
/// shared.decide_url("https://api.example.com/a", None);
/// shared.decide_url("https://api.example.com/b", None);
/// let lines = recorder.drain_json_lines();
/// assert_eq!(lines.len(), 1);
/// assert!(lines[0].contains(r#""host":"api.example.com""#) && lines[0].contains(r#""count":2"#));
/// # Ok::<(), egress_policy_core::LoadError>(())
/// ```
#[derive(Debug)]
pub struct Recorder {
    capacity: usize,
    state: Mutex<State>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(Recorder::DEFAULT_CAPACITY)
    }
}

impl Recorder {
    /// The number of distinct destinations [`Recorder::default`] keeps.
    pub const DEFAULT_CAPACITY: usize = 10_000;
    /// Resolved addresses kept per name.
    pub const MAX_ADDRESSES_PER_NAME: usize = 64;

    /// A recorder keeping at most `capacity` distinct destinations.
    pub fn new(capacity: usize) -> Recorder {
        Recorder {
            capacity,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one decision made for `client` at `now`.
    pub fn record<'a>(&self, decision: impl Into<DecisionRef<'a>>, client: Option<&str>, now: SystemTime) {
        let decision = decision.into();
        let Some(dest) = decision.destination() else { return };
        let key = Key {
            client: client.map(Into::into),
            destination: dest.clone(),
        };
        let mut state = self.lock();
        let len = state.destinations.len();
        match state.destinations.get_mut(&key) {
            Some(e) => {
                e.count += 1;
                e.last_seen = e.last_seen.max(now);
                e.first_seen = e.first_seen.min(now);
                e.verdict = decision.verdict();
                e.reason = decision.reason();
                e.rule = decision.rule().map(|r| r.id().into());
                e.enforced = decision.is_enforced();
            }
            None if len >= self.capacity => state.overflow += 1,
            None => {
                state.destinations.insert(
                    key,
                    Entry {
                        count: 1,
                        first_seen: now,
                        last_seen: now,
                        verdict: decision.verdict(),
                        reason: decision.reason(),
                        rule: decision.rule().map(|r| r.id().into()),
                        enforced: decision.is_enforced(),
                    },
                );
            }
        }
    }

    /// Records the addresses a name resolved to (admitted or not). Answers are
    /// kept per name, for every client and period alike: what a name resolves to
    /// does not depend on who asked.
    pub fn record_admission(&self, admission: &Admission) {
        let Some(Host::Name(name)) = admission.decision().destination().map(Destination::host) else {
            return;
        };
        let addrs = admission
            .admitted()
            .iter()
            .copied()
            .chain(admission.dropped().iter().map(|d| d.addr));
        let mut state = self.lock();
        if !state.resolved.contains_key(&**name) && state.resolved.len() >= self.capacity {
            state.overflow += 1;
            return;
        }
        let set = state.resolved.entry(name.clone()).or_default();
        for a in addrs {
            if set.len() < Recorder::MAX_ADDRESSES_PER_NAME {
                set.insert(a);
            }
        }
    }

    /// Distinct destinations held now.
    pub fn len(&self) -> usize {
        self.lock().destinations.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Destinations dropped because the recorder was full.
    pub fn overflow(&self) -> u64 {
        self.lock().overflow
    }

    /// Takes everything recorded so far as JSON lines (one per destination and
    /// client, sorted, plus an `{"overflow": N}` line when anything was dropped)
    /// and starts a new period. Appending the lines of successive drains to one
    /// file gives `suggest` one record per destination per period.
    pub fn drain_json_lines(&self) -> Vec<String> {
        let state = std::mem::take(&mut *self.lock());
        let mut entries: Vec<(Key, Entry)> = state.destinations.into_iter().collect();
        entries.sort_by(|a, b| (a.0.destination.to_string(), &a.0.client).cmp(&(b.0.destination.to_string(), &b.0.client)));
        let mut out: Vec<String> = entries
            .into_iter()
            .map(|(key, e)| {
                let dest = &key.destination;
                let resolved = match dest.host() {
                    Host::Name(n) => state.resolved.get(&**n).map(|s| s.iter().copied().collect()).unwrap_or_default(),
                    Host::Ip(_) => Vec::new(),
                };
                Record::Observation(Observation {
                    scheme: dest.scheme().as_str().to_string(),
                    host: match dest.host() {
                        Host::Name(n) => n.to_string(),
                        Host::Ip(ip) => ip.to_string(),
                    },
                    port: dest.port(),
                    client: key.client.as_deref().map(str::to_string),
                    count: e.count,
                    first_seen: format_rfc3339(e.first_seen),
                    last_seen: format_rfc3339(e.last_seen),
                    verdict: e.verdict.as_str().to_string(),
                    reason: e.reason.as_str().to_string(),
                    rule: e.rule.as_deref().map(str::to_string),
                    enforced: e.enforced,
                    resolved,
                    source: None,
                })
                .to_json()
            })
            .collect();
        if state.overflow > 0 {
            let overflow = Overflow {
                overflow: state.overflow,
                at: format_rfc3339(SystemTime::now()),
            };
            out.push(Record::Overflow(overflow).to_json());
        }
        out
    }

    /// Drains into `path`, appending (the file is created if missing). Returns
    /// the number of lines written.
    pub fn append_to(&self, path: &Path) -> std::io::Result<usize> {
        let lines = self.drain_json_lines();
        if lines.is_empty() {
            return Ok(0);
        }
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let mut buf = lines.join("\n");
        buf.push('\n');
        file.write_all(buf.as_bytes())?;
        file.flush()?;
        Ok(lines.len())
    }

    /// Appends to `path` every `interval` on a background thread, and once more
    /// when the returned handle is dropped.
    pub fn spawn_flusher(self: &Arc<Self>, path: impl Into<PathBuf>, interval: Duration) -> std::io::Result<Flusher> {
        let (tx, rx) = mpsc::channel::<()>();
        let recorder = self.clone();
        let path = path.into();
        let handle = std::thread::Builder::new().name("egress-policy-flush".into()).spawn(move || {
            loop {
                let last = !matches!(rx.recv_timeout(interval), Err(RecvTimeoutError::Timeout));
                if let Err(e) = recorder.append_to(&path) {
                    tracing::error!(target: "egress_policy::observe", path = %path.display(), error = %e, "cannot write observations");
                }
                if last {
                    return;
                }
            }
        })?;
        Ok(Flusher {
            stop: Some(tx),
            handle: Some(handle),
        })
    }
}

/// Flushes a [`Recorder`] periodically; flushes once more and stops when dropped.
#[derive(Debug)]
pub struct Flusher {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Policy, SharedPolicy};

    /// Every line the recorder writes reads back as the record it was made from.
    #[test]
    fn drained_lines_read_back_as_records() {
        let policy = Policy::from_toml_str("version = 1\nenforcement = \"observe\"\n").unwrap();
        let shared = SharedPolicy::new(policy);
        let recorder = Arc::new(Recorder::new(2));
        shared.set_recorder(Some(recorder.clone()));
        for url in ["https://a.example/", "http://[2001:db8::1]:8080/", "https://c.example/"] {
            shared.decide_url(url, Some("billing"));
        }
        let lines = recorder.drain_json_lines();
        assert_eq!(lines.len(), 3, "{lines:?}");
        let records: Vec<Record> = lines.iter().map(|l| Record::parse(l).unwrap()).collect();
        let Record::Observation(first) = &records[0] else {
            panic!("{records:?}")
        };
        assert_eq!(
            (first.host.as_str(), first.port, first.client.as_deref(), first.enforced),
            ("2001:db8::1", 8080, Some("billing"), false)
        );
        assert!(matches!(&records[2], Record::Overflow(o) if o.overflow == 1));
        for (line, record) in lines.iter().zip(&records) {
            assert_eq!(&record.to_json(), line);
        }
    }
}
