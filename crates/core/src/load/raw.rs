//! The policy file as written: the serde model every format deserializes into
//! (and the JSON Schema is derived from), before any validation.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::model::{Enforcement, Mode};

/// An egress-policy file (format version 1).
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(title = "egress-policy policy file"))]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    /// The file format version: 1.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1)))]
    pub(super) version: i64,
    /// A free-form label for the deployment environment (e.g. `air-gapped-prod`);
    /// `validate` refuses non-sealed policies for environments marked sealed.
    #[serde(default)]
    pub(super) environment: Option<String>,
    /// `sealed` (default), `constrained` or `open`.
    #[serde(default)]
    pub(super) mode: Option<Mode>,
    /// `enforce` (default) or `observe`.
    #[serde(default)]
    pub(super) enforcement: Option<Enforcement>,
    /// Open mode only: also refuse private and special-purpose addresses.
    #[serde(default)]
    pub(super) floor: Option<bool>,
    /// Allow rules.
    #[serde(default)]
    pub(super) allow: Vec<RawRule>,
    /// Deny rules: they win over allow rules in every mode.
    #[serde(default)]
    pub(super) deny: Vec<RawRule>,
}

/// One allow or deny rule.
#[derive(Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    /// Unique id: `[a-z0-9][a-z0-9_.-]*`.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^[a-z0-9][a-z0-9_.-]*$")))]
    pub(super) id: Option<String>,
    /// Canonical host names (`api.example.com`) and wildcards (`*.example.com`: any
    /// depth, never the apex). Write IDNs as A-labels (`xn--bcher-kva.example`).
    pub(super) hosts: Option<Vec<String>>,
    /// Networks without host bits set (`203.0.113.0/24`, `2001:db8::/32`).
    pub(super) cidrs: Option<Vec<String>>,
    /// Default `["https"]` (deny rules: every scheme).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::schemes"))]
    pub(super) schemes: Option<Vec<String>>,
    /// Default: each scheme's default port (deny rules: every port). `"any"`, a
    /// port, a range `"8000-8099"`, or a list of those.
    pub(super) ports: Option<RawPorts>,
    /// Allow rules: default `["sealed", "constrained"]`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "schema::modes"))]
    pub(super) modes: Option<Vec<String>>,
    /// Allow rules: only clients built for these names get the rule.
    pub(super) clients: Option<Vec<String>>,
    /// Name rules: non-public ranges their names may resolve into.
    pub(super) resolves_to: Option<Vec<String>>,
    /// Who owns the rule.
    pub(super) owner: Option<String>,
    /// Why it exists.
    pub(super) reason: Option<String>,
    /// The change ticket.
    pub(super) ticket: Option<String>,
    /// A date (valid through that UTC day) or an RFC 3339 UTC instant.
    pub(super) expires: Option<RawExpires>,
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

pub(super) enum RawPorts {
    Any,
    List(Vec<RawPort>),
}

pub(super) enum RawPort {
    Num(i64),
    Str(String),
}

pub(super) struct RawExpires(pub(super) String);

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
