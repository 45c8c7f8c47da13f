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
    /// The policy file.
    file: PathBuf,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let policy = Policy::from_path(&args.file)?;
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
