//! `egress-policy import`: flow records the network already keeps, turned into
//! observation records ([`egress_policy_core::record`]) in the format the
//! library's `Recorder` writes, so `suggest` and `report` read them unchanged.
//!
//! Formats:
//!
//! - **`kernel-log`**: netfilter log lines (`IN= OUT= SRC= DST= PROTO= SPT=
//!   DPT=`), as Calico's `Log` action writes them with the prefix
//!   `calico-packet:` (the default `--prefix`), plain, after a journald
//!   (`journalctl -o short-iso`) or syslog prefix.
//! - **`nftables-log`**: the same line format from `log prefix` statements
//!   (iptables `LOG` too); every line holding `SRC=` and `DST=` is a flow
//!   unless `--prefix` narrows it (`egress-policy would-deny` for the nftables
//!   export's observe mode).
//! - **`hubble`**: `hubble observe -o json` (one flow per line, with or without
//!   the `{"flow": ...}` wrapper). Egress, non-reply TCP and UDP flows become
//!   records; DNS responses (`l7.dns`) name the addresses they answered;
//!   `destination_names` names the destination directly. `DROPPED` flows are
//!   denials, `AUDIT` flows would-be denials.
//!
//! Each record is one (client, destination, UTC day): scheme `tcp` or `udp`,
//! the port, and the host — the name, when exactly one name is known for the
//! address (Hubble, `--dns-log`), with the addresses it was seen at as
//! `resolved`; else the address. Imported records say where they came from
//! (`source`) and carry the reason [`Observation::FLOW_SEEN`] or
//! [`Observation::FLOW_DROPPED`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::SystemTime;

use egress_policy_core::record::Observation;
use egress_policy_core::time::format_rfc3339;
use ipnet::IpNet;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Calico `Log` lines (kernel log, `calico-packet:` prefix by default).
    KernelLog,
    /// `hubble observe -o json`.
    Hubble,
    /// nftables / iptables `log` lines (no prefix required by default).
    NftablesLog,
}

impl Format {
    /// As written on the command line and in records' `source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::KernelLog => "kernel-log",
            Format::Hubble => "hubble",
            Format::NftablesLog => "nftables-log",
        }
    }
}

/// How Hubble flows name their client (without `--clients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientFrom {
    /// The source pod's namespace.
    #[default]
    Namespace,
    /// `namespace.workload` (the pod's workload, or its name without the
    /// replica-set and pod suffixes).
    Workload,
}

/// Source addresses and networks → client names, longest prefix first.
#[derive(Debug, Clone, Default)]
pub struct ClientMap {
    nets: Vec<(IpNet, String)>,
    ambiguous: Vec<String>,
}

impl ClientMap {
    /// Whether no entry was given.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Networks given for several clients (host-network pods share their
    /// node's address): left out, so no traffic is put on the wrong client.
    pub fn ambiguous(&self) -> &[String] {
        &self.ambiguous
    }

    /// The client for a source address.
    pub fn lookup(&self, ip: IpAddr) -> Option<&str> {
        self.nets.iter().find(|(n, _)| n.contains(&ip)).map(|(_, c)| c.as_str())
    }

