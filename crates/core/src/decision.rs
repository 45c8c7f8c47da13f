//! Decisions: verdict, reason, matched rule, mode and policy identity.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::destination::Destination;
use crate::model::{Mode, Rule};

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The destination may be contacted.
    Allow,
    /// The destination may not be contacted (under `observe`, it still is).
    Deny,
}

impl Verdict {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why a decision came out as it did. The snake_case strings are stable: alerts
/// and dashboards may key on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The destination could not be parsed (`invalid`).
    Invalid,
    /// An active deny rule matched (`denied_by_rule`).
    DeniedByRule,
    /// Mode `open` and no deny rule matched (`open_mode`).
    OpenMode,
    /// An active allow rule matched (`allowed_by_rule`).
    AllowedByRule,
    /// Only an expired rule would have matched (`rule_expired`).
    RuleExpired,
    /// A rule matched the host and scheme but not the port (`port_not_allowed`).
    PortNotAllowed,
    /// A rule matched the host but not the scheme (`scheme_not_allowed`).
    SchemeNotAllowed,
    /// No rule matched (`no_matching_rule`).
    NoMatchingRule,
    /// Every resolved address was refused at connect time (`resolved_to_forbidden_address`).
    ResolvedToForbiddenAddress,
    /// In `open` mode with `floor = true`, an IP literal in a special-purpose range
    /// that no allow rule names (`forbidden_address`).
    ForbiddenAddress,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Reason; 10] = [
        Reason::Invalid,
        Reason::DeniedByRule,
        Reason::OpenMode,
        Reason::AllowedByRule,
        Reason::RuleExpired,
        Reason::PortNotAllowed,
        Reason::SchemeNotAllowed,
        Reason::NoMatchingRule,
        Reason::ResolvedToForbiddenAddress,
        Reason::ForbiddenAddress,
    ];

    /// How many reasons there are (for counter tables): the length of
    /// [`Reason::ALL`], never a number kept by hand.
    pub(crate) const COUNT: usize = Self::ALL.len();

    /// A dense index, `0..COUNT`: the reason's position in [`Reason::ALL`]. The
    /// match is exhaustive, so a new variant does not compile until it is given
    /// an index here (the next one; add it to `ALL` at that position too). The
    /// compile-time check below keeps `ALL` and this match in agreement, and the
    /// counter table refuses (panics on) an index at or past `COUNT`, so a
    /// reason can never be counted in another's slot.
    pub(crate) const fn index(self) -> usize {
        match self {
            Reason::Invalid => 0,
            Reason::DeniedByRule => 1,
            Reason::OpenMode => 2,
            Reason::AllowedByRule => 3,
            Reason::RuleExpired => 4,
            Reason::PortNotAllowed => 5,
            Reason::SchemeNotAllowed => 6,
            Reason::NoMatchingRule => 7,
            Reason::ResolvedToForbiddenAddress => 8,
            Reason::ForbiddenAddress => 9,
        }
    }

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Invalid => "invalid",
            Reason::DeniedByRule => "denied_by_rule",
            Reason::OpenMode => "open_mode",
            Reason::AllowedByRule => "allowed_by_rule",
            Reason::RuleExpired => "rule_expired",
            Reason::PortNotAllowed => "port_not_allowed",
            Reason::SchemeNotAllowed => "scheme_not_allowed",
            Reason::NoMatchingRule => "no_matching_rule",
            Reason::ResolvedToForbiddenAddress => "resolved_to_forbidden_address",
            Reason::ForbiddenAddress => "forbidden_address",
        }
    }
}

// `index()` and `ALL` agree: every index is below `COUNT`, and each is taken once.
const _: () = {
    assert!(Reason::COUNT == Reason::ALL.len());
    let mut i = 0;
    while i < Reason::ALL.len() {
        assert!(Reason::ALL[i].index() == i, "Reason::ALL out of order with Reason::index");
        i += 1;
    }
};

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The SHA-256 digest of a policy's canonical serialisation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Digest(pub(crate) [u8; 32]);

impl Digest {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A policy's identity: which load it is (`generation`) and what it says (`digest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PolicyId {
    /// 1 for the first policy loaded, +1 for every policy swapped in.
    pub generation: u64,
    /// `sha256:` of the canonical serialisation of the normalised policy.
    pub digest: Digest,
}

