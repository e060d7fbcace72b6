//! The bundle as one story: every fact that carries a time — Kubernetes events, container starts
//! and terminations, node and pod condition transitions, error and warning lines of journals and
//! pod logs, kubeadm's phases, the collector's own start and end — on one clock, in order, each
//! with the file and line it comes from and the checks whose evidence cites it.
//!
//! Post-incident review needs the order in which things went wrong, which findings alone do not
//! give. Times without a year or zone (klog, syslog) take them from the bundle's collection time
//! ([`crate::logline`]); a fact whose time cannot be known is counted in `untimed`, never placed
//! at a guessed time. Log files are streamed line by line and only the entries are kept, so a
//! multi-gigabyte journal costs the memory of its error lines, not of its text.

use crate::bundle::BundleFile;
use crate::facts::{Facts, Item, JsonDoc, parse_time};
use crate::lenient::Text;
use crate::logline;
use crate::model::{CheckResult, Severity};
use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Lines longer than this are read on their first part only (as the scan does).
const MAX_LINE: usize = 1 << 20;
/// An entry's message keeps at most this many characters (the source line has the rest).
const MAX_MESSAGE: usize = 600;

/// What kind of fact an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Event,
    ContainerStart,
    ContainerTermination,
    NodeCondition,
    PodCondition,
    Journal,
    PodLog,
    KubeadmPhase,
    Captured,
    Collector,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::ContainerStart => "container-start",
            Kind::ContainerTermination => "container-termination",
            Kind::NodeCondition => "node-condition",
            Kind::PodCondition => "pod-condition",
            Kind::Journal => "journal",
            Kind::PodLog => "pod-log",
            Kind::KubeadmPhase => "kubeadm-phase",
            Kind::Captured => "captured",
            Kind::Collector => "collector",
        }
    }
}

/// The Kubernetes object (or node, or unit) an entry concerns; fields the entry does not know
/// are absent. Its strings are shared: a pod's containers each have an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Object {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Text>,
    /// `Kind/name` of the owner (a pod's ReplicaSet, DaemonSet…) or of an event's object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<Text>,
    /// The systemd unit of a node journal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Text>,
}

impl Object {
    /// `namespace/pod/container`, `node/unit`, whichever is known; one short label for a list.
    pub fn label(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        match (&self.namespace, &self.pod) {
            (Some(ns), Some(p)) => {
                parts.push(ns);
                parts.push(p);
            }
            (None, Some(p)) => parts.push(p),
            (Some(ns), None) => parts.push(ns),
            _ => {}
        }
        if self.pod.is_some() {
            if let Some(c) = &self.container {
                parts.push(c);
            }
        } else if let Some(w) = &self.workload {
            parts.push(w);
        }
        if parts.is_empty() {
            if let Some(n) = &self.node {
                parts.push(n);
            }
            if let Some(u) = &self.unit {
                parts.push(u);
            }
        }
        parts.join("/")
    }
}

/// One timestamped fact. Compact, because a large bundle has millions: the file and the
/// object are shared, and a log line's message is not copied but read back from the line when
/// shown (see [`Timeline::message`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub time: Timestamp,
    /// Bundle-relative path.
    pub file: Arc<str>,
    /// 1-based line in `file`.
    pub line: usize,
    pub kind: Kind,
    /// Shared by the entries of one file or object (a log's lines all concern one pod).
    pub object: Arc<Object>,
    pub severity: Severity,
    pub message: Message,
    /// Ids of the checks whose evidence covers this line, sorted.
    pub checks: Box<[String]>,
}

/// An entry's message: composed from a JSON object (an event, a condition), or the words of a
/// log line, read back from the file when shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// As read from the bundle (escaping happens at display time); shared by the entries
    /// that say the same (every pod's "Ready: True").
    Text(crate::lenient::Text),
    /// The line starting at byte `offset` of [`Timeline::sources`]`[source]`.
    Line { source: u32, offset: u64 },
}

/// The whole bundle's timeline.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Sorted by time, then file, then line.
    pub entries: Vec<Entry>,
    /// Facts that were found but whose time cannot be known (no timestamp, or a year-less one
    /// in a bundle without a collection time).
    pub untimed: usize,
    /// The bundle's collection time, which supplied missing years.
    pub reference: Option<Timestamp>,
    /// Entries found before the filter narrowed them (`entries.len()` when nothing was left out).
    pub total: usize,
    /// The files on disk that [`Message::Line`] messages are read back from.
    pub sources: Vec<PathBuf>,
}

impl Timeline {
    /// The message of `e`, reading a log line back from its file (once per call: use
    /// [`MessageReader`] for many).
    pub fn message<'t>(&'t self, e: &'t Entry) -> Cow<'t, str> {
        MessageReader::new(self).get(e)
    }
}

/// Reads the messages of many entries, keeping a few files open between them.
pub struct MessageReader<'t> {
    tl: &'t Timeline,
    open: HashMap<u32, std::fs::File>,
    buf: Vec<u8>,
}

/// Files a [`MessageReader`] keeps open at once.
const OPEN_FILES: usize = 64;

