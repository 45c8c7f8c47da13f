//! The subcommands, one module each, with its arguments (`Args`) and its `run`,
//! which returns the exit status. `main` only parses and dispatches.

use std::process::ExitCode;
use std::time::SystemTime;

use egress_policy_core::time::parse_instant;
use egress_policy_core::{Decision, LoadError, Mode};

pub(crate) mod check;
pub(crate) mod diff;
pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod probe;
pub(crate) mod report;
pub(crate) mod schema;
pub(crate) mod suggest;
pub(crate) mod test;
pub(crate) mod validate;

/// A usage, policy or I/O error: exit status 2.
pub(crate) struct Fatal(pub(crate) String);

impl From<LoadError> for Fatal {
    fn from(e: LoadError) -> Self {
        Fatal(chain(&e))
    }
}

/// An error and its causes, `error: cause: cause` (a [`LoadError`]'s I/O cause
/// is its `source()`).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message = format!("{message}: {c}");
        cause = c.source();
    }
    message
}

/// What a command returns: its exit status, or a fatal error (status 2).
pub(crate) type Status = Result<ExitCode, Fatal>;

/// Exit status 0 when `ok`, 1 otherwise.
pub(crate) fn status(ok: bool) -> ExitCode {
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// `--now`: an RFC 3339 UTC instant or a date; now when absent.
pub(crate) fn instant(now: Option<&str>) -> Result<SystemTime, Fatal> {
    match now {
        None => Ok(SystemTime::now()),
        Some(s) => parse_instant(s).map_err(|e| Fatal(format!("--now: {e}"))),
    }
}

/// A policy mode on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ModeArg {
    Sealed,
    Constrained,
    Open,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Sealed => Mode::Sealed,
            ModeArg::Constrained => Mode::Constrained,
            ModeArg::Open => Mode::Open,
        }
    }
}

/// The verdict as the commands print it: `invalid` for a URL that is not a
/// destination, else `allow` or `deny`.
pub(crate) fn verdict(decision: &Decision) -> &'static str {
    egress_policy_cli::cases::Expected::of(decision).as_str()
}

pub(crate) use egress_policy_cli::echo_url;

/// The rollout-plan flags `suggest` and `report --observations` share.
#[derive(clap::Args)]
pub(crate) struct PlanArgs {
    /// A cluster-internal network (service or pod CIDR), repeatable: its
    /// destinations count as internal for tiers.
    #[arg(long, value_name = "CIDR")]
    internal: Vec<ipnet::IpNet>,
    /// Known provider ranges, `CIDR,PROVIDER` lines: addresses inside one are
    /// proposed as the range; other IP-only destinations need investigation.
    #[arg(long, value_name = "FILE")]
    ranges: Option<std::path::PathBuf>,
    /// The least observation horizon (first to last seen) for a client to be ready.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    min_days: u32,
}

impl PlanArgs {
    /// The plan options these flags give (reads `--ranges`); the rest default.
    pub(crate) fn options(self) -> Result<egress_policy_cli::rollout::Options, Fatal> {
        let mut opts = egress_policy_cli::rollout::Options::default();
        opts.ranges = self
            .ranges
            .as_deref()
            .map(egress_policy_cli::rollout::read_ranges)
            .transpose()
            .map_err(Fatal)?
            .unwrap_or_default();
        opts.internal = self.internal;
        opts.min_days = self.min_days;
        Ok(opts)
    }
}

/// Reads observation files, one period each.
pub(crate) fn read_periods(files: &[std::path::PathBuf]) -> Result<Vec<egress_policy_cli::suggest::Period>, Fatal> {
    files
        .iter()
        .map(|f| egress_policy_cli::suggest::read_period(f).map_err(Fatal))
        .collect()
}