/// Who is asking and when: the client name (for rules with `clients`) and the
/// instant (for expiry).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub(crate) client: Option<&'a str>,
    pub(crate) now: SystemTime,
}

impl Context<'static> {
    /// No client name, at the current system time.
    pub fn now() -> Self {
        Context {
            client: None,
            now: SystemTime::now(),
        }
    }
    /// No client name, at `now`.
    pub fn at(now: SystemTime) -> Self {
        Context { client: None, now }
    }
}

impl<'a> Context<'a> {
    /// Decide as the client built for `name` (see [`clients`](crate::docs::policy_file)).
    pub fn client<'b>(self, name: &'b str) -> Context<'b>
    where
        'a: 'b,
    {
        Context {
            client: Some(name),
            now: self.now,
        }
    }
    /// Decide as the client `name`, if any.
    pub fn with_client<'b>(self, name: Option<&'b str>) -> Context<'b>
    where
        'a: 'b,
    {
        Context {
            client: name,
            now: self.now,
        }
    }
    /// The client name.
    pub fn client_name(&self) -> Option<&'a str> {
        self.client
    }
    /// The instant decided at.
    pub fn instant(&self) -> SystemTime {
        self.now
    }
}

/// The outcome of checking one destination against a policy.
///
/// `Display` never shows userinfo, path, query or fragment: only
/// `scheme://host:port`, the verdict, reason and rule.
#[derive(Debug, Clone)]
pub struct Decision {
    pub(crate) verdict: Verdict,
    pub(crate) enforced: bool,
    pub(crate) reason: Reason,
    pub(crate) rule: Option<Arc<Rule>>,
    pub(crate) mode: Mode,
    pub(crate) destination: Option<Destination>,
    pub(crate) policy: PolicyId,
}

impl Decision {
    /// A borrowed view of this decision.
    pub fn as_ref(&self) -> DecisionRef<'_> {
        DecisionRef {
            verdict: self.verdict,
            enforced: self.enforced,
            reason: self.reason,
            rule: self.rule.as_ref(),
            mode: self.mode,
            destination: self.destination.as_ref(),
            policy: self.policy,
        }
    }
    /// Allow or deny.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }
    /// Whether the verdict is allow.
    pub fn is_allow(&self) -> bool {
        self.as_ref().is_allow()
    }
    /// Whether the verdict is deny (enforced or not).
    pub fn is_deny(&self) -> bool {
        self.as_ref().is_deny()
    }
    /// Whether the policy enforces its verdicts (`enforcement = "enforce"`).
    pub fn is_enforced(&self) -> bool {
        self.enforced
    }
    /// Whether the caller must stop: a deny under `enforce`. Under `observe` a deny
    /// is a would-deny: logged and counted, but the connection goes ahead.
    pub fn blocks(&self) -> bool {
        self.as_ref().blocks()
    }
    /// Why.
    pub fn reason(&self) -> Reason {
        self.reason
    }
    /// The rule that decided (allow or deny by rule), that an expired rule would
    /// have allowed (`rule_expired`), or whose host matched but not the port or
    /// scheme.
    pub fn rule(&self) -> Option<&Rule> {
        self.rule.as_deref()
    }
    /// The mode the policy was in.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// The destination decided on; `None` when it could not be parsed.
    pub fn destination(&self) -> Option<&Destination> {
        self.destination.as_ref()
    }
    /// The policy's identity.
    pub fn policy(&self) -> PolicyId {
        self.policy
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_ref(), f)
    }
}

/// A [`Decision`] borrowed from the policy that made it and the destination it
/// was made on: what the hot path reads.
///
/// Making one touches no reference count (of the rule, or of the
/// destination's host), so decisions on many cores do not contend on them (see
/// [`SharedPolicy::with_decision`](crate::SharedPolicy::with_decision)). Two
/// things still write shared memory when installed: a metrics recorder (the
/// decision counters) and a [`Recorder`](crate::Recorder) (a mutex and a copy
/// of the destination per decision).
/// [`DecisionRef::to_decision`] makes the owned [`Decision`] when one must be
/// kept or returned.
///
/// ```
/// use egress_policy_core::{Context, Destination, Policy};
/// let policy = Policy::from_toml_str("version = 1\n[[allow]]\nid = \"api\"\nhosts = [\"api.example.com\"]\n")?;
/// let dest = Destination::parse_url("https://api.example.com/").unwrap();
/// let d = policy.judge(&dest, &Context::now());
/// assert!(d.is_allow());
/// assert_eq!(d.rule().map(|r| r.id()), Some("api"));
/// assert_eq!(d.to_decision().to_string(), d.to_string());
/// # Ok::<(), egress_policy_core::LoadError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct DecisionRef<'a> {
    pub(crate) verdict: Verdict,
    pub(crate) enforced: bool,
    pub(crate) reason: Reason,
    pub(crate) rule: Option<&'a Arc<Rule>>,
    pub(crate) mode: Mode,
    pub(crate) destination: Option<&'a Destination>,
    pub(crate) policy: PolicyId,
}

