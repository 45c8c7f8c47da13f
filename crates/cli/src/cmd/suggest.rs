//! `egress-policy suggest`: an allowlist from observation files.

use std::path::PathBuf;
use std::process::ExitCode;

use egress_policy_core::Policy;

use super::{Fatal, Status};
use crate::out::Out;
use egress_policy_cli::suggest::{Options, read_period, suggest};

/// The arguments of `suggest`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Distinct names under one registrable domain before they become `*.domain`.
    #[arg(long, default_value_t = 5)]
    wildcard_threshold: usize,
    /// Distinct IP-literal destinations beyond which they are not listed.
    #[arg(long, default_value_t = 32)]
    ip_fanout_limit: usize,
    /// Write the policy here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The policy in force: its deny rules are carried over into the
    /// suggestion, and nothing they deny is proposed.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Observation files.
    #[arg(required = true, value_name = "OBSERVATIONS")]
    observations: Vec<PathBuf>,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let periods = args
        .observations
        .iter()
        .map(|f| read_period(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Fatal)?;
    let opts = Options {
        wildcard_threshold: args.wildcard_threshold,
        ip_fanout_limit: args.ip_fanout_limit,
        policy: args.policy.as_deref().map(Policy::from_path).transpose()?,
        ..Options::default()
    };
    let s = suggest(&periods, &opts);
    match &args.output {
        Some(path) => std::fs::write(path, &s.policy).map_err(|e| Fatal(format!("{}: {e}", path.display())))?,
        None => out.text(&s.policy)?,
    }
    // The review summary goes to standard error, so the policy can be piped.
    match &s.new_in_latest {
        None => eprintln!("suggest: one period only: observe over several periods to see whether the allowlist has stopped growing"),
        Some(new) if new.is_empty() => eprintln!("suggest: no new destinations in the latest period: the allowlist looks stable"),
        Some(new) => {
            eprintln!(
                "suggest: {} destination(s) new in the latest period (keep observing before enforcing):",
                new.len()
            );
            for d in new {
                eprintln!("  {d}");
            }
        }
    }
    for b in &s.blocked_now {
        eprintln!("suggest: blocked now: {b}");
    }
    for n in &s.not_allowlistable {
        eprintln!("suggest: not allow-listed: {n}");
    }
    for r in &s.refused {
        eprintln!("suggest: WARNING: refused: {r}");
    }
    for w in &s.warnings {
        eprintln!("suggest: WARNING: {w}");
    }
    Ok(ExitCode::SUCCESS)
}
