//! The check catalog as declarative spec files (`analyzers/**/*.yaml`, one check per file).
//!
//! A spec gives a check's id, severity, words (title, explanation, summary and remediation
//! templates), its documentation reference, the log patterns it scans for, and its logic: a
//! generic analyzer (`log-pattern`, `object-match`) or a named built-in for structural logic.
//! The specs are compiled into the binary; `--analyzers DIR` adds or overrides checks by id at
//! run time, so a support team can ship a new known issue without a rebuild.

use crate::model::{DocRef, Severity};
use crate::objpath;
use crate::template;
use crate::yaml;
use globset::{GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/embedded_specs.rs"));

/// Text sources where an error printed by a tool can show up: pasted terminal output, pod logs,
/// node journals, and the stderr the collector recorded in the manifest.
pub const TEXT_SOURCES: &[&str] = &[
    "captured/**",
    "kubectl/logs/**",
    "nodes/*/journal/**",
    "manifest.json",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub explanation: String,
    /// Template for each finding's one-line summary.
    #[serde(default)]
    pub summary: Text,
    /// Template for each finding's longer detail.
    #[serde(default)]
    pub detail: Text,
    /// Template for what to do, filled with the bundle's names.
    #[serde(default)]
    pub remediation: Text,
    /// Why the check could not answer when the data it reads is missing or unusable: one reason
    /// or named variants its built-in chooses between (`not_evaluated: {default: …, no-nodes: …}`),
    /// naming the files that were looked for. Reports show it in place of a verdict.
    #[serde(default)]
    pub not_evaluated: Text,
    /// Named pieces of text a built-in fills and joins into a longer text (one line per node,
    /// one reason per pod): `phrases: {no-docker: "node {node}: its Docker version is unknown"}`.
    /// The words stay in the spec even where the code decides how many of them a finding needs.
    #[serde(default)]
    pub phrases: BTreeMap<String, String>,
    /// The same texts in other languages: `translations: {ja: {title: …, remediation: …}}`.
    /// Only English ships today; the shape is here so a translation needs no code.
    #[serde(default)]
    pub translations: BTreeMap<String, Translation>,
    /// Where the check comes from; optional for a user's own check.
    #[serde(default)]
    pub docs: DocRef,
    /// The platforms the check is written for (`gke`, `kubeadm`, a distribution's name); absent
    /// or empty: every platform. The engine, not the check, keeps it off other platforms.
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// The bundle files this check reads (documentation for users and for `explain`).
    #[serde(default)]
    pub reads: Vec<String>,
    /// Line patterns this check needs; all of a file's patterns are matched in one pass.
    #[serde(default)]
    pub scan: Vec<ScanSpec>,
    /// Absent while the check's logic is not written yet: it then reports "not evaluated".
    #[serde(default)]
    pub analyzer: Option<AnalyzerSpec>,
}

/// A text a user reads: one template, or named variants a check chooses between per finding
/// (`remediation: {default: …, docker: …, containerd: …}`). A variant the finding does not
/// choose, or that the text does not define, falls back to `default`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text {
    pub default: String,
    pub variants: BTreeMap<String, String>,
}

impl Text {
    /// The template for a finding that chose `choices` (first defined wins).
    pub fn pick(&self, choices: &[&str]) -> &str {
        choices
            .iter()
            .find_map(|c| self.variants.get(*c))
            .unwrap_or(&self.default)
    }

    pub fn is_empty(&self) -> bool {
        self.default.trim().is_empty() && self.variants.is_empty()
    }

    /// Every template with its variant name (`default` first).
    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        std::iter::once(("default", self.default.as_str()))
            .filter(|(_, t)| !t.is_empty())
            .chain(self.variants.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text {
            default: s.to_string(),
            variants: BTreeMap::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(String),
            Variants(BTreeMap<String, String>),
        }
        Ok(match Form::deserialize(d)? {
            Form::One(s) => Text::from(s.as_str()),
            Form::Variants(mut m) => Text {
                default: m.remove("default").unwrap_or_default(),
                variants: m,
            },
        })
    }
}