impl<'t> MessageReader<'t> {
    pub fn new(tl: &'t Timeline) -> MessageReader<'t> {
        MessageReader {
            tl,
            open: HashMap::new(),
            buf: Vec::new(),
        }
    }

    pub fn get<'e>(&mut self, e: &'e Entry) -> Cow<'e, str> {
        match &e.message {
            Message::Text(t) => Cow::Borrowed(t),
            Message::Line { source, offset } => Cow::Owned(
                self.line(*source, *offset)
                    .map(|raw| line_message(&raw, self.tl.reference))
                    .unwrap_or_else(|| "(the line can no longer be read)".to_string()),
            ),
        }
    }

    /// The messages of `entries`, in their order. Log lines are read file by file in the
    /// order they are stored, each file opened once: the entries of a time-ordered list come
    /// from thousands of files in turn, which one-by-one reading would open again and again.
    pub fn batch<'e>(&mut self, entries: &[&'e Entry]) -> Vec<Cow<'e, str>> {
        let mut out: Vec<Cow<'e, str>> = entries
            .iter()
            .map(|e| match &e.message {
                Message::Text(t) => Cow::Borrowed(&**t),
                Message::Line { .. } => Cow::Borrowed(""),
            })
            .collect();
        let mut lines: Vec<(u32, u64, usize)> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e.message {
                Message::Line { source, offset } => Some((source, offset, i)),
                Message::Text(_) => None,
            })
            .collect();
        lines.sort_unstable();
        let mut current: Option<u32> = None;
        for (source, offset, i) in lines {
            if current != Some(source) {
                // The previous file is done with: keep at most this one open.
                self.open.clear();
                current = Some(source);
            }
            out[i] = Cow::Owned(
                self.line(source, offset)
                    .map(|raw| line_message(&raw, self.tl.reference))
                    .unwrap_or_else(|| "(the line can no longer be read)".to_string()),
            );
        }
        out
    }

    /// The line at `offset` of source `source`, cut at [`MAX_LINE`] bytes.
    fn line(&mut self, source: u32, offset: u64) -> Option<String> {
        use std::os::unix::fs::FileExt;
        if !self.open.contains_key(&source) {
            if self.open.len() >= OPEN_FILES {
                self.open.clear();
            }
            let path = self.tl.sources.get(source as usize)?;
            self.open.insert(source, std::fs::File::open(path).ok()?);
        }
        let f = self.open.get(&source)?;
        self.buf.clear();
        // Most lines are short: read a little first, more only while no line end is seen.
        let mut want = 1024;
        let mut at = offset;
        loop {
            let start = self.buf.len();
            self.buf.resize(start + want, 0);
            let n = f.read_at(&mut self.buf[start..], at).ok()?;
            self.buf.truncate(start + n);
            if n == 0 {
                break;
            }
            if let Some(i) = memchr::memchr(b'\n', &self.buf[start..]) {
                self.buf.truncate(start + i);
                break;
            }
            at += n as u64;
            if self.buf.len() >= MAX_LINE {
                break;
            }
            want = (want * 4).min(1 << 18);
        }
        self.buf.truncate(MAX_LINE);
        while self.buf.last().is_some_and(|b| *b == b'\r') {
            self.buf.pop();
        }
        Some(String::from_utf8_lossy(&self.buf).into_owned())
    }
}

/// A log line's message as the timeline shows it: the words after the timestamp and level, a
/// JSON line's message and error fields, cut to [`MAX_MESSAGE`] characters.
fn line_message(raw: &str, reference: Option<Timestamp>) -> String {
    let l = logline::parse(raw, reference);
    if l.message.starts_with('{') {
        clip(&json_message(l.message).unwrap_or_else(|| l.message.to_string()))
    } else {
        clip(l.message)
    }
}

/// Which entries to keep. Applied while the bundle is read, so that what is left out costs no
/// memory.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub namespace: Option<String>,
    pub node: Option<String>,
    /// A pod name, or `namespace/name`.
    pub pod: Option<String>,
    pub min_severity: Option<Severity>,
    /// Only the entry of this file and line (to find the time of `--around FILE:LINE`).
    pub at: Option<(String, usize)>,
}

impl Filter {
    pub fn keeps(&self, e: &Entry) -> bool {
        self.admits(e.time, e.severity, &e.object)
            && self
                .at
                .as_ref()
                .is_none_or(|(f, l)| &*e.file == f && e.line == *l)
    }

    /// True when an entry at `time`, of `severity`, about `o`, is kept.
    pub fn admits(&self, time: Timestamp, severity: Severity, o: &Object) -> bool {
        self.since.is_none_or(|t| time >= t)
            && self.until.is_none_or(|t| time <= t)
            && self.min_severity.is_none_or(|s| severity.at_least(s))
            && self.admits_object(o)
    }

    /// True when entries about `o` can be kept (whatever their time and severity).
    pub fn admits_object(&self, o: &Object) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| o.namespace.as_deref() == Some(ns))
            && self
                .node
                .as_deref()
                .is_none_or(|n| o.node.as_deref() == Some(n))
            && self.pod.as_deref().is_none_or(|p| match p.split_once('/') {
                Some((ns, name)) => {
                    o.namespace.as_deref() == Some(ns) && o.pod.as_deref() == Some(name)
                }
                None => o.pod.as_deref() == Some(p),
            })
    }

    /// The entries kept, in timeline order.
    pub fn apply<'t>(&self, tl: &'t Timeline) -> Vec<&'t Entry> {
        tl.entries.iter().filter(|e| self.keeps(e)).collect()
    }

    /// True when nothing is left out.
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.namespace.is_none()
            && self.node.is_none()
            && self.pod.is_none()
            && self.min_severity.is_none()
            && self.at.is_none()
    }

    /// False when the file `path` (read as is, without another tool's line mapping) cannot
    /// hold the `at` entry.
    fn may_hold(&self, path: &str, mapped: bool) -> bool {
        mapped || self.at.as_ref().is_none_or(|(f, _)| f == path)
    }
}

/// What one source of the bundle contributed.
#[derive(Default)]
struct Part {
    entries: Vec<Entry>,
    untimed: usize,
    /// Entries found, kept or not.
    found: usize,
    /// The messages and names kept so far, each once. Its own set rather than
    /// `lenient::interning`, which leaves strings over 96 bytes unshared: messages run to
    /// 600 characters, and sharing those saves more than it costs.
    texts: HashSet<Text, foldhash::fast::RandomState>,
}

impl Part {
    /// Keeps `e` when the filter does (its file and line are checked after mapping).
    fn push(&mut self, filter: &Filter, mut e: Entry) {
        self.found += 1;
        if filter.admits(e.time, e.severity, &e.object) {
            if let Message::Text(t) = &mut e.message {
                *t = self.text(t);
            }
            self.entries.push(e);
        }
    }

    /// `s` as a [`Text`], the one kept before when equal.
    fn text(&mut self, s: &str) -> Text {
        self.texts.get(s).cloned().unwrap_or_else(|| {
            let t = Text::from(s);
            self.texts.insert(t.clone());
            t
        })
    }
}

/// One unit of parallel work.
enum Job<'b> {
    Manifest,
    Events,
    Pods,
    Nodes,
    /// A text file, and its index in [`Timeline::sources`].
    Text(&'b BundleFile, TextKind, u32),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Journal,
    PodLog,
    Captured,
}

/// Builds the timeline of `facts`' bundle, citing `checks`' evidence. Files are read in
/// parallel; the result does not depend on the number of threads.
pub fn build(facts: &Facts, checks: &[CheckResult]) -> Timeline {
    build_with(facts, checks, &Filter::default(), None)
}

