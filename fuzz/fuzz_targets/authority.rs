//! `Destination::from_authority` (with its fast path for canonical authorities)
//! against the WHATWG parser on `scheme://authority/`: the same destination,
//! or both refuse.
#![no_main]

use egress_policy_core::Destination;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(authority) = std::str::from_utf8(rest) else { return };
    let scheme = ["http", "https", "ws", "HTTP"][usize::from(selector % 4)];
    let fast = Destination::from_authority(scheme, authority);
    if authority.contains(['/', '\\', '?', '#']) {
        assert!(fast.is_err(), "{scheme} {authority:?}: an authority with a path, query or fragment was read");
        return;
    }
    let full = Destination::parse_url(&format!("{scheme}://{authority}/"));
    assert_eq!(fast.ok(), full.ok(), "{scheme}://{authority}/");
});
