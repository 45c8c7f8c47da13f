//! The policy model: modes, enforcement, schemes, ports and rules.

use std::fmt;
use std::time::SystemTime;

use ipnet::IpNet;

use crate::host::HostPattern;

/// How much a policy lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Mode {
    /// Deny everything except the allowlist. The default.
    #[default]
    Sealed,
    /// The allowlist plus rules marked for constrained mode only.
    Constrained,
    /// Allow everything except `deny` rules.
    Open,
}

impl Mode {
    /// The mode's name as written in policy files: `sealed`, `constrained`, `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sealed => "sealed",
            Mode::Constrained => "constrained",
            Mode::Open => "open",
        }
    }

    /// Parses a mode name.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "sealed" => Some(Mode::Sealed),
            "constrained" => Some(Mode::Constrained),
            "open" => Some(Mode::Open),
            _ => None,
        }
    }

    /// Whether this is [`Mode::Sealed`]. The mode alone does not make a policy
    /// sealed: see [`Policy::is_sealed`](crate::Policy::is_sealed), which also
    /// requires `enforcement = "enforce"` (what `X-Sealed-Mode` reports).
    pub fn is_sealed(self) -> bool {
        self == Mode::Sealed
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Whether denials fail (`enforce`) or are only logged and counted (`observe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Enforcement {
    /// Denied destinations fail. The default.
    #[default]
    Enforce,
    /// Nothing fails; every would-deny is logged and counted.
    Observe,
}

impl Enforcement {
    /// `enforce` or `observe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Enforce => "enforce",
            Enforcement::Observe => "observe",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A destination's scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
    /// `ws`
    Ws,
    /// `wss`
    Wss,
    /// `tcp`: a non-URL destination (database drivers and the like).
    Tcp,
    /// `udp`: a non-URL destination (time sync and the like).
    Udp,
    /// Any other URL scheme (`ftp`, ...). Rules cannot name these; only `open`
    /// mode lets them through.
    Other(Box<str>),
}

impl Scheme {
    /// The schemes a rule may name.
    pub const RULE_SCHEMES: [Scheme; 6] = [Scheme::Http, Scheme::Https, Scheme::Ws, Scheme::Wss, Scheme::Tcp, Scheme::Udp];

    /// Parses a lower-case scheme name.
    pub fn parse(s: &str) -> Scheme {
        match s {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            "tcp" => Scheme::Tcp,
            "udp" => Scheme::Udp,
            other => Scheme::Other(other.into()),
        }
    }

    /// The scheme's name.
    pub fn as_str(&self) -> &str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
            Scheme::Tcp => "tcp",
            Scheme::Udp => "udp",
            Scheme::Other(s) => s,
        }
    }

    /// The default port: 80 for `http`/`ws`, 443 for `https`/`wss`, none for the rest.
    pub fn default_port(&self) -> Option<u16> {
        match self {
            Scheme::Http | Scheme::Ws => Some(80),
            Scheme::Https | Scheme::Wss => Some(443),
            _ => None,
        }
    }

    pub(crate) fn bit(&self) -> u8 {
        match self {
            Scheme::Http => 1,
            Scheme::Https => 2,
            Scheme::Ws => 4,
            Scheme::Wss => 8,
            Scheme::Tcp => 16,
            Scheme::Udp => 32,
            Scheme::Other(_) => 64,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A set of schemes, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemeSet(u8);

impl SchemeSet {
    /// Every scheme, including ones rules cannot name (the default of deny rules).
    pub const ALL: SchemeSet = SchemeSet(0x7f);

    pub(crate) fn empty() -> Self {
        SchemeSet(0)
    }
    pub(crate) fn insert(&mut self, s: &Scheme) {
        self.0 |= s.bit();
    }
    pub(crate) fn of(schemes: &[Scheme]) -> Self {
        let mut set = SchemeSet::empty();
        for s in schemes {
            set.insert(s);
        }
        set
    }
    /// Whether the set holds this scheme.
    pub fn contains(&self, s: &Scheme) -> bool {
        self.0 & s.bit() != 0
    }
    /// The named schemes in the set, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = Scheme> + '_ {
        Scheme::RULE_SCHEMES.into_iter().filter(|s| self.contains(s))
    }
    /// Whether this is [`SchemeSet::ALL`].
    pub fn is_all(&self) -> bool {
        *self == SchemeSet::ALL
    }
}

/// Which ports a rule admits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Ports {
    /// Each scheme's default port (`https` → 443, `http` → 80): the default of allow rules.
    SchemeDefaults,
    /// Every port (`ports = "any"`).
    Any,
    /// These inclusive ranges, sorted and merged.
    Ranges(Vec<(u16, u16)>),
}

impl Ports {
    /// Whether `port` is admitted for `scheme`.
    pub fn admits(&self, scheme: &Scheme, port: u16) -> bool {
        match self {
            Ports::SchemeDefaults => scheme.default_port() == Some(port),
            Ports::Any => true,
            Ports::Ranges(ranges) => ranges.iter().any(|&(lo, hi)| lo <= port && port <= hi),
        }
    }