/// One language's texts of a check; any field left out stays in English.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub explanation: Option<String>,
    #[serde(default)]
    pub summary: Option<Text>,
    #[serde(default)]
    pub detail: Option<Text>,
    #[serde(default)]
    pub remediation: Option<Text>,
    #[serde(default)]
    pub not_evaluated: Option<Text>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSpec {
    pub name: String,
    /// Globs over bundle paths; `@text` stands for every text source (see [`TEXT_SOURCES`]).
    pub files: Vec<String>,
    pub regex: String,
    /// Lines that match `regex` but also this are near misses and ignored.
    #[serde(default)]
    pub exclude: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AnalyzerSpec {
    /// Every matching line is evidence; lines are grouped into findings by `group_by`.
    LogPattern {
        #[serde(default)]
        scans: Vec<String>,
        #[serde(default)]
        group_by: Option<String>,
    },
    /// Every object of `source` meeting the conditions is a finding.
    ObjectMatch {
        source: String,
        #[serde(default)]
        all: Vec<CondSpec>,
        #[serde(default)]
        any: Vec<CondSpec>,
        /// Template variables: name → path in the object.
        #[serde(default)]
        vars: BTreeMap<String, String>,
        /// Path whose value's line in the object is the evidence (default: the whole object).
        #[serde(default)]
        evidence: Option<String>,
    },
    /// Logic written in Rust, registered under the check's id (see `checks::builtin`).
    Builtin {},
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CondSpec {
    pub path: String,
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default, rename = "in")]
    pub one_of: Option<Vec<Value>>,
    #[serde(default)]
    pub matches: Option<String>,
    #[serde(default)]
    pub exists: Option<bool>,
    #[serde(default)]
    pub greater_than: Option<f64>,
}

/// A scan ready to run.
#[derive(Debug, Clone)]
pub struct Scan {
    pub name: String,
    pub files: GlobSet,
    pub file_globs: Vec<String>,
    pub regex: regex::bytes::Regex,
    pub exclude: Option<regex::bytes::Regex>,
}

#[derive(Debug, Clone)]
pub struct Cond {
    pub path: objpath::Path,
    pub equals: Option<Value>,
    pub one_of: Option<Vec<Value>>,
    pub matches: Option<regex::Regex>,
    pub exists: Option<bool>,
    pub greater_than: Option<f64>,
}

#[derive(Clone)]
pub enum Analyzer {
    LogPattern {
        scans: Vec<String>,
        group_by: Option<String>,
    },
    ObjectMatch {
        source: String,
        all: Vec<Cond>,
        any: Vec<Cond>,
        vars: Vec<(String, objpath::Path)>,
        evidence: Option<objpath::Path>,
    },
    /// Bound to its Rust function by the check's id when the catalog is validated.
    Builtin,
    NotImplemented,
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Analyzer::LogPattern { .. } => f.write_str("log-pattern"),
            Analyzer::ObjectMatch { source, .. } => write!(f, "object-match over {source}"),
            Analyzer::Builtin => f.write_str("built-in"),
            Analyzer::NotImplemented => f.write_str("not implemented"),
        }
    }
}

/// A check ready to run: its spec and its compiled logic.
#[derive(Debug, Clone)]
pub struct Check {
    pub spec: CheckSpec,
    pub scans: Vec<Scan>,
    pub analyzer: Analyzer,
    /// Where the spec came from (`analyzers/gke/x.yaml` or an override file).
    pub origin: String,
    /// The spec file's text, for errors that name a line.
    pub text: String,
    /// The texts this check takes from its family's `_shared.yaml` (`phrases.wi-unused`,
    /// `not_evaluated.wi-unused`): validated once, against the family, not per check.
    pub inherited: BTreeSet<String>,
}

/// Texts every check of a family may use, in `analyzers/<family>/_shared.yaml`: the reasons and
/// phrases several checks give alike ("Workload Identity is not in use: …"), written once.
/// A check's own texts of the same name win.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shared {
    #[serde(default)]
    pub phrases: BTreeMap<String, String>,
    #[serde(default)]
    pub not_evaluated: BTreeMap<String, String>,
}

/// Whether a spec file holds a family's shared texts rather than a check.
pub fn is_shared_file(path: &str) -> bool {
    path.rsplit('/').next() == Some("_shared.yaml")
}

/// The family a spec file's texts are shared with: the folder holding it.
fn shared_family(path: &str) -> String {
    let mut parts = path.rsplit('/');
    parts.next();
    parts.next().unwrap_or_default().to_string()
}

/// Parses a `_shared.yaml`.
pub fn compile_shared(file: &str, text: &str) -> Result<Shared, SpecError> {
    yaml::from_str::<Shared>(text).map_err(|e| SpecError {
        file: file.to_string(),
        message: e,
        ..SpecError::default()
    })
}

