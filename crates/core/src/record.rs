//! The observation file format: JSON lines, one [`Observation`] per destination
//! (and client) per period, plus an [`Overflow`] line when the recorder's cap
//! was reached. [`Recorder`](crate::Recorder) writes it; `egress-policy suggest`
//! and `report` read it. One type, so writer and readers cannot drift.
//! Readers ignore fields they do not know, so records may grow.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One observed destination in one period, as a line of an observation file.
///
/// ```
/// use egress_policy_core::record::Record;
///
/// let line = r#"{"scheme":"https","host":"api.example.com","port":443,"client":null,"count":2,"first_seen":"2027-01-01T00:00:00Z","last_seen":"2027-01-01T00:05:00Z","verdict":"deny","reason":"no_matching_rule","rule":null,"enforced":false,"resolved":["203.0.113.7"]}"#;
/// let Record::Observation(obs) = Record::parse(line)? else { panic!("not an observation") };
/// assert_eq!((obs.host.as_str(), obs.port, obs.count), ("api.example.com", 443, 2));
/// assert_eq!(serde_json::to_string(&obs)?, line);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Observation {
    /// The scheme (`https`, `tcp`, ...).
    pub scheme: String,
    /// The canonical host name, or the address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The client's name, when it has one.
    #[serde(default)]
    pub client: Option<String>,
    /// Decisions for this destination in the period (imported records: flows).
    pub count: u64,
    /// The first decision in the period (RFC 3339, UTC).
    pub first_seen: String,
    /// The last decision in the period (RFC 3339, UTC).
    pub last_seen: String,
    /// The latest verdict: `allow` or `deny`.
    pub verdict: String,
    /// The latest decision's [`Reason`](crate::Reason), as its string;
    /// imported records carry [`Observation::FLOW_SEEN`] or
    /// [`Observation::FLOW_DROPPED`] instead.
    pub reason: String,
    /// The rule that decided, if any.
    #[serde(default)]
    pub rule: Option<String>,
    /// Whether the policy enforced its verdicts (`false` under observe).
    pub enforced: bool,
    /// The addresses the name resolved to (at most
    /// [`Recorder::MAX_ADDRESSES_PER_NAME`](crate::Recorder::MAX_ADDRESSES_PER_NAME)).
    #[serde(default)]
    pub resolved: Vec<IpAddr>,
    /// Where a record not written by the [`Recorder`](crate::Recorder) came
    /// from (`egress-policy import`: `kernel-log`, `hubble`, `nftables-log`).
    /// Such records carry [`Observation::FLOW_SEEN`] or
    /// [`Observation::FLOW_DROPPED`] as their `reason`: no policy decided them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Observation {
    /// The `reason` of an imported flow the network let through.
    pub const FLOW_SEEN: &'static str = "flow_seen";
    /// The `reason` of an imported flow the network dropped.
    pub const FLOW_DROPPED: &'static str = "flow_dropped";

    /// An observation of `scheme://host:port` with no decisions yet: count 0,
    /// verdict `allow`, no client, times and reason empty. Set the public
    /// fields to fill it in.
    pub fn new(scheme: impl Into<String>, host: impl Into<String>, port: u16) -> Observation {
        Observation {
            scheme: scheme.into(),
            host: host.into(),
            port,
            client: None,
            count: 0,
            first_seen: String::new(),
            last_seen: String::new(),
            verdict: "allow".into(),
            reason: String::new(),
            rule: None,
            enforced: false,
            resolved: Vec::new(),
            source: None,
        }
    }
}

/// Destinations the recorder saw but could not keep in a period (its cap was
/// reached): the observation file is incomplete by this many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Overflow {
    /// Destinations dropped.
    pub overflow: u64,
    /// When the period was drained (RFC 3339, UTC).
    pub at: String,
}

impl Overflow {
    /// `overflow` destinations (or flows) lost, as of `at` (RFC 3339).
    pub fn new(overflow: u64, at: impl Into<String>) -> Overflow {
        Overflow { overflow, at: at.into() }
    }
}

/// One line of an observation file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// Records are read and written a line at a time, never held in bulk as
// `Record`s: the size of the rare `Overflow` variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    /// An observed destination.
    Observation(Observation),
    /// The count of destinations not kept.
    Overflow(Overflow),
}

impl Record {
    /// Reads one line. A line with an `overflow` key is an [`Overflow`]; any
    /// other is an [`Observation`], with serde's error (field and column) when
    /// it is not one.
    pub fn parse(line: &str) -> Result<Record, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(line)?;
        if value.get("overflow").is_some() {
            serde_json::from_value(value).map(Record::Overflow)
        } else {
            serde_json::from_value(value).map(Record::Observation)
        }
    }

    /// The line, as JSON without a newline.
    pub fn to_json(&self) -> String {
        let json = match self {
            Record::Observation(o) => serde_json::to_string(o),
            Record::Overflow(o) => serde_json::to_string(o),
        };
        // Plain strings, numbers and addresses: serializing cannot fail.
        json.unwrap_or_default()
    }
}
