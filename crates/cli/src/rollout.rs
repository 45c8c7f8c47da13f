//! Rollout planning from observations: per client, its destinations split into
//! cluster-internal, DNS and external; a tier by fan-out; the observation
//! horizon and whether the destination set has stopped changing; and an order
//! to enforce in (`egress-policy suggest` prints it, `report --observations`
//! too).
//!
//! Tiers (thresholds in [`Thresholds`]):
//!
//! - **A**: at most 2 destinations in all (cluster DNS and a database, say).
//! - **B**: at most 3 external and 5 internal destinations.
//! - **C**: more than B allows, without being broad. A client whose IP-only
//!   external destinations are not covered by `--ranges` is not ready until
//!   they are investigated.
//! - **D**: broad — more external destinations than `d_external`, or mostly
//!   IP-only externals no range covers (more than half of them, and more than
//!   `b_external`). Named tier D clients get no rules: keep them in observe.
//!
//! A client is **ready** when it was observed for at least `--min-days` (first
//! to last seen), its tier is A–C, no IP-only external destination needs
//! investigation, its latest period (day) brought no new destination, its
//! latest new destination is at least a day before its last traffic, and
//! every record has a readable time.
//!
//! DNS means port 53 to the cluster's resolver (an internal or
//! special-purpose address); port 53 to a public address is an outside
//! resolver, or a tunnel, and counts as external.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use egress_policy_core::record::Observation;
use egress_policy_core::time::{format_rfc3339, parse_instant};
use ipnet::IpNet;

/// Tier thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Thresholds {
    /// Tier A: at most this many destinations in all.
    pub a_total: usize,
    /// Tier B: at most this many external destinations ...
    pub b_external: usize,
    /// ... and this many internal ones (DNS included).
    pub b_internal: usize,
    /// Tier D: more external destinations than this.
    pub d_external: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            a_total: 2,
            b_external: 3,
            b_internal: 5,
            d_external: 20,
        }
    }
}

/// What the plan is computed with.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Cluster-internal networks (service and pod CIDRs, `--internal`).
    pub internal: Vec<IpNet>,
    /// Known provider ranges (`--ranges`): CIDR → provider name.
    pub ranges: Vec<(IpNet, String)>,
    /// Tier thresholds.
    pub thresholds: Thresholds,
    /// The least observation horizon, in days, for a client to be ready.
    pub min_days: u32,
    /// Tier B and C clients enforced per wave.
    pub batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            internal: Vec::new(),
            ranges: Vec::new(),
            thresholds: Thresholds::default(),
            min_days: 7,
            batch: 3,
        }
    }
}

/// A rollout tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[non_exhaustive]
pub enum Tier {
    /// At most two destinations.
    A,
    /// Few external and internal destinations.
    B,
    /// More than B allows, not broad.
    C,
    /// Broad: keep in observe.
    D,
}

/// One day's change in a client's destination set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct DayChange {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Destinations first seen that day.
    pub new: Vec<String>,
}

/// One client's analysis.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct Client {
    /// The client's name; `None` for traffic without one.
    pub client: Option<String>,
    /// The tier.
    pub tier: Tier,
    /// Cluster-internal destinations (`--internal` networks, `*.cluster.local`, `*.svc`).
    pub internal: Vec<String>,
    /// DNS destinations (port 53).
    pub dns: Vec<String>,
    /// Everything else.
    pub external: Vec<String>,
    /// External destinations that are addresses no `--ranges` entry covers.
    pub needs_investigation: Vec<String>,
    /// First seen (RFC 3339).
    pub first_seen: String,
    /// Last seen (RFC 3339).
    pub last_seen: String,
    /// Days between them.
    pub horizon_days: f64,
    /// Days that brought new destinations, the first day included.
    pub changes: Vec<DayChange>,
    /// The first day after the last change, when the latest day brought none.
    pub stable_since: Option<String>,
    /// Whether it can be enforced now.
    pub ready: bool,
    /// Why it is not ready (empty when ready).
    pub not_ready: Vec<String>,
}

