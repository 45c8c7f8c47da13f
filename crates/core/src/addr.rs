//! Addresses: their canonical form, the IPv4 addresses embedded in IPv6 ones,
//! and the special-purpose table behind the private floor
//! ([`docs::admission`](crate::docs::admission)).
//!
//! ```
//! use std::net::IpAddr;
//! use egress_policy_core::addr::{embedded_ipv4, is_public, special_purpose};
//!
//! let nat64: IpAddr = "64:ff9b::a9fe:a9fe".parse().unwrap();
//! assert!(!is_public(nat64)); // NAT64 of 169.254.169.254
//! let IpAddr::V6(v6) = nat64 else { unreachable!() };
//! assert_eq!(embedded_ipv4(v6), ["169.254.169.254".parse::<std::net::Ipv4Addr>().unwrap()]);
//! assert!(special_purpose("10.1.2.3".parse().unwrap()).is_some());
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net};

use crate::invalid::Invalid;

/// The canonical form of an address for matching: IPv4-mapped IPv6
/// (`::ffff:a.b.c.d`) is the IPv4 address; every other address is itself.
///
/// No other embedding is unwrapped here: for **allow** rules NAT64, 6to4, Teredo,
/// ISATAP and IPv4-compatible addresses are plain IPv6 and need an IPv6 rule.
/// Deny rules and the private floor look further, through [`embedded_ipv4`].
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The canonical form of a network: an IPv4-mapped IPv6 network of prefix ≥ 96
/// (`::ffff:10.0.0.0/104`) is the IPv4 network (`10.0.0.0/8`).
pub(crate) fn canonical_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && let Ok(n) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(n);
    }
    net
}

/// The cloud metadata and platform addresses the special-purpose table names:
/// AWS/GCP/Azure/OpenStack instance metadata (`169.254.169.254`, and
/// `fd00:ec2::254` on AWS IPv6), ECS task credentials (`169.254.170.2`),
/// Alibaba Cloud (`100.100.100.200`), Oracle Cloud (`192.0.0.192`) and Azure's
/// WireServer (`168.63.129.16`). They hand out the instance's credentials: an
/// allow rule reaching them turns any SSRF into credential theft.
pub const METADATA_ADDRESSES: [IpAddr; 6] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(169, 254, 170, 2)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V4(Ipv4Addr::new(192, 0, 0, 192)),
    IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// Whether `ip` is one of [`METADATA_ADDRESSES`], directly or embedded in an
/// IPv6 address (`64:ff9b::a9fe:a9fe` is `169.254.169.254`), as the floor reads
/// addresses.
///
/// ```
/// use egress_policy_core::addr::is_metadata;
/// assert!(is_metadata("169.254.169.254".parse()?));
/// assert!(is_metadata("64:ff9b::a9fe:a9fe".parse()?));
/// assert!(!is_metadata("169.254.1.1".parse()?));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn is_metadata(ip: IpAddr) -> bool {
    let ip = canonical_ip(ip);
    METADATA_ADDRESSES.contains(&ip)
        || matches!(ip, IpAddr::V6(v6) if embedded_ipv4(v6).into_iter().any(|v4| METADATA_ADDRESSES.contains(&IpAddr::V4(v4))))
}

