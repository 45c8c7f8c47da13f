//! The policy file: format version 1, every field, its default and its errors.
//!
//! TOML is the primary format; JSON and YAML carry the same model and are chosen
//! by the file extension (`.toml`, `.json`, `.yaml`/`.yml`). Unknown keys are an
//! error, never ignored. A file loads completely or not at all: every problem in
//! it is reported at once, each naming the file, the line and column (TOML; JSON
//! for syntax errors), the rule (`id` and `allow[i]`/`deny[i]`), the field and
//! element (`hosts[2]`), and a fix where there is one.
//!
//! ```toml
//! version = 1
//! environment = "payments-prod"   # optional label, for lints and reports
//! mode = "sealed"                 # sealed | constrained | open
//! enforcement = "enforce"         # enforce | observe
//! floor = false                   # open mode only: apply the private floor too
//!
//! [[allow]]
//! id = "payments-api"
//! hosts = ["api.payments.example", "*.cdn.payments.example"]
//! cidrs = ["203.0.113.0/24"]
//! schemes = ["https"]
//! ports = [443]
//! modes = ["sealed", "constrained"]
//! clients = ["billing"]
//! resolves_to = ["10.20.0.0/16"]
//! owner = "payments-team@example.com"
//! reason = "card capture"
//! ticket = "SEC-142"
//! expires = "2027-01-31"
//!
//! [[deny]]
//! id = "no-metadata"
//! cidrs = ["169.254.169.254/32", "fd00:ec2::254/128"]
//! ```
//!
//! # Top level
//!
//! | field | required | default | meaning |
//! |---|---|---|---|
//! | `version` | yes | — | must be `1`; anything else is refused with the supported version |
//! | `environment` | no | none | a label (`air-gapped`, `payments-prod`); lints require `sealed` for air-gapped labels |
//! | `mode` | no | `sealed` | [`Mode`](crate::Mode): `sealed`, `constrained` or `open` |
//! | `enforcement` | no | `enforce` | [`Enforcement`](crate::Enforcement): `enforce` or `observe` |
//! | `floor` | no | `false` | in `open` mode, also apply the private floor (see [`admission`](super::admission)) |
//! | `allow`, `deny` | no | empty | the rules |
//!
//! - `sealed`: only what an allow rule names. `constrained`: that, plus the
//!   allow rules whose `modes` list `constrained` (time sources, CRL/OCSP, token
//!   endpoints). `open`: everything but what deny rules name.
//! - `observe`: nothing fails; every would-deny is logged and counted with
//!   `enforced=false`. A `sealed` policy under `observe` is not sealed (see
//!   [`Policy::is_sealed`](crate::Policy::is_sealed)).
//!
//! # Rules
//!
//! | field | allow | deny | default | meaning |
//! |---|---|---|---|---|
//! | `id` | required | required | — | unique across the file, `[a-z0-9][a-z0-9_.-]*` |
//! | `hosts` | yes | yes | none | name patterns (see [`matching`](super::matching)) |
//! | `cidrs` | yes | yes | none | networks, strict: no host bits (`10.0.0.1/8` is an error naming `10.0.0.0/8`); a bare address is `/32` or `/128` |
//! | `schemes` | yes | yes | allow: `["https"]`; deny: every scheme | `http`, `https`, `ws`, `wss`, `tcp`, `udp` |
//! | `ports` | yes | yes | allow: each listed scheme's default port; deny: every port | a list of ports and `"lo-hi"` ranges, or `"any"` (every port, 0 included) |
//! | `modes` | yes | no | `["sealed", "constrained"]` | the modes the rule applies in |
//! | `clients` | yes | no | every client | only clients built for one of these names get the rule |
//! | `resolves_to` | yes (name rules) | no | none | non-public ranges a name may resolve into |
//! | `owner`, `reason`, `ticket` | yes | yes | none | audit metadata, carried in decisions and logs; one line of text (no tabs, line breaks or other control characters), not blank |
//! | `expires` | yes | yes | never | `YYYY-MM-DD` (valid through that UTC day) or an RFC 3339 UTC instant |
//!
//! - A rule needs `hosts` or `cidrs` (or both).
//! - **Default ports with several schemes**: each scheme keeps its own default.
//!   `schemes = ["http", "https"]` without `ports` allows `http` on 80 and
//!   `https` on 443, not `http` on 443. `tcp` and `udp` have no default port, so
//!   a rule listing them needs `ports`.
//! - **Expiry**: a rule is live strictly before its expiry instant and expired
//!   from it on. `expires = "2027-01-31"` means live until
//!   `2027-01-31T23:59:59.999…Z`, expired at `2027-02-01T00:00:00Z`. An expired
//!   allow rule no longer allows (decisions say `rule_expired` when it alone
//!   would have matched); an **expired deny rule no longer denies**. The lints
//!   warn about both before and after. A request decided just before an
//!   allow rule expires is decided again when it makes a new connection or
//!   lookup after the expiry (a slow lookup, a retry), and refused then;
//!   connections it already holds (pooled keep-alive) are not cut.
//! - **Deny rules** accept `id`, `hosts`, `cidrs`, `schemes`, `ports`, `owner`,
//!   `reason`, `ticket` and `expires`; `modes`, `clients` and `resolves_to` are
//!   errors (a deny rule applies in every mode, to every client). Without
//!   `schemes` and `ports` a deny rule covers the destination entirely.
//! - **Client names** are compared exactly (case-sensitive) with the name a
//!   client was built with; in the file they must match `[a-z0-9][a-z0-9_.-]*`,
//!   so a client built as `Billing` never gets a rule for `billing`.
//! - Rules are sorted by `id` when loaded: the order in the file never changes a
//!   decision.
//!
//! # Errors
//!
//! Every [`LoadError`](crate::LoadError) names what to fix. Among them:
//! unknown keys (with "did you mean"), a missing `version`, names not in
//! canonical form (`Bücher.example`: write `xn--bcher-kva.example`), IP literals
//! in `hosts` (they belong in `cidrs`), `*` anywhere but a whole leftmost label,
//! CIDRs with host bits set, `tcp`/`udp` without `ports`, `resolves_to` on a rule
//! without `hosts`, fields deny rules do not accept, duplicate ids, empty lists,
//! expiry that is not UTC.