/// Builds the part of the timeline that `filter` keeps: entries left out are dropped as they
/// are read (a pod log of another namespace is not read at all). `cancel`, once set, stops the
/// reading: the timeline returned is then incomplete and meant to be thrown away.
pub fn build_with(
    facts: &Facts,
    checks: &[CheckResult],
    filter: &Filter,
    cancel: Option<&AtomicBool>,
) -> Timeline {
    let reference = facts.collection_time();
    let mapped = |path: &str| facts.bundle.origin(path).is_some();
    let mut jobs = Vec::new();
    for (job, path) in [
        (Job::Manifest, "manifest.json"),
        (Job::Events, "kubectl/events.json"),
        (Job::Pods, "kubectl/pods.json"),
        (Job::Nodes, "kubectl/nodes.json"),
    ] {
        if filter.may_hold(path, mapped(path)) {
            jobs.push(job);
        }
    }
    let mut sources = Vec::new();
    for f in &facts.bundle.files {
        if let Some(k) = text_kind(&f.path)
            && filter.may_hold(&f.path, mapped(&f.path))
        {
            jobs.push(Job::Text(f, k, sources.len() as u32));
            sources.push(facts.bundle.disk_path(&f.path));
        }
    }
    // Pod logs name their pod; the node it ran on comes from pods.json.
    let pod_nodes = pod_nodes(facts);
    let parts: Vec<Part> = jobs
        .par_iter()
        .map(|job| {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Part::default();
            }
            let mut part = match job {
                Job::Manifest => manifest_entries(facts, filter),
                Job::Events => events(facts, filter),
                Job::Pods => pods(facts, filter),
                Job::Nodes => nodes(facts, filter),
                Job::Text(f, k, source) => {
                    let ctx = TextContext {
                        kind: *k,
                        reference,
                        pod_nodes: &pod_nodes,
                        filter,
                        source: *source,
                        cancel,
                    };
                    text_file(f, &sources[*source as usize], &ctx)
                }
            };
            // The parts are all held until they are joined: without their growth slack.
            part.entries.shrink_to_fit();
            part
        })
        .collect();
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        // Not worth joining and sorting: it is thrown away.
        return Timeline::default();
    }
    let mut untimed = 0;
    let mut total = 0;
    let mut entries = Vec::with_capacity(parts.iter().map(|p| p.entries.len()).sum());
    for p in parts {
        untimed += p.untimed;
        total += p.found;
        entries.extend(p.entries);
    }
    // Entries name lines as the checks read them; name them as the bundle holds them (another
    // tool's layout keeps them in other files), as evidence does.
    entries.par_iter_mut().for_each(|e| {
        if let Some(o) = facts.bundle.origin(&e.file) {
            let (file, line) = o.locate(e.line);
            if !file.is_empty() {
                e.file = file;
                e.line = line;
            }
        }
    });
    if let Some((f, l)) = &filter.at {
        entries.retain(|e| &*e.file == f && e.line == *l);
    }
    entries.shrink_to_fit();
    cite(&mut entries, checks);
    sort_in_place(&mut entries);
    Timeline {
        entries,
        untimed,
        reference,
        total,
        sources,
    }
}

fn text_kind(path: &str) -> Option<TextKind> {
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("nodes"), Some(_), Some("journal"), Some(_)) => Some(TextKind::Journal),
        (Some("kubectl"), Some("logs"), Some(_), Some(_)) => Some(TextKind::PodLog),
        (Some("captured"), Some(_), _, _) => Some(TextKind::Captured),
        _ => None,
    }
}

/// Marks each entry with the checks whose evidence (file, line range) covers it.
/// Sorts entries by time, file, line and kind, equal ones in the order they came. A stable
/// sort of the entries themselves would hold a second copy of millions of them; this sorts
/// their positions and then moves each entry once, in place.
fn sort_in_place(entries: &mut [Entry]) {
    fn key(e: &Entry) -> (Timestamp, &str, usize, Kind) {
        (e.time, &e.file, e.line, e.kind)
    }
    if u32::try_from(entries.len()).is_err() {
        entries.par_sort_by(|a, b| key(a).cmp(&key(b)));
        return;
    }
    // order[i]: where the entry for position i is now.
    let mut order: Vec<u32> = (0..entries.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| {
        key(&entries[a as usize])
            .cmp(&key(&entries[b as usize]))
            .then(a.cmp(&b))
    });
    // Each cycle of the permutation: the entry first at `start` travels along it by swaps to
    // the last place of the cycle, which is where it belongs. Visited places point at
    // themselves.
    for start in 0..order.len() {
        let mut at = start;
        loop {
            let from = order[at] as usize;
            order[at] = at as u32;
            if from == start || from == at {
                break;
            }
            entries.swap(at, from);
            at = from;
        }
    }
}

fn cite(entries: &mut [Entry], checks: &[CheckResult]) {
    let mut by_file: HashMap<&str, Vec<(usize, usize, &str)>> = HashMap::new();
    for c in checks {
        for f in &c.findings {
            for e in &f.evidence {
                by_file.entry(e.file.as_str()).or_default().push((
                    e.line,
                    e.end_line.max(e.line),
                    c.id.as_str(),
                ));
            }
        }
    }
    if by_file.is_empty() {
        return;
    }
    entries.par_iter_mut().for_each(|e| {
        if let Some(spans) = by_file.get(&*e.file) {
            let mut ids: Vec<String> = spans
                .iter()
                .filter(|(a, b, _)| *a <= e.line && e.line <= *b)
                .map(|(_, _, id)| id.to_string())
                .collect();
            ids.sort();
            ids.dedup();
            e.checks = ids.into_boxed_slice();
        }
    });
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    cur.as_str().filter(|s| !s.is_empty())
}

/// The line of `item` that holds `"key"` and `value` (its own line in pretty-printed JSON);
/// among several, the one nearest the first line mentioning `hint` (the condition's type, the
/// container's name), else the item's first line.
fn line_of(doc: &ItemLines, item: &Item, key: &str, value: &str, hint: &str) -> usize {
    let candidates: Vec<usize> = doc
        .lines_with(&format!("\"{key}\""))
        .iter()
        .copied()
        .filter(|&n| doc.line(n).contains(value))
        .collect();
    if candidates.len() <= 1 || hint.is_empty() {
        return candidates.first().copied().unwrap_or(item.line);
    }
    let hinted = doc.lines_with(&format!("\"{hint}\""));
    if let Some(&n) = candidates.iter().find(|n| hinted.binary_search(n).is_ok()) {
        return n;
    }
    // Pretty-printed: the candidate in the same `{ ... }` block as a line naming the hint.
    let brace = |n: usize| {
        let t = doc.line(n).trim();
        t.starts_with('{') || t.starts_with('}') || t.ends_with('{')
    };
    let same_block = |a: usize, b: usize| (a.min(b) + 1..a.max(b)).all(|n| !brace(n));
    hinted
        .iter()
        .find_map(|&h| candidates.iter().copied().find(|&c| same_block(c, h)))
        .unwrap_or(candidates[0])
}