    /// Reads a map: CSV lines `ADDRESS_OR_CIDR,NAME` (a header and `#`
    /// comments allowed), a JSON object `{"10.0.1.0/24": "billing"}`, or the
    /// output of `kubectl get pods -A -o wide` (the `NAMESPACE`, `NAME` and `IP`
    /// columns; the client is the namespace, or `namespace.workload` with
    /// [`ClientFrom::Workload`]). Names must be client names
    /// (`[a-z0-9][a-z0-9_.-]*`); errors name the line.
    pub fn parse(origin: &str, text: &str, from: ClientFrom) -> Result<ClientMap, String> {
        let mut nets: Vec<(IpNet, String)> = Vec::new();
        let net = |raw: &str, at: &str| -> Result<IpNet, String> {
            let raw = raw.trim();
            raw.parse::<IpNet>()
                .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{at}: `{raw}` is not an address or CIDR"))
        };
        let name = |raw: &str, at: &str| -> Result<String, String> {
            let raw = raw.trim();
            egress_policy_core::rule_id_from(raw)
                .filter(|n| n == raw)
                .ok_or_else(|| format!("{at}: `{raw}` is not a client name ([a-z0-9][a-z0-9_.-]*)"))
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            let map: BTreeMap<String, String> =
                serde_json::from_str(text).map_err(|e| format!("{origin}: not a JSON object of address → name: {e}"))?;
            for (k, v) in map {
                let at = format!("{origin}: key {k:?}");
                nets.push((net(&k, &at)?, name(&v, &at)?));
            }
        } else if trimmed.starts_with("NAMESPACE") {
            // kubectl aligns columns: cut each row at the header's column
            // starts (cells such as `2 (3h ago)` hold spaces).
            let mut lines = text.lines().enumerate();
            let header = lines.next().map(|(_, l)| l).unwrap_or_default();
            let mut starts: Vec<(usize, &str)> = Vec::new();
            let mut prev_space = true;
            for (i, c) in header.char_indices() {
                if !c.is_whitespace() && prev_space {
                    let word = header[i..].split_whitespace().next().unwrap_or_default();
                    starts.push((i, word));
                }
                prev_space = c.is_whitespace();
            }
            let col = |name: &str| starts.iter().position(|(_, w)| *w == name);
            let (Some(ns), Some(pod), Some(ip)) = (col("NAMESPACE"), col("NAME"), col("IP")) else {
                return Err(format!(
                    "{origin}:1: a kubectl table needs the NAMESPACE, NAME and IP columns (-o wide)"
                ));
            };
            let status = col("STATUS");
            for (i, line) in lines {
                if line.trim().is_empty() {
                    continue;
                }
                let at = format!("{origin}:{}", i + 1);
                let cell = |k: usize| -> Option<&str> {
                    let from = starts[k].0;
                    let to = starts.get(k + 1).map_or(line.len(), |s| s.0.min(line.len()));
                    line.get(from..to).map(str::trim).filter(|c| !c.is_empty())
                };
                let (Some(ns), Some(pod), Some(ip)) = (cell(ns), cell(pod), cell(ip)) else {
                    return Err(format!("{at}: the row does not line up with the header's columns"));
                };
                if ip == "<none>" || status.and_then(cell).is_some_and(|s| s != "Running") {
                    continue; // pending pods have no address; finished pods' addresses are reused
                }
                let client = match from {
                    ClientFrom::Namespace => ns.to_string(),
                    ClientFrom::Workload => format!("{ns}.{}", workload_of(pod)),
                };
                nets.push((net(ip, &at)?, name(&client, &at)?));
            }
        } else {
            let mut first = true;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let at = format!("{origin}:{}", i + 1);
                let Some((addr, client)) = line.split_once(',') else {
                    return Err(format!("{at}: write ADDRESS_OR_CIDR,NAME"));
                };
                if std::mem::replace(&mut first, false) && crate::is_csv_header(line) {
                    continue;
                }
                nets.push((net(addr, &at)?, name(client, &at)?));
            }
        }
        // The same network for different clients: nobody's.
        let mut by_net: BTreeMap<IpNet, BTreeSet<String>> = BTreeMap::new();
        for (net, client) in nets {
            by_net.entry(net).or_default().insert(client);
        }
        let mut ambiguous = Vec::new();
        let mut nets: Vec<(IpNet, String)> = Vec::new();
        for (net, clients) in by_net {
            if clients.len() == 1 {
                nets.extend(clients.into_iter().map(|c| (net, c)));
            } else {
                ambiguous.push(format!("{net} is given for {}", clients.into_iter().collect::<Vec<_>>().join(", ")));
            }
        }
        if nets.is_empty() {
            return Err(format!("{origin}: no entries"));
        }
        // Longest prefix first, so a pod's /32 wins over its namespace's range.
        nets.sort_by(|a, b| b.0.prefix_len().cmp(&a.0.prefix_len()).then(a.0.cmp(&b.0)));
        Ok(ClientMap { nets, ambiguous })
    }
}

/// A pod's workload: its name without the replica-set hash and pod suffix
/// (`api-7d9f8c6b5-x2x9k` → `api`) or a job's pod suffix; StatefulSet pods
/// keep their ordinal (`db-0`).
fn workload_of(pod: &str) -> String {
    let parts: Vec<&str> = pod.split('-').collect();
    // Kubernetes makes these suffixes from an alphabet without vowels and
    // without 0, 1 and 3, so words like `exporter` are never taken for one.
    let hashy = |s: &str| s.len() >= 5 && s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c));
    let n = parts.len();
    if n >= 3 && hashy(parts[n - 1]) && parts[n - 2].len() >= 8 && hashy(parts[n - 2]) {
        parts[..n - 2].join("-")
    } else if n >= 2 && parts[n - 1].len() == 5 && hashy(parts[n - 1]) {
        parts[..n - 1].join("-")
    } else {
        pod.to_string()
    }
}

