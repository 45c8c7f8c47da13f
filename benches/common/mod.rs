//! What more than one benchmark uses. Each bench includes the whole module
//! and uses part of it.
#![allow(dead_code)]

/// `n` rules: 60% exact, 30% wildcard, 10% CIDR (distinct /24s in 10.0.0.0/8).
pub(crate) fn policy_text(n: usize) -> String {
    let mut s = String::with_capacity(n * 80);
    s.push_str("version = 1\nmode = \"sealed\"\n");
    for i in 0..n {
        s.push_str(&format!("[[allow]]\nid = \"r{i}\"\n"));
        match i % 10 {
            0..=5 => s.push_str(&format!("hosts = [\"svc{i}.team{}.example.com\"]\n", i % 97)),
            6..=8 => s.push_str(&format!("hosts = [\"*.cdn{i}.example.net\"]\n")),
            _ => s.push_str(&format!(
                "cidrs = [\"10.{}.{}.0/24\"]\nschemes = [\"https\"]\n",
                (i / 256) % 256,
                i % 256
            )),
        }
    }
    s
}

/// The median of `v` (the upper one of an even count); sorts `v`.
pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The smallest and largest of `v`.
pub(crate) fn range(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// The environment variable `name` parsed, or `default` when it is unset or
/// does not parse.
pub(crate) fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
