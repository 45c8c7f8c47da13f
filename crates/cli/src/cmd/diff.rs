//! `egress-policy diff`: what a policy change makes reachable and unreachable.

use std::path::PathBuf;

use egress_policy_core::Policy;

use super::{Status, status};
use crate::out::Out;
use egress_policy_cli::diff::{Change, Direction, diff};

/// The arguments of `diff`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// One JSON object: {"old", "new", "widening", "changes": [...]}.
    #[arg(long)]
    json: bool,
    /// The policy before the change.
    old: PathBuf,
    /// The policy after the change.
    new: PathBuf,
}

/// The whole diff, as `--json` prints it.
#[derive(serde::Serialize)]
struct Record<'a> {
    old: String,
    new: String,
    widening: bool,
    changes: &'a [Change],
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let (old, new) = (Policy::from_path(&args.old)?, Policy::from_path(&args.new)?);
    let changes = diff(&old, &new);
    let widening = changes.iter().any(|c| c.direction == Direction::Widening);
    if args.json {
        out.json(&Record {
            old: old.digest().to_string(),
            new: new.digest().to_string(),
            widening,
            changes: &changes,
        })?;
    } else {
        for c in &changes {
            out.line(c)?;
        }
        let count = |d| changes.iter().filter(|c| c.direction == d).count();
        out.line(format_args!(
            "{} widening, {} narrowing, {} metadata change{}{}",
            count(Direction::Widening),
            count(Direction::Narrowing),
            count(Direction::Metadata),
            if changes.len() == 1 { "" } else { "s" },
            if widening { ": this change WIDENS access" } else { "" }
        ))?;
    }
    // Exit 1 when the change widens access, so CI can demand extra review.
    Ok(status(!widening))
}
