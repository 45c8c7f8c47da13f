//! The library behind the `egress-policy` command: `lint` (policy-as-code
//! findings), `suggest` (observed traffic to a reviewed allowlist) with
//! `rollout` (per-client tiers and readiness), `import` (flow logs to
//! observations), `export` (network-layer fences), `cases` (policy tests),
//! `diff` (what a policy change makes reachable) and `report` (access
//! reviews), so services, CI tools and examples can run the same logic
//! in-process.

#![forbid(unsafe_code)]

pub mod cases;
pub mod diff;
pub mod export;
pub mod import;
pub mod lint;
pub mod report;
pub mod rollout;
pub mod rules;
pub mod suggest;

/// Whether the first data line of a CSV file is a header: it holds no digit,
/// so no address, CIDR or port can be taken for one (a mistyped first entry is
/// an error, not a skipped header).
pub(crate) fn is_csv_header(line: &str) -> bool {
    !line.bytes().any(|b| b.is_ascii_digit())
}

/// The input URL as the commands echo it, with userinfo, query and fragment
/// removed (they hold passwords and tokens):
///
/// - an input with no `@`, `?` or `#` cannot hold any of them: it is echoed as
///   typed;
/// - otherwise, if the WHATWG parser reads it, its serialization without
///   userinfo, query and fragment (what the destination really is);
/// - otherwise, without an `@`: the text before the first `?` or `#`; with an
///   `@`: `<redacted>` and what follows the last `@` (cut at `?` or `#`), since
///   a password may hold `/`, `?` or `#` and no split of unparsable text is
///   sure to find its end.
pub fn echo_url(raw: &str) -> String {
    if !raw.contains(['@', '?', '#']) {
        return raw.to_string();
    }
    if let Ok(mut u) = url::Url::parse(raw) {
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_query(None);
        u.set_fragment(None);
        return u.to_string();
    }
    let cut = |s: &str| s[..s.find(['?', '#']).unwrap_or(s.len())].to_string();
    match raw.rfind('@') {
        Some(at) => format!("<redacted>{}", cut(&raw[at + 1..])),
        None => cut(raw),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn echo_removes_userinfo_query_and_fragment() {
        use super::echo_url;
        for (raw, want) in [
            ("https://api.example/x", "https://api.example/x"),
            ("HTTPS://API.example.:0443/x", "HTTPS://API.example.:0443/x"),
            ("HTTPS://user:pw@API.example.:0443/x?y#z", "https://api.example./x"),
            ("http://a@b@evil.example/p", "http://evil.example/p"),
            ("https:\\\\user:pw@host\\p?token=1", "https://host/p"),
            ("http://user:p@ss@host:99999/?k", "<redacted>host:99999/"),
            ("not a url?secret", "not a url"),
            ("tcp://db.example:5432", "tcp://db.example:5432"),
            ("http://\tuser:pw@host/", "http://host/"),
            ("tcp://user:p\\ss@db:99999", "<redacted>db:99999"),
            ("TCP://user:pw@db:5432", "tcp://db:5432"),
            ("https://user:ab/cd@host/", "<redacted>host/"),
            ("https://user:pa?ss@host/", "<redacted>host/"),
            ("https://user:pa#ss@host/", "<redacted>host/"),
        ] {
            assert_eq!(echo_url(raw), want, "{raw:?}");
        }
    }
}
