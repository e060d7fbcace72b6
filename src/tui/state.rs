//! The UI's state: what the analysis produced (escaped once, when it arrives), which view is
//! shown, the selection, filters, searches and viewer positions, and how each action changes
//! them. Rendering reads this state; only the viewer touches the disk (to read the lines it
//! shows).

use super::keys::{Action, Mode, Tab};
use super::objects::{self, Link, ObjectView};
use super::search::{BundleSearch, Target};
use super::timeline::{Anchor, TimelineView};
use super::verdicts::VerdictView;
use super::viewer::Viewer;
use crate::manifest::SourceStatus;
use crate::model::{Severity, Status};
use crate::pipeline::Analysis;
use crate::report::Summary;
use crate::sanitize::{escape, escape_lines};
use crate::spec::Catalog;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The groups of the check list, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Findings,
    NotEvaluated,
    Passed,
    NotApplicable,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::Findings,
        Group::NotEvaluated,
        Group::Passed,
        Group::NotApplicable,
    ];

    pub fn of(status: Status) -> Group {
        match status {
            Status::Finding => Group::Findings,
            Status::NotEvaluated => Group::NotEvaluated,
            Status::Pass => Group::Passed,
            Status::NotApplicable => Group::NotApplicable,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Group::Findings => "Checks with findings",
            Group::NotEvaluated => "Not evaluated",
            Group::Passed => "Passed",
            Group::NotApplicable => "Not applicable",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One evidence item, escaped for display.
#[derive(Debug, Clone)]
pub struct EvidenceView {
    /// The bundle path as in the bundle, to open it.
    pub file: String,
    pub file_shown: String,
    pub line: usize,
    pub end_line: usize,
    /// The first line of the excerpt.
    pub excerpt: String,
    /// Where in `excerpt` the proof is (see `excerpt::focus`): a shortened excerpt keeps it.
    pub focus: usize,
}

#[derive(Debug, Clone)]
pub struct FindingView {
    pub summary: String,
    pub detail: String,
    pub remediation: String,
    pub severity: Severity,
    pub occurrences: usize,
    pub evidence: Vec<EvidenceView>,
}

/// One check's result with its catalog words, escaped for display.
#[derive(Debug, Clone)]
pub struct CheckView {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// The worst finding's severity, or the check's.
    pub severity: Severity,
    pub reason: String,
    pub explanation: String,
    /// The page and section the check follows, and its address.
    pub docs: String,
    pub docs_url: String,
    pub reads: Vec<String>,
    pub findings: Vec<FindingView>,
}

impl CheckView {
    /// True when `needle` (lowercase) is in the id, the title, or a finding's words or evidence
    /// paths: a pod or node name finds the checks that name it.
    pub fn mentions(&self, needle: &str) -> bool {
        let has = |s: &str| s.to_lowercase().contains(needle);
        has(&self.id)
            || has(&self.title)
            || self.findings.iter().any(|f| {
                has(&f.summary) || has(&f.detail) || f.evidence.iter().any(|e| has(&e.file))
            })
    }
}

/// What a file of the bundle browser is, per the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Full bundle path (raw) of the file or folder.
    pub path: String,
    /// Its last component, escaped.
    pub name: String,
    pub depth: usize,
    pub is_dir: bool,
    pub size: u64,
    /// Recorded in the manifest but not in the bundle.
    pub missing: bool,
    /// failed, timeout, skipped, "redacted N", "bounded ..." (escaped).
    pub marks: Vec<String>,
}

/// A source the collector could not get, and the checks that left not evaluated.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub status: SourceStatus,
    pub path: String,
    pub path_shown: String,
    pub detail: String,
    pub command: String,
    pub in_bundle: bool,
    /// Indexes into `Model::checks`.
    pub affected: Vec<usize>,
}

/// The analysis as the UI shows it: every string from the bundle escaped once, here.
#[derive(Debug, Clone)]
pub struct Model {
    pub source: String,
    pub format: String,
    /// The platform the checks ran for, and the tool that wrote the bundle when not ours.
    pub platform: String,
    pub cluster: String,
    pub created: String,
    /// The bundle was written by another tool, not our collector.
    pub foreign: bool,
    pub summary: Summary,
    pub warnings: Vec<String>,
    /// Findings (worst first), then not evaluated, then passed; by id within each.
    pub checks: Vec<CheckView>,
    pub files: Vec<FileEntry>,
    pub sources: Vec<SourceView>,
    /// Entries refused or skipped while opening the bundle: (file, problem).
    pub problems: Vec<(String, String)>,
    /// The verdicts another tool wrote into the bundle (troubleshoot's `analysis.json`).
    pub verdicts: Vec<VerdictView>,
}

