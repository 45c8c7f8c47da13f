//! The `egress-policy` command line (crate `egress-policy-cli`).
//!
//! ```text
//! egress-policy validate [--json|--sarif] [--strict] [--now T] [--require-mode M] FILE...
//! egress-policy check --policy FILE [--mode M] [--client NAME] [--now T] [--resolve HOST=IP]... [--json] [URL...]
//! egress-policy probe --policy FILE [--client NAME] [--timeout SECONDS] [--json] URL...
//! egress-policy diff [--json] OLD NEW
//! egress-policy suggest [--policy FILE] [--wildcard-threshold N] [--ip-fanout-limit N] [-o FILE] OBSERVATIONS...
//! egress-policy report [--json] [--now T] FILE
//! egress-policy schema
//! ```
//!
//! # `check`
//!
//! Prints one decision per URL; with no URL arguments it reads standard input,
//! one URL per line, where a line starting with `"` is a JSON string literal (so
//! URLs holding tabs, newlines or NUL can be checked exactly). With `--json` each
//! decision is one object:
//! `{"url", "verdict": "allow"|"deny"|"invalid", "reason", "rule", "scheme", "host", "port"}`,
//! where `url` is the input as typed with userinfo, query and fragment removed.
//!
//! - `--resolve HOST=IP` applies [connect-time admission](super::admission) as
//!   if HOST resolved to IP. Repeated for one host, the addresses form one
//!   answer, in the order given (`--resolve a=1.1.1.1 --resolve a=10.0.0.1` is a
//!   two-address answer); the decision is `resolved_to_forbidden_address` only
//!   when every one of them is refused.
//! - `--now` takes an RFC 3339 instant that is explicitly UTC (`Z` or
//!   `+00:00`), or a date `YYYY-MM-DD` (the start of that UTC day).
//! - `--mode` decides as if the file said that mode; `--client` as a client
//!   built for that name.
//! - Exit status: 0 when every URL is allowed, 1 when any is denied or invalid
//!   (under `observe` too: the verdict is still `deny`), 2 for a usage or policy
//!   error.
//!
//! # `validate`
//!
//! Reports load errors and lint findings with stable codes. Error findings
//! (`environment-not-sealed`, `mode-not-allowed`, `metadata-address`,
//! `unreviewed-special-purpose`) fail without `--strict`; warnings fail with
//! it. Exit 0 valid, 1 invalid.
//!
//! # `suggest`
//!
//! Turns observation files (JSON lines from the [`Recorder`](crate::Recorder))
//! into a policy with placeholders a person must fill in. It never proposes a
//! destination a deny rule denied or a cloud metadata address; `--policy`
//! carries the deny rules of the policy in force over. Special-purpose
//! proposals are flagged, and fail `validate` until their rules are reviewed.
