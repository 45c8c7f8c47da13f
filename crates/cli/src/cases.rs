//! Policy tests: files of destinations with the decision a policy must make on
//! each, run by `egress-policy test` in CI next to the policy they test (the
//! way `opa test` and conftest run policy-as-code tests).
//!
//! A tests file is TOML, read with the same conventions as a policy file
//! (unknown keys are errors; syntax errors name the line, other errors the
//! case and the field):
//!
//! ```toml
//! # Decide as of this instant (RFC 3339 UTC or a date); absent: now.
//! now = "2026-06-01"
//!
//! [[case]]
//! name = "the payment API is reachable"       # optional: shown on failure
//! url = "https://api.payments.example/v1"     # or scheme + host (+ port)
//! verdict = "allow"                           # allow | deny | invalid
//! rule = "payments-api"                       # optional: the deciding rule
//!
//! [[case]]
//! name = "arbitrary endpoints stay denied"
//! url = "https://attacker.example/"
//! verdict = "deny"
//! reason = "no_matching_rule"                 # optional: the reason
//!
//! [[case]]
//! name = "a name resolving to the metadata address is refused"
//! url = "https://api.payments.example/"
//! resolve = ["169.254.169.254"]               # connect-time admission
//! verdict = "deny"
//! reason = "resolved_to_forbidden_address"
//!
//! [[case]]
//! scheme = "tcp"
//! host = "db.internal.example"
//! port = 5432
//! client = "billing"                          # optional: the client name
//! mode = "constrained"                        # optional: decide in this mode
//! now = "2027-01-01"                          # optional: this case's instant
//! verdict = "deny"
//! reason = "rule_expired"
//! ```
//!
//! `resolve` lists every address the case's host name resolves to, and the
//! case's decision is then the connect-time one ([`Policy::admit_decided`]):
//! allowed only when an admitted address remains. `resolve` on a case whose
//! host is an address fails the case (an address is not looked up). `rule = ""` expects that no rule is
//! named by the decision.

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use egress_policy_core::time::{format_rfc3339, parse_instant};
use egress_policy_core::{Context, Decision, Destination, Mode, Policy, Reason, Scheme};

/// A tests file as written.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    now: Option<String>,
    #[serde(default, rename = "case")]
    cases: Vec<RawCase>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Option<String>,
    url: Option<String>,
    scheme: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    client: Option<String>,
    mode: Option<String>,
    now: Option<String>,
    #[serde(default)]
    resolve: Vec<String>,
    verdict: String,
    reason: Option<String>,
    rule: Option<String>,
}

/// The verdict a case expects, as `check` prints verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// The destination is allowed.
    Allow,
    /// The destination is denied (enforced or, under observe, would be).
    Deny,
    /// The input is not a destination (reason `invalid`).
    Invalid,
}

impl Expected {
    /// As written in a tests file.
    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Allow => "allow",
            Expected::Deny => "deny",
            Expected::Invalid => "invalid",
        }
    }

    /// The verdict of `d` as `check` prints it.
    pub fn of(d: &Decision) -> Expected {
        if d.reason() == Reason::Invalid {
            Expected::Invalid
        } else if d.is_allow() {
            Expected::Allow
        } else {
            Expected::Deny
        }
    }
}

/// What a case decides on.
#[derive(Debug, Clone)]
enum Target {
    Url(String),
    Parts(Scheme, String, u16),
}

/// One test case, checked.
#[derive(Debug, Clone)]
pub struct Case {
    /// 1-based position in its file.
    pub index: usize,
    /// The case's name, or its URL or `scheme://host:port`.
    pub label: String,
    target: Target,
    client: Option<String>,
    mode: Option<Mode>,
    now: SystemTime,
    resolve: Vec<IpAddr>,
    /// The verdict expected.
    pub verdict: Expected,
    /// The reason expected, if the case names one.
    pub reason: Option<Reason>,
    /// The deciding rule expected (`Some("")`: none), if the case names one.
    pub rule: Option<String>,
}

/// A tests file that cannot be read: the message names the file, the case and
/// the field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CasesError(pub String);

impl fmt::Display for CasesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CasesError {}

