//! Parsed facts from the bundle, shared by every check.
//!
//! Each structured file is read and parsed on first use and the result (or the reason it is
//! unusable) is cached for every later check; only checks asking at the same moment may parse
//! it twice, never wait for each other. A file that is absent,
//! failed to collect or does not parse is an [`Unavailable`] whose reason names the file: that
//! is what a check reports as "not evaluated".

use crate::bundle::{Bundle, BundleFile};
use crate::layout::{Layout, Origin};
use crate::manifest::Manifest;
use crate::model::Evidence;
use crate::yaml;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// Structured files larger than this are not parsed (the reason says so).
const MAX_PARSED_FILE: u64 = 2 << 30;
/// An evidence excerpt keeps at most this many lines of a long object.
const MAX_EXCERPT_LINES: usize = 40;

/// Why a file a check needs cannot be used. Its text is the check's "not evaluated" reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Lines between two entries of a file's line index. The index keeps every 16th line start,
/// not every one: a 600 MB list has some 20 million lines, and a full index cost more memory
/// than its checks; finding a line then scans at most 15 short lines.
const LINE_STEP: usize = 16;

/// The line index step of a file left on disk: its lines are read back in chunks of
/// `CHUNK_LINES` anyway, and a 1.7 GB pods.json has 75 million lines.
const DISK_LINE_STEP: usize = 64;

/// A text file with its line index, for evidence by line number.
#[derive(Debug)]
pub struct TextFile {
    pub path: String,
    /// Shared with the items of a JSON list, which parse their own bytes on demand. Empty for
    /// a large list read as a stream: its lines are read back from the file ([`OnDisk`]).
    pub text: Arc<String>,
    /// Byte offset where lines 1, 1 + LINE_STEP, 1 + 2 × LINE_STEP… start (DISK_LINE_STEP
    /// for a file left on disk).
    checkpoints: Vec<usize>,
    /// How many lines start in the text (a final line break starts none).
    starts: usize,
    /// Lines of the text held longer than `DISK_LINE_CAP`: start and end byte offsets, and
    /// line number.
    long: Vec<(usize, usize, usize)>,
    /// Where the lines come from when the file was read from another tool's layout: evidence
    /// then names that file and line, not `path`.
    origin: Option<Arc<Origin>>,
    /// The file the lines are read back from when `text` is not held.
    disk: Option<Arc<OnDisk>>,
}

/// Bytes of a long line of a file left on disk that are read back (evidence, line searches);
/// the rest of the line is left out and marked ` …`.
const DISK_LINE_CAP: usize = crate::liststream::LONG_LINE;

/// Lines of a file read back from disk in chunks of this many lines.
const CHUNK_LINES: usize = 256;

/// A large list file left on disk: its lines and items are read back when asked for. Lines
/// handed out by reference ([`TextFile::line`]) keep their chunk; evidence and line searches
/// read chunks without keeping them, so memory follows what the checks cite, not the file.
pub struct OnDisk {
    file: std::fs::File,
    len: usize,
    chunks: Vec<OnceLock<Box<str>>>,
    /// Lines longer than `DISK_LINE_CAP`, as (start, end) offsets, in order.
    long: Vec<(usize, usize)>,
}

impl fmt::Debug for OnDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OnDisk({} bytes)", self.len)
    }
}

impl OnDisk {
    /// Bytes `start..end` of the file (fewer if it shrank since it was read). Positional
    /// reads: the threads parsing a list's items read them back side by side.
    fn read(&self, start: usize, end: usize) -> Vec<u8> {
        let mut buf = vec![0; end.saturating_sub(start)];
        let mut got = 0;
        while got < buf.len() {
            match read_at(&self.file, &mut buf[got..], (start + got) as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        buf.truncate(got);
        buf
    }

    /// The lines in bytes `start..end` (which start at a line start), each line longer than
    /// [`DISK_LINE_CAP`] cut to its first bytes and marked ` …`: a list written on one line
    /// (`jq -c`) is one line of the whole file, which evidence and line searches must not
    /// read. The long lines are known from the stream that read the file.
    fn read_lines_capped(&self, start: usize, end: usize) -> String {
        let long_at = |at: usize| {
            let i = self.long.partition_point(|&(s, _)| s < at);
            self.long.get(i).filter(|&&(s, _)| s == at).map(|&(_, e)| e)
        };
        let mut out = Vec::new();
        let mut at = start;
        while at < end {
            if let Some(line_end) = long_at(at) {
                out.extend_from_slice(&self.read(at, at + DISK_LINE_CAP));
                out.extend_from_slice(" …".as_bytes());
                if line_end <= end && self.read(line_end - 1, line_end) == b"\n" {
                    out.push(b'\n');
                }
                at = line_end;
                continue;
            }
            // Short lines, up to the next long one.
            let next_long = self.long[self.long.partition_point(|&(s, _)| s < at)..]
                .first()
                .map_or(end, |&(s, _)| s.min(end));
            let block = self.read(at, next_long.min(at + (1 << 20)));
            if block.is_empty() {
                break;
            }
            // Whole lines only, unless the block reaches the stop.
            let take = if at + block.len() >= next_long {
                block.len()
            } else {
                memchr::memrchr(b'\n', &block).map_or(block.len(), |i| i + 1)
            };
            out.extend_from_slice(&block[..take]);
            at += take;
        }
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// Line breaks in bytes `start..end`, counted in blocks.
    fn count_breaks(&self, start: usize, end: usize) -> usize {
        let mut n = 0;
        let mut at = start;
        while at < end {
            let block = self.read(at, end.min(at + (1 << 20)));
            if block.is_empty() {
                break;
            }
            at += block.len();
            n += memchr::memchr_iter(b'\n', &block).count();
        }
        n
    }

    fn read_text(&self, start: usize, end: usize) -> String {
        match String::from_utf8(self.read(start, end)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

#[cfg(unix)]
fn read_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, at)
}

#[cfg(windows)]
fn read_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, at)
}

impl TextFile {
    pub fn new(path: &str, bytes: Vec<u8>) -> TextFile {
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let mut checkpoints = vec![0];
        let mut starts = 1;
        let mut long = Vec::new();
        let mut line_start = 0;
        for i in memchr::memchr_iter(b'\n', text.as_bytes()) {
            if i + 1 - line_start > DISK_LINE_CAP {
                long.push((line_start, i + 1, starts));
            }
            line_start = i + 1;
            if i + 1 < text.len() {
                if starts % LINE_STEP == 0 {
                    checkpoints.push(i + 1);
                }
                starts += 1;
            }
        }
        if text.len() - line_start > DISK_LINE_CAP {
            long.push((line_start, text.len(), starts));
        }
        TextFile {
            path: path.to_string(),
            text: Arc::new(text),
            checkpoints,
            starts,
            long,
            origin: None,
            disk: None,
        }
    }

    /// Where the line starting at byte `start` ends (after its line break): a long line's end
    /// is known, so that a list written on one line is not searched for its end every time.
    fn line_end(&self, start: usize) -> usize {
        let i = self.long.partition_point(|&(s, _, _)| s < start);
        if let Some(&(s, e, _)) = self.long.get(i)
            && s == start
        {
            return e;
        }
        let bytes = self.text.as_bytes();
        memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1)
    }

    /// The same file, its lines known to come from `origin`.
    pub fn with_origin(mut self, origin: Option<Arc<Origin>>) -> TextFile {
        self.origin = origin;
        self
    }

    /// The file and line evidence names for line `n`: the file as it was sent.
    pub fn source_of(&self, n: usize) -> (String, usize) {
        match &self.origin {
            Some(o) => {
                let (f, l) = o.locate(n);
                (f.to_string(), l)
            }
            None => (self.path.clone(), n),
        }
    }

    /// Whether the text is left on disk (a large list read as a stream) rather than held.
    pub fn is_on_disk(&self) -> bool {
        self.disk.is_some()
    }

    pub fn line_count(&self) -> usize {
        if self.text.is_empty() && self.disk.as_ref().is_none_or(|d| d.len == 0) {
            0
        } else {
            self.starts
        }
    }

    /// 1-based line number of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let k = self.checkpoints.partition_point(|&s| s <= offset).max(1) - 1;
        let from = self.checkpoints[k];
        if let Some(d) = &self.disk {
            let to = offset.min(d.len.saturating_sub(1)).max(from);
            return k * DISK_LINE_STEP + 1 + d.count_breaks(from, to);
        }
        // A line break that ends the text starts no line.
        let to = offset.min(self.text.len().saturating_sub(1)).max(from);
        // Within or after a long line of this stretch: count from it, not through it.
        let i = self.long.partition_point(|&(s, _, _)| s <= to);
        if let Some(&(_, end, line)) = i.checked_sub(1).map(|i| &self.long[i])
            && end > from
        {
            if to < end {
                return line;
            }
            return line + memchr::memchr_iter(b'\n', &self.text.as_bytes()[end - 1..to]).count();
        }
        k * LINE_STEP + 1 + memchr::memchr_iter(b'\n', &self.text.as_bytes()[from..to]).count()
    }

