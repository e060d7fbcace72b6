//! The results every check produces: the vocabulary shared by the engine, the reports and the TUI.

use serde::Serialize;
use std::fmt;

/// How bad a problem is. Ordered from worst to mildest so that sorting puts critical first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::Error,
        Severity::Warning,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// True when `self` is at least as severe as `threshold`.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "error" => Ok(Severity::Error),
            "warning" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            other => Err(format!(
                "unknown severity {other:?}: use critical, error, warning or info"
            )),
        }
    }
}

/// The one outcome every check ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Finding,
    NotEvaluated,
    Pass,
    /// The check is written for another platform (a GKE check on a kubeadm-built cluster).
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Finding => "finding",
            Status::NotEvaluated => "not-evaluated",
            Status::Pass => "pass",
            Status::NotApplicable => "not-applicable",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place in the bundle that proves a finding: a bundle-relative file and a 1-based line range.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    pub file: String,
    pub line: usize,
    pub end_line: usize,
    /// The lines themselves, as read (lossily decoded; escaping happens at display time).
    pub excerpt: String,
}

/// One concrete problem found by a check, with the names from the bundle filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub summary: String,
    pub detail: String,
    pub remediation: String,
    /// Set when this finding is milder or worse than its check's default severity.
    pub severity: Severity,
    pub evidence: Vec<Evidence>,
    /// How many places matched in all; `evidence` keeps at most [`MAX_EVIDENCE`] of them.
    pub occurrences: usize,
}

/// Repeated log lines are grouped into one finding; past this many, only the count grows.
pub const MAX_EVIDENCE: usize = 200;

/// Where a check's description comes from: the public page (and its section) it follows, the
/// source page of the catalog it was written from, or free text for a user's own check.
///
/// In a spec: `docs: https://…`, `docs: "our runbook, page 4"`, or a map of the fields below.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(from = "DocsSpec")]
pub struct DocRef {
    /// The public page, with the section's anchor where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The page's or section's title as the page shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The catalog's source page this check was written from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// The section of that source page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Free text, for checks that have no page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The forms a spec may write `docs:` in.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum DocsSpec {
    Text(String),
    Fields(DocFields),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DocFields {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    seed: Option<String>,
    #[serde(default)]
    section: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

impl From<DocsSpec> for DocRef {
    fn from(d: DocsSpec) -> DocRef {
        match d {
            DocsSpec::Text(t) if t.starts_with("https://") || t.starts_with("http://") => DocRef {
                url: Some(t),
                ..DocRef::default()
            },
            DocsSpec::Text(t) => DocRef {
                text: Some(t),
                ..DocRef::default()
            },
            DocsSpec::Fields(DocFields {
                url,
                title,
                seed,
                section,
                text,
            }) => DocRef {
                url,
                title,
                seed,
                section,
                text,
            },
        }
    }
}

impl DocRef {
    /// One line a reader can follow: the public page first, then the source page's section.
    pub fn cite(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(t) = &self.title {
            parts.push(t.clone());
        }
        if let Some(u) = &self.url {
            parts.push(u.clone());
        }
        if parts.is_empty() {
            match (&self.seed, &self.section) {
                (Some(seed), Some(sec)) => parts.push(format!("{seed} — {sec}")),
                (Some(seed), None) => parts.push(seed.clone()),
                (None, Some(sec)) => parts.push(sec.clone()),
                (None, None) => {}
            }
        }
        if let Some(t) = &self.text {
            parts.push(t.clone());
        }
        parts.join(" — ")
    }

    pub fn is_empty(&self) -> bool {
        self.cite().is_empty()
    }
}

/// The result of one catalog check on one bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub status: Status,
    pub severity: Severity,
    pub title: String,
    /// Why the check was not evaluated or does not apply; empty otherwise.
    pub reason: String,
    pub findings: Vec<Finding>,
}

impl CheckResult {
    /// The worst severity among this result's findings, if it has any.
    pub fn worst_finding(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }
}