impl Model {
    pub fn new(a: &Analysis, catalog: &Catalog) -> Model {
        let r = &a.report;
        let b = &r.bundle;
        let mut cluster = Vec::new();
        if let Some(n) = &b.cluster.name {
            cluster.push(escape(n).into_owned());
        }
        if let Some(p) = &b.cluster.project {
            cluster.push(format!("project {}", escape(p)));
        }
        if let Some(l) = &b.cluster.location {
            cluster.push(escape(l).into_owned());
        }
        let mut checks: Vec<CheckView> = r
            .checks
            .iter()
            .map(|c| {
                let spec = catalog.get(&c.id).map(|k| &k.spec);
                CheckView {
                    id: escape(&c.id).into_owned(),
                    title: escape(&c.title).into_owned(),
                    status: c.status,
                    severity: c.worst_finding().unwrap_or(c.severity),
                    reason: escape(&c.reason).into_owned(),
                    explanation: spec
                        .map(|s| escape_lines(s.explanation.trim_end()))
                        .unwrap_or_default(),
                    docs: spec
                        .map(|s| {
                            let r = crate::reference::of(&s.docs);
                            escape(&format!("{}, section \"{}\"", r.page, r.section)).into_owned()
                        })
                        .unwrap_or_default(),
                    docs_url: spec
                        .and_then(|s| crate::reference::of(&s.docs).url)
                        .map(|u| escape(&u).into_owned())
                        .unwrap_or_default(),
                    reads: spec
                        .map(|s| s.reads.iter().map(|r| escape(r).into_owned()).collect())
                        .unwrap_or_default(),
                    findings: c
                        .findings
                        .iter()
                        .map(|f| FindingView {
                            summary: escape(&f.summary).into_owned(),
                            detail: escape_lines(f.detail.trim_end()),
                            remediation: escape_lines(f.remediation.trim_end()),
                            severity: f.severity,
                            occurrences: f.occurrences,
                            evidence: f
                                .evidence
                                .iter()
                                .map(|e| {
                                    let excerpt =
                                        escape(e.excerpt.lines().next().unwrap_or("").trim_end())
                                            .into_owned();
                                    EvidenceView {
                                        file: e.file.clone(),
                                        file_shown: escape(&e.file).into_owned(),
                                        line: e.line,
                                        end_line: e.end_line.max(e.line),
                                        focus: crate::excerpt::focus(&excerpt, catalog.get(&c.id)),
                                        excerpt,
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect();
        checks.sort_by(|x, y| {
            (Group::of(x.status), x.severity, &x.id).cmp(&(Group::of(y.status), y.severity, &y.id))
        });

        let sources = match &a.manifest {
            None => Vec::new(),
            Some(m) => m
                .sources
                .iter()
                .filter(|s| s.status() != SourceStatus::Ok)
                .map(|s| {
                    let affected = affected_checks(&s.path, &r.checks, catalog, &checks);
                    SourceView {
                        status: s.status(),
                        path: s.path.clone(),
                        path_shown: escape(&s.path).into_owned(),
                        detail: escape(&s.detail()).into_owned(),
                        command: escape(&s.command.join(" ")).into_owned(),
                        in_bundle: a.bundle.file(&s.path).is_some(),
                        affected,
                    }
                })
                .collect(),
        };

        Model {
            source: escape(&b.source).into_owned(),
            format: b.format.clone(),
            platform: escape(&b.kind()).into_owned(),
            foreign: !b.layout.is_empty() && b.layout != "kubetriage",
            cluster: cluster.join(", "),
            created: b
                .created
                .clone()
                .unwrap_or_else(|| "unknown time".to_string()),
            summary: r.summary.clone(),
            warnings: b.warnings.iter().map(|w| escape(w).into_owned()).collect(),
            checks,
            files: file_tree(a),
            sources,
            problems: b
                .problems
                .iter()
                .map(|p| {
                    let file = if p.file.is_empty() {
                        "(archive)".to_string()
                    } else {
                        escape(&p.file).into_owned()
                    };
                    (file, escape(&p.problem).into_owned())
                })
                .collect(),
            verdicts: super::verdicts::views(&r.tool_verdicts),
        }
    }

    pub fn count(&self, g: Group) -> usize {
        self.checks
            .iter()
            .filter(|c| Group::of(c.status) == g)
            .count()
    }
}

/// Not-evaluated checks that a missing source explains: their reason names the file, or they
/// read it and their reason is about missing data (not, say, "not implemented").
fn affected_checks(
    path: &str,
    results: &[crate::model::CheckResult],
    catalog: &Catalog,
    shown: &[CheckView],
) -> Vec<usize> {
    let mut ids = Vec::new();
    for c in results.iter().filter(|c| c.status == Status::NotEvaluated) {
        let named = c.reason.contains(path);
        let about_data = ["not collected", "not in the bundle", "missing", "no "]
            .iter()
            .any(|w| c.reason.contains(w));
        let reads = about_data
            && catalog.get(&c.id).is_some_and(|k| {
                k.spec.reads.iter().any(|g| {
                    globset::Glob::new(g)
                        .map(|g| g.compile_matcher().is_match(path))
                        .unwrap_or(false)
                })
            });
        if named || reads {
            ids.push(escape(&c.id).into_owned());
        }
    }
    shown
        .iter()
        .enumerate()
        .filter(|(_, c)| ids.contains(&c.id))
        .map(|(i, _)| i)
        .collect()
}

/// The bundle's files as sent (and the manifest's sources missing from it) as a flattened tree.
fn file_tree(a: &Analysis) -> Vec<FileEntry> {
    let mut paths: Vec<(String, u64, bool)> = a
        .bundle
        .sent
        .iter()
        .map(|f| (f.path.clone(), f.size, false))
        .collect();
    if let Some(m) = &a.manifest {
        let mut added = std::collections::HashSet::new();
        for s in &m.sources {
            if !s.path.is_empty()
                && !s.path.ends_with('/')
                && a.bundle.file(&s.path).is_none()
                && added.insert(s.path.as_str())
            {
                paths.push((s.path.clone(), 0, true));
            }
        }
    }
    paths.sort();
    let mut out: Vec<FileEntry> = Vec::new();
    let mut open_dirs: Vec<String> = Vec::new();
    for (path, size, missing) in paths {
        let parts: Vec<&str> = path.split('/').collect();
        let dirs = &parts[..parts.len() - 1];
        // Close folders that are not ancestors of this path.
        let mut keep = 0;
        while keep < open_dirs.len() && keep < dirs.len() && open_dirs[keep] == dirs[keep] {
            keep += 1;
        }
        open_dirs.truncate(keep);
        for (d, name) in dirs.iter().enumerate().skip(keep) {
            out.push(FileEntry {
                path: dirs[..=d].join("/"),
                name: escape(name).into_owned(),
                depth: d,
                is_dir: true,
                size: 0,
                missing: false,
                marks: Vec::new(),
            });
            open_dirs.push(name.to_string());
        }
        let mut marks = Vec::new();
        if let Some(src) = a.manifest.as_ref().and_then(|m| m.source(&path)) {
            if src.status() != SourceStatus::Ok {
                marks.push(src.status().as_str().to_string());
            }
            if let Some(n) = src.redactions.filter(|n| *n > 0) {
                marks.push(format!("redacted {n}"));
            }
            if let Some(bound) = src.bound.as_ref().filter(|b| !b.is_null()) {
                let text = match bound {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let short: String = text.chars().take(40).collect();
                marks.push(format!("bounded {}", escape(&short)));
            }
        }
        if missing {
            marks.push("not in bundle".to_string());
        }
        let name = escape(parts[parts.len() - 1]).into_owned();
        let depth = dirs.len();
        out.push(FileEntry {
            name,
            path,
            depth,
            is_dir: false,
            size,
            missing,
            marks,
        });
    }
    // Folder sizes: the sum of their files (one pass, with the open folders on a stack).
    let mut open: Vec<usize> = Vec::new();
    for i in 0..out.len() {
        while open.last().is_some_and(|&j| out[j].depth >= out[i].depth) {
            open.pop();
        }
        if out[i].is_dir {
            open.push(i);
        } else {
            let size = out[i].size;
            for &j in &open {
                out[j].size += size;
            }
        }
    }
    out
}

/// How far the background analysis has come, copied for display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loading {
    /// The bundle as given on the command line (escaped).
    pub source: String,
    pub phase: u8,
    pub archive_read: u64,
    pub archive_len: u64,
    pub scan_done: u64,
    pub scan_total: u64,
    /// Frames drawn while loading, for the spinner.
    pub ticks: u64,
}

/// A row of the check list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckRow {
    Group(Group, usize),
    Check(usize),
    /// The heading of another tool's verdicts, with how many are shown.
    Verdicts(usize),
    /// Index into `Model::verdicts`.
    Verdict(usize),
}

#[derive(Debug, Default)]
pub struct ChecksState {
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
    pub findings_only: bool,
    /// Hidden severities, by index into `Severity::ALL`.
    pub hidden: [bool; 4],
    pub collapsed: [bool; 4],
    /// Another tool's verdicts are folded.
    pub verdicts_folded: bool,
}

#[derive(Debug, Default)]
pub struct FilesState {
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
    pub collapsed: BTreeSet<String>,
}

/// A row of the collection problems view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollRow {
    Source(usize),
    /// (source, index into `Model::checks`)
    Affected(usize, usize),
    Problem(usize),
}

#[derive(Debug, Default)]
pub struct CollState {
    pub selected: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Text,
    Evidence,
}

#[derive(Debug)]
pub struct DetailState {
    /// Index into `Model::checks`.
    pub check: usize,
    pub focus: Pane,
    pub scroll: usize,
    /// Index into the flattened evidence list.
    pub selected: usize,
    pub offset: usize,
    /// Scroll the text to the selected evidence's finding at the next layout.
    pub follow: bool,
    /// Columns the command lines wider than the pane are scrolled sideways (`h`/`l`).
    pub left: usize,
}

/// A screen pushed over the top-level views.
#[derive(Debug)]
pub enum Screen {
    Detail(DetailState),
    Viewer(Box<Viewer>),
    Search(Box<BundleSearch>),
    Object(Box<ObjectView>),
    Timeline(Box<TimelineView>),
}

/// A program to hand the terminal to: the file at a line in the user's pager or editor. The
/// event loop resolves `$PAGER` / `$EDITOR` and runs it; the state only asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    pub editor: bool,
    pub path: std::path::PathBuf,
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    ChecksFilter,
    FilesFilter,
    ViewerSearch,
    BundleSearch,
    GotoLine,
    FilterLines,
    TimelineFilter,
}

#[derive(Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

/// The whole UI state.
pub struct App {
    pub catalog: Arc<Catalog>,
    pub analysis: Option<Arc<Analysis>>,
    pub model: Option<Model>,
    /// The timeline, once built on the background thread after the analysis.
    pub timeline: Option<Arc<crate::timeline::Timeline>>,
    /// The timeline will not come (its thread ended without it).
    pub timeline_lost: bool,
    pub loading: Loading,
    pub tab: Tab,
    pub stack: Vec<Screen>,
    pub checks: ChecksState,
    pub files: FilesState,
    pub coll: CollState,
    pub prompt: Option<Prompt>,
    pub help: bool,
    /// One line for the status bar, until the next key.
    pub message: Option<String>,
    pub quit: bool,
    /// Rows of the list or pane last laid out (for paging).
    pub page_rows: usize,
    /// Text to put on the clipboard; the event loop hands it to the terminal.
    pub clipboard: Option<String>,
    /// A count typed before a key (`42G`).
    pub count: Option<usize>,
    /// A program to run on the terminal; the event loop takes it.
    pub external: Option<External>,
}

impl App {
    pub fn new(catalog: Arc<Catalog>) -> App {
        App {
            catalog,
            analysis: None,
            model: None,
            timeline: None,
            timeline_lost: false,
            loading: Loading::default(),
            tab: Tab::Checks,
            stack: Vec::new(),
            checks: ChecksState {
                collapsed: [false, false, true, true],
                ..ChecksState::default()
            },
            files: FilesState::default(),
            coll: CollState::default(),
            prompt: None,
            help: false,
            message: None,
            quit: false,
            page_rows: 10,
            clipboard: None,
            count: None,
            external: None,
        }
    }

    /// Takes the finished analysis: escapes it once into the model.
    pub fn set_analysis(&mut self, a: Analysis) {
        self.model = Some(Model::new(&a, &self.catalog));
        self.analysis = Some(Arc::new(a));
        // Start on the first check.
        let rows = self.check_rows();
        self.checks.selected = rows
            .iter()
            .position(|r| matches!(r, CheckRow::Check(_)))
            .unwrap_or(0);
    }

    /// Takes the timeline built after the analysis; timeline views opened meanwhile show it.
    pub fn set_timeline(&mut self, tl: crate::timeline::Timeline) {
        let tl = Arc::new(tl);
        for s in &mut self.stack {
            if let Screen::Timeline(v) = s {
                v.attach(tl.clone());
            }
        }
        self.timeline = Some(tl);
    }

    /// The timeline's thread ended without one.
    pub fn timeline_failed(&mut self) {
        if !self.timeline_lost {
            self.timeline_lost = true;
            if matches!(self.stack.last(), Some(Screen::Timeline(_))) {
                self.message = Some("the timeline could not be built".into());
            }
        }
    }

    pub fn mode(&self) -> Mode {
        if self.prompt.is_some() {
            return Mode::Prompt;
        }
        if self.help {
            return Mode::Help;
        }
        match self.stack.last() {
            Some(Screen::Detail(_)) => Mode::Detail,
            Some(Screen::Viewer(_)) => Mode::Viewer,
            Some(Screen::Search(_)) => Mode::Search,
            Some(Screen::Object(_)) => Mode::Object,
            Some(Screen::Timeline(_)) => Mode::Timeline,
            None => match self.tab {
                Tab::Checks => Mode::Checks,
                Tab::Files => Mode::Files,
                Tab::Collection => Mode::Collection,
            },
        }
    }

    /// The mode whose keys `?` lists (the view under the help).
    pub fn help_mode(&self) -> Mode {
        match self.stack.last() {
            Some(Screen::Detail(_)) => Mode::Detail,
            Some(Screen::Viewer(_)) => Mode::Viewer,
            Some(Screen::Search(_)) => Mode::Search,
            Some(Screen::Object(_)) => Mode::Object,
            Some(Screen::Timeline(_)) => Mode::Timeline,
            None => match self.tab {
                Tab::Checks => Mode::Checks,
                Tab::Files => Mode::Files,
                Tab::Collection => Mode::Collection,
            },
        }
    }

    /// True while background work (a viewer indexing or searching) remains.
    pub fn busy(&self) -> bool {
        self.stack.iter().any(|s| match s {
            Screen::Viewer(v) => v.busy(),
            Screen::Search(s) => !s.done(),
            Screen::Timeline(t) => t.busy(),
            Screen::Detail(_) | Screen::Object(_) => false,
        })
    }

    /// Runs about `budget` bytes of the top viewer's background work.
    pub fn work(&mut self, budget: usize) {
        match self.stack.last_mut() {
            Some(Screen::Viewer(v)) => {
                v.work(budget);
            }
            Some(Screen::Search(s)) => {
                s.work(budget);
            }
            Some(Screen::Timeline(t)) => t.work(budget),
            _ => {}
        }
    }

    pub fn check_rows(&self) -> Vec<CheckRow> {
        let Some(m) = &self.model else {
            return Vec::new();
        };
        let needle = self.checks.filter.to_lowercase();
        let mut rows = Vec::new();
        for g in Group::ALL {
            if self.checks.findings_only && g != Group::Findings {
                continue;
            }
            let members: Vec<usize> = m
                .checks
                .iter()
                .enumerate()
                .filter(|(_, c)| Group::of(c.status) == g)
                .filter(|(_, c)| {
                    let si = Severity::ALL
                        .iter()
                        .position(|s| *s == c.severity)
                        .unwrap_or(0);
                    !self.checks.hidden[si]
                })
                .filter(|(_, c)| needle.is_empty() || c.mentions(&needle))
                .map(|(i, _)| i)
                .collect();
            if !members.is_empty() {
                rows.push(CheckRow::Group(g, members.len()));
                if !self.checks.collapsed[g.index()] {
                    rows.extend(members.into_iter().map(CheckRow::Check));
                }
            }
            // Another tool's verdicts follow kubetriage's findings, as in the text report.
            if g == Group::Findings && !self.checks.findings_only {
                rows.extend(super::verdicts::rows(
                    &m.verdicts,
                    &needle,
                    self.checks.verdicts_folded,
                ));
            }
        }
        rows
    }

    /// Indexes into `Model::files` of the rows shown.
    pub fn file_rows(&self) -> Vec<usize> {
        let Some(m) = &self.model else {
            return Vec::new();
        };
        let needle = self.files.filter.to_lowercase();
        if !needle.is_empty() {
            // Matching files and the folders that lead to them, folding ignored.
            let mut keep = vec![false; m.files.len()];
            let mut open: Vec<usize> = Vec::new();
            for (i, e) in m.files.iter().enumerate() {
                while open.last().is_some_and(|&j| m.files[j].depth >= e.depth) {
                    open.pop();
                }
                if e.is_dir {
                    open.push(i);
                } else if e.path.to_lowercase().contains(&needle) {
                    keep[i] = true;
                    for &j in &open {
                        keep[j] = true;
                    }
                }
            }
            return (0..m.files.len()).filter(|&i| keep[i]).collect();
        }
        let mut rows = Vec::new();
        let mut hide_below: Option<usize> = None;
        for (i, e) in m.files.iter().enumerate() {
            if let Some(d) = hide_below {
                if e.depth > d {
                    continue;
                }
                hide_below = None;
            }
            rows.push(i);
            if e.is_dir && self.files.collapsed.contains(&e.path) {
                hide_below = Some(e.depth);
            }
        }
        rows
    }

    pub fn coll_rows(&self) -> Vec<CollRow> {
        let Some(m) = &self.model else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        for (i, s) in m.sources.iter().enumerate() {
            rows.push(CollRow::Source(i));
            rows.extend(s.affected.iter().map(|&c| CollRow::Affected(i, c)));
        }
        rows.extend((0..m.problems.len()).map(CollRow::Problem));
        rows
    }

    /// The evidence of a check, flattened: (finding, evidence) indexes.
    pub fn evidence_items(&self, check: usize) -> Vec<(usize, usize)> {
        let Some(c) = self.model.as_ref().and_then(|m| m.checks.get(check)) else {
            return Vec::new();
        };
        c.findings
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| (0..f.evidence.len()).map(move |ei| (fi, ei)))
            .collect()
    }

    /// Applies one action.
    pub fn apply(&mut self, action: Action) {
        if !matches!(action, Action::PromptInput(_) | Action::PromptBackspace) {
            self.message = None;
        }
        let count = if matches!(action, Action::Digit(_)) {
            self.count
        } else {
            self.count.take()
        };
        if let Some(Screen::Viewer(v)) = self.stack.last_mut() {
            v.note = None;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = !self.help,
            Action::Back => {
                if self.stack.pop().is_none() {
                    self.quit = true;
                }
            }
            Action::Escape => self.escape(),
            Action::Search => self.open_prompt(),
            Action::PromptInput(c) => {
                if let Some(p) = &mut self.prompt {
                    p.text.push(c);
                }
                self.prompt_changed();
            }
            Action::PromptBackspace => {
                if let Some(p) = &mut self.prompt {
                    p.text.pop();
                }
                self.prompt_changed();
            }
            Action::PromptClear => {
                if let Some(p) = &mut self.prompt {
                    p.text.clear();
                }
                self.prompt_changed();
            }
            Action::PromptSubmit => {
                let Some(p) = self.prompt.take() else { return };
                match p.kind {
                    PromptKind::BundleSearch => self.start_bundle_search(&p.text),
                    PromptKind::ViewerSearch | PromptKind::GotoLine | PromptKind::FilterLines => {
                        let Some(Screen::Viewer(v)) = self.stack.last_mut() else {
                            return;
                        };
                        match p.kind {
                            PromptKind::ViewerSearch => v.start_search(&p.text),
                            PromptKind::FilterLines => {
                                v.start_search(&p.text);
                                v.only_matches = v.search.is_some();
                            }
                            _ => match p.text.trim().parse::<usize>() {
                                Ok(n) if n > 0 => v.goto(n),
                                _ => {
                                    v.note = Some(format!("not a line number: {}", escape(&p.text)))
                                }
                            },
                        }
                    }
                    PromptKind::ChecksFilter
                    | PromptKind::FilesFilter
                    | PromptKind::TimelineFilter => {}
                }
            }
            Action::ObjectView => self.open_named_object(),
            Action::Timeline => self.open_timeline(),
            Action::BundleSearch => {
                if self.stack.is_empty() && self.analysis.is_some() {
                    self.prompt = Some(Prompt {
                        kind: PromptKind::BundleSearch,
                        text: String::new(),
                    });
                }
            }
            Action::GotoPrompt | Action::FilterPrompt => {
                if let Some(Screen::Viewer(_)) = self.stack.last() {
                    let kind = if action == Action::GotoPrompt {
                        PromptKind::GotoLine
                    } else {
                        PromptKind::FilterLines
                    };
                    self.prompt = Some(Prompt {
                        kind,
                        text: String::new(),
                    });
                }
            }
            Action::Digit(d) => {
                if let Some(Screen::Viewer(v)) = self.stack.last_mut() {
                    if d == 0 && count.is_none() {
                        v.left = 0;
                    } else {
                        self.count = Some(
                            count
                                .unwrap_or(0)
                                .saturating_mul(10)
                                .saturating_add(usize::from(d))
                                .min(1 << 40),
                        );
                    }
                }
            }
            Action::Top | Action::Bottom
                if count.is_some() && matches!(self.stack.last(), Some(Screen::Viewer(_))) =>
            {
                if let (Some(Screen::Viewer(v)), Some(n)) = (self.stack.last_mut(), count) {
                    v.goto(n.max(1));
                }
            }
            Action::PromptCancel => {
                if let Some(p) = self.prompt.take() {
                    match p.kind {
                        PromptKind::ChecksFilter => self.checks.filter.clear(),
                        PromptKind::FilesFilter => self.files.filter.clear(),
                        PromptKind::TimelineFilter => {
                            if let Some(Screen::Timeline(t)) = self.stack.last_mut() {
                                t.filter.clear();
                                t.restart();
                            }
                        }
                        PromptKind::ViewerSearch
                        | PromptKind::BundleSearch
                        | PromptKind::GotoLine
                        | PromptKind::FilterLines => {}
                    }
                }
            }
            Action::GoTab(t) => {
                if self.stack.is_empty() {
                    self.tab = t;
                }
            }
            _ => match self.stack.last() {
                Some(Screen::Viewer(_)) => self.viewer_action(action),
                Some(Screen::Detail(_)) => self.detail_action(action),
                Some(Screen::Search(_)) => self.search_action(action),
                Some(Screen::Object(_)) => self.object_action(action),
                Some(Screen::Timeline(_)) => self.timeline_action(action),
                None => match self.tab {
                    Tab::Checks => self.checks_action(action),
                    Tab::Files => self.files_action(action),
                    Tab::Collection => self.coll_action(action),
                },
            },
        }
    }

    fn escape(&mut self) {
        match self.stack.last_mut() {
            Some(Screen::Viewer(v)) => {
                if v.search.is_some() {
                    v.search = None;
                    v.only_matches = false;
                    return;
                }
            }
            Some(Screen::Timeline(t)) => {
                if !t.filter.is_empty() {
                    t.filter.clear();
                    t.restart();
                    return;
                }
            }
            Some(Screen::Detail(_)) | Some(Screen::Search(_)) | Some(Screen::Object(_)) => {}
            None => match self.tab {
                Tab::Checks => {
                    if !self.checks.filter.is_empty() {
                        self.checks.filter.clear();
                        self.reselect_checks();
                    }
                    return;
                }
                Tab::Files => {
                    self.files.filter.clear();
                    return;
                }
                Tab::Collection => return,
            },
        }
        self.stack.pop();
    }

    fn open_prompt(&mut self) {
        let kind = match self.stack.last() {
            Some(Screen::Viewer(_)) => PromptKind::ViewerSearch,
            Some(Screen::Timeline(_)) => PromptKind::TimelineFilter,
            Some(Screen::Detail(_)) | Some(Screen::Search(_)) | Some(Screen::Object(_)) => return,
            None => match self.tab {
                Tab::Checks => PromptKind::ChecksFilter,
                Tab::Files => PromptKind::FilesFilter,
                Tab::Collection => return,
            },
        };
        let text = match kind {
            PromptKind::ChecksFilter => self.checks.filter.clone(),
            PromptKind::FilesFilter => self.files.filter.clone(),
            PromptKind::TimelineFilter => match self.stack.last() {
                Some(Screen::Timeline(t)) => t.filter.clone(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        self.prompt = Some(Prompt { kind, text });
    }

    /// Filters follow the prompt as it is typed.
    fn prompt_changed(&mut self) {
        let Some(p) = &self.prompt else { return };
        match p.kind {
            PromptKind::ChecksFilter => {
                self.checks.filter = p.text.clone();
                self.reselect_checks();
            }
            PromptKind::FilesFilter => {
                self.files.filter = p.text.clone();
                self.files.selected = 0;
                self.files.offset = 0;
            }
            PromptKind::TimelineFilter => {
                let text = p.text.clone();
                if let Some(Screen::Timeline(t)) = self.stack.last_mut() {
                    t.filter = text;
                    t.restart();
                }
            }
            _ => {}
        }
    }

    /// Starts a search for `pattern` across every file of the bundle and shows its hits as
    /// they arrive.
    fn start_bundle_search(&mut self, pattern: &str) {
        if pattern.is_empty() {
            return;
        }
        let Some(a) = &self.analysis else { return };
        let mut files: Vec<Target> = a
            .bundle
            .files
            .iter()
            .map(|f| Target {
                rel: f.path.clone(),
                shown: escape(&f.path).into_owned(),
                disk: a.bundle.disk_path(&f.path),
            })
            .collect();
        files.sort_by(|x, y| x.rel.cmp(&y.rel));
        match BundleSearch::new(pattern, files) {
            Ok(s) => self.stack.push(Screen::Search(Box::new(s))),
            Err(e) => self.message = Some(e),
        }
    }

    /// The bundle's files, JSON reader and findings' words, for the pod and node views.
    fn object_sources(&self) -> Option<objects::Sources<'_>> {
        let a = self.analysis.as_ref()?;
        let m = self.model.as_ref()?;
        Some(objects::Sources {
            files: a.bundle.files.iter().map(|f| f.path.as_str()).collect(),
            read_json: Box::new(|rel: &str| {
                a.bundle.file(rel)?;
                objects::read_json(&a.bundle.disk_path(rel))
            }),
            findings: m
                .checks
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.findings.is_empty())
                .map(|(i, c)| {
                    let words = c
                        .findings
                        .iter()
                        .map(|f| {
                            let files: Vec<&str> =
                                f.evidence.iter().map(|e| e.file.as_str()).collect();
                            format!("{} {} {}", f.summary, f.detail, files.join(" "))
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    (i, c.id.as_str(), words)
                })
                .collect(),
        })
    }

    /// `p`: the view of the pod or node that the selected evidence (or the viewer's file and
    /// line) names.
    fn open_named_object(&mut self) {
        let mut texts: Vec<String> = Vec::new();
        match self.stack.last() {
            Some(Screen::Detail(d)) => {
                let items = self.evidence_items(d.check);
                if let (Some(&(fi, ei)), Some(c)) = (
                    items.get(d.selected),
                    self.model.as_ref().and_then(|m| m.checks.get(d.check)),
                ) {
                    let f = &c.findings[fi];
                    texts.push(f.evidence[ei].file.clone());
                    texts.push(f.evidence[ei].excerpt.clone());
                    texts.push(f.summary.clone());
                }
            }
            Some(Screen::Viewer(v)) => {
                texts.push(v.rel.clone());
                if let Some(l) = v.window.iter().find(|l| l.number == v.cursor) {
                    texts.push(l.text.clone());
                }
            }
            _ => return,
        }
        let view = {
            let Some(src) = self.object_sources() else {
                return;
            };
            let (pods, nodes) = objects::known_names(&src);
            texts
                .iter()
                .find_map(|t| objects::named_in(t, &pods, &nodes))
                .map(|(kind, name)| objects::build(kind, &name, &src))
        };
        match view {
            Some(view) => self.stack.push(Screen::Object(Box::new(view))),
            None => self.message = Some("no pod or node is named here".into()),
        }
    }

    fn object_action(&mut self, action: Action) {
        let page = self.page_rows.max(1);
        let Some(Screen::Object(o)) = self.stack.last_mut() else {
            return;
        };
        match action {
            Action::Enter => {
                let Some(link) = o.rows.get(o.selected).and_then(|r| r.link.clone()) else {
                    return;
                };
                match link {
                    Link::File(rel, line) => {
                        let ev = self.evidence_in(&rel);
                        let start = if line <= 1 {
                            ev.iter().map(|e| e.0).min().unwrap_or(1)
                        } else {
                            line
                        };
                        self.open_file(&rel, ev, start);
                    }
                    Link::Check(i) => self.open_detail(i),
                    Link::Object(kind, name) => {
                        let view = self
                            .object_sources()
                            .map(|src| objects::build(kind, &name, &src));
                        if let Some(view) = view {
                            self.stack.push(Screen::Object(Box::new(view)));
                        }
                    }
                }
            }
            other => {
                // Move between the rows that lead somewhere, as in a list.
                let n = o.rows.len();
                o.selected = list_move(o.selected, n, page, other);
            }
        }
    }

    /// `t`: the timeline; from an evidence item or a viewer line, the entries around its time.
    fn open_timeline(&mut self) {
        if self.analysis.is_none() {
            return;
        }
        let anchor = match self.stack.last() {
            Some(Screen::Detail(d)) => {
                let items = self.evidence_items(d.check);
                let c = self.model.as_ref().and_then(|m| m.checks.get(d.check));
                match (items.get(d.selected), c) {
                    (Some(&(fi, ei)), Some(c)) => {
                        let e = &c.findings[fi].evidence[ei];
                        Some(Anchor {
                            file: e.file.clone(),
                            line: e.line,
                            text: e.excerpt.clone(),
                        })
                    }
                    _ => None,
                }
            }
            Some(Screen::Viewer(v)) => Some(Anchor {
                file: v.rel.clone(),
                line: v.cursor,
                text: v
                    .window
                    .iter()
                    .find(|l| l.number == v.cursor)
                    .map(|l| l.text.clone())
                    .unwrap_or_default(),
            }),
            Some(Screen::Timeline(_)) => return,
            _ => None,
        };
        let mut view = TimelineView::new(anchor);
        if let Some(tl) = &self.timeline {
            view.attach(tl.clone());
        } else if self.timeline_lost {
            self.message = Some("the timeline could not be built".into());
            return;
        }
        self.stack.push(Screen::Timeline(Box::new(view)));
    }

    fn timeline_action(&mut self, action: Action) {
        let page = self.page_rows.max(1);
        let Some(Screen::Timeline(t)) = self.stack.last_mut() else {
            return;
        };
        match action {
            Action::Enter => {
                let Some(e) = t.selected_entry() else { return };
                let (file, line) = (e.file.to_string(), e.line);
                let ev = self.evidence_in(&file);
                self.open_file(&file, ev, line);
            }
            Action::Severity(i) if i < 4 => {
                t.hidden[i] = !t.hidden[i];
                t.restart();
            }
            Action::FindingsOnly => {
                t.cited_only = !t.cited_only;
                t.restart();
            }
            Action::Widen => t.widen(true),
            Action::Narrow => t.widen(false),
            // Before the rows are there, a movement key must not stop the view from seeking
            // the line it was opened from.
            other if !t.rows.is_empty() => {
                let sel = list_move(t.selected, t.rows.len(), page, other);
                t.moved(sel);
            }
            _ => {}
        }
    }

    fn search_action(&mut self, action: Action) {
        let page = self.page_rows.max(1);
        let Some(Screen::Search(s)) = self.stack.last_mut() else {
            return;
        };
        match action {
            Action::Enter => {
                let Some(h) = s.hits.get(s.selected) else {
                    return;
                };
                let rel = s.files[h.file].rel.clone();
                let (line, raw) = (h.line, s.raw.clone());
                let ev = self.evidence_in(&rel);
                self.open_file(&rel, ev, line);
                if let Some(Screen::Viewer(v)) = self.stack.last_mut() {
                    v.start_search(&raw);
                    v.goto(line);
                }
            }
            other => s.selected = list_move(s.selected, s.hits.len(), page, other),
        }
    }

    /// After the rows changed, select the first check row.
    fn reselect_checks(&mut self) {
        let rows = self.check_rows();
        self.checks.selected = rows
            .iter()
            .position(|r| matches!(r, CheckRow::Check(_)))
            .unwrap_or(0);
        self.checks.offset = 0;
    }

    fn checks_action(&mut self, action: Action) {
        let rows = self.check_rows();
        let n = rows.len();
        let sel = self.checks.selected.min(n.saturating_sub(1));
        let page = self.page_rows.max(1);
        match action {
            Action::Enter | Action::Toggle | Action::Left | Action::Right => match rows.get(sel) {
                Some(CheckRow::Group(g, _)) => {
                    let c = &mut self.checks.collapsed[g.index()];
                    *c = match action {
                        Action::Left => true,
                        Action::Right => false,
                        _ => !*c,
                    };
                }
                Some(CheckRow::Check(i)) => match action {
                    Action::Enter => self.open_detail(*i),
                    Action::Left | Action::Toggle => {
                        let g = Group::of(
                            self.model
                                .as_ref()
                                .map(|m| m.checks[*i].status)
                                .unwrap_or(Status::Pass),
                        );
                        self.checks.collapsed[g.index()] = true;
                        let rows = self.check_rows();
                        self.checks.selected = rows
                            .iter()
                            .position(|r| matches!(r, CheckRow::Group(h, _) if *h == g))
                            .unwrap_or(0);
                    }
                    _ => {}
                },
                Some(CheckRow::Verdicts(_)) => {
                    let f = &mut self.checks.verdicts_folded;
                    *f = match action {
                        Action::Left => true,
                        Action::Right => false,
                        _ => !*f,
                    };
                }
                Some(CheckRow::Verdict(i)) => match action {
                    Action::Enter => {
                        let Some(v) = self.model.as_ref().and_then(|m| m.verdicts.get(*i)) else {
                            return;
                        };
                        let (file, line) = (v.file.clone(), v.line);
                        self.open_file(&file, vec![(line, line)], line);
                    }
                    Action::Left | Action::Toggle => {
                        self.checks.verdicts_folded = true;
                        self.checks.selected = self
                            .check_rows()
                            .iter()
                            .position(|r| matches!(r, CheckRow::Verdicts(_)))
                            .unwrap_or(0);
                    }
                    _ => {}
                },
                None => {}
            },
            Action::FindingsOnly => {
                self.checks.findings_only = !self.checks.findings_only;
                self.reselect_checks();
            }
            Action::Severity(i) if i < 4 => {
                self.checks.hidden[i] = !self.checks.hidden[i];
                self.reselect_checks();
            }
            Action::NextPane => self.tab = Tab::Files,
            Action::PrevPane => self.tab = Tab::Collection,
            other => self.checks.selected = list_move(sel, n, page, other),
        }
    }

    fn files_action(&mut self, action: Action) {
        let rows = self.file_rows();
        let n = rows.len();
        let sel = self.files.selected.min(n.saturating_sub(1));
        let page = self.page_rows.max(1);
        let entry = rows
            .get(sel)
            .and_then(|&i| self.model.as_ref().map(|m| m.files[i].clone()));
        match action {
            Action::Enter | Action::Toggle | Action::Left | Action::Right => {
                let Some(e) = entry else { return };
                if e.is_dir {
                    let folded = self.files.collapsed.contains(&e.path);
                    let fold = match action {
                        Action::Left => true,
                        Action::Right => false,
                        _ => !folded,
                    };
                    if fold {
                        self.files.collapsed.insert(e.path);
                    } else {
                        self.files.collapsed.remove(&e.path);
                    }
                } else if action == Action::Enter {
                    let ev = self.evidence_in(&e.path);
                    self.open_file(&e.path, ev, 1);
                } else if action == Action::Left {
                    // To the folder holding this file.
                    let parent = rows[..sel].iter().rposition(|&i| {
                        self.model
                            .as_ref()
                            .is_some_and(|m| m.files[i].is_dir && m.files[i].depth < e.depth)
                    });
                    if let Some(p) = parent {
                        self.files.selected = p;
                    }
                }
            }
            Action::NextPane => self.tab = Tab::Collection,
            Action::PrevPane => self.tab = Tab::Checks,
            other => self.files.selected = list_move(sel, n, page, other),
        }
    }

    fn coll_action(&mut self, action: Action) {
        let rows = self.coll_rows();
        let n = rows.len();
        let sel = self.coll.selected.min(n.saturating_sub(1));
        let page = self.page_rows.max(1);
        match action {
            Action::Enter => match rows.get(sel) {
                Some(CollRow::Affected(_, c)) => self.open_detail(*c),
                Some(CollRow::Source(s)) => {
                    let Some(src) = self.model.as_ref().map(|m| m.sources[*s].clone()) else {
                        return;
                    };
                    if src.in_bundle {
                        let ev = self.evidence_in(&src.path);
                        self.open_file(&src.path, ev, 1);
                    } else {
                        self.message = Some(format!(
                            "{} is not in the bundle: the collector could not get it",
                            src.path_shown
                        ));
                    }
                }
                Some(CollRow::Problem(_)) | None => {}
            },
            Action::NextPane => self.tab = Tab::Checks,
            Action::PrevPane => self.tab = Tab::Files,
            other => self.coll.selected = list_move(sel, n, page, other),
        }
    }

    fn open_detail(&mut self, check: usize) {
        let has_evidence = !self.evidence_items(check).is_empty();
        self.stack.push(Screen::Detail(DetailState {
            check,
            focus: if has_evidence {
                Pane::Evidence
            } else {
                Pane::Text
            },
            scroll: 0,
            selected: 0,
            offset: 0,
            follow: false,
            left: 0,
        }));
    }

    /// Every evidence range of every finding in `file`: a file opened from anywhere shows
    /// which of its lines prove something.
    pub fn evidence_in(&self, file: &str) -> Vec<(usize, usize)> {
        let Some(m) = &self.model else {
            return Vec::new();
        };
        m.checks
            .iter()
            .flat_map(|c| c.findings.iter())
            .flat_map(|f| f.evidence.iter())
            .filter(|e| e.file == file)
            .map(|e| (e.line, e.end_line))
            .collect()
    }

    /// Opens a bundle file in the viewer at `start`, with `evidence` highlighted.
    pub fn open_file(&mut self, rel: &str, evidence: Vec<(usize, usize)>, start: usize) {
        let Some(a) = &self.analysis else { return };
        if a.bundle.file(rel).is_none() {
            self.message = Some(format!("{} is not in the bundle", escape(rel)));
            return;
        }
        let disk = a.bundle.disk_path(rel);
        let v = Viewer::open(rel, &disk, evidence, start);
        self.stack.push(Screen::Viewer(Box::new(v)));
    }

    fn detail_action(&mut self, action: Action) {
        let Some(Screen::Detail(d)) = self.stack.last() else {
            return;
        };
        let check = d.check;
        let items = self.evidence_items(check);
        let page = self.page_rows.max(1);
        let Some(Screen::Detail(d)) = self.stack.last_mut() else {
            return;
        };
        match action {
            Action::NextPane | Action::PrevPane => {
                if !items.is_empty() {
                    d.focus = match d.focus {
                        Pane::Text => Pane::Evidence,
                        Pane::Evidence => Pane::Text,
                    };
                }
            }
            Action::HalfPageDown | Action::HalfPageUp if d.focus == Pane::Evidence => {
                // ctrl-d/ctrl-u always scroll the text.
                let half = (page / 2).max(1);
                d.follow = false;
                d.scroll = if action == Action::HalfPageDown {
                    d.scroll.saturating_add(half)
                } else {
                    d.scroll.saturating_sub(half)
                };
            }
            Action::Enter => {
                if let Some(&(fi, ei)) = items.get(d.selected) {
                    self.open_evidence(check, fi, ei);
                }
            }
            Action::Copy => {
                let finding = items.get(d.selected).map(|&(fi, _)| fi).unwrap_or(0);
                self.copy_finding(check, finding);
            }
            Action::Left => d.left = d.left.saturating_sub(8),
            Action::Right => d.left = (d.left + 8).min(1 << 12),
            other => match d.focus {
                Pane::Evidence => {
                    let before = d.selected;
                    d.selected = list_move(d.selected, items.len(), page, other);
                    if d.selected != before {
                        d.follow = true;
                    }
                }
                Pane::Text => {
                    d.follow = false;
                    let half = (page / 2).max(1);
                    d.scroll = match other {
                        Action::Down => d.scroll.saturating_add(1),
                        Action::Up => d.scroll.saturating_sub(1),
                        Action::HalfPageDown => d.scroll.saturating_add(half),
                        Action::HalfPageUp => d.scroll.saturating_sub(half),
                        Action::PageDown => d.scroll.saturating_add(page),
                        Action::PageUp => d.scroll.saturating_sub(page),
                        Action::Top => 0,
                        Action::Bottom => usize::MAX / 2,
                        _ => d.scroll,
                    };
                }
            },
        }
    }

    /// Puts a finding's words for the customer on the clipboard: the check, the summary, the
    /// detail and what to do (escaped text, as shown).
    fn copy_finding(&mut self, check: usize, finding: usize) {
        let Some(c) = self.model.as_ref().and_then(|m| m.checks.get(check)) else {
            return;
        };
        let Some(f) = c.findings.get(finding) else {
            self.message = Some("nothing to copy: this check has no finding".into());
            return;
        };
        let mut text = format!("{} ({})\n\n{}\n", c.title, c.id, f.summary);
        if !f.detail.is_empty() {
            text.push_str(&format!("\n{}\n", f.detail));
        }
        if !f.evidence.is_empty() {
            text.push_str("\nEvidence:\n");
            // Enough to prove it in a ticket; the count says how many more there are.
            const COPIED: usize = 20;
            for e in f.evidence.iter().take(COPIED) {
                let range = if e.end_line > e.line {
                    format!("{}-{}", e.line, e.end_line)
                } else {
                    e.line.to_string()
                };
                text.push_str(&format!(
                    "  {}:{range}  {}\n",
                    e.file_shown,
                    e.excerpt.trim()
                ));
            }
            let shown = f.evidence.len().min(COPIED);
            if f.occurrences > shown {
                text.push_str(&format!(
                    "  ({shown} shown of {})\n",
                    crate::report::plural(f.occurrences, "occurrence")
                ));
            }
        }
        if !f.remediation.is_empty() {
            text.push_str(&format!("\nWhat to do:\n{}\n", f.remediation));
        }
        if !c.docs_url.is_empty() {
            text.push_str(&format!("\nReference: {}\n", c.docs_url));
        }
        self.clipboard = Some(text);
        self.message = Some(format!(
            "copied finding {} of {} to the clipboard (through the terminal: OSC 52)",
            finding + 1,
            c.findings.len()
        ));
    }

    /// Opens the file of one evidence item, with every evidence range of the check in that
    /// file highlighted.
    fn open_evidence(&mut self, check: usize, finding: usize, ev: usize) {
        let Some(c) = self.model.as_ref().and_then(|m| m.checks.get(check)) else {
            return;
        };
        let Some(e) = c.findings.get(finding).and_then(|f| f.evidence.get(ev)) else {
            return;
        };
        let file = e.file.clone();
        let start = e.line;
        let ranges: Vec<(usize, usize)> = c
            .findings
            .iter()
            .flat_map(|f| f.evidence.iter())
            .filter(|x| x.file == file)
            .map(|x| (x.line, x.end_line))
            .collect();
        self.open_file(&file, ranges, start);
    }

    fn viewer_action(&mut self, action: Action) {
        let Some(Screen::Viewer(v)) = self.stack.last_mut() else {
            return;
        };
        match action {
            Action::Down => v.move_by(1, false),
            Action::Up => v.move_by(-1, false),
            Action::HalfPageDown => v.move_by(v.half_page(), true),
            Action::HalfPageUp => v.move_by(-v.half_page(), true),
            Action::PageDown => v.move_by(v.page(), true),
            Action::PageUp => v.move_by(-v.page(), true),
            Action::Top => v.goto(1),
            Action::Bottom => v.goto_end(),
            Action::Left => v.scroll_horizontally(-8),
            Action::Right => v.scroll_horizontally(8),
            Action::Wrap => {
                v.wrap = !v.wrap;
                v.left = 0;
            }
            Action::NextEvidence => v.jump_evidence(true),
            Action::PrevEvidence => v.jump_evidence(false),
            Action::NextMatch => v.next_match(true),
            Action::PrevMatch => v.next_match(false),
            Action::LineEnd => v.scroll_to_end(),
            Action::Copy => {
                let at = format!("{}:{}", v.rel, v.cursor);
                self.message = Some(format!(
                    "copied {} to the clipboard (through the terminal: OSC 52)",
                    escape(&at)
                ));
                self.clipboard = Some(escape(&at).into_owned());
            }
            Action::OpenPager | Action::OpenEditor => {
                if let Some(a) = &self.analysis {
                    self.external = Some(External {
                        editor: action == Action::OpenEditor,
                        path: a.bundle.disk_path(&v.rel),
                        line: v.cursor,
                    });
                }
            }
            _ => {}
        }
    }
}

/// A list selection after a movement key.
pub(super) fn list_move(sel: usize, n: usize, page: usize, action: Action) -> usize {
    if n == 0 {
        return 0;
    }
    let last = n - 1;
    let half = (page / 2).max(1);
    match action {
        Action::Down => (sel + 1).min(last),
        Action::Up => sel.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => last,
        Action::HalfPageDown => sel.saturating_add(half).min(last),
        Action::HalfPageUp => sel.saturating_sub(half),
        Action::PageDown => sel.saturating_add(page).min(last),
        Action::PageUp => sel.saturating_sub(page),
        _ => sel.min(last),
    }
}

/// The first row to show so that `selected` is visible in `rows` rows.
pub fn follow(selected: usize, offset: usize, rows: usize) -> usize {
    let rows = rows.max(1);
    if selected < offset {
        selected
    } else if selected >= offset + rows {
        selected + 1 - rows
    } else {
        offset
    }
}