/// Gives every check of `family` the shared texts it does not define itself.
fn apply_shared(checks: &mut [Check], family: &str, shared: &Shared) {
    for c in checks
        .iter_mut()
        .filter(|c| c.spec.id.split('/').next() == Some(family))
    {
        for (k, v) in &shared.phrases {
            let name = format!("phrases.{k}");
            if !c.spec.phrases.contains_key(k) || c.inherited.contains(&name) {
                c.spec.phrases.insert(k.clone(), v.clone());
                c.inherited.insert(name);
            }
        }
        for (k, v) in &shared.not_evaluated {
            let name = format!("not_evaluated.{k}");
            if !c.spec.not_evaluated.variants.contains_key(k) || c.inherited.contains(&name) {
                c.spec.not_evaluated.variants.insert(k.clone(), v.clone());
                c.inherited.insert(name);
            }
        }
    }
}

/// A spec that cannot be used: names the file, the line, the check and the field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecError {
    pub file: String,
    /// The 1-based line of the spec file the problem is on, when it can be told.
    pub line: Option<usize>,
    pub check: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.check.is_empty() {
            write!(f, ": check {}", self.check)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SpecError {}

/// The whole catalog, sorted by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub checks: Vec<Check>,
}

impl Catalog {
    /// The catalog compiled into the binary.
    pub fn embedded() -> Result<Catalog, SpecError> {
        let mut checks = Vec::new();
        let mut shared = Vec::new();
        for (rel, text) in EMBEDDED {
            let file = format!("analyzers/{rel}");
            if is_shared_file(&file) {
                shared.push((shared_family(&file), compile_shared(&file, text)?));
            } else {
                checks.push(compile(&file, text)?);
            }
        }
        for (family, s) in &shared {
            apply_shared(&mut checks, family, s);
        }
        Catalog::from_checks(checks)
    }

    /// Every spec file under `dir`, compiled: the checks that compile, and every error (not
    /// only the first), for `kubetriage check-spec`.
    pub fn compile_dir(dir: &Path) -> (Vec<Check>, Vec<SpecError>) {
        let mut files = Vec::new();
        if let Err(e) = collect_yaml(dir, &mut files) {
            return (
                Vec::new(),
                vec![SpecError {
                    file: dir.display().to_string(),
                    message: format!("cannot read the analyzers folder: {e}"),
                    ..SpecError::default()
                }],
            );
        }
        files.sort();
        let (mut ok, mut errors) = (Vec::new(), Vec::new());
        for f in files {
            let name = f.display().to_string();
            match std::fs::read_to_string(&f) {
                Ok(text) if is_shared_file(&name) => {
                    if let Err(e) = compile_shared(&name, &text) {
                        errors.push(e);
                    }
                }
                Ok(text) => match compile(&name, &text) {
                    Ok(c) => ok.push(c),
                    Err(e) => errors.push(e),
                },
                Err(e) => errors.push(SpecError {
                    file: name,
                    message: format!("cannot read: {e}"),
                    ..SpecError::default()
                }),
            }
        }
        (ok, errors)
    }

