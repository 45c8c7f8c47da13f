//! Destinations: a URL or a `(scheme, host, port)` normalised once into one type.

use std::fmt;

use crate::host::{Host, from_url_host, parse_host};
use crate::model::Scheme;

impl Host {
    /// Parses a host the way the WHATWG URL parser does for `http`/`https`:
    /// percent-decoding, IDNA (UTS #46), IPv4 number forms (`0x7f.1`,
    /// `2130706433`, `127.1`), IPv6 in brackets, one trailing dot removed.
    ///
    /// ```
    /// use egress_policy_core::Host;
    /// assert_eq!(Host::parse("Bücher.Example.").unwrap(), Host::Name("xn--bcher-kva.example".into()));
    /// assert_eq!(Host::parse("0x7f.1").unwrap(), Host::Ip("127.0.0.1".parse().unwrap()));
    /// assert_eq!(Host::parse("[::ffff:10.0.0.1]").unwrap(), Host::Ip("10.0.0.1".parse().unwrap()));
    /// ```
    pub fn parse(raw: &str) -> Result<Host, DestinationError> {
        parse_host(raw).map_err(|e| DestinationError::InvalidHost(e.to_string()))
    }
}

/// Why a destination could not be read. Never contains userinfo, path or query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    /// The URL does not parse (WHATWG).
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    /// The URL has no host (`file:///`, `mailto:`).
    #[error("url has no host")]
    NoHost,
    /// No port in the URL and the scheme has no default port.
    #[error("no port given and scheme `{0}` has no default port")]
    NoPort(String),
    /// The host does not parse.
    #[error("invalid host: {0}")]
    InvalidHost(String),
}

/// What a decision is about: scheme, canonical host and port. Built only through
/// the parsers here, so every destination is normalised the same way.
///
/// `Display` shows `scheme://host:port` and nothing else: no userinfo, path, query
/// or fragment ever reach a log line through it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    scheme: Scheme,
    host: Host,
    port: u16,
}

impl Destination {
    /// The destination of `scheme://authority/`, exactly as
    /// [`parse_url`](Destination::parse_url) reads that URL: the scheme and
    /// authority of an HTTP request URI or a connector URI. An authority that
    /// holds a path, query or fragment (`/`, `\\`, `?`, `#`) is refused.
    ///
    /// Authorities already in canonical form (`http` or `https`, lower-case
    /// ASCII letter-digit-hyphen labels, the last one starting with a letter,
    /// no `xn--` label, an optional port of digits) are read without the URL
    /// parser, which is most of the cost of a decision; anything else goes
    /// through it. A differential test and a fuzz target hold the two to the
    /// same result.
    ///
    /// ```
    /// use egress_policy_core::Destination;
    /// let d = Destination::from_authority("https", "api.example.com:8443").unwrap();
    /// assert_eq!(d.to_string(), "https://api.example.com:8443");
    /// let d = Destination::from_authority("http", "user@API.example.com").unwrap();
    /// assert_eq!(d.to_string(), "http://api.example.com:80");
    /// assert!(Destination::from_authority("https", "evil.example/@api.example.com").is_err());
    /// ```
    pub fn from_authority(scheme: &str, authority: &str) -> Result<Destination, DestinationError> {
        // The fast path accepts no `/`, `\`, `?` or `#`, so it may go first.
        if let Some(d) = canonical_authority(scheme, authority) {
            return Ok(d);
        }
        if authority.bytes().any(|b| matches!(b, b'/' | b'\\' | b'?' | b'#')) {
            return Err(DestinationError::InvalidUrl("the authority holds a path, query or fragment".into()));
        }
        Destination::parse_url(&format!("{scheme}://{authority}/"))
    }

