//! What a run produced, in the shape every output format shares, and the three off-terminal
//! formats: text, JSON (a stable contract) and Markdown.

pub mod html;
pub mod json;
pub mod markdown;
pub mod text;

use crate::bundle::{Bundle, Problem};
use crate::facts::Facts;
use crate::manifest::{Cluster, SourceStatus};
use crate::model::{CheckResult, Severity, Status};
use serde::Serialize;

/// How a report for people (text, Markdown) is laid out.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Columns of text (`--width`): prose is wrapped and excerpts shortened to fit.
    pub width: usize,
    /// Only the checks with findings (`--findings-only`).
    pub findings_only: bool,
    /// The catalog, for each check's reference and log patterns (the part of an excerpt kept).
    pub catalog: Option<&'a crate::spec::Catalog>,
}

/// The width of a report when the terminal's is not known.
pub const DEFAULT_WIDTH: usize = 80;

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            width: DEFAULT_WIDTH,
            findings_only: false,
            catalog: None,
        }
    }
}

/// `n` and `word`, in the plural when `n` is not 1: "1 finding", "2 findings".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The version of kubetriage that wrote a report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The version of the JSON report's shape, apart from the tool's: it grows when a field is
/// added and changes its major number only when a field changes meaning or goes away.
/// 2: the `not-applicable` status, `bundle.platform` and `bundle.platform_evidence`.
/// 3: `bundle.layout`, `bundle.inputs` (a case of several inputs) and `tool_verdicts`.
pub const SCHEMA: u32 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub version: String,
    pub bundle: BundleInfo,
    pub collection: Vec<CollectionEntry>,
    pub checks: Vec<CheckResult>,
    /// The foreign tool's own verdicts, when the bundle carries them (troubleshoot's
    /// `analysis.json`), shown beside ours and labelled as that tool's.
    pub tool_verdicts: Vec<crate::layout::ToolVerdict>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleInfo {
    pub source: String,
    /// `gke`, `kubeadm` or `generic`, from the manifest (or inferred when it has none).
    pub mode: String,
    /// `gke`, `kubeadm`, a distribution's name, or `unknown`: what the checks were gated on.
    pub platform: String,
    /// The file and line the platform was read from, when there is one.
    pub platform_evidence: Option<crate::model::Evidence>,
    /// The bundle's collection time: every age and window is computed against it.
    pub created: Option<String>,
    pub format: String,
    /// The layout recognised: `kubetriage`, `troubleshoot`, `cluster-info-dump`, `sosreport`,
    /// or `several` (then `inputs` lists each input with its own).
    pub layout: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<crate::bundle::InputInfo>,
    pub cluster: Cluster,
    /// Things about the bundle as a whole: no manifest, a foreign layout.
    pub warnings: Vec<String>,
    /// Entries refused or skipped while opening it.
    pub problems: Vec<Problem>,
}

impl BundleInfo {
    /// What the report's header says the bundle is: the platform the checks were gated on, and
    /// the tool that wrote the bundle when it was not kubetriage's collector
    /// (`platform kurl, troubleshoot bundle`).
    pub fn kind(&self) -> String {
        let mut s = format!("platform {}", self.platform);
        if !self.layout.is_empty() && self.layout != "kubetriage" {
            s.push_str(&format!(", {} bundle", self.layout));
        }
        s
    }
}

/// One source the collector recorded in the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionEntry {
    pub path: String,
    pub status: SourceStatus,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub checks: usize,
    pub finding: usize,
    pub pass: usize,
    pub not_evaluated: usize,
    pub not_applicable: usize,
    pub critical: usize,
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Summary {
    /// The counts of a list of results.
    pub fn of(checks: &[CheckResult]) -> Summary {
        let mut summary = Summary {
            checks: checks.len(),
            ..Summary::default()
        };
        for c in checks {
            match c.status {
                Status::Finding => summary.finding += 1,
                Status::Pass => summary.pass += 1,
                Status::NotEvaluated => summary.not_evaluated += 1,
                Status::NotApplicable => summary.not_applicable += 1,
            }
            for f in &c.findings {
                match f.severity {
                    Severity::Critical => summary.critical += 1,
                    Severity::Error => summary.error += 1,
                    Severity::Warning => summary.warning += 1,
                    Severity::Info => summary.info += 1,
                }
            }
        }
        summary
    }
}

