//! Rule ids and client names: `[a-z0-9][a-z0-9_.-]*`.

pub(crate) fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
}

/// A valid rule id (`[a-z0-9][a-z0-9_.-]*`) made from `raw`: lower-cased, other
/// characters replaced by `-`, leading separators dropped; `None` when nothing
/// is left. For tools that generate policies (and the loader's fix hints).
///
/// ```
/// assert_eq!(egress_policy_core::rule_id_from("Payments API v2").as_deref(), Some("payments-api-v2"));
/// assert_eq!(egress_policy_core::rule_id_from("--"), None);
/// ```
pub fn rule_id_from(raw: &str) -> Option<String> {
    let fixed: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let fixed = fixed.trim_start_matches(['_', '.', '-']).to_string();
    valid_id(&fixed).then_some(fixed)
}

pub(super) fn id_fix(id: &str) -> Option<String> {
    rule_id_from(id).map(|fixed| format!("write `{fixed}`"))
}