    pub(crate) fn from_ranges(mut ranges: Vec<(u16, u16)>) -> Ports {
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        Ports::Ranges(merged)
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ports::SchemeDefaults => f.write_str("scheme defaults"),
            Ports::Any => f.write_str("any"),
            Ports::Ranges(r) => {
                for (i, (lo, hi)) in r.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    if lo == hi {
                        write!(f, "{lo}")?;
                    } else {
                        write!(f, "{lo}-{hi}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Whether a rule allows or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// An `[[allow]]` rule.
    Allow,
    /// A `[[deny]]` rule.
    Deny,
}

impl RuleKind {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Allow => "allow",
            RuleKind::Deny => "deny",
        }
    }
}

/// A rule's expiry: valid strictly before `at`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expiry {
    pub(crate) at: SystemTime,
    pub(crate) written: Box<str>,
}

impl Expiry {
    /// The first instant at which the rule no longer applies. A date `2027-01-31`
    /// is valid through that UTC day, so this is `2027-02-01T00:00:00Z`.
    pub fn at(&self) -> SystemTime {
        self.at
    }
    /// The value as written in the policy file.
    pub fn as_written(&self) -> &str {
        &self.written
    }
    /// `at` in RFC 3339 (UTC).
    pub fn to_rfc3339(&self) -> String {
        crate::time::format_rfc3339(self.at)
    }
}

/// One validated rule, with its audit metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub(crate) kind: RuleKind,
    pub(crate) id: Box<str>,
    pub(crate) hosts: Vec<HostPattern>,
    pub(crate) cidrs: Vec<IpNet>,
    pub(crate) schemes: SchemeSet,
    pub(crate) ports: Ports,
    /// `[sealed, constrained]` by default; deny rules: every mode.
    pub(crate) modes: Vec<Mode>,
    pub(crate) clients: Option<Vec<Box<str>>>,
    pub(crate) resolves_to: Vec<IpNet>,
    pub(crate) owner: Option<Box<str>>,
    pub(crate) reason: Option<Box<str>>,
    pub(crate) ticket: Option<Box<str>>,
    pub(crate) expires: Option<Expiry>,
    /// Position in the compiled policy's rule list of its kind (for counters).
    pub(crate) slot: u32,
}

impl Rule {
    /// `allow` or `deny`.
    pub fn kind(&self) -> RuleKind {
        self.kind
    }
    /// The rule's unique id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Host patterns, canonical.
    pub fn hosts(&self) -> &[HostPattern] {
        &self.hosts
    }
    /// Networks, canonical (IPv4-mapped IPv6 networks read as IPv4).
    pub fn cidrs(&self) -> &[IpNet] {
        &self.cidrs
    }
    /// Schemes the rule covers.
    pub fn schemes(&self) -> SchemeSet {
        self.schemes
    }
    /// Ports the rule covers.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }
    /// Modes in which the rule applies.
    pub fn modes(&self) -> &[Mode] {
        &self.modes
    }
    /// The client names the rule is limited to, if any.
    pub fn clients(&self) -> Option<&[Box<str>]> {
        self.clients.as_deref()
    }
    /// Non-public ranges that names matched by this rule may resolve into.
    pub fn resolves_to(&self) -> &[IpNet] {
        &self.resolves_to
    }
    /// Who owns the rule.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }
    /// Why the rule exists.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    /// The change ticket.
    pub fn ticket(&self) -> Option<&str> {
        self.ticket.as_deref()
    }
    /// When the rule stops applying.
    pub fn expires(&self) -> Option<&Expiry> {
        self.expires.as_ref()
    }

    /// Whether the rule has not expired at `now`.
    pub fn is_live_at(&self, now: SystemTime) -> bool {
        self.expires.as_ref().is_none_or(|e| now < e.at)
    }

    /// Whether the rule applies to this mode and client (ignoring expiry).
    pub(crate) fn applies_to(&self, mode: Mode, client: Option<&str>) -> bool {
        self.modes.contains(&mode)
            && match &self.clients {
                None => true,
                Some(names) => client.is_some_and(|c| names.iter().any(|n| &**n == c)),
            }
    }

    /// Whether the rule covers this scheme and port: `(scheme_ok, port_ok)`.
    pub(crate) fn covers(&self, scheme: &Scheme, port: u16) -> (bool, bool) {
        (self.schemes.contains(scheme), self.ports.admits(scheme, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_merge_and_admit() {
        let p = Ports::from_ranges(vec![(8000, 8099), (443, 443), (8100, 8100), (80, 80)]);
        assert_eq!(p, Ports::Ranges(vec![(80, 80), (443, 443), (8000, 8100)]));
        assert!(p.admits(&Scheme::Https, 8100));
        assert!(!p.admits(&Scheme::Https, 8101));
        assert!(Ports::SchemeDefaults.admits(&Scheme::Https, 443));
        assert!(!Ports::SchemeDefaults.admits(&Scheme::Http, 443));
        assert!(!Ports::SchemeDefaults.admits(&Scheme::Tcp, 443));
    }
}