    /// Byte range of 1-based line `n` (with its line break), if the text has that line.
    fn line_range(&self, n: usize) -> Option<(usize, usize)> {
        if n == 0 || n > self.starts {
            return None;
        }
        let mut start = self.checkpoints[(n - 1) / LINE_STEP];
        for _ in 0..(n - 1) % LINE_STEP {
            start = self.line_end(start);
        }
        Some((start, self.line_end(start)))
    }

    /// The bytes of chunk `c` of a file on disk (lines `c × CHUNK_LINES + 1…`).
    fn chunk_span(&self, d: &OnDisk, c: usize) -> (usize, usize) {
        let per = CHUNK_LINES / DISK_LINE_STEP;
        let start = self.checkpoints.get(c * per).copied().unwrap_or(d.len);
        let end = self
            .checkpoints
            .get((c + 1) * per)
            .copied()
            .unwrap_or(d.len);
        (start, end)
    }

    /// Calls `f` with lines `first..=last` in order until it returns true (`first` ≥ 1).
    /// On a file left on disk the lines are read back and not kept.
    pub fn for_lines(&self, first: usize, last: usize, mut f: impl FnMut(usize, &str) -> bool) {
        let last = last.min(self.line_count());
        let Some(d) = &self.disk else {
            for (n, l) in self.lines_in(first, last) {
                if f(n, l) {
                    return;
                }
            }
            return;
        };
        let mut n = first.max(1);
        while n <= last {
            let c = (n - 1) / CHUNK_LINES;
            let (start, end) = self.chunk_span(d, c);
            let chunk = match d.chunks.get(c).and_then(|k| k.get()) {
                Some(kept) => std::borrow::Cow::Borrowed(&**kept),
                None => std::borrow::Cow::Owned(d.read_lines_capped(start, end)),
            };
            let mut lines = chunk.split_inclusive('\n').skip((n - 1) % CHUNK_LINES);
            while n <= last && (n - 1) / CHUNK_LINES == c {
                let l = lines.next().unwrap_or("").trim_end_matches(['\n', '\r']);
                if f(n, l) {
                    return;
                }
                n += 1;
            }
        }
    }

    /// The text of 1-based line `n`, without its line break.
    pub fn line(&self, n: usize) -> &str {
        if let Some(d) = &self.disk {
            if n == 0 || n > self.starts {
                return "";
            }
            let c = (n - 1) / CHUNK_LINES;
            let Some(slot) = d.chunks.get(c) else {
                return "";
            };
            let chunk = slot.get_or_init(|| {
                let (start, end) = self.chunk_span(d, c);
                d.read_lines_capped(start, end).into_boxed_str()
            });
            return chunk
                .split_inclusive('\n')
                .nth((n - 1) % CHUNK_LINES)
                .unwrap_or("")
                .trim_end_matches(['\n', '\r']);
        }
        match self.line_range(n) {
            Some((start, end)) => self.text[start..end].trim_end_matches(['\n', '\r']),
            None => "",
        }
    }

    /// Lines `first..=last` of the text held in memory, in order, each found from the one
    /// before (no index look-up).
    fn lines_in(&self, first: usize, last: usize) -> impl Iterator<Item = (usize, &str)> {
        let last = if self.disk.is_some() {
            0
        } else {
            last.min(self.line_count())
        };
        let mut at = if first <= last {
            self.line_range(first.max(1)).map(|(s, _)| s)
        } else {
            None
        };
        let text = self.text.as_str();
        (first.max(1)..=last).map_while(move |n| {
            let start = at?;
            let end = self.line_end(start);
            at = Some(end);
            Some((n, text[start..end].trim_end_matches(['\n', '\r'])))
        })
    }

    /// Lines `first..=last` of a file held in memory as one slice of its text, with each
    /// line's span in that slice (without its line break); `None` for a file left on disk.
    pub fn lines_slice(&self, first: usize, last: usize) -> Option<(&str, Vec<(usize, usize)>)> {
        if self.disk.is_some() {
            return None;
        }
        let (first, last) = (first.max(1), last.min(self.line_count()));
        let Some((from, _)) = self.line_range(first).filter(|_| first <= last) else {
            return Some(("", Vec::new()));
        };
        let mut spans = Vec::with_capacity(last + 1 - first);
        let mut at = from;
        for _ in first..=last {
            let end = self.line_end(at);
            let line = self.text[at..end].trim_end_matches(['\n', '\r']);
            spans.push((at - from, at - from + line.len()));
            at = end;
        }
        Some((&self.text[from..at], spans))
    }

    /// Every line. On a file left on disk each line's chunk is then kept: use
    /// [`TextFile::find_line_in`] or [`TextFile::evidence`] there.
    pub fn lines(&self) -> Box<dyn Iterator<Item = (usize, &str)> + '_> {
        if self.disk.is_some() {
            Box::new((1..=self.line_count()).map(|n| (n, self.line(n))))
        } else {
            Box::new(self.lines_in(1, self.line_count()))
        }
    }

    /// Evidence for lines `first..=last`, the excerpt cut to a readable length.
    pub fn evidence(&self, first: usize, last: usize) -> Evidence {
        let last = last.max(first);
        let shown = (last - first + 1).min(MAX_EXCERPT_LINES);
        let mut excerpt: Vec<String> = Vec::with_capacity(shown + 1);
        if first == 0 {
            excerpt.push(String::new());
        }
        self.for_lines(first.max(1), first + shown - 1, |_, l| {
            // A line of a list written on one line is the whole list: cut.
            let mut cut = l.len().min(DISK_LINE_CAP);
            while !l.is_char_boundary(cut) {
                cut -= 1;
            }
            excerpt.push(if cut < l.len() {
                format!("{} …", &l[..cut])
            } else {
                l.to_string()
            });
            false
        });
        // Lines past the end of the file read as empty, as `line` gives them.
        excerpt.resize(shown, String::new());
        if shown < last - first + 1 {
            excerpt.push(format!("… {} more lines", last - first + 1 - shown));
        }
        let (file, line) = self.source_of(first);
        let end_line = match self.source_of(last) {
            (f, l) if f == file && l >= line => l,
            _ => line,
        };
        Evidence {
            file,
            line,
            end_line,
            excerpt: excerpt.join("\n"),
        }
    }

    /// First line in `first..=last` containing `needle`.
    pub fn find_line_in(&self, first: usize, last: usize, needle: &str) -> Option<usize> {
        if first == 0 && needle.is_empty() {
            return Some(0);
        }
        let mut found = None;
        self.for_lines(first.max(1), last, |n, l| {
            if l.contains(needle) {
                found = Some(n);
            }
            found.is_some()
        });
        found
    }

    /// Evidence for the first line containing `needle`, or the whole file's first line.
    pub fn evidence_for(&self, needle: &str) -> Evidence {
        let n = self.find_line_in(1, self.line_count(), needle).unwrap_or(1);
        self.evidence(n, n)
    }
}

