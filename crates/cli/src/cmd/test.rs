//! `egress-policy test`: run policy tests ([`egress_policy_cli::cases`]).

use std::path::PathBuf;
use std::time::SystemTime;

use egress_policy_cli::cases::{self, Outcome};
use egress_policy_core::Policy;

use super::{Fatal, Status, status, verdict};
use crate::out::Out;

/// The arguments of `test`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy file.
    #[arg(value_name = "POLICY")]
    policy: PathBuf,
    /// Tests files (TOML, `[[case]]` tables).
    #[arg(value_name = "TESTS", required = true)]
    tests: Vec<PathBuf>,
    /// One JSON document: the counts and every case with its decision.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Report<'a> {
    policy: String,
    generation: u64,
    digest: String,
    passed: usize,
    failed: usize,
    cases: Vec<CaseRecord<'a>>,
}

#[derive(serde::Serialize)]
struct CaseRecord<'a> {
    file: String,
    case: usize,
    name: &'a str,
    passed: bool,
    mismatches: &'a [String],
    expected: Expected<'a>,
    decided: Decided<'a>,
}

#[derive(serde::Serialize)]
struct Expected<'a> {
    verdict: &'static str,
    reason: Option<&'static str>,
    rule: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct Decided<'a> {
    verdict: &'static str,
    reason: &'static str,
    rule: Option<&'a str>,
    destination: Option<String>,
    enforced: bool,
    instant: String,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let policy = Policy::from_path(&args.policy)?;
    let now = SystemTime::now();
    let mut results: Vec<(String, Vec<Outcome>)> = Vec::new();
    for path in &args.tests {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Fatal(format!("{origin}: {e}")))?;
        let parsed = cases::parse(&origin, &text, now).map_err(|e| Fatal(e.0))?;
        results.push((origin, cases::run(&policy, parsed)));
    }
    let all = || results.iter().flat_map(|(file, outcomes)| outcomes.iter().map(move |o| (file, o)));
    let failed = all().filter(|(_, o)| !o.passed()).count();
    let passed = all().count() - failed;

    if args.json {
        let id = policy.id();
        out.json(&Report {
            policy: args.policy.display().to_string(),
            generation: id.generation,
            digest: id.digest.to_string(),
            passed,
            failed,
            cases: all()
                .map(|(file, o)| CaseRecord {
                    file: file.clone(),
                    case: o.case.index,
                    name: &o.case.label,
                    passed: o.passed(),
                    mismatches: &o.mismatches,
                    expected: Expected {
                        verdict: o.case.verdict.as_str(),
                        reason: o.case.reason.map(|r| r.as_str()),
                        rule: o.case.rule.as_deref(),
                    },
                    decided: Decided {
                        verdict: verdict(&o.decision),
                        reason: o.decision.reason().as_str(),
                        rule: o.decision.rule().map(|r| r.id()),
                        destination: o.decision.destination().map(ToString::to_string),
                        enforced: o.decision.is_enforced(),
                        instant: cases::instant_of(&o.case),
                    },
                })
                .collect(),
        })?;
    } else {
        for (file, o) in all().filter(|(_, o)| !o.passed()) {
            out.line(format_args!("FAIL {file}: case {} ({}):", o.case.index, o.case.label))?;
            for m in &o.mismatches {
                out.line(format_args!("    {m}"))?;
            }
            out.line(format_args!("    decided: {}", o.decision))?;
        }
        out.line(format_args!(
            "{passed} passed, {failed} failed ({} policy generation {}, {})",
            args.policy.display(),
            policy.id().generation,
            policy.id().digest
        ))?;
    }
    out.flush()?;
    Ok(status(failed == 0))
}
