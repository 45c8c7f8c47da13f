//! Connect-time admission: which resolved addresses a connection may use.
//!
//! A destination allowed by **name** is connected only to resolved addresses
//! that are admitted ([`Policy::admit`](crate::Policy::admit)). An address is
//! admitted when no live deny rule covers it **for the destination's scheme and
//! port** (embeddings unwrapped) and either
//!
//! - it is public unicast: not in the special-purpose table below, with the IPv4
//!   address inside every IPv6 embedding judged too; or
//! - it lies in the `resolves_to` of the rule that allowed the destination; or
//! - it lies in the `cidrs` of a live allow rule for this client that covers the
//!   same scheme and port.
//!
//! Addresses that are not admitted are dropped from the answer (and logged, and
//! counted in `egress_resolved_addresses_dropped_total`); the connection goes
//! only to admitted addresses, in the resolver's order. When a non-empty answer
//! loses every address, the decision becomes a deny,
//! `resolved_to_forbidden_address`. An IP-literal destination was decided on
//! itself: only that address may be used.
//!
//! # Modes and the floor
//!
//! The private floor (the special-purpose check) applies in `sealed` and
//! `constrained`. In `open` mode only deny rules filter resolved addresses,
//! unless the policy sets `floor = true`. Then:
//!
//! - an IP literal in a special-purpose range is denied (`forbidden_address`)
//!   unless a live allow rule for this client names it with the scheme and port;
//! - a name's private answers are admitted only through the `resolves_to` of the
//!   live allow rule for this client that covers the scheme, host and port (a
//!   rule for another port, another client, or an expired one admits nothing),
//!   or the `cidrs` of such a rule.
//!
//! Under `observe`, nothing is removed: [`Admission::admitted`](crate::Admission::admitted)
//! holds the whole answer and the would-be drops are reported.
//!
//! # One semantics in every integration
//!
//! Every integration admits exactly this set, for the scheme, port, client and
//! instant the request was decided with. Resolvers see only a name, so the
//! decision is handed down to them: the hyper resolver learns it from
//! `EnforceConnector` above it, reqwest's resolver from the request-level check
//! and, at each redirect hop, from the redirect policy. Both admit with
//! [`Policy::admit_decided`](crate::Policy::admit_decided).
//!
//! A resolver decides **before** it looks anything up. A name the policy denies
//! causes no DNS query (a lookup is a way out of a sealed network by itself), a
//! lookup that no decision covers is refused, and a decision made under a policy
//! that has been swapped out since is made again first.
//!
//! # Proxies
//!
//! A proxy is a destination too: it is used only when the policy allows it, and
//! the target is still decided on every request and hop. A proxy resolves the
//! target's name itself, where no resolver of ours sees the answer, so the
//! reqwest client resolves the name first (same lookup, same overrides) and runs
//! admission on that answer: a target allowed by name that resolves to
//! `169.254.169.254` is denied before the proxy is contacted, and so is a name
//! with no address. Trusting the proxy's own resolution is an explicit opt-in
//! (`Builder::danger_trust_proxy_resolution`). See
//! [`limitations`](super::limitations) for the gap that remains.
//!
//! # The special-purpose table
//!
//! [`special_purpose`](crate::addr::special_purpose) reports the block an address
//! falls in. IPv4, most specific first:
//!
//! | block | what |
//! |---|---|
//! | `169.254.169.254/32` | cloud metadata service (AWS, GCP, Azure, OpenStack, …) |
//! | `169.254.170.2/32` | ECS task credentials |
//! | `100.100.100.200/32` | Alibaba Cloud metadata |
//! | `192.0.0.192/32` | Oracle Cloud metadata |
//! | `168.63.129.16/32` | Azure WireServer |
//! | `255.255.255.255/32` | limited broadcast |
//! | `0.0.0.0/8` | this network, unspecified |
//! | `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` | private use (RFC 1918) |
//! | `100.64.0.0/10` | shared address space (CGNAT) |
//! | `127.0.0.0/8` | loopback |
//! | `169.254.0.0/16` | link-local |
//! | `192.0.0.0/24` | IETF protocol assignments |
//! | `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24` | documentation |
//! | `192.31.196.0/24`, `192.175.48.0/24` | AS112 |
//! | `192.52.193.0/24` | AMT |
//! | `192.88.99.0/24` | deprecated 6to4 relay anycast |
//! | `198.18.0.0/15` | benchmarking |
//! | `224.0.0.0/4` | multicast |
//! | `240.0.0.0/4` | reserved |
//!
//! IPv6 (IPv4 embeddings are unwrapped first and judged by the IPv4 table):
//!
//! | block | what |
//! |---|---|
//! | `fd00:ec2::254/128` | AWS metadata (IPv6) |
//! | `::/128`, `::1/128` | unspecified, loopback |
//! | `64:ff9b:1::/48` | local-use IPv4/IPv6 translation |
//! | `100::/64` | discard-only |
//! | `2001:db8::/32`, `3fff::/20` | documentation |
//! | `2001::/23` | IETF protocol assignments |
//! | `5f00::/16` | SRv6 SIDs |
//! | `fc00::/7` | unique local (ULA) |
//! | `fe80::/10` | link-local |
//! | `fec0::/10` | site-local (deprecated) |
//! | `ff00::/8` | multicast |
//!
//! The metadata addresses alone are [`METADATA_ADDRESSES`](crate::addr::METADATA_ADDRESSES);
//! the `metadata-address` lint refuses allow ranges reaching them.
