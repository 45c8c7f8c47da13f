//! A service on loopback with the `X-Sealed-Mode` header layer, whose policy file
//! is edited while it runs: the header and the verdicts follow each reload, and a
//! broken edit is rejected while the last good policy stays. A SIGHUP reloads too.
//!
//! ```text
//! cargo run --example hot_reload --features tower,watch
//! ```

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use egress_policy::tower::SetSealedModeHeaderLayer;
use egress_policy::watch::{Outcome, Watcher};

const SEALED: &str = "version = 1\nmode = \"sealed\"\n[[allow]]\nid = \"api\"\nhosts = [\"api.example.com\"]\n";
const OPEN: &str = "version = 1\nmode = \"open\"\n[[deny]]\nid = \"no-metadata\"\ncidrs = [\"169.254.169.254/32\"]\n";
const BROKEN: &str = "version = 1\nmode = \"sealed\"\n[[allow]]\nid = \"oops\"\nhosts = [\"Bücher.example\"]\n";

fn edit(path: &std::path::Path, content: &str) {
    // Write-then-rename, as editors and config management do.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, content).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, SEALED)?;

    let watcher = Watcher::builder(&path).debounce(Duration::from_millis(100)).start()?;
    let policy = watcher.policy();
    let updates = watcher.subscribe();

    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .layer(SetSealedModeHeaderLayer::new(policy.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Reload on SIGHUP, the way a service would wire it.
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let sighup_watcher = std::sync::Arc::new(watcher);
    let on_hup = sighup_watcher.clone();
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            println!("SIGHUP: {}", on_hup.reload_now());
        }
    });

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let show = |label: &str, header: Option<&http::HeaderValue>| {
        let d = policy.decide_url("https://evil.example.net/", None);
        println!(
            "{label:<22} X-Sealed-Mode: {:<7} evil.example.net -> {} ({})",
            format!("{header:?}"),
            d.verdict(),
            d.reason()
        );
    };

    let res = client.get(format!("http://{addr}/").parse()?).await?;
    show("start (sealed)", res.headers().get("x-sealed-mode"));

    for (label, content) in [("edit: open", OPEN), ("edit: broken", BROKEN), ("edit: sealed again", SEALED)] {
        edit(&path, content);
        // Wait for this edit's reload (a rename can also re-report the old file).
        let event = loop {
            let event = tokio::task::block_in_place(|| updates.recv_timeout(Duration::from_secs(5)))?;
            let done = match &event.outcome {
                Outcome::Applied(s) => s.current.digest == egress_policy::Policy::from_toml_str(content)?.digest(),
                Outcome::Rejected { error, .. } => content == BROKEN && error.to_string().contains("Bücher"),
                _ => false,
            };
            if done {
                break event;
            }
        };
        println!("reload: {}", event.outcome);
        let res = client.get(format!("http://{addr}/").parse()?).await?;
        show(label, res.headers().get("x-sealed-mode"));
    }

    // SIGHUP to ourselves (as `kill -HUP <pid>` would).
    std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}
