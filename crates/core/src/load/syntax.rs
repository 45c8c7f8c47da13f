//! Errors of well-formedness: the parser's message, located, with a
//! did-you-mean for misspelled field names.

use super::error::{LoadError, LoadErrorKind, Problem, RuleLocation};
use super::locate::Locator;

fn syntax(p: Problem) -> LoadError {
    LoadError::new(LoadErrorKind::Syntax(p))
}

/// A JSON syntax or type error, at its line and column.
pub(super) fn json(e: &serde_json::Error) -> LoadError {
    syntax(Problem {
        line: (e.line() > 0).then_some(e.line()),
        column: (e.line() > 0).then_some(e.column()),
        rule: None,
        field: None,
        message: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
        fix: None,
    })
}

/// A YAML syntax or type error (its message carries the position).
pub(super) fn yaml(e: &serde_saphyr::Error) -> LoadError {
    syntax(Problem {
        line: None,
        column: None,
        rule: None,
        field: None,
        message: e.to_string(),
        fix: None,
    })
}

/// A TOML syntax or type error, at its line and column and in its rule, with a
/// did-you-mean for an unknown field.
pub(super) fn toml(src: &str, e: &toml::de::Error) -> LoadError {
    let locator = Locator::toml(src);
    let (line, column, rule) = match e.span() {
        Some(span) => {
            let (l, c) = locator.line_col(span.start);
            let rule = locator.rule_at(span.start).map(|(kind, index)| RuleLocation {
                kind,
                index,
                id: locator.rule_id(kind, index),
            });
            (Some(l), Some(c), rule)
        }
        None => (None, None, None),
    };
    let mut message = e.message().trim().to_string();
    let mut fix = None;
    if message.contains("invalid type: map") && message.contains("date") {
        message = "not a date".into();
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let name = rest.split(',').next().unwrap_or(rest).trim_matches('`').to_string();
        fix = suggest_field(&name, &message);
    }
    syntax(Problem {
        line,
        column,
        rule,
        field: None,
        message,
        fix,
    })
}

/// Suggests the closest field among those the deserializer expected.
fn suggest_field(name: &str, message: &str) -> Option<String> {
    let expected: Vec<&str> = message
        .split_once("expected")
        .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
        .unwrap_or_default();
    let singular = |s: &str| s.trim_end_matches('s').replace(['_', '-'], "");
    expected
        .iter()
        .map(|known| {
            let score = if singular(known) == singular(name) {
                0
            } else {
                edit_distance(known, name)
            };
            (score, *known)
        })
        .filter(|(score, _)| *score <= 2)
        .min()
        .map(|(_, known)| format!("did you mean `{known}`?"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