/// One object of a Kubernetes list: where it lies in its file (bytes and lines) and its
/// `serde_json::Value`, built only when something asks for it.
#[derive(Debug)]
pub struct Item {
    pub value: ItemValue,
    pub line: usize,
    pub end_line: usize,
}

impl Item {
    /// An item whose value is already built (in-memory lists, tests, the slow path).
    pub fn new(value: Value, line: usize, end_line: usize) -> Item {
        Item {
            value: ItemValue {
                bytes: ItemBytes::None,
                span: (0, 0),
                cell: OnceLock::from(Box::new(value)),
            },
            line,
            end_line,
        }
    }

    /// The item's own bytes in its file's text, when it was read from one held in memory.
    pub fn raw(&self) -> Option<&str> {
        let ItemBytes::Memory(text) = &self.value.bytes else {
            return None;
        };
        text.get(self.value.span.0..self.value.span.1)
    }

    /// The item's own bytes, from its file's text in memory or read back from disk; `None`
    /// when the item was built as a `Value` (in-memory lists, the slow path).
    pub fn raw_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.value.raw_text()
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn value_mut(&mut self) -> &mut Value {
        let _ = self.value.get_value();
        self.value.cell.get_mut().expect("built just above")
    }
}

/// The `Value` of a list item, parsed from the item's bytes on first use and then kept.
/// Checks that read objects through `cluster.rs` never build it: a `Value` tree costs several
/// times the JSON it comes from, which is what made large lists slow and big.
pub struct ItemValue {
    bytes: ItemBytes,
    span: (usize, usize),
    /// Boxed: most items never build theirs, and a list can hold 300,000 items.
    cell: OnceLock<Box<Value>>,
}

/// Where an item's bytes are: its file's text in memory, the file left on disk, or nowhere
/// (an item built as a `Value`).
enum ItemBytes {
    None,
    Memory(Arc<String>),
    Disk(Arc<OnDisk>),
}

impl ItemValue {
    fn get_value(&self) -> &Value {
        self.cell.get_or_init(|| {
            // The bytes were validated when the file was read, so this parses.
            Box::new(
                self.raw_text()
                    .and_then(|raw| serde_json::from_str(&raw).ok())
                    .unwrap_or(Value::Null),
            )
        })
    }

    fn raw_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match &self.bytes {
            ItemBytes::Memory(t) => t
                .get(self.span.0..self.span.1)
                .map(std::borrow::Cow::Borrowed),
            ItemBytes::Disk(d) => Some(std::borrow::Cow::Owned(
                d.read_text(self.span.0, self.span.1),
            )),
            ItemBytes::None => None,
        }
    }
}

impl std::ops::Deref for ItemValue {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.get_value()
    }
}

impl fmt::Debug for ItemValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cell.get() {
            Some(v) => v.fmt(f),
            None => write!(f, "<bytes {}..{}>", self.span.0, self.span.1),
        }
    }
}

/// A parsed JSON file. For a list (`{"kind":"List","items":[...]}`, `items: null`, or a bare
/// array) `items` holds its elements and `is_list` is set; otherwise `value` is the document.
#[derive(Debug)]
pub struct JsonDoc {
    pub text: TextFile,
    pub value: Value,
    pub items: Vec<Item>,
    pub is_list: bool,
    derived: Derived,
}

/// How many kinds of data may be derived from one list (see [`JsonDoc::derived`]).
pub const DERIVED_SLOTS: usize = 6;

/// Data derived once from a list's items and kept with it.
#[derive(Default)]
struct Derived([OnceLock<Box<dyn std::any::Any + Send + Sync>>; DERIVED_SLOTS]);

impl fmt::Debug for Derived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filled = self.0.iter().filter(|s| s.get().is_some()).count();
        write!(f, "Derived({filled} filled)")
    }
}

impl JsonDoc {
    pub fn new(text: TextFile, value: Value, items: Vec<Item>, is_list: bool) -> JsonDoc {
        JsonDoc {
            text,
            value,
            items,
            is_list,
            derived: Derived::default(),
        }
    }

    /// Data made once from this list by `make` (the typed views of `cluster.rs`) and kept
    /// with it, so every check shares one parse. Each `slot` (below [`DERIVED_SLOTS`]) holds
    /// one type: its callers own that pairing.
    pub fn derived<T: std::any::Any + Send + Sync>(
        &self,
        slot: usize,
        make: impl FnOnce(&JsonDoc) -> T,
    ) -> &T {
        self.derived.0[slot]
            .get_or_init(|| Box::new(make(self)))
            .downcast_ref::<T>()
            .expect("a derived slot holds one type")
    }

    pub fn path(&self) -> &str {
        &self.text.path
    }

    /// Evidence covering one list item.
    pub fn item_evidence(&self, item: &Item) -> Evidence {
        self.on_item_line(item, self.text.evidence(item.line, item.end_line), None)
    }

    /// Evidence for the line inside `item` that contains `needle` (e.g. `"CrashLoopBackOff"`),
    /// falling back to the whole item.
    pub fn item_line_evidence(&self, item: &Item, needle: &str) -> Evidence {
        match self.find_in_item(item, item.line, needle) {
            Some(n) => self.on_item_line(item, self.text.evidence(n, n), Some(needle)),
            None => self.on_item_line(item, self.item_evidence(item), Some(needle)),
        }
    }

    /// The first line of `item` from line `from` on that contains `needle`. An item on one line
    /// (a list written on one line) is searched in its own bytes, not in the line it shares.
    pub fn find_in_item(&self, item: &Item, from: usize, needle: &str) -> Option<usize> {
        if item.line == item.end_line && from <= item.line {
            let found = match item.raw() {
                Some(raw) => raw.contains(needle),
                None => item.raw_text().is_some_and(|raw| raw.contains(needle)),
            };
            if found || !matches!(item.value.bytes, ItemBytes::None) {
                return found.then_some(item.line);
            }
        }
        self.text
            .find_line_in(from.max(item.line), item.end_line, needle)
    }

