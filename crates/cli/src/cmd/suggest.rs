//! `egress-policy suggest`: an allowlist from observation files.

use std::path::PathBuf;
use std::process::ExitCode;

use egress_policy_core::Policy;

use super::{Fatal, Status};
use crate::out::Out;
use egress_policy_cli::rollout;
use egress_policy_cli::suggest::{Options, suggest};

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
    #[command(flatten)]
    plan: super::PlanArgs,
    /// Tier B and C clients per rollout wave.
    #[arg(long, value_name = "N", default_value_t = 3)]
    batch: usize,
    /// Tier A: at most this many destinations.
    #[arg(long, value_name = "N", default_value_t = 2)]
    tier_a_max: usize,
    /// Tier B: at most this many external destinations ...
    #[arg(long, value_name = "N", default_value_t = 3)]
    tier_b_external: usize,
    /// ... and this many internal ones (DNS included).
    #[arg(long, value_name = "N", default_value_t = 5)]
    tier_b_internal: usize,
    /// Tier D (broad: no rules, keep in observe): more external destinations than this.
    #[arg(long, value_name = "N", default_value_t = 20)]
    tier_d_external: usize,
    /// Print one JSON document (the policy, the review notes and the per-client
    /// plan) instead of the policy; the notes no longer go to standard error.
    #[arg(long)]
    json: bool,
    /// Observation files.
    #[arg(required = true, value_name = "OBSERVATIONS")]
    observations: Vec<PathBuf>,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    policy: &'a str,
    new_in_latest: Option<&'a [String]>,
    blocked_now: &'a [String],
    not_allowlistable: &'a [String],
    refused: &'a [String],
    warnings: &'a [String],
    overflow: u64,
    plan: &'a egress_policy_cli::rollout::Plan,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let periods = super::read_periods(&args.observations)?;
    let mut rollout = args.plan.options()?;
    rollout.thresholds.a_total = args.tier_a_max;
    rollout.thresholds.b_external = args.tier_b_external;
    rollout.thresholds.b_internal = args.tier_b_internal;
    rollout.thresholds.d_external = args.tier_d_external;
    rollout.batch = args.batch;
    let opts = Options {
        wildcard_threshold: args.wildcard_threshold,
        ip_fanout_limit: args.ip_fanout_limit,
        policy: args.policy.as_deref().map(Policy::from_path).transpose()?,
        rollout,
        ..Options::default()
    };
    let s = suggest(&periods, &opts);
    if let Some(path) = &args.output {
        std::fs::write(path, &s.policy).map_err(|e| Fatal(format!("{}: {e}", path.display())))?;
    }
    if args.json {
        out.json(&Report {
            policy: &s.policy,
            new_in_latest: s.new_in_latest.as_deref(),
            blocked_now: &s.blocked_now,
            not_allowlistable: &s.not_allowlistable,
            refused: &s.refused,
            warnings: &s.warnings,
            overflow: s.overflow,
            plan: &s.plan,
        })?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.output.is_none() {
        out.text(&s.policy)?;
    }
    // The review summary goes to standard error, so the policy can be piped.
    match &s.new_in_latest {
        None => eprintln!(
            "suggest: one observation file: day-by-day changes per client are below; with Recorder files, observe over several periods to see whether the allowlist has stopped growing"
        ),
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
    for line in rollout::render(&s.plan).lines() {
        eprintln!("suggest: {line}");
    }
    Ok(ExitCode::SUCCESS)
}
