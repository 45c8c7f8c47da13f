//! `egress-policy probe`: really try URLs through the enforced client.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use egress_policy_core::time::format_rfc3339;
use egress_policy_core::{Policy, PolicyId, SharedPolicy};
use egress_policy_reqwest::EnforcedClient;

use super::{Fatal, Status, echo_url, status, verdict};
use crate::out::Out;

/// The arguments of `probe`.
#[derive(clap::Args)]
pub(crate) struct Args {
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
}

/// One URL's evidence, as `--json` prints it.
#[derive(serde::Serialize)]
struct Record<'a> {
    time: String,
    url: String,
    verdict: &'static str,
    reason: Option<&'a str>,
    rule: Option<&'a str>,
    attempted: bool,
    status: Option<u16>,
    error: Option<&'a str>,
    elapsed_ms: f64,
    generation: u64,
    digest: String,
}

/// What happened to one URL.
struct Outcome {
    verdict: &'static str,
    reason: Option<String>,
    rule: Option<String>,
    attempted: bool,
    status: Option<u16>,
    error: Option<String>,
    elapsed: Duration,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let policy = Policy::from_path(&args.policy)?;
    let id = policy.id();
    let shared = SharedPolicy::new(policy);
    let mut builder = EnforcedClient::builder(shared.clone()).timeout(Duration::from_secs(args.timeout));
    if let Some(name) = &args.client {
        builder = builder.client_name(name.as_str());
    }
    let http = builder.build().map_err(|e| Fatal(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("starting the runtime: {e}")))?;

    let mut all_ok = true;
    for url in &args.urls {
        let started = SystemTime::now();
        let outcome = runtime.block_on(probe_one(&http, &shared, args.client.as_deref(), url));
        all_ok &= outcome.verdict == "allow" && outcome.status.is_some();
        print(out, &id, started, url, &outcome, args.json)?;
        if out.closed() {
            break;
        }
    }
    if !args.json {
        out.line(format_args!(
            "policy {} generation {} ({})",
            args.policy.display(),
            id.generation,
            id.digest
        ))?;
    }
    out.flush()?;
    Ok(status(all_ok))
}

fn print(out: &mut Out, id: &PolicyId, started: SystemTime, url: &str, outcome: &Outcome, json: bool) -> Result<(), Fatal> {
    if json {
        return out.json(&Record {
            time: format_rfc3339(started),
            url: echo_url(url),
            verdict: outcome.verdict,
            reason: outcome.reason.as_deref(),
            rule: outcome.rule.as_deref(),
            attempted: outcome.attempted,
            status: outcome.status,
            error: outcome.error.as_deref(),
            elapsed_ms: (outcome.elapsed.as_secs_f64() * 1e6).round() / 1e3,
            generation: id.generation,
            digest: id.digest.to_string(),
        });
    }
    let result = match (outcome.status, &outcome.error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(e)) => e.clone(),
        (None, None) => "-".to_string(),
    };
    out.line(format_args!(
        "{} {:<7} attempted={:<5} {:>9.3} ms  {}  {}",
        format_rfc3339(started),
        outcome.verdict,
        outcome.attempted,
        outcome.elapsed.as_secs_f64() * 1e3,
        echo_url(url),
        result
    ))
}

async fn probe_one(http: &EnforcedClient, shared: &SharedPolicy, client: Option<&str>, url: &str) -> Outcome {
    let start = Instant::now();
    let decision = shared.decide_url(url, client);
    let verdict = verdict(&decision);
    let mut outcome = Outcome {
        verdict,
        reason: Some(decision.reason().as_str().to_string()),
        rule: decision.rule().map(|r| r.id().to_string()),
        attempted: false,
        status: None,
        error: None,
        elapsed: Duration::ZERO,
    };
    if verdict == "invalid" {
        outcome.error = Some("invalid url".to_string());
        outcome.elapsed = start.elapsed();
        return outcome;
    }
    match http.get(url).send().await {
        Ok(res) => {
            outcome.attempted = true;
            outcome.status = Some(res.status().as_u16());
        }
        Err(e) => {
            // A denial before sending or at lookup means no connection was tried;
            // a redirect-hop denial came after the first hop's connection.
            let redirect = e.reqwest().is_some_and(|r| r.is_redirect());
            outcome.attempted = e.reqwest().is_some() && (e.denied().is_none() || redirect);
            if let Some(d) = e.denied() {
                outcome.verdict = "deny";
                outcome.reason = Some(d.decision().reason().as_str().to_string());
                outcome.rule = d.decision().rule().map(|r| r.id().to_string());
            }
            outcome.error = Some(format!("{e:#}"));
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}
