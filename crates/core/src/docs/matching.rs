//! Matching and precedence: how a destination is decided.
//!
//! # Destinations
//!
//! A destination is a scheme, a canonical host and a port
//! ([`Destination`](crate::Destination)).
//!
//! - URLs are parsed with the WHATWG parser (the `url` crate, which reqwest uses
//!   too). The port is the URL's, else the scheme's default (`http`/`ws` 80,
//!   `https`/`wss` 443). A URL that does not parse, or has no host, is
//!   `invalid`: `file:///etc/passwd`, `data:text/plain,x`, `mailto:a@b` never
//!   name a destination, in any mode.
//! - `tcp` and `udp` destinations (database drivers, time sync) are written
//!   `tcp://host:port`. Their host is normalised exactly like a URL's: case
//!   folded, IDNA applied, IPv4 number forms and `[v6]` literals read as
//!   addresses. The port is required (`tcp://db.example` is `invalid`: no
//!   default port).
//! - Other schemes with a host (`ftp://files.example/`) parse, but no rule can
//!   name them: in `sealed` and `constrained` they are denied
//!   (`scheme_not_allowed` when a rule names the host, else `no_matching_rule`);
//!   in `open` mode they are allowed like anything else not denied.
//!
//! # Host names
//!
//! - Names compare in canonical form: the WHATWG host (UTS #46 non-transitional,
//!   lower case, A-labels) with **one** trailing dot removed. `a.example.` is
//!   `a.example`; `a.example..` keeps an empty label.
//! - `api.example.com` matches exactly that name.
//! - `*.example.com` matches one or more non-empty labels in front of
//!   `example.com`, at any depth (`a.example.com`, `a.b.example.com`), never the
//!   apex `example.com`: list it separately when it is wanted.
//! - A name with an empty label or a label that is a literal `*`
//!   (`x..example.com`, `*.example.com`, `x.*.example.com` as destinations) is
//!   matched by **no allow rule**. Deny rules still see it by suffix (a deny rule
//!   on `*.example.com` denies all three), because DNS answers such names from
//!   wildcard records. Not denied, it is `invalid` in `open` mode and
//!   `no_matching_rule` in the others: it is never allowed.
//! - Homographs (`аpi.example` with a Cyrillic `а`) are other names: nothing is
//!   folded beyond UTS #46.
//! - Policy files must be canonical already: the loader rejects `Bücher.example`
//!   and says to write `xn--bcher-kva.example`.
//!
//! # Addresses
//!
//! - IPv4 number forms (`0x7f.1`, `2130706433`, `017700000001`, `127.1`) are the
//!   address they spell, as the WHATWG parser reads them.
//! - IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 address, for allowing and
//!   denying alike.
//! - The other embeddings of IPv4 in IPv6 (IPv4-translated `::ffff:0:a.b.c.d`,
//!   IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`,
//!   6to4 `2002::/16`, Teredo `2001::/32` server and client, ISATAP
//!   `…:0:5efe:a.b.c.d` and `…:200:5efe:a.b.c.d`) are plain IPv6 **for
//!   allowing**: an allow rule needs the IPv6 range. **Deny rules and the private
//!   floor unwrap them all**: a deny rule on `169.254.169.254/32` denies
//!   `[64:ff9b::a9fe:a9fe]`, `[::ffff:0:a9fe:a9fe]`, `[::a9fe:a9fe]` and
//!   `[2002:a9fe:a9fe::]`, and a deny rule on `10.0.0.0/8` wins over an allow
//!   rule on `64:ff9b::/96` for `[64:ff9b::a00:1]`. Denying is never weaker
//!   than allowing. See [`embedded_ipv4`](crate::addr::embedded_ipv4).
//! - A CIDR rule matches only IP-literal destinations: a name is never resolved
//!   to make a decision (resolution is judged afterwards, see
//!   [`admission`](super::admission)).
//!
//! # Precedence
//!
//! For a destination, with the policy's mode, at the decision's instant and for
//! the deciding client:
//!
//! 1. Parse. Failure: `invalid`.
//! 2. A live deny rule covers the host (or address, embeddings unwrapped), the
//!    scheme and the port: deny, `denied_by_rule`. Names no allow rule can match
//!    are checked here too, then refused (see above).
//! 3. Mode `open`: allow, `open_mode`. With `floor = true`, an IP literal in a
//!    special-purpose range is denied, `forbidden_address`, unless a live allow
//!    rule for this client covers the address, scheme and port (then
//!    `allowed_by_rule`); allow rules' `modes` are not consulted in `open` mode.
//! 4. A live allow rule whose `modes` include the mode and whose `clients` (if
//!    any) include the client covers host, scheme and port: allow,
//!    `allowed_by_rule`.
//! 5. Otherwise deny, with the most helpful reason among the allow rules that
//!    apply to this mode and client and cover the host:
//!    - `rule_expired`: an expired rule covers the scheme and port too;
//!    - `port_not_allowed`: a live rule covers the scheme but not the port;
//!    - `scheme_not_allowed`: a live rule covers the host but not the scheme;
//!    - `no_matching_rule`: none. Rules for other clients or other modes, and
//!      expired rules that would not have covered the scheme and port, do not
//!      count: they give `no_matching_rule`.
//!
//!    When several near misses exist, the earlier reason in this list wins.
//!
//! When several rules cover a destination, the most specific wins: an exact
//! name before a wildcard, a longer wildcard suffix before a shorter one, a
//! longer CIDR prefix before a shorter one; then the smallest rule id. A policy's
//! digest therefore determines every decision.
//!
//! Decisions are deterministic: the same policy, destination, client and
//! instant give the same decision. The instant comes from an injectable
//! [`Clock`](crate::Clock), always UTC.
