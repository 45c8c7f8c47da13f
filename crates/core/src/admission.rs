//! Connect-time admission ([`docs::admission`](crate::docs::admission)): which
//! of the addresses a name resolved to a connection may use.

use std::net::IpAddr;

use crate::addr::SpecialRange;
use crate::decision::{Context, Decision, Reason, Verdict};
use crate::destination::Destination;
use crate::host::Host;
use crate::model::{Mode, Rule};
use crate::policy::Policy;

/// Connect-time admission of resolved addresses ([`docs::admission`](crate::docs::admission)).
#[derive(Debug, Clone)]
pub struct Admission {
    decision: Decision,
    admitted: Vec<IpAddr>,
    dropped: Vec<Dropped>,
}

/// A resolved address that was not admitted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dropped {
    /// The address.
    pub addr: IpAddr,
    /// Why it was refused.
    pub why: DropReason,
}

/// Why a resolved address was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// A deny rule's CIDR holds it.
    DeniedByRule(Box<str>),
    /// It is not public unicast and no rule admits it.
    SpecialPurpose(SpecialRange),
    /// The destination is an IP literal and this is another address.
    NotTheDestination,
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropReason::DeniedByRule(id) => write!(f, "denied by rule `{id}`"),
            DropReason::SpecialPurpose(r) => write!(f, "{} ({})", r.name, r.network),
            DropReason::NotTheDestination => f.write_str("not the destination's address"),
        }
    }
}

impl Admission {
    /// The decision after admission: the original one, or a deny with reason
    /// `resolved_to_forbidden_address` when no address remained.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
    /// The addresses the connection may go to, in the resolver's order. Under
    /// `observe` every address is here (nothing fails); see [`Admission::dropped`]
    /// for what enforcement would have removed.
    pub fn admitted(&self) -> &[IpAddr] {
        &self.admitted
    }
    /// The addresses refused (or, under `observe`, that would have been).
    pub fn dropped(&self) -> &[Dropped] {
        &self.dropped
    }
}

