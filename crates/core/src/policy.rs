//! The compiled policy: rule indexes, identity, decisions and connect-time admission.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use sha2::Digest as _;

use crate::audit;
use crate::decision::{Context, Decision, DecisionRef, Digest, PolicyId, Reason, Verdict};
use crate::destination::Destination;
use crate::host::Host;
use crate::index::{Index, matchable};
use crate::load::{Format, LoadError, LoadErrorKind};
use crate::model::{Enforcement, Mode, Rule, RuleKind, Scheme};

/// A loaded, validated and compiled egress policy.
///
/// A `Policy` exists only if its whole file loaded cleanly. Decisions cost a
/// handful of hash lookups whatever the number of rules: exact names in a hash
/// map, `*.` wildcards by label-suffix lookup, CIDRs by one probe per distinct
/// prefix length.
///
/// ```
/// use egress_policy_core::{Policy, Reason};
///
/// let policy = Policy::from_toml_str(r#"
///     version = 1
///     mode = "sealed"
///
///     [[allow]]
///     id = "payments-api"
///     hosts = ["api.payments.example", "*.cdn.payments.example"]
///     owner = "payments-team@example.com"
/// "#)?;
///
/// let d = policy.decide_url("https://api.payments.example/v1/charges");
/// assert!(d.is_allow());
/// assert_eq!(d.rule().map(|r| r.id()), Some("payments-api"));
///
/// let d = policy.decide_url("https://cdn.payments.example/");   // apex is not covered by `*.`
/// assert_eq!(d.reason(), Reason::NoMatchingRule);
///
/// let d = policy.decide_url("http://api.payments.example/");    // https only by default
/// assert_eq!(d.reason(), Reason::SchemeNotAllowed);
/// # Ok::<(), egress_policy_core::LoadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Policy {
    environment: Option<Box<str>>,
    mode: Mode,
    enforcement: Enforcement,
    floor: bool,
    allow: Vec<Arc<Rule>>,
    deny: Vec<Arc<Rule>>,
    allow_index: Index,
    deny_index: Index,
    id: PolicyId,
    /// Whether any rule expires: when none does, decisions need no clock.
    expiring: bool,
    telemetry: Arc<audit::Telemetry>,
}

