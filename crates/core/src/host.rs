//! Host names and host patterns: canonical form, validation and suggestions.
//!
//! Every name the library compares is in the canonical form of [`docs::matching`](crate::docs::matching): the
//! WHATWG host the `url` crate produces (UTS #46 non-transitional processing, lower
//! case, A-labels), with one trailing dot removed.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::invalid::Invalid;

/// A destination's host: a canonical name or an address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// A canonical DNS name (WHATWG host: lower case, A-labels, one trailing dot
    /// removed). Shared, so decisions carry it without copying.
    Name(std::sync::Arc<str>),
    /// An address; IPv4-mapped IPv6 is read as IPv4.
    Ip(IpAddr),
}

impl Host {
    /// The name, when this is a name.
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Host::Name(n) => Some(n),
            Host::Ip(_) => None,
        }
    }

    /// The address, when this is an address.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ip(IpAddr::V4(v4)) => write!(f, "{v4}"),
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
        }
    }
}

/// Canonicalises a domain produced by the WHATWG host parser: removes **one**
/// trailing dot. A second trailing dot stays, leaving an empty label that matches
/// no pattern.
pub(crate) fn strip_one_trailing_dot(domain: &str) -> &str {
    domain.strip_suffix('.').unwrap_or(domain)
}

/// Whether a canonical destination name can match any pattern at all: it must have
/// no empty label and no label that is a literal `*`.
pub(crate) fn is_matchable_name(name: &str) -> bool {
    // One pass over the bytes (this runs on every decision).
    let bytes = name.as_bytes();
    let mut start = 0;
    for i in 0..=bytes.len() {
        if i == bytes.len() || bytes[i] == b'.' {
            let label = &bytes[start..i];
            if label.is_empty() || label == b"*" {
                return false;
            }
            start = i + 1;
        }
    }
    true
}

/// A host pattern from a rule's `hosts` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostPattern {
    /// Exactly this canonical name.
    Exact(Box<str>),
    /// `*.suffix`: one or more non-empty labels in front of `suffix`, never `suffix` itself.
    Wildcard(Box<str>),
}

impl HostPattern {
    /// Whether a canonical destination name matches this pattern.
    ///
    /// This is the plain definition (used by tests and lints); decisions use the
    /// compiled index, which gives the same answers.
    pub fn matches(&self, name: &str) -> bool {
        if !is_matchable_name(name) {
            return false;
        }
        match self {
            HostPattern::Exact(exact) => &**exact == name,
            HostPattern::Wildcard(suffix) => name
                .strip_suffix(&**suffix)
                .and_then(|front| front.strip_suffix('.'))
                .is_some_and(|front| !front.is_empty()),
        }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostPattern::Exact(name) => f.write_str(name),
            HostPattern::Wildcard(suffix) => write!(f, "*.{suffix}"),
        }
    }
}

/// Parses a host pattern as written in a policy file. The pattern must already be
/// canonical; when it is not, the error carries the canonical spelling.
pub(crate) fn parse_pattern(raw: &str) -> Result<HostPattern, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::new("empty host pattern"));
    }
    if raw == "*" || raw == "*." {
        return Err(
            Invalid::new(format!("`{raw}` would match every name")).fix("use mode = \"open\" to allow everything, or name the hosts")
        );
    }
    if let Some(suffix) = raw.strip_prefix("*.") {
        if suffix.contains('*') {
            // `*.*.x`, `*.a*.x`, ...: suggest the single wildcard that covers any depth.
            let tail = suffix.rsplit('*').next().unwrap_or_default();
            let tail = tail.trim_start_matches('.');
            let fix =
                (!tail.is_empty() && !tail.starts_with('.')).then(|| format!("write `*.{tail}`: a wildcard already matches any depth"));
            return Err(Invalid::new(format!("`{raw}`: `*` may only be the whole leftmost label")).maybe_fix(fix));
        }
        let canonical = canonical_name(raw, suffix, "*.")?;
        return Ok(HostPattern::Wildcard(canonical.into()));
    }
    if raw.contains('*') {
        let fix = raw
            .split_once('*')
            .and_then(|(_, rest)| rest.split_once('.'))
            .map(|(_, tail)| tail)
            .filter(|tail| !tail.is_empty() && !tail.contains('*'))
            .map(|tail| format!("write `*.{tail}` if every name under `{tail}` is meant"));
        return Err(Invalid::new(format!("`{raw}`: `*` may only be the whole leftmost label, as in `*.example.com`")).maybe_fix(fix));
    }
    let canonical = canonical_name(raw, raw, "")?;
    Ok(HostPattern::Exact(canonical.into()))
}