    /// The embedded catalog with every spec under `dir` added, or replacing the check of the
    /// same id.
    pub fn with_overrides(dir: &Path) -> Result<Catalog, SpecError> {
        let mut cat = Catalog::embedded()?;
        let mut files = Vec::new();
        collect_yaml(dir, &mut files).map_err(|e| SpecError {
            line: None,
            file: dir.display().to_string(),
            check: String::new(),
            field: String::new(),
            message: format!("cannot read the analyzers folder: {e}"),
        })?;
        if files.is_empty() {
            return Err(SpecError {
                line: None,
                file: dir.display().to_string(),
                check: String::new(),
                field: String::new(),
                message: "no .yaml spec files in this folder".into(),
            });
        }
        files.sort();
        for f in files {
            let name = f.display().to_string();
            let text = std::fs::read_to_string(&f).map_err(|e| SpecError {
                line: None,
                file: name.clone(),
                check: String::new(),
                field: String::new(),
                message: format!("cannot read: {e}"),
            })?;
            if is_shared_file(&name) {
                apply_shared(
                    &mut cat.checks,
                    &shared_family(&name),
                    &compile_shared(&name, &text)?,
                );
                continue;
            }
            let check = compile(&name, &text)?;
            match cat.checks.iter_mut().find(|c| c.spec.id == check.spec.id) {
                Some(slot) => {
                    // A user rewording a built-in check keeps the catalog's reasons and
                    // phrases it does not redefine: its function still asks for them.
                    let mut check = check;
                    let (old, new) = (&slot.spec, &mut check.spec);
                    let mut taken = Vec::new();
                    if new.not_evaluated.is_empty() {
                        new.not_evaluated = old.not_evaluated.clone();
                        taken.extend(
                            old.not_evaluated
                                .variants
                                .keys()
                                .map(|k| format!("not_evaluated.{k}")),
                        );
                    }
                    for (k, v) in &old.phrases {
                        if !new.phrases.contains_key(k) {
                            new.phrases.insert(k.clone(), v.clone());
                            taken.push(format!("phrases.{k}"));
                        }
                    }
                    // What the family shares stays validated once, for the family.
                    check
                        .inherited
                        .extend(taken.into_iter().filter(|t| slot.inherited.contains(t)));
                    *slot = check
                }
                None => cat.checks.push(check),
            }
        }
        Catalog::from_checks(cat.checks)
    }