/// The plan: every client, and the order to enforce the ready ones in.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// Per client, sorted by name (unnamed last).
    pub clients: Vec<Client>,
    /// Waves: tier A together, then tiers B and C in batches.
    pub waves: Vec<Vec<String>>,
    /// Tier D clients: keep in observe.
    pub keep_in_observe: Vec<String>,
    /// Ready by tier but not yet by observation: keep observing.
    pub keep_observing: Vec<String>,
}

fn day_of(t: &str) -> Option<String> {
    parse_instant(t).ok().map(|t| format_rfc3339(t)[..10].to_string())
}

fn target(o: &Observation) -> String {
    format!("{}://{}:{}", o.scheme, o.host, o.port)
}

/// Reads a `--ranges` file (see [`parse_ranges`]).
pub fn read_ranges(path: &std::path::Path) -> Result<Vec<(IpNet, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_ranges(&path.display().to_string(), &text)
}

/// Reads a `--ranges` file: `CIDR,provider` lines (`#` comments, a header allowed).
pub fn parse_ranges(origin: &str, text: &str) -> Result<Vec<(IpNet, String)>, String> {
    let mut out = Vec::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((cidr, name)) = line.split_once(',') else {
            return Err(format!("{origin}:{}: write CIDR,PROVIDER", i + 1));
        };
        let header = std::mem::replace(&mut first, false) && crate::is_csv_header(line);
        match cidr.trim().parse::<IpNet>() {
            Ok(net) if net.network() != net.addr() => {
                return Err(format!("{origin}:{}: `{net}` has host bits set: write {}", i + 1, net.trunc()));
            }
            Ok(net) if net.prefix_len() < if net.addr().is_ipv4() { 8 } else { 16 } => {
                return Err(format!(
                    "{origin}:{}: `{net}` is wider than any provider's range (at most /8 for IPv4, /16 for IPv6)",
                    i + 1
                ));
            }
            Ok(net) => match egress_policy_core::rule_id_from(name.trim()) {
                Some(provider) => out.push((net, provider)),
                None => {
                    return Err(format!(
                        "{origin}:{}: `{}` is not a provider name",
                        i + 1,
                        name.trim().escape_debug()
                    ));
                }
            },
            Err(_) if header => {} // a header
            Err(_) => return Err(format!("{origin}:{}: `{}` is not a CIDR", i + 1, cidr.trim())),
        }
    }
    if out.is_empty() {
        return Err(format!("{origin}: no ranges"));
    }
    Ok(out)
}

impl Options {
    /// The provider range covering `ip`, if any.
    pub fn range_of(&self, ip: IpAddr) -> Option<&(IpNet, String)> {
        self.ranges
            .iter()
            .filter(|(n, _)| n.contains(&ip))
            .max_by_key(|(n, _)| n.prefix_len())
    }

    fn is_internal(&self, o: &Observation) -> bool {
        match o.host.parse::<IpAddr>() {
            Ok(ip) => self.internal.iter().any(|n| n.contains(&ip)),
            Err(_) => {
                o.host.ends_with(".cluster.local")
                    || o.host.ends_with(".svc")
                    || (!o.resolved.is_empty() && o.resolved.iter().all(|ip| self.internal.iter().any(|n| n.contains(ip))))
            }
        }
    }
}

