//! Loading: TOML, JSON and YAML into one raw model, then validation into a
//! [`Policy`](crate::Policy) with errors that say where and what to write instead.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::host::parse_pattern;
use crate::model::{Enforcement, Expiry, Mode, Ports, Rule, RuleKind, Scheme, SchemeSet};

/// A policy file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// TOML, the primary format.
    Toml,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl Format {
    /// The format a file name's extension names: `.toml`, `.json`, `.yaml`/`.yml`.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Toml),
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// Where in a policy a problem is: the rule (kind, index, id if known).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleLocation {
    /// `allow` or `deny`.
    pub kind: RuleKind,
    /// 0-based position among the file's rules of that kind.
    pub index: usize,
    /// The rule's id, when it has a readable one.
    pub id: Option<String>,
}

impl fmt::Display for RuleLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "rule `{id}` ({}[{}])", self.kind.as_str(), self.index),
            None => write!(f, "rule {}[{}]", self.kind.as_str(), self.index),
        }
    }
}

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// 1-based line, where the format gives one.
    pub line: Option<usize>,
    /// 1-based column, with `line`.
    pub column: Option<usize>,
    /// The rule, when the problem is inside one.
    pub rule: Option<RuleLocation>,
    /// The field, e.g. `hosts[1]` or `mode`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to write instead, when there is a clear answer.
    pub fix: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            match self.column {
                Some(col) => write!(f, "line {line}, column {col}: ")?,
                None => write!(f, "line {line}: ")?,
            }
        }
        if let Some(rule) = &self.rule {
            write!(f, "{rule}")?;
            if self.field.is_some() {
                f.write_str(", ")?;
            } else {
                f.write_str(": ")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "; {fix}")?;
        }
        Ok(())
    }
}

/// Why a policy did not load. Nothing is ever half-loaded: a `Policy` exists only
/// when its whole file is valid.
#[derive(Debug, thiserror::Error)]
pub struct LoadError {
    file: Option<PathBuf>,
    kind: Box<LoadErrorKind>,
}

/// The kind of [`LoadError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read.
    Io(std::io::Error),
    /// The file name does not say which format it is in.
    UnknownFormat,
    /// The file is not well-formed, has unknown keys or values of the wrong type.
    Syntax(Problem),
    /// The file is well-formed but its content is invalid: every problem found.
    Invalid(Vec<Problem>),
}

impl LoadError {
    pub(crate) fn new(kind: LoadErrorKind) -> Self {
        LoadError {
            file: None,
            kind: Box::new(kind),
        }
    }
    pub(crate) fn with_file(mut self, path: &Path) -> Self {
        self.file = Some(path.to_path_buf());
        self
    }
    /// A failure to read `path` (for loaders outside this crate, such as the
    /// file watcher refusing a file that kept changing while it was read).
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        LoadError::new(LoadErrorKind::Io(error)).with_file(path)
    }
    /// The file the error is about, when loaded from a file.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
    /// What went wrong.
    pub fn kind(&self) -> &LoadErrorKind {
        &self.kind
    }
    /// Every problem found (empty for I/O and format errors).
    pub fn problems(&self) -> &[Problem] {
        match &*self.kind {
            LoadErrorKind::Syntax(p) => std::slice::from_ref(p),
            LoadErrorKind::Invalid(ps) => ps,
            _ => &[],
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.as_ref().map(|p| p.display().to_string());
        let prefix = file.as_deref().unwrap_or("policy");
        match &*self.kind {
            LoadErrorKind::Io(e) => write!(f, "cannot read policy file `{prefix}`: {e}"),
            LoadErrorKind::UnknownFormat => write!(
                f,
                "cannot tell the format of `{prefix}`: name it `.toml`, `.json`, `.yaml` or `.yml`"
            ),
            LoadErrorKind::Syntax(p) => write!(f, "{prefix}: {p}"),
            LoadErrorKind::Invalid(problems) => {
                let n = problems.len();
                write!(f, "{prefix}: {n} problem{}", if n == 1 { "" } else { "s" })?;
                for p in problems {
                    write!(f, "\n  {prefix}: {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadErrorKind {}
impl fmt::Display for LoadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadErrorKind::Io(e) => write!(f, "{e}"),
            LoadErrorKind::UnknownFormat => f.write_str("unknown policy file format"),
            LoadErrorKind::Syntax(p) => write!(f, "{p}"),
            LoadErrorKind::Invalid(ps) => write!(f, "{} problems", ps.len()),
        }
    }
}

// ---------------------------------------------------------------------------
// Raw model, as written.

/// An egress-policy file (format version 1).
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(title = "egress-policy policy file"))]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    /// The file format version: 1.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1)))]
    version: i64,
    /// A free-form label for the deployment environment (e.g. `air-gapped-prod`);
    /// `validate` refuses non-sealed policies for environments marked sealed.
    #[serde(default)]
    environment: Option<String>,
    /// `sealed` (default), `constrained` or `open`.
    #[serde(default)]
    mode: Option<Mode>,
    /// `enforce` (default) or `observe`.
    #[serde(default)]
    enforcement: Option<Enforcement>,
    /// Open mode only: also refuse private and special-purpose addresses.
    #[serde(default)]
    floor: Option<bool>,
    /// Allow rules.
    #[serde(default)]
    allow: Vec<RawRule>,
    /// Deny rules: they win over allow rules in every mode.
    #[serde(default)]
    deny: Vec<RawRule>,
}

