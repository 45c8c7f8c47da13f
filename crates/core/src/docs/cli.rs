//! The `egress-policy` command line (crate `egress-policy-cli`).
//!
//! ```text
//! egress-policy validate [--json|--sarif] [--strict] [--now T] [--require-mode M] FILE...
//! egress-policy check --policy FILE [--mode M] [--client NAME] [--now T] [--resolve HOST=IP]... [--json] [URL...]
//! egress-policy probe --policy FILE [--client NAME] [--timeout SECONDS] [--json] URL...
//! egress-policy diff [--json] OLD NEW
//! egress-policy suggest [--policy FILE] [--wildcard-threshold N] [--ip-fanout-limit N] [-o FILE] [--json]
//!                       [--internal CIDR]... [--ranges FILE] [--min-days N] [--batch N]
//!                       [--tier-a-max N] [--tier-b-external N] [--tier-b-internal N] [--tier-d-external N] OBSERVATIONS...
//! egress-policy report [--json] [--now T] [FILE] [--observations OBS... [--internal CIDR]... [--ranges FILE] [--min-days N]]
//! egress-policy import --format kernel-log|hubble|nftables-log [--prefix TEXT] [--clients FILE]
//!                      [--client-from namespace|workload] [--dns-log FILE]... [--year Y] [-o FILE] FILE...
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
//! With client names in the observations (a `Recorder` per named client, or
//! `import`), every rule names the clients that used it (`clients = [...]`;
//! names are grouped under a wildcard only with names the same clients used),
//! traffic no client name accounts for is not proposed (reported), and every
//! client gets a plan (standard error, or `--json`):
//!
//! - its destinations split into cluster-internal (inside an `--internal`
//!   CIDR, a `*.cluster.local` or `*.svc` name, or a name answering only
//!   internal addresses), DNS (port 53 to the cluster's resolver: an internal
//!   or special-purpose address; a public address on port 53 is external) and
//!   external;
//! - a **tier**: A (at most `--tier-a-max` 2 destinations), B (at most
//!   `--tier-b-external` 3 external and `--tier-b-internal` 5 internal), C
//!   (more, not broad), D (broad: more than `--tier-d-external` 20 external,
//!   or mostly IP-only externals no `--ranges` entry covers). Named tier D clients get
//!   no rules: the policy says to keep them in observe;
//! - the **horizon** (first to last seen) and the destination set compared
//!   day by day: `stable since DATE`, or `N new destination(s) on DATE`;
//! - **ready** only with a horizon of at least `--min-days` (7), tier A–C, no
//!   IP-only external destination left to investigate, no new destination on
//!   the latest day nor within a day of the last traffic, and every record
//!   dated;
//! - the **rollout order**: every ready tier A client in the first wave, then
//!   ready tier B, then C clients in waves of `--batch` (3).
//!
//! IP-only destinations inside a `--ranges` entry (`CIDR,PROVIDER` lines; no
//! host bits, at most /8 for IPv4 and /16 for IPv6) are proposed as that
//! range; others stay single addresses, never a wider CIDR, and count as
//! needing investigation. Imported DNS flows (port 53) are not
//! proposed: lookups are the resolver's, and exports allow DNS to it.
//! `report --observations` prints the same plan for observation files (with
//! the default tier thresholds and batch size).
//!
//! # `import`
//!
//! Turns flow logs the network already keeps into observation records in the
//! format the `Recorder` writes ([`record`](crate::record)), so `suggest` and
//! `report` read them unchanged:
//!
//! - `kernel-log`: netfilter log lines as Calico's `Log` action writes them
//!   (`calico-packet: IN=… OUT=… SRC=… DST=… PROTO=… SPT=… DPT=…`, the default
//!   `--prefix calico-packet`) in the kernel log, after a journald
//!   (`journalctl -o short-iso`, RFC 3339) or syslog (`Nov 20 10:00:00`, in
//!   UTC, year from `--year`, the year advancing when the stamps cross New
//!   Year) time stamp and the `HOST kernel:` tag, so another program's log line
//!   cannot pose as a flow. A field given twice, a stamp more than a day in the
//!   future, a line without a time stamp: bad lines;
//! - `nftables-log`: the same line format from nftables `log prefix` or
//!   iptables `LOG`; every line with `SRC=` and `DST=` unless `--prefix`
//!   narrows it. Lines of the nftables export's observe mode (`egress-policy
//!   would-deny`) become would-be denials;
//! - `hubble`: `hubble observe -o json` lines. Egress, non-reply TCP and UDP
//!   flows are kept; `DROPPED` flows become denials, `AUDIT` would-be denials;
//!   DNS responses (`l7.dns`) and `destination_names` name addresses.
//!
//! Clients: `--clients` maps source addresses to names — CSV
//! `ADDRESS_OR_CIDR,NAME`, a JSON object, or `kubectl get pods -A -o wide`
//! output (namespace, or `namespace.workload` with `--client-from workload`;
//! only `Running` pods, since finished pods' addresses are reused). Longest
//! prefix wins; an address given for several clients (host-network pods share
//! their node's) is left out and reported; a flow *into* a mapped address is
//! ingress, not counted. Without `--clients`, Hubble flows are named by their
//! source pod's namespace or workload.
//!
//! Names: a DNS answer names an address **only for the client that asked**
//! (Hubble: the DNS response's destination pod; dnsmasq `log-queries`: the
//! `query[…] NAME from IP` the `reply NAME is ADDRESS` answers, and the name
//! queried for a CNAME chain), so one workload's lookups cannot rename
//! another's traffic; `NAME,ADDRESS` lines in a `--dns-log` name the address
//! for every client. A flow's own `destination_names` (Hubble) name that flow.
//! Every name must be a canonical DNS name — no `*`, no address, no control
//! character — or the line is bad.
//!
//! Each record is one (client, destination, UTC day): scheme `tcp` or `udp`,
//! the port, and the host: the name when exactly one name is known for the
//! address (with the addresses seen as `resolved`), else the address (an
//! address several names answered with stays an address). Records carry
//! `"source": "kernel-log"` (or `hubble`, `nftables-log`) and the reason
//! `flow_seen` or `flow_dropped` (`enforced` true for a real drop, false for a
//! would-be one). Files may be `-` (standard input) or gzip. Lines that should
//! be flows but cannot be read are listed on standard error with their file
//! and line, with counts of what else was skipped; a file with no flow is an
//! error (exit 2) that lists them. Hubble `lost_events` become an overflow
//! record (the capture is incomplete). A gzip file may inflate to at most 4
//! GiB. Give the files in time order (syslog stamps take their year from the
//! order).
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
//!   `domains`; `--names auto`, the default; Cilium keeps `toFQDNs` under
//!   `--names public` too). Elsewhere (Kubernetes, nftables, Calico with
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
//! proven with real IPv4 packets between two network namespaces (CIDR rules,
//! ports and protocols, a name's `resolves_to`, a deny rule inside an allowed
//! range, DNS); the IPv6 and public-unicast lines are checked by `nft -c` only.
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