    /// Parses a URL with the WHATWG parser (the `url` crate, as reqwest does).
    ///
    /// ```
    /// use egress_policy_core::{Destination, Host, Scheme};
    /// let d = Destination::parse_url("HTTPS://user:pw@API.Example.com.:0443/path?q#f").unwrap();
    /// assert_eq!(d.scheme(), &Scheme::Https);
    /// assert_eq!(d.host(), &Host::Name("api.example.com".into()));
    /// assert_eq!(d.port(), 443);
    /// assert_eq!(d.to_string(), "https://api.example.com:443");
    /// ```
    pub fn parse_url(input: &str) -> Result<Destination, DestinationError> {
        let url = url::Url::parse(input).map_err(|e| DestinationError::InvalidUrl(e.to_string()))?;
        Destination::from_url(&url)
    }

    /// Builds a destination from a parsed URL.
    pub fn from_url(url: &url::Url) -> Result<Destination, DestinationError> {
        let scheme = Scheme::parse(url.scheme());
        let host = match url.host() {
            None => return Err(DestinationError::NoHost),
            Some(url::Host::Domain(d)) if !is_special(url.scheme()) => {
                // Non-special schemes (tcp://, udp://) keep an opaque host: give it
                // the same processing as an http host so names compare alike.
                if d.is_empty() {
                    return Err(DestinationError::NoHost);
                }
                Host::parse(d)?
            }
            Some(h) => from_url_host(h).ok_or(DestinationError::NoHost)?,
        };
        let port = url
            .port_or_known_default()
            .or_else(|| scheme.default_port())
            .ok_or_else(|| DestinationError::NoPort(url.scheme().to_string()))?;
        Ok(Destination { scheme, host, port })
    }

    /// A non-URL destination (`tcp`/`udp` for database drivers, time sync), or any
    /// scheme with an explicit port. The host goes through [`Host::parse`].
    ///
    /// ```
    /// use egress_policy_core::{Destination, Scheme};
    /// let d = Destination::new(Scheme::Tcp, "DB.internal.example", 5432).unwrap();
    /// assert_eq!(d.to_string(), "tcp://db.internal.example:5432");
    /// ```
    pub fn new(scheme: Scheme, host: &str, port: u16) -> Result<Destination, DestinationError> {
        Ok(Destination {
            scheme,
            host: Host::parse(host)?,
            port,
        })
    }

    /// A destination for an already-canonical host.
    pub fn from_parts(scheme: Scheme, host: Host, port: u16) -> Destination {
        let host = match host {
            Host::Ip(ip) => Host::Ip(crate::addr::canonical_ip(ip)),
            name => name,
        };
        Destination { scheme, host, port }
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }
    /// The canonical host.
    pub fn host(&self) -> &Host {
        &self.host
    }
    /// The port (the scheme's default when the URL names none).
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// What a byte may be in a canonical host (one table load per byte).
const OTHER: u8 = 0;
const LDH: u8 = 1;
const DOT: u8 = 2;
const COLON: u8 = 3;
static HOST_BYTE: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'0'..=b'9' | b'-' => LDH,
            b'.' => DOT,
            b':' => COLON,
            _ => OTHER,
        };
        b += 1;
    }
    t
};