/// Plans the rollout from every observation.
pub fn plan(observations: &[&Observation], opts: &Options) -> Plan {
    let mut by_client: BTreeMap<Option<String>, Vec<&Observation>> = BTreeMap::new();
    for o in observations {
        by_client.entry(o.client.clone()).or_default().push(o);
    }
    let mut clients: Vec<Client> = by_client.into_iter().map(|(c, obs)| client(c, &obs, opts)).collect();
    // Named first, by name; unnamed traffic last.
    clients.sort_by(|a, b| (a.client.is_none(), &a.client).cmp(&(b.client.is_none(), &b.client)));

    let name = |c: &Client| c.client.clone().unwrap_or_else(|| "(unnamed)".into());
    let mut waves: Vec<Vec<String>> = Vec::new();
    let tier_a: Vec<String> = clients.iter().filter(|c| c.ready && c.tier == Tier::A).map(name).collect();
    if !tier_a.is_empty() {
        waves.push(tier_a);
    }
    for tier in [Tier::B, Tier::C] {
        let ready: Vec<String> = clients.iter().filter(|c| c.ready && c.tier == tier).map(name).collect();
        for chunk in ready.chunks(opts.batch.max(1)) {
            waves.push(chunk.to_vec());
        }
    }
    Plan {
        keep_in_observe: clients.iter().filter(|c| c.tier == Tier::D).map(name).collect(),
        keep_observing: clients.iter().filter(|c| !c.ready && c.tier != Tier::D).map(name).collect(),
        waves,
        clients,
    }
}

fn client(name: Option<String>, obs: &[&Observation], opts: &Options) -> Client {
    let (mut internal, mut dns, mut external, mut unnamed) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    // Destination → the days it was seen on, and when it was first seen.
    let mut days: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut first_of: BTreeMap<String, SystemTime> = BTreeMap::new();
    let mut undated = 0usize;
    let (mut first, mut last): (Option<SystemTime>, Option<SystemTime>) = (None, None);
    for o in obs {
        let t = target(o);
        let resolver = crate::suggest::is_resolver_record(o, &opts.internal);
        if resolver {
            dns.insert(t.clone());
        } else if opts.is_internal(o) {
            internal.insert(t.clone());
        } else {
            external.insert(t.clone());
            if let Ok(ip) = o.host.parse::<IpAddr>()
                && opts.range_of(ip).is_none()
            {
                unnamed.insert(t.clone());
            }
        }
        if parse_instant(&o.first_seen).is_err() || parse_instant(&o.last_seen).is_err() {
            undated += 1;
        }
        for s in [&o.first_seen, &o.last_seen] {
            if let Some(d) = day_of(s) {
                days.entry(t.clone()).or_default().insert(d);
            }
            if let Ok(at) = parse_instant(s) {
                first = Some(first.map_or(at, |f| f.min(at)));
                last = Some(last.map_or(at, |l| l.max(at)));
            }
        }
        if let Ok(at) = parse_instant(&o.first_seen) {
            let e = first_of.entry(t.clone()).or_insert(at);
            *e = (*e).min(at);
        }
    }
    let th = opts.thresholds;
    let total = internal.len() + dns.len() + external.len();
    let mostly_ip_only = unnamed.len() * 2 > external.len() && unnamed.len() > th.b_external;
    let tier = if external.len() > th.d_external || mostly_ip_only {
        Tier::D
    } else if total <= th.a_total {
        Tier::A
    } else if external.len() <= th.b_external && internal.len() + dns.len() <= th.b_internal {
        Tier::B
    } else {
        Tier::C
    };

    // Day-over-day: the day each destination was first seen.
    let mut new_by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (t, ds) in &days {
        if let Some(d) = ds.iter().next() {
            new_by_day.entry(d.clone()).or_default().push(t.clone());
        }
    }
    let all_days: BTreeSet<String> = days.values().flatten().cloned().collect();
    let last_day = all_days.iter().next_back().cloned();
    let last_change = new_by_day.keys().next_back().cloned();
    let stable_since = match (&last_change, &last_day) {
        (Some(change), Some(last)) if change < last => all_days.iter().find(|d| *d > change).cloned(),
        _ => None,
    };
    let horizon = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f).unwrap_or(Duration::ZERO).as_secs_f64() / 86_400.0,
        _ => 0.0,
    };
    let mut not_ready = Vec::new();
    if tier == Tier::D {
        not_ready.push("tier D: broad egress; keep it in observe".to_string());
    }
    if horizon < f64::from(opts.min_days) {
        not_ready.push(format!("observed {horizon:.1} days, fewer than {}", opts.min_days));
    }
    // The latest new destination must be a full day behind the last traffic:
    // one old flow just after midnight does not make a changing set stable.
    let last_new = first_of.values().max().copied();
    if stable_since.is_some()
        && let (Some(new), Some(l)) = (last_new, last)
        && l.duration_since(new).unwrap_or(Duration::ZERO) < Duration::from_secs(86_400)
    {
        not_ready.push(format!(
            "the latest new destination ({}) is less than a day before the last traffic",
            format_rfc3339(new)
        ));
    }
    if undated > 0 {
        not_ready.push(format!("{undated} record(s) without a readable first_seen/last_seen"));
    }
    if stable_since.is_none() {
        match (&last_change, new_by_day.len()) {
            (Some(day), n) if n > 1 => not_ready.push(format!(
                "{} new destination(s) on {day}, the latest day observed",
                new_by_day.get(day).map_or(0, Vec::len)
            )),
            _ => not_ready.push("a single day observed: nothing to compare".to_string()),
        }
    }
    if tier != Tier::D && !unnamed.is_empty() {
        not_ready.push(format!(
            "{} IP-only external destination(s) need investigation (a name, or a provider range with --ranges)",
            unnamed.len()
        ));
    }
    Client {
        client: name,
        tier,
        internal: internal.into_iter().collect(),
        dns: dns.into_iter().collect(),
        external: external.into_iter().collect(),
        needs_investigation: unnamed.into_iter().collect(),
        first_seen: first.map(format_rfc3339).unwrap_or_default(),
        last_seen: last.map(format_rfc3339).unwrap_or_default(),
        horizon_days: (horizon * 10.0).round() / 10.0,
        changes: new_by_day.into_iter().map(|(day, new)| DayChange { day, new }).collect(),
        stable_since,
        ready: not_ready.is_empty(),
        not_ready,
    }
}

