//! Design notes: matching rules, defaults, threat model and known limitations.
//!
//! This module holds documentation only.
//!
//! # Threat model
//!
//! egress-policy stops code inside a service from reaching destinations the
//! policy does not name, **through the HTTP stacks it wraps** (tower, hyper,
//! reqwest) and through every destination checked with this crate's API. It cannot
//! stop raw sockets opened by code that bypasses it (a C library, a crate that
//! opens its own `TcpStream`). Pair it with network policy (Kubernetes
//! NetworkPolicy, Cilium, Calico): the library gives precise, audited, per-client
//! decisions with reasons; the network layer is the backstop.
//!
//! # Decisions (DESIGN.md §3.3)
//!
//! For a destination (scheme, host, port) and the policy's mode:
//!
//! 1. The URL is parsed with the WHATWG parser (the `url` crate, which reqwest
//!    uses too). Failure: [`Reason::Invalid`](crate::Reason::Invalid).
//! 2. A live `deny` rule covers it: deny, `denied_by_rule`. A name that no
//!    allow rule could ever match (a literal `*` label, an empty label:
//!    `*.corp.example`, `x.*.corp.example`, `x..corp.example`) is still checked
//!    here, since DNS answers such names from wildcard records; a deny rule on
//!    `*.corp.example` denies all three. If no deny rule covers it, it is never
//!    allowed: `invalid` in `open` mode, `no_matching_rule` in the others.
//! 3. Mode `open`: allow, `open_mode` (with `floor = true`, an IP literal in a
//!    special-purpose range that no allow rule's `cidrs` name is denied,
//!    `forbidden_address`).
//! 4. A live allow rule whose `modes` include the current mode and whose
//!    `clients` (if any) include the deciding client covers host or address,
//!    scheme and port: allow, `allowed_by_rule`.
//! 5. Otherwise deny with the most helpful reason: `rule_expired` (an expired rule
//!    would have allowed it), `port_not_allowed` (a rule covers host and scheme but
//!    not the port), `scheme_not_allowed` (a rule covers the host but not the
//!    scheme), else `no_matching_rule`.
//!
//! When several rules cover a destination, the most specific wins (an exact name
//! before a wildcard, a longer wildcard suffix before a shorter one, a longer
//! CIDR prefix before a shorter one), then the smallest rule id. Rules are
//! therefore independent of their order in the file, and two policies with the
//! same digest make the same decisions.
//!
//! # Host names
//!
//! - Names compare in canonical form: the WHATWG host (UTS #46 non-transitional,
//!   lower case, A-labels) with **one** trailing dot removed. `a.example..` keeps
//!   an empty label and matches nothing.
//! - `*.example.com` matches one or more non-empty labels in front of
//!   `example.com` at any depth, never `example.com` itself, never a name with an
//!   empty label or a label that is a literal `*`.
//! - Policy files must be canonical already; the loader rejects `Bücher.example`
//!   and says to write `xn--bcher-kva.example`. IP literals belong in `cidrs`.
//! - Homographs (`аpi.example` with a Cyrillic `а`) are other names and are
//!   denied: nothing is folded beyond UTS #46 mapping.
//!
//! # Addresses
//!
//! - IPv4 number forms (`0x7f.1`, `2130706433`, `017700000001`, `127.1`) are the
//!   address they spell, as the WHATWG parser reads them.
//! - IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 address for allowing and
//!   denying. The other embeddings (IPv4-translated `::ffff:0:a.b.c.d`,
//!   IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`,
//!   6to4 `2002::/16`, Teredo `2001::/32` server and client, ISATAP
//!   `…:0:5efe:a.b.c.d`) are plain IPv6 for **allowing** (an IPv6 rule is
//!   needed), but **deny rules and the private floor unwrap them all**: a deny
//!   rule on `169.254.169.254/32` denies `[64:ff9b::a9fe:a9fe]`,
//!   `[2002:a9fe:a9fe::]` and a name answering either. Denying is never weaker
//!   than allowing. See [`embedded_ipv4`](crate::embedded_ipv4).
//! - CIDRs must have no host bits set (`10.0.0.1/8` is an error naming
//!   `10.0.0.0/8`).
//! - A CIDR rule matches only IP-literal destinations; names are never resolved to
//!   make a decision.
//!
//! # Connect time (DESIGN.md §3.4)
//!
//! A name allowed by a rule is connected only to admitted addresses: not covered
//! by a deny rule, and public unicast (see [`special_purpose`](crate::special_purpose)
//! for the table: loopback, RFC 1918, CGNAT, link-local, ULA, multicast,
//! documentation, benchmarking, IETF assignments and cloud metadata addresses,
//! with IPv4 unwrapped from every IPv6 embedding), or in the matched rule's
//! `resolves_to`, or in the `cidrs` of a live allow rule covering the scheme and
//! port. In `open` mode only deny rules filter unless `floor = true`; then the
//! "matched rule" whose `resolves_to` applies is the live allow rule for this
//! client that covers the scheme, host and port (a rule for another port,
//! another client, or an expired one admits nothing). See
//! [`Policy::admit`](crate::Policy::admit).
//!
//! Every integration admits **exactly** this set, for the scheme, port, client
//! and instant the request was decided with: the hyper resolver learns them from
//! the connector above it, reqwest's resolver from the request-level check (and
//! the redirect policy, at each hop), and both admit with
//! [`Policy::admit_decided`](crate::Policy::admit_decided). A resolver decides
//! **before** it looks anything up: a name the policy denies causes no DNS query
//! (a lookup is itself a way out of a sealed network), and a lookup no decision
//! covers is refused. A test in the repository (`tests/admission.rs`) checks the
//! clients against `Policy::admit` on generated policies, with real listeners.
//!
//! # Proxies
//!
//! A proxy is a destination too: it is used only when the policy allows it, and
//! the target is still decided on every request and hop. The proxy would resolve
//! the target's name itself, out of sight, so the reqwest client resolves it
//! first and runs admission on the answer: a target allowed by name that
//! resolves to `169.254.169.254` is denied before the proxy is contacted.
//! Trusting the proxy's own resolution is an explicit opt-in
//! (`Builder::danger_trust_proxy_resolution` in `egress-policy-reqwest`).
//!
//! # Defaults
//!
//! | what | default | why |
//! |---|---|---|
//! | `mode` | `sealed` | the strict choice |
//! | `enforcement` | `enforce` | the strict choice |
//! | allow rule `schemes` | `["https"]` | plain text needs saying |
//! | allow rule `ports` | each scheme's default port | `https` → 443, `http`/`ws` → 80 |
//! | allow rule `modes` | `["sealed", "constrained"]` | |
//! | deny rule `schemes`, `ports` | every scheme, every port | a deny rule without them denies the destination entirely |
//! | `floor` | `false` | only meaningful in `open` mode |
//!
//! Deny rules may not carry `modes`, `clients` or `resolves_to`: they apply in
//! every mode and to every client.
//!
//! # Identity
//!
//! Every decision carries the policy's generation (1 for the first load, +1 per
//! swap) and digest: `sha256:` over [`Policy::canonical_json`](crate::Policy::canonical_json),
//! which ignores comments, formatting, key and rule order and the file format.
//!
//! # Known limitations
//!
//! - Enforcement covers only the paths that go through this library. Raw sockets,
//!   other HTTP clients and child processes are out of reach.
//! - Expiry is judged against the injected clock; a wrong system clock moves it.
//! - Policy lints (public-suffix wildcards, broad CIDRs, missing metadata,
//!   shadowed rules, ...) live in the CLI's library (`egress_policy_cli::lint`),
//!   so this crate does not carry the Public Suffix List.
//! - Rules cannot name schemes other than http, https, ws, wss, tcp, udp; other
//!   schemes (`ftp`) pass only in `open` mode.
//! - **Proxies re-resolve.** After the local admission of a target, the proxy
//!   looks the name up again and may get another answer (a DNS server that
//!   answers the second query differently). Only the proxy can close this
//!   time-of-check gap, with a private floor of its own. A redirect hop through
//!   a proxy to a name the request has not resolved is refused by the reqwest
//!   client (reqwest's redirect policy cannot resolve), unless the proxy's
//!   resolution is trusted.
//! - **Pooled connections outlive a reload.** Every request is decided under the
//!   policy in force, but a pooled connection to a host the new policy still
//!   allows by name keeps the address admitted under the old one until it is
//!   closed. Lower the client's pool idle timeout where that matters.
//! - **`Host` headers.** Decisions are made on the URI's authority, where the
//!   connection goes; a caller-supplied `Host` header is sent as it is, and a
//!   shared front end (CDN) may route by it (domain fronting). The tower layer
//!   can refuse mismatches (`EnforcePolicyLayer::require_matching_host_header`).
//! - **The hyper integration has no proxy support**: a proxy or tunnel connector
//!   between `EnforceConnector` and `EnforceResolver` makes the resolver refuse
//!   the proxy's name (fail closed).
//! - **Sealed means sealed and enforced.** A `sealed` policy under `observe`
//!   refuses nothing; `X-Sealed-Mode`, the reload log's `sealed=` field and
//!   [`Policy::is_sealed`](crate::Policy::is_sealed) report it as not sealed, and
//!   the lints `mode-not-allowed` and `environment-not-sealed` reject it.