/// The fast path of [`Destination::from_authority`]: `Some` only for an
/// authority whose WHATWG parse is known without running the parser, `None`
/// (use the parser) for anything else.
///
/// What makes it safe: the WHATWG host parser leaves a host of lower-case
/// ASCII letters, digits, hyphens and single dots unchanged, except when it
/// is an IPv4 number form (its last label is numeric or `0x…`: excluded by
/// requiring a letter first) or holds a Punycode label (`xn--`, which IDNA
/// validates: excluded). A port of 1 to 5 digits is read as a number (leading
/// zeros allowed); above 65535 the URL is invalid (left to the parser).
fn canonical_authority(scheme: &str, authority: &str) -> Option<Destination> {
    let (scheme, default_port) = match scheme {
        "https" => (Scheme::Https, 443),
        "http" => (Scheme::Http, 80),
        _ => return None,
    };
    // One pass over the host: every byte a lower-case letter, digit, hyphen or
    // a dot ending a non-empty label; no label starting `xn--`.
    let bytes = authority.as_bytes();
    let not_punycode = |label: &[u8]| !label.starts_with(b"xn--");
    let mut label = 0; // where the current label starts
    let mut end = bytes.len(); // where the host ends
    for (i, &b) in bytes.iter().enumerate() {
        match HOST_BYTE[usize::from(b)] {
            LDH => {}
            DOT if i > label && not_punycode(&bytes[label..i]) => label = i + 1,
            COLON => {
                end = i;
                break;
            }
            _ => return None,
        }
    }
    // The last label: non-empty, not Punycode, starting with a letter (not an
    // IPv4 number form).
    let last = &bytes[label..end];
    if !last.first().is_some_and(u8::is_ascii_lowercase) || !not_punycode(last) {
        return None;
    }
    let port = if end == bytes.len() {
        default_port
    } else {
        let digits = &bytes[end + 1..];
        if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let port = digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        u16::try_from(port).ok()?
    };
    // Only ASCII bytes were accepted, so `end` is a `str` boundary.
    Some(Destination {
        scheme,
        host: Host::Name(authority[..end].into()),
        port,
    })
}