    fn from_checks(mut checks: Vec<Check>) -> Result<Catalog, SpecError> {
        checks.sort_by(|a, b| a.spec.id.cmp(&b.spec.id));
        for w in checks.windows(2) {
            if w[0].spec.id == w[1].spec.id {
                return Err(SpecError {
                    line: None,
                    file: w[1].origin.clone(),
                    check: w[1].spec.id.clone(),
                    field: "id".into(),
                    message: format!("the same id is already defined in {}", w[0].origin),
                });
            }
        }
        Ok(Catalog { checks })
    }

    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.spec.id == id)
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect_yaml(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Parses and validates one spec file.
pub fn compile(file: &str, text: &str) -> Result<Check, SpecError> {
    let err = |check: &str, field: &str, message: String| SpecError {
        line: field_line(text, field),
        file: file.to_string(),
        check: check.to_string(),
        field: field.to_string(),
        message,
    };
    // Read the id first, so that every later error can name the check.
    let id = yaml::parse_documents(text)
        .ok()
        .and_then(|d| {
            d.first()
                .and_then(|v| v.get("id"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let spec: CheckSpec = yaml::from_str(text).map_err(|e| {
        let unknown = e
            .split_once("unknown field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_string());
        let field = unknown.clone().unwrap_or_else(|| {
            e.split(':')
                .next()
                .filter(|f| !f.contains(' '))
                .unwrap_or("")
                .to_string()
        });
        let line =
            yaml_error_line(&e).or_else(|| unknown.as_deref().and_then(|u| key_line(text, u)));
        SpecError {
            line,
            ..err(&id, &field, e)
        }
    })?;
    let id = spec.id.clone();
    let valid_id = id.split_once('/').is_some_and(|(g, n)| {
        !g.is_empty()
            && !n.is_empty()
            && id.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '/' | '-' | '.' | '_')
            })
    });
    if !valid_id {
        return Err(err(
            &id,
            "id",
            "ids look like `group/name` in lower case (e.g. `gke/rbac-forbidden`)".into(),
        ));
    }
    for (field, t) in [("title", &spec.title), ("explanation", &spec.explanation)] {
        if t.trim().is_empty() {
            return Err(err(&id, field, "must not be empty".into()));
        }
    }
    let mut scans = Vec::new();
    for (i, s) in spec.scan.iter().enumerate() {
        let field = format!("scan[{i}]");
        if scans.iter().any(|x: &Scan| x.name == s.name) {
            return Err(err(
                &id,
                &format!("{field}.name"),
                format!("scan name {:?} is used twice", s.name),
            ));
        }
        let mut gs = GlobSetBuilder::new();
        let mut file_globs = Vec::new();
        for g in &s.files {
            let expanded: Vec<&str> = if g == "@text" {
                TEXT_SOURCES.to_vec()
            } else {
                vec![g.as_str()]
            };
            for g in expanded {
                let glob = globset::GlobBuilder::new(g)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        err(
                            &id,
                            &format!("{field}.files"),
                            format!("bad glob {g:?}: {e}"),
                        )
                    })?;
                gs.add(glob);
                file_globs.push(g.to_string());
            }
        }
        if file_globs.is_empty() {
            return Err(err(
                &id,
                &format!("{field}.files"),
                "list at least one file glob".into(),
            ));
        }
        let files = gs
            .build()
            .map_err(|e| err(&id, &format!("{field}.files"), e.to_string()))?;
        let regex = regex::bytes::Regex::new(&s.regex)
            .map_err(|e| err(&id, &format!("{field}.regex"), e.to_string()))?;
        let exclude = match &s.exclude {
            Some(x) => Some(
                regex::bytes::Regex::new(x)
                    .map_err(|e| err(&id, &format!("{field}.exclude"), e.to_string()))?,
            ),
            None => None,
        };
        scans.push(Scan {
            name: s.name.clone(),
            files,
            file_globs,
            regex,
            exclude,
        });
    }
    let analyzer = match &spec.analyzer {
        None => Analyzer::NotImplemented,
        Some(AnalyzerSpec::LogPattern {
            scans: names,
            group_by,
        }) => {
            if scans.is_empty() {
                return Err(err(
                    &id,
                    "scan",
                    "a log-pattern analyzer needs at least one scan".into(),
                ));
            }
            // A JSON list read line by line misses what its escaping changes (quotes, newlines
            // in messages); read it by field instead.
            if let Some((i, g)) = spec.scan.iter().enumerate().find_map(|(i, s)| {
                s.files
                    .iter()
                    .find(|g| g.ends_with(".json") && g.as_str() != "manifest.json")
                    .map(|g| (i, g))
            }) {
                return Err(err(
                    &id,
                    &format!("scan[{i}].files"),
                    format!(
                        "{g} is JSON: a line pattern sees its escaped text, not its values; read a \
                         list by field with `kind: object-match` and `source: {g}`"
                    ),
                ));
            }
            for n in names {
                if !scans.iter().any(|s| &s.name == n) {
                    return Err(err(
                        &id,
                        "analyzer.scans",
                        format!("no scan is named {n:?}"),
                    ));
                }
            }
            Analyzer::LogPattern {
                scans: names.clone(),
                group_by: group_by.clone(),
            }
        }
        Some(AnalyzerSpec::ObjectMatch {
            source,
            all,
            any,
            vars,
            evidence,
        }) => {
            let conds = |list: &[CondSpec], field: &str| -> Result<Vec<Cond>, SpecError> {
                list.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        compile_cond(c).map_err(|m| err(&id, &format!("analyzer.{field}[{i}]"), m))
                    })
                    .collect()
            };
            let all = conds(all, "all")?;
            let any = conds(any, "any")?;
            if all.is_empty() && any.is_empty() {
                return Err(err(
                    &id,
                    "analyzer",
                    "an object-match analyzer needs `all` or `any` conditions".into(),
                ));
            }
            let vars = vars
                .iter()
                .map(|(k, p)| {
                    objpath::Path::parse(p)
                        .map(|p| (k.clone(), p))
                        .map_err(|m| err(&id, &format!("analyzer.vars.{k}"), m))
                })
                .collect::<Result<_, _>>()?;
            let evidence = match evidence {
                Some(p) => {
                    Some(objpath::Path::parse(p).map_err(|m| err(&id, "analyzer.evidence", m))?)
                }
                None => None,
            };
            Analyzer::ObjectMatch {
                source: source.clone(),
                all,
                any,
                vars,
                evidence,
            }
        }
        Some(AnalyzerSpec::Builtin {}) => Analyzer::Builtin,
    };
    // Placeholders: well formed everywhere; known by name where the spec alone says which
    // names exist (a built-in's names are checked when the catalog is bound to its functions).
    let known = match &analyzer {
        Analyzer::LogPattern { .. } => Some(scan_placeholders(&scans)),
        Analyzer::ObjectMatch { vars, all, any, .. } => Some(
            vars.iter()
                .map(|(k, _)| k.clone())
                .chain(
                    all.iter()
                        .chain(any)
                        .filter_map(|c| c.matches.as_ref())
                        .flat_map(|r| r.capture_names().flatten().map(str::to_string)),
                )
                .collect(),
        ),
        Analyzer::Builtin | Analyzer::NotImplemented => None,
    };
    for (field, t) in spec.templates() {
        let names = template::check(t).map_err(|m| SpecError {
            line: text
                .lines()
                .position(|l| l.contains(&m.at))
                .map(|i| i + 1)
                .or_else(|| field_line(text, &field)),
            ..err(&id, &field, m.message)
        })?;
        if let Some(known) = &known
            && let Some(n) = names.iter().find(|n| !known.contains(*n))
        {
            return Err(unknown_placeholder(file, text, &id, &field, n, known));
        }
    }
    Ok(Check {
        spec,
        scans,
        analyzer,
        origin: file.to_string(),
        text: text.to_string(),
        inherited: BTreeSet::new(),
    })
}