/// One allow or deny rule.
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRule {
    /// Unique id: `[a-z0-9][a-z0-9_.-]*`.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^[a-z0-9][a-z0-9_.-]*$")))]
    id: Option<String>,
    /// Canonical host names (`api.example.com`) and wildcards (`*.example.com`: any
    /// depth, never the apex). Write IDNs as A-labels (`xn--bcher-kva.example`).
    hosts: Option<Vec<String>>,
    /// Networks without host bits set (`203.0.113.0/24`, `2001:db8::/32`).
    cidrs: Option<Vec<String>>,
    /// Default `["https"]` (deny rules: every scheme).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::schemes"))]
    schemes: Option<Vec<String>>,
    /// Default: each scheme's default port (deny rules: every port). `"any"`, a
    /// port, a range `"8000-8099"`, or a list of those.
    ports: Option<RawPorts>,
    /// Allow rules: default `["sealed", "constrained"]`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::modes"))]
    modes: Option<Vec<String>>,
    /// Allow rules: only clients built for these names get the rule.
    clients: Option<Vec<String>>,
    /// Name rules: non-public ranges their names may resolve into.
    resolves_to: Option<Vec<String>>,
    /// Who owns the rule.
    owner: Option<String>,
    /// Why it exists.
    reason: Option<String>,
    /// The change ticket.
    ticket: Option<String>,
    /// A date (valid through that UTC day) or an RFC 3339 UTC instant.
    expires: Option<RawExpires>,
}

/// Hand-written schemas for the fields whose Rust type is more permissive than
/// the file format (the loader validates them in full either way).
#[cfg(feature = "schema")]
pub(crate) mod schema {
    use schemars::{Schema, SchemaGenerator, json_schema};

    pub(crate) fn schemes(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "array", "items": {"enum": ["http", "https", "ws", "wss", "tcp", "udp"]}, "minItems": 1})
    }

    pub(crate) fn modes(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "array", "items": {"enum": ["sealed", "constrained"]}, "minItems": 1})
    }

    impl schemars::JsonSchema for super::RawPorts {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Ports".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            let port = json_schema!({"oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"type": "string", "pattern": "^[0-9]{1,5}(-[0-9]{1,5})?$"}
            ]});
            json_schema!({
                "description": "\"any\", a port, a range like \"8000-8099\", or a list of those",
                "oneOf": [
                    {"const": "any"},
                    port,
                    {"type": "array", "items": port, "minItems": 1}
                ]
            })
        }
    }

    impl schemars::JsonSchema for super::RawExpires {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Expiry".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A date (valid through that UTC day) or an RFC 3339 UTC instant",
                "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|\\+00:00))?$"
            })
        }
    }

    /// The JSON Schema of the policy file format.
    pub(crate) fn policy_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(super::RawPolicy)).unwrap_or_default()
    }
}

enum RawPorts {
    Any,
    List(Vec<RawPort>),
}

enum RawPort {
    Num(i64),
    Str(String),
}

struct RawExpires(String);