    /// `ev`, whose excerpt is the item's own bytes (around `needle`, else from its start) when
    /// the item shares its one line with others: a list written on one line (`jq -c`) would
    /// otherwise show its first bytes (or all of it) for every item.
    pub fn on_item_line(&self, item: &Item, mut ev: Evidence, needle: Option<&str>) -> Evidence {
        let (start, end) = item.value.span;
        if item.line != item.end_line
            || ev.line != item.line
            || end <= start
            || ev.excerpt.len() <= end - start + 64
        {
            return ev;
        }
        let raw = match (&self.text.disk, item.raw()) {
            (_, Some(raw)) => std::borrow::Cow::Borrowed(raw),
            (Some(d), None) => {
                std::borrow::Cow::Owned(d.read_text(start, end.min(start + DISK_LINE_CAP)))
            }
            (None, None) => return ev,
        };
        let at = needle.and_then(|n| raw.find(n)).unwrap_or(0);
        let mut from = at.saturating_sub(120);
        while !raw.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (at + 400).min(raw.len());
        while !raw.is_char_boundary(to) {
            to += 1;
        }
        ev.excerpt = raw[from..to].to_string();
        ev
    }

    #[cfg(test)]
    fn parse(path: &str, bytes: Vec<u8>) -> Result<JsonDoc, String> {
        JsonDoc::parse_tuned(path, bytes, Tuning::default())
    }

    fn parse_tuned(path: &str, bytes: Vec<u8>, tuning: Tuning) -> Result<JsonDoc, String> {
        let text = TextFile::new(path, bytes);
        if text.text.trim().is_empty() {
            return Err(format!("{path} is empty"));
        }
        let invalid = |e: serde_json::Error| {
            format!(
                "{path} is not valid JSON (line {}, column {}: {e})",
                e.line(),
                e.column()
            )
        };
        let line_span =
            |&(s, e): &(usize, usize)| (text.line_of(s), text.line_of(e.saturating_sub(1).max(s)));
        if !tuning.slow_path {
            // One pass over the bytes validates the whole file (errors name its line) and finds
            // each item's exact bytes; no item is parsed into a `Value` here.
            let outline = serde_json::from_str::<Outline>(&text.text).map_err(invalid)?;
            if let Outline::List { value, items } = outline {
                let base = text.text.as_ptr() as usize;
                let spans: Vec<(usize, usize)> = items
                    .iter()
                    .map(|raw| {
                        let start = raw.get().as_ptr() as usize - base;
                        (start, start + raw.get().len())
                    })
                    .collect();
                let shared = Arc::clone(&text.text);
                let items = spans
                    .iter()
                    .map(|span| {
                        let (line, end_line) = line_span(span);
                        Item {
                            value: ItemValue {
                                bytes: ItemBytes::Memory(Arc::clone(&shared)),
                                span: *span,
                                cell: OnceLock::new(),
                            },
                            line,
                            end_line,
                        }
                    })
                    .collect();
                return Ok(JsonDoc::new(text, value, items, true));
            }
        } else {
            serde_json::from_str::<serde::de::IgnoredAny>(&text.text).map_err(invalid)?;
        }
        // Single objects, and every file on the slow path: the whole document as one `Value`.
        let spans = crate::jsonscan::list_item_spans(text.text.as_bytes());
        let mut value: Value = serde_json::from_str(&text.text)
            .map_err(|e| format!("{path} is not valid JSON ({e})"))?;
        let (raw_items, is_list) = match &mut value {
            Value::Array(a) => (std::mem::take(a), true),
            Value::Object(o) if o.contains_key("items") => match o.get_mut("items") {
                Some(Value::Array(a)) => (std::mem::take(a), true),
                Some(Value::Null) => (Vec::new(), true),
                _ => (Vec::new(), false),
            },
            _ => (Vec::new(), false),
        };
        let whole = (1, text.line_count().max(1));
        let items = raw_items
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let (line, end_line) = spans.get(i).map(line_span).unwrap_or(whole);
                Item::new(v, line, end_line)
            })
            .collect();
        Ok(JsonDoc::new(text, value, items, is_list))
    }
}

impl JsonDoc {
    /// A list file read as a stream of items, its text left on disk: only each item's byte
    /// span and lines and a sparse line index are kept, and items and lines are read back
    /// when asked for. `None` when the file is not a list or does not read cleanly as a
    /// stream (bad JSON, bytes that are not UTF-8): it is then read whole, which gives the
    /// same answer and error as for any file.
    fn stream(path: &str, disk: &std::path::Path) -> Option<JsonDoc> {
        let file = std::fs::File::open(disk).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        let got = crate::liststream::read_list(file, len, DISK_LINE_STEP)?;
        JsonDoc::streamed(path, disk, len, got)
    }

    /// [`JsonDoc::stream`] by `read` (see [`ParsedStream`]), its parsed items kept in their
    /// derived slot.
    fn stream_parsed(path: &str, disk: &std::path::Path, read: ReadTyped) -> Option<JsonDoc> {
        let file = std::fs::File::open(disk).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        let got = read(Box::new(file), len, DISK_LINE_STEP)?;
        JsonDoc::from_parsed(path, disk, len, got)
    }

    fn from_parsed(
        path: &str,
        disk: &std::path::Path,
        len: usize,
        got: ParsedStream,
    ) -> Option<JsonDoc> {
        let doc = JsonDoc::streamed(path, disk, len, got.streamed)?;
        let _ = doc.derived.0.get(got.slot)?.set(got.parsed);
        Some(doc)
    }

    fn streamed(
        path: &str,
        disk: &std::path::Path,
        len: usize,
        got: crate::liststream::Streamed,
    ) -> Option<JsonDoc> {
        let chunks = got.starts.div_ceil(CHUNK_LINES);
        let on_disk = Arc::new(OnDisk {
            file: std::fs::File::open(disk).ok()?,
            len,
            chunks: (0..chunks).map(|_| OnceLock::new()).collect(),
            long: got.long_lines,
        });
        let items = got
            .items
            .into_iter()
            .map(|(span, line, end_line)| Item {
                value: ItemValue {
                    bytes: ItemBytes::Disk(Arc::clone(&on_disk)),
                    span,
                    cell: OnceLock::new(),
                },
                line,
                end_line,
            })
            .collect();
        let text = TextFile {
            path: path.to_string(),
            text: Arc::new(String::new()),
            checkpoints: got.checkpoints,
            starts: got.starts,
            long: Vec::new(),
            origin: None,
            disk: Some(on_disk),
        };
        Some(JsonDoc::new(text, got.rest, items, true))
    }
}

/// What one validating pass learns of a JSON document: a list (`{"items": [...]}` with its
/// other keys, `items: null`, or a bare array) with the raw bytes of each item, or anything
/// else.
enum Outline<'a> {
    List {
        /// The document without its items (`items` kept as an empty array or null).
        value: Value,
        items: Vec<&'a RawValue>,
    },
    Other,
}

impl<'de> Deserialize<'de> for Outline<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OutlineVisitor)
    }
}

struct OutlineVisitor;

impl<'de> Visitor<'de> for OutlineVisitor {
    type Value = Outline<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            items.push(raw);
        }
        Ok(Outline::List {
            value: Value::Array(Vec::new()),
            items,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rest = serde_json::Map::new();
        let mut items = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                let got = map.next_value::<Items>()?;
                rest.insert(
                    key,
                    match got {
                        Items::Null => Value::Null,
                        _ => Value::Array(Vec::new()),
                    },
                );
                items = Some(got);
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        Ok(match items {
            Some(Items::List(items)) => Outline::List {
                value: Value::Object(rest),
                items,
            },
            Some(Items::Null) => Outline::List {
                value: Value::Object(rest),
                items: Vec::new(),
            },
            _ => Outline::Other,
        })
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Outline::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Outline::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Outline::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Outline::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Outline::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Outline::Other)
    }
}

