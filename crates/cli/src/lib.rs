//! The library behind the `egress-policy` command: `suggest` (observed traffic
//! to a reviewed allowlist) and `diff` (what a policy change makes reachable), so
//! services and examples can run the same logic in-process.

#![forbid(unsafe_code)]

pub mod diff;
pub mod suggest;