/// Checks that `name` (the part of the pattern `raw` after `prefix`) is a
/// canonical DNS name: no IP literal, no empty label, no trailing dot, already
/// in WHATWG canonical form. Fixes are spelled with `prefix` in front.
fn canonical_name(raw: &str, name: &str, prefix: &str) -> Result<String, Invalid> {
    let problem = |message: &str| Invalid::new(format!("`{raw}`: {message}"));
    match url::Host::parse(name) {
        Ok(url::Host::Domain(domain)) => {
            if domain.split('.').any(str::is_empty) {
                let cleaned: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
                let fix = (!cleaned.is_empty()).then(|| format!("write `{prefix}{}`", cleaned.join(".")));
                let message = if domain.ends_with('.') && domain[..domain.len() - 1].split('.').all(|l| !l.is_empty()) {
                    "a trailing dot is not part of the canonical form"
                } else {
                    "empty label"
                };
                return Err(problem(message).maybe_fix(fix));
            }
            if domain != name {
                return Err(problem("not in canonical form (lower case, A-labels)").fix(format!("write `{prefix}{domain}`")));
            }
            Ok(domain)
        }
        Ok(url::Host::Ipv4(ip)) => Err(literal(problem, IpAddr::V4(ip), prefix)),
        Ok(url::Host::Ipv6(ip)) => Err(literal(problem, IpAddr::V6(ip), prefix)),
        Err(e) => Err(problem(&format!("not a valid host name ({e})"))),
    }
}

/// An address written in `hosts`: it belongs in `cidrs` (said only when the
/// whole pattern is the address, not the suffix of a wildcard).
fn literal(problem: impl Fn(&str) -> Invalid, ip: IpAddr, prefix: &str) -> Invalid {
    let invalid = problem(&format!("IP literal (read as {ip}) in `hosts`; addresses belong in `cidrs`"));
    if prefix.is_empty() {
        invalid.fix(format!("write `{}` in `cidrs`", IpNet::from(ip)))
    } else {
        invalid
    }
}

/// Parses a host as the WHATWG URL parser does for special schemes (`http`,
/// `https`, `ws`, `wss`): percent-decoding, IDNA, IPv4 number forms, IPv6 in
/// brackets. IPv4-mapped IPv6 is read as the IPv4 address.
pub(crate) fn parse_host(raw: &str) -> Result<Host, url::ParseError> {
    let host = url::Host::parse(raw)?;
    from_url_host(host).ok_or(url::ParseError::EmptyHost)
}

