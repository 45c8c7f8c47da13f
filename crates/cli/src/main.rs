//! `egress-policy`: validate policies and check URLs against them (the contract: `egress_policy_core::docs::cli`).

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use egress_policy_core::time::parse_instant;
use egress_policy_core::{Context, Decision, Destination, Host, LoadError, Mode, Policy, Reason};
use serde_json::json;

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
    Validate {
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
        #[arg(long, value_name = "MODE", value_parser = ["sealed", "constrained", "open"])]
        require_mode: Option<String>,
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
    },
    /// Governance report: every rule with owner, ticket, expiry and days left,
    /// soonest expiry first, for periodic access reviews.
    Report {
        /// One JSON object per rule.
        #[arg(long)]
        json: bool,
        /// Count days left from this UTC instant or date instead of now.
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// The policy file.
        file: PathBuf,
    },
    /// Print the JSON Schema of the policy file format (for editors and CI).
    Schema,
    /// Connectivity smoke test: really try each URL through the enforced client.
    ///
    /// Reports the verdict, whether a connection was attempted, the HTTP status or
    /// error and the elapsed time, stamped with UTC time and the policy's
    /// generation and digest. Exit 0 when every URL was allowed and answered, 1
    /// otherwise, 2 for usage or policy errors.
    Probe {
        /// The policy file.
        #[arg(long, value_name = "FILE")]
        policy: PathBuf,
        /// Probe as a client built for NAME.
        #[arg(long, value_name = "NAME")]
        client: Option<String>,
        /// Give up on a URL after this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        timeout: u64,
        /// One JSON object per URL.
        #[arg(long)]
        json: bool,
        /// URLs to probe.
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
    },
    /// What a policy change makes reachable and unreachable. Exit 1 when it widens
    /// access (so CI can demand extra review), 0 otherwise, 2 on errors.
    Diff {
        /// One JSON object: {"old", "new", "widening", "changes": [...]}.
        #[arg(long)]
        json: bool,
        /// The policy before the change.
        old: PathBuf,
        /// The policy after the change.
        new: PathBuf,
    },
    /// Suggest an allowlist from observation files (JSON lines written by the
    /// library's `Recorder`), one file per period. Writes a policy TOML with
    /// placeholders `validate --strict` rejects until a person fills them in
    /// (and plain `validate` too, for rules proposing special-purpose
    /// addresses). Never proposes what a deny rule denied or a cloud metadata
    /// address.
    Suggest {
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
    },
    /// Decide on URLs. Exit 0 all allowed, 1 any denied or invalid, 2 usage or policy error.
    ///
    /// With no URL arguments, reads standard input, one URL per line; a line that
    /// starts with `"` is a JSON string literal, so URLs holding tabs, newlines or
    /// NUL can be checked exactly.
    Check(CheckArgs),
}

/// A usage or policy error: exit code 2.
pub(crate) struct Fatal(String);

impl From<LoadError> for Fatal {
    fn from(e: LoadError) -> Self {
        // The I/O cause is the error's source: say it too.
        let mut message = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            message = format!("{message}: {c}");
            cause = c.source();
        }
        Fatal(message)
    }
}

