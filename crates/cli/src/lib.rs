//! The library behind the `egress-policy` command: `lint` (policy-as-code
//! findings), `suggest` (observed traffic to a reviewed allowlist), `diff` (what
//! a policy change makes reachable) and `report` (access reviews), so services,
//! CI tools and examples can run the same logic in-process.

#![forbid(unsafe_code)]

pub mod diff;
pub mod lint;
pub mod report;
pub mod rules;
pub mod suggest;