/// A name from a log, as a policy would write it: a canonical DNS name (lower
/// case, A-labels, no trailing dot), never a wildcard or an address. `None`
/// for anything else, so nothing a log line says can widen a proposal or
/// reach the generated policy unchecked.
pub fn canonical_name(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('.');
    if raw.is_empty() || raw.contains('*') || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    match egress_policy_core::Host::parse(raw).ok()? {
        egress_policy_core::Host::Name(n) if n.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) => Some(n.to_string()),
        _ => None,
    }
}

/// Names the resolver answered with, by the client that asked and the
/// address. An answer names an address only for the client whose lookup it
/// answered, so one workload's lookups can never rename another's traffic: an
/// answer whose asker no client map entry or label names only names traffic
/// that has no client either. Curated `NAME,ADDRESS` lines name the address
/// for every client.
#[derive(Debug, Clone, Default)]
pub struct DnsMap {
    names: HashMap<(Option<String>, IpAddr), BTreeSet<String>>,
    curated: HashMap<IpAddr, BTreeSet<String>>,
}

impl DnsMap {
    /// Records that `name` answered `addr` for `client` (`None`: traffic
    /// without a client). `false` when `name` is not a DNS name.
    pub fn insert(&mut self, client: Option<&str>, name: &str, addr: IpAddr) -> bool {
        let Some(name) = canonical_name(name) else { return false };
        self.names.entry((client.map(str::to_string), addr)).or_default().insert(name);
        true
    }

    /// Records a curated answer, for every client. `false` when `name` is not
    /// a DNS name.
    pub fn insert_curated(&mut self, name: &str, addr: IpAddr) -> bool {
        let Some(name) = canonical_name(name) else { return false };
        self.curated.entry(addr).or_default().insert(name);
        true
    }

    fn all_for(&self, client: Option<&str>, addr: IpAddr) -> BTreeSet<&str> {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        names.extend(
            self.names
                .get(&(client.map(str::to_string), addr))
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
        names.extend(self.curated.get(&addr).into_iter().flatten().map(String::as_str));
        names
    }

    /// The one name known for `addr` as `client` saw it (its own answers and
    /// the curated ones); `None` when none or several are (a shared address
    /// cannot say which name a connection was for).
    pub fn name_of(&self, client: Option<&str>, addr: IpAddr) -> Option<&str> {
        let names = self.all_for(client, addr);
        if names.len() == 1 { names.into_iter().next() } else { None }
    }

    fn known(&self, client: Option<&str>, addr: IpAddr) -> usize {
        self.all_for(client, addr).len()
    }

    /// Reads resolver answers: dnsmasq `log-queries` lines, or curated
    /// `NAME,ADDR` lines. A dnsmasq `reply NAME is ADDR` belongs to the client
    /// of the `query[...] NAME from IP` it answers (through `clients`), and a
    /// CNAME chain's answers (`reply NAME is <CNAME>` then the target's
    /// replies, with no other query in between) belong to the chain's query and
    /// name the address after the name queried — the name the client asked its
    /// library for. Returns the answers read and the lines that looked like
    /// answers but were not.
    pub fn read(&mut self, origin: &str, text: &str, clients: &ClientMap) -> (usize, Vec<String>) {
        let (mut read, mut bad) = (0, Vec::new());
        let mut first_csv = true;
        // name queried → the querier's client.
        let mut asked: HashMap<String, Option<String>> = HashMap::new();
        // The chain being answered: (client, name queried).
        let mut chain: Option<(Option<String>, String)> = None;
        for (i, line) in text.lines().enumerate() {
            let at = format!("{origin}:{}", i + 1);
            if let Some(rest) = line.split(" query[").nth(1) {
                let mut words = rest.split_whitespace().skip(1);
                if let (Some(name), Some("from"), Some(ip)) = (words.next(), words.next(), words.next()) {
                    let client = ip.parse::<IpAddr>().ok().and_then(|ip| clients.lookup(ip)).map(str::to_string);
                    asked.insert(name.trim_end_matches('.').to_ascii_lowercase(), client);
                }
                chain = None;
            } else if let Some(rest) = line.split(" reply ").nth(1) {
                let mut words = rest.split_whitespace();
                let (Some(name), Some("is"), Some(addr)) = (words.next(), words.next(), words.next()) else {
                    bad.push(format!("{at}: a dnsmasq reply without `NAME is ADDRESS`"));
                    continue;
                };
                if canonical_name(name).is_none() {
                    bad.push(format!("{at}: `{}` is not a DNS name", name.escape_debug()));
                    chain = None;
                    continue;
                }
                let key = name.trim_end_matches('.').to_ascii_lowercase();
                let owner = match asked.get(&key) {
                    Some(c) => Some((c.clone(), key.clone())),
                    None => chain.clone(),
                };
                let Ok(ip) = addr.parse::<IpAddr>() else {
                    // `is <CNAME>` continues the chain; NXDOMAIN and NODATA end it.
                    chain = if addr == "<CNAME>" { owner } else { None };
                    continue;
                };
                chain = owner.clone();
                // An answer no query accounts for names only traffic without a client.
                let (client, queried) = owner.unwrap_or((None, key));
                if self.insert(client.as_deref(), &queried, ip) {
                    read += 1;
                }
            } else if let Some((name, addr)) = line.trim().split_once(',')
                && !line.trim_start().starts_with('#')
            {
                let header = std::mem::replace(&mut first_csv, false) && crate::is_csv_header(line);
                match addr.trim().parse::<IpAddr>() {
                    Ok(ip) => {
                        if self.insert_curated(name, ip) {
                            read += 1;
                        } else {
                            bad.push(format!("{at}: `{}` is not a DNS name", name.trim().escape_debug()));
                        }
                    }
                    Err(_) if header => {}
                    Err(_) => bad.push(format!("{at}: `{}` is not an address", addr.trim().escape_debug())),
                }
            }
        }
        (read, bad)
    }
}

/// Import options.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The input format.
    pub format: Format,
    /// Only lines holding this text are flows (kernel-log: `calico-packet` by default).
    pub prefix: Option<String>,
    /// Source address → client (`--clients`); empty: Hubble's labels, or no client.
    pub clients: ClientMap,
    /// How Hubble flows name their client without `--clients`.
    pub client_from: ClientFrom,
    /// The year of syslog time stamps that have none (`Nov 20 10:00:00`).
    pub year: i32,
}

