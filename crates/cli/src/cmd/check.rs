//! `egress-policy check`: decide on URLs, as the enforcing clients would.

use std::collections::HashMap;
use std::io::BufRead;
use std::net::IpAddr;
use std::path::PathBuf;

use egress_policy_core::{Context, Decision, Host, Policy};

use super::{Fatal, ModeArg, Status, echo_url, instant, status, verdict};
use crate::out::Out;

/// The arguments of `check`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy file.
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    /// Decide as if the policy were in this mode.
    #[arg(long, value_name = "MODE")]
    mode: Option<ModeArg>,
    /// Apply connect-time admission as if HOST resolved to IP (repeatable; all
    /// the addresses given for one host are its answer).
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

/// One decision, as `--json` prints it.
#[derive(serde::Serialize)]
struct Record<'a> {
    url: &'a str,
    verdict: &'a str,
    reason: &'a str,
    rule: Option<&'a str>,
    scheme: Option<&'a str>,
    host: Option<String>,
    port: Option<u16>,
}

pub(crate) fn run(args: Args, out: &mut Out) -> Status {
    let mut policy = Policy::from_path(&args.policy)?;
    if let Some(mode) = args.mode {
        policy = policy.with_mode(mode.into());
    }
    let resolve = parse_resolve(&args.resolve)?;
    let cx = Context::at(instant(args.now.as_deref())?).with_client(args.client.as_deref());

    let inputs: Box<dyn Iterator<Item = Result<String, Fatal>>> = if args.urls.is_empty() {
        Box::new(std::io::stdin().lock().lines().filter_map(|line| match line {
            Err(e) => Some(Err(Fatal(format!("reading standard input: {e}")))),
            Ok(line) => {
                let line = line.strip_suffix('\r').unwrap_or(&line).to_string();
                (!line.trim().is_empty()).then_some(Ok(line))
            }
        }))
    } else {
        Box::new(args.urls.into_iter().map(Ok))
    };

    let mut all_allowed = true;
    for input in inputs {
        let raw = input?;
        // A line starting with `"` is a JSON string literal holding the URL.
        let url = if raw.starts_with('"') {
            serde_json::from_str::<String>(&raw)
                .map_err(|e| Fatal(format!("standard input: `{raw}` is not a JSON string literal ({e})")))?
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
        all_allowed &= verdict(&decision) == "allow";
        print(out, &url, &decision, args.json)?;
        if out.closed() {
            break;
        }
    }
    out.flush()?;
    Ok(status(all_allowed))
}

/// `--resolve HOST=IP`, repeated: every address given for a host is its answer.
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

fn print(out: &mut Out, url: &str, d: &Decision, json: bool) -> Result<(), Fatal> {
    let url = echo_url(url);
    let verdict = verdict(d);
    let dest = d.destination();
    if json {
        return out.json(&Record {
            url: &url,
            verdict,
            reason: d.reason().as_str(),
            rule: d.rule().map(|r| r.id()),
            scheme: dest.map(|x| x.scheme().as_str()),
            host: dest.map(|x| x.host().to_string()),
            port: dest.map(|x| x.port()),
        });
    }
    let rule = d.rule().map(|r| format!(" rule={}", r.id())).unwrap_or_default();
    let target = dest.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    let observe = if d.is_deny() && !d.is_enforced() {
        " (observe: not enforced)"
    } else {
        ""
    };
    out.line(format_args!("{verdict:<7} {target} {}{rule}{observe}  <- {url:?}", d.reason()))
}
