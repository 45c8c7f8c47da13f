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
//! Reports load errors and lint findings with stable codes. Errors fail
//! without `--strict`; warnings fail with it. Exit 0 valid, 1 invalid, 2 for a
//! usage error. `--json` prints one object per error or finding
//! (`file`, `severity`, `code`, `rule`, `field`, `line`, `column`, `message`,
//! `fix`) and one summary per file (`file`, `valid`, and for a policy that
//! loaded `mode`, `environment`, `enforcement`, `allow_rules`, `deny_rules`,
//! `digest`, `findings`); `--sarif` one SARIF 2.1.0 log.
//!
//! | code | severity | what it catches |
//! |---|---|---|
//! | `load-error` | error | the file could not be read, or its name does not say its format |
//! | `invalid-policy` | error | the file does not load: a syntax error or an invalid field (one record per problem) |
//! | `mode-not-allowed` | error | the mode (or `observe` enforcement) is weaker than `--require-mode` |
//! | `environment-not-sealed` | error | an environment named by `--sealed-environment` (default `sealed`, `air-gapped`, `airgapped`, `airgap`) has a policy that is not sealed and enforced |
//! | `metadata-address` | error | an allow range (`cidrs` or `resolves_to`) reaches a cloud metadata address |
//! | `unreviewed-special-purpose` | error | a rule `suggest` proposed for special-purpose addresses still has placeholders |
//! | `wildcard-public-suffix` | warning | a wildcard covers a public suffix (`*.co.uk`) |
//! | `broad-cidr` | warning | an allow CIDR is shorter than `--min-prefix-v4` (8) / `--min-prefix-v6` (32) |
//! | `embedded-ipv4-prefix` | warning | an allow range lies in or covers an IPv6 prefix embedding IPv4 (NAT64, 6to4, Teredo, IPv4-compatible) |
//! | `any-port` | warning | an allow rule admits every port |
//! | `missing-metadata` | warning | a rule has no `owner`, `reason` or `ticket` |
//! | `placeholder` | warning | a field still holds `suggest`'s `FILL-IN` |
//! | `expired` | warning | a rule's expiry has passed |
//! | `expires-soon` | warning | a rule expires within `--expiry-warning-days` (14) |
//! | `expires-too-far` | warning | a rule's expiry is further out than `--max-expiry-days` (365) |
//! | `shadowed` | warning | a rule is covered by another and can never decide anything |
//! | `deny-removes-allow` | warning | a deny rule removes everything an allow rule admits |
//! | `duplicate-entry` | warning | a rule lists an entry another of its entries already covers |
//!
//! # Output
//!
//! Every command writes its results to standard output and its diagnostics to
//! standard error. When the reader of standard output goes away (`| head`),
//! output stops quietly and the exit status is still the one the verdicts
//! written so far give.
//!
//! # `suggest`
//!
//! Turns observation files (JSON lines from the [`Recorder`](crate::Recorder))
//! into a policy with placeholders a person must fill in. It never proposes a
//! destination a deny rule denied or a cloud metadata address; `--policy`
//! carries the deny rules of the policy in force over. Special-purpose
//! proposals are flagged, and fail `validate` until their rules are reviewed.