/// The lines of one list item, for its entries' line numbers: a slice of its file's text held
/// in memory, or read once from disk for a list left there (see
/// `facts::TextFile::is_on_disk`) and dropped with it, so that going through every event and
/// pod does not keep the whole file.
struct ItemLines<'d> {
    text: Cow<'d, str>,
    /// Each line's span in `text`, without its line break, for lines `first..`.
    spans: Vec<(usize, usize)>,
    first: usize,
    /// The lines holding a needle, for each needle looked for so far: an item's entries look
    /// for the same few keys (`"lastTransitionTime"`, `"startedAt"`) and names, and a pod has
    /// hundreds of lines.
    found: RefCell<Vec<(String, Rc<[usize]>)>>,
}

impl<'d> ItemLines<'d> {
    fn of(doc: &'d JsonDoc, item: &Item) -> ItemLines<'d> {
        let (text, spans) = match doc.text.lines_slice(item.line, item.end_line) {
            Some((text, spans)) => (Cow::Borrowed(text), spans),
            None => {
                let (mut text, mut spans) = (String::new(), Vec::new());
                doc.text.for_lines(item.line, item.end_line, |_, l| {
                    spans.push((text.len(), text.len() + l.len()));
                    text.push_str(l);
                    text.push('\n');
                    false
                });
                (Cow::Owned(text), spans)
            }
        };
        ItemLines {
            text,
            spans,
            first: item.line,
            found: RefCell::default(),
        }
    }

    /// Line `n`, one of the item's own.
    fn line(&self, n: usize) -> &str {
        n.checked_sub(self.first)
            .and_then(|i| self.spans.get(i))
            .and_then(|&(start, end)| self.text.get(start..end))
            .unwrap_or("")
    }

    /// The item's lines containing `needle`, in order: one search through the whole item.
    fn lines_with(&self, needle: &str) -> Rc<[usize]> {
        if let Some((_, lines)) = self.found.borrow().iter().find(|(n, _)| n == needle) {
            return Rc::clone(lines);
        }
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let bytes = self.text.as_bytes();
        let mut lines = Vec::new();
        let mut from = 0;
        while let Some(i) = finder.find(&bytes[from..]) {
            let at = from + i;
            // The line the match starts in (or the break after it): the first ending after `at`.
            let line = self.spans.partition_point(|&(_, end)| end <= at);
            let Some(&(start, end)) = self.spans.get(line) else {
                break;
            };
            if start <= at && at + needle.len() <= end {
                lines.push(self.first + line);
                from = end;
            } else {
                from = at + 1;
            }
        }
        let lines: Rc<[usize]> = lines.into();
        self.found
            .borrow_mut()
            .push((needle.to_string(), Rc::clone(&lines)));
        lines
    }
}

/// An item's `Value`, built from its bytes for this reading only (not kept with the list,
/// where a `Value` of every object would cost several times the file), or the one the list
/// already holds.
fn value_of(item: &Item) -> Cow<'_, Value> {
    match item.raw_text() {
        Some(raw) => Cow::Owned(serde_json::from_str(&raw).unwrap_or(Value::Null)),
        None => Cow::Borrowed(item.value()),
    }
}

fn clip(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn hms(t: Timestamp) -> String {
    t.strftime("%H:%M:%S").to_string()
}

/// The collector's own start and end, each failed source at its time, and the bundle's creation.
fn manifest_entries(facts: &Facts, filter: &Filter) -> Part {
    let mut part = Part::default();
    let Ok(text) = facts.text("manifest.json") else {
        return part;
    };
    let Ok(v) = serde_json::from_str::<Value>(&text.text) else {
        return part;
    };
    let file: Arc<str> = Arc::from("manifest.json");
    let find = |needle: &str, value: &str| {
        text.lines()
            .find(|(_, l)| l.contains(needle) && l.contains(value))
            .map(|(n, _)| n)
            .unwrap_or(1)
    };
    let entry = |time, line, severity, message: String| Entry {
        time,
        file: file.clone(),
        line,
        kind: Kind::Collector,
        object: Arc::new(Object::default()),
        severity,
        message: Message::Text(message.into()),
        checks: Box::default(),
    };
    let mut first: Option<(Timestamp, &str)> = None;
    let mut last: Option<(Timestamp, &str, &str)> = None;
    for s in v
        .get("sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(started_s) = str_at(s, &["started"]) else {
            continue;
        };
        let Some(started) = parse_time(started_s) else {
            continue;
        };
        let path = str_at(s, &["path"]).unwrap_or("?");
        let ms = s.get("duration_ms").and_then(Value::as_i64).unwrap_or(0);
        let end = started
            .checked_add(jiff::SignedDuration::from_millis(ms))
            .unwrap_or(started);
        if first.is_none_or(|(t, _)| started < t) {
            first = Some((started, started_s));
        }
        if last.is_none_or(|(t, _, _)| end > t) {
            last = Some((end, started_s, path));
        }
        let src: crate::manifest::Source = serde_json::from_value(s.clone()).unwrap_or_default();
        let status = src.status();
        if status != crate::manifest::SourceStatus::Ok {
            let line = text
                .lines()
                .find(|(_, l)| l.contains("\"path\"") && l.contains(&format!("\"{path}\"")))
                .map(|(n, _)| n)
                .unwrap_or(1);
            part.push(
                filter,
                entry(
                    started,
                    line,
                    Severity::Warning,
                    clip(&format!(
                        "collector: {path} {} ({})",
                        status.as_str(),
                        src.detail()
                    )),
                ),
            );
        }
    }
    if let Some((t, s)) = first {
        part.push(
            filter,
            entry(
                t,
                find("\"started\"", s),
                Severity::Info,
                "collector started".into(),
            ),
        );
    }
    if let Some((t, s, path)) = last {
        part.push(
            filter,
            entry(
                t,
                find("\"started\"", s),
                Severity::Info,
                format!("collector finished (last command: {path})"),
            ),
        );
    }
    if let Some(created) = str_at(&v, &["created"])
        && let Some(t) = parse_time(created)
    {
        part.push(
            filter,
            entry(
                t,
                find("\"created\"", created),
                Severity::Info,
                "bundle created (its collection time)".into(),
            ),
        );
    }
    part
}

