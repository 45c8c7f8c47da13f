//! The compiled matcher agrees with the naive reference of `fuzz/reference.rs`
//! (written straight from the precedence in `egress_policy_core::docs::matching`: linear scan over rules, string suffix
//! checks), over generated policies and destinations. Deterministic: a fixed-seed
//! generator, no extra crates; the `differential` fuzz target explores further.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the test failing

use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use egress_policy_core::{Context, Destination, Policy, Reason};

/// The naive reference the fuzz target uses too.
#[path = "../../../fuzz/reference.rs"]
mod reference;
use reference::reference;

/// The seeded generator the other generated-case tests use too.
#[path = "../../../testdata/rng.rs"]
mod rng;
use rng::Rng;

const LABELS: &[&str] = &["a", "b", "api", "cdn", "x", "example", "com"];
const SCHEMES: &[&str] = &["http", "https", "ws", "wss"];
const CLIENTS: &[&str] = &["billing", "webhooks"];

fn name(rng: &mut Rng, max_labels: u64) -> String {
    let n = 1 + rng.next() % max_labels;
    (0..n).map(|_| *rng.pick(LABELS)).collect::<Vec<_>>().join(".")
}

fn gen_policy(rng: &mut Rng) -> String {
    let mode = *rng.pick(&["sealed", "constrained", "open"]);
    let mut out = format!("version = 1\nmode = \"{mode}\"\n");
    let rules = 1 + rng.next() % 6;
    for i in 0..rules {
        let deny = rng.chance(25);
        out.push_str(if deny { "[[deny]]\n" } else { "[[allow]]\n" });
        out.push_str(&format!("id = \"r{i}\"\n"));
        let mut hosts = Vec::new();
        for _ in 0..rng.next() % 3 {
            let n = name(rng, 3);
            hosts.push(if rng.chance(40) { format!("\"*.{n}\"") } else { format!("\"{n}\"") });
        }
        let mut cidrs = Vec::new();
        if rng.chance(40) || hosts.is_empty() {
            let c = *rng.pick(&[
                "10.0.0.0/8",
                "10.1.0.0/16",
                "127.0.0.1/32",
                "192.0.2.0/24",
                "2001:db8::/32",
                "::ffff:10.2.0.0/112",
                "0.0.0.0/0",
                "64:ff9b::/96",
                "169.254.169.254/32",
            ]);
            cidrs.push(format!("\"{c}\""));
        }
        if !hosts.is_empty() {
            out.push_str(&format!("hosts = [{}]\n", hosts.join(", ")));
        }
        if !cidrs.is_empty() {
            out.push_str(&format!("cidrs = [{}]\n", cidrs.join(", ")));
        }
        if rng.chance(50) {
            let a = *rng.pick(SCHEMES);
            let b = *rng.pick(SCHEMES);
            out.push_str(&format!("schemes = [\"{a}\", \"{b}\"]\n"));
        }
        match rng.next() % 4 {
            0 => out.push_str("ports = \"any\"\n"),
            1 => out.push_str("ports = [443, \"8000-8099\"]\n"),
            2 => out.push_str("ports = [80]\n"),
            _ => {}
        }
        if !deny {
            if rng.chance(25) {
                out.push_str("modes = [\"constrained\"]\n");
            }
            if rng.chance(20) {
                out.push_str(&format!("clients = [\"{}\"]\n", rng.pick(CLIENTS)));
            }
        }
        if rng.chance(20) {
            out.push_str("expires = \"2026-01-01\"\n");
        }
    }
    out
}

fn gen_url(rng: &mut Rng) -> String {
    let scheme = *rng.pick(SCHEMES);
    let host = match rng.next() % 10 {
        0 => rng
            .pick(&[
                "10.1.2.3",
                "127.0.0.1",
                "192.0.2.9",
                "[2001:db8::1]",
                "[::ffff:10.2.0.5]",
                "8.8.8.8",
                "0x7f.1",
                // IPv4 embedded in IPv6: NAT64, 6to4, compatible, translated, ISATAP.
                "[64:ff9b::a01:203]",
                "[64:ff9b::a9fe:a9fe]",
                "[2002:a9fe:a9fe::]",
                "[::7f00:1]",
                "[::ffff:0:a00:1]",
                "[fe80::5efe:a00:1]",
            ])
            .to_string(),
        1 => format!("{}.", name(rng, 4)),
        2 => format!("{}..", name(rng, 4)),
        3 => match rng.next() % 3 {
            0 => format!("*.{}", name(rng, 3)),
            1 => format!("{}.*.{}", name(rng, 1), name(rng, 2)),
            _ => format!("{}..{}", name(rng, 1), name(rng, 2)),
        },
        4 => name(rng, 4).to_uppercase(),
        _ => name(rng, 5),
    };
    let port = match rng.next() % 4 {
        0 => ":443".to_string(),
        1 => ":8050".to_string(),
        2 => ":80".to_string(),
        _ => String::new(),
    };
    format!("{scheme}://{host}{port}/")
}

#[test]
fn compiled_matcher_agrees_with_the_reference() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let now = UNIX_EPOCH + Duration::from_secs(1_780_000_000); // 2026-05-28
    let mut decided = 0;
    let mut allowed = 0;
    for _ in 0..400 {
        let src = gen_policy(&mut rng);
        let policy = Policy::from_toml_str(&src).unwrap_or_else(|e| panic!("generated policy must load: {e}\n{src}"));
        for _ in 0..60 {
            let url = gen_url(&mut rng);
            let Ok(dest) = Destination::parse_url(&url) else { continue };
            for client in [None, Some("billing")] {
                let got = policy.decide_with(&dest, &Context::at(now).with_client(client));
                let want = reference(&policy, &dest, client, now);
                assert_eq!((got.verdict(), got.reason()), want, "{url} client={client:?}\n{src}");
                if let Some(rule) = got.rule()
                    && got.reason() == Reason::AllowedByRule
                {
                    assert!(rule.modes().contains(&policy.mode()), "rule reported must be active");
                }
                decided += 1;
                allowed += usize::from(got.is_allow());
            }
        }
    }
    assert!(
        decided > 20_000 && allowed > 1_000,
        "weak generator: {decided} decided, {allowed} allowed"
    );
}

#[test]
fn admission_never_admits_a_special_address_without_a_rule() {
    let policy = Policy::from_toml_str("version = 1\n[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\n").unwrap();
    let dest = Destination::parse_url("https://a.example/").unwrap();
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let v = rng.next();
        let addr: IpAddr = if v.is_multiple_of(2) {
            IpAddr::from((rng.next() as u32).to_be_bytes())
        } else {
            // Bias towards embeddings of IPv4 in IPv6.
            let v4 = rng.next() as u32;
            let prefix: u128 = *rng.pick(&[0xffff_u128 << 32, 0x64_ff9b_u128 << 96, 0, 0x2002_u128 << 112]);
            let bits = if prefix >> 112 == 0x2002 {
                prefix | (u128::from(v4) << 80)
            } else {
                prefix | u128::from(v4)
            };
            IpAddr::from(bits.to_be_bytes())
        };
        let admitted = !policy.admit(&dest, &[addr], &Context::now()).admitted().is_empty();
        assert_eq!(admitted, egress_policy_core::addr::is_public(addr), "{addr}");
        if let IpAddr::V6(v6) = addr {
            for inner in egress_policy_core::addr::embedded_ipv4(v6) {
                if !egress_policy_core::addr::is_public(IpAddr::V4(inner)) {
                    assert!(!admitted, "{addr} embeds {inner}");
                }
            }
        }
    }
}
