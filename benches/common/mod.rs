//! What more than one benchmark uses.

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