/// Kubernetes events: one entry at the first time, and one at the last when it repeated.
fn events(facts: &Facts, filter: &Filter) -> Part {
    let mut part = Part::default();
    let Ok(doc) = facts.list("kubectl/events.json") else {
        return part;
    };
    let file: Arc<str> = Arc::from(doc.path());
    for item in &doc.items {
        let value = value_of(item);
        let v = &*value;
        let lines = ItemLines::of(&doc, item);
        let first_s = str_at(v, &["firstTimestamp"])
            .or_else(|| str_at(v, &["eventTime"]))
            .or_else(|| str_at(v, &["metadata", "creationTimestamp"]));
        let last_s =
            str_at(v, &["lastTimestamp"]).or_else(|| str_at(v, &["series", "lastObservedTime"]));
        let first = first_s.and_then(parse_time);
        let last = last_s.and_then(parse_time);
        let count = v
            .get("count")
            .or_else(|| v.get("series").and_then(|s| s.get("count")))
            .or_else(|| v.get("deprecatedCount"))
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let reason = str_at(v, &["reason"]).unwrap_or("");
        let message = str_at(v, &["message"])
            .or_else(|| str_at(v, &["note"]))
            .unwrap_or("");
        let severity = match str_at(v, &["type"]) {
            Some("Warning") => Severity::Warning,
            _ => Severity::Info,
        };
        let involved = v.get("involvedObject").or_else(|| v.get("regarding"));
        let mut object = Object::default();
        if let Some(o) = involved {
            let kind = str_at(o, &["kind"]).unwrap_or("");
            let name = str_at(o, &["name"]).map(Text::from);
            object.namespace = str_at(o, &["namespace"]).map(Text::from);
            match kind {
                "Pod" => {
                    object.pod = name;
                    object.container = str_at(o, &["fieldPath"])
                        .and_then(|f| f.strip_prefix("spec.containers{"))
                        .and_then(|f| f.strip_suffix('}'))
                        .map(Text::from);
                }
                "Node" => object.node = name,
                _ => object.workload = name.map(|n| format!("{kind}/{n}").into()),
            }
        }
        if object.node.is_none() {
            object.node = str_at(v, &["source", "host"])
                .or_else(|| str_at(v, &["reportingInstance"]).filter(|_| object.pod.is_some()))
                .map(Text::from);
        }
        let object = Arc::new(object);
        let (Some(first), first_s) = (first.or(last), first_s.or(last_s).unwrap_or("")) else {
            part.untimed += 1;
            continue;
        };
        let repeated = count > 1 && last.is_some_and(|l| l > first);
        let text = if repeated {
            format!(
                "{reason}: {message} (×{count}, last at {})",
                hms(last.unwrap_or(first))
            )
        } else {
            format!("{reason}: {message}")
        };
        let first_key = ["firstTimestamp", "eventTime", "creationTimestamp"]
            .into_iter()
            .find(|k| {
                let l = line_of(&lines, item, k, first_s, "");
                lines.line(l).contains(&format!("\"{k}\""))
            })
            .unwrap_or("firstTimestamp");
        part.push(
            filter,
            Entry {
                time: first,
                file: file.clone(),
                line: line_of(&lines, item, first_key, first_s, ""),
                kind: Kind::Event,
                object: object.clone(),
                severity,
                message: Message::Text(clip(&text).into()),
                checks: Box::default(),
            },
        );
        if repeated && let (Some(last), Some(last_s)) = (last, last_s) {
            let key = if v.get("lastTimestamp").is_some() {
                "lastTimestamp"
            } else {
                "lastObservedTime"
            };
            part.push(
                filter,
                Entry {
                    time: last,
                    file: file.clone(),
                    line: line_of(&lines, item, key, last_s, ""),
                    kind: Kind::Event,
                    object,
                    severity,
                    message: Message::Text(
                        clip(&format!(
                            "{reason} (last of {count} since {}): {message}",
                            hms(first)
                        ))
                        .into(),
                    ),
                    checks: Box::default(),
                },
            );
        }
    }
    part
}

/// `ns/pod` → node, for pod log entries.
fn pod_nodes(facts: &Facts) -> HashMap<String, Text> {
    let mut out = HashMap::new();
    // A node's name once, however many pods run on it.
    let mut nodes: HashSet<Text> = HashSet::new();
    if let Ok(doc) = facts.list("kubectl/pods.json") {
        for p in crate::cluster::pods(&doc) {
            if let Some(node) = p.node {
                let node = nodes.get(node).cloned().unwrap_or_else(|| {
                    let n = Text::from(node);
                    nodes.insert(n.clone());
                    n
                });
                out.insert(format!("{}/{}", p.meta.namespace, p.meta.name), node);
            }
        }
    }
    out
}

