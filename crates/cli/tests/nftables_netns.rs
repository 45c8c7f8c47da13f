//! The nftables export, proven with real packets: two network namespaces
//! joined by a veth pair (addresses from 198.18.0.0/15 only), listeners in the
//! server namespace, the exported ruleset loaded in the client namespace, and
//! one connection attempt per case of `testdata/export/netns.tests.toml`.
//! Exactly the cases the policy allows get through, counted at the listeners;
//! `egress-policy test` passes on the same file, so process and network layer
//! agree case by case.
//!
//! Needs root, `ip` (iproute2), `nft` (nftables) and `python3`. Without root the
//! test is skipped with a message; without the tools too, unless
//! `EGRESS_NETNS_REQUIRED=1` (set by `.ci/run`, which installs them) makes
//! that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sh(cmd: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd[0]).args(&cmd[1..]).output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether the test can run here; `Err` explains why not.
fn prerequisites() -> Result<(), String> {
    let uid = sh(&["id", "-u"])?;
    if uid.trim() != "0" {
        return Err("not root (network namespaces need CAP_SYS_ADMIN)".into());
    }
    for tool in [["nft", "--version"], ["ip", "-V"], ["python3", "--version"]] {
        sh(&tool).map_err(|e| format!("{} is missing ({e})", tool[0]))?;
    }
    Ok(())
}

/// Two namespaces and a veth pair, removed on drop.
struct Netns {
    client: String,
    server: String,
}

impl Netns {
    fn new() -> Netns {
        let id = std::process::id();
        let n = Netns {
            client: format!("epc{id}"),
            server: format!("eps{id}"),
        };
        let (vc, vs) = (format!("vc{id}"), format!("vs{id}"));
        sh(&["ip", "netns", "add", &n.client]).unwrap();
        sh(&["ip", "netns", "add", &n.server]).unwrap();
        sh(&["ip", "link", "add", &vc, "type", "veth", "peer", "name", &vs]).unwrap();
        sh(&["ip", "link", "set", &vc, "netns", &n.client]).unwrap();
        sh(&["ip", "link", "set", &vs, "netns", &n.server]).unwrap();
        n.exec_ok(&n.client, &["ip", "addr", "add", "198.18.0.1/15", "dev", &vc]);
        n.exec_ok(&n.client, &["ip", "link", "set", &vc, "up"]);
        n.exec_ok(&n.client, &["ip", "link", "set", "lo", "up"]);
        n.exec_ok(&n.server, &["ip", "link", "set", &vs, "up"]);
        n
    }

    fn exec_ok(&self, ns: &str, cmd: &[&str]) -> String {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(cmd);
        sh(&full).unwrap()
    }

    fn serve_on(&self, addrs: &[&str]) {
        let dev = format!("vs{}", std::process::id());
        for a in addrs {
            self.exec_ok(&self.server, &["ip", "addr", "add", &format!("{a}/15"), "dev", &dev]);
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&["ip", "netns", "del", &self.client]);
        let _ = sh(&["ip", "netns", "del", &self.server]);
    }
}

#[derive(serde::Deserialize)]
struct TestsFile {
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    url: String,
    verdict: String,
    #[serde(default)]
    resolve: Vec<String>,
}

/// `proto:addr:port` for a case: its IP literal, or its first resolved address.
fn target(case: &Case) -> String {
    let url = url::Url::parse(&case.url).unwrap();
    let host = case.resolve.first().cloned().unwrap_or_else(|| url.host_str().unwrap().to_string());
    format!("{}:{host}:{}", url.scheme(), url.port().unwrap())
}

/// Starts the listeners, runs the connection attempts, returns the counts.
fn attempt(n: &Netns, targets: &[String]) -> BTreeMap<String, u64> {
    let scripts = root().join("crates/cli/tests/netns");
    let mut listen = Command::new("ip")
        .args(["netns", "exec", &n.server, "python3"])
        .arg(scripts.join("listen.py"))
        .args(targets)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(listen.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let connect = Command::new("ip")
        .args(["netns", "exec", &n.client, "python3"])
        .arg(scripts.join("connect.py"))
        .args(targets)
        .output()
        .unwrap();
    assert!(connect.status.success(), "{}", String::from_utf8_lossy(&connect.stderr));
    std::thread::sleep(std::time::Duration::from_millis(300)); // let datagrams land
    listen.stdin.take().unwrap().write_all(b"").unwrap(); // dropped: end of input
    let counts: BTreeMap<String, u64> = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    listen.wait().unwrap();
    counts
}

#[test]
fn exactly_the_allowed_connections_get_through_the_exported_ruleset() {
    if let Err(why) = prerequisites() {
        if std::env::var_os("EGRESS_NETNS_REQUIRED").is_some_and(|v| v == "1") {
            panic!("EGRESS_NETNS_REQUIRED=1 but the network-namespace test cannot run: {why}");
        }
        eprintln!("SKIPPED nftables network-namespace test: {why}");
        return;
    }
    let dir = root().join("testdata/export");
    let policy = dir.join("netns.policy.toml");
    let tests = dir.join("netns.tests.toml");

    // The process agrees with the tests file.
    let bin = env!("CARGO_BIN_EXE_egress-policy");
    let out = Command::new(bin).args(["test"]).arg(&policy).arg(&tests).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // The ruleset, as a user would write it out.
    let work = tempfile::tempdir().unwrap();
    let ruleset = work.path().join("egress.nft");
    let out = Command::new(bin)
        .args([
            "export",
            "--format",
            "nftables",
            "--now",
            "2026-12-01",
            "--dns-server",
            "198.18.0.53",
            "-o",
        ])
        .arg(&ruleset)
        .arg(&policy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let file: TestsFile = toml::from_str(&std::fs::read_to_string(&tests).unwrap()).unwrap();
    let mut targets: Vec<String> = file.cases.iter().map(target).collect();
    let dns = ["udp:198.18.0.53:53".to_string(), "tcp:198.18.0.53:53".to_string()];
    targets.extend(dns.iter().cloned());
    let mut addrs: Vec<&str> = targets.iter().map(|t| t.split(':').nth(1).unwrap()).collect();
    addrs.sort();
    addrs.dedup();

    let n = Netns::new();
    n.serve_on(&addrs);

    // Control: with no ruleset every attempt arrives, so a drop below is the ruleset's.
    let open = attempt(&n, &targets);
    for t in &targets {
        assert_eq!(open[t], 1, "{t} unreachable without a ruleset: {open:?}");
    }

    n.exec_ok(&n.client, &["nft", "-f", ruleset.to_str().unwrap()]);
    // Loading twice replaces the table (the file deletes and recreates it).
    n.exec_ok(&n.client, &["nft", "-f", ruleset.to_str().unwrap()]);
    let listed = n.exec_ok(&n.client, &["nft", "list", "tables"]);
    assert_eq!(listed.trim(), "table inet egress_policy", "{listed}");

    let fenced = attempt(&n, &targets);
    let mut wrong = Vec::new();
    for case in &file.cases {
        let t = target(case);
        let want = u64::from(case.verdict == "allow");
        if fenced[&t] != want {
            wrong.push(format!("{} ({t}): expected {want} arrival(s), counted {}", case.name, fenced[&t]));
        }
    }
    for t in &dns {
        if fenced[t] != 1 {
            wrong.push(format!("DNS {t}: expected 1 arrival, counted {}", fenced[t]));
        }
    }
    assert!(wrong.is_empty(), "network layer and policy disagree:\n{}", wrong.join("\n"));
}