/// The names every scanned line gives a template: where it is, the line itself, how many lines
/// a finding groups, and each scan's named captures.
pub const LINE_PLACEHOLDERS: &[&str] = &[
    "file",
    "namespace",
    "pod",
    "container",
    "node",
    "line",
    "count",
];

/// The placeholders a finding made of scanned lines can fill.
pub fn scan_placeholders(scans: &[Scan]) -> std::collections::BTreeSet<String> {
    let mut known: std::collections::BTreeSet<String> =
        LINE_PLACEHOLDERS.iter().map(|s| s.to_string()).collect();
    for s in scans {
        known.extend(s.regex.capture_names().flatten().map(str::to_string));
    }
    known
}

impl CheckSpec {
    /// Every template of the spec with its field name (`summary`, `remediation.docker`…).
    pub fn templates(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        for (field, text) in [
            ("summary", &self.summary),
            ("detail", &self.detail),
            ("remediation", &self.remediation),
            ("not_evaluated", &self.not_evaluated),
        ] {
            for (variant, t) in text.all() {
                let name = if text.variants.is_empty() {
                    field.to_string()
                } else {
                    format!("{field}.{variant}")
                };
                out.push((name, t));
            }
        }
        for (name, t) in &self.phrases {
            out.push((format!("phrases.{name}"), t.as_str()));
        }
        out
    }
}

/// "unknown placeholder" at the line that holds it.
pub fn unknown_placeholder(
    file: &str,
    text: &str,
    id: &str,
    field: &str,
    name: &str,
    known: &std::collections::BTreeSet<String>,
) -> SpecError {
    let needle = format!("{{{name}}}");
    SpecError {
        line: text
            .lines()
            .position(|l| l.contains(&needle))
            .map(|i| i + 1)
            .or_else(|| field_line(text, field)),
        file: file.to_string(),
        check: id.to_string(),
        field: field.to_string(),
        message: format!(
            "unknown placeholder {needle}; this check fills {}",
            known
                .iter()
                .map(|k| format!("{{{k}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The line of a field given as a path (`scan[0].regex`, `remediation.docker`): the top-level
/// key's line, then each named key below it.
pub fn field_line(text: &str, field: &str) -> Option<usize> {
    let mut parts = field
        .split(['.', '['])
        .filter(|p| !p.is_empty() && !p.ends_with(']'));
    let top = parts.next()?;
    let lines: Vec<&str> = text.lines().collect();
    let mut at = lines.iter().position(|l| {
        l.strip_prefix(top)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    })?;
    for p in parts {
        match lines[at + 1..].iter().position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.strip_prefix(p)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        }) {
            Some(i) => at += 1 + i,
            None => break,
        }
    }
    Some(at + 1)
}

/// The first line where `key:` is written, at any depth.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l
                .trim_start()
                .trim_start_matches("- ")
                .trim_start_matches('{');
            t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
                || l.contains(&format!(" {key}:"))
                || l.contains(&format!("{{{key}:"))
        })
        .map(|i| i + 1)
}