impl Options {
    /// Defaults for `format`: its default prefix, no client map, namespaces,
    /// the current year.
    pub fn new(format: Format) -> Options {
        Options {
            format,
            prefix: (format == Format::KernelLog).then(|| "calico-packet".to_string()),
            clients: ClientMap::default(),
            client_from: ClientFrom::Namespace,
            year: OffsetDateTime::now_utc().year(),
        }
    }
}

/// What reading found besides flows.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Lines read.
    pub lines: usize,
    /// Flows kept.
    pub flows: usize,
    /// Lines that should have been flows but could not be read: `file:line: why`.
    pub bad: Vec<String>,
    /// Lines that are not flow records (other log lines, other prefixes).
    pub other: usize,
    /// Flows into a mapped client, replies, and ingress flows: not egress.
    pub not_egress: usize,
    /// Flows of other protocols than TCP and UDP (ICMP, ...).
    pub not_tcp_udp: usize,
    /// Egress flows whose source no client map entry or label names.
    pub unmapped: usize,
    /// Flows to an address several names answered with (kept as the address).
    pub ambiguous: usize,
    /// Events the capture lost (Hubble `lost_events`): written as an overflow record.
    pub lost: u64,
    /// When the latest loss was reported.
    pub lost_at: Option<String>,
}

/// One egress flow.
#[derive(Debug, Clone)]
struct Flow {
    at: OffsetDateTime,
    client: Option<String>,
    proto: &'static str,
    dst: IpAddr,
    port: u16,
    name: Option<String>,
    dropped: bool,
    audit: bool,
}