/// Container starts and terminations, and pod condition transitions.
fn pods(facts: &Facts, filter: &Filter) -> Part {
    let mut part = Part::default();
    let Ok(doc) = facts.list("kubectl/pods.json") else {
        return part;
    };
    let file: Arc<str> = Arc::from(doc.path());
    for item in &doc.items {
        let value = value_of(item);
        let v = &*value;
        let lines = ItemLines::of(&doc, item);
        let mut text = |path: &[&str]| str_at(v, path).map(|s| part.text(s));
        let (namespace, node) = (
            text(&["metadata", "namespace"]),
            text(&["spec", "nodeName"]),
        );
        let workload = v.pointer("/metadata/ownerReferences/0").and_then(|o| {
            let workload = format!("{}/{}", str_at(o, &["kind"])?, str_at(o, &["name"])?);
            Some(part.text(&workload))
        });
        let base = Arc::new(Object {
            namespace,
            pod: str_at(v, &["metadata", "name"]).map(Text::from),
            node,
            workload,
            ..Object::default()
        });
        let mut push = |time_s: &str,
                        (key, hint): (&str, &str),
                        kind,
                        severity,
                        object: &Arc<Object>,
                        msg: String| {
            match parse_time(time_s) {
                Some(t) => part.push(
                    filter,
                    Entry {
                        time: t,
                        file: file.clone(),
                        line: line_of(&lines, item, key, time_s, hint),
                        kind,
                        object: object.clone(),
                        severity,
                        message: Message::Text(clip(&msg).into()),
                        checks: Box::default(),
                    },
                ),
                None => part.untimed += 1,
            }
        };
        for c in v
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(at) = str_at(c, &["lastTransitionTime"]) else {
                continue;
            };
            let ty = str_at(c, &["type"]).unwrap_or("?");
            let status = str_at(c, &["status"]).unwrap_or("?");
            let severity = if status == "True" {
                Severity::Info
            } else {
                Severity::Warning
            };
            push(
                at,
                ("lastTransitionTime", ty),
                Kind::PodCondition,
                severity,
                &base,
                condition_text(ty, status, c),
            );
        }
        for list in [
            "initContainerStatuses",
            "containerStatuses",
            "ephemeralContainerStatuses",
        ] {
            for cs in v
                .pointer(&format!("/status/{list}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = str_at(cs, &["name"]).unwrap_or("?");
                let restarts = cs.get("restartCount").and_then(Value::as_u64).unwrap_or(0);
                let object = Arc::new(Object {
                    container: Some(name.into()),
                    ..(*base).clone()
                });
                if let Some(at) = str_at(cs, &["state", "running", "startedAt"]) {
                    push(
                        at,
                        ("startedAt", name),
                        Kind::ContainerStart,
                        Severity::Info,
                        &object,
                        format!("container {name} started (restarts {restarts})"),
                    );
                }
                for (state, which) in [("state", "ended"), ("lastState", "previous run ended")] {
                    let ended = cs
                        .pointer(&format!("/{state}/terminated/finishedAt"))
                        .and_then(Value::as_str)
                        .and_then(parse_time)
                        .map(|t| format!(", the run that ended at {}", hms(t)))
                        .unwrap_or_default();
                    let Some(t) = cs.get(state).and_then(|s| s.get("terminated")) else {
                        continue;
                    };
                    let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
                    let reason = str_at(t, &["reason"]).unwrap_or("");
                    if let Some(at) = str_at(t, &["startedAt"]) {
                        push(
                            at,
                            ("startedAt", name),
                            Kind::ContainerStart,
                            Severity::Info,
                            &object,
                            format!("container {name} started{ended}"),
                        );
                    }
                    let severity = if code != 0 || reason == "OOMKilled" || reason == "Error" {
                        Severity::Error
                    } else {
                        Severity::Info
                    };
                    if let Some(at) = str_at(t, &["finishedAt"]) {
                        let why = if reason.is_empty() {
                            String::new()
                        } else {
                            format!(" {reason},")
                        };
                        push(
                            at,
                            ("finishedAt", name),
                            Kind::ContainerTermination,
                            severity,
                            &object,
                            format!(
                                "container {name} {which}:{why} exit code {code} (restarts {restarts})"
                            ),
                        );
                    }
                }
            }
        }
    }
    part
}

fn condition_text(ty: &str, status: &str, c: &Value) -> String {
    let mut s = format!("{ty}={status}");
    if let Some(r) = str_at(c, &["reason"]) {
        s.push_str(&format!(" ({r})"));
    }
    if let Some(m) = str_at(c, &["message"]) {
        s.push_str(": ");
        s.push_str(m);
    }
    s
}

/// Node condition transitions: Ready turning False or Unknown is an error, pressure a warning.
fn nodes(facts: &Facts, filter: &Filter) -> Part {
    let mut part = Part::default();
    let Ok(doc) = facts.list("kubectl/nodes.json") else {
        return part;
    };
    let file: Arc<str> = Arc::from(doc.path());
    for item in &doc.items {
        let value = value_of(item);
        let v = &*value;
        let lines = ItemLines::of(&doc, item);
        let object = Arc::new(Object {
            node: str_at(v, &["metadata", "name"]).map(Text::from),
            ..Object::default()
        });
        for c in v
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(at) = str_at(c, &["lastTransitionTime"]) else {
                continue;
            };
            let ty = str_at(c, &["type"]).unwrap_or("?");
            let status = str_at(c, &["status"]).unwrap_or("?");
            let severity = match (ty, status) {
                ("Ready", "True") => Severity::Info,
                ("Ready", _) => Severity::Error,
                ("NetworkUnavailable", "True") => Severity::Error,
                (_, "True") => Severity::Warning,
                _ => Severity::Info,
            };
            let Some(t) = parse_time(at) else {
                part.untimed += 1;
                continue;
            };
            part.push(
                filter,
                Entry {
                    time: t,
                    file: file.clone(),
                    line: line_of(&lines, item, "lastTransitionTime", at, ty),
                    kind: Kind::NodeCondition,
                    object: object.clone(),
                    severity,
                    message: Message::Text(clip(&condition_text(ty, status, c)).into()),
                    checks: Box::default(),
                },
            );
        }
    }
    part
}

/// `[preflight] Running pre-flight checks` → `preflight`.
fn kubeadm_phase(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix('[')?;
    let end = rest.find("] ")?;
    let name = &rest[..end];
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-/".contains(c));
    ok.then_some(name)
}

/// The readable part of a JSON log line: its message and error fields.
fn json_message(s: &str) -> Option<String> {
    let v: Value = serde_json::from_str(s).ok()?;
    let msg = ["msg", "message", "textPayload", "log"]
        .iter()
        .find_map(|k| str_at(&v, &[k]))?;
    let err = ["error", "err", "exception"]
        .iter()
        .find_map(|k| str_at(&v, &[k]));
    Some(match err {
        Some(e) => format!("{msg}: {e}"),
        None => msg.to_string(),
    })
}

/// systemd's own lines about a unit failing (they carry no level).
fn systemd_failure(msg: &str) -> bool {
    msg.contains("Failed with result")
        || msg.starts_with("Failed to start")
        || (msg.contains("Main process exited, code=") && !msg.contains("status=0/SUCCESS"))
}

/// `... pod="kube-system/kube-scheduler-cp-3" ...` in a kubelet line.
fn klog_pod(msg: &str) -> Option<(&str, &str)> {
    let i = msg.find(" pod=\"")?;
    let rest = &msg[i + 6..];
    let end = rest.find('"')?;
    rest[..end].split_once('/')
}

/// What reading one text file needs besides the file.
struct TextContext<'a> {
    kind: TextKind,
    reference: Option<Timestamp>,
    pod_nodes: &'a HashMap<String, Text>,
    filter: &'a Filter,
    /// The file's index in [`Timeline::sources`].
    source: u32,
    cancel: Option<&'a AtomicBool>,
}

