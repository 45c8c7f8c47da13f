//! `egress-policy validate`: load and lint policy files, as text, JSON lines or
//! one SARIF log.

use std::path::PathBuf;
use std::time::Duration;

use egress_policy_core::{LoadError, Policy};

use super::{Fatal, ModeArg, Status, chain, instant, status};
use crate::out::Out;
use egress_policy_cli::lint::{self, Finding, LINTS, Lint, Severity};

/// The arguments of `validate`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// One JSON object per line: one per error or finding
    /// (code, severity, file, rule, field, line, message, fix), one summary per file.
    #[arg(long, conflicts_with = "sarif")]
    json: bool,
    /// One SARIF 2.1.0 log for code-scanning UIs.
    #[arg(long)]
    sarif: bool,
    /// Treat warnings as failures (for CI gates on policy changes).
    #[arg(long)]
    strict: bool,
    /// Judge expiry as of this UTC instant or date instead of now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Fail policies whose mode is weaker than this (sealed < constrained < open).
    #[arg(long, value_name = "MODE")]
    require_mode: Option<ModeArg>,
    /// `environment` labels that must be sealed (repeatable; default: sealed,
    /// air-gapped, airgapped, airgap).
    #[arg(long, value_name = "NAME")]
    sealed_environment: Vec<String>,
    /// IPv4 allow CIDRs shorter than this are `broad-cidr`.
    #[arg(long, default_value_t = 8)]
    min_prefix_v4: u8,
    /// IPv6 allow CIDRs shorter than this are `broad-cidr`.
    #[arg(long, default_value_t = 32)]
    min_prefix_v6: u8,
    /// `expires` further out than this many days is `expires-too-far`.
    #[arg(long, default_value_t = 365)]
    max_expiry_days: u64,
    /// Rules expiring within this many days are `expires-soon`.
    #[arg(long, default_value_t = 14)]
    expiry_warning_days: u64,
    /// Policy files (.toml, .json, .yaml, .yml).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// A file that could not be read or parsed, or has no format.
const LOAD_ERROR: Lint = Lint {
    code: "load-error",
    severity: Severity::Error,
    summary: "The policy file could not be read, or its name does not say its format.",
};

/// A policy file that does not load: one record per problem.
const INVALID_POLICY: Lint = Lint {
    code: "invalid-policy",
    severity: Severity::Error,
    summary: "The policy file does not load: a syntax error or an invalid field.",
};

/// Every code a record can carry.
fn codes() -> impl Iterator<Item = Lint> {
    [LOAD_ERROR, INVALID_POLICY].into_iter().chain(LINTS.iter().copied())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Sarif,
}

/// One error or finding, as `--json` prints it (and SARIF reads it).
#[derive(serde::Serialize)]
struct Record {
    file: String,
    severity: Severity,
    code: &'static str,
    rule: Option<String>,
    field: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
    fix: Option<String>,
}

/// The last `--json` line for a file.
#[derive(serde::Serialize)]
struct Summary<'a> {
    file: &'a str,
    valid: bool,
    #[serde(flatten)]
    policy: Option<PolicySummary<'a>>,
}

#[derive(serde::Serialize)]
struct PolicySummary<'a> {
    mode: &'static str,
    environment: Option<&'a str>,
    enforcement: &'static str,
    allow_rules: usize,
    deny_rules: usize,
    digest: String,
    findings: usize,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let mut opts = lint::Options {
        now: instant(args.now.as_deref())?,
        min_prefix_v4: args.min_prefix_v4,
        min_prefix_v6: args.min_prefix_v6,
        max_expiry: Duration::from_secs(args.max_expiry_days.saturating_mul(86_400)),
        expiry_warning: Duration::from_secs(args.expiry_warning_days.saturating_mul(86_400)),
        require_mode: args.require_mode.map(Into::into),
        ..lint::Options::default()
    };
    if !args.sealed_environment.is_empty() {
        opts.sealed_environments = args.sealed_environment;
    }
    let format = if args.sarif {
        Format::Sarif
    } else if args.json {
        Format::Json
    } else {
        Format::Text
    };
    let mut failed = false;
    let mut sarif_records = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        match Policy::from_path(file) {
            Err(e) => {
                failed = true;
                let records = load_records(&name, &e);
                match format {
                    Format::Json => {
                        for r in &records {
                            out.json(r)?;
                        }
                        out.json(&Summary {
                            file: &name,
                            valid: false,
                            policy: None,
                        })?;
                    }
                    Format::Sarif => sarif_records.extend(records),
                    Format::Text => {
                        out.line(chain(&e))?;
                        out.line(format_args!("{name}: invalid"))?;
                    }
                }
            }
            Ok(policy) => {
                let findings = lint::lint(&policy, &opts);
                let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
                let passes = errors == 0 && (!args.strict || findings.is_empty());
                failed |= !passes;
                match format {
                    Format::Json => {
                        for f in &findings {
                            out.json(&finding_record(&name, f))?;
                        }
                        out.json(&Summary {
                            file: &name,
                            valid: passes,
                            policy: Some(PolicySummary {
                                mode: policy.mode().as_str(),
                                environment: policy.environment(),
                                enforcement: policy.enforcement().as_str(),
                                allow_rules: policy.allow_rules().len(),
                                deny_rules: policy.deny_rules().len(),
                                digest: policy.digest().to_string(),
                                findings: findings.len(),
                            }),
                        })?;
                    }
                    Format::Sarif => sarif_records.extend(findings.iter().map(|f| finding_record(&name, f))),
                    Format::Text => text_summary(out, &name, &policy, &findings, passes, errors)?,
                }
            }
        }
    }
    if format == Format::Sarif {
        out.json(&sarif(&sarif_records, args.strict))?;
    }
    out.flush()?;
    Ok(status(!failed))
}