/// Flows read from any number of files, then grouped into records.
#[derive(Debug, Default)]
pub struct Importer {
    flows: Vec<Flow>,
    dns: DnsMap,
    /// The latest syslog stamp read, and the years added since (New Year).
    last_syslog: Option<OffsetDateTime>,
    year_bump: i32,
    /// What was found besides flows, over every file.
    pub stats: Stats,
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A log line's time stamp: RFC 3339 / ISO 8601 (`journalctl -o short-iso`,
/// `+0000` offsets too) or syslog's `Mmm dd hh:mm:ss`, whose year is `year`
/// and whose zone is UTC. Returns the time, how many words it took, and
/// whether it was a syslog one (no year of its own).
fn line_time(line: &str, year: i32) -> Option<(OffsetDateTime, usize, bool)> {
    let first = line.split_whitespace().next()?;
    if let Ok(t) = OffsetDateTime::parse(first, &Rfc3339) {
        return Some((t, 1, false));
    }
    // `2026-11-20T10:00:00+0000` → `+00:00`.
    if first.len() > 5 {
        let (head, tail) = first.split_at(first.len() - 5);
        if (tail.starts_with('+') || tail.starts_with('-'))
            && tail[1..].bytes().all(|b| b.is_ascii_digit())
            && let Ok(t) = OffsetDateTime::parse(&format!("{head}{}:{}", &tail[..3], &tail[3..]), &Rfc3339)
        {
            return Some((t, 1, false));
        }
    }
    let mut words = line.split_whitespace();
    let first = words.next()?;
    let month = MONTHS.iter().position(|m| *m == first)? as u8 + 1;
    let day: u8 = words.next()?.parse().ok()?;
    let hms: Vec<u8> = words.next()?.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms[..] else { return None };
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some((date.with_hms(h, m, s).ok()?.assume_utc(), 3, true))
}

/// The kernel's message in a syslog or journald line: the words after the
/// time stamp, the host and the `kernel:` tag, without dmesg's `[ 123.456]`.
/// `None` when the line is not the kernel's (another program's log can say
/// anything, `SRC=` included).
fn kernel_message(line: &str, words_of_time: usize) -> Option<&str> {
    let mut rest = line;
    for _ in 0..words_of_time + 1 {
        rest = rest.trim_start();
        rest = &rest[rest.find(char::is_whitespace)?..];
    }
    let rest = rest.trim_start().strip_prefix("kernel:")?.trim_start();
    Some(match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((stamp, after)) if stamp.trim().parse::<f64>().is_ok() => after.trim_start(),
        _ => rest,
    })
}

impl Importer {
    /// A new importer.
    pub fn new() -> Importer {
        Importer::default()
    }

    /// Reads resolver answers (`--dns-log`) that name destination addresses;
    /// `opts.clients` attributes each answer to the client that asked.
    pub fn read_dns_log(&mut self, origin: &str, text: &str, opts: &Options) -> Result<usize, String> {
        let (read, bad) = self.dns.read(origin, text, &opts.clients);
        self.stats.bad.extend(bad);
        if read == 0 {
            return Err(format!(
                "{origin}: no resolver answer (`reply NAME is ADDRESS` or `NAME,ADDRESS` lines)"
            ));
        }
        Ok(read)
    }

    /// Reads one file of flow records; an error when it holds none.
    pub fn read(&mut self, origin: &str, text: &str, opts: &Options) -> Result<usize, String> {
        let before = self.flows.len();
        let bad_before = self.stats.bad.len();
        for (i, line) in text.lines().enumerate() {
            self.stats.lines += 1;
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{origin}:{}", i + 1);
            let result = match opts.format {
                Format::Hubble => self.hubble_line(line, opts),
                Format::KernelLog | Format::NftablesLog => self.log_line(line, opts),
            };
            match result {
                Ok(Some(flow)) => self.flows.push(flow),
                Ok(None) => {}
                Err(why) => self.stats.bad.push(format!("{at}: {why}")),
            }
        }
        let read = self.flows.len() - before;
        if read == 0 {
            let bad = self.stats.bad.len() - bad_before;
            let shown: Vec<String> = self.stats.bad[bad_before..].iter().take(5).map(|b| format!("\n  {b}")).collect();
            return Err(format!(
                "{origin}: no {} flow record in {} lines{}{}",
                opts.format.as_str(),
                text.lines().count(),
                if bad > 0 {
                    format!(" ({bad} could not be read)")
                } else {
                    String::new()
                },
                shown.concat()
            ));
        }
        self.stats.flows += read;
        Ok(read)
    }

    fn client_for(&mut self, src: IpAddr, dst: IpAddr, opts: &Options) -> Result<Option<String>, ()> {
        if opts.clients.is_empty() {
            return Ok(None);
        }
        match (opts.clients.lookup(src), opts.clients.lookup(dst)) {
            (Some(c), _) => Ok(Some(c.to_string())),
            (None, Some(_)) => Err(()), // into a client: ingress
            (None, None) => {
                self.stats.unmapped += 1;
                Ok(None)
            }
        }
    }