impl Report {
    /// Keeps only the results of `ids` (for a report on some checks), counts included.
    pub fn retain_checks(&mut self, ids: &[&str]) {
        self.checks.retain(|c| ids.contains(&c.id.as_str()));
        self.summary = Summary::of(&self.checks);
    }

    pub fn new(bundle: &Bundle, facts: &Facts, checks: Vec<CheckResult>) -> Report {
        let manifest = facts.manifest();
        let mut warnings = Vec::new();
        if bundle.layout == crate::layout::Layout::Kubetriage {
            if let Some(p) = facts.manifest_problem() {
                warnings.push(format!("{}: analyzing by file paths alone", p.reason));
            }
        } else {
            warnings.push(format!(
                "read as {}: checks see its files in kubetriage's layout, evidence names the files as sent; what the format cannot hold is not evaluated",
                bundle.layout.describe()
            ));
        }
        let platform = crate::platform::infer(facts);
        if !checks.is_empty() && checks.iter().all(|c| c.status == Status::NotApplicable) {
            warnings.push(format!(
                "no check of the catalog applies to this cluster ({}: {}); nothing was evaluated",
                platform.platform.describe(),
                platform.because
            ));
        }
        // A distribution the catalog has no checks of its own for: say at once that only the
        // checks for every distribution ran.
        let not_applicable = checks
            .iter()
            .filter(|c| c.status == Status::NotApplicable)
            .count();
        if let crate::platform::Platform::Other(name) = &platform.platform
            && !crate::platform::has_own_checks(&platform.platform)
            && not_applicable > 0
            && not_applicable < checks.len()
        {
            warnings.push(format!(
                "kubetriage has no checks written for {name} clusters: only the {} written for every distribution ran, and the {not_applicable} written for other platforms do not apply",
                checks.len() - not_applicable
            ));
        }
        let verdicts = &bundle.view.verdicts;
        if !verdicts.is_empty() {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for v in verdicts {
                match counts.iter_mut().find(|(s, _)| *s == v.severity) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((v.severity.clone(), 1)),
                }
            }
            warnings.push(format!(
                "the bundle carries {}'s own verdicts ({}: {}), listed in the report apart from kubetriage's",
                verdicts[0].tool,
                verdicts[0].file,
                counts
                    .iter()
                    .map(|(s, n)| format!("{n} {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mode = match platform.platform {
            crate::platform::Platform::Gke => "gke",
            crate::platform::Platform::Kubeadm => "kubeadm",
            _ => "generic",
        };
        let collection = manifest
            .map(|m| {
                m.sources
                    .iter()
                    .map(|s| CollectionEntry {
                        path: s.path.clone(),
                        status: s.status(),
                        detail: s.detail(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let summary = Summary::of(&checks);
        Report {
            schema: SCHEMA,
            version: VERSION.to_string(),
            bundle: BundleInfo {
                source: bundle.source.display().to_string(),
                mode: mode.to_string(),
                platform: platform.platform.name().to_string(),
                platform_evidence: platform.evidence.clone(),
                created: facts.collection_time().map(|t| t.to_string()),
                format: bundle.format.as_str().to_string(),
                layout: bundle.layout.as_str().to_string(),
                inputs: bundle.inputs.clone(),
                cluster: manifest.map(|m| m.cluster.clone()).unwrap_or_default(),
                warnings,
                problems: bundle.problems.clone(),
            },
            collection,
            checks,
            tool_verdicts: bundle.view.verdicts.clone(),
            summary,
        }
    }

    /// Sources the collector could not get (failed, timed out, skipped).
    pub fn collection_problems(&self) -> impl Iterator<Item = &CollectionEntry> {
        self.collection
            .iter()
            .filter(|c| c.status != SourceStatus::Ok)
    }

    /// The checks that ended with `status`, in report order.
    pub fn with_status(&self, status: Status) -> Vec<&CheckResult> {
        self.checks.iter().filter(|c| c.status == status).collect()
    }

    /// Why checks do not apply, each reason once with how many checks give it, in report order.
    pub fn not_applicable_reasons(&self) -> Vec<(&str, usize)> {
        let mut out: Vec<(&str, usize)> = Vec::new();
        for c in self.with_status(Status::NotApplicable) {
            match out.iter_mut().find(|(r, _)| *r == c.reason) {
                Some((_, n)) => *n += 1,
                None => out.push((&c.reason, 1)),
            }
        }
        out
    }

    /// The worst severity of any finding.
    pub fn worst(&self) -> Option<Severity> {
        self.checks.iter().filter_map(|c| c.worst_finding()).min()
    }
}
