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
//! egress-policy test [--json] POLICY TESTS...
//! egress-policy export --format kubernetes|nftables|cilium|calico [-o FILE] [--client NAME] [--mode M] [--now T]
//!                      [--names auto|public|omit] [--strict] [--dns-server ADDR]... [--global] [--cilium-version V]
//!                      [--namespace NS] [--name NAME] [--pod-selector k=v,...] [--dns-selector NS/k=v,...] POLICY
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
//!
//! # `test`
//!
//! Policy tests kept next to the policy and run in CI, the way `opa test` and
//! conftest run policy-as-code tests. A tests file is TOML (unknown keys are
//! errors): an optional top-level `now` (RFC 3339 UTC or a date; default: the
//! current time) and `[[case]]` tables with
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `url` | `url` or `scheme` + `host` | the destination, as `check` reads it |
//! | `scheme`, `host`, `port` | | a non-URL destination (`tcp`, `udp`); `port` defaults to the scheme's |
//! | `verdict` | yes | `allow`, `deny` or `invalid` (as `check` prints verdicts; a would-deny under `observe` is `deny`) |
//! | `reason` | | the [reason](super::reasons) expected |
//! | `rule` | | the id of the rule the decision names; `""`: no rule |
//! | `client` | | decide as this client |
//! | `mode` | | decide as if the policy were in this mode |
//! | `now` | | this case's instant |
//! | `resolve` | | every address the host resolves to: the decision is then the [connect-time](super::admission) one |
//! | `name` | | shown when the case fails |
//!
//! ```toml
//! now = "2026-12-01"
//!
//! [[case]]
//! name = "the payment API is reachable"
//! url = "https://api.payments.example/v1"
//! verdict = "allow"
//! rule = "payments-api"
//!
//! [[case]]
//! name = "arbitrary endpoints stay denied"
//! url = "https://attacker.example/"
//! verdict = "deny"
//! reason = "no_matching_rule"
//! ```
//!
//! Failures are listed with what differed and the decision made; the last line
//! counts passes and failures and names the policy's generation and digest.
//! `--json` prints one object: `policy`, `generation`, `digest`, `passed`,
//! `failed` and `cases` (each with `file`, `case`, `name`, `passed`,
//! `mismatches`, `expected` and `decided`). Exit 0 when every case passes, 1
//! when any fails, 2 for a usage, policy or tests-file error (the message names
//! the file, the case and the field). The repository's `examples/policy.tests.toml`
//! is run by its CI.
//!
//! # `export`
//!
//! The network-layer fence from the same file. The process sees names; a
//! firewall sees addresses and ports. What an export keeps:
//!
//! - `cidrs` (and the `resolves_to` of name rules) become address rules on the
//!   rule's transports (`http`, `https`, `ws`, `wss`, `tcp` → TCP, `udp` → UDP)
//!   and ports (no `ports`: each scheme's default port; `"any"`: every port).
//! - `hosts` stay names where the target has them (Cilium `toFQDNs`, Calico
//!   `domains`; `--names auto`, the default). Elsewhere (Kubernetes, nftables,
//!   `--names public`) they become **public unicast** on the rule's ports: every
//!   address but the special-purpose table
//!   ([`addr::special_purpose_networks`](crate::addr::special_purpose_networks),
//!   with the NAT64 and 6to4 embeddings of its IPv4 blocks and the whole
//!   IPv4-translated and -compatible ranges; IPv4-mapped addresses never reach
//!   the wire). The network layer keeps ports and the private floor; the
//!   process keeps names. Every such rule says so in a comment. `--names omit`
//!   leaves names to the process (reported).
//! - Deny rules' CIDRs are dropped (nftables, Cilium `egressDeny`, Calico
//!   `Deny`) or excepted from every `ipBlock` they fall in (Kubernetes), with
//!   their NAT64, 6to4, IPv4-translated, -compatible and Teredo-server IPv6
//!   forms, and the whole local-use NAT64 prefix `64:ff9b:1::/48`. Deny rules
//!   naming hosts, and port-limited deny rules in Kubernetes (`except` covers
//!   every port), cannot be expressed. Nor can ISATAP and Teredo-client
//!   embeddings (no prefix describes them): reported whenever names are
//!   exported, in open mode, or when IPv6 allow ranges meet IPv4 deny rules.
//! - Modes: `sealed` and `constrained` export the allow rules for that mode (a
//!   rule for another mode is left out with a note); `open` allows all but the
//!   deny rules and, with `floor = true`, drops the special-purpose ranges that
//!   no allow rule's `cidrs` or `resolves_to` exempts.
//! - `enforcement = "observe"`: nftables turns every drop into
//!   `log prefix "egress-policy would-deny …" accept`; Calico every `Deny` into
//!   `Log`, ending with `Log` and `Allow`; a `NetworkPolicy` or
//!   `CiliumNetworkPolicy` cannot log per rule, so it allows all egress
//!   (reported).
//! - Free text from the policy (a rule's `reason`) goes into comments with every
//!   control character replaced by a space, so it cannot add a statement;
//!   `--client` must be a client name.
//! - `--client NAME` exports the rules that apply to that client; without it,
//!   rules limited to some clients are left out (noted). Expired rules (as of
//!   `--now`) are left out with a warning; rules with an `expires` say in their
//!   comment that the export must be redone before then.
//!
//! Everything left out or not expressible is reported on standard error as
//! `note:`, `warning:` or `cannot express:`; nothing is dropped silently. With
//! `--strict` a `cannot express` report is a failure: exit 1 and nothing is
//! written. Output goes to standard output or `-o FILE`, starts with comments
//! naming the policy's generation and digest (and mode, enforcement, client),
//! and is deterministic: the same file and options give the same bytes. Exit 2
//! for a usage or policy error.
//!
//! ## `--format nftables`
//!
//! One `inet` table, `egress_policy`, for hosts and Docker Compose. The file
//! deletes and recreates its own table, so `nft -f FILE` swaps the ruleset
//! atomically, as often as it is run, touching no other table. Its `output`
//! chain accepts established and related traffic, loopback, IPv6 neighbour
//! discovery and DNS (UDP and TCP 53) to each `--dns-server` (before the deny
//! rules: the process never judges its resolver traffic either); then drops
//! what deny rules name, accepts what allow rules name, and drops the rest
//! (`policy drop`). Without `--dns-server` no lookup leaves unless a rule
//! covers the resolver (warned). The special-purpose ranges are the sets
//! `special4` and `special6`. Checked with nftables 1.0 (Debian 12), and
//! proven with real packets between two network namespaces.
//!
//! The `output` hook sees what the host's own processes send, and containers
//! with `network_mode: host`. Containers on a bridge network send through the
//! host's `forward` hook instead: load the file inside the container's network
//! namespace (`nsenter --net=/proc/PID/ns/net nft -f FILE`, or from an init
//! container with `CAP_NET_ADMIN`).
//!
//! ## `--format kubernetes`
//!
//! One `networking.k8s.io/v1` `NetworkPolicy` named `--name` (default
//! `egress-policy`) in `--namespace` (default `default`) for the pods of
//! `--pod-selector` (default: every pod), with `policyTypes: [Egress]` (so
//! whatever is not listed is denied), the annotations
//! `egress-policy/digest` and `egress-policy/generation`, DNS (UDP and TCP 53)
//! to the pods of `--dns-selector` (default `kube-system/k8s-app=kube-dns`),
//! and one egress rule per exported rule, `endPort` for port ranges. Checked
//! by a lossless round trip through the `k8s-openapi` 0.27 bindings (Kubernetes
//! 1.35 API) and Kubernetes' `ipBlock` rule that every `except` is a strict
//! subset of its `cidr`.
//!
//! ## `--format cilium`
//!
//! One `cilium.io/v2` `CiliumNetworkPolicy` with the same metadata, selecting
//! `--pod-selector` endpoints. DNS to the cluster resolver carries an L7 `dns`
//! rule (`matchPattern: "*"`) so Cilium's DNS proxy sees the lookups `toFQDNs`
//! is built from. Exact hosts become `matchName`; `*.suffix` becomes
//! `matchPattern: "**.suffix"`, which Cilium reads, **since 1.19**, as one or
//! more labels before the suffix and never the suffix itself — the policy
//! file's semantics (a single `*.` is exactly one label in Cilium). Before
//! 1.19 Cilium reads `**.` as `*.`: with `--cilium-version 1.18` (or older)
//! the export reports that wildcards match less. CIDRs become `toCIDRSet`,
//! deny rules `egressDeny` (which wins over every allow), and, when names are
//! exported, the private floor an `egressDeny` of the special-purpose ranges
//! minus the networks allow rules name, since `toFQDNs` would otherwise
//! follow a name to any address. Checked by a lossless round trip through
//! `kcr_cilium_io` (bindings generated from Cilium's CRD schema, June 2026).
//!
//! ## `--format calico`
//!
//! One `projectcalico.org/v3` `NetworkPolicy` in `--namespace`, or with
//! `--global` a `GlobalNetworkPolicy`, selecting `--pod-selector` pods
//! (`all()` by default). Calico rules are ordered, first match wins: DNS to
//! the cluster resolver; deny rules (`Deny`); the networks allow rules name;
//! the private floor (`Deny` of the special-purpose ranges); the names as
//! `destination.domains`; nothing else (`types: [Egress]`). In `domains`
//! Calico reads `*.suffix` as one or more labels, never the suffix — the
//! policy file's semantics. `domains` is a Calico Enterprise and Calico Cloud
//! field; for Calico Open Source use `--names public` (names as public
//! unicast, `notNets` the special-purpose ranges). Checked by a lossless round
//! trip of the spec through `kcr_crd_projectcalico_org` (bindings generated
//! from Calico's `crd.projectcalico.org/v1` schema, June 2026, whose spec the
//! v3 API shares), `domains` checked apart since the open-source schema has
//! none.