    fn log_line(&mut self, line: &str, opts: &Options) -> Result<Option<Flow>, String> {
        let timed = line_time(line, opts.year);
        let message = timed.and_then(|(_, words, _)| kernel_message(line, words));
        let Some(message) = message else {
            // Not a kernel log line (or one without a time stamp we read).
            let looks_like_flow = line.contains("SRC=") && line.contains("DST=");
            let ours = opts.prefix.as_deref().is_none_or(|p| line.contains(p));
            if looks_like_flow && ours {
                return Err(if timed.is_none() {
                    "no time stamp (RFC 3339, journalctl -o short-iso, or syslog)".into()
                } else {
                    "not a kernel log line (`HOST kernel:` must follow the time stamp)".into()
                });
            }
            self.stats.other += 1;
            return Ok(None);
        };
        let body = match &opts.prefix {
            Some(p) => match message.strip_prefix(p.as_str()) {
                Some(rest) => rest,
                None => {
                    self.stats.other += 1;
                    return Ok(None);
                }
            },
            None => message,
        };
        // With a prefix, every line carrying it is a flow record; without one,
        // the kernel lines holding addresses are.
        if opts.prefix.is_none() && !(body.contains("SRC=") && body.contains("DST=")) {
            self.stats.other += 1;
            return Ok(None);
        }
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for (k, v) in body.split_whitespace().filter_map(|w| w.split_once('=')) {
            if fields.insert(k, v).is_some() && matches!(k, "SRC" | "DST" | "PROTO" | "SPT" | "DPT") {
                return Err(format!("{k}= appears twice"));
            }
        }
        let get = |k: &str| fields.get(k).copied().ok_or_else(|| format!("no {k}="));
        let src: IpAddr = get("SRC")?
            .parse()
            .map_err(|_| format!("SRC={} is not an address", get("SRC").unwrap_or_default().escape_debug()))?;
        let dst: IpAddr = get("DST")?
            .parse()
            .map_err(|_| format!("DST={} is not an address", get("DST").unwrap_or_default().escape_debug()))?;
        let proto = match get("PROTO")? {
            "TCP" => "tcp",
            "UDP" => "udp",
            _ => {
                self.stats.not_tcp_udp += 1;
                return Ok(None);
            }
        };
        let port: u16 = get("DPT")?.parse().map_err(|_| "DPT= is not a port".to_string())?;
        let (mut at, _, syslog) = timed.ok_or("no time stamp")?;
        if syslog {
            // Syslog stamps carry no year: a stamp far before the previous one
            // crossed New Year.
            let year = opts.year + self.year_bump;
            at = at.replace_year(year).map_err(|e| e.to_string())?;
            if let Some(prev) = self.last_syslog
                && at < prev - time::Duration::days(180)
            {
                self.year_bump += 1;
                at = at.replace_year(year + 1).map_err(|e| e.to_string())?;
            }
            self.last_syslog = Some(at);
        }
        if at > OffsetDateTime::now_utc() + time::Duration::days(1) {
            return Err(format!(
                "{} is in the future{}",
                format_rfc3339(SystemTime::from(at)),
                if syslog {
                    " (syslog stamps have no year: check --year)"
                } else {
                    ""
                }
            ));
        }
        let Ok(client) = self.client_for(src, dst, opts) else {
            self.stats.not_egress += 1;
            return Ok(None);
        };
        let name = self.name_for(client.as_deref(), dst);
        // The nftables export's observe mode logs would-be drops with the prefix
        // `egress-policy would-deny`.
        let audit = message.starts_with("egress-policy would-deny");
        Ok(Some(Flow {
            at,
            client,
            proto,
            dst,
            port,
            name,
            dropped: false,
            audit,
        }))
    }

    fn name_for(&mut self, client: Option<&str>, dst: IpAddr) -> Option<String> {
        match self.dns.known(client, dst) {
            0 => None,
            1 => self.dns.name_of(client, dst).map(str::to_string),
            _ => {
                self.stats.ambiguous += 1;
                None
            }
        }
    }