/// The value of a document's `items` key.
enum Items<'a> {
    List(Vec<&'a RawValue>),
    Null,
    Other,
}

impl<'de> Deserialize<'de> for Items<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Items<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    items.push(raw);
                }
                Ok(Items::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Items::Other)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Items::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Items::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Items::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Items::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Items::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Items::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A list read as a stream with its items parsed into their typed form (`Vec<T>` of a
/// `cluster.rs` parse), for derived `slot`.
pub struct ParsedStream {
    pub streamed: crate::liststream::Streamed,
    pub slot: usize,
    pub parsed: Box<dyn std::any::Any + Send + Sync>,
}

/// Reads a list of `len` bytes as a stream from a reader, with a line index step, parsing its
/// items on the way (`cluster::typed_reader`).
pub type ReadTyped = fn(Box<dyn std::io::Read + '_>, usize, usize) -> Option<ParsedStream>;

/// Large lists of an archive read and parsed while the archive inflated, from a copy of their
/// bytes (see [`crate::bundle::Unpacking::copy_to`]): the file's whole read then costs nothing
/// once the bundle is open. Each is used only when the bundle reads that very file under that
/// very path as itself, as the early scan of logs is (see `scan::EarlyScan`).
#[derive(Default)]
pub struct EarlyLists {
    /// By path in our layout (the archive's top folder taken off): the reader thread, the
    /// entry it read, where the entry was written, and whether it was unpacked twice.
    lists: Mutex<HashMap<String, Early>>,
    /// How many lists the facts took from here.
    used: std::sync::atomic::AtomicU64,
}

struct Early {
    entry: String,
    reading: Option<std::thread::JoinHandle<Option<(ParsedStream, usize)>>>,
    disk: Option<std::path::PathBuf>,
    twice: bool,
}

impl fmt::Debug for EarlyLists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.lists.lock().map(|l| l.len()).unwrap_or(0);
        write!(f, "EarlyLists({n})")
    }
}