/// Why an address is not public unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpecialRange {
    /// The special-purpose block, e.g. `127.0.0.0/8`.
    pub network: &'static str,
    /// What the block is, e.g. `loopback`.
    pub name: &'static str,
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// IPv4 special-purpose blocks (IANA IPv4 Special-Purpose Address Registry, plus
/// multicast, reserved and cloud metadata addresses). Most specific first, so the
/// name reported is the most useful one.
const V4_SPECIAL: &[(u32, u8, &str, &str)] = &[
    (v4(169, 254, 169, 254), 32, "169.254.169.254/32", "cloud metadata service"),
    (
        v4(169, 254, 170, 2),
        32,
        "169.254.170.2/32",
        "cloud metadata service (ECS task credentials)",
    ),
    (
        v4(100, 100, 100, 200),
        32,
        "100.100.100.200/32",
        "cloud metadata service (Alibaba Cloud)",
    ),
    (v4(192, 0, 0, 192), 32, "192.0.0.192/32", "cloud metadata service (Oracle Cloud)"),
    (
        v4(168, 63, 129, 16),
        32,
        "168.63.129.16/32",
        "cloud platform endpoint (Azure WireServer)",
    ),
    (v4(255, 255, 255, 255), 32, "255.255.255.255/32", "limited broadcast"),
    (v4(0, 0, 0, 0), 8, "0.0.0.0/8", "this network / unspecified"),
    (v4(10, 0, 0, 0), 8, "10.0.0.0/8", "private use (RFC 1918)"),
    (v4(100, 64, 0, 0), 10, "100.64.0.0/10", "shared address space (CGNAT)"),
    (v4(127, 0, 0, 0), 8, "127.0.0.0/8", "loopback"),
    (v4(169, 254, 0, 0), 16, "169.254.0.0/16", "link-local"),
    (v4(172, 16, 0, 0), 12, "172.16.0.0/12", "private use (RFC 1918)"),
    (v4(192, 0, 0, 0), 24, "192.0.0.0/24", "IETF protocol assignments"),
    (v4(192, 0, 2, 0), 24, "192.0.2.0/24", "documentation (TEST-NET-1)"),
    (v4(192, 31, 196, 0), 24, "192.31.196.0/24", "AS112-v4"),
    (v4(192, 52, 193, 0), 24, "192.52.193.0/24", "AMT"),
    (v4(192, 88, 99, 0), 24, "192.88.99.0/24", "deprecated 6to4 relay anycast"),
    (v4(192, 168, 0, 0), 16, "192.168.0.0/16", "private use (RFC 1918)"),
    (v4(192, 175, 48, 0), 24, "192.175.48.0/24", "direct delegation AS112 service"),
    (v4(198, 18, 0, 0), 15, "198.18.0.0/15", "benchmarking"),
    (v4(198, 51, 100, 0), 24, "198.51.100.0/24", "documentation (TEST-NET-2)"),
    (v4(203, 0, 113, 0), 24, "203.0.113.0/24", "documentation (TEST-NET-3)"),
    (v4(224, 0, 0, 0), 4, "224.0.0.0/4", "multicast"),
    (v4(240, 0, 0, 0), 4, "240.0.0.0/4", "reserved"),
];

/// IPv6 special-purpose blocks that are not embeddings of IPv4 (those are
/// unwrapped and judged by the IPv4 table).
const V6_SPECIAL: &[(u128, u8, &str, &str)] = &[
    (
        0xfd00_0ec2_0000_0000_0000_0000_0000_0254,
        128,
        "fd00:ec2::254/128",
        "cloud metadata service (AWS IPv6)",
    ),
    (0, 128, "::/128", "unspecified"),
    (1, 128, "::1/128", "loopback"),
    (
        0x0064_ff9b_0001_0000_0000_0000_0000_0000,
        48,
        "64:ff9b:1::/48",
        "local-use IPv4/IPv6 translation",
    ),
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64, "100::/64", "discard-only"),
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32, "2001:db8::/32", "documentation"),
    (
        0x2001_0000_0000_0000_0000_0000_0000_0000,
        23,
        "2001::/23",
        "IETF protocol assignments",
    ),
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20, "3fff::/20", "documentation"),
    (
        0x5f00_0000_0000_0000_0000_0000_0000_0000,
        16,
        "5f00::/16",
        "segment routing (SRv6) SIDs",
    ),
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, "fc00::/7", "unique local (ULA)"),
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, "fe80::/10", "link-local"),
    (
        0xfec0_0000_0000_0000_0000_0000_0000_0000,
        10,
        "fec0::/10",
        "site-local (deprecated)",
    ),
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, "ff00::/8", "multicast"),
];

fn v4_special(ip: Ipv4Addr) -> Option<SpecialRange> {
    let bits = u32::from(ip);
    V4_SPECIAL.iter().find_map(|&(net, len, network, name)| {
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        (bits & mask == net).then_some(SpecialRange { network, name })
    })
}

fn v6_special(ip: Ipv6Addr) -> Option<SpecialRange> {
    let bits = u128::from(ip);
    V6_SPECIAL.iter().find_map(|&(net, len, network, name)| {
        let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
        (bits & mask == net).then_some(SpecialRange { network, name })
    })
}