/// Lines read between two looks at the cancel flag.
const CANCEL_EVERY: usize = 1 << 16;

fn text_file(f: &BundleFile, disk: &Path, ctx: &TextContext) -> Part {
    let mut part = Part::default();
    let kind = ctx.kind;
    let reference = ctx.reference;
    let segs: Vec<&str> = f.path.split('/').collect();
    let mut base = Object::default();
    match kind {
        TextKind::Journal => {
            base.node = Some(segs[1].into());
            base.unit = segs.last().map(|u| u.trim_end_matches(".log").into());
        }
        TextKind::PodLog => {
            base.namespace = Some(segs[2].into());
            base.pod = Some(segs[3].into());
            if let Some(c) = segs.get(4) {
                let c = c.trim_end_matches(".log").trim_end_matches(".previous");
                base.container = Some(c.into());
            }
            base.node = ctx
                .pod_nodes
                .get(&format!("{}/{}", segs[2], segs[3]))
                .cloned();
        }
        TextKind::Captured => {}
    }
    // A pod log is about one pod, a journal about one node: when the filter leaves that out,
    // the file is not read. (A journal line may name a pod, so only the node decides there.)
    let skip = match kind {
        TextKind::PodLog => !ctx.filter.admits_object(&base),
        TextKind::Journal => ctx
            .filter
            .node
            .as_deref()
            .is_some_and(|n| base.node.as_deref() != Some(n)),
        TextKind::Captured => false,
    };
    if skip {
        return part;
    }
    let Ok(file) = std::fs::File::open(disk) else {
        return part;
    };
    let path: Arc<str> = Arc::from(f.path.as_str());
    let base = Arc::new(base);
    let kubeadm_output = kind == TextKind::Captured
        || (kind == TextKind::Journal
            && base
                .unit
                .as_deref()
                .is_some_and(|u| u.starts_with("kubeadm")));
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0;
    let mut offset: u64 = 0;
    let mut named: HashMap<(String, String), Arc<Object>> = HashMap::new();
    loop {
        buf.clear();
        let start = offset;
        match read_line(&mut reader, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(used) => offset += used as u64,
        }
        n += 1;
        if n % CANCEL_EVERY == 0 && ctx.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let l = logline::parse(&line, reference);
        let phase = if kubeadm_output {
            kubeadm_phase(l.message)
        } else {
            None
        };
        let failed_phase = kubeadm_output && l.message.starts_with("error execution phase ");
        let (entry_kind, severity) = if failed_phase {
            (Kind::KubeadmPhase, Severity::Error)
        } else if phase.is_some() {
            let lower = l.message.to_ascii_lowercase();
            let sev = if lower.contains("error") || lower.contains("fail") {
                Severity::Warning
            } else {
                Severity::Info
            };
            (Kind::KubeadmPhase, sev)
        } else {
            let sev = match l.level {
                Some('F') => Severity::Critical,
                Some('E') => Severity::Error,
                Some('W') => Severity::Warning,
                _ if kind == TextKind::Journal && systemd_failure(l.message) => Severity::Error,
                _ => continue,
            };
            let k = match kind {
                TextKind::Journal => Kind::Journal,
                TextKind::PodLog => Kind::PodLog,
                TextKind::Captured => Kind::Captured,
            };
            (k, sev)
        };
        let time = match l.time {
            Some(t) if !(l.year_inferred && reference.is_none()) => t,
            _ => {
                part.untimed += 1;
                continue;
            }
        };
        part.found += 1;
        let mut object = &base;
        if kind == TextKind::Journal
            && let Some((ns, pod)) = klog_pod(l.message)
        {
            // One object per pod named, shared by its lines.
            object = named
                .entry((ns.to_string(), pod.to_string()))
                .or_insert_with(|| {
                    Arc::new(Object {
                        namespace: Some(ns.into()),
                        pod: Some(pod.into()),
                        ..(*base).clone()
                    })
                });
        }
        if !ctx.filter.admits(time, severity, object) {
            continue;
        }
        part.entries.push(Entry {
            time,
            file: path.clone(),
            line: n,
            kind: entry_kind,
            object: object.clone(),
            severity,
            // The words are read back from the line when shown: millions of log lines cost
            // the memory of their places, not of their text.
            message: Message::Line {
                source: ctx.source,
                offset: start,
            },
            checks: Box::default(),
        });
    }
    part
}

/// Reads one line (up to and without its `\n`) into `buf`, keeping at most [`MAX_LINE`] bytes
/// of it; returns the bytes consumed (0 at the end).
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(consumed);
        }
        let (chunk, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..=i], true),
            None => (avail, false),
        };
        let room = MAX_LINE.saturating_sub(buf.len());
        let take = chunk.len().min(room);
        buf.extend_from_slice(&chunk[..take]);
        let len = chunk.len();
        r.consume(len);
        consumed += len;
        if done {
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            return Ok(consumed);
        }
    }
}