/// The canonical host; `None` for a name that is empty once its trailing dot is
/// removed (the WHATWG parser accepts `http:./x` with host `.`).
pub(crate) fn from_url_host<S: AsRef<str>>(host: url::Host<S>) -> Option<Host> {
    Some(match host {
        url::Host::Domain(d) => {
            let name = strip_one_trailing_dot(d.as_ref());
            if name.is_empty() {
                return None;
            }
            Host::Name(name.into())
        }
        url::Host::Ipv4(ip) => Host::Ip(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Host::Ip(crate::addr::canonical_ip(IpAddr::V6(ip))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(s: &str) -> HostPattern {
        HostPattern::Exact(s.into())
    }
    fn wild(s: &str) -> HostPattern {
        HostPattern::Wildcard(s.into())
    }

    #[test]
    fn pattern_table() {
        let ok: &[(&str, HostPattern)] = &[
            ("api.example.com", exact("api.example.com")),
            ("*.example.com", wild("example.com")),
            ("xn--bcher-kva.example", exact("xn--bcher-kva.example")),
            ("localhost", exact("localhost")),
            ("under_score.example", exact("under_score.example")),
        ];
        for (raw, want) in ok {
            assert_eq!(parse_pattern(raw).as_ref(), Ok(want), "{raw}");
        }
        let open = Some("use mode = \"open\" to allow everything, or name the hosts");
        let bad: &[(&str, Option<&str>)] = &[
            ("*", open),
            ("*.", open),
            ("", None),
            (
                "*.*.example.com",
                Some("write `*.example.com`: a wildcard already matches any depth"),
            ),
            (
                "api.*.example.com",
                Some("write `*.example.com` if every name under `example.com` is meant"),
            ),
            (
                "*api.example.com",
                Some("write `*.example.com` if every name under `example.com` is meant"),
            ),
            ("Bücher.example", Some("write `xn--bcher-kva.example`")),
            ("API.example.com", Some("write `api.example.com`")),
            ("*.EXAMPLE.com", Some("write `*.example.com`")),
            ("a..example.com", Some("write `a.example.com`")),
            ("example.com.", Some("write `example.com`")),
            ("127.0.0.1", Some("write `127.0.0.1/32` in `cidrs`")),
            ("0x7f.1", Some("write `127.0.0.1/32` in `cidrs`")),
            ("[::1]", Some("write `::1/128` in `cidrs`")),
            ("exa mple.com", None),
            ("ｅｘａｍｐｌｅ.com", Some("write `example.com`")),
        ];
        for (raw, fix) in bad {
            let err = parse_pattern(raw).expect_err(raw);
            assert_eq!(err.fix.as_deref(), *fix, "{raw}: {}", err.message);
        }
    }

    #[test]
    fn wildcard_semantics() {
        let p = wild("example.com");
        let cases: &[(&str, bool)] = &[
            ("a.example.com", true),
            ("a.b.example.com", true),
            ("example.com", false),
            ("aexample.com", false),
            (".example.com", false),
            ("a..example.com", false),
            ("*.example.com", false),
            ("a.*.example.com", false),
            ("a.example.com.", false),
            ("a.example.co", false),
            ("example.com.evil", false),
        ];
        for (name, want) in cases {
            assert_eq!(p.matches(name), *want, "{name}");
        }
        assert!(exact("example.com").matches("example.com"));
        assert!(!exact("example.com").matches("example.com."));
        assert!(!exact("example.com").matches("www.example.com"));
    }

    #[test]
    fn host_parsing_normalises_like_whatwg() {
        use Host;
        let cases: &[(&str, Host)] = &[
            ("Example.COM", Host::Name("example.com".into())),
            ("example.com.", Host::Name("example.com".into())),
            ("example.com..", Host::Name("example.com.".into())),
            ("bücher.example", Host::Name("xn--bcher-kva.example".into())),
            ("0x7f.1", Host::Ip("127.0.0.1".parse().unwrap())),
            ("2130706433", Host::Ip("127.0.0.1".parse().unwrap())),
            ("017700000001", Host::Ip("127.0.0.1".parse().unwrap())),
            ("127.1", Host::Ip("127.0.0.1".parse().unwrap())),
            ("[::ffff:127.0.0.1]", Host::Ip("127.0.0.1".parse().unwrap())),
            ("[::1]", Host::Ip("::1".parse().unwrap())),
        ];
        for (raw, want) in cases {
            assert_eq!(&parse_host(raw).unwrap(), want, "{raw}");
        }
    }
}
