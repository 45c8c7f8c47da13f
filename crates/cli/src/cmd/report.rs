//! `egress-policy report`: every rule with owner, ticket, expiry and days left.

use std::path::PathBuf;
use std::process::ExitCode;

use egress_policy_core::Policy;

use super::{Status, instant};
use crate::out::Out;

/// The arguments of `report`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// One JSON object per rule.
    #[arg(long)]
    json: bool,
    /// Count days left from this UTC instant or date instead of now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Observation files (the Recorder's, or `import`'s): report each
    /// client's destinations, tier, observation horizon and readiness.
    #[arg(long, value_name = "OBSERVATIONS", num_args = 1..)]
    observations: Vec<PathBuf>,
    /// With --observations: the plan's flags, as `suggest` takes them.
    #[command(flatten)]
    plan: super::PlanArgs,
    /// The policy file.
    #[arg(required_unless_present = "observations")]
    file: Option<PathBuf>,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    if !args.observations.is_empty() {
        let periods = super::read_periods(&args.observations)?;
        let every: Vec<_> = periods.iter().flat_map(|p| &p.observations).collect();
        let opts = args.plan.options()?;
        let plan = egress_policy_cli::rollout::plan(&every, &opts);
        if args.json {
            out.json(&plan)?;
        } else {
            out.text(&egress_policy_cli::rollout::render(&plan))?;
        }
        if args.file.is_none() {
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let Some(file) = &args.file else { return Ok(ExitCode::SUCCESS) };
    let policy = Policy::from_path(file)?;
    let rows = egress_policy_cli::report::report(&policy, instant(args.now.as_deref())?);
    if args.json {
        for r in &rows {
            out.json(r)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    out.line(format_args!(
        "{:<24} {:<5} {:<28} {:<12} {:<22} {:>9}  covers",
        "rule", "kind", "owner", "ticket", "expires", "days left"
    ))?;
    for r in &rows {
        out.line(format_args!(
            "{:<24} {:<5} {:<28} {:<12} {:<22} {:>9}  {}",
            r.rule,
            r.kind,
            r.owner.as_deref().unwrap_or("-"),
            r.ticket.as_deref().unwrap_or("-"),
            r.expires.as_deref().unwrap_or("never"),
            r.days_left.map_or("-".to_string(), |d| d.to_string()),
            r.covers
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
