//! The subcommands, one module each, with its arguments (`Args`) and its `run`,
//! which returns the exit status. `main` only parses and dispatches.

use std::process::ExitCode;
use std::time::SystemTime;

use egress_policy_core::time::parse_instant;
use egress_policy_core::{Decision, LoadError, Mode, Reason};

pub(crate) mod check;
pub(crate) mod diff;
pub(crate) mod probe;
pub(crate) mod report;
pub(crate) mod schema;
pub(crate) mod suggest;
pub(crate) mod validate;

/// A usage, policy or I/O error: exit status 2.
pub(crate) struct Fatal(pub(crate) String);

impl From<LoadError> for Fatal {
    fn from(e: LoadError) -> Self {
        Fatal(chain(&e))
    }
}

/// An error and its causes, `error: cause: cause` (a [`LoadError`]'s I/O cause
/// is its `source()`).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message = format!("{message}: {c}");
        cause = c.source();
    }
    message
}

/// What a command returns: its exit status, or a fatal error (status 2).
pub(crate) type Status = Result<ExitCode, Fatal>;

/// Exit status 0 when `ok`, 1 otherwise.
pub(crate) fn status(ok: bool) -> ExitCode {
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// `--now`: an RFC 3339 UTC instant or a date; now when absent.
pub(crate) fn instant(now: Option<&str>) -> Result<SystemTime, Fatal> {
    match now {
        None => Ok(SystemTime::now()),
        Some(s) => parse_instant(s).map_err(|e| Fatal(format!("--now: {e}"))),
    }
}

/// A policy mode on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ModeArg {
    Sealed,
    Constrained,
    Open,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Sealed => Mode::Sealed,
            ModeArg::Constrained => Mode::Constrained,
            ModeArg::Open => Mode::Open,
        }
    }
}

/// The verdict as the commands print it: `invalid` for a URL that is not a
/// destination, else `allow` or `deny`.
pub(crate) fn verdict(decision: &Decision) -> &'static str {
    if decision.reason() == Reason::Invalid {
        "invalid"
    } else {
        decision.verdict().as_str()
    }
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
pub(crate) fn echo_url(raw: &str) -> String {
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