/// Every IPv4 address embedded in an IPv6 address by a known mechanism:
/// IPv4-mapped (`::ffff:0:0/96`), IPv4-translated (`::ffff:0:0:0/96`),
/// IPv4-compatible (`::/96`), NAT64 (`64:ff9b::/96` and `64:ff9b:1::/48` with the
/// RFC 6052 layouts), 6to4 (`2002::/16`), Teredo (`2001::/32`, server and
/// obfuscated client) and ISATAP (interface identifier `0:5efe:a.b.c.d` or
/// `200:5efe:a.b.c.d` under any prefix).
///
/// Deny rules and the private floor judge an IPv6 address by itself **and** by
/// every address returned here, so `64:ff9b::a9fe:a9fe` is denied by a deny rule
/// on `169.254.169.254/32`.
///
/// ```
/// use egress_policy_core::addr::embedded_ipv4;
/// let inner = embedded_ipv4("fe80::5efe:a9fe:a9fe".parse()?);
/// assert!(inner.contains(&"169.254.169.254".parse()?));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn embedded_ipv4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let bits = u128::from(ip);
    let seg = ip.segments();
    let low32 = Ipv4Addr::from(bits as u32);
    let mut out = Vec::new();
    if bits >> 32 == 0xffff {
        out.push(low32); // ::ffff:a.b.c.d
    }
    if bits >> 32 == 0xffff_0000 {
        out.push(low32); // ::ffff:0:a.b.c.d
    }
    if bits >> 32 == 0 && bits > 1 {
        out.push(low32); // ::a.b.c.d (deprecated IPv4-compatible)
    }
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        out.push(low32); // 64:ff9b::a.b.c.d
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 0x0001 {
        // Local-use NAT64 prefix /48: RFC 6052 puts the IPv4 address in bits 48..88
        // around the reserved octet (bits 64..72); a /96 layout puts it at the end.
        let b = ip.octets();
        out.push(Ipv4Addr::new(b[6], b[7], b[9], b[10]));
        out.push(low32);
    }
    if seg[0] == 0x2002 {
        out.push(Ipv4Addr::from(((seg[1] as u32) << 16) | seg[2] as u32)); // 6to4
    }
    if seg[0] == 0x2001 && seg[1] == 0 {
        // Teredo: server in bits 32..64, client obfuscated (inverted) in the low 32.
        out.push(Ipv4Addr::from(((seg[2] as u32) << 16) | seg[3] as u32));
        out.push(Ipv4Addr::from(!(bits as u32)));
    }
    if seg[4] & 0xfcff == 0 && seg[5] == 0x5efe {
        // ISATAP (RFC 5214): the interface identifier is `[0|200]:5efe:a.b.c.d`
        // (the universal/local and group bits may be set), under any prefix.
        out.push(low32);
    }
    out
}

/// Whether an address is outside public unicast space, and why (the table is in [`docs::admission`](crate::docs::admission)).
///
/// For IPv6, every embedding of IPv4 is unwrapped: `64:ff9b::7f00:1` holds
/// `127.0.0.1` and is reported as loopback.
pub fn special_purpose(ip: IpAddr) -> Option<SpecialRange> {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => v4_special(v4),
        IpAddr::V6(v6) => {
            for inner in embedded_ipv4(v6) {
                if let Some(range) = v4_special(inner) {
                    return Some(range);
                }
            }
            v6_special(v6)
        }
    }
}

/// The special-purpose table as networks, for a network layer that cannot run
/// [`is_public`] (a firewall, a Kubernetes `ipBlock`'s `except`): every IPv4 and
/// IPv6 block, every IPv4 block's NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`)
/// embedding, and the whole IPv4-mapped, -translated and -compatible `/96`s.
/// Teredo (`2001::/32`) and the local NAT64 prefix are inside IPv6 blocks.
///
/// Every address in these networks is not public, except inside the whole
/// IPv4-mapped, -translated and -compatible `/96`s, listed entire (their
/// public forms too) since no such address is a destination on the wire.
/// Every address outside them is public except ISATAP addresses (interface
/// identifier `0:5efe:a.b.c.d` under any prefix), which no prefix can
/// describe. Sorted and aggregated, IPv4 first.
///
/// ```
/// use egress_policy_core::addr::special_purpose_networks;
/// let nets = special_purpose_networks();
/// assert!(nets.contains(&"10.0.0.0/8".parse().unwrap()));
/// assert!(nets.contains(&"64:ff9b::a9fe:0/112".parse().unwrap())); // NAT64 of 169.254.0.0/16
/// ```
pub fn special_purpose_networks() -> Vec<IpNet> {
    let mut out: Vec<IpNet> = Vec::new();
    for &(net, len, _, _) in V4_SPECIAL {
        out.push(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(net), len).expect("table prefix")));
        let nat64 = (0x0064_ff9b_u128 << 96) | u128::from(net);
        let six_to_four = (0x2002_u128 << 112) | (u128::from(net) << 80);
        for (bits, plen) in [(nat64, 96 + len), (six_to_four, 16 + len)] {
            out.push(IpNet::V6(
                ipnet::Ipv6Net::new(Ipv6Addr::from(bits), plen).expect("embedding prefix"),
            ));
        }
    }
    for (bits, plen) in [(0xffff_u128 << 32, 96), (0xffff_u128 << 48, 96), (0, 96)] {
        out.push(IpNet::V6(
            ipnet::Ipv6Net::new(Ipv6Addr::from(bits), plen).expect("embedding prefix"),
        ));
    }
    for &(net, len, _, _) in V6_SPECIAL {
        out.push(IpNet::V6(ipnet::Ipv6Net::new(Ipv6Addr::from(net), len).expect("table prefix")));
    }
    out.sort();
    IpNet::aggregate(&out)
}

