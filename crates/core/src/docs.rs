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
//! 2. A live `deny` rule covers it: deny, `denied_by_rule`.
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
//!   denying. NAT64, 6to4, Teredo and IPv4-compatible addresses are plain IPv6 for
//!   allowing and denying, but unwrapped for the private floor.
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
//! port. In `open` mode only deny rules filter unless `floor = true`. See
//! [`Policy::admit`](crate::Policy::admit).
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
