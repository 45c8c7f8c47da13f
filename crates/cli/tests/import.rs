//! `egress-policy import` as a real process, on the hand-written fixtures in
//! `testdata/flows/` (Calico kernel-log lines with journald and syslog
//! prefixes, Hubble JSON flows, a pod-IP map, dnsmasq answers). Golden files
//! hold the expected observation records and the report (`EGRESS_BLESS=1`
//! rewrites them; review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use egress_policy_core::record::Record;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_egress-policy"))
        .current_dir(root())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn golden(name: &str, actual: &str) {
    let path = root().join("testdata/flows/expected").join(name);
    if std::env::var_os("EGRESS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        want == actual,
        "{} differs (EGRESS_BLESS=1 rewrites it; review the diff):\n{actual}",
        path.display()
    );
}

const CALICO: &[&str] = &[
    "import",
    "--format",
    "kernel-log",
    "--year",
    "2026",
    "--clients",
    "testdata/flows/clients.csv",
    "--dns-log",
    "testdata/flows/dnsmasq.log",
    "testdata/flows/calico-kernel.log",
];

#[test]
fn calico_kernel_log_to_observations() {
    let out = run(CALICO, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records = text(&out.stdout);
    golden("calico.observations.jsonl", &records);
    golden("calico.report.txt", &text(&out.stderr));
    // Every line is a record in the Recorder's format.
    for line in records.lines() {
        let Record::Observation(o) = Record::parse(line).unwrap() else {
            panic!("{line}")
        };
        assert_eq!((o.source.as_deref(), o.reason.as_str()), (Some("kernel-log"), "flow_seen"));
        assert!(matches!(o.scheme.as_str(), "tcp" | "udp"), "{line}");
        assert!(o.client.is_some(), "every source is mapped: {line}");
    }
    // Names from the resolver log, with the addresses as answers; a shared
    // address stays an address; bad lines are reported with their numbers.
    assert!(records.contains(r#""host":"api.payments.example","port":443,"client":"billing""#));
    assert!(records.contains(r#""resolved":["93.184.216.34","2606:2800:220:1:248:1893:25c8:1946"]"#));
    assert!(records.contains(r#""host":"185.199.108.153""#));
    let report = text(&out.stderr);
    for n in [148, 149, 150, 151] {
        assert!(report.contains(&format!("calico-kernel.log:{n}:")), "{report}");
    }
}

#[test]
fn kubectl_tables_name_clients_by_namespace_or_workload() {
    let mut args: Vec<&str> = CALICO.to_vec();
    args[6] = "testdata/flows/pods-wide.txt";
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records = text(&out.stdout);
    assert!(records.contains(r#""client":"billing""#) && records.contains(r#""client":"batch""#));
    // No IPv6 pod addresses in the table: that source is unmapped, and said so.
    assert!(text(&out.stderr).contains("9 from unmapped sources"), "{}", text(&out.stderr));

    args.splice(7..7, ["--client-from", "workload"]);
    let out = run(&args, None);
    let records = text(&out.stdout);
    assert!(records.contains(r#""client":"billing.billing-api""#), "{records}");
    assert!(records.contains(r#""client":"billing.billing-worker""#), "{records}");
    assert!(records.contains(r#""client":"batch.torrent-0""#), "{records}");
}

#[test]
fn hubble_flows_to_observations() {
    let out = run(&["import", "--format", "hubble", "testdata/flows/hubble.jsonl"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records = text(&out.stdout);
    golden("hubble.observations.jsonl", &records);
    golden("hubble.report.txt", &text(&out.stderr));
    // DNS responses name addresses; destination_names too; drops are denials,
    // audit verdicts would-be denials.
    assert!(
        records.contains(r#""host":"api.shipping.example","port":443,"client":"shop""#),
        "{records}"
    );
    assert!(records.contains(r#""resolved":["52.84.10.20","52.84.10.21"]"#), "{records}");
    assert!(records.contains(r#""host":"api.github.example""#), "{records}");
    assert!(records.contains(r#""port":22,"client":"analytics","count":1,"first_seen":"2026-11-20T09:05:00Z","last_seen":"2026-11-20T09:05:00Z","verdict":"deny","reason":"flow_dropped","rule":null,"enforced":true"#), "{records}");
    assert!(records.contains(r#""port":25,"client":"analytics","count":1,"first_seen":"2026-11-20T09:06:00Z","last_seen":"2026-11-20T09:06:00Z","verdict":"deny","reason":"flow_dropped","rule":null,"enforced":false"#), "{records}");
    assert!(!records.contains("34.120.1.1"), "ingress flows are not egress");

    let out = run(
        &[
            "import",
            "--format",
            "hubble",
            "--client-from",
            "workload",
            "testdata/flows/hubble.jsonl",
        ],
        None,
    );
    assert!(text(&out.stdout).contains(r#""client":"shop.checkout""#));
    assert!(text(&out.stdout).contains(r#""client":"analytics.collector-0""#));
}

#[test]
fn gzip_and_standard_input_read_the_same() {
    let plain = run(CALICO, None);
    let raw = std::fs::read(root().join("testdata/flows/calico-kernel.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("calico-kernel.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&raw).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let mut args: Vec<&str> = CALICO.to_vec();
    let gz = gz.to_str().unwrap().to_string();
    *args.last_mut().unwrap() = &gz;
    assert_eq!(run(&args, None).stdout, plain.stdout);
    *args.last_mut().unwrap() = "-";
    assert_eq!(run(&args, Some(&raw)).stdout, plain.stdout);
}

#[test]
fn the_nftables_exports_would_deny_lines_are_would_be_denials() {
    let log = "2026-11-20T10:00:00+0000 host kernel: egress-policy would-deny no_matching_rule: IN= OUT=eth0 SRC=192.168.1.10 DST=93.184.216.34 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0\n\
               2026-11-20T10:00:01+0000 host kernel: [UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4 DST=192.168.1.10 PROTO=TCP SPT=1 DPT=22\n";
    let out = run(
        &["import", "--format", "nftables-log", "--prefix", "egress-policy would-deny", "-"],
        Some(log.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let records = text(&out.stdout);
    assert_eq!(records.lines().count(), 1, "{records}");
    assert!(
        records.contains(r#""verdict":"deny","reason":"flow_dropped","rule":null,"enforced":false"#),
        "{records}"
    );
}

#[test]
fn errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "Nov 20 10:00:00 node kernel: nothing to see\n").unwrap();
    let out = run(&["import", "--format", "kernel-log", empty.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no kernel-log flow record in 1 lines"),
        "{}",
        text(&out.stderr)
    );

    for (map, want) in [
        ("10.0.0.0/8,Billing Team\n", ":1: `Billing Team` is not a client name"),
        (
            "address,client\n10.0.0.0/33,billing\n",
            ":2: `10.0.0.0/33` is not an address or CIDR",
        ),
        ("{\"10.0.0.1\": \"ok\", \"x\": \"y\"}", "key \"x\": `x` is not an address or CIDR"),
        (
            "NAMESPACE NAME READY\nbilling api 1/1\n",
            ":1: a kubectl table needs the NAMESPACE, NAME and IP columns",
        ),
    ] {
        let path = dir.path().join("map");
        std::fs::write(&path, map).unwrap();
        let out = run(
            &[
                "import",
                "--format",
                "kernel-log",
                "--clients",
                path.to_str().unwrap(),
                "testdata/flows/calico-kernel.log",
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{map}");
        assert!(text(&out.stderr).contains(want), "{map}: {}", text(&out.stderr));
    }
}

#[test]
fn suggest_reads_imported_records() {
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs.jsonl");
    let mut args: Vec<&str> = CALICO.to_vec();
    let o = obs.to_str().unwrap().to_string();
    args.extend(["-o", &o]);
    assert_eq!(run(&args, None).status.code(), Some(0));
    let out = run(&["suggest", &o], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("api.payments.example"), "{}", text(&out.stdout));
}

/// Flows → import → suggest → placeholders filled in → `validate --strict`
/// passes → every destination a tier A–C client was observed using is allowed
/// for that client by `check`, and what was not observed (another client's
/// destinations, the tier D client's, an arbitrary endpoint) is denied.
#[test]
fn flows_to_an_enforceable_policy_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs.jsonl");
    let o = obs.to_str().unwrap().to_string();
    let mut args: Vec<&str> = CALICO.to_vec();
    args.extend(["-o", &o]);
    assert_eq!(run(&args, None).status.code(), Some(0));

    let suggested = dir.path().join("suggested.toml");
    let s = suggested.to_str().unwrap().to_string();
    let flags = [
        "suggest",
        "--internal",
        "10.96.0.0/12",
        "--internal",
        "10.244.0.0/16",
        "--ranges",
        "testdata/flows/ranges.csv",
    ];
    let mut suggest_args = flags.to_vec();
    suggest_args.extend(["-o", &s, &o]);
    let out = run(&suggest_args, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let policy = std::fs::read_to_string(&suggested).unwrap();
    // The first line stamps the time of the run.
    golden(
        "calico.suggested.toml",
        &policy.lines().skip(1).map(|l| format!("{l}\n")).collect::<String>(),
    );
    golden(
        "calico.plan.txt",
        &text(&out.stderr)
            .lines()
            .filter(|l| l.starts_with("suggest: "))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    let mut json_args = flags.to_vec();
    json_args.extend(["--json", &o]);
    let report: serde_json::Value = serde_json::from_slice(&run(&json_args, None).stdout).unwrap();
    let plan = &report["plan"];
    assert_eq!(plan["waves"], serde_json::json!([["billing", "frontend"]]));
    assert_eq!(plan["keep_in_observe"], serde_json::json!(["batch"]));
    let tiers: Vec<(&str, &str, bool)> = plan["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["client"].as_str().unwrap(),
                c["tier"].as_str().unwrap(),
                c["ready"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(tiers, [("batch", "D", false), ("billing", "B", true), ("frontend", "B", true)]);
    assert!(!policy.contains("6881"), "the tier D client got rules:\n{policy}");

    // Review: fill in the placeholders, then the policy must pass --strict.
    let filled = policy
        .replace("owner = \"FILL-IN\"", "owner = \"platform@example.com\"")
        .replace("FILL-IN: why this service calls these", "seen in a week of flow logs")
        .replace("# ticket = \"SEC-...\"", "ticket = \"SEC-1\"")
        .lines()
        .map(|l| {
            if l.starts_with("# expires") {
                "expires = \"2027-06-30\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let reviewed = dir.path().join("reviewed.toml");
    std::fs::write(&reviewed, &filled).unwrap();
    let p = reviewed.to_str().unwrap();
    let out = run(&["validate", "--strict", p], None);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));

    // Every observed destination of a ready client is allowed for it.
    let mut checked = 0;
    for line in std::fs::read_to_string(&obs).unwrap().lines() {
        let Record::Observation(o) = Record::parse(line).unwrap() else {
            continue;
        };
        let client = o.client.clone().unwrap();
        if client == "batch" || o.port == 53 {
            continue;
        }
        let url = format!("{}://{}:{}", o.scheme, o.host, o.port);
        let mut args = vec![
            "check".to_string(),
            "--policy".into(),
            p.into(),
            "--client".into(),
            client.clone(),
            "--now".into(),
            "2026-12-01".into(),
        ];
        for a in &o.resolved {
            args.extend(["--resolve".into(), format!("{}={a}", o.host)]);
        }
        args.push(url.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(0), "{client} {url}: {}", text(&out.stdout));
        checked += 1;
    }
    assert_eq!(checked, 30, "billing: 9 days × 2, frontend: 9 days + 3 days");
    // What was not observed for a client is denied.
    for (client, url) in [
        ("frontend", "tcp://api.payments.example:443"),
        ("billing", "tcp://hooks.partner-cdn.example:443"),
        ("batch", "tcp://91.121.67.50:51413"),
        ("billing", "tcp://91.121.67.50:51413"),
        ("billing", "tcp://evil.example:443"),
        ("frontend", "tcp://185.199.112.1:443"),
    ] {
        let out = run(&["check", "--policy", p, "--client", client, "--now", "2026-12-01", url], None);
        assert_eq!(out.status.code(), Some(1), "{client} {url} is allowed: {}", text(&out.stdout));
    }
}

/// `report --observations`: the same per-client horizon and readiness, with
/// `--min-days` refusing a client observed for less.
#[test]
fn report_states_horizon_and_readiness() {
    let out = run(&["import", "--format", "hubble", "testdata/flows/hubble.jsonl"], None);
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("hubble.jsonl");
    std::fs::write(&obs, &out.stdout).unwrap();
    let o = obs.to_str().unwrap();
    let out = run(&["report", "--observations", o], None);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(report.contains("client shop: tier B"), "{report}");
    assert!(
        report.contains("observed 2026-11-20T08:00:00Z to 2026-11-28T11:00:00Z (8.1 days)"),
        "{report}"
    );
    let out = run(&["report", "--observations", o, "--min-days", "30", "--json"], None);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shop = plan["clients"].as_array().unwrap().iter().find(|c| c["client"] == "shop").unwrap();
    assert_eq!(shop["ready"], false);
    assert_eq!(shop["not_ready"][0], "observed 8.1 days, fewer than 30");
}

/// What an attacker or a messy cluster can put in the inputs stays inert:
/// kubectl rows that share an address or are not running, syslog dates across
/// New Year and in the future, other workloads' DNS answers, names that are
/// not DNS names, hosts that would break a comment, public resolvers.
#[test]
fn hostile_and_messy_inputs() {
    // kubectl: a Completed pod's address and host-network pods sharing the
    // node's address are left out (the latter reported); RESTARTS with spaces parse.
    let mut args: Vec<&str> = CALICO.to_vec();
    args[6] = "testdata/flows/pods-wide.txt";
    let out = run(&args, None);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("192.168.10.11/32 is given for calico-system, kube-system: left out"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains(r#""client":"billing""#));

    // A lookup from an address no client owns (host-network pods share the
    // node's) names nothing for the clients: billing's traffic keeps its name.
    let dir = tempfile::tempdir().unwrap();
    let dns = dir.path().join("dns.log");
    let mut log = std::fs::read_to_string(root().join("testdata/flows/dnsmasq.log")).unwrap();
    log += "Nov 12 09:00:00 dnsmasq[812]: query[A] cdn.attacker.example from 192.168.10.11\n\
            Nov 12 09:00:00 dnsmasq[812]: reply cdn.attacker.example is 93.184.216.34\n";
    std::fs::write(&dns, log).unwrap();
    let dns = dns.to_str().unwrap().to_string();
    args[8] = &dns;
    let records = text(&run(&args, None).stdout);
    assert!(!records.contains("cdn.attacker.example"), "{records}");
    assert_eq!(
        records
            .matches(r#""host":"api.payments.example","port":443,"client":"billing""#)
            .count(),
        9
    );

    // Syslog across New Year, and a stamp in the future.
    let log = "Dec 31 23:50:00 node kernel: calico-packet: IN=cali1 OUT=eth0 SRC=10.244.1.5 DST=93.184.216.34 PROTO=TCP SPT=1 DPT=443\n\
               Jan  1 00:10:00 node kernel: calico-packet: IN=cali1 OUT=eth0 SRC=10.244.1.5 DST=93.184.216.34 PROTO=TCP SPT=2 DPT=443\n";
    let out = run(&["import", "--format", "kernel-log", "--year", "2025", "-"], Some(log.as_bytes()));
    let records = text(&out.stdout);
    assert!(records.contains(r#""first_seen":"2025-12-31T23:50:00Z""#), "{records}");
    assert!(records.contains(r#""first_seen":"2026-01-01T00:10:00Z""#), "{records}");
    let out = run(&["import", "--format", "kernel-log", "--year", "2099", "-"], Some(log.as_bytes()));
    assert_eq!(out.status.code(), Some(2), "every line is in the future");
    assert!(
        text(&out.stderr).contains("is in the future (syslog stamps have no year: check --year)"),
        "{}",
        text(&out.stderr)
    );

    // Hubble: another workload's DNS answer does not rename shop's traffic, a
    // destination name that is not a DNS name is a bad line, lost events are
    // an overflow record.
    let out = run(&["import", "--format", "hubble", "testdata/flows/hubble.jsonl"], None);
    let records = text(&out.stdout);
    assert!(!records.contains("cdn.attacker.example"), "{records}");
    assert_eq!(
        records
            .matches(r#""host":"api.shipping.example","port":443,"client":"shop""#)
            .count(),
        9,
        "{records}"
    );
    assert!(text(&out.stderr).contains(r#"hubble.jsonl:102: destination_names "*.github.example" is not a DNS name"#));
    assert!(records.ends_with("{\"overflow\":3,\"at\":\"2026-11-27T09:00:00Z\"}\n"), "{records}");

    // suggest: an IPv6 destination (records write it without brackets) is
    // proposed; a host that is not a name or an address is left out, never
    // written into the policy; a public resolver is external, proposed.
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs.jsonl");
    let rec = |client: &str, scheme: &str, host: &str, port: u16| {
        format!(
            "{{\"scheme\":\"{scheme}\",\"host\":{},\"port\":{port},\"client\":\"{client}\",\"count\":1,\"first_seen\":\"2026-11-20T00:00:00Z\",\"last_seen\":\"2026-11-28T00:00:00Z\",\"verdict\":\"allow\",\"reason\":\"flow_seen\",\"rule\":null,\"enforced\":false,\"resolved\":[],\"source\":\"kernel-log\"}}\n",
            serde_json::to_string(host).unwrap()
        )
    };
    let body = [
        rec("a", "tcp", "2a00:1450:4001:80b::200e", 443),
        rec("a", "tcp", "x\n[[allow]]\nid = \"zz\"\ncidrs = [\"0.0.0.0/0\"]\n#", 443),
        rec("a", "udp", "8.8.8.8", 53),
        rec("b", "udp", "10.96.0.10", 53),
    ]
    .concat();
    std::fs::write(&obs, body).unwrap();
    let out = run(&["suggest", obs.to_str().unwrap()], None);
    let policy = text(&out.stdout);
    assert!(policy.contains(r#"cidrs = ["2a00:1450:4001:80b::200e/128"]"#), "{policy}");
    assert!(policy.contains(r#"cidrs = ["8.8.8.8/32"]"#), "{policy}");
    assert!(!policy.contains("10.96.0.10"), "the cluster resolver is not proposed: {policy}");
    assert!(!policy.contains("\"zz\"") && !policy.contains("0.0.0.0/0"), "{policy}");
    assert!(
        text(&out.stderr).contains(r#"is not an address or a DNS name: left out"#),
        "{}",
        text(&out.stderr)
    );
    let toml: toml::Table = policy.parse().unwrap();
    assert_eq!(toml["allow"].as_array().unwrap().len(), 2, "{policy}");

    // --ranges: host bits and ranges wider than any provider's are refused.
    for (ranges, want) in [
        ("52.10.10.10/8,aws\n", "has host bits set"),
        ("0.0.0.0/1,everything\n", "wider than any provider's range"),
    ] {
        let path = dir.path().join("ranges.csv");
        std::fs::write(&path, ranges).unwrap();
        let out = run(&["suggest", "--ranges", path.to_str().unwrap(), obs.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(2), "{ranges}");
        assert!(text(&out.stderr).contains(want), "{}", text(&out.stderr));
    }
}

/// With named clients, traffic no client name accounts for is not proposed
/// (a rule without `clients` would apply to everyone), and rules name their
/// clients even when every observed client used them.
#[test]
fn named_clients_get_named_rules_only() {
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs.jsonl");
    let rec = |client: Option<&str>, host: &str| {
        format!(
            "{{\"scheme\":\"https\",\"host\":\"{host}\",\"port\":443,\"client\":{},\"count\":1,\"first_seen\":\"2026-11-20T00:00:00Z\",\"last_seen\":\"2026-11-28T00:00:00Z\",\"verdict\":\"allow\",\"reason\":\"no_matching_rule\",\"rule\":null,\"enforced\":false,\"resolved\":[]}}\n",
            client.map_or("null".to_string(), |c| format!("\"{c}\""))
        )
    };
    let body = [
        rec(Some("a"), "a.shared.example"),
        rec(Some("b"), "b.shared.example"),
        rec(Some("a"), "both.example"),
        rec(Some("b"), "both.example"),
        rec(None, "node.example"),
    ]
    .concat();
    std::fs::write(&obs, body).unwrap();
    let out = run(&["suggest", obs.to_str().unwrap()], None);
    let policy: toml::Table = text(&out.stdout).parse().unwrap();
    let rules: Vec<(Vec<String>, Vec<String>)> = policy["allow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let list = |k: &str| r[k].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
            (list("hosts"), list("clients"))
        })
        .collect();
    assert!(rules.contains(&(vec!["a.shared.example".into()], vec!["a".into()])), "{rules:?}");
    assert!(rules.contains(&(vec!["b.shared.example".into()], vec!["b".into()])), "{rules:?}");
    assert!(
        rules.contains(&(vec!["both.example".into()], vec!["a".into(), "b".into()])),
        "{rules:?}"
    );
    assert_eq!(rules.len(), 3, "node.example (no client) is not proposed: {rules:?}");
    assert!(
        text(&out.stderr).contains("seen from sources no client name accounts for"),
        "{}",
        text(&out.stderr)
    );
}
