//! Connect-time admission: every IPv6 embedding of a special-purpose IPv4 address
//! is refused exactly as the IPv4 address is; the IPv4-mapped form is the IPv4
//! address both ways.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use egress_policy_core::addr::is_public;
use egress_policy_core::{Context, Destination, Policy};
use libfuzzer_sys::fuzz_target;

fn policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::from_toml_str("version = 1\n[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\n").expect("policy"))
}

fn embeddings(v4: Ipv4Addr, extra: u64) -> Vec<Ipv6Addr> {
    let b = u32::from(v4);
    let o = v4.octets();
    vec![
        v4.to_ipv6_mapped(),
        Ipv6Addr::from((0xffff_0000_u128 << 32) | u128::from(b)), // IPv4-translated
        Ipv6Addr::from(u128::from(b)),                              // IPv4-compatible
        Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(b)),   // NAT64 well-known
        Ipv6Addr::new(0x64, 0xff9b, 1, u16::from_be_bytes([o[0], o[1]]), u16::from_be_bytes([0, o[2]]), u16::from_be_bytes([o[3], 0]), 0, 0),
        Ipv6Addr::from((0x2002_u128 << 112) | (u128::from(b) << 80) | u128::from(extra & 0xffff_ffff_ffff)), // 6to4
        Ipv6Addr::from((0x2001_0000_u128 << 96) | (u128::from(b) << 64) | u128::from(extra as u32)),      // Teredo server
        Ipv6Addr::from((0x2001_0000_u128 << 96) | (u128::from(extra >> 32) << 32) | u128::from(!b)),     // Teredo client
    ]
}

fuzz_target!(|input: (u32, u64)| {
    let v4 = Ipv4Addr::from(input.0);
    let special = !is_public(IpAddr::V4(v4));
    let dest = Destination::parse_url("https://a.example/").expect("dest");
    let cx = Context::now();
    let admitted_v4 = !policy().admit(&dest, &[IpAddr::V4(v4)], &cx).admitted().is_empty();
    assert_eq!(admitted_v4, !special);
    for (i, v6) in embeddings(v4, input.1).into_iter().enumerate() {
        let admitted = !policy().admit(&dest, &[IpAddr::V6(v6)], &cx).admitted().is_empty();
        if special {
            assert!(!admitted, "{v6} (embedding {i} of special {v4}) was admitted");
        }
        if i == 0 {
            assert_eq!(admitted, admitted_v4, "mapped {v6} differs from {v4}");
        }
    }
});
