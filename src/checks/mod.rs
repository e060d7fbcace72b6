//! Check logic: the generic analyzers every spec can use, and the registry of built-in
//! analyzers (one Rust function per check whose logic is structural).
//!
//! A check sees the bundle only through [`Ctx`]: parsed facts, and the lines its scans matched.
//! It answers with an [`Outcome`]; the engine turns drafts into findings by filling the spec's
//! templates with each draft's variables.

pub mod generic;
pub mod gke;
pub mod k8s;
pub mod kubeadm;

use crate::facts::{Facts, JsonDoc, Unavailable};
use crate::model::{Evidence, Severity};
use crate::scan::ScanMatch;
use crate::spec::{self, Analyzer, Catalog, Check, SpecError};
use crate::template::Vars;
use std::sync::Arc;

/// A built-in analyzer. `Err` means a file it needs is unusable: "not evaluated" with that reason.
pub type BuiltinFn = fn(&Ctx) -> Result<Outcome, Unavailable>;

/// A check's logic written in Rust, bound to its spec (`kind: builtin`) by the check's id.
pub struct Builtin {
    pub id: &'static str,
    pub run: BuiltinFn,
    /// The placeholders it fills, besides those every scanned line gives
    /// ([`crate::spec::LINE_PLACEHOLDERS`] and the scans' named captures): a spec template
    /// naming any other is refused when the catalog loads.
    pub fills: &'static [&'static str],
}

/// Every built-in: each family keeps its own list.
fn registry() -> impl Iterator<Item = &'static Builtin> {
    gke::BUILTINS
        .iter()
        .chain(kubeadm::BUILTINS.iter())
        .chain(k8s::BUILTINS.iter())
}

/// The Rust function of a check whose spec says `kind: builtin`.
pub fn builtin(id: &str) -> Option<BuiltinFn> {
    registry().find(|b| b.id == id).map(|b| b.run)
}

