//! `egress-policy`: validate policies, check URLs against them, and review
//! changes (the contract: `egress_policy_core::docs::cli`).
//!
//! `main` only parses and dispatches: each subcommand is a module of `cmd/`
//! with its `Args` and its `run`; the logic they share with services and CI
//! tools is the `egress_policy_cli` library (lint, diff, report, suggest).

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod out;

/// Validate egress policies and check destinations against them.
#[derive(Parser)]
#[command(name = "egress-policy", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load and lint policy files. Exit 0 valid, 1 invalid (load errors, error
    /// findings, or warnings under --strict), 2 usage error.
    Validate(cmd::validate::Args),
    /// Governance report: every rule with owner, ticket, expiry and days left,
    /// soonest expiry first, for periodic access reviews.
    Report(cmd::report::Args),
    /// Print the JSON Schema of the policy file format (for editors and CI).
    Schema,
    /// Connectivity smoke test: really try each URL through the enforced client.
    ///
    /// Reports the verdict, whether a connection was attempted, the HTTP status or
    /// error and the elapsed time, stamped with UTC time and the policy's
    /// generation and digest. Exit 0 when every URL was allowed and answered, 1
    /// otherwise, 2 for usage or policy errors.
    Probe(cmd::probe::Args),
    /// What a policy change makes reachable and unreachable. Exit 1 when it widens
    /// access (so CI can demand extra review), 0 otherwise, 2 on errors.
    Diff(cmd::diff::Args),
    /// Suggest an allowlist from observation files (JSON lines written by the
    /// library's `Recorder`), one file per period. Writes a policy TOML with
    /// placeholders `validate --strict` rejects until a person fills them in
    /// (and plain `validate` too, for rules proposing special-purpose
    /// addresses). Never proposes what a deny rule denied or a cloud metadata
    /// address.
    Suggest(cmd::suggest::Args),
    /// Decide on URLs. Exit 0 all allowed, 1 any denied or invalid, 2 usage or policy error.
    ///
    /// With no URL arguments, reads standard input, one URL per line; a line that
    /// starts with `"` is a JSON string literal, so URLs holding tabs, newlines or
    /// NUL can be checked exactly.
    Check(cmd::check::Args),
    /// Run policy tests: files of destinations with the verdict (and optionally
    /// reason and rule) the policy must give each. Exit 0 all pass, 1 any
    /// fails, 2 usage, policy or tests-file error.
    Test(cmd::test::Args),
    /// Export the policy as a network-layer fence (Kubernetes NetworkPolicy,
    /// nftables, CiliumNetworkPolicy, Calico NetworkPolicy). What the target cannot express is reported on standard error;
    /// with --strict that is a failure (exit 1). Exit 2 for usage or policy errors.
    Export(cmd::export::Args),
    /// Turn flow logs (Calico kernel-log lines, Hubble JSON, nftables log lines)
    /// into observation records for `suggest` and `report`. Lines that cannot
    /// be read are reported with their line numbers; a file with no flow is an
    /// error (exit 2).
    Import(cmd::import::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = out::Out::stdout();
    let result = match cli.command {
        Command::Validate(args) => cmd::validate::run(args, &mut out),
        Command::Report(args) => cmd::report::run(args, &mut out),
        Command::Schema => cmd::schema::run(&mut out),
        Command::Probe(args) => cmd::probe::run(args, &mut out),
        Command::Diff(args) => cmd::diff::run(args, &mut out),
        Command::Suggest(args) => cmd::suggest::run(args, &mut out),
        Command::Check(args) => cmd::check::run(args, &mut out),
        Command::Test(args) => cmd::test::run(args, &mut out),
        Command::Export(args) => cmd::export::run(args, &mut out),
        Command::Import(args) => cmd::import::run(args, &mut out),
    };
    match result {
        Ok(code) => code,
        Err(cmd::Fatal(msg)) => {
            eprintln!("egress-policy: {msg}");
            ExitCode::from(2)
        }
    }
}
