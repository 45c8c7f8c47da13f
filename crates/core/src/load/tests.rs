//! The loader's own unit tests (the file-level cases are in `testdata/`).

use super::*;

fn problems(src: &str) -> Vec<String> {
    match parse(src, Format::Toml) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn errors_name_rule_field_line_and_fix() {
    let src = r#"version = 1
mode = "sealed"

[[allow]]
id = "payments-api"
hosts = ["api.payments.example", "Bücher.example"]
cidrs = ["10.0.0.1/8"]
"#;
    let got = problems(src);
    assert_eq!(
        got,
        vec![
            "line 6, column 34: rule `payments-api` (allow[0]), field `hosts[1]`: `Bücher.example`: not in canonical form (lower case, A-labels); write `xn--bcher-kva.example`",
            "line 7, column 10: rule `payments-api` (allow[0]), field `cidrs[0]`: `10.0.0.1/8` has host bits set; did you mean `10.0.0.0/8`?",
        ]
    );
}

#[test]
fn unknown_keys_are_errors() {
    let got = problems("version = 1\n[[allow]]\nid = \"a\"\nhost = [\"x.example\"]\n");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("line 4, column 1: rule `a` (allow[0]): unknown field `host`"),
        "{}",
        got[0]
    );
    assert!(got[0].ends_with("did you mean `hosts`?"), "{}", got[0]);
    let got = problems("version = 1\nmodee = \"open\"\n");
    assert!(
        got[0].contains("unknown field `modee`") && got[0].contains("did you mean `mode`?"),
        "{got:?}"
    );
}

#[test]
fn rule_constraints() {
    let cases: &[(&str, &str)] = &[
        ("[[allow]]\nhosts = [\"a.example\"]", "field `id`: missing"),
        ("[[allow]]\nid = \"Bad Id\"\nhosts = [\"a.example\"]", "write `bad-id`"),
        ("[[allow]]\nid = \"a\"", "at least one of `hosts` or `cidrs`"),
        (
            "[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nschemes = [\"tcp\"]",
            "`tcp` and `udp` have no default port",
        ),
        (
            "[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nschemes = [\"HTTPS\"]",
            "write `https`",
        ),
        ("[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nports = [0]", "out of range"),
        (
            "[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nports = [\"9000-8000\"]",
            "start after end",
        ),
        (
            "[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nmodes = [\"open\"]",
            "`open` is not a rule mode",
        ),
        (
            "[[allow]]\nid = \"a\"\ncidrs = [\"10.0.0.0/8\"]\nresolves_to = [\"10.0.0.0/8\"]",
            "only applies to name rules",
        ),
        (
            "[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nexpires = \"next week\"",
            "field `expires`",
        ),
        (
            "[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\n[[deny]]\nid = \"a\"\ncidrs = [\"10.0.0.0/8\"]",
            "duplicate rule id `a`",
        ),
        (
            "[[deny]]\nid = \"d\"\ncidrs = [\"10.0.0.0/8\"]\nmodes = [\"sealed\"]",
            "deny rules apply in every mode",
        ),
        (
            "[[deny]]\nid = \"d\"\ncidrs = [\"10.0.0.0/8\"]\nclients = [\"x\"]",
            "deny rules apply to every client",
        ),
        (
            "[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nowner = \" \"",
            "field `owner`: empty",
        ),
    ];
    for (body, want) in cases {
        let got = problems(&format!("version = 1\n{body}\n"));
        assert!(got.iter().any(|p| p.contains(want)), "{body}\nwant {want}\ngot {got:?}");
    }
    assert!(problems("version = 2\n")[0].contains("unsupported policy format version 2"));
}

#[test]
fn unquoted_toml_dates_are_read() {
    let parsed = parse(
        "version = 1\n[[allow]]\nid = \"a\"\nhosts = [\"a.example\"]\nexpires = 2027-01-31\n",
        Format::Toml,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.allow[0].expires().unwrap().to_rfc3339(), "2027-02-01T00:00:00Z");
}

#[test]
fn json_and_yaml_errors_have_context() {
    let e = parse("{\"version\": 1, \"allow\": [{\"id\": \"a\", \"hots\": []}]}", Format::Json).unwrap_err();
    assert!(e.to_string().contains("unknown field `hots`"), "{e}");
    let e = parse("version: 1\nallow:\n  - id: a\n    hosts: [\"Bücher.example\"]\n", Format::Yaml).unwrap_err();
    assert!(e.to_string().contains("write `xn--bcher-kva.example`"), "{e}");
}