impl Policy {
    /// Connect-time admission ([`docs::admission`](crate::docs::admission)): decides on `dest`, then filters the
    /// addresses its name resolved to. An address is admitted when no deny rule
    /// covers it and it is public unicast (every IPv6 embedding of IPv4
    /// unwrapped), or lies in the matched rule's `resolves_to`, or in the `cidrs`
    /// of a live allow rule that covers this scheme, port and client. In `open`
    /// mode only deny rules filter, unless the policy sets `floor = true`.
    ///
    /// When nothing remains the decision becomes a deny with reason
    /// `resolved_to_forbidden_address`. Under `observe` nothing is removed from
    /// [`Admission::admitted`]; the would-be drops are reported and logged.
    ///
    /// ```
    /// use egress_policy_core::{Context, Destination, Policy, Reason};
    /// let policy = Policy::from_toml_str(r#"
    ///     version = 1
    ///     [[allow]]
    ///     id = "api"
    ///     hosts = ["api.example.com"]
    /// "#)?;
    /// let dest = Destination::parse_url("https://api.example.com/")?;
    /// let a = policy.admit(&dest, &["93.184.216.34".parse()?, "127.0.0.1".parse()?], &Context::now());
    /// assert_eq!(a.admitted(), &["93.184.216.34".parse::<std::net::IpAddr>()?]);
    ///
    /// let a = policy.admit(&dest, &["127.0.0.1".parse()?], &Context::now());   // DNS rebinding
    /// assert_eq!(a.decision().reason(), Reason::ResolvedToForbiddenAddress);
    /// assert!(a.admitted().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn admit(&self, dest: &Destination, addrs: &[IpAddr], cx: &Context<'_>) -> Admission {
        let decision = self.decide_with(dest, cx);
        self.admit_decided(decision, addrs, cx)
    }

    /// [`Policy::admit`] for a destination already decided by this policy (the
    /// decision is not logged again).
    pub fn admit_decided(&self, decision: Decision, addrs: &[IpAddr], cx: &Context<'_>) -> Admission {
        let Some(dest) = decision.destination.clone() else {
            return Admission {
                decision,
                admitted: Vec::new(),
                dropped: Vec::new(),
            };
        };
        if decision.blocks() {
            return Admission {
                decision,
                admitted: Vec::new(),
                dropped: Vec::new(),
            };
        }
        if let Host::Ip(ip) = dest.host() {
            // An IP literal was decided on itself; only that address may be used.
            let (admitted, dropped): (Vec<IpAddr>, Vec<IpAddr>) = addrs.iter().partition(|a| crate::addr::canonical_ip(**a) == *ip);
            let dropped = dropped
                .into_iter()
                .map(|addr| Dropped {
                    addr,
                    why: DropReason::NotTheDestination,
                })
                .collect();
            return Admission {
                decision,
                admitted,
                dropped,
            };
        }
        // The rule whose `resolves_to` applies: the one the decision matched; in
        // open mode with `floor = true` (the decision is `open_mode`), the live
        // allow rule for this client that covers the scheme, host and port.
        let matched = match decision.reason {
            Reason::AllowedByRule => decision.rule.clone(),
            Reason::OpenMode if self.floor() => self.allow_match(dest.host(), dest.scheme(), dest.port(), cx).cloned(),
            _ => None,
        };
        let floor = self.mode() != Mode::Open || self.floor();
        let mut admitted = Vec::with_capacity(addrs.len());
        let mut dropped = Vec::new();
        for &addr in addrs {
            match self.refuse_address(addr, &dest, matched.as_deref(), floor, cx) {
                None => admitted.push(addr),
                Some(why) => dropped.push(Dropped { addr, why }),
            }
        }
        self.conclude(decision, addrs, admitted, dropped, true)
    }

    /// The end of every admission: when nothing remains of a non-empty answer
    /// the decision becomes `resolved_to_forbidden_address`; the decision is
    /// logged and counted (unless `logged` says the caller already did and it did
    /// not change), drops are logged, and under `observe` every address stays.
    fn conclude(&self, decision: Decision, addrs: &[IpAddr], mut admitted: Vec<IpAddr>, dropped: Vec<Dropped>, logged: bool) -> Admission {
        let mut decision = decision;
        let emptied = admitted.is_empty() && !addrs.is_empty() && decision.is_allow();
        if emptied {
            decision = Decision {
                verdict: Verdict::Deny,
                reason: Reason::ResolvedToForbiddenAddress,
                ..decision
            };
        }
        if emptied || !logged {
            self.emit(decision.as_ref());
        }
        if !dropped.is_empty() {
            emit_dropped(&decision, &dropped);
        }
        if !decision.enforced {
            admitted = addrs.to_vec();
        }
        Admission {
            decision,
            admitted,
            dropped,
        }
    }

    /// Why `addr` may not be used for `dest`, or `None` when it is admitted.
    fn refuse_address(
        &self,
        addr: IpAddr,
        dest: &Destination,
        matched: Option<&Rule>,
        floor: bool,
        cx: &Context<'_>,
    ) -> Option<DropReason> {
        let as_host = Host::Ip(crate::addr::canonical_ip(addr));
        if let Some(rule) = self.deny_match(&as_host, dest.scheme(), dest.port(), cx) {
            return Some(DropReason::DeniedByRule(rule.id.clone()));
        }
        if !floor {
            return None;
        }
        let special = crate::addr::special_purpose(addr)?;
        if matched.is_some_and(|r| r.resolves_to.iter().any(|n| crate::addr::net_contains(n, addr))) {
            return None;
        }
        if self.allow_match(&as_host, dest.scheme(), dest.port(), cx).is_some() {
            return None;
        }
        Some(DropReason::SpecialPurpose(special))
    }
}

/// Emits one WARN event listing the resolved addresses that were refused, and
/// counts enforced drops in `egress_resolved_addresses_dropped_total`.
fn emit_dropped(d: &Decision, dropped: &[Dropped]) {
    #[cfg(feature = "metrics")]
    if d.is_enforced() {
        metrics::counter!("egress_resolved_addresses_dropped_total").increment(dropped.len() as u64);
    }
    let host = d.destination().map(|x| x.host().to_string()).unwrap_or_default();
    let list: Vec<String> = dropped.iter().map(|x| format!("{} ({})", x.addr, x.why)).collect();
    tracing::warn!(
        target: "egress_policy::decision",
        host = host.as_str(),
        dropped = list.join(", ").as_str(),
        enforced = d.is_enforced(),
        generation = d.policy().generation,
        digest = %d.policy().digest,
        "resolved addresses refused"
    );
}