mod probe;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate {
            json,
            sarif,
            strict,
            now,
            require_mode,
            sealed_environment,
            min_prefix_v4,
            min_prefix_v6,
            max_expiry_days,
            expiry_warning_days,
            files,
        } => (|| {
            let mut opts = egress_policy_cli::lint::Options {
                now: instant(now.as_deref())?,
                min_prefix_v4,
                min_prefix_v6,
                max_expiry: std::time::Duration::from_secs(max_expiry_days * 86_400),
                expiry_warning: std::time::Duration::from_secs(expiry_warning_days * 86_400),
                require_mode: require_mode.as_deref().and_then(Mode::parse),
                ..Default::default()
            };
            if !sealed_environment.is_empty() {
                opts.sealed_environments = sealed_environment;
            }
            let output = if sarif {
                Output::Sarif
            } else if json {
                Output::Json
            } else {
                Output::Text
            };
            validate(&files, output, strict, &opts)
        })(),
        Command::Report { json, now, file } => report(&file, json, now.as_deref()),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&egress_policy_core::policy_schema()).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { json, old, new } => diff(&old, &new, json),
        Command::Suggest {
            wildcard_threshold,
            ip_fanout_limit,
            output,
            policy,
            observations,
        } => suggest(
            &observations,
            wildcard_threshold,
            ip_fanout_limit,
            output.as_deref(),
            policy.as_deref(),
        ),
        Command::Probe {
            policy,
            client,
            timeout,
            json,
            urls,
        } => probe::run(&policy, client.as_deref(), timeout, json, &urls).map_err(Fatal),
        Command::Check(args) => check(args),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            eprintln!("egress-policy: {msg}");
            ExitCode::from(2)
        }
    }
}

fn instant(now: Option<&str>) -> Result<SystemTime, Fatal> {
    match now {
        None => Ok(SystemTime::now()),
        Some(s) => parse_instant(s).map_err(|e| Fatal(format!("--now: {e}"))),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    Text,
    Json,
    Sarif,
}

fn validate(files: &[PathBuf], output: Output, strict: bool, opts: &egress_policy_cli::lint::Options) -> Result<ExitCode, Fatal> {
    use egress_policy_cli::lint::{Severity, lint};
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // One record per error or finding: (file, severity, code, rule, field, line, column, message, fix).
    let mut sarif_results = Vec::new();
    for file in files {
        let name = file.display().to_string();
        match Policy::from_path(file) {
            Err(e) => {
                failed = true;
                let problems = e.problems();
                let records: Vec<serde_json::Value> = if problems.is_empty() {
                    vec![
                        json!({"file": name, "severity": "error", "code": "load-error", "rule": null, "field": null, "line": null, "column": null, "message": e.to_string(), "fix": null}),
                    ]
                } else {
                    problems
                        .iter()
                        .map(|p| {
                            json!({
                                "file": name, "severity": "error", "code": "invalid-policy",
                                "rule": p.rule.as_ref().map(|r| r.id.clone().unwrap_or_else(|| format!("{}[{}]", r.kind.as_str(), r.index))),
                                "field": p.field, "line": p.line, "column": p.column, "message": p.message, "fix": p.fix,
                            })
                        })
                        .collect()
                };
                match output {
                    Output::Json => {
                        for r in &records {
                            emit(&mut out, r);
                        }
                        emit(&mut out, &json!({"file": name, "valid": false}));
                    }
                    Output::Sarif => sarif_results.extend(records),
                    Output::Text => {
                        let _ = writeln!(out, "{e}");
                        let _ = writeln!(out, "{name}: invalid");
                    }
                }
            }
            Ok(policy) => {
                let findings = lint(&policy, opts);
                let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
                let passes = errors == 0 && (!strict || findings.is_empty());
                failed |= !passes;
                let records = findings.iter().map(|f| {
                    json!({"file": name, "severity": f.severity, "code": f.code, "rule": f.rule, "field": f.field, "line": null, "column": null, "message": f.message, "fix": f.fix})
                });
                match output {
                    Output::Json => {
                        for r in records {
                            emit(&mut out, &r);
                        }
                        emit(
                            &mut out,
                            &json!({
                                "file": name, "valid": passes, "mode": policy.mode().as_str(), "environment": policy.environment(),
                                "enforcement": policy.enforcement().as_str(), "allow_rules": policy.allow_rules().len(),
                                "deny_rules": policy.deny_rules().len(), "digest": policy.digest().to_string(), "findings": findings.len(),
                            }),
                        );
                    }
                    Output::Sarif => sarif_results.extend(records),
                    Output::Text => {
                        for f in &findings {
                            let _ = writeln!(out, "{name}: {f}");
                        }
                        let verdict = if passes {
                            "ok"
                        } else if errors > 0 {
                            "fails"
                        } else {
                            "fails --strict"
                        };
                        let _ = writeln!(
                            out,
                            "{name}: {verdict} (mode {}, enforcement {}, {} allow and {} deny rules, {} finding{}, {})",
                            policy.mode(),
                            policy.enforcement(),
                            policy.allow_rules().len(),
                            policy.deny_rules().len(),
                            findings.len(),
                            if findings.len() == 1 { "" } else { "s" },
                            policy.digest()
                        );
                    }
                }
            }
        }
    }
    if output == Output::Sarif {
        emit(&mut out, &sarif(&sarif_results, strict));
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// A SARIF 2.1.0 log of validate's records.
fn sarif(records: &[serde_json::Value], strict: bool) -> serde_json::Value {
    let mut codes: Vec<&str> = records.iter().filter_map(|r| r["code"].as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let results: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let level = match (r["severity"].as_str(), strict) {
                (Some("error"), _) | (_, true) => "error",
                _ => "warning",
            };
            let mut text = r["message"].as_str().unwrap_or_default().to_string();
            if let Some(rule) = r["rule"].as_str() {
                text = format!("rule `{rule}`: {text}");
            }
            if let Some(fix) = r["fix"].as_str() {
                text = format!("{text}; {fix}");
            }
            let mut region = json!({});
            if let Some(line) = r["line"].as_u64() {
                region = json!({"startLine": line, "startColumn": r["column"].as_u64().unwrap_or(1)});
            }
            json!({
                "ruleId": r["code"], "level": level, "message": {"text": text},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": r["file"]}, "region": region}}],
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "egress-policy", "version": env!("CARGO_PKG_VERSION"),
                "rules": codes.iter().map(|c| json!({"id": c})).collect::<Vec<_>>()}},
            "results": results,
        }],
    })
}

