//! Source positions of rules and fields (TOML only: its parser keeps spans).

use std::ops::Range;

use crate::model::RuleKind;

use super::ids::valid_id;

/// Finds the line of a rule field in the source (TOML only: its parser keeps spans).
pub(super) struct Locator<'a> {
    src: &'a str,
    rules: Vec<RuleSpans>,
}

/// One rule's spans: (kind, the rule, [(field, value, [element])]).
type RuleSpans = (RuleKind, Range<usize>, Vec<FieldSpans>);
type FieldSpans = (String, Range<usize>, Vec<Range<usize>>);

impl<'a> Locator<'a> {
    pub(super) fn none(src: &'a str) -> Self {
        Locator { src, rules: Vec::new() }
    }

    pub(super) fn toml(src: &'a str) -> Self {
        use toml::de::{DeTable, DeValue};
        let mut rules = Vec::new();
        if let Ok(doc) = DeTable::parse(src) {
            for (key, value) in doc.get_ref().iter() {
                let kind = match key.get_ref().as_ref() {
                    "allow" => RuleKind::Allow,
                    "deny" => RuleKind::Deny,
                    _ => continue,
                };
                let DeValue::Array(items) = value.get_ref() else { continue };
                for item in items.iter() {
                    let DeValue::Table(table) = item.get_ref() else { continue };
                    let mut fields = Vec::new();
                    for (k, v) in table.iter() {
                        let elems = match v.get_ref() {
                            DeValue::Array(a) => a.iter().map(|e| e.span()).collect(),
                            _ => Vec::new(),
                        };
                        fields.push((k.get_ref().to_string(), v.span(), elems));
                    }
                    rules.push((kind, item.span(), fields));
                }
            }
        }
        Locator { src, rules }
    }

    pub(super) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let before = &self.src[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    pub(super) fn rule_span(&self, kind: RuleKind, index: usize) -> Option<&RuleSpans> {
        self.rules.iter().filter(|r| r.0 == kind).nth(index)
    }

    /// The line and column of `field` (and element `elem`) of a rule; the rule's
    /// own line when the field is absent.
    pub(super) fn find(&self, kind: RuleKind, index: usize, field: Option<&str>, elem: Option<usize>) -> Option<(usize, usize)> {
        let (_, span, fields) = self.rule_span(kind, index)?;
        let offset = field
            .and_then(|name| fields.iter().find(|(k, _, _)| k == name))
            .map(|(_, vspan, elems)| elem.and_then(|i| elems.get(i)).unwrap_or(vspan).start)
            .unwrap_or(span.start);
        Some(self.line_col(offset))
    }

    /// The rule an offset falls in: the last rule starting at or before it (an
    /// array-of-tables item's span covers only its header, and TOML puts every
    /// table after the top-level keys).
    pub(super) fn rule_at(&self, offset: usize) -> Option<(RuleKind, usize)> {
        let mut counts = [0usize; 2];
        let mut found = None;
        let mut order: Vec<_> = self.rules.iter().collect();
        order.sort_by_key(|(_, span, _)| span.start);
        for (kind, span, _) in order {
            let slot = usize::from(*kind == RuleKind::Deny);
            if span.start <= offset {
                found = Some((*kind, counts[slot]));
            }
            counts[slot] += 1;
        }
        found
    }

    /// The id a rule is written with, when it is a valid one (to name the rule
    /// in a syntax error, before the rule was read).
    pub(super) fn rule_id(&self, kind: RuleKind, index: usize) -> Option<String> {
        let (_, _, fields) = self.rule_span(kind, index)?;
        let (_, span, _) = fields.iter().find(|(k, _, _)| k == "id")?;
        let text = self.src.get(span.clone())?;
        let id = text.trim().trim_matches('"').trim_matches('\'');
        valid_id(id).then(|| id.to_string())
    }
}
