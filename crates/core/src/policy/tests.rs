//! Unit tests of decisions and admission (the file-level cases are in `testdata/`).

use super::*;
use std::time::SystemTime;

fn policy(src: &str) -> Policy {
    Policy::from_toml_str(src).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn digest_ignores_formatting_order_and_format() {
    let a = policy(
        r#"version = 1
mode = "sealed"
[[allow]]
id = "b"
hosts = ["b.example", "a.example"]
owner = "x"
[[allow]]
id = "a"
cidrs = ["10.0.0.0/8"]
"#,
    );
    let b = policy(
        r#"# a comment
[[allow]]
owner = "x"
hosts = [ "a.example",
  "b.example" ]   # reordered
id = "b"

[[allow]]
cidrs = ["10.0.0.0/8"]
id = "a"

"#
        .replace("[[allow]]\nowner", "version = 1\nmode = 'sealed'\n[[allow]]\nowner")
        .as_str(),
    );
    assert_eq!(a.digest(), b.digest());
    let json = Policy::from_str_format(
        r#"{"allow": [{"id": "a", "cidrs": ["10.0.0.0/8"]}, {"id": "b", "hosts": ["a.example", "b.example"], "owner": "x"}], "version": 1}"#,
        Format::Json,
    )
    .unwrap();
    assert_eq!(a.digest(), json.digest());
    let c = policy(
        "version = 1\n[[allow]]\nid = \"b\"\nhosts = [\"a.example\", \"b.example\"]\nowner = \"y\"\n[[allow]]\nid = \"a\"\ncidrs = [\"10.0.0.0/8\"]\n",
    );
    assert_ne!(a.digest(), c.digest(), "metadata is part of the identity");
    assert!(a.digest().to_string().starts_with("sha256:"));
    assert_eq!(a.digest().to_string().len(), 7 + 64);
}

#[test]
fn expiry_uses_the_given_instant() {
    let p = policy("version = 1\n[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nexpires = \"2027-01-31\"\n");
    let dest = Destination::parse_url("https://a.example/").unwrap();
    let at = |s: &str| Context::at(crate::time::parse_instant(s).unwrap());
    assert!(p.decide_with(&dest, &at("2027-01-31T23:59:59Z")).is_allow());
    let d = p.decide_with(&dest, &at("2027-02-01T00:00:00Z"));
    assert_eq!(d.reason(), Reason::RuleExpired);
    assert_eq!(d.rule().unwrap().id(), "a");
    let _ = SystemTime::now();
}

#[test]
fn most_specific_rule_wins_then_id() {
    let p = policy(
        "version = 1\n[[allow]]\nid = \"a-wild\"\nhosts = [\"*.example.com\"]\n[[allow]]\nid = \"z-exact\"\nhosts = [\"api.example.com\"]\n",
    );
    assert_eq!(p.decide_url("https://api.example.com/").rule().unwrap().id(), "z-exact");
    assert_eq!(p.decide_url("https://www.example.com/").rule().unwrap().id(), "a-wild");
}