/// The line a YAML parser error names ("… at line 7 column 3").
fn yaml_error_line(message: &str) -> Option<usize> {
    let rest = message.split_once("at line ")?.1;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn compile_cond(c: &CondSpec) -> Result<Cond, String> {
    let ops = [
        c.equals.is_some(),
        c.one_of.is_some(),
        c.matches.is_some(),
        c.exists.is_some(),
        c.greater_than.is_some(),
    ];
    if ops.iter().filter(|x| **x).count() != 1 {
        return Err("give exactly one of equals, in, matches, exists, greater_than".into());
    }
    Ok(Cond {
        path: objpath::Path::parse(&c.path)?,
        equals: c.equals.clone(),
        one_of: c.one_of.clone(),
        matches: match &c.matches {
            Some(r) => Some(regex::Regex::new(r).map_err(|e| e.to_string())?),
            None => None,
        },
        exists: c.exists,
        greater_than: c.greater_than,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str =
        "id: test/x\nseverity: warning\ntitle: T\nexplanation: E\ndocs: {seed: s, section: S}\n";

    #[test]
    fn the_embedded_catalog_compiles() {
        let cat = Catalog::embedded().unwrap();
        assert!(!cat.checks.is_empty());
    }

    #[test]
    fn errors_name_file_check_and_field() {
        let e = compile(
            "a.yaml",
            &format!("{MINIMAL}analyzer: {{kind: log-pattern, group-by: pod}}\n"),
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.check.as_str()), ("a.yaml", "test/x"));
        assert!(e.to_string().contains("group-by"), "{e}");
        let e = compile(
            "a.yaml",
            &format!("{MINIMAL}scan: [{{name: a, files: [x], regex: '('}}]\n"),
        )
        .unwrap_err();
        assert_eq!(e.field, "scan[0].regex");
        let e = compile("a.yaml", &format!("{MINIMAL}colour: red\n")).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        assert_eq!(e.check, "test/x");
        let e = compile("a.yaml", &MINIMAL.replace("test/x", "Bad Id")).unwrap_err();
        assert_eq!(e.field, "id");
        let e = compile("a.yaml", &format!("{MINIMAL}analyzer: {{kind: object-match, source: x, all: [{{path: a, equals: 1, exists: true}}]}}\n")).unwrap_err();
        assert_eq!(e.field, "analyzer.all[0]");
    }

    #[test]
    fn typos_are_errors_with_the_line() {
        let spec = "id: team/x\nseverity: warning\ntitle: T\nexplanation: E\n\
                    summary: \"image {imgae}\"\nanalyzer:\n  kind: log-pattern\n  group-by: pod\n\
                    scan: [{name: a, files: [x], regex: 'b(?P<image>x)'}]\n";
        let e = compile("t.yaml", spec).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(8), "group-by"), "{e}");
        let e = compile("t.yaml", &spec.replace("  group-by: pod\n", "")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(5), "summary"), "{e}");
        assert!(e.message.contains("{imgae}"), "{e}");
        let fixed = spec
            .replace("  group-by: pod\n", "")
            .replace("imgae", "image");
        compile("t.yaml", &fixed).unwrap();
        let e = compile(
            "t.yaml",
            &fixed.replace(
                "summary: \"image {image}\"",
                "remediation: |\n  a\n  b {pod\n",
            ),
        )
        .unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(7), "remediation"), "{e}");
        assert!(e.to_string().starts_with("t.yaml:7: check team/x"), "{e}");
    }

    #[test]
    fn docs_are_optional_and_take_a_url_or_text() {
        let base = "id: team/x\nseverity: warning\ntitle: T\nexplanation: E\n";
        assert!(compile("t.yaml", base).unwrap().spec.docs.is_empty());
        let c = compile(
            "t.yaml",
            &format!("{base}docs: https://example.com/runbook\n"),
        )
        .unwrap();
        assert_eq!(
            c.spec.docs.url.as_deref(),
            Some("https://example.com/runbook")
        );
        let c = compile("t.yaml", &format!("{base}docs: our runbook, page 4\n")).unwrap();
        assert_eq!(c.spec.docs.cite(), "our runbook, page 4");
    }

    #[test]
    fn texts_take_variants_that_fall_back_to_the_default() {
        let c = compile(
            "t.yaml",
            "id: team/x\nseverity: warning\ntitle: T\nexplanation: E\n\
             remediation:\n  default: restart it\n  docker: systemctl restart docker\n",
        )
        .unwrap();
        assert_eq!(
            c.spec.remediation.pick(&["docker"]),
            "systemctl restart docker"
        );
        assert_eq!(c.spec.remediation.pick(&["containerd"]), "restart it");
        assert_eq!(c.spec.remediation.pick(&[]), "restart it");
    }

    #[test]
    fn text_alias_expands() {
        let c = compile("a.yaml", &format!("{MINIMAL}scan: [{{name: a, files: ['@text'], regex: 'x'}}]\nanalyzer: {{kind: log-pattern}}\n")).unwrap();
        assert!(c.scans[0].files.is_match("captured/kubeadm-init.txt"));
        assert!(c.scans[0].files.is_match("nodes/n1/journal/kubelet.log"));
        assert!(!c.scans[0].files.is_match("kubectl/pods.json"));
    }
}
