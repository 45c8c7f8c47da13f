//! Reader for the decision cases in `testdata/cases/*.toml`, shared by the core
//! tests and the CLI tests (`#[path]`-included, so both read the same files the
//! same way).
#![allow(dead_code, unreachable_pub)] // each including test uses a different part; the module is private to it

use std::path::{Path, PathBuf};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The policy, relative to `testdata/`.
    pub policy: String,
    /// More spellings of the same policy (JSON, YAML) that must decide alike.
    #[serde(default)]
    pub also: Vec<String>,
    /// The instant to decide at (RFC 3339 UTC).
    pub now: String,
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub url: String,
    pub verdict: String,
    pub reason: String,
    pub rule: Option<String>,
    pub client: Option<String>,
    pub mode: Option<String>,
    #[serde(default)]
    pub resolve: Vec<String>,
    pub enforced: Option<bool>,
    pub note: Option<String>,
}

impl Case {
    pub fn label(&self) -> String {
        format!(
            "{:?}{}",
            self.url,
            self.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        )
    }
}

pub fn testdata_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("testdata/cases").is_dir())
        .expect("testdata/ above the crate")
        .join("testdata")
}

/// Every case file, with its path.
pub fn case_files() -> Vec<(PathBuf, CaseFile)> {
    let dir = testdata_dir().join("cases");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("read testdata/cases")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).expect("read case file");
            let file: CaseFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((path, file));
        }
    }
    assert!(!out.is_empty(), "no case files in {}", dir.display());
    out
}

/// Every invalid policy with the substrings its load error must contain
/// (the file's `# expect:` lines).
pub fn invalid_policies() -> Vec<(PathBuf, Vec<String>)> {
    let dir = testdata_dir().join("invalid");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("read testdata/invalid")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let out: Vec<_> = entries
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read invalid policy");
            let expect: Vec<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect: "))
                .map(str::to_string)
                .collect();
            assert!(!expect.is_empty(), "{} has no `# expect:` line", path.display());
            (path, expect)
        })
        .collect();
    assert!(!out.is_empty());
    out
}