/// The records of a file that did not load: one per problem, or one
/// `load-error` when there are none (I/O, unknown format).
fn load_records(file: &str, e: &LoadError) -> Vec<Record> {
    let problems = e.problems();
    if problems.is_empty() {
        return vec![Record {
            file: file.to_string(),
            severity: LOAD_ERROR.severity,
            code: LOAD_ERROR.code,
            rule: None,
            field: None,
            line: None,
            column: None,
            message: chain(e),
            fix: None,
        }];
    }
    problems
        .iter()
        .map(|p| Record {
            file: file.to_string(),
            severity: INVALID_POLICY.severity,
            code: INVALID_POLICY.code,
            rule: p
                .rule
                .as_ref()
                .map(|r| r.id.clone().unwrap_or_else(|| format!("{}[{}]", r.kind.as_str(), r.index))),
            field: p.field.clone(),
            line: p.line,
            column: p.column,
            message: p.message.clone(),
            fix: p.fix.clone(),
        })
        .collect()
}

fn finding_record(file: &str, f: &Finding) -> Record {
    Record {
        file: file.to_string(),
        severity: f.severity,
        code: f.code,
        rule: f.rule.clone(),
        field: f.field.clone(),
        line: None,
        column: None,
        message: f.message.clone(),
        fix: f.fix.clone(),
    }
}

fn text_summary(out: &mut Out, name: &str, policy: &Policy, findings: &[Finding], passes: bool, errors: usize) -> Result<(), Fatal> {
    for f in findings {
        out.line(format_args!("{name}: {f}"))?;
    }
    let verdict = if passes {
        "ok"
    } else if errors > 0 {
        "fails"
    } else {
        "fails --strict"
    };
    out.line(format_args!(
        "{name}: {verdict} (mode {}, enforcement {}, {} allow and {} deny rules, {} finding{}, {})",
        policy.mode(),
        policy.enforcement(),
        policy.allow_rules().len(),
        policy.deny_rules().len(),
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        policy.digest()
    ))
}

// SARIF 2.1.0, the subset code-scanning UIs read.

#[derive(serde::Serialize)]
struct SarifLog {
    version: &'static str,
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [SarifRun; 1],
}

#[derive(serde::Serialize)]
struct SarifRun {
    tool: SarifTool,
    results: Vec<SarifResult>,
}

#[derive(serde::Serialize)]
struct SarifTool {
    driver: SarifDriver,
}

#[derive(serde::Serialize)]
struct SarifDriver {
    name: &'static str,
    version: &'static str,
    rules: Vec<SarifRule>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: &'static str,
    short_description: SarifText,
}

#[derive(serde::Serialize)]
struct SarifText {
    text: String,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    level: &'static str,
    message: SarifText,
    locations: [SarifLocation; 1],
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: SarifPhysical,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical {
    artifact_location: SarifArtifact,
    region: SarifRegion,
}

#[derive(serde::Serialize)]
struct SarifArtifact {
    uri: String,
}

#[derive(serde::Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    #[serde(skip_serializing_if = "Option::is_none")]
    start_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
}

/// One SARIF log of every file's records; under `--strict` warnings are errors.
fn sarif(records: &[Record], strict: bool) -> SarifLog {
    let rules = codes()
        .filter(|l| records.iter().any(|r| r.code == l.code))
        .map(|l| SarifRule {
            id: l.code,
            short_description: SarifText {
                text: l.summary.to_string(),
            },
        })
        .collect();
    let results = records
        .iter()
        .map(|r| {
            let level = if r.severity == Severity::Error || strict {
                "error"
            } else {
                "warning"
            };
            let mut text = r.message.clone();
            if let Some(rule) = &r.rule {
                text = format!("rule `{rule}`: {text}");
            }
            if let Some(fix) = &r.fix {
                text = format!("{text}; {fix}");
            }
            SarifResult {
                rule_id: r.code,
                level,
                message: SarifText { text },
                locations: [SarifLocation {
                    physical_location: SarifPhysical {
                        artifact_location: SarifArtifact { uri: r.file.clone() },
                        region: SarifRegion {
                            start_line: r.line,
                            start_column: r.line.map(|_| r.column.unwrap_or(1)),
                        },
                    },
                }],
            }
        })
        .collect();
    SarifLog {
        version: "2.1.0",
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [SarifRun {
            tool: SarifTool {
                driver: SarifDriver {
                    name: "egress-policy",
                    version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            results,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for l in codes() {
            assert!(seen.insert(l.code), "{} twice", l.code);
        }
    }

    #[test]
    fn unused_path_is_a_load_error() {
        let e = Policy::from_path(std::path::Path::new("/nonexistent/p.toml")).unwrap_err();
        let r = load_records("p.toml", &e);
        assert_eq!(r[0].code, "load-error");
        assert!(
            r[0].message.contains("cannot read policy file") && r[0].message.contains("No such file"),
            "{}",
            r[0].message
        );
    }
}