impl Policy {
    /// Loads a policy file; the format comes from the extension (`.toml`,
    /// `.json`, `.yaml`/`.yml`).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Policy, LoadError> {
        let path = path.as_ref();
        let format = Format::from_path(path).ok_or_else(|| LoadError::new(LoadErrorKind::UnknownFormat).with_file(path))?;
        let src = std::fs::read_to_string(path).map_err(|e| LoadError::new(LoadErrorKind::Io(e)).with_file(path))?;
        Policy::from_str_format(&src, format).map_err(|e| e.with_file(path))
    }

    /// Parses a policy in the given format.
    pub fn from_str_format(src: &str, format: Format) -> Result<Policy, LoadError> {
        let parsed = crate::load::parse(src, format)?;
        Ok(Policy::compile(parsed))
    }

    /// Parses a TOML policy.
    pub fn from_toml_str(src: &str) -> Result<Policy, LoadError> {
        Policy::from_str_format(src, Format::Toml)
    }

    fn compile(parsed: crate::load::Parsed) -> Policy {
        let crate::load::Parsed {
            environment,
            mode,
            enforcement,
            floor,
            allow,
            deny,
        } = parsed;
        // Rules are kept sorted by id, so the policy's identity (its digest) fully
        // determines every decision, whatever order the file lists rules in.
        let sort = |mut rules: Vec<Rule>| {
            rules.sort_by(|a, b| a.id.cmp(&b.id));
            for (slot, rule) in rules.iter_mut().enumerate() {
                rule.slot = slot as u32;
            }
            rules.into_iter().map(Arc::new).collect::<Vec<_>>()
        };
        let allow = sort(allow);
        let deny = sort(deny);
        let expiring = allow.iter().chain(&deny).any(|r| r.expires.is_some());
        let telemetry = Arc::new(audit::Telemetry::new(allow.len(), deny.len()));
        let mut policy = Policy {
            environment: environment.map(Into::into),
            expiring,
            telemetry,
            mode,
            enforcement,
            floor,
            allow_index: Index::build(&allow),
            deny_index: Index::build(&deny),
            allow,
            deny,
            id: PolicyId {
                generation: 1,
                digest: Digest::default(),
            },
        };
        policy.id.digest = policy.compute_digest();
        policy
    }

    /// The same policy in another mode (the CLI's `--mode`); the digest changes
    /// with it, since the decisions do.
    pub fn with_mode(mut self, mode: Mode) -> Policy {
        self.mode = mode;
        self.id.digest = self.compute_digest();
        self
    }

    pub(crate) fn set_generation(&mut self, generation: u64) {
        self.id.generation = generation;
    }

    /// The `environment` label, if the file sets one.
    pub fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }
    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// `enforce` or `observe`.
    pub fn enforcement(&self) -> Enforcement {
        self.enforcement
    }
    /// Whether this policy is **sealed**: mode `sealed` *and* enforcement
    /// `enforce`. A sealed policy under `observe` lets everything through, so it
    /// is not sealed: this is what `X-Sealed-Mode` and the reload log's `sealed=`
    /// report.
    ///
    /// ```
    /// use egress_policy_core::Policy;
    /// assert!(Policy::from_toml_str("version = 1\nmode = \"sealed\"")?.is_sealed());
    /// assert!(!Policy::from_toml_str("version = 1\nmode = \"sealed\"\nenforcement = \"observe\"")?.is_sealed());
    /// # Ok::<(), egress_policy_core::LoadError>(())
    /// ```
    pub fn is_sealed(&self) -> bool {
        self.mode == Mode::Sealed && self.enforcement == Enforcement::Enforce
    }
    /// Whether the private floor also applies in `open` mode (`floor = true`).
    pub fn floor(&self) -> bool {
        self.floor
    }
    /// Allow rules, sorted by id.
    pub fn allow_rules(&self) -> impl ExactSizeIterator<Item = &Rule> {
        self.allow.iter().map(|r| &**r)
    }
    /// Deny rules, sorted by id.
    pub fn deny_rules(&self) -> impl ExactSizeIterator<Item = &Rule> {
        self.deny.iter().map(|r| &**r)
    }
    /// A rule by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        // Rules are sorted by id: binary search, no second map of ids.
        [&self.allow, &self.deny]
            .into_iter()
            .find_map(|rules| rules.binary_search_by(|r| (*r.id).cmp(id)).ok().map(|i| &*rules[i]))
    }
    /// Generation and digest.
    pub fn id(&self) -> PolicyId {
        self.id
    }
    /// `sha256:<hex>` of the canonical serialisation.
    pub fn digest(&self) -> Digest {
        self.id.digest
    }
    /// 1 for a policy loaded on its own; set by [`SharedPolicy`](crate::SharedPolicy) on swaps.
    pub fn generation(&self) -> u64 {
        self.id.generation
    }

    /// The canonical serialisation the digest is taken over: compact JSON with a
    /// fixed key order, rules sorted by id, lists sorted and deduplicated, empty
    /// fields left out, expiry as an RFC 3339 UTC instant. Comments, formatting,
    /// key order and the file format do not change it.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(&canonical::View::new(self)).unwrap_or_default()
    }

    /// The policy as a TOML policy file that loads back to the same digest
    /// (rules sorted by id, values in canonical form, expiry as an RFC 3339
    /// instant).
    ///
    /// ```
    /// use egress_policy_core::Policy;
    /// let p = Policy::from_toml_str("version = 1\n[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nexpires = \"2027-01-31\"\n")?;
    /// let again = Policy::from_toml_str(&p.to_toml())?;
    /// assert_eq!(p.digest(), again.digest());
    /// # Ok::<(), egress_policy_core::LoadError>(())
    /// ```
    pub fn to_toml(&self) -> String {
        use toml::{Table, Value};
        let strings = |items: Vec<String>| Value::Array(items.into_iter().map(Value::String).collect());
        let rule = |r: &Rule| -> Table {
            let mut t = Table::new();
            t.insert("id".into(), Value::String(r.id().into()));
            if !r.hosts.is_empty() {
                t.insert("hosts".into(), strings(r.hosts.iter().map(ToString::to_string).collect()));
            }
            if !r.cidrs.is_empty() {
                t.insert("cidrs".into(), strings(r.cidrs.iter().map(ToString::to_string).collect()));
            }
            if !r.schemes.is_all() {
                t.insert("schemes".into(), strings(r.schemes.iter().map(|s| s.to_string()).collect()));
            }
            match &r.ports {
                crate::model::Ports::SchemeDefaults => {}
                crate::model::Ports::Any => {
                    if r.kind == RuleKind::Allow {
                        t.insert("ports".into(), Value::String("any".into()));
                    }
                }
                crate::model::Ports::Ranges(ranges) => {
                    let items = ranges
                        .iter()
                        .map(|&(lo, hi)| {
                            if lo == hi {
                                Value::Integer(i64::from(lo))
                            } else {
                                Value::String(format!("{lo}-{hi}"))
                            }
                        })
                        .collect();
                    t.insert("ports".into(), Value::Array(items));
                }
            }
            if r.kind == RuleKind::Allow {
                t.insert("modes".into(), strings(r.modes.iter().map(|m| m.as_str().to_string()).collect()));
            }
            if let Some(clients) = &r.clients {
                t.insert("clients".into(), strings(clients.iter().map(|c| c.to_string()).collect()));
            }
            if !r.resolves_to.is_empty() {
                t.insert(
                    "resolves_to".into(),
                    strings(r.resolves_to.iter().map(ToString::to_string).collect()),
                );
            }
            for (key, value) in [("owner", r.owner()), ("reason", r.reason()), ("ticket", r.ticket())] {
                if let Some(v) = value {
                    t.insert(key.into(), Value::String(v.into()));
                }
            }
            if let Some(e) = &r.expires {
                t.insert("expires".into(), Value::String(e.to_rfc3339()));
            }
            t
        };
        let mut doc = Table::new();
        doc.insert("version".into(), Value::Integer(1));
        if let Some(env) = &self.environment {
            doc.insert("environment".into(), Value::String(env.to_string()));
        }
        doc.insert("mode".into(), Value::String(self.mode.as_str().into()));
        doc.insert("enforcement".into(), Value::String(self.enforcement.as_str().into()));
        if self.floor {
            doc.insert("floor".into(), Value::Boolean(true));
        }
        for (key, rules) in [("allow", &self.allow), ("deny", &self.deny)] {
            if !rules.is_empty() {
                doc.insert(key.into(), Value::Array(rules.iter().map(|r| Value::Table(rule(r))).collect()));
            }
        }
        toml::to_string(&doc).unwrap_or_default()
    }

    fn compute_digest(&self) -> Digest {
        // Serialised straight into the hasher: no intermediate tree or string.
        let mut hasher = canonical::HashWriter(sha2::Sha256::new());
        let _ = serde_json::to_writer(&mut hasher, &canonical::View::new(self));
        let hash = hasher.0.finalize();
        let mut out = [0u8; 32];
        out.copy_from_slice(&hash);
        Digest(out)
    }

    /// Whether any rule has an expiry (if none does, the instant never matters).
    pub fn has_expiring_rules(&self) -> bool {
        self.expiring
    }

    /// Counts and logs one decision.
    pub(crate) fn emit(&self, d: DecisionRef<'_>) {
        self.telemetry.count(d);
        audit::emit_decision(d);
    }

    /// Decides on a destination as an unnamed client at the current system time.
    pub fn decide(&self, dest: &Destination) -> Decision {
        self.decide_with(dest, &Context::now())
    }

    /// Parses a URL and decides on it; a URL that does not parse is denied with
    /// reason `invalid`.
    pub fn decide_url(&self, url: &str) -> Decision {
        self.decide_url_with(url, &Context::now())
    }

    /// [`Policy::decide_url`] with a client name and instant.
    pub fn decide_url_with(&self, url: &str, cx: &Context<'_>) -> Decision {
        match Destination::parse_url(url) {
            Ok(dest) => self.decide_with(&dest, cx),
            Err(_) => {
                let d = self.decision(Verdict::Deny, Reason::Invalid, None, None);
                self.emit(d);
                d.to_decision()
            }
        }
    }

    /// Decides on a destination ([`docs::matching`](crate::docs::matching)) and emits one audit event.
    pub fn decide_with(&self, dest: &Destination, cx: &Context<'_>) -> Decision {
        self.judge(dest, cx).to_decision()
    }

    /// [`Policy::decide_with`] without making an owned decision: the result
    /// borrows the policy and the destination, so no reference count is
    /// touched. Emits the same audit event and counts the same (with a metrics
    /// recorder installed, counting writes the recorder's shared counters).
    #[inline]
    pub fn judge<'a>(&'a self, dest: &'a Destination, cx: &Context<'_>) -> DecisionRef<'a> {
        let d = self.evaluate(dest, cx);
        self.emit(d);
        d
    }

    pub(crate) fn decision<'a>(
        &'a self,
        verdict: Verdict,
        reason: Reason,
        rule: Option<&'a Arc<Rule>>,
        dest: Option<&'a Destination>,
    ) -> DecisionRef<'a> {
        DecisionRef {
            verdict,
            enforced: self.enforcement == Enforcement::Enforce,
            reason,
            rule,
            mode: self.mode,
            destination: dest,
            policy: self.id,
        }
    }

    /// The first live deny rule covering the destination, most specific first.
    /// An IPv6 address is also judged by every IPv4 address embedded in it
    /// (NAT64, 6to4, Teredo, ISATAP, IPv4-compatible and -translated): denying is
    /// never weaker than the private floor.
    pub(crate) fn deny_match(&self, host: &Host, scheme: &Scheme, port: u16, cx: &Context<'_>) -> Option<&Arc<Rule>> {
        if self.deny.is_empty() {
            return None;
        }
        let hit = self.deny_match_exact(host, scheme, port, cx);
        if hit.is_some() || self.deny_index.cidrs.is_empty() {
            return hit;
        }
        if let Host::Ip(IpAddr::V6(v6)) = host {
            for inner in crate::addr::embedded_ipv4(*v6) {
                let hit = self.deny_match_exact(&Host::Ip(IpAddr::V4(inner)), scheme, port, cx);
                if hit.is_some() {
                    return hit;
                }
            }
        }
        None
    }

    fn deny_match_exact(&self, host: &Host, scheme: &Scheme, port: u16, cx: &Context<'_>) -> Option<&Arc<Rule>> {
        let mut hit = None;
        self.deny_index.for_each_candidate(host, |i| {
            let rule = &self.deny[i as usize];
            let ok = rule.is_live_at(cx.now) && rule.covers(scheme, port) == (true, true);
            if ok {
                hit = Some(rule);
            }
            ok
        });
        hit
    }

    /// The first live allow rule for this mode and client covering the destination.
    /// In `open` mode, where allow rules only exempt addresses from the floor, a
    /// rule's `modes` are not consulted.
    pub(crate) fn allow_match(&self, host: &Host, scheme: &Scheme, port: u16, cx: &Context<'_>) -> Option<&Arc<Rule>> {
        let mut hit = None;
        let mode = self.mode;
        self.allow_index.for_each_candidate(host, |i| {
            let rule = &self.allow[i as usize];
            let applies = if mode == Mode::Open {
                rule.applies_to(rule.modes[0], cx.client)
            } else {
                rule.applies_to(mode, cx.client)
            };
            let ok = applies && rule.is_live_at(cx.now) && rule.covers(scheme, port) == (true, true);
            if ok {
                hit = Some(rule);
            }
            ok
        });
        hit
    }

    fn evaluate<'a>(&'a self, dest: &'a Destination, cx: &Context<'_>) -> DecisionRef<'a> {
        let (scheme, host, port) = (dest.scheme(), dest.host(), dest.port());
        if !matchable(host) {
            // A literal `*` label or an empty label: no allow rule can name it, but
            // a deny rule's suffix can (`x.*.corp.example` is under
            // `*.corp.example`), and DNS answers such names from wildcard records.
            // Never allowed: denied by the rule, else `invalid` in open mode and
            // `no_matching_rule` in the others.
            if let Some(rule) = self.deny_match(host, scheme, port, cx) {
                return self.decision(Verdict::Deny, Reason::DeniedByRule, Some(rule), Some(dest));
            }
            return match self.mode {
                Mode::Open => self.decision(Verdict::Deny, Reason::Invalid, None, Some(dest)),
                _ => self.decision(Verdict::Deny, Reason::NoMatchingRule, None, Some(dest)),
            };
        }
        if let Some(rule) = self.deny_match(host, scheme, port, cx) {
            return self.decision(Verdict::Deny, Reason::DeniedByRule, Some(rule), Some(dest));
        }
        if self.mode == Mode::Open {
            if let (true, Host::Ip(ip)) = (self.floor, host)
                && !crate::addr::is_public(*ip)
            {
                return match self.allow_match(host, scheme, port, cx) {
                    Some(rule) => self.decision(Verdict::Allow, Reason::AllowedByRule, Some(rule), Some(dest)),
                    None => self.decision(Verdict::Deny, Reason::ForbiddenAddress, None, Some(dest)),
                };
            }
            return self.decision(Verdict::Allow, Reason::OpenMode, None, Some(dest));
        }

        // Step 4, with the near misses of step 5 gathered on the way.
        let mut best: Option<(u32, Reason)> = None; // (rank, reason); lower rank is more helpful
        let mut best_rule: Option<&Arc<Rule>> = None;
        let mut allowed: Option<&Arc<Rule>> = None;
        self.allow_index.for_each_candidate(host, |i| {
            let rule = &self.allow[i as usize];
            if !rule.applies_to(self.mode, cx.client) {
                return false;
            }
            let (scheme_ok, port_ok) = rule.covers(scheme, port);
            let live = rule.is_live_at(cx.now);
            let miss = match (scheme_ok, port_ok, live) {
                (true, true, true) => {
                    allowed = Some(rule);
                    return true;
                }
                (true, true, false) => (0, Reason::RuleExpired),
                (true, false, true) => (1, Reason::PortNotAllowed),
                (false, _, true) => (2, Reason::SchemeNotAllowed),
                _ => return false,
            };
            if best.is_none_or(|(rank, _)| miss.0 < rank) {
                best = Some(miss);
                best_rule = Some(rule);
            }
            false
        });
        if let Some(rule) = allowed {
            return self.decision(Verdict::Allow, Reason::AllowedByRule, Some(rule), Some(dest));
        }
        match best {
            Some((_, reason)) => self.decision(Verdict::Deny, reason, best_rule, Some(dest)),
            None => self.decision(Verdict::Deny, Reason::NoMatchingRule, None, Some(dest)),
        }
    }
}