fn is_special(scheme: &str) -> bool {
    matches!(scheme, "http" | "https" | "ws" | "wss" | "ftp" | "file")
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Shows a URL with its userinfo, path, query and fragment removed, for logs and
/// error messages: `https://user:pw@host/a?token=x` → `https://host:443`. Input
/// that does not parse is shown as `<invalid url>`.
///
/// ```
/// use egress_policy_core::redact_url;
/// assert_eq!(redact_url("https://user:secret@api.example.com/pay?token=x#f"), "https://api.example.com:443");
/// assert_eq!(redact_url("::nonsense"), "<invalid url>");
/// ```
pub fn redact_url(input: &str) -> String {
    match Destination::parse_url(input) {
        Ok(d) => d.to_string(),
        Err(_) => "<invalid url>".to_string(),
    }
}

#[cfg(test)]
#[path = "../../../testdata/rng.rs"]
mod rng;

#[cfg(test)]
mod tests {
    use super::*;

    /// Authorities near the fast path's edge: canonical names, and every way
    /// to be almost canonical (case, IDNA, numbers, empty labels, ports, ...).
    fn authority(rng: &mut super::rng::Rng) -> String {
        const LABELS: &[&str] = &[
            "api",
            "example",
            "com",
            "a",
            "0",
            "1",
            "09",
            "0x7f",
            "0x",
            "x",
            "xn--bcher-kva",
            "xn--",
            "xn--zz",
            "-",
            "a-",
            "-a",
            "a--b",
            "ab--c",
            "Example",
            "EXAMPLE",
            "exämple",
            "e%78",
            "e_x",
            "",
            " ",
            "255",
            "4294967295",
            "1e3",
            "localhost",
            "ｅｘａｍｐｌｅ",
            "\u{ad}",
            "a\u{200b}b",
            "xn--a",
            "ss",
            "ß",
        ];
        const PORTS: &[&str] = &[
            "", ":", ":0", ":1", ":443", ":0443", ":00000", ":65535", ":65536", ":99999", ":123456", ":8a", ": 1", ":+1",
        ];
        let long = "a".repeat(64);
        let mut host = String::new();
        let labels = 1 + rng.below(5);
        for i in 0..labels {
            if i > 0 {
                host.push('.');
            }
            if rng.chance(3) {
                host.push_str(&long);
            } else {
                let label: &&str = rng.pick(LABELS);
                host.push_str(label);
            }
        }
        if rng.chance(5) {
            host.push('.');
        }
        let mut out = String::new();
        if rng.chance(5) {
            let userinfo: &&str = rng.pick(&["user@", "u:p@", "@", "a@b@"]);
            out.push_str(userinfo);
        }
        if rng.chance(5) {
            let literal: &&str = rng.pick(&["[::1]", "[::ffff:127.0.0.1]", "127.0.0.1", "[64:ff9b::1]"]);
            out.push_str(literal);
        } else {
            out.push_str(&host);
        }
        let port: &&str = rng.pick(PORTS);
        out.push_str(port);
        out
    }

    /// The fast path agrees with the WHATWG parser on every authority it takes,
    /// and takes the canonical ones.
    #[test]
    fn fast_authority_path_agrees_with_the_url_parser() {
        let seed = std::env::var("EGRESS_AUTHORITY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x05ee_da07);
        let mut rng = super::rng::Rng(seed);
        let mut fast = 0;
        for _ in 0..30_000 {
            let a = authority(&mut rng);
            for scheme in ["http", "https", "HTTPS", "ws", "tcp"] {
                let full = Destination::parse_url(&format!("{scheme}://{a}/"));
                if let Some(d) = canonical_authority(scheme, &a) {
                    fast += 1;
                    assert_eq!(Ok(&d), full.as_ref(), "{scheme}://{a}/ (seed {seed})");
                }
                let via = Destination::from_authority(scheme, &a);
                assert_eq!(via.as_ref().ok(), full.as_ref().ok(), "{scheme}://{a}/ (seed {seed})");
            }
        }
        assert!(fast > 3_000, "the fast path took only {fast} authorities");
        for (scheme, a) in [("https", "api.example.com"), ("http", "a-b.c0:8080"), ("https", "x.y:00443")] {
            assert!(canonical_authority(scheme, a).is_some(), "{a}");
        }
    }

    fn dest(s: &str) -> String {
        Destination::parse_url(s)
            .map(|d| d.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn normalisation_table() {
        let cases: &[(&str, &str)] = &[
            ("https://api.example.com/", "https://api.example.com:443"),
            ("https://api.example.com.", "https://api.example.com:443"),
            ("https://api.example.com../", "https://api.example.com.:443"),
            ("http://0x7f.1/", "http://127.0.0.1:80"),
            ("http://2130706433/", "http://127.0.0.1:80"),
            ("http://017700000001/", "http://127.0.0.1:80"),
            ("http://127.1/", "http://127.0.0.1:80"),
            ("http://[::ffff:127.0.0.1]/", "http://127.0.0.1:80"),
            ("http://[::ffff:7f00:1]:8080/", "http://127.0.0.1:8080"),
            ("http://[64:ff9b::7f00:1]/", "http://[64:ff9b::7f00:1]:80"),
            ("https://allowed.example@evil.example/", "https://evil.example:443"),
            ("https://evil.example\\@allowed.example/", "https://evil.example:443"),
            ("https:\\\\evil.example\\path", "https://evil.example:443"),
            ("https://api.example.com:00443/", "https://api.example.com:443"),
            ("https://api.example.com:8443/", "https://api.example.com:8443"),
            ("https://bücher.example/", "https://xn--bcher-kva.example:443"),
            ("https://ｅｘａｍｐｌｅ.com/", "https://example.com:443"),
            ("wss://stream.example/", "wss://stream.example:443"),
            ("tcp://DB.Example:5432", "tcp://db.example:5432"),
            ("tcp://db.example", "error: no port given and scheme `tcp` has no default port"),
            ("https://api.example.com:99999/", "error: invalid url: invalid port number"),
            ("file:///etc/passwd", "error: url has no host"),
            ("not a url", "error: invalid url: relative URL without a base"),
            // Found by the `destination` fuzz target: the WHATWG host is `.`.
            ("http:./2130706433/", "error: url has no host"),
            ("https://./", "error: url has no host"),
        ];
        for (input, want) in cases {
            assert_eq!(&dest(input), want, "{input}");
        }
    }
}