fn report(file: &std::path::Path, json: bool, now: Option<&str>) -> Result<ExitCode, Fatal> {
    let policy = Policy::from_path(file)?;
    let rows = egress_policy_cli::report::report(&policy, instant(now)?);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        for r in &rows {
            emit(&mut out, &serde_json::to_value(r).unwrap_or_default());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(
        out,
        "{:<24} {:<5} {:<28} {:<12} {:<22} {:>9}  covers",
        "rule", "kind", "owner", "ticket", "expires", "days left"
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "{:<24} {:<5} {:<28} {:<12} {:<22} {:>9}  {}",
            r.rule,
            r.kind,
            r.owner.as_deref().unwrap_or("-"),
            r.ticket.as_deref().unwrap_or("-"),
            r.expires.as_deref().unwrap_or("never"),
            r.days_left.map_or("-".to_string(), |d| d.to_string()),
            r.covers
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn diff(old: &std::path::Path, new: &std::path::Path, json: bool) -> Result<ExitCode, Fatal> {
    use egress_policy_cli::diff::{Direction, diff};
    let (a, b) = (Policy::from_path(old)?, Policy::from_path(new)?);
    let changes = diff(&a, &b);
    let widening = changes.iter().any(|c| c.direction == Direction::Widening);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        emit(
            &mut out,
            &json!({"old": a.digest().to_string(), "new": b.digest().to_string(), "widening": widening, "changes": changes}),
        );
    } else {
        for c in &changes {
            let _ = writeln!(out, "{c}");
        }
        let count = |d| changes.iter().filter(|c| c.direction == d).count();
        let _ = writeln!(
            out,
            "{} widening, {} narrowing, {} metadata change{}{}",
            count(Direction::Widening),
            count(Direction::Narrowing),
            count(Direction::Metadata),
            if changes.len() == 1 { "" } else { "s" },
            if widening { ": this change WIDENS access" } else { "" }
        );
    }
    Ok(if widening { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn suggest(
    files: &[PathBuf],
    wildcard_threshold: usize,
    ip_fanout_limit: usize,
    output: Option<&std::path::Path>,
    policy: Option<&std::path::Path>,
) -> Result<ExitCode, Fatal> {
    use egress_policy_cli::suggest::{Options, read_period, suggest};
    let periods = files.iter().map(|f| read_period(f)).collect::<Result<Vec<_>, _>>().map_err(Fatal)?;
    let policy = policy.map(Policy::from_path).transpose()?;
    let opts = Options {
        wildcard_threshold,
        ip_fanout_limit,
        policy,
        ..Options::default()
    };
    let s = suggest(&periods, &opts);
    match output {
        Some(path) => std::fs::write(path, &s.policy).map_err(|e| Fatal(format!("{}: {e}", path.display())))?,
        None => print!("{}", s.policy),
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

fn emit(out: &mut impl Write, value: &serde_json::Value) {
    let _ = writeln!(out, "{value}");
}

/// The arguments of `check`.
#[derive(clap::Args)]
struct CheckArgs {
    /// The policy file.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Decide as if the policy were in this mode.
    #[arg(long, value_name = "MODE", value_parser = ["sealed", "constrained", "open"])]
    mode: Option<String>,
    /// Apply connect-time admission as if HOST resolved to IP (repeatable).
    #[arg(long, value_name = "HOST=IP")]
    resolve: Vec<String>,
    /// Decide as a client built for NAME.
    #[arg(long, value_name = "NAME")]
    client: Option<String>,
    /// Decide as of this UTC instant or date instead of now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// One JSON object per decision.
    #[arg(long)]
    json: bool,
    /// URLs to decide on; none: read standard input.
    #[arg(value_name = "URL")]
    urls: Vec<String>,
}

fn parse_resolve(items: &[String]) -> Result<HashMap<Host, Vec<IpAddr>>, Fatal> {
    let mut map: HashMap<Host, Vec<IpAddr>> = HashMap::new();
    for item in items {
        let (host, ip) = item
            .split_once('=')
            .ok_or_else(|| Fatal(format!("--resolve `{item}`: write HOST=IP, e.g. api.example.com=93.184.216.34")))?;
        let host = Host::parse(host).map_err(|e| Fatal(format!("--resolve `{item}`: {e}")))?;
        let ip: IpAddr = ip
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| Fatal(format!("--resolve `{item}`: `{ip}` is not an IP address")))?;
        map.entry(host).or_default().push(ip);
    }
    Ok(map)
}

fn check(args: CheckArgs) -> Result<ExitCode, Fatal> {
    let mut policy = Policy::from_path(&args.policy)?;
    if let Some(raw) = args.mode.as_deref() {
        let m = Mode::parse(raw).ok_or_else(|| Fatal(format!("--mode `{raw}`: write sealed, constrained or open")))?;
        policy = policy.with_mode(m);
    }
    let resolve = parse_resolve(&args.resolve)?;
    let now = instant(args.now.as_deref())?;
    let cx = Context::at(now).with_client(args.client.as_deref());

    let inputs: Box<dyn Iterator<Item = Result<String, Fatal>>> = if args.urls.is_empty() {
        let stdin = std::io::stdin();
        Box::new(stdin.lock().lines().filter_map(|line| match line {
            Err(e) => Some(Err(Fatal(format!("reading standard input: {e}")))),
            Ok(line) => {
                let line = line.strip_suffix('\r').unwrap_or(&line).to_string();
                (!line.trim().is_empty()).then_some(Ok(line))
            }
        }))
    } else {
        Box::new(args.urls.into_iter().map(Ok))
    };

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_allowed = true;
    for input in inputs {
        let raw = input?;
        // A line starting with `"` is a JSON string literal holding the URL.
        let url = if raw.starts_with('"') {
            match serde_json::from_str::<String>(&raw) {
                Ok(u) => u,
                Err(e) => return Err(Fatal(format!("standard input: `{raw}` is not a JSON string literal ({e})"))),
            }
        } else {
            raw
        };
        let mut decision = policy.decide_url_with(&url, &cx);
        if let Some(addrs) = decision
            .destination()
            .filter(|d| d.host().as_name().is_some())
            .and_then(|d| resolve.get(d.host()))
        {
            decision = policy.admit_decided(decision, addrs, &cx).decision().clone();
        }
        let verdict = if decision.reason() == Reason::Invalid {
            "invalid"
        } else {
            decision.verdict().as_str()
        };
        if verdict != "allow" {
            all_allowed = false;
        }
        print_decision(&mut out, &url, verdict, &decision, args.json);
    }
    let _ = out.flush();
    Ok(if all_allowed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The input URL as `check` echoes it, with userinfo, query and fragment
/// removed (they hold passwords and tokens):
///
/// - an input with no `@`, `?` or `#` cannot hold any of them: it is echoed as
///   typed;
/// - otherwise, if the WHATWG parser reads it, its serialization without
///   userinfo, query and fragment (what the destination really is);
/// - otherwise, without an `@`: the text before the first `?` or `#`; with an
///   `@`: `<redacted>` and what follows the last `@` (cut at `?` or `#`), since
///   a password may hold `/`, `?` or `#` and no split of unparsable text is
///   sure to find its end.
fn echo_url(raw: &str) -> String {
    if !raw.contains(['@', '?', '#']) {
        return raw.to_string();
    }
    if let Ok(mut u) = url::Url::parse(raw) {
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_query(None);
        u.set_fragment(None);
        return u.to_string();
    }
    let cut = |s: &str| s[..s.find(['?', '#']).unwrap_or(s.len())].to_string();
    match raw.rfind('@') {
        Some(at) => format!("<redacted>{}", cut(&raw[at + 1..])),
        None => cut(raw),
    }
}

fn print_decision(out: &mut impl Write, url: &str, verdict: &str, d: &Decision, json: bool) {
    let url = echo_url(url);
    let dest: Option<&Destination> = d.destination();
    if json {
        emit(
            out,
            &json!({
                "url": url,
                "verdict": verdict,
                "reason": d.reason().as_str(),
                "rule": d.rule().map(|r| r.id()),
                "scheme": dest.map(|x| x.scheme().as_str()),
                "host": dest.map(|x| x.host().to_string()),
                "port": dest.map(|x| x.port()),
            }),
        );
    } else {
        let rule = d.rule().map(|r| format!(" rule={}", r.id())).unwrap_or_default();
        let target = dest.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
        let observe = if d.is_deny() && !d.is_enforced() {
            " (observe: not enforced)"
        } else {
            ""
        };
        let _ = writeln!(out, "{verdict:<7} {target} {}{rule}{observe}  <- {url:?}", d.reason());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn echo_removes_userinfo_query_and_fragment() {
        use super::echo_url;
        for (raw, want) in [
            ("https://api.example/x", "https://api.example/x"),
            ("HTTPS://API.example.:0443/x", "HTTPS://API.example.:0443/x"),
            ("HTTPS://user:pw@API.example.:0443/x?y#z", "https://api.example./x"),
            ("http://a@b@evil.example/p", "http://evil.example/p"),
            ("https:\\\\user:pw@host\\p?token=1", "https://host/p"),
            ("http://user:p@ss@host:99999/?k", "<redacted>host:99999/"),
            ("not a url?secret", "not a url"),
            ("tcp://db.example:5432", "tcp://db.example:5432"),
            ("http://\tuser:pw@host/", "http://host/"),
            ("tcp://user:p\\ss@db:99999", "<redacted>db:99999"),
            ("TCP://user:pw@db:5432", "tcp://db:5432"),
            ("https://user:ab/cd@host/", "<redacted>host/"),
            ("https://user:pa?ss@host/", "<redacted>host/"),
            ("https://user:pa#ss@host/", "<redacted>host/"),
        ] {
            assert_eq!(echo_url(raw), want, "{raw:?}");
        }
    }
}