/// The canonical form, as a borrowed view serialised in one pass.
mod canonical {
    use serde::ser::{Serialize, SerializeSeq, Serializer};

    use super::{Policy, Rule};
    use crate::model::RuleKind;

    pub(super) struct HashWriter(pub(super) sha2::Sha256);

    impl std::io::Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            sha2::Digest::update(&mut self.0, buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A list of `Display` values, written with `collect_str` (no allocation per item).
    struct Shown<'a, T>(&'a [T]);

    impl<T: std::fmt::Display> Serialize for Shown<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(self.0.len()))?;
            for item in self.0 {
                seq.serialize_element(&Str(item))?;
            }
            seq.end()
        }
    }

    struct Str<'a, T>(&'a T);

    impl<T: std::fmt::Display> Serialize for Str<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self.0)
        }
    }

    #[derive(serde::Serialize)]
    struct CanonRule<'a> {
        id: &'a str,
        #[serde(skip_serializing_if = "is_empty")]
        hosts: Shown<'a, crate::host::HostPattern>,
        #[serde(skip_serializing_if = "is_empty")]
        cidrs: Shown<'a, ipnet::IpNet>,
        schemes: Vec<&'static str>,
        ports: Str<'a, crate::model::Ports>,
        modes: Vec<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        clients: Option<Shown<'a, Box<str>>>,
        #[serde(skip_serializing_if = "is_empty")]
        resolves_to: Shown<'a, ipnet::IpNet>,
        #[serde(skip_serializing_if = "Option::is_none")]
        owner: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ticket: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<String>,
    }

    fn is_empty<T>(list: &Shown<'_, T>) -> bool {
        list.0.is_empty()
    }

    impl<'a> CanonRule<'a> {
        fn new(r: &'a Rule) -> Self {
            let schemes = if r.schemes.is_all() {
                vec!["*"]
            } else {
                crate::model::Scheme::RULE_SCHEMES
                    .iter()
                    .filter(|s| r.schemes.contains(s))
                    .map(|s| match s {
                        crate::model::Scheme::Http => "http",
                        crate::model::Scheme::Https => "https",
                        crate::model::Scheme::Ws => "ws",
                        crate::model::Scheme::Wss => "wss",
                        crate::model::Scheme::Tcp => "tcp",
                        _ => "udp",
                    })
                    .collect()
            };
            CanonRule {
                id: r.id(),
                hosts: Shown(&r.hosts),
                cidrs: Shown(&r.cidrs),
                schemes,
                ports: Str(&r.ports),
                modes: if r.kind == RuleKind::Deny {
                    Vec::new()
                } else {
                    r.modes.iter().map(|m| m.as_str()).collect()
                },
                clients: r.clients.as_deref().map(Shown),
                resolves_to: Shown(&r.resolves_to),
                owner: r.owner(),
                reason: r.reason(),
                ticket: r.ticket(),
                expires: r.expires.as_ref().map(|e| e.to_rfc3339()),
            }
        }
    }

    #[derive(serde::Serialize)]
    pub(super) struct View<'a> {
        version: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        environment: Option<&'a str>,
        mode: &'static str,
        enforcement: &'static str,
        floor: bool,
        allow: Vec<CanonRule<'a>>,
        deny: Vec<CanonRule<'a>>,
    }

    impl<'a> View<'a> {
        pub(super) fn new(p: &'a Policy) -> Self {
            View {
                version: 1,
                environment: p.environment.as_deref(),
                mode: p.mode.as_str(),
                enforcement: p.enforcement.as_str(),
                floor: p.floor,
                allow: p.allow.iter().map(|r| CanonRule::new(r)).collect(),
                deny: p.deny.iter().map(|r| CanonRule::new(r)).collect(),
            }
        }
    }
}

#[cfg(test)]
mod tests;