/// Reads line `n` (1-based) of a bundle file, for `--around FILE:LINE` on a line that is not an
/// entry.
pub fn read_bundle_line(facts: &Facts, file: &str, n: usize) -> Option<String> {
    let f = std::fs::File::open(facts.bundle.disk_path(file)).ok()?;
    let mut r = BufReader::new(f);
    let mut buf = Vec::new();
    for _ in 0..n {
        buf.clear();
        if read_line(&mut r, &mut buf).ok()? == 0 {
            return None;
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// The span of one histogram column, as a person reads it: `30 s`, `5 min`, `2 h`, `1 d`.
pub fn step_label(secs: i64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sort_in_place_by_time_file_and_line_ties_in_the_order_they_came() {
        let entry = |t: u32, file: &str, line: usize, n: usize| Entry {
            time: jiff::Timestamp::from_second(i64::from(t)).unwrap(),
            file: Arc::from(file),
            line,
            kind: Kind::PodLog,
            object: Arc::new(Object::default()),
            severity: Severity::Info,
            message: Message::Text(n.to_string().into()),
            checks: Box::default(),
        };
        // A scrambled order with ties, cycles of several lengths and places already right.
        let keys = [
            (5, "b", 1),
            (1, "a", 9),
            (5, "a", 2),
            (3, "a", 1),
            (5, "a", 2),
            (0, "z", 0),
            (1, "a", 9),
            (9, "a", 1),
            (5, "a", 2),
            (2, "a", 1),
        ];
        let mut entries: Vec<Entry> = keys
            .iter()
            .enumerate()
            .map(|(n, &(t, f, l))| entry(t, f, l, n))
            .collect();
        let mut expected = entries.clone();
        expected.sort_by(|a, b| (a.time, &a.file, a.line).cmp(&(b.time, &b.file, b.line)));
        sort_in_place(&mut entries);
        assert_eq!(entries, expected);
        let ties: Vec<&Message> = entries
            .iter()
            .filter(|e| &*e.file == "a" && e.line == 2)
            .map(|e| &e.message)
            .collect();
        assert_eq!(
            ties,
            [
                &Message::Text("2".into()),
                &Message::Text("4".into()),
                &Message::Text("8".into())
            ]
        );
    }

    #[test]
    fn phases_and_helpers() {
        assert_eq!(
            kubeadm_phase("[preflight] Running pre-flight checks"),
            Some("preflight")
        );
        assert_eq!(
            kubeadm_phase("[kubelet-start] Starting the kubelet"),
            Some("kubelet-start")
        );
        assert_eq!(kubeadm_phase("[INFO] plugin/reload"), None);
        assert_eq!(kubeadm_phase("[x"), None);
        assert_eq!(
            klog_pod(r#""Error syncing pod" pod="kube-system/etcd-cp-1" podUID="x""#),
            Some(("kube-system", "etcd-cp-1"))
        );
        assert_eq!(
            json_message(r#"{"msg":"token fetch failed","error":"deadline"}"#).as_deref(),
            Some("token fetch failed: deadline")
        );
        assert!(systemd_failure(
            "kubelet.service: Main process exited, code=exited, status=1/FAILURE"
        ));
        assert!(!systemd_failure(
            "kubelet.service: Main process exited, code=exited, status=0/SUCCESS"
        ));
    }

    #[test]
    fn long_lines_are_cut_and_line_breaks_dropped() {
        let data = format!("{}\r\nb\nc", "a".repeat(MAX_LINE + 10));
        let mut r = BufReader::new(data.as_bytes());
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut r, &mut buf).unwrap(), MAX_LINE + 12);
        assert_eq!(buf.len(), MAX_LINE);
        buf.clear();
        read_line(&mut r, &mut buf).unwrap();
        assert_eq!(buf, b"b");
        buf.clear();
        read_line(&mut r, &mut buf).unwrap();
        assert_eq!(buf, b"c");
        buf.clear();
        assert_eq!(read_line(&mut r, &mut buf).unwrap(), 0);
    }

    #[test]
    fn messages_read_back_from_their_lines_one_by_one_or_in_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        let b = dir.path().join("b.log");
        let long = "x".repeat(5000);
        std::fs::write(
            &a,
            format!("2026-11-20T09:40:00Z ERROR first\r\nE1120 09:41:00.000000 1 x.go:1] {long}\n"),
        )
        .unwrap();
        std::fs::write(
            &b,
            "{\"ts\":\"2026-11-20T09:40:30Z\",\"level\":\"error\",\"msg\":\"token fetch failed\",\"error\":\"deadline\"}",
        )
        .unwrap();
        let second = "2026-11-20T09:40:00Z ERROR first\r\n".len() as u64;
        let entry = |message| Entry {
            time: "2026-11-20T09:40:00Z".parse().unwrap(),
            file: Arc::from("x"),
            line: 1,
            kind: Kind::PodLog,
            object: Arc::new(Object::default()),
            severity: Severity::Error,
            message,
            checks: Box::default(),
        };
        let entries = [
            entry(Message::Line {
                source: 1,
                offset: 0,
            }),
            entry(Message::Text("composed".into())),
            entry(Message::Line {
                source: 0,
                offset: second,
            }),
            entry(Message::Line {
                source: 0,
                offset: 0,
            }),
        ];
        let tl = Timeline {
            sources: vec![a, b],
            ..Timeline::default()
        };
        let one: Vec<String> = entries.iter().map(|e| tl.message(e).into_owned()).collect();
        assert_eq!(one[0], "token fetch failed: deadline");
        assert_eq!(one[1], "composed");
        assert!(
            one[2].starts_with("xxx") && one[2].ends_with('…'),
            "{}",
            one[2]
        );
        assert_eq!(one[2].chars().count(), MAX_MESSAGE + 1);
        assert_eq!(one[3], "ERROR first");
        let refs: Vec<&Entry> = entries.iter().collect();
        let batch: Vec<String> = MessageReader::new(&tl)
            .batch(&refs)
            .into_iter()
            .map(|m| m.into_owned())
            .collect();
        assert_eq!(batch, one);
    }

    #[test]
    fn an_items_lines_holding_a_needle_are_found_within_lines_only() {
        let text = "[\n{\n  \"name\": \"a\",\n  \"x\": \"na\"\n},\n{\"name\": \"b\"}\n]\n";
        let doc = JsonDoc::new(
            crate::facts::TextFile::new("pods.json", text.as_bytes().to_vec()),
            Value::Null,
            vec![Item::new(Value::Null, 2, 5), Item::new(Value::Null, 6, 6)],
            true,
        );
        let lines = ItemLines::of(&doc, &doc.items[0]);
        assert_eq!(&*lines.lines_with("\"name\""), &[3]);
        assert_eq!(&*lines.lines_with("\"a\""), &[3]);
        assert_eq!(&*lines.lines_with("na"), &[3, 4]);
        // A match across a line break is no line's.
        assert_eq!(&*lines.lines_with(",\n"), &[] as &[usize]);
        assert_eq!(lines.line(4), "  \"x\": \"na\"");
        assert_eq!(lines.line(9), "");
        let last = ItemLines::of(&doc, &doc.items[1]);
        assert_eq!(&*last.lines_with("\"b\""), &[6]);
        assert_eq!(&*last.lines_with("\"x\""), &[] as &[usize]);
    }

    #[test]
    fn object_labels() {
        let o = Object {
            namespace: Some("ns".into()),
            pod: Some("p".into()),
            container: Some("c".into()),
            node: Some("n".into()),
            ..Object::default()
        };
        assert_eq!(o.label(), "ns/p/c");
        let n = Object {
            node: Some("n".into()),
            unit: Some("kubelet".into()),
            ..Object::default()
        };
        assert_eq!(n.label(), "n/kubelet");
    }
}
