//! Destination parsing and normalisation: never panics; the canonical host is a
//! fixed point; and it agrees with `url::Url::parse` on the host.
#![no_main]

use egress_policy_core::addr::canonical_ip;
use egress_policy_core::{Destination, Host};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Ok(dest) = Destination::parse_url(input) else { return };
    let shown = dest.to_string();
    assert!(!shown.contains('@') && !shown.contains('?') && !shown.contains('#'), "Display leaks: {shown}");

    // Fixed point. One trailing dot is removed per normalisation by definition, so a
    // name that still ends in a dot (the input had two) is not re-normalised.
    match dest.host() {
        Host::Name(name) if !name.ends_with('.') => {
            assert_eq!(Host::parse(name).as_ref(), Ok(dest.host()), "canonical name {name:?} is not a fixed point");
        }
        Host::Ip(ip) => {
            assert_eq!(Host::parse(&dest.host().to_string()).as_ref(), Ok(dest.host()), "address {ip} is not a fixed point");
        }
        Host::Name(_) => {}
    }

    // Agreement with the url crate, which reqwest and hyper users parse with.
    let url = url::Url::parse(input).expect("Destination parsed what url did not");
    if matches!(url.scheme(), "http" | "https" | "ws" | "wss") {
        match (url.host().expect("host"), dest.host()) {
            (url::Host::Domain(d), Host::Name(n)) => assert_eq!(d.strip_suffix('.').unwrap_or(d), &**n),
            (url::Host::Ipv4(a), Host::Ip(b)) => assert_eq!(std::net::IpAddr::V4(a), *b),
            (url::Host::Ipv6(a), Host::Ip(b)) => assert_eq!(canonical_ip(std::net::IpAddr::V6(a)), *b),
            (u, ours) => panic!("host kinds differ: url {u:?}, ours {ours:?}"),
        }
        assert_eq!(url.port_or_known_default(), Some(dest.port()));
    }
});