impl EarlyLists {
    /// Where to send the bytes of archive entry `entry` (of `size` bytes) to be read by `read`
    /// on a thread of its own; `None` for entries not read so (see `cluster.rs`).
    pub fn copy_to(
        &self,
        entry: &str,
        size: u64,
        read: ReadTyped,
    ) -> Option<Box<dyn std::io::Write + Send>> {
        let (_, path) = entry.split_once('/')?;
        let len = usize::try_from(size).ok()?;
        let mut lists = self.lists.lock().ok()?;
        if let Some(e) = lists.get_mut(path) {
            e.twice = true;
            return None;
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
        let reading = std::thread::Builder::new()
            .name("early-list".into())
            .spawn(move || {
                let got = read(
                    Box::new(ChannelReader {
                        rx,
                        block: Vec::new(),
                        at: 0,
                    }),
                    len,
                    DISK_LINE_STEP,
                );
                got.map(|g| (g, len))
            })
            .ok()?;
        lists.insert(
            path.to_string(),
            Early {
                entry: entry.to_string(),
                reading: Some(reading),
                disk: None,
                twice: false,
            },
        );
        Some(Box::new(ChannelWriter(tx)))
    }

    /// Archive entry `entry` is whole on disk at `disk`.
    pub fn unpacked(&self, entry: &str, disk: &std::path::Path) {
        let Some((_, path)) = entry.split_once('/') else {
            return;
        };
        if let Ok(mut lists) = self.lists.lock()
            && let Some(e) = lists.get_mut(path)
            && e.entry == entry
        {
            e.disk = Some(disk.to_path_buf());
        }
    }

    /// The list at `path`, if it was read early from the very file at `disk`.
    fn take(&self, path: &str, disk: &std::path::Path) -> Option<JsonDoc> {
        let mut e = self.lists.lock().ok()?.remove(path)?;
        let got = e.reading.take()?.join().ok()??;
        if e.twice || e.disk.as_deref() != Some(disk) {
            return None;
        }
        // The header's size is the file's unless the archive was cut short inside it, which
        // leaves a truncated list that the read refused already.
        let (parsed, len) = got;
        let doc = JsonDoc::from_parsed(path, disk, len, parsed)?;
        self.used.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(doc)
    }

    /// How many lists were taken from here.
    pub fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Drops the lists no one took (their readers end with the archive's bytes).
    pub fn forget(&self) {
        if let Ok(mut lists) = self.lists.lock() {
            lists.clear();
        }
    }
}

/// Bytes sent to a reader on another thread, a block at a time.
struct ChannelWriter(std::sync::mpsc::SyncSender<Vec<u8>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads what a [`ChannelWriter`] sends, until it is dropped.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    block: Vec<u8>,
    at: usize,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.block.len() {
            match self.rx.recv() {
                Ok(b) => {
                    self.block = b;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.block.len() - self.at);
        out[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Runs `f` over `items` on scoped OS threads (in order), not on the rayon pool: this runs
/// inside a parse-once cache slot, and a rayon worker waiting for its own parallel work may
/// steal another check's job that waits for this very slot, which then never fills (a
/// deadlock). Each thread writes its results in place: a list of 150,000 parsed pods is not
/// copied from parts into a whole. Strings `f` reads through `lenient` are shared within
/// each thread's part ([`crate::lenient::interning`]).
pub fn map_in_parallel<T: Sync, R: Send + Default>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16);
    let chunk = items.len().div_ceil(workers).max(1);
    // Small lists are not worth a thread.
    if items.len() < 256 || items.len() <= chunk {
        return crate::lenient::interning(|| items.iter().map(&f).collect());
    }
    let mut out: Vec<R> = Vec::with_capacity(items.len());
    out.resize_with(items.len(), R::default);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .zip(out.chunks_mut(chunk))
            .map(|(part, into)| {
                scope.spawn(move || {
                    crate::lenient::interning(|| {
                        for (item, slot) in part.iter().zip(into) {
                            *slot = f(item);
                        }
                    })
                })
            })
            .collect();
        for h in handles {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
    });
    out
}

/// A parsed YAML file (possibly several documents) with its text for evidence.
#[derive(Debug)]
pub struct YamlDoc {
    pub text: TextFile,
    pub docs: Vec<Value>,
}

type Slot<T> = Arc<OnceLock<Result<Arc<T>, Unavailable>>>;

/// Parse-once cache for one kind of parsed file.
struct Cache<T> {
    slots: Mutex<HashMap<String, Slot<T>>>,
}

impl<T> Cache<T> {
    fn new() -> Self {
        Cache {
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn get(
        &self,
        path: &str,
        load: impl FnOnce() -> Result<T, Unavailable>,
    ) -> Result<Arc<T>, Unavailable> {
        let slot = {
            let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(path.to_string()).or_default().clone()
        };
        // Each file is parsed exactly once; other checks wanting it wait. A load never runs
        // rayon jobs (see `map_in_parallel`), so a waiting pool thread cannot be handed
        // work that needs the very slot it waits on.
        slot.get_or_init(|| load().map(Arc::new)).clone()
    }
}

/// Everything the checks may read, parsed on demand and shared.
pub struct Facts<'b> {
    pub bundle: &'b Bundle,
    manifest: Result<Manifest, Unavailable>,
    json: Cache<JsonDoc>,
    yaml: Cache<YamlDoc>,
    text: Cache<TextFile>,
    time: OnceLock<Option<jiff::Timestamp>>,
    tuning: Tuning,
    reads: Mutex<BTreeSet<(String, String)>>,
    /// Lists read while the archive inflated.
    pub(crate) early: Option<Arc<EarlyLists>>,
}

thread_local! {
    /// The check whose logic runs on this thread, while reads are recorded.
    static READER: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Switches for the speed-ups, read once (from `KUBETRIAGE_SLOW_PATH`) into the configuration
/// and passed down, so nothing deep in the library reads the environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tuning {
    /// No prefilter (every line matched on its own) and JSON lists parsed whole. Results must
    /// not change: the tests compare both paths.
    pub slow_path: bool,
    /// Note which check reads which file (see [`Facts::recorded_reads`]); for the tests.
    pub record_reads: bool,
    /// List files larger than this many bytes are read as a stream and left on disk (see
    /// [`JsonDoc`]); `None` is [`STREAM_LISTS_ABOVE`]. Tests lower it to read small lists so.
    pub stream_lists_above: Option<u64>,
}

/// List files above this size are read as a stream of items, their text left on disk.
pub const STREAM_LISTS_ABOVE: u64 = 32 << 20;

impl Tuning {
    pub fn from_env() -> Tuning {
        Tuning {
            slow_path: std::env::var_os("KUBETRIAGE_SLOW_PATH").is_some(),
            record_reads: false,
            stream_lists_above: None,
        }
    }
}

impl<'b> Facts<'b> {
    pub fn new(bundle: &'b Bundle) -> Facts<'b> {
        Facts::with_tuning(bundle, Tuning::default())
    }

    pub fn with_tuning(bundle: &'b Bundle, tuning: Tuning) -> Facts<'b> {
        let manifest = match bundle.file("manifest.json") {
            None => Err(Unavailable {
                path: "manifest.json".into(),
                reason: "manifest.json is not in the bundle".into(),
            }),
            Some(_) => std::fs::read(bundle.disk_path("manifest.json"))
                .map_err(|e| e.to_string())
                .and_then(|b| Manifest::parse(&b))
                .map_err(|e| Unavailable {
                    path: "manifest.json".into(),
                    reason: format!("manifest.json is unreadable: {e}"),
                }),
        };
        Facts {
            bundle,
            manifest,
            json: Cache::new(),
            yaml: Cache::new(),
            text: Cache::new(),
            time: OnceLock::new(),
            tuning,
            reads: Mutex::new(BTreeSet::new()),
            early: None,
        }
    }

    /// These facts take the lists `early` read while the archive inflated.
    pub fn with_early(mut self, early: Arc<EarlyLists>) -> Facts<'b> {
        self.early = Some(early);
        self
    }

    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// Notes that the check running on this thread asked for `path` (a path or a glob), when
    /// [`Tuning::record_reads`] is on: the tests hold each check to the `reads` of its spec.
    fn record(&self, path: &str) {
        if !self.tuning.record_reads {
            return;
        }
        READER.with(|r| {
            if let Some(id) = r.borrow().as_ref() {
                self.reads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((id.clone(), path.to_string()));
            }
        });
    }

    /// Runs `f` as check `id`, for [`Facts::record`].
    pub fn as_check<R>(&self, id: &str, f: impl FnOnce() -> R) -> R {
        if !self.tuning.record_reads {
            return f();
        }
        let before = READER.with(|r| r.replace(Some(id.to_string())));
        let out = f();
        READER.with(|r| *r.borrow_mut() = before);
        out
    }

    /// (check id, path or glob) for every read recorded so far.
    pub fn recorded_reads(&self) -> BTreeSet<(String, String)> {
        self.reads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref().ok()
    }

    pub fn manifest_problem(&self) -> Option<&Unavailable> {
        self.manifest.as_ref().err()
    }

    /// Why `path` cannot be used: not collected (with the collector's reason), or absent.
    pub fn unavailable(&self, path: &str) -> Unavailable {
        let reason = match self.manifest().and_then(|m| m.source(path)) {
            Some(src) if src.status() != crate::manifest::SourceStatus::Ok => {
                format!(
                    "{path} was not collected ({}): {}",
                    src.status().as_str(),
                    src.detail()
                )
            }
            Some(_) => format!("{path} is recorded in the manifest but missing from the bundle"),
            None => match self.bundle.view.absent_reason(path) {
                Some(why) if why.starts_with(path) => why.to_string(),
                Some(why) => format!("{path} is not in the bundle: {why}"),
                None if self.bundle.layout != Layout::Kubetriage => format!(
                    "{path} is not in the bundle ({} holds no such data)",
                    self.bundle.layout.describe()
                ),
                None => format!("{path} is not in the bundle"),
            },
        };
        Unavailable {
            path: path.to_string(),
            reason,
        }
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, Unavailable> {
        let f = self
            .bundle
            .file(path)
            .ok_or_else(|| self.unavailable(path))?;
        if f.size > MAX_PARSED_FILE {
            return Err(Unavailable {
                path: path.into(),
                reason: format!(
                    "{path} is too large to parse ({})",
                    crate::bundle::human_bytes(f.size)
                ),
            });
        }
        std::fs::read(self.bundle.disk_path(path)).map_err(|e| Unavailable {
            path: path.into(),
            reason: format!("{path} could not be read: {e}"),
        })
    }

    /// Lists larger than this many bytes are read as a stream and left on disk.
    pub fn stream_lists_above(&self) -> u64 {
        self.tuning.stream_lists_above.unwrap_or(STREAM_LISTS_ABOVE)
    }

    /// A JSON file (list or single object), parsed once.
    pub fn json(&self, path: &str) -> Result<Arc<JsonDoc>, Unavailable> {
        self.load_json(path, |disk| JsonDoc::stream(path, disk))
    }

    /// [`Facts::json`] for a list whose items, if it is read as a stream, are parsed by
    /// `read` on the way and kept in the list's derived slot: the typed views of
    /// `cluster.rs` then find them there. Read otherwise, or already read, the list is as
    /// `json` gives it, and the views parse its items when first asked.
    pub fn json_parsed(&self, path: &str, read: ReadTyped) -> Result<Arc<JsonDoc>, Unavailable> {
        self.load_json(path, |disk| JsonDoc::stream_parsed(path, disk, read))
    }

    fn load_json(
        &self,
        path: &str,
        stream: impl FnOnce(&std::path::Path) -> Option<JsonDoc>,
    ) -> Result<Arc<JsonDoc>, Unavailable> {
        self.record(path);
        self.json.get(path, || {
            let above = self.stream_lists_above();
            // Files an importer built from parts keep their lines' origins and are read whole.
            // A stream has no size limit: only what the checks keep is held.
            if !self.tuning.slow_path
                && self.bundle.origin(path).is_none()
                && let Some(f) = self.bundle.file(path)
                && f.size > above
            {
                let disk = self.bundle.disk_path(path);
                // Parsed already, while the archive inflated?
                if let Some(early) = &self.early
                    && let Some(doc) = early.take(path, &disk)
                {
                    return Ok(doc);
                }
                if let Some(doc) = stream(&disk) {
                    return Ok(doc);
                }
            }
            let bytes = self.read(path)?;
            let mut doc =
                JsonDoc::parse_tuned(path, bytes, self.tuning).map_err(|reason| Unavailable {
                    path: path.into(),
                    reason,
                })?;
            doc.text.origin = self.bundle.origin(path);
            Ok(doc)
        })
    }

    /// A JSON list file (`kubectl get ... -o json`); a single object there is an error.
    pub fn list(&self, path: &str) -> Result<Arc<JsonDoc>, Unavailable> {
        let doc = self.json(path)?;
        if !doc.is_list {
            return Err(Unavailable {
                path: path.into(),
                reason: format!("{path} is not a list (expected items or a JSON array)"),
            });
        }
        Ok(doc)
    }

    /// A YAML file, every document parsed once.
    pub fn yaml(&self, path: &str) -> Result<Arc<YamlDoc>, Unavailable> {
        self.record(path);
        self.yaml.get(path, || {
            let text = TextFile::new(path, self.read(path)?).with_origin(self.bundle.origin(path));
            let docs = yaml::parse_documents(&text.text).map_err(|e| Unavailable {
                path: path.into(),
                reason: format!("{path} is not valid YAML: {e}"),
            })?;
            Ok(YamlDoc { text, docs })
        })
    }

    /// A small text file (node probes, os-release, resolv.conf...), read once.
    pub fn text(&self, path: &str) -> Result<Arc<TextFile>, Unavailable> {
        self.record(path);
        self.text.get(path, || {
            Ok(TextFile::new(path, self.read(path)?).with_origin(self.bundle.origin(path)))
        })
    }

    /// Bundle files whose path matches a glob (`nodes/*/resolv.conf`, `kubectl/logs/**`).
    pub fn glob(&self, pattern: &str) -> Vec<&'b BundleFile> {
        self.record(pattern);
        let Ok(g) = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
        else {
            return Vec::new();
        };
        let m = g.compile_matcher();
        self.bundle
            .files
            .iter()
            .filter(|f| m.is_match(&f.path))
            .collect()
    }

    /// Names of the nodes the collector ran on (folders under `nodes/`).
    pub fn nodes(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .bundle
            .files
            .iter()
            .filter_map(|f| f.path.strip_prefix("nodes/"))
            .filter_map(|rest| rest.split_once('/').map(|(n, _)| n.to_string()))
            .collect();
        out.dedup();
        out
    }

    /// The bundle's own "now": the manifest's `created`, else the newest timestamp found in the
    /// events, pods and nodes (another tool's bundle records no collection time; a Ready node's
    /// heartbeat is minutes old at most, where the newest event or pod change can be hours
    /// old). Never the clock of the machine reading the bundle.
    pub fn collection_time(&self) -> Option<jiff::Timestamp> {
        *self.time.get_or_init(|| {
            if let Some(t) = self
                .manifest()
                .and_then(|m| m.created.as_deref())
                .and_then(parse_time)
            {
                return Some(t);
            }
            let mut newest: Option<jiff::Timestamp> = None;
            for path in [
                "kubectl/events.json",
                "kubectl/pods.json",
                "kubectl/nodes.json",
            ] {
                if let Ok(doc) = self.json(path) {
                    for item in &doc.items {
                        match item.raw_text() {
                            // Read from the bytes: no `Value` of every pod is built for this.
                            Some(raw) => {
                                let mut de = serde_json::Deserializer::from_str(&raw);
                                let _ = serde::de::DeserializeSeed::deserialize(
                                    NewestTime(&mut newest),
                                    &mut de,
                                );
                            }
                            None => newest_time_in(item.value(), &mut newest),
                        }
                    }
                }
            }
            newest
        })
    }
}

pub use crate::lenient::parse_time;

fn newest_time_in(v: &Value, newest: &mut Option<jiff::Timestamp>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if let Value::String(s) = x {
                    if (k.ends_with("Timestamp")
                        || k.ends_with("Time")
                        || k == "startedAt"
                        || k == "finishedAt")
                        && let Some(t) = parse_time(s)
                        && newest.is_none_or(|n| t > n)
                    {
                        *newest = Some(t);
                    }
                } else {
                    newest_time_in(x, newest);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| newest_time_in(x, newest)),
        _ => {}
    }
}

/// [`newest_time_in`] over JSON as it is read: the newest time under a key ending in
/// `Timestamp` or `Time`, or `startedAt`/`finishedAt`, at any depth.
struct NewestTime<'a>(&'a mut Option<jiff::Timestamp>);

impl<'de> serde::de::DeserializeSeed<'de> for NewestTime<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NewestTime<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(is_time) = map.next_key_seed(IsTimeKey)? {
            match map.next_value::<TimeOrNested>()? {
                TimeOrNested::Str(s) => {
                    if is_time
                        && let Some(t) = parse_time(&s)
                        && self.0.is_none_or(|n| t > n)
                    {
                        *self.0 = Some(t);
                    }
                }
                TimeOrNested::Nested(Some(t)) => {
                    if self.0.is_none_or(|n| t > n) {
                        *self.0 = Some(t);
                    }
                }
                TimeOrNested::Nested(None) => {}
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NewestTime(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Whether a key names a time (read without copying it).
struct IsTimeKey;

impl<'de> serde::de::DeserializeSeed<'de> for IsTimeKey {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for IsTimeKey {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key.ends_with("Timestamp")
            || key.ends_with("Time")
            || key == "startedAt"
            || key == "finishedAt")
    }
}

/// A value under a key: a string (a time if the key says so), or the newest time inside.
enum TimeOrNested<'de> {
    Str(std::borrow::Cow<'de, str>),
    Nested(Option<jiff::Timestamp>),
}

impl<'de> Deserialize<'de> for TimeOrNested<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeOrNested<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(TimeOrNested::Str(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TimeOrNested::Str(v.to_string().into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let mut t = None;
                NewestTime(&mut t).visit_map(map)?;
                Ok(TimeOrNested::Nested(t))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let mut t = None;
                NewestTime(&mut t).visit_seq(seq)?;
                Ok(TimeOrNested::Nested(t))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(TimeOrNested::Nested(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(TimeOrNested::Nested(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(TimeOrNested::Nested(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(TimeOrNested::Nested(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(TimeOrNested::Nested(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_asked_for_by_many_checks_at_once_is_parsed_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache: Cache<String> = Cache::new();
        let loads = AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            for _ in 0..8 {
                let tx = tx.clone();
                let (cache, loads) = (&cache, &loads);
                scope.spawn(move || {
                    let v = cache.get("kubectl/pods.json", || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        Ok("pods".to_string())
                    });
                    let _ = tx.send(v.unwrap());
                });
            }
        });
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(got.len(), 8);
        assert!(got.iter().all(|v| **v == "pods"));
        assert_eq!(loads.load(Ordering::SeqCst), 1, "parsed more than once");
    }

    #[test]
    fn list_shapes_and_item_lines() {
        let text = "{\n  \"kind\": \"List\",\n  \"items\": [\n    {\"a\": 1},\n    {\n      \"b\": \"x]}\"\n    }\n  ]\n}\n";
        let d = JsonDoc::parse("f.json", text.as_bytes().to_vec()).unwrap();
        assert!(d.is_list);
        assert_eq!(d.items.len(), 2);
        assert_eq!((d.items[0].line, d.items[0].end_line), (4, 4));
        assert_eq!((d.items[1].line, d.items[1].end_line), (5, 7));
        let bare = JsonDoc::parse("f.json", b"[{\"a\":1},{\"a\":2}]".to_vec()).unwrap();
        assert_eq!(bare.items.len(), 2);
        let null =
            JsonDoc::parse("f.json", br#"{"kind":"PodList","items":null}"#.to_vec()).unwrap();
        assert!(null.is_list && null.items.is_empty());
        let single = JsonDoc::parse("f.json", br#"{"name":"c","items_x":[1]}"#.to_vec()).unwrap();
        assert!(!single.is_list);
    }

    #[test]
    fn items_after_other_keys_are_found() {
        let text = r#"{"apiVersion":"v1","metadata":{"x":[{"items":[]}]},"items":[{"k":"{"},{"k":"\"}"}]}"#;
        assert_eq!(crate::jsonscan::list_item_spans(text.as_bytes()).len(), 2);
    }

    #[test]
    fn bad_json_names_file_and_line() {
        let e = JsonDoc::parse("kubectl/pods.json", b"{\n\"a\": }".to_vec()).unwrap_err();
        assert!(
            e.starts_with("kubectl/pods.json is not valid JSON (line 2"),
            "{e}"
        );
    }

    /// The sparse line index answers as a full one would, around and across its entries.
    #[test]
    fn long_lines_are_counted_past_and_cut_in_evidence() {
        let long = "y".repeat(DISK_LINE_CAP + 10);
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&if i % 7 == 3 {
                long.clone()
            } else {
                format!("line {i}")
            });
            text.push('\n');
        }
        text.push_str(&long);
        let t = TextFile::new("x", text.clone().into_bytes());
        let mut want = 1;
        for (off, b) in text.bytes().enumerate() {
            if off % 997 == 0 || b == b'\n' {
                assert_eq!(t.line_of(off), want, "offset {off}");
            }
            if b == b'\n' {
                want += 1;
            }
        }
        assert_eq!(t.line(5), "line 4");
        assert_eq!(t.line(4).len(), long.len());
        let ev = t.evidence(4, 5);
        assert!(ev.excerpt.starts_with("yyy") && ev.excerpt.contains(" …\nline 4"));
        assert!(ev.excerpt.len() < DISK_LINE_CAP + 20);
        assert_eq!(t.line_count(), 41);
    }

    #[test]
    fn sparse_line_index_matches_every_line_start() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&"x".repeat(i % 7));
            text.push_str(if i % 5 == 0 { "\r\n" } else { "\n" });
        }
        for tail in ["", "last"] {
            let full = format!("{text}{tail}");
            let t = TextFile::new("f", full.clone().into_bytes());
            let mut starts = vec![0];
            starts.extend(
                full.match_indices('\n')
                    .map(|(i, _)| i + 1)
                    .filter(|&i| i < full.len()),
            );
            assert_eq!(t.line_count(), starts.len());
            for off in 0..=full.len() + 2 {
                let want = match starts.binary_search(&off) {
                    Ok(i) => i + 1,
                    Err(i) => i,
                };
                assert_eq!(t.line_of(off), want, "offset {off}");
            }
            let lines: Vec<&str> = full.lines().collect();
            for n in 1..=starts.len() + 1 {
                assert_eq!(
                    t.line(n),
                    lines.get(n - 1).copied().unwrap_or(""),
                    "line {n}"
                );
            }
            assert_eq!(t.lines().count(), starts.len());
            assert!(t.lines().all(|(n, l)| l == t.line(n)));
            let e = t.evidence(30, 34);
            assert_eq!(
                e.excerpt,
                (30..=34).map(|n| t.line(n)).collect::<Vec<_>>().join("\n")
            );
            assert_eq!(
                t.find_line_in(17, 60, "xxxxxx"),
                (17..=60).find(|&n| t.line(n) == "xxxxxx")
            );
            let past = t.evidence(starts.len(), starts.len() + 2);
            let want: Vec<&str> = (starts.len()..starts.len() + 3)
                .map(|n| t.line(n))
                .collect();
            assert_eq!(past.excerpt, want.join("\n"));
        }
    }

    /// A list read as a stream answers as the same list read whole: items, their lines and
    /// values, the list's other keys, lines and evidence read back from the file.
    #[test]
    fn a_streamed_list_reads_as_one_held_in_memory() {
        let mut pods = String::from("{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n");
        // Over 1 MiB: items and lines across the reader's blocks.
        for i in 0..60_000 {
            let sep = if i < 59_999 { "," } else { "" };
            match i % 4 {
                0 => pods.push_str(&format!(
                    "    {{\n      \"name\": \"p{i}\",\n      \"n\": [1, {i}]\n    }}{sep}\n"
                )),
                1 => pods.push_str(&format!("    {{\"name\": \"é{i}\"}}{sep}\n")),
                2 => pods.push_str(&format!("    {i}{sep}\n")),
                _ => pods.push_str(&format!("    \"s{i}\"\r\n    {sep}\n")),
            }
        }
        pods.push_str("  ],\n  \"kind\": \"List\"\n}\n");
        let bare = "[{\"a\": 1},\n 2,\n-3.5\n,null, true]".to_string();
        let null = "{\"kind\": \"PodList\", \"items\": null}".to_string();
        for text in [pods, bare, null] {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("pods.json");
            std::fs::write(&file, &text).unwrap();
            let disk = JsonDoc::stream("pods.json", &file).expect("read as a stream");
            let held = JsonDoc::parse("pods.json", text.clone().into_bytes()).unwrap();
            assert!(disk.text.is_on_disk() && disk.is_list);
            assert_eq!(disk.value, held.value);
            assert_eq!(disk.items.len(), held.items.len());
            for (a, b) in disk.items.iter().zip(&held.items) {
                assert_eq!((a.line, a.end_line), (b.line, b.end_line));
                assert_eq!(*a.value, *b.value);
                assert_eq!(disk.item_evidence(a), held.item_evidence(b));
                assert_eq!(
                    disk.item_line_evidence(a, "\"n\""),
                    held.item_line_evidence(b, "\"n\"")
                );
            }
            let lines = held.text.line_count();
            assert_eq!(disk.text.line_count(), lines);
            for n in 0..=lines + 1 {
                assert_eq!(disk.text.line(n), held.text.line(n), "line {n}");
            }
            for off in (0..text.len() + 2).step_by(7) {
                assert_eq!(
                    disk.text.line_of(off),
                    held.text.line_of(off),
                    "offset {off}"
                );
            }
            assert_eq!(
                disk.text.evidence(1, lines + 3),
                held.text.evidence(1, lines + 3)
            );
            assert_eq!(
                disk.text.find_line_in(2, lines, "p404"),
                held.text.find_line_in(2, lines, "p404")
            );
        }
        let dir = tempfile::tempdir().unwrap();
        for not_streamed in [
            "{\"kind\": \"Pod\"}",
            "[1, 2",
            "{\"items\": 3}",
            "{\"items\": [], \"items\": []}",
        ] {
            let file = dir.path().join("x.json");
            std::fs::write(&file, not_streamed).unwrap();
            assert!(JsonDoc::stream("x.json", &file).is_none(), "{not_streamed}");
        }
    }

    #[test]
    fn text_lines_and_evidence() {
        let t = TextFile::new("x.log", b"one\r\ntwo\nthree".to_vec());
        assert_eq!(t.line_count(), 3);
        assert_eq!(t.line(1), "one");
        assert_eq!(t.line(3), "three");
        assert_eq!(t.line_of(5), 2);
        let e = t.evidence(2, 3);
        assert_eq!(e.excerpt, "two\nthree");
        assert_eq!(TextFile::new("e", vec![]).line_count(), 0);
        assert_eq!(t.find_line_in(1, 3, "thr"), Some(3));
        assert_eq!(t.find_line_in(1, 2, "thr"), None);
        assert_eq!(
            TextFile::new("bad", vec![0xff, b'\n', b'a']).line(1),
            "\u{fffd}"
        );
    }
}
