//! Differential matching: a structured policy and destination, decided by the
//! compiled matcher and by the naive reference (`reference.rs`, straight from
//! `egress_policy_core::docs::matching`). Any disagreement is a bug in one of them.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use arbitrary::Arbitrary;
use egress_policy_core::{Context, Destination, Policy};
use libfuzzer_sys::fuzz_target;

#[path = "../reference.rs"]
mod reference;

const LABELS: &[&str] = &["a", "b", "api", "cdn", "x", "example", "com", "xn--bcher-kva"];
const SCHEMES: &[&str] = &["http", "https", "ws", "wss", "tcp", "udp"];
const CIDRS: &[&str] = &["10.0.0.0/8", "10.1.0.0/16", "127.0.0.1/32", "192.0.2.0/24", "2001:db8::/32", "::ffff:10.2.0.0/112", "0.0.0.0/0", "::/0", "169.254.169.254/32"];
const IPS: &[&str] = &["10.1.2.3", "127.0.0.1", "192.0.2.9", "[2001:db8::1]", "[::ffff:10.2.0.5]", "8.8.8.8", "0x7f.1", "[::1]", "169.254.169.254", "[64:ff9b::a9fe:a9fe]"];
const PORTS: &[&str] = &["", "ports = \"any\"\n", "ports = [443, \"8000-8099\"]\n", "ports = [80]\n", "ports = [\"1-1024\"]\n"];

#[derive(Arbitrary, Debug)]
struct Name {
    labels: Vec<u8>,
}

impl Name {
    fn render(&self) -> String {
        let labels: Vec<&str> = self.labels.iter().take(4).map(|&i| LABELS[i as usize % LABELS.len()]).collect();
        if labels.is_empty() { "example".into() } else { labels.join(".") }
    }
}

#[derive(Arbitrary, Debug)]
struct RuleSpec {
    deny: bool,
    hosts: Vec<(bool, Name)>,
    cidrs: Vec<u8>,
    schemes: u8,
    ports: u8,
    constrained_only: bool,
    client: Option<bool>,
    expired: bool,
    tcp_ports: bool,
}

#[derive(Arbitrary, Debug)]
enum DestHost {
    Name { name: Name, trailing_dots: u8, star: bool, upper: bool },
    Ip(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    mode: u8,
    floor: bool,
    rules: Vec<RuleSpec>,
    scheme: u8,
    host: DestHost,
    port: Option<u16>,
    client: Option<bool>,
}

fn render(input: &Input) -> String {
    let mode = ["sealed", "constrained", "open"][input.mode as usize % 3];
    let mut out = format!("version = 1\nmode = \"{mode}\"\nfloor = {}\n", input.floor);
    for (i, r) in input.rules.iter().take(8).enumerate() {
        out.push_str(if r.deny { "[[deny]]\n" } else { "[[allow]]\n" });
        out.push_str(&format!("id = \"r{i}\"\n"));
        let hosts: Vec<String> = r.hosts.iter().take(3).map(|(w, n)| if *w { format!("\"*.{}\"", n.render()) } else { format!("\"{}\"", n.render()) }).collect();
        let cidrs: Vec<String> = r.cidrs.iter().take(2).map(|&c| format!("\"{}\"", CIDRS[c as usize % CIDRS.len()])).collect();
        if hosts.is_empty() && cidrs.is_empty() {
            out.push_str("hosts = [\"example\"]\n");
        }
        if !hosts.is_empty() {
            out.push_str(&format!("hosts = [{}]\n", hosts.join(", ")));
        }
        if !cidrs.is_empty() {
            out.push_str(&format!("cidrs = [{}]\n", cidrs.join(", ")));
        }
        let schemes: Vec<String> = (0..6).filter(|b| r.schemes & (1 << b) != 0).map(|b| format!("\"{}\"", SCHEMES[b])).collect();
        let has_transport = schemes.iter().any(|s| s.contains("tcp") || s.contains("udp"));
        if !schemes.is_empty() {
            out.push_str(&format!("schemes = [{}]\n", schemes.join(", ")));
        }
        let ports = PORTS[r.ports as usize % PORTS.len()];
        if ports.is_empty() && has_transport && !r.deny {
            out.push_str(if r.tcp_ports { "ports = [5432]\n" } else { "ports = \"any\"\n" });
        } else {
            out.push_str(ports);
        }
        if !r.deny {
            if r.constrained_only {
                out.push_str("modes = [\"constrained\"]\n");
            }
            if let Some(b) = r.client {
                out.push_str(if b { "clients = [\"billing\"]\n" } else { "clients = [\"webhooks\"]\n" });
            }
        }
        if r.expired {
            out.push_str("expires = \"2026-01-01\"\n");
        }
    }
    out
}

fn url(input: &Input) -> String {
    let scheme = SCHEMES[input.scheme as usize % SCHEMES.len()];
    let host = match &input.host {
        DestHost::Ip(i) => IPS[*i as usize % IPS.len()].to_string(),
        DestHost::Name { name, trailing_dots, star, upper } => {
            let mut h = name.render();
            if *star {
                h = format!("*.{h}");
            }
            if *upper {
                h = h.to_uppercase();
            }
            h + &".".repeat(*trailing_dots as usize % 3)
        }
    };
    match input.port {
        Some(p) => format!("{scheme}://{host}:{p}/"),
        None => format!("{scheme}://{host}/"),
    }
}

fuzz_target!(|input: Input| {
    let src = render(&input);
    let policy = Policy::from_toml_str(&src).unwrap_or_else(|e| panic!("generated policy must load: {e}\n{src}"));
    let Ok(dest) = Destination::parse_url(&url(&input)) else { return };
    let now = UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    let client = input.client.map(|b| if b { "billing" } else { "webhooks" });
    let got = policy.decide_with(&dest, &Context::at(now).with_client(client));
    let want = reference::reference(&policy, &dest, client, now);
    assert_eq!((got.verdict(), got.reason()), want, "{dest}\n{src}");
});
