//! Policy loading from arbitrary bytes (TOML, JSON or YAML, chosen by the first
//! byte): never panics; whatever loads re-serialises (`to_toml`) and re-loads to
//! the same digest.
#![no_main]

use egress_policy_core::{Format, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(src) = std::str::from_utf8(rest) else { return };
    let format = match selector % 3 {
        0 => Format::Toml,
        1 => Format::Json,
        _ => Format::Yaml,
    };
    match Policy::from_str_format(src, format) {
        Ok(policy) => {
            let text = policy.to_toml();
            let again = Policy::from_toml_str(&text).unwrap_or_else(|e| panic!("re-serialised policy does not load: {e}\n{text}"));
            assert_eq!(policy.digest(), again.digest(), "digest changed through to_toml:\n{text}");
            assert_eq!(again.to_toml(), text, "to_toml is not stable");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