/// The plan as text, for `suggest` and `report --observations`.
pub fn render(plan: &Plan) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    for c in &plan.clients {
        let name = c.client.as_deref().unwrap_or("(unnamed)");
        let _ = writeln!(
            t,
            "client {name}: tier {:?}, {} internal, {} DNS, {} external; observed {} to {} ({} days)",
            c.tier,
            c.internal.len(),
            c.dns.len(),
            c.external.len(),
            c.first_seen,
            c.last_seen,
            c.horizon_days
        );
        match &c.stable_since {
            Some(day) => {
                let _ = writeln!(t, "  stable since {day}");
            }
            None => {
                if let Some(last) = c.changes.last() {
                    let _ = writeln!(t, "  {} new destination(s) on {}", last.new.len(), last.day);
                }
            }
        }
        if c.tier == Tier::D {
            if !c.needs_investigation.is_empty() {
                let _ = writeln!(t, "  {} IP-only external destinations", c.needs_investigation.len());
            }
        } else {
            for d in &c.needs_investigation {
                let _ = writeln!(t, "  needs investigation: {d}");
            }
        }
        if c.ready {
            let _ = writeln!(t, "  ready to enforce");
        } else {
            for why in &c.not_ready {
                let _ = writeln!(t, "  not ready: {why}");
            }
        }
    }
    for (i, wave) in plan.waves.iter().enumerate() {
        let _ = writeln!(t, "rollout wave {}: {}", i + 1, wave.join(", "));
    }
    if !plan.keep_observing.is_empty() {
        let _ = writeln!(t, "keep observing: {}", plan.keep_observing.join(", "));
    }
    if !plan.keep_in_observe.is_empty() {
        let _ = writeln!(
            t,
            "keep in observe (tier D, no rules proposed): {}",
            plan.keep_in_observe.join(", ")
        );
    }
    t
}