/// Whether an address is public unicast: not in any special-purpose block,
/// embeddings unwrapped.
pub fn is_public(ip: IpAddr) -> bool {
    special_purpose(ip).is_none()
}

/// Whether `net` contains `ip`, both canonical (mapped IPv6 read as IPv4).
pub(crate) fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    canonical_net(*net).contains(&canonical_ip(ip))
}

/// Parses a CIDR strictly: host bits set is an error naming the network meant.
/// A bare address is read as a single-address network (`/32`, `/128`).
pub(crate) fn parse_cidr(raw: &str) -> Result<IpNet, Invalid> {
    let net: IpNet = match raw.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => match raw.parse::<IpAddr>() {
            Ok(ip) => IpNet::from(ip),
            Err(_) => {
                return Err(Invalid::new(format!(
                    "`{raw}` is not a CIDR (`203.0.113.0/24`, `2001:db8::/32`) or an address"
                )));
            }
        },
    };
    if net.trunc() != net {
        let fix = net.trunc();
        return Err(Invalid::new(format!("`{raw}` has host bits set")).fix(format!("did you mean `{fix}`?")));
    }
    Ok(canonical_net(net))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_table() {
        let special = [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "169.254.170.2",
            "100.100.100.200",
            "192.0.0.192",
            "168.63.129.16",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:0:7f00:1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "100::1",
            "3fff::1",
            "2a00:1450::5efe:7f00:1",
            "2a00:1450::200:5efe:a9fe:a9fe",
            "::5efe:a00:1",
        ];
        for s in special {
            assert!(!is_public(ip(s)), "{s} should be special");
        }
        let public = [
            "93.184.216.34",
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700::1111",
            "2a00:1450::5efe:808:808",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ];
        for s in public {
            assert!(is_public(ip(s)), "{s} should be public: {:?}", special_purpose(ip(s)));
        }
        assert_eq!(special_purpose(ip("64:ff9b::7f00:1")).unwrap().name, "loopback");
        assert_eq!(special_purpose(ip("169.254.169.254")).unwrap().name, "cloud metadata service");
    }

    #[test]
    fn metadata_addresses_are_in_the_table() {
        for m in METADATA_ADDRESSES {
            let range = special_purpose(m).unwrap_or_else(|| panic!("{m}"));
            assert!(range.name.starts_with("cloud"), "{m}: {}", range.name);
        }
    }

    #[test]
    fn teredo_client_is_unwrapped() {
        // Teredo client 127.0.0.1 obfuscated: !0x7f000001 = 0x80fffffe.
        assert!(embedded_ipv4(ip("2001:0:102:304::80ff:fffe").try_into_v6()).contains(&Ipv4Addr::LOCALHOST));
    }

    trait V6 {
        fn try_into_v6(self) -> Ipv6Addr;
    }
    impl V6 for IpAddr {
        fn try_into_v6(self) -> Ipv6Addr {
            match self {
                IpAddr::V6(v6) => v6,
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            }
        }
    }

    #[test]
    fn strict_cidrs() {
        assert_eq!(parse_cidr("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        let Invalid { message: msg, fix } = parse_cidr("10.0.0.1/8").unwrap_err();
        assert!(msg.contains("host bits"), "{msg}");
        assert_eq!(fix.as_deref(), Some("did you mean `10.0.0.0/8`?"));
        assert_eq!(parse_cidr("::ffff:10.0.0.0/104").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("example.com").is_err());
    }
}
