//! `egress-policy probe`: really try URLs through the enforced client.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use egress_policy_core::time::format_rfc3339;
use egress_policy_core::{Policy, Reason, SharedPolicy};
use egress_policy_reqwest::EnforcedClient;
use serde_json::json;

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

/// The URL for evidence files: userinfo, query and fragment removed.
fn evidence_url(input: &str) -> String {
    match url::Url::parse(input) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "<invalid url>".to_string(),
    }
}

pub(crate) fn run(policy_path: &Path, client: Option<&str>, timeout: u64, json: bool, urls: &[String]) -> Result<ExitCode, String> {
    let policy = Policy::from_path(policy_path).map_err(|e| e.to_string())?;
    let id = policy.id();
    let shared = SharedPolicy::new(policy);
    let mut builder = EnforcedClient::builder(shared.clone()).timeout(Duration::from_secs(timeout));
    if let Some(name) = client {
        builder = builder.client_name(name);
    }
    let http = builder.build().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    for url in urls {
        let started = SystemTime::now();
        let outcome = runtime.block_on(probe_one(&http, &shared, client, url));
        all_ok &= outcome.verdict == "allow" && outcome.status.is_some();
        if json {
            let line = json!({
                "time": format_rfc3339(started),
                "url": evidence_url(url),
                "verdict": outcome.verdict,
                "reason": outcome.reason,
                "rule": outcome.rule,
                "attempted": outcome.attempted,
                "status": outcome.status,
                "error": outcome.error,
                "elapsed_ms": (outcome.elapsed.as_secs_f64() * 1e6).round() / 1e3,
                "generation": id.generation,
                "digest": id.digest.to_string(),
            });
            let _ = writeln!(out, "{line}");
        } else {
            let result = match (outcome.status, &outcome.error) {
                (Some(status), _) => format!("HTTP {status}"),
                (None, Some(e)) => e.clone(),
                (None, None) => "-".to_string(),
            };
            let _ = writeln!(
                out,
                "{} {:<7} attempted={:<5} {:>9.3} ms  {}  {}",
                format_rfc3339(started),
                outcome.verdict,
                outcome.attempted,
                outcome.elapsed.as_secs_f64() * 1e3,
                evidence_url(url),
                result
            );
        }
    }
    if !json {
        let _ = writeln!(out, "policy {} generation {} ({})", policy_path.display(), id.generation, id.digest);
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn probe_one(http: &EnforcedClient, shared: &SharedPolicy, client: Option<&str>, url: &str) -> Outcome {
    let start = Instant::now();
    let decision = shared.decide_url(url, client);
    let verdict = match decision.reason() {
        Reason::Invalid => "invalid",
        _ => decision.verdict().as_str(),
    };
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