/// Reads a tests file. `origin` names it in errors; `default_now` is the
/// instant for cases and files that name none.
pub fn parse(origin: &str, text: &str, default_now: SystemTime) -> Result<Vec<Case>, CasesError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| CasesError(format!("{origin}: {e}")))?;
    if raw.cases.is_empty() {
        return Err(CasesError(format!(
            "{origin}: no cases: add at least one [[case]] with a url and a verdict"
        )));
    }
    let instant = |s: &str, field: &str| parse_instant(s).map_err(|e| CasesError(format!("{origin}: {field}: {e}")));
    let file_now = match &raw.now {
        Some(s) => instant(s, "now")?,
        None => default_now,
    };
    raw.cases
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let at = format!(
                "{origin}: case {}{}",
                i + 1,
                c.name.as_ref().map(|n| format!(" ({n:?})")).unwrap_or_default()
            );
            let err = |field: &str, msg: String| CasesError(format!("{at}: {field}: {msg}"));
            let target = match (c.url, c.scheme, c.host) {
                (Some(url), None, None) if c.port.is_none() => Target::Url(url),
                (None, Some(scheme), Some(host)) => {
                    let scheme = Scheme::parse(&scheme);
                    let Some(port) = c.port.or_else(|| scheme.default_port()) else {
                        return Err(err("port", format!("missing: scheme `{scheme}` has no default port")));
                    };
                    Target::Parts(scheme, host, port)
                }
                (Some(_), _, _) => {
                    return Err(err("url", "give either url or scheme + host (+ port), not both".into()));
                }
                (None, None, Some(_)) => return Err(err("scheme", "missing (host needs a scheme)".into())),
                (None, _, None) => return Err(err("url", "missing: give url, or scheme + host (+ port)".into())),
            };
            let verdict = match c.verdict.as_str() {
                "allow" => Expected::Allow,
                "deny" => Expected::Deny,
                "invalid" => Expected::Invalid,
                other => return Err(err("verdict", format!("`{other}`: write allow, deny or invalid"))),
            };
            let reason = c
                .reason
                .map(|r| {
                    Reason::ALL.into_iter().find(|x| x.as_str() == r).ok_or_else(|| {
                        let known: Vec<_> = Reason::ALL.iter().map(|x| x.as_str()).collect();
                        err("reason", format!("`{r}` is not a reason; one of {}", known.join(", ")))
                    })
                })
                .transpose()?;
            let mode = c
                .mode
                .map(|m| Mode::parse(&m).ok_or_else(|| err("mode", format!("`{m}`: write sealed, constrained or open"))))
                .transpose()?;
            let now = match &c.now {
                Some(s) => parse_instant(s).map_err(|e| err("now", e.to_string()))?,
                None => file_now,
            };
            let resolve = c
                .resolve
                .iter()
                .map(|a| {
                    a.trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<IpAddr>()
                        .map_err(|_| err("resolve", format!("`{a}` is not an IP address")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let label = c.name.unwrap_or_else(|| match &target {
                Target::Url(u) => crate::echo_url(u),
                Target::Parts(s, h, p) => format!("{s}://{h}:{p}"),
            });
            Ok(Case {
                index: i + 1,
                label,
                target,
                client: c.client,
                mode,
                now,
                resolve,
                verdict,
                reason,
                rule: c.rule,
            })
        })
        .collect()
}

/// A case and the decision the policy made on it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Outcome {
    /// The case.
    pub case: Case,
    /// The decision made (the connect-time one for cases with `resolve`).
    pub decision: Decision,
    /// What differs from the expectation; empty when the case passed.
    pub mismatches: Vec<String>,
}

impl Outcome {
    /// Whether the decision is the one expected.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Decides every case under `policy`.
pub fn run(policy: &Policy, cases: Vec<Case>) -> Vec<Outcome> {
    cases
        .into_iter()
        .map(|case| {
            let moded;
            let policy = match case.mode {
                Some(mode) if mode != policy.mode() => {
                    moded = policy.clone().with_mode(mode);
                    &moded
                }
                _ => policy,
            };
            let cx = Context::at(case.now).with_client(case.client.as_deref());
            let mut decision = match &case.target {
                Target::Url(url) => policy.decide_url_with(url, &cx),
                Target::Parts(scheme, host, port) => match Destination::new(scheme.clone(), host, *port) {
                    Ok(dest) => policy.decide_with(&dest, &cx),
                    Err(_) => policy.decide_url_with("", &cx),
                },
            };
            if !case.resolve.is_empty() && decision.destination().is_some_and(|d| d.host().as_name().is_some()) {
                decision = policy.admit_decided(decision, &case.resolve, &cx).decision().clone();
            }
            let mut mismatches = Vec::new();
            if !case.resolve.is_empty() && decision.destination().is_some_and(|d| d.host().as_name().is_none()) {
                mismatches.push("resolve: the host is an address, which is never looked up; drop `resolve`".to_string());
            }
            let got = Expected::of(&decision);
            if got != case.verdict {
                mismatches.push(format!("verdict: expected {}, got {}", case.verdict.as_str(), got.as_str()));
            }
            if let Some(reason) = case.reason
                && reason != decision.reason()
            {
                mismatches.push(format!("reason: expected {reason}, got {}", decision.reason()));
            }
            if let Some(rule) = &case.rule {
                let got = decision.rule().map(|r| r.id()).unwrap_or("");
                if got != rule {
                    let show = |s: &str| if s.is_empty() { "no rule".to_string() } else { format!("`{s}`") };
                    mismatches.push(format!("rule: expected {}, got {}", show(rule), show(got)));
                }
            }
            Outcome {
                case,
                decision,
                mismatches,
            }
        })
        .collect()
}

/// The instant a case was decided at, for reports.
pub fn instant_of(case: &Case) -> String {
    format_rfc3339(case.now)
}