    /// The client of a Hubble endpoint (`source` or `destination`): its
    /// namespace or workload, as a client name.
    fn endpoint_client(flow: &serde_json::Value, side: &str, from: ClientFrom) -> Option<String> {
        let ep = flow.get(side)?;
        let ns = ep.get("namespace").and_then(|n| n.as_str()).filter(|n| !n.is_empty())?;
        let workload = ep
            .get("workloads")
            .and_then(|w| w.get(0))
            .and_then(|w| w.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .or_else(|| ep.get("pod_name").and_then(|p| p.as_str()).map(workload_of));
        let raw = match (from, workload) {
            (ClientFrom::Workload, Some(w)) => format!("{ns}.{w}"),
            _ => ns.to_string(),
        };
        egress_policy_core::rule_id_from(&raw)
    }

    fn hubble_line(&mut self, line: &str, opts: &Options) -> Result<Option<Flow>, String> {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
        // Events Hubble could not deliver: the capture is incomplete by this many.
        if let Some(lost) = v.get("lost_events") {
            self.stats.lost += lost.get("num_events_lost").and_then(serde_json::Value::as_u64).unwrap_or(1);
            if let Some(t) = v
                .get("time")
                .and_then(|t| t.as_str())
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            {
                let t = format_rfc3339(SystemTime::from(t));
                if self.stats.lost_at.as_ref().is_none_or(|l| *l < t) {
                    self.stats.lost_at = Some(t);
                }
            }
            return Ok(None);
        }
        let flow = v.get("flow").unwrap_or(&v);
        if !flow.is_object() || flow.get("IP").is_none() && flow.get("l7").is_none() && flow.get("time").is_none() {
            return Err("not a Hubble flow (no `flow`, `IP` or `time`)".into());
        }
        let str_at = |path: &[&str]| -> Option<&str> {
            let mut cur = flow;
            for p in path {
                cur = cur.get(*p)?;
            }
            cur.as_str()
        };
        // DNS responses name addresses, for the client that asked (the
        // response's destination).
        if let Some(dns) = flow.get("l7").and_then(|l| l.get("dns")) {
            if let (Some(query), Some(ips)) = (dns.get("query").and_then(|q| q.as_str()), dns.get("ips").and_then(|i| i.as_array())) {
                let asker = if opts.clients.is_empty() {
                    Self::endpoint_client(flow, "destination", opts.client_from)
                } else {
                    str_at(&["IP", "destination"])
                        .and_then(|d| d.parse::<IpAddr>().ok())
                        .and_then(|ip| opts.clients.lookup(ip))
                        .map(str::to_string)
                };
                for ip in ips.iter().filter_map(|i| i.as_str()?.parse::<IpAddr>().ok()) {
                    if !self.dns.insert(asker.as_deref(), query, ip) {
                        return Err(format!("l7.dns.query {:?} is not a DNS name", query));
                    }
                }
            }
            self.stats.other += 1;
            return Ok(None);
        }
        let time = str_at(&["time"]).ok_or("no `time`")?;
        let at = OffsetDateTime::parse(time, &Rfc3339).map_err(|e| format!("time {time:?}: {e}"))?;
        let src: IpAddr = str_at(&["IP", "source"])
            .ok_or("no IP.source")?
            .parse()
            .map_err(|_| "IP.source is not an address")?;
        let dst: IpAddr = str_at(&["IP", "destination"])
            .ok_or("no IP.destination")?
            .parse()
            .map_err(|_| "IP.destination is not an address")?;
        if flow.get("is_reply").and_then(|r| r.as_bool()) == Some(true) || str_at(&["traffic_direction"]).is_some_and(|d| d == "INGRESS") {
            self.stats.not_egress += 1;
            return Ok(None);
        }
        let l4 = flow.get("l4");
        let (proto, l4v) = match l4
            .and_then(|l| l.get("TCP"))
            .map(|t| ("tcp", t))
            .or_else(|| l4.and_then(|l| l.get("UDP")).map(|u| ("udp", u)))
        {
            Some(x) => x,
            None => {
                self.stats.not_tcp_udp += 1;
                return Ok(None);
            }
        };
        let port = l4v
            .get("destination_port")
            .and_then(serde_json::Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or("no l4 destination_port")?;
        let verdict = str_at(&["verdict"]).unwrap_or("FORWARDED");
        let client = if opts.clients.is_empty() {
            let c = Self::endpoint_client(flow, "source", opts.client_from);
            if c.is_none() {
                self.stats.unmapped += 1;
            }
            c
        } else {
            match self.client_for(src, dst, opts) {
                Ok(c) => c,
                Err(()) => {
                    self.stats.not_egress += 1;
                    return Ok(None);
                }
            }
        };
        // `destination_names` names this flow's address (Cilium's DNS cache for
        // the source endpoint): this flow only, when it holds exactly one name.
        let mut names: BTreeSet<String> = BTreeSet::new();
        for n in flow.get("destination_names").and_then(|n| n.as_array()).into_iter().flatten() {
            let raw = n.as_str().unwrap_or_default();
            names.insert(canonical_name(raw).ok_or_else(|| format!("destination_names {raw:?} is not a DNS name"))?);
        }
        let name = match names.len() {
            0 => self.name_for(client.as_deref(), dst),
            1 => names.into_iter().next(),
            _ => {
                self.stats.ambiguous += 1;
                None
            }
        };
        Ok(Some(Flow {
            at,
            client,
            proto,
            dst,
            port,
            name,
            dropped: matches!(verdict, "DROPPED" | "ERROR"),
            audit: verdict == "AUDIT",
        }))
    }

    /// The records: one per (client, scheme, host, port, UTC day), sorted.
    /// Names learnt after a flow was read (a DNS answer later in the file)
    /// still name it.
    pub fn observations(&self, format: Format) -> Vec<Observation> {
        type Key = (Option<String>, String, &'static str, u16, time::Date);
        let mut groups: BTreeMap<Key, Vec<&Flow>> = BTreeMap::new();
        for f in &self.flows {
            let host = f
                .name
                .clone()
                .or_else(|| self.dns.name_of(f.client.as_deref(), f.dst).map(str::to_string))
                .unwrap_or_else(|| f.dst.to_string());
            groups
                .entry((f.client.clone(), host, f.proto, f.port, f.at.to_offset(time::UtcOffset::UTC).date()))
                .or_default()
                .push(f);
        }
        groups
            .into_iter()
            .map(|((client, host, proto, port, _), mut flows)| {
                flows.sort_by_key(|f| f.at);
                let first = flows.first().expect("a group has a flow");
                let last = flows.last().expect("a group has a flow");
                let mut o = Observation::new(proto, host.clone(), port);
                o.client = client;
                o.count = flows.len() as u64;
                o.first_seen = format_rfc3339(SystemTime::from(first.at));
                o.last_seen = format_rfc3339(SystemTime::from(last.at));
                let denied = last.dropped || last.audit;
                o.verdict = if denied { "deny" } else { "allow" }.into();
                o.reason = if denied {
                    Observation::FLOW_DROPPED
                } else {
                    Observation::FLOW_SEEN
                }
                .into();
                o.enforced = last.dropped;
                if host.parse::<IpAddr>().is_err() {
                    let addrs: BTreeSet<IpAddr> = flows.iter().map(|f| f.dst).collect();
                    o.resolved = addrs
                        .into_iter()
                        .take(egress_policy_core::Recorder::MAX_ADDRESSES_PER_NAME)
                        .collect();
                }
                o.source = Some(format.as_str().into());
                o
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps() {
        let t = |s: &str| line_time(s, 2026).map(|(t, _, _)| format_rfc3339(SystemTime::from(t)));
        assert_eq!(
            t("2026-11-20T10:00:00+0000 node kernel: x").as_deref(),
            Some("2026-11-20T10:00:00Z")
        );
        assert_eq!(
            t("2026-11-20T11:00:00.5+01:00 node kernel: x").as_deref(),
            Some("2026-11-20T10:00:00.5Z")
        );
        assert_eq!(t("Nov 20 10:00:00 node kernel: x").as_deref(), Some("2026-11-20T10:00:00Z"));
        assert_eq!(t("Nov  2 09:08:07 node kernel: x").as_deref(), Some("2026-11-02T09:08:07Z"));
        assert_eq!(t("[12345.6789] calico-packet: SRC=1.2.3.4"), None);
    }

    #[test]
    fn kernel_messages_follow_the_kernel_tag() {
        fn m(s: &str) -> Option<&str> {
            line_time(s, 2026).and_then(|(_, w, _)| kernel_message(s, w))
        }
        assert_eq!(
            m("2026-11-20T10:00:00+0000 node kernel: calico-packet: IN="),
            Some("calico-packet: IN=")
        );
        assert_eq!(
            m("Nov 20 10:00:00 node kernel: [ 12.5] calico-packet: IN="),
            Some("calico-packet: IN=")
        );
        assert_eq!(m("Nov 20 10:00:00 node myapp[12]: kernel: calico-packet: IN="), None);
        assert_eq!(m("Nov 20 10:00:00 node myapp[12]: calico-packet: SRC=1.2.3.4"), None);
    }

    #[test]
    fn names_from_logs_are_canonical_dns_names() {
        assert_eq!(canonical_name("API.Example.COM.").as_deref(), Some("api.example.com"));
        for bad in ["*.com", "10.0.0.1", "a\n[[allow]]", "", "a b.example", "[::1]"] {
            assert_eq!(canonical_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn workloads() {
        assert_eq!(workload_of("api-7d9f8c6b5-x2x9k"), "api");
        assert_eq!(workload_of("node-exporter-x2x9k"), "node-exporter");
        assert_eq!(workload_of("db-0"), "db-0");
        assert_eq!(workload_of("web"), "web");
    }
}
