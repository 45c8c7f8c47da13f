//! `addr::special_purpose_networks` (what network-layer exports except from
//! "public unicast") agrees with `addr::is_public` (what the process enforces)
//! on generated addresses biased to the special blocks and to every IPv6
//! embedding of IPv4. The only differences allowed are the documented ones:
//! the whole IPv4-mapped, -translated and -compatible /96s are excepted (public
//! addresses in them too), and ISATAP addresses cannot be described by prefixes.
//! `EGRESS_SPECIAL_SEED` picks another seed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the test failing

#[path = "../../../testdata/rng.rs"]
mod rng;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use egress_policy_core::addr::{is_public, special_purpose_networks};
use ipnet::IpNet;
use rng::Rng;

fn v4(rng: &mut Rng, nets: &[IpNet]) -> Ipv4Addr {
    if rng.chance(60) {
        // Inside (or just beside) one of the IPv4 blocks.
        let v4nets: Vec<_> = nets
            .iter()
            .filter_map(|n| if let IpNet::V4(n) = n { Some(*n) } else { None })
            .collect();
        let n = rng.pick(&v4nets);
        let host_bits = 32 - u32::from(n.prefix_len());
        let offset = if host_bits == 0 {
            0
        } else {
            (rng.next() as u32) & (u32::MAX >> (32 - host_bits))
        };
        let base = u32::from(n.network()).wrapping_add(offset);
        let nudge = [0u32, 0, 0, 1, u32::MAX][rng.below(5) as usize]; // ±1 steps off the edge
        Ipv4Addr::from(base.wrapping_add(nudge))
    } else {
        Ipv4Addr::from(rng.next() as u32)
    }
}

fn v6(rng: &mut Rng, nets: &[IpNet]) -> Ipv6Addr {
    let inner = u128::from(u32::from(v4(rng, nets)));
    let random = u128::from(rng.next()) << 64 | u128::from(rng.next());
    let bits = match rng.below(11) {
        0 => (0xffff << 32) | inner,                                                 // mapped
        1 => (0xffff << 48) | inner,                                                 // translated
        2 => inner,                                                                  // compatible
        3 => (0x0064_ff9b << 96) | inner,                                            // NAT64 well-known
        4 => (0x0064_ff9b_0001 << 80) | (random & ((1 << 80) - 1)),                  // NAT64 local
        5 => (0x2002 << 112) | (inner << 80) | (random & ((1 << 80) - 1)),           // 6to4
        6 => (0x2001_0000 << 96) | (inner << 64) | (random & 0xffff_ffff_ffff_ffff), // Teredo
        7 => (random & !((1 << 64) - 1)) | (0x5efe << 32) | inner,                   // ISATAP
        8 => {
            let v6nets: Vec<_> = nets
                .iter()
                .filter_map(|n| if let IpNet::V6(n) = n { Some(*n) } else { None })
                .collect();
            let n = rng.pick(&v6nets);
            let host_bits = 128 - u32::from(n.prefix_len());
            let offset = if host_bits == 0 {
                0
            } else {
                random & (u128::MAX >> (128 - host_bits))
            };
            let nudge = [0u128, 0, 1, u128::MAX][rng.below(4) as usize];
            (u128::from(n.network()) | offset).wrapping_add(nudge)
        }
        _ => random,
    };
    Ipv6Addr::from(bits)
}

fn isatap(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    seg[4] & 0xfcff == 0 && seg[5] == 0x5efe
}

fn whole_embedding_96(ip: Ipv6Addr) -> bool {
    let top = u128::from(ip) >> 32;
    top == 0xffff || top == 0xffff_0000 || top == 0
}

#[test]
fn the_networks_are_the_special_purpose_table() {
    let nets = special_purpose_networks();
    let seed = std::env::var("EGRESS_SPECIAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_5bec);
    let mut rng = Rng(seed);
    let (mut inside, mut outside) = (0, 0);
    for _ in 0..200_000 {
        let ip = if rng.chance(40) {
            IpAddr::V4(v4(&mut rng, &nets))
        } else {
            IpAddr::V6(v6(&mut rng, &nets))
        };
        let listed = nets.iter().any(|n| n.contains(&ip));
        let public = is_public(ip);
        if listed {
            inside += 1;
            let stricter = matches!(ip, IpAddr::V6(v6) if whole_embedding_96(v6));
            assert!(!public || stricter, "{ip} is listed but public (seed {seed})");
        } else {
            outside += 1;
            let unprefixable = matches!(ip, IpAddr::V6(v6) if isatap(v6));
            assert!(public || unprefixable, "{ip} is not public but not listed (seed {seed})");
        }
    }
    assert!(inside > 50_000 && outside > 50_000, "{inside} inside, {outside} outside");
}

#[test]
fn the_networks_are_aggregated_and_sorted() {
    let nets = special_purpose_networks();
    assert_eq!(IpNet::aggregate(&nets), nets);
    let mut sorted = nets.clone();
    sorted.sort();
    assert_eq!(sorted, nets);
    assert!(nets.contains(&"169.254.0.0/16".parse().unwrap()));
    assert!(nets.contains(&"2002:a9fe::/32".parse().unwrap()), "6to4 of 169.254.0.0/16");
    assert!(nets.contains(&"2001::/23".parse().unwrap()), "holds Teredo");
}
