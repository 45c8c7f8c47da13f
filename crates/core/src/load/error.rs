//! What the loader reports: every problem, located at its rule, field and line.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::RuleKind;

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
///
/// `Display` says what failed and every problem found; an I/O failure's cause
/// is its [`source`](std::error::Error::source), as error-reporting crates
/// expect (print the chain to see it).
///
/// ```
/// let err = egress_policy_core::Policy::from_path("/nonexistent/policy.toml").unwrap_err();
/// assert_eq!(err.to_string(), "cannot read policy file `/nonexistent/policy.toml`");
/// let cause = std::error::Error::source(&err).unwrap();
/// assert!(cause.downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Debug)]
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
            LoadErrorKind::Io(_) => write!(f, "cannot read policy file `{prefix}`"),
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

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.kind {
            LoadErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for LoadErrorKind {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for LoadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadErrorKind::Io(_) => f.write_str("cannot read the policy file"),
            LoadErrorKind::UnknownFormat => f.write_str("unknown policy file format"),
            LoadErrorKind::Syntax(p) => write!(f, "{p}"),
            LoadErrorKind::Invalid(ps) => write!(f, "{} problems", ps.len()),
        }
    }
}