/// Binds the catalog to the built-in functions: every `kind: builtin` spec must have one, its
/// templates may name only what the function fills, no id is registered twice, and (for the
/// catalog compiled in) no function lacks its spec. Run once when the catalog is loaded, so a
/// mistake stops the program with the file's name and line instead of turning into a check
/// that silently says nothing.
pub fn validate(catalog: &Catalog, embedded: bool) -> Result<(), SpecError> {
    let mut seen = std::collections::BTreeSet::new();
    for b in registry() {
        if !seen.insert(b.id) {
            return Err(SpecError {
                check: b.id.to_string(),
                message: "a built-in function is registered twice for this id".into(),
                ..SpecError::default()
            });
        }
        if embedded
            && !catalog
                .get(b.id)
                .is_some_and(|c| matches!(c.analyzer, Analyzer::Builtin))
        {
            return Err(SpecError {
                check: b.id.to_string(),
                message: "a built-in function has no spec with `kind: builtin` in analyzers/"
                    .into(),
                ..SpecError::default()
            });
        }
    }
    for c in &catalog.checks {
        if !matches!(c.analyzer, Analyzer::Builtin) {
            continue;
        }
        let Some(b) = registry().find(|b| b.id == c.spec.id) else {
            return Err(SpecError {
                file: c.origin.clone(),
                line: spec::field_line(&c.text, "analyzer"),
                check: c.spec.id.clone(),
                field: "analyzer.kind".into(),
                message: "no built-in logic exists for this id; use `log-pattern` or \
                          `object-match`, or a built-in check's own id"
                    .into(),
            });
        };
        let mut known = spec::scan_placeholders(&c.scans);
        known.extend(b.fills.iter().map(|s| s.to_string()));
        for (field, t) in c.spec.templates() {
            if c.inherited.contains(&field) {
                // A family's shared text names what some of its checks fill.
                let family = c.spec.id.split('/').next();
                let filled_in_family = |n: &str| {
                    registry()
                        .filter(|b| b.id.split('/').next() == family)
                        .any(|b| b.fills.contains(&n))
                };
                if let Some(n) = crate::template::names(t)
                    .into_iter()
                    .find(|n| !known.contains(n) && !filled_in_family(n))
                {
                    return Err(SpecError {
                        file: format!("analyzers/{}/_shared.yaml", family.unwrap_or_default()),
                        check: c.spec.id.clone(),
                        field,
                        message: format!(
                            "unknown placeholder {{{n}}}: no check of this family fills it"
                        ),
                        ..SpecError::default()
                    });
                }
                continue;
            }
            for n in crate::template::names(t) {
                if !known.contains(&n) {
                    return Err(spec::unknown_placeholder(
                        &c.origin, &c.text, &c.spec.id, &field, &n, &known,
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The phrase `name` of `check`'s spec, filled with `vars`. Every built-in's phrases are in the
/// catalog (a test runs every bundle with debug assertions); a phrase missing from a spec in
/// release builds gives its own name rather than a panic.
pub fn phrase(check: &Check, name: &str, vars: &[(&str, &str)]) -> String {
    let Some(t) = check.spec.phrases.get(name) else {
        debug_assert!(
            false,
            "{}: no phrase named {name:?} in its spec",
            check.spec.id
        );
        return name.to_string();
    };
    let vars: Vars = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    crate::template::fill(t, &vars).trim().to_string()
}

/// How a check ended, before its templates are filled.
#[derive(Debug, Clone)]
pub enum Outcome {
    Findings(Vec<Draft>),
    Pass,
    /// The data the check reads is not in the bundle (or says too little): the draft chooses a
    /// variant of the spec's `not_evaluated` text and fills its placeholders, so the reason a
    /// user reads is written in the spec like every other sentence.
    Missing(Draft),
    /// A reason made outside the catalog's words: an unreadable file, an unknown platform.
    NotEvaluated(String),
    /// Set by the engine only: the check is for another platform.
    NotApplicable(String),
}

/// One finding's facts: the names for the templates, and the evidence.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub vars: Vars,
    pub evidence: Vec<Evidence>,
    /// Overrides the check's severity for this finding.
    pub severity: Option<Severity>,
    /// The text variants this finding chose (`docker`, `containerd`…), most specific first:
    /// each of the spec's texts uses the first one it defines, else its default. The words
    /// themselves are all in the spec: a check chooses among them and fills their names.
    pub variants: Vec<&'static str>,
    /// How many places the finding stands for, when that is not the number of evidence items
    /// (the pods of a group, each shown by several lines).
    pub occurrences: Option<usize>,
}

impl Draft {
    pub fn new() -> Draft {
        Draft::default()
    }

    /// "Not evaluated" for the reason the spec's `not_evaluated` text gives under `variant`
    /// (`default` for its one text).
    pub fn missing(variant: &'static str) -> Draft {
        Draft::new().variant(variant)
    }

    /// This draft as the reason the check could not be evaluated (see [`Outcome::Missing`]).
    pub fn not_evaluated(self) -> Result<Outcome, Unavailable> {
        Ok(Outcome::Missing(self))
    }

    pub fn var(mut self, k: &str, v: impl Into<String>) -> Draft {
        self.vars.insert(k.to_string(), v.into());
        self
    }

    /// Chooses a text variant of the spec (see [`Draft::variants`]).
    pub fn variant(mut self, name: &'static str) -> Draft {
        self.variants.push(name);
        self
    }

    pub fn evidence(mut self, e: Evidence) -> Draft {
        self.evidence.push(e);
        self
    }
}

/// Everything a check may look at.
pub struct Ctx<'a, 'b> {
    pub facts: &'a Facts<'b>,
    pub check: &'a Check,
    /// Lines matched by this check's scans, ordered by file then line.
    pub matches: &'a [ScanMatch],
    /// Per scan: how many files were read.
    pub files_scanned: &'a [usize],
}

impl Ctx<'_, '_> {
    fn scan_index(&self, name: &str) -> usize {
        self.check
            .scans
            .iter()
            .position(|s| s.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "check {} has no scan named {name:?}: the spec and its built-in disagree",
                    self.check.spec.id
                )
            })
    }

    /// Lines matched by the scan called `name`.
    pub fn matches_of(&self, name: &str) -> Vec<&ScanMatch> {
        let i = self.scan_index(name);
        self.matches.iter().filter(|m| m.scan == i).collect()
    }

    /// How many files the scan called `name` read.
    pub fn scanned(&self, name: &str) -> usize {
        self.files_scanned[self.scan_index(name)]
    }

    /// The globs of the scan called `name`, for "not evaluated" reasons.
    pub fn scan_globs(&self, name: &str) -> String {
        self.check.scans[self.scan_index(name)]
            .file_globs
            .join(", ")
    }

    /// The spec's phrase `name` filled with `vars` (see [`crate::spec::CheckSpec::phrases`]).
    pub fn phrase(&self, name: &str, vars: &[(&str, &str)]) -> String {
        phrase(self.check, name, vars)
    }

    pub fn list(&self, path: &str) -> Result<Arc<JsonDoc>, Unavailable> {
        self.facts.list(path)
    }

    pub fn json(&self, path: &str) -> Result<Arc<JsonDoc>, Unavailable> {
        self.facts.json(path)
    }
}

/// Evidence for a scanned line.
pub fn line_evidence(m: &ScanMatch) -> Evidence {
    let (file, line) = match &m.sent {
        Some((f, l)) => (f.to_string(), *l),
        None => (m.file.to_string(), m.line),
    };
    Evidence {
        file,
        line,
        end_line: line,
        excerpt: m.text.clone(),
    }
}

/// Names a bundle path carries by its place in the layout: `kubectl/logs/<namespace>/<pod>/<container>.log`
/// and `nodes/<node>/...`. Always includes `file`.
pub fn path_vars(path: &str) -> Vars {
    let mut v = Vars::new();
    v.insert("file".into(), path.to_string());
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["kubectl", "logs", ns, pod, file] => {
            v.insert("namespace".into(), ns.to_string());
            v.insert("pod".into(), pod.to_string());
            let container = file
                .strip_suffix(".previous.log")
                .or_else(|| file.strip_suffix(".log"))
                .unwrap_or(file);
            v.insert("container".into(), container.to_string());
        }
        ["nodes", node, ..] => {
            v.insert("node".into(), node.to_string());
        }
        _ => {}
    }
    v
}

/// Groups matched lines into one draft per key, in first-seen order, each with every line as
/// evidence and the first line's variables.
pub fn group_matches<'m>(
    matches: impl IntoIterator<Item = &'m ScanMatch>,
    key: impl Fn(&Vars) -> String,
) -> Vec<Draft> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: std::collections::HashMap<String, Draft> = std::collections::HashMap::new();
    for m in matches {
        let mut vars = path_vars(&m.file);
        vars.extend(m.captures.iter().map(|(k, v)| (k.clone(), v.clone())));
        vars.insert("line".into(), m.text.trim().to_string());
        let k = key(&vars);
        let d = groups.entry(k.clone()).or_insert_with(|| {
            order.push(k);
            Draft {
                vars,
                ..Draft::default()
            }
        });
        d.evidence.push(line_evidence(m));
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .map(|mut d| {
            let n = d.evidence.len();
            d.vars.insert("count".into(), n.to_string());
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_binds_every_builtin_both_ways() {
        let cat = Catalog::embedded().unwrap();
        validate(&cat, true).unwrap();
    }

    #[test]
    fn a_builtin_spec_without_a_function_or_with_an_unknown_placeholder_is_refused() {
        let mut cat = Catalog::embedded().unwrap();
        let user = spec::compile(
            "mine.yaml",
            "id: team/x\nseverity: warning\ntitle: T\nexplanation: E\nanalyzer:\n  kind: builtin\n",
        )
        .unwrap();
        cat.checks.push(user);
        let e = validate(&cat, false).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("mine.yaml", Some(5)), "{e}");

        let mut cat = Catalog::embedded().unwrap();
        let c = cat
            .checks
            .iter_mut()
            .find(|c| c.spec.id == "gke/ksa-count-high")
            .unwrap();
        c.spec.summary = "{counts} accounts".into();
        let e = validate(&cat, true).unwrap_err();
        assert!(e.message.contains("{counts}"), "{e}");
    }
}
