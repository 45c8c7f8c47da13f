//! Decides on a handful of URLs with the built-in example policy
//! (`examples/policy.toml`), or with the policy file given as the first argument.
//!
//! ```text
//! cargo run --example decide
//! cargo run --example decide -- path/to/policy.toml
//! ```

use egress_policy::{Destination, Policy, Scheme, SharedPolicy};

const BUILT_IN: &str = include_str!("policy.toml");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = match std::env::args().nth(1) {
        Some(path) => Policy::from_path(&path)?,
        None => Policy::from_toml_str(BUILT_IN)?,
    };
    println!(
        "policy: mode {}, enforcement {}, {}",
        policy.mode(),
        policy.enforcement(),
        policy.digest()
    );
    let shared = SharedPolicy::new(policy);

    let urls = [
        "https://api.payments.example/v1/charges",
        "https://images.cdn.payments.example/logo.png",
        "https://cdn.payments.example/",
        "http://api.payments.example/",
        "https://api.payments.example:8443/",
        "https://api.payments.example@evil.example/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "https://203.0.113.10/",
        "https://hooks.partner.example/",
    ];
    for url in urls {
        let d = shared.decide_url(url, None);
        println!(
            "{:<5} {:<28} {:<20} {url}",
            d.verdict(),
            d.reason(),
            d.rule().map_or("-", |r| r.id())
        );
    }

    // A client built for the name "webhooks" also gets the rules naming it.
    let d = shared.decide_url("https://hooks.partner.example/", Some("webhooks"));
    println!(
        "{:<5} {:<28} {:<20} https://hooks.partner.example/ (client webhooks)",
        d.verdict(),
        d.reason(),
        d.rule().map_or("-", |r| r.id())
    );

    // Non-URL destinations (database drivers) go through the same decision.
    let db = Destination::new(Scheme::Tcp, "db.orders.internal.example", 5432)?;
    let d = shared.decide(&db, None);
    println!(
        "{:<5} {:<28} {:<20} {db}",
        d.verdict(),
        d.reason(),
        d.rule().map_or("-", |r| r.id())
    );

    // Connect time: the name resolved to loopback (DNS rebinding) is refused.
    let dest = Destination::parse_url("https://api.payments.example/")?;
    let admission = shared.admit(&dest, &["127.0.0.1".parse()?, "93.184.216.34".parse()?], None);
    println!(
        "admitted {:?}, dropped {:?}",
        admission.admitted(),
        admission.dropped().iter().map(|d| d.addr).collect::<Vec<_>>()
    );
    Ok(())
}