impl<'de> Deserialize<'de> for RawPorts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPorts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"any\", a port, a range like \"8000-8099\", or a list of those")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawPorts, E> {
                if s == "any" {
                    Ok(RawPorts::Any)
                } else {
                    Ok(RawPorts::List(vec![RawPort::Str(s.to_string())]))
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawPorts, E> {
                Ok(RawPorts::List(vec![RawPort::Num(n)]))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RawPorts, E> {
                Ok(RawPorts::List(vec![RawPort::Num(i64::try_from(n).unwrap_or(i64::MAX))]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPorts, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<RawPort>()? {
                    out.push(p);
                }
                Ok(RawPorts::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawPort {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawPort;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number or a range like \"8000-8099\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawPort, E> {
                Ok(RawPort::Str(s.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawPort, E> {
                Ok(RawPort::Num(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RawPort, E> {
                Ok(RawPort::Num(i64::try_from(n).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// TOML's private field name for a datetime value, so `expires = 2027-01-31`
/// written without quotes in TOML is read like the quoted string.
const TOML_DATETIME_FIELD: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for RawExpires {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawExpires;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date like \"2027-01-31\" or an RFC 3339 UTC instant like \"2027-01-31T18:00:00Z\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawExpires, E> {
                Ok(RawExpires(s.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawExpires, A::Error> {
                match map.next_key::<String>()? {
                    Some(k) if k == TOML_DATETIME_FIELD => Ok(RawExpires(map.next_value::<String>()?)),
                    _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// Source locations.

/// Finds the line of a rule field in the source (TOML only: its parser keeps spans).
pub(crate) struct Locator<'a> {
    src: &'a str,
    rules: Vec<RuleSpans>,
}

/// One rule's spans: (kind, the rule, [(field, value, [element])]).
type RuleSpans = (RuleKind, Range<usize>, Vec<FieldSpans>);
type FieldSpans = (String, Range<usize>, Vec<Range<usize>>);

impl<'a> Locator<'a> {
    fn none(src: &'a str) -> Self {
        Locator { src, rules: Vec::new() }
    }

    fn toml(src: &'a str) -> Self {
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

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let before = &self.src[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    fn rule_span(&self, kind: RuleKind, index: usize) -> Option<&RuleSpans> {
        self.rules.iter().filter(|r| r.0 == kind).nth(index)
    }

    /// The line and column of `field` (and element `elem`) of a rule; the rule's
    /// own line when the field is absent.
    fn find(&self, kind: RuleKind, index: usize, field: Option<&str>, elem: Option<usize>) -> Option<(usize, usize)> {
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
    fn rule_at(&self, offset: usize) -> Option<(RuleKind, usize)> {
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
}

// ---------------------------------------------------------------------------
// Parsing.

/// The validated content of a policy file, before compilation.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) environment: Option<String>,
    pub(crate) mode: Mode,
    pub(crate) enforcement: Enforcement,
    pub(crate) floor: bool,
    pub(crate) allow: Vec<Rule>,
    pub(crate) deny: Vec<Rule>,
}

pub(crate) fn parse(src: &str, format: Format) -> Result<Parsed, LoadError> {
    let raw: RawPolicy = match format {
        Format::Toml => toml::from_str(src).map_err(|e| toml_problem(src, &e))?,
        Format::Json => serde_json::from_str(src).map_err(|e| {
            syntax(Problem {
                line: (e.line() > 0).then_some(e.line()),
                column: (e.line() > 0).then_some(e.column()),
                rule: None,
                field: None,
                message: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
                fix: None,
            })
        })?,
        Format::Yaml => serde_saphyr::from_str(src).map_err(|e| {
            syntax(Problem {
                line: None,
                column: None,
                rule: None,
                field: None,
                message: e.to_string(),
                fix: None,
            })
        })?,
    };
    // Validate without source positions first (the common, valid case pays no
    // second parse); only when there are problems, parse the spans to locate them.
    match validate(raw, &Locator::none(src)) {
        Err(_) if format == Format::Toml => {
            let raw: RawPolicy = toml::from_str(src).map_err(|e| toml_problem(src, &e))?;
            validate(raw, &Locator::toml(src))
        }
        other => other,
    }
}

fn syntax(p: Problem) -> LoadError {
    LoadError::new(LoadErrorKind::Syntax(p))
}

fn toml_problem(src: &str, e: &toml::de::Error) -> LoadError {
    let locator = Locator::toml(src);
    let (line, column, rule) = match e.span() {
        Some(span) => {
            let (l, c) = locator.line_col(span.start);
            let rule = locator.rule_at(span.start).map(|(kind, index)| RuleLocation {
                kind,
                index,
                id: rule_id_from_locator(&locator, kind, index),
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

fn rule_id_from_locator(locator: &Locator<'_>, kind: RuleKind, index: usize) -> Option<String> {
    let (_, _, fields) = locator.rule_span(kind, index)?;
    let (_, span, _) = fields.iter().find(|(k, _, _)| k == "id")?;
    let text = locator.src.get(span.clone())?;
    let id = text.trim().trim_matches('"').trim_matches('\'');
    valid_id(id).then(|| id.to_string())
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

fn id_fix(id: &str) -> Option<String> {
    rule_id_from(id).map(|fixed| format!("write `{fixed}`"))
}

struct Ctx<'a, 'l> {
    loc: &'a Locator<'l>,
    problems: Vec<Problem>,
}

impl Ctx<'_, '_> {
    fn top(&mut self, field: &str, message: String, fix: Option<String>) {
        self.problems.push(Problem {
            line: None,
            column: None,
            rule: None,
            field: Some(field.to_string()),
            message,
            fix,
        });
    }
}

struct RuleCtx<'c, 'a, 'l> {
    ctx: &'c mut Ctx<'a, 'l>,
    kind: RuleKind,
    index: usize,
    id: Option<String>,
}

impl RuleCtx<'_, '_, '_> {
    fn err(&mut self, field: &str, elem: Option<usize>, message: impl Into<String>, fix: Option<String>) {
        let (line, column) = match self.ctx.loc.find(self.kind, self.index, Some(field), elem) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        let field = match elem {
            Some(i) => format!("{field}[{i}]"),
            None => field.to_string(),
        };
        self.ctx.problems.push(Problem {
            line,
            column,
            rule: Some(RuleLocation {
                kind: self.kind,
                index: self.index,
                id: self.id.clone(),
            }),
            field: Some(field),
            message: message.into(),
            fix,
        });
    }
}

fn validate(raw: RawPolicy, loc: &Locator<'_>) -> Result<Parsed, LoadError> {
    let mut ctx = Ctx { loc, problems: Vec::new() };
    if raw.version != 1 {
        ctx.top(
            "version",
            format!("unsupported policy format version {}; this library reads version 1", raw.version),
            Some("write `version = 1`".into()),
        );
    }
    let mode = raw.mode.unwrap_or_default();
    let mut seen_ids: std::collections::HashMap<String, (RuleKind, usize)> = std::collections::HashMap::new();
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for (kind, rules, out) in [(RuleKind::Allow, raw.allow, &mut allow), (RuleKind::Deny, raw.deny, &mut deny)] {
        for (index, raw_rule) in rules.into_iter().enumerate() {
            let id = raw_rule.id.clone().filter(|id| valid_id(id));
            let mut rc = RuleCtx {
                ctx: &mut ctx,
                kind,
                index,
                id,
            };
            if let Some(id) = &raw_rule.id {
                match seen_ids.get(id) {
                    Some((k, i)) => rc.err(
                        "id",
                        None,
                        format!("duplicate rule id `{id}` (also {}[{i}])", k.as_str()),
                        Some("give every rule its own id".into()),
                    ),
                    None => {
                        seen_ids.insert(id.clone(), (kind, index));
                    }
                }
            }
            if let Some(rule) = validate_rule(raw_rule, &mut rc) {
                out.push(rule);
            }
        }
    }
    if !ctx.problems.is_empty() {
        return Err(LoadError::new(LoadErrorKind::Invalid(ctx.problems)));
    }
    Ok(Parsed {
        environment: raw.environment.filter(|e| !e.trim().is_empty()),
        mode,
        enforcement: raw.enforcement.unwrap_or_default(),
        floor: raw.floor.unwrap_or(false),
        allow,
        deny,
    })
}

fn validate_rule(raw: RawRule, rc: &mut RuleCtx<'_, '_, '_>) -> Option<Rule> {
    let start = rc.ctx.problems.len();
    let kind = rc.kind;
    let id = match raw.id {
        None => {
            rc.err(
                "id",
                None,
                "missing; every rule needs a unique id",
                Some("add `id = \"my-rule\"` ([a-z0-9][a-z0-9_.-]*)".into()),
            );
            String::new()
        }
        Some(id) if !valid_id(&id) => {
            let fix = id_fix(&id);
            rc.err("id", None, format!("`{id}` is not a valid id: [a-z0-9][a-z0-9_.-]*"), fix);
            id
        }
        Some(id) => id,
    };

    let mut hosts = Vec::new();
    for (i, h) in raw.hosts.iter().flatten().enumerate() {
        match parse_pattern(h) {
            Ok(p) => hosts.push(p),
            Err(e) => rc.err("hosts", Some(i), e.message, e.fix),
        }
    }
    let mut cidrs = Vec::new();
    for (i, c) in raw.cidrs.iter().flatten().enumerate() {
        match crate::addr::parse_cidr(c) {
            Ok(n) => cidrs.push(n),
            Err((m, fix)) => rc.err("cidrs", Some(i), m, fix),
        }
    }
    if raw.hosts.as_ref().is_none_or(Vec::is_empty) && raw.cidrs.as_ref().is_none_or(Vec::is_empty) {
        rc.err("hosts", None, "a rule needs at least one of `hosts` or `cidrs`", None);
    }

    let mut schemes = SchemeSet::empty();
    match &raw.schemes {
        None if kind == RuleKind::Deny => schemes = SchemeSet::ALL,
        None => schemes.insert(&Scheme::Https),
        Some(list) if list.is_empty() => rc.err(
            "schemes",
            None,
            "empty list",
            Some("omit `schemes` for the default (allow: [\"https\"]; deny: every scheme)".into()),
        ),
        Some(list) => {
            for (i, s) in list.iter().enumerate() {
                let parsed = Scheme::parse(s);
                if matches!(parsed, Scheme::Other(_)) {
                    let lower = s.to_ascii_lowercase();
                    let fix = (!matches!(Scheme::parse(&lower), Scheme::Other(_))).then(|| format!("write `{lower}`"));
                    rc.err(
                        "schemes",
                        Some(i),
                        format!("unknown scheme `{s}`; one of http, https, ws, wss, tcp, udp"),
                        fix,
                    );
                } else {
                    schemes.insert(&parsed);
                }
            }
        }
    }

    let ports = match raw.ports {
        None if kind == RuleKind::Deny => Ports::Any,
        None => {
            if schemes.contains(&Scheme::Tcp) || schemes.contains(&Scheme::Udp) {
                rc.err(
                    "ports",
                    None,
                    "`tcp` and `udp` have no default port",
                    Some("list the ports, e.g. `ports = [5432]`".into()),
                );
            }
            Ports::SchemeDefaults
        }
        Some(RawPorts::Any) => Ports::Any,
        Some(RawPorts::List(list)) => {
            if list.is_empty() {
                rc.err(
                    "ports",
                    None,
                    "empty list",
                    Some("omit `ports` for the schemes' default ports, or write `ports = \"any\"`".into()),
                );
            }
            let mut ranges = Vec::new();
            for (i, p) in list.iter().enumerate() {
                match parse_port(p) {
                    Ok(r) => ranges.push(r),
                    Err((m, fix)) => rc.err("ports", Some(i), m, fix),
                }
            }
            Ports::from_ranges(ranges)
        }
    };

    let modes = match (&raw.modes, kind) {
        (Some(_), RuleKind::Deny) => {
            rc.err("modes", None, "deny rules apply in every mode", Some("remove `modes`".into()));
            vec![Mode::Sealed, Mode::Constrained, Mode::Open]
        }
        (None, RuleKind::Deny) => vec![Mode::Sealed, Mode::Constrained, Mode::Open],
        (None, RuleKind::Allow) => vec![Mode::Sealed, Mode::Constrained],
        (Some(list), RuleKind::Allow) => {
            if list.is_empty() {
                rc.err(
                    "modes",
                    None,
                    "empty list: the rule would never apply",
                    Some("omit `modes` for both sealed and constrained".into()),
                );
            }
            let mut modes = Vec::new();
            for (i, m) in list.iter().enumerate() {
                match Mode::parse(m) {
                    Some(Mode::Open) => rc.err(
                        "modes",
                        Some(i),
                        "`open` is not a rule mode: in open mode everything not denied is allowed",
                        Some("use `sealed` and/or `constrained`".into()),
                    ),
                    Some(mode) => {
                        if !modes.contains(&mode) {
                            modes.push(mode);
                        }
                    }
                    None => rc.err("modes", Some(i), format!("unknown mode `{m}`; one of sealed, constrained"), None),
                }
            }
            modes.sort();
            modes
        }
    };

    let clients = match (raw.clients, kind) {
        (Some(_), RuleKind::Deny) => {
            rc.err("clients", None, "deny rules apply to every client", Some("remove `clients`".into()));
            None
        }
        (None, _) => None,
        (Some(list), RuleKind::Allow) => {
            if list.is_empty() {
                rc.err(
                    "clients",
                    None,
                    "empty list: the rule would apply to no client",
                    Some("omit `clients` to apply to every client".into()),
                );
            }
            for (i, c) in list.iter().enumerate() {
                if !valid_id(c) {
                    rc.err(
                        "clients",
                        Some(i),
                        format!("`{c}` is not a valid client name: [a-z0-9][a-z0-9_.-]*"),
                        id_fix(c),
                    );
                }
            }
            let mut names: Vec<Box<str>> = list.into_iter().map(Into::into).collect();
            names.sort();
            names.dedup();
            Some(names)
        }
    };

    let mut resolves_to = Vec::new();
    if let Some(list) = raw.resolves_to {
        if kind == RuleKind::Deny {
            rc.err(
                "resolves_to",
                None,
                "only allow rules can admit resolution into private ranges",
                Some("remove `resolves_to`".into()),
            );
        } else if hosts.is_empty() && raw.hosts.as_ref().is_none_or(Vec::is_empty) {
            rc.err(
                "resolves_to",
                None,
                "only applies to name rules (`hosts`)",
                Some("add the names to `hosts`, or put the ranges in `cidrs`".into()),
            );
        }
        for (i, c) in list.iter().enumerate() {
            match crate::addr::parse_cidr(c) {
                Ok(n) => resolves_to.push(n),
                Err((m, fix)) => rc.err("resolves_to", Some(i), m, fix),
            }
        }
    }

    let expires = match raw.expires {
        None => None,
        Some(RawExpires(s)) => match crate::time::parse_expiry(&s) {
            Ok(at) => Some(Expiry { at, written: s.into() }),
            Err(m) => {
                rc.err("expires", None, m, None);
                None
            }
        },
    };

    let text = |field: &str, v: Option<String>, rc: &mut RuleCtx<'_, '_, '_>| -> Option<Box<str>> {
        match v {
            Some(s) if s.trim().is_empty() => {
                rc.err(field, None, "empty", Some(format!("fill in `{field}` or remove it")));
                None
            }
            other => other.map(Into::into),
        }
    };
    let owner = text("owner", raw.owner, rc);
    let reason = text("reason", raw.reason, rc);
    let ticket = text("ticket", raw.ticket, rc);

    if rc.ctx.problems.len() > start {
        return None;
    }
    hosts.sort();
    hosts.dedup();
    let mut cidrs: Vec<IpNet> = cidrs;
    cidrs.sort();
    cidrs.dedup();
    resolves_to.sort();
    resolves_to.dedup();
    Some(Rule {
        kind,
        id: id.into(),
        hosts,
        cidrs,
        schemes,
        ports,
        modes,
        clients,
        resolves_to,
        owner,
        reason,
        ticket,
        expires,
        slot: 0,
    })
}

fn parse_port(p: &RawPort) -> Result<(u16, u16), (String, Option<String>)> {
    let one = |n: i64| -> Result<u16, (String, Option<String>)> {
        u16::try_from(n)
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| (format!("port {n} is out of range 1-65535"), None))
    };
    match p {
        RawPort::Num(n) => one(*n).map(|p| (p, p)),
        RawPort::Str(s) if s == "any" => Err(("`any` cannot be part of a list".into(), Some("write `ports = \"any\"`".into()))),
        RawPort::Str(s) => {
            let parse = |t: &str| -> Result<u16, (String, Option<String>)> {
                let t = t.trim();
                let n: i64 = t
                    .parse()
                    .map_err(|_| (format!("`{s}` is not a port or a range like \"8000-8099\""), None))?;
                one(n)
            };
            match s.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi) = (parse(lo)?, parse(hi)?);
                    if lo > hi {
                        return Err((
                            format!("range `{s}` is empty (start after end)"),
                            Some(format!("write \"{hi}-{lo}\"")),
                        ));
                    }
                    Ok((lo, hi))
                }
                None => {
                    let n = parse(s)?;
                    Ok((n, n))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
}
