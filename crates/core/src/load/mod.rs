//! Loading: TOML, JSON and YAML into one raw model ([`raw`]), then validation
//! ([`validate`]) into the rules a [`Policy`](crate::Policy) compiles, with
//! errors ([`error`]) that say where ([`locate`]) and what to write instead.
//!
//! The rules are in [`docs::policy_file`](crate::docs::policy_file).

use std::path::Path;

use crate::model::{Enforcement, Mode, Rule};

mod error;
mod ids;
mod locate;
mod raw;
mod syntax;
#[cfg(test)]
mod tests;
mod validate;

pub use error::{LoadError, LoadErrorKind, Problem, RuleLocation};
pub use ids::rule_id_from;
#[cfg(feature = "schema")]
pub(crate) use raw::schema::policy_schema;

use locate::Locator;
use raw::RawPolicy;

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

/// Parses and validates a whole policy file.
pub(crate) fn parse(src: &str, format: Format) -> Result<Parsed, LoadError> {
    let raw: RawPolicy = match format {
        Format::Toml => toml::from_str(src).map_err(|e| syntax::toml(src, &e))?,
        Format::Json => serde_json::from_str(src).map_err(|e| syntax::json(&e))?,
        Format::Yaml => serde_saphyr::from_str(src).map_err(|e| syntax::yaml(&e))?,
    };
    // Validate without source positions first (the common, valid case pays no
    // second parse); only when there are problems, parse the spans to locate them.
    match validate::validate(raw, &Locator::none(src)) {
        Err(_) if format == Format::Toml => {
            let raw: RawPolicy = toml::from_str(src).map_err(|e| syntax::toml(src, &e))?;
            validate::validate(raw, &Locator::toml(src))
        }
        other => other,
    }
}