impl<'a> DecisionRef<'a> {
    /// The owned decision (takes a reference to the rule and copies the destination).
    #[inline]
    pub fn to_decision(&self) -> Decision {
        Decision {
            verdict: self.verdict,
            enforced: self.enforced,
            reason: self.reason,
            rule: self.rule.cloned(),
            mode: self.mode,
            destination: self.destination.cloned(),
            policy: self.policy,
        }
    }
    /// Allow or deny.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }
    /// Whether the verdict is allow.
    pub fn is_allow(&self) -> bool {
        self.verdict == Verdict::Allow
    }
    /// Whether the verdict is deny (enforced or not).
    pub fn is_deny(&self) -> bool {
        self.verdict == Verdict::Deny
    }
    /// Whether the policy enforces its verdicts (`enforcement = "enforce"`).
    pub fn is_enforced(&self) -> bool {
        self.enforced
    }
    /// See [`Decision::blocks`].
    pub fn blocks(&self) -> bool {
        self.is_deny() && self.enforced
    }
    /// Why.
    pub fn reason(&self) -> Reason {
        self.reason
    }
    /// See [`Decision::rule`].
    pub fn rule(&self) -> Option<&'a Rule> {
        self.rule.map(|r| &**r)
    }
    /// The mode the policy was in.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// The destination decided on; `None` when it could not be parsed.
    pub fn destination(&self) -> Option<&'a Destination> {
        self.destination
    }
    /// The policy's identity.
    pub fn policy(&self) -> PolicyId {
        self.policy
    }
}

impl<'a> From<&'a Decision> for DecisionRef<'a> {
    fn from(d: &'a Decision) -> DecisionRef<'a> {
        d.as_ref()
    }
}

impl fmt::Display for DecisionRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.verdict, self.enforced) {
            (Verdict::Allow, _) => f.write_str("egress allowed: ")?,
            (Verdict::Deny, true) => f.write_str("egress denied: ")?,
            (Verdict::Deny, false) => f.write_str("egress would be denied (observe): ")?,
        }
        f.write_str(self.reason.as_str())?;
        if let Some(rule) = self.rule {
            write!(f, " (rule `{}`)", rule.id())?;
        }
        if let Some(dest) = self.destination {
            write!(f, " for {dest}")?;
        }
        write!(f, " [mode {}, policy generation {}]", self.mode, self.policy.generation)
    }
}

/// The error an enforcing integration returns for a blocked destination.
///
/// One small type shared by every integration (tower, hyper, reqwest), found in
/// an error chain by downcasting, the way tower's `Elapsed` is:
///
/// ```
/// use egress_policy_core::{Denied, Policy};
/// let policy = Policy::from_toml_str("version = 1\n")?;
/// let err: Box<dyn std::error::Error + Send + Sync> = Box::new(Denied::new(policy.decide_url("https://evil.example/")));
/// let denied = err.downcast_ref::<Denied>().expect("a Denied");
/// assert_eq!(denied.decision().reason().as_str(), "no_matching_rule");
/// assert_eq!(err.to_string(), "egress denied: no_matching_rule for https://evil.example:443 [mode sealed, policy generation 1]");
/// # Ok::<(), egress_policy_core::LoadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Denied {
    decision: Box<Decision>,
}

impl Denied {
    /// Wraps a blocking decision.
    pub fn new(decision: Decision) -> Denied {
        Denied {
            decision: Box::new(decision),
        }
    }
    /// The decision that blocked.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
    /// Finds a `Denied` in an error's `source()` chain (the error itself included).
    pub fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Denied> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(d) = e.downcast_ref::<Denied>() {
                return Some(d);
            }
            cur = e.source();
        }
        None
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.decision, f)
    }
}

impl std::error::Error for Denied {}
