//! `egress-policy probe` as a real process against real servers on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

use std::process::Output;

use egress_policy_testkit::CountingServer;

fn policy_file(dir: &tempfile::TempDir, body: &str) -> std::path::PathBuf {
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, body).unwrap();
    path
}

async fn probe(args: Vec<String>, env: &[(&str, String)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_egress-policy"));
    cmd.arg("probe").args(args);
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn probe_reports_allowed_answers_and_denials_without_connections() {
    let allowed = CountingServer::ok().await;
    let denied = CountingServer::ok().await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(
        &dir,
        &format!(
            "version = 1\n[[allow]]\nid = \"up\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n",
            allowed.port()
        ),
    );
    let args = vec![
        "--json".to_string(),
        "--policy".to_string(),
        policy.display().to_string(),
        format!("http://user:secret@127.0.0.1:{}/health?token=abc", allowed.port()),
        denied.url("/"),
        "not a url".to_string(),
    ];
    let out = probe(args, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let l = lines(&out);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0]["verdict"], "allow");
    assert_eq!(l[0]["attempted"], true);
    assert_eq!(l[0]["status"], 200);
    assert_eq!(l[0]["rule"], "up");
    assert_eq!(
        l[0]["url"],
        format!("http://127.0.0.1:{}/health", allowed.port()),
        "no secrets in evidence"
    );
    assert_eq!(l[1]["verdict"], "deny");
    assert_eq!(l[1]["reason"], "port_not_allowed");
    assert_eq!(l[1]["attempted"], false);
    assert_eq!(l[1]["status"], serde_json::Value::Null);
    assert!(
        l[1]["error"].as_str().unwrap().starts_with("egress denied: port_not_allowed"),
        "{}",
        l[1]
    );
    assert_eq!(l[2]["verdict"], "invalid");
    for line in &l {
        assert_eq!(line["generation"], 1);
        assert!(line["digest"].as_str().unwrap().starts_with("sha256:"));
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
        assert!(line["elapsed_ms"].as_f64().is_some());
    }
    assert_eq!((allowed.connections(), denied.connections()), (1, 0));

    let text = probe(vec!["--policy".into(), policy.display().to_string(), allowed.url("/")], &[]).await;
    assert_eq!(text.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("allow   attempted=true") && stdout.contains("HTTP 200"), "{stdout}");
}

#[tokio::test]
async fn probe_ignores_an_environment_proxy_the_policy_does_not_allow() {
    let proxy = CountingServer::ok().await;
    let target = CountingServer::ok().await;
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(
        &dir,
        &format!(
            "version = 1\n[[allow]]\nid = \"target\"\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{}]\n",
            target.port()
        ),
    );
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let out = probe(
        vec!["--json".into(), "--policy".into(), policy.display().to_string(), target.url("/")],
        &[("HTTP_PROXY", proxy_url.clone()), ("ALL_PROXY", proxy_url)],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!((proxy.connections(), target.connections()), (0, 1));
}

#[tokio::test]
async fn probe_with_a_broken_policy_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(&dir, "version = 1\n[[allow]]\nid = \"x\"\nhosts = [\"Bad.Example\"]\n");
    let out = probe(
        vec!["--policy".into(), policy.display().to_string(), "https://a.example/".into()],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("write `bad.example`"));
}

/// A connection error (nothing listens) on a URL with userinfo, query and
/// fragment: neither the text nor the JSON output may carry any of them
/// (reqwest's error message appends the full URL).
#[tokio::test]
async fn probe_errors_carry_no_secrets_from_the_url() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let policy = policy_file(
        &dir,
        &format!(
            "version = 1\n[[allow]]\nid = \"up\"\nhosts = [\"localhost\"]\ncidrs = [\"127.0.0.1/32\"]\nschemes = [\"http\"]\nports = [{port}]\nresolves_to = [\"127.0.0.0/8\", \"::1/128\"]\n"
        ),
    );
    let urls = [
        format!("http://user:PASSWORD@localhost:{port}/path?api_key=SECRET#FRAGMENT"),
        format!("http://user:PASSWORD@127.0.0.1:{port}/path?api_key=SECRET#FRAGMENT"),
        "http://user:PASSWORD@denied.example/path?api_key=SECRET#FRAGMENT".to_string(),
    ];
    for json in [true, false] {
        let mut args = vec!["--policy".to_string(), policy.display().to_string()];
        if json {
            args.push("--json".into());
        }
        args.extend(urls.iter().cloned());
        let out = probe(args, &[]).await;
        let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(shown.contains("error") || shown.contains("denied"), "{shown}");
        for secret in ["PASSWORD", "SECRET", "FRAGMENT"] {
            assert!(!shown.contains(secret), "{secret} shown (json={json}):\n{shown}");
        }
    }
}
