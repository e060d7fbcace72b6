//! A viewer over one bundle file on disk that never reads more than it shows.
//!
//! Logs in a bundle can be gigabytes. The viewer keeps a sparse index of line starts (one
//! checkpoint every [`STEP`] lines) built incrementally in bounded steps, reads only the lines
//! of the visible window (from the nearest checkpoint), and runs searches as bounded steps too,
//! so that opening a file and every keystroke cost a frame, whatever the file's size. Lines are
//! decoded leniently and escaped (see `sanitize`) once, when read; line numbers are the file's.

use crate::sanitize;
use memchr::memchr_iter;
use regex::bytes::{Regex as BytesRegex, RegexBuilder as BytesRegexBuilder};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Lines between two index checkpoints: reading any line costs at most this many line skips.
pub const STEP: usize = 256;
/// Bytes read per I/O call while indexing or searching.
const CHUNK: usize = 1 << 20;
/// Bytes of one line kept for display; the rest is counted and skipped.
pub const MAX_SHOWN: usize = 16 << 10;
/// Past this many bytes without a newline, a search tests what it has (a huge single line must
/// not exhaust memory).
const MAX_CARRY: usize = 4 << 20;
/// Matching line numbers kept per search; past it only the count grows.
const MAX_MATCHES: usize = 1_000_000;

/// Line starts, learnt front to back.
#[derive(Debug)]
struct LineIndex {
    /// `checkpoints[k]` is the byte offset of line `k * STEP + 1`.
    checkpoints: Vec<u64>,
    /// Bytes examined so far.
    scanned: u64,
    /// Newlines seen in `..scanned`.
    newlines: usize,
    /// Offset just after the last newline seen.
    last_start: u64,
    complete: bool,
}

impl LineIndex {
    fn new() -> LineIndex {
        LineIndex {
            checkpoints: vec![0],
            scanned: 0,
            newlines: 0,
            last_start: 0,
            complete: false,
        }
    }

    /// Lines known to exist so far (all of them once complete).
    fn known_lines(&self, len: u64) -> usize {
        let partial = if self.complete {
            len > self.last_start
        } else {
            self.scanned > self.last_start
        };
        self.newlines + usize::from(partial)
    }

    /// The checkpoint at or before `line`: (offset, its line number).
    fn checkpoint(&self, line: usize) -> (u64, usize) {
        let k = (line.saturating_sub(1) / STEP).min(self.checkpoints.len() - 1);
        (self.checkpoints[k], k * STEP + 1)
    }

    /// Examines up to `budget` more bytes. Returns the bytes examined.
    fn advance(&mut self, file: &mut File, len: u64, budget: usize, buf: &mut [u8]) -> usize {
        if self.complete {
            return 0;
        }
        let mut done = 0;
        if file.seek(SeekFrom::Start(self.scanned)).is_err() {
            self.complete = true;
            return 0;
        }
        while done < budget {
            let want = buf.len().min((len - self.scanned.min(len)) as usize);
            if want == 0 {
                self.complete = true;
                break;
            }
            let n = match file.read(&mut buf[..want]) {
                Ok(0) | Err(_) => {
                    self.complete = true;
                    break;
                }
                Ok(n) => n,
            };
            for p in memchr_iter(b'\n', &buf[..n]) {
                self.newlines += 1;
                let start = self.scanned + p as u64 + 1;
                self.last_start = start;
                if self.newlines % STEP == 0 {
                    self.checkpoints.push(start);
                }
            }
            self.scanned += n as u64;
            done += n;
        }
        done
    }
}

/// One line as shown: its number and its escaped text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewLine {
    pub number: usize,
    pub text: String,
    /// Bytes of the line not shown (it was longer than [`MAX_SHOWN`]).
    pub cut: u64,
}

/// A search over the whole file, run in bounded steps.
#[derive(Debug)]
pub struct Search {
    /// The pattern as typed (escaped for display).
    pub pattern: String,
    bytes: BytesRegex,
    /// The same pattern over displayed text, to highlight matches.
    pub display: regex::Regex,
    /// Lines that match, in order (at most [`MAX_MATCHES`]).
    pub matches: Vec<usize>,
    /// Matching lines in all, stored or not.
    pub count: usize,
    offset: u64,
    next_line: usize,
    carry: Vec<u8>,
    pub done: bool,
    last_hit: usize,
    /// File offset of the start of the region `test` sees next, and of the line it is in.
    region_start: u64,
    line_start: u64,
}

/// Where the cursor should go once the data to know it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Line(usize),
    End,
    /// The first match at or after this line (wrapping to the first match).
    MatchFrom(usize),
    /// The last match before this line (wrapping to the last match).
    MatchBefore(usize),
}

/// The viewer of one file.
#[derive(Debug)]
pub struct Viewer {
    /// Bundle-relative path as in the bundle (used to open it).
    pub rel: String,
    /// The same path escaped for display.
    pub title: String,
    file: Option<File>,
    /// Why the file cannot be shown (escaped), if it cannot.
    pub error: Option<String>,
    pub len: u64,
    index: LineIndex,
    /// First line shown (1-based).
    pub top: usize,
    /// The current line (1-based).
    pub cursor: usize,
    /// Columns scrolled to the right when not wrapping.
    pub left: usize,
    pub wrap: bool,
    /// Evidence line ranges in this file, sorted.
    pub evidence: Vec<(usize, usize)>,
    pub search: Option<Search>,
    pub pending: Option<Pending>,
    /// Visible rows at the last layout.
    pub rows: usize,
    /// Columns of text at the last layout.
    pub text_width: usize,
    /// The lines read for the window, from `top`.
    pub window: Vec<ViewLine>,
    window_key: (usize, usize),
    /// A note for the status line (not found, wrapped...).
    pub note: Option<String>,
    /// The evidence range last jumped to (index into `evidence`): with overlapping ranges, the
    /// cursor line alone cannot tell which one is meant.
    pub evidence_index: Option<usize>,
    /// Scroll sideways to the search match on the cursor line at the next layout.
    pub reveal: bool,
    /// `&`: only the lines that match the search are shown.
    pub only_matches: bool,
    /// Opened at an evidence line: wrap at the first layout if that line is wider than the
    /// pane, so the part that proves the finding shows without scrolling sideways (as `less`
    /// shows long lines).
    wrap_evidence: bool,
    buf: Vec<u8>,
}

/// The longest evidence line the viewer wraps by itself when it opens at it.
const WRAP_EVIDENCE_MAX: usize = 4096;

impl Viewer {
    /// Opens `disk` (the file `rel` of the bundle) at `start` (1-based), with `evidence` ranges
    /// highlighted. A file that cannot be opened gives a viewer that says why.
    pub fn open(rel: &str, disk: &Path, evidence: Vec<(usize, usize)>, start: usize) -> Viewer {
        let title = sanitize::escape(rel).into_owned();
        let (file, len, error) = match File::open(disk).and_then(|f| {
            let m = f.metadata()?;
            if m.is_dir() {
                return Err(io::Error::other("is a folder"));
            }
            Ok((f, m.len()))
        }) {
            Ok((f, len)) => (Some(f), len, None),
            Err(e) => (
                None,
                0,
                Some(sanitize::escape(&format!("{rel}: cannot open: {e}")).into_owned()),
            ),
        };
        let mut evidence = evidence;
        evidence.sort();
        evidence.dedup();
        let mut v = Viewer {
            rel: rel.to_string(),
            title,
            file,
            error,
            len,
            index: LineIndex::new(),
            top: 1,
            cursor: 1,
            left: 0,
            wrap: false,
            evidence,
            search: None,
            pending: None,
            rows: 20,
            text_width: 80,
            window: Vec::new(),
            window_key: (0, 0),
            note: None,
            evidence_index: None,
            reveal: false,
            only_matches: false,
            wrap_evidence: false,
            buf: vec![0; CHUNK],
        };
        v.evidence_index = v.evidence.iter().position(|e| e.0 == start);
        v.wrap_evidence = v.evidence_index.is_some();
        if v.file.is_none() {
            v.index.complete = true;
        }
        v.index_some(4 * CHUNK);
        v.goto(start.max(1));
        v
    }

    /// Lines known to exist so far.
    pub fn known_lines(&self) -> usize {
        self.index.known_lines(self.len)
    }

    /// The number of lines, once the whole file has been indexed.
    pub fn total_lines(&self) -> Option<usize> {
        self.index.complete.then(|| self.known_lines())
    }

    /// How much of the file has been indexed, in percent.
    pub fn indexed_percent(&self) -> u64 {
        if self.index.complete || self.len == 0 {
            100
        } else {
            self.index.scanned.saturating_mul(100) / self.len
        }
    }

    /// True while indexing or a search is still under way.
    pub fn busy(&self) -> bool {
        !self.index.complete || self.search.as_ref().is_some_and(|s| !s.done)
    }

    fn index_some(&mut self, budget: usize) -> usize {
        match self.file.as_mut() {
            Some(f) => self.index.advance(f, self.len, budget, &mut self.buf),
            None => 0,
        }
    }

    /// Does up to about `budget` bytes of background work (indexing, then searching) and moves
    /// the cursor where a pending jump wanted it once that is known. Returns true while work
    /// remains.
    pub fn work(&mut self, budget: usize) -> bool {
        let used = self.index_some(budget);
        if used < budget {
            self.search_some(budget - used);
        }
        self.resolve_pending();
        self.busy()
    }

    fn search_some(&mut self, budget: usize) {
        let (Some(s), Some(f)) = (self.search.as_mut(), self.file.as_mut()) else {
            return;
        };
        if s.done {
            return;
        }
        if f.seek(SeekFrom::Start(s.offset)).is_err() {
            s.done = true;
            return;
        }
        let mut used = 0;
        while used < budget && !s.done {
            let chunk = &mut self.buf;
            let n = f.read(chunk).unwrap_or(0);
            used += n.max(1);
            s.offset += n as u64;
            if n == 0 || s.offset >= self.len {
                let mut rest = std::mem::take(&mut s.carry);
                rest.extend_from_slice(&chunk[..n]);
                s.test(&rest);
                s.done = true;
                break;
            }
            s.carry.extend_from_slice(&chunk[..n]);
            let cut = match memchr::memrchr(b'\n', &s.carry) {
                Some(p) => p + 1,
                None if s.carry.len() > MAX_CARRY => s.carry.len(),
                None => continue,
            };
            let region: Vec<u8> = s.carry.drain(..cut).collect();
            s.test(&region);
        }
    }

    fn resolve_pending(&mut self) {
        let Some(p) = self.pending else { return };
        match p {
            Pending::Line(n) => {
                if n <= self.known_lines() || self.index.complete {
                    self.pending = None;
                    self.place(n.min(self.known_lines().max(1)));
                }
            }
            Pending::End => {
                if self.index.complete {
                    self.pending = None;
                    self.place(self.known_lines().max(1));
                }
            }
            Pending::MatchFrom(from) => {
                let Some(s) = &self.search else {
                    self.pending = None;
                    return;
                };
                let i = s.matches.partition_point(|&m| m < from);
                if i < s.matches.len() {
                    let line = s.matches[i];
                    if line <= self.known_lines() || self.index.complete {
                        self.pending = None;
                        self.place(line);
                    }
                } else if s.done {
                    self.pending = None;
                    match s.matches.first().copied() {
                        Some(first) if from > 1 => {
                            self.note = Some("search hit the end, continued from the top".into());
                            self.pending = Some(Pending::Line(first));
                            self.resolve_pending();
                        }
                        _ => self.note = Some(format!("pattern not found: {}", s.pattern)),
                    }
                }
            }
            Pending::MatchBefore(before) => {
                let Some(s) = &self.search else {
                    self.pending = None;
                    return;
                };
                if !s.done {
                    return;
                }
                self.pending = None;
                let i = s.matches.partition_point(|&m| m < before);
                if i > 0 {
                    self.place(s.matches[i - 1]);
                } else if let Some(&last) = s.matches.last() {
                    self.note = Some("search hit the top, continued from the end".into());
                    self.pending = Some(Pending::Line(last));
                    self.resolve_pending();
                } else {
                    self.note = Some(format!("pattern not found: {}", s.pattern));
                }
            }
        }
    }

    /// Moves the cursor to `line` and shows it with some context above.
    fn place(&mut self, line: usize) {
        self.cursor = line.max(1);
        let context = self.rows / 3;
        if self.cursor < self.top || self.cursor >= self.top + self.rows.max(1) {
            self.top = self.cursor.saturating_sub(context).max(1);
        }
    }

    /// Goes to `line`, now if it is known, else once indexing reaches it.
    pub fn goto(&mut self, line: usize) {
        self.pending = Some(Pending::Line(line.max(1)));
        self.resolve_pending();
    }

    pub fn goto_end(&mut self) {
        self.pending = Some(Pending::End);
        self.resolve_pending();
    }

    /// Moves the cursor by `delta` lines (and the view with it when `scroll`); with `&`, by
    /// `delta` matching lines.
    pub fn move_by(&mut self, delta: isize, scroll: bool) {
        self.pending = None;
        if self.only_matches
            && let Some(s) = &self.search
        {
            if s.matches.is_empty() {
                return;
            }
            let i = s.matches.partition_point(|&m| m < self.cursor) as isize;
            let j = (i + delta).clamp(0, s.matches.len() as isize - 1) as usize;
            self.cursor = s.matches[j];
            return;
        }
        let max = self.known_lines().max(1);
        let to = if delta < 0 {
            self.cursor.saturating_sub(delta.unsigned_abs()).max(1)
        } else {
            self.cursor.saturating_add(delta as usize).min(max)
        };
        let moved = to as isize - self.cursor as isize;
        self.cursor = to;
        if scroll {
            let top = self.top as isize + moved;
            self.top = top.max(1) as usize;
        }
    }

    pub fn half_page(&self) -> isize {
        (self.rows / 2).max(1) as isize
    }

    pub fn page(&self) -> isize {
        self.rows.saturating_sub(1).max(1) as isize
    }

    /// `$`: scrolls sideways so that the end of the longest line shown is in view.
    pub fn scroll_to_end(&mut self) {
        let longest = self
            .window
            .iter()
            .map(|l| width_of(&l.text))
            .max()
            .unwrap_or(0);
        self.left = longest.saturating_sub(self.text_width.max(1) / 2);
    }

    pub fn scroll_horizontally(&mut self, delta: isize) {
        self.left = if delta < 0 {
            self.left.saturating_sub(delta.unsigned_abs())
        } else {
            self.left.saturating_add(delta as usize).min(1 << 20)
        };
    }

    /// The evidence range at the cursor, as an index into `evidence`: the one last jumped to
    /// if it holds the cursor, else the innermost one holding it.
    pub fn evidence_at_cursor(&self) -> Option<usize> {
        let holds = |&(a, b): &(usize, usize)| a <= self.cursor && self.cursor <= b;
        if let Some(i) = self.evidence_index
            && self.evidence.get(i).is_some_and(holds)
        {
            return Some(i);
        }
        self.evidence
            .iter()
            .enumerate()
            .filter(|(_, e)| holds(e))
            .min_by_key(|(_, e)| e.1 - e.0)
            .map(|(i, _)| i)
    }

    pub fn is_evidence(&self, line: usize) -> bool {
        self.evidence.iter().any(|&(a, b)| a <= line && line <= b)
    }

    /// Jumps to the next (or previous) evidence range, one range at a time even when ranges
    /// overlap; past the last (or first) it goes round and says so.
    pub fn jump_evidence(&mut self, forward: bool) {
        let n = self.evidence.len();
        if n == 0 {
            self.note = Some("no evidence lines in this file".into());
            return;
        }
        let at = self.evidence_at_cursor();
        let target = if forward {
            let next = match at {
                Some(i) => Some(i + 1).filter(|&j| j < n),
                None => self.evidence.iter().position(|e| e.0 > self.cursor),
            };
            next.unwrap_or_else(|| {
                self.note = Some("after the last evidence line: back to the first".into());
                0
            })
        } else {
            let prev = match at {
                Some(i) => i.checked_sub(1),
                None => self.evidence.iter().rposition(|e| e.0 < self.cursor),
            };
            prev.unwrap_or_else(|| {
                self.note = Some("before the first evidence line: on to the last".into());
                n - 1
            })
        };
        self.evidence_index = Some(target);
        self.goto(self.evidence[target].0);
    }

    /// Starts a search for `pattern` (a regex, or literal text when it is not one; case
    /// matters only when the pattern has a capital letter) and goes to the first match at or
    /// after the cursor. An empty pattern clears the search.
    pub fn start_search(&mut self, pattern: &str) {
        self.note = None;
        if pattern.is_empty() {
            self.search = None;
            return;
        }
        let insensitive = !pattern.chars().any(char::is_uppercase);
        let build = |p: &str| {
            let b = BytesRegexBuilder::new(p)
                .case_insensitive(insensitive)
                .multi_line(true)
                .size_limit(8 << 20)
                .build()
                .ok()?;
            let d = regex::RegexBuilder::new(p)
                .case_insensitive(insensitive)
                .size_limit(8 << 20)
                .build()
                .ok()?;
            Some((b, d))
        };
        let Some((bytes, display)) = build(pattern).or_else(|| build(&regex::escape(pattern)))
        else {
            self.note = Some("the pattern is too large".into());
            return;
        };
        self.search = Some(Search {
            pattern: sanitize::escape(pattern).into_owned(),
            bytes,
            display,
            matches: Vec::new(),
            count: 0,
            offset: 0,
            next_line: 1,
            carry: Vec::new(),
            done: self.file.is_none(),
            last_hit: 0,
            region_start: 0,
            line_start: 0,
        });
        self.reveal = true;
        self.pending = Some(Pending::MatchFrom(self.cursor));
        self.work(4 * CHUNK);
    }

    /// `n`: the next match after the cursor; `N`: the one before.
    pub fn next_match(&mut self, forward: bool) {
        self.note = None;
        if self.search.is_none() {
            self.note = Some("no search yet: press / to search".into());
            return;
        }
        self.pending = Some(if forward {
            Pending::MatchFrom(self.cursor + 1)
        } else {
            Pending::MatchBefore(self.cursor)
        });
        self.reveal = true;
        self.resolve_pending();
    }

    /// "3/17", "17", "3/17+": the match at the cursor and how many there are.
    pub fn match_counter(&self) -> Option<String> {
        let s = self.search.as_ref()?;
        let more = if s.done { "" } else { "+" };
        let at = s.matches.binary_search(&self.cursor).ok();
        Some(match at {
            Some(i) => format!("match {}/{}{more}", i + 1, s.count),
            None if s.count == 1 && s.done => "1 match".to_string(),
            None => format!("{}{more} matches", s.count),
        })
    }

    /// Makes the cursor visible in `rows` rows of `width` columns and reads the window.
    pub fn prepare(&mut self, rows: usize, width: usize) {
        self.rows = rows.max(1);
        self.text_width = width;
        if self.only_matches && self.pending.is_none() {
            self.prepare_matches();
            return;
        }
        let known = self.known_lines().max(1);
        self.cursor = self.cursor.clamp(1, known);
        self.top = self.top.clamp(1, known);
        if self.cursor < self.top {
            self.top = self.cursor;
        }
        if self.cursor >= self.top + self.rows {
            self.top = self.cursor + 1 - self.rows;
        }
        // Keep the window full at the end of a fully indexed file.
        if let Some(total) = self.total_lines()
            && self.top + self.rows > total + 1
        {
            self.top = (total + 1).saturating_sub(self.rows).max(1);
        }
        self.load_window();
        if self.reveal && self.pending.is_none() {
            self.reveal = false;
            self.reveal_match(width);
        }
        if std::mem::take(&mut self.wrap_evidence)
            && width > 0
            && let Some(l) = self.window.iter().find(|l| l.number == self.cursor)
            // A line of a one-line list is no line to wrap.
            && l.text.len() <= WRAP_EVIDENCE_MAX
            && width_of(&l.text) > width
        {
            self.wrap = true;
            self.note = Some("w: unwrap".to_string());
        }
        if self.wrap && width > 0 {
            loop {
                let used: usize = self
                    .window
                    .iter()
                    .take_while(|l| l.number <= self.cursor)
                    .map(|l| wrapped_rows(&l.text, width))
                    .sum();
                if used <= self.rows || self.top >= self.cursor {
                    break;
                }
                self.top += 1;
                self.load_window();
            }
        }
    }

    /// Scrolls sideways so that the first match on the cursor line is in view.
    fn reveal_match(&mut self, width: usize) {
        if self.wrap || width == 0 {
            return;
        }
        let Some(s) = &self.search else { return };
        let Some(l) = self.window.iter().find(|l| l.number == self.cursor) else {
            return;
        };
        let Some(m) = s.display.find(&l.text) else {
            return;
        };
        let start = width_of(&l.text[..m.start()]);
        let end = width_of(&l.text[..m.end()]);
        if start < self.left || end > self.left + width {
            self.left = if end <= width {
                0
            } else {
                start.saturating_sub(width / 4)
            };
        }
    }

    /// With `&`: the window is the matching lines around the cursor.
    fn prepare_matches(&mut self) {
        let Some(s) = &self.search else {
            self.only_matches = false;
            return;
        };
        let matches = s.matches.clone();
        if matches.is_empty() {
            self.window.clear();
            self.window_key = (0, 0);
            return;
        }
        let ci = matches
            .partition_point(|&m| m < self.cursor)
            .min(matches.len() - 1);
        self.cursor = matches[ci];
        let mut ti = matches.partition_point(|&m| m < self.top);
        if ti > ci {
            ti = ci;
        }
        if ci >= ti + self.rows {
            ti = ci + 1 - self.rows;
        }
        self.top = matches[ti];
        let mut window = Vec::new();
        for &n in matches.iter().skip(ti).take(self.rows) {
            if let Ok(mut l) = self.read_lines(n, 1) {
                window.append(&mut l);
            }
        }
        self.window = window;
        // Not a plain window: the next unfiltered layout reads again.
        self.window_key = (0, 0);
    }

    fn load_window(&mut self) {
        let key = (self.top, self.rows);
        if self.window_key == key && !self.window.is_empty() {
            return;
        }
        self.window = self.read_lines(self.top, self.rows).unwrap_or_default();
        self.window_key = key;
    }

    /// Forgets the window so that the next `prepare` reads it again.
    pub fn invalidate(&mut self) {
        self.window.clear();
    }

    /// Reads `count` lines from `first`, seeking to the nearest checkpoint.
    fn read_lines(&mut self, first: usize, count: usize) -> io::Result<Vec<ViewLine>> {
        let Some(f) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        let (offset, mut line) = self.index.checkpoint(first);
        f.seek(SeekFrom::Start(offset))?;
        let mut r = BufReader::with_capacity(64 << 10, &mut *f);
        let mut raw = Vec::new();
        while line < first {
            if read_capped(&mut r, 0, &mut raw)?.is_none() {
                return Ok(Vec::new());
            }
            line += 1;
        }
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            raw.clear();
            let Some(total) = read_capped(&mut r, MAX_SHOWN, &mut raw)? else {
                break;
            };
            let shown = raw.strip_suffix(b"\r").unwrap_or(&raw);
            let text = String::from_utf8_lossy(shown);
            out.push(ViewLine {
                number: line,
                text: sanitize::escape(&text).into_owned(),
                cut: total.saturating_sub(raw.len() as u64),
            });
            line += 1;
        }
        Ok(out)
    }
}

impl Search {
    /// Tests a region of the file that follows the previous one (it ends at a line end, or
    /// inside a line too long to hold). A match past the part of its line the viewer shows
    /// ([`MAX_SHOWN`] bytes) is not counted: the counter names only matches one can see.
    fn test(&mut self, region: &[u8]) {
        let base = self.next_line;
        let mut line = base;
        let mut counted_to = 0;
        for m in self.bytes.find_iter(region) {
            let between = &region[counted_to..m.start()];
            line += memchr_iter(b'\n', between).count();
            if let Some(p) = memchr::memrchr(b'\n', between) {
                self.line_start = self.region_start + (counted_to + p + 1) as u64;
            }
            counted_to = m.start();
            let column = self.region_start + m.start() as u64 - self.line_start;
            if column >= MAX_SHOWN as u64 {
                continue;
            }
            if line != self.last_hit {
                self.last_hit = line;
                self.count += 1;
                if self.matches.len() < MAX_MATCHES {
                    self.matches.push(line);
                }
            }
        }
        let rest = &region[counted_to..];
        line += memchr_iter(b'\n', rest).count();
        if let Some(p) = memchr::memrchr(b'\n', rest) {
            self.line_start = self.region_start + (counted_to + p + 1) as u64;
        }
        self.region_start += region.len() as u64;
        self.next_line = line;
    }
}

/// Reads one line (without its newline) keeping at most `cap` bytes in `out`. Returns the
/// line's full length, or None at the end of the file.
pub(crate) fn read_capped(
    r: &mut impl BufRead,
    cap: usize,
    out: &mut Vec<u8>,
) -> io::Result<Option<u64>> {
    let mut total: u64 = 0;
    let mut any = false;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(any.then_some(total));
        }
        any = true;
        let (take, found) = match memchr::memchr(b'\n', buf) {
            Some(p) => (p, true),
            None => (buf.len(), false),
        };
        let room = cap.saturating_sub(out.len()).min(take);
        out.extend_from_slice(&buf[..room]);
        total += take as u64;
        r.consume(take + usize::from(found));
        if found {
            return Ok(Some(total));
        }
    }
}

/// Display columns of `s`.
pub fn width_of(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Rows `s` takes when wrapped at `width` columns (at least one).
pub fn wrapped_rows(s: &str, width: usize) -> usize {
    if width == 0 {
        return 1;
    }
    split_at_width(s, width).len().max(1)
}

/// Splits `s` into pieces of at most `width` columns (a wide character never straddles two).
pub fn split_at_width(s: &str, width: usize) -> Vec<&str> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut cols = 0;
    for (i, c) in s.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if cols + w > width && i > start {
            out.push(&s[start..i]);
            start = i;
            cols = 0;
        }
        cols += w;
    }
    if start < s.len() || out.is_empty() {
        out.push(&s[start..]);
    }
    out
}

/// The part of `s` from display column `left` on.
pub fn skip_columns(s: &str, left: usize) -> &str {
    if left == 0 {
        return s;
    }
    let mut cols = 0;
    for (i, c) in s.char_indices() {
        if cols >= left {
            return &s[i..];
        }
        cols += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
    }
    // The empty tail of `s` itself, so that callers can tell where it starts in `s`.
    &s[s.len()..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(lines: usize, trailing_newline: bool) -> (tempfile::NamedTempFile, String) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut s = String::new();
        for i in 1..=lines {
            s.push_str(&format!("line {i}"));
            if i < lines || trailing_newline {
                s.push('\n');
            }
        }
        f.write_all(s.as_bytes()).unwrap();
        (f, s)
    }

    fn finish(v: &mut Viewer) {
        while v.work(1 << 16) {}
    }

    #[test]
    fn counts_lines_with_and_without_a_final_newline() {
        for trailing in [true, false] {
            let (f, _) = file_with(1000, trailing);
            let mut v = Viewer::open("x.log", f.path(), vec![], 1);
            finish(&mut v);
            assert_eq!(v.total_lines(), Some(1000), "trailing newline: {trailing}");
        }
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut v = Viewer::open("empty", f.path(), vec![], 1);
        finish(&mut v);
        assert_eq!(v.total_lines(), Some(0));
        v.prepare(10, 80);
        assert!(v.window.is_empty());
    }

    #[test]
    fn reads_any_window_from_the_sparse_index() {
        let (f, _) = file_with(5000, true);
        let mut v = Viewer::open("x.log", f.path(), vec![], 1);
        finish(&mut v);
        for first in [1, 255, 256, 257, 512, 513, 4990] {
            let lines = v.read_lines(first, 5).unwrap();
            let want: Vec<usize> = (first..(first + 5).min(5001)).collect();
            assert_eq!(
                lines.iter().map(|l| l.number).collect::<Vec<_>>(),
                want,
                "window at {first}"
            );
            for l in &lines {
                assert_eq!(l.text, format!("line {}", l.number));
            }
        }
    }

    #[test]
    fn opens_at_a_far_line_once_indexing_reaches_it() {
        let (f, _) = file_with(300_000, true);
        let mut v = Viewer::open("x.log", f.path(), vec![(250_000, 250_000)], 250_000);
        finish(&mut v);
        v.prepare(20, 80);
        assert_eq!(v.cursor, 250_000);
        assert!(v.window.iter().any(|l| l.number == 250_000));
        assert_eq!(v.window[0].number, v.top);
    }

    #[test]
    fn long_lines_are_cut_and_controls_escaped() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let long = "a".repeat(MAX_SHOWN + 100);
        write!(f, "\x1b]0;title\x07 x\t|\r\n{long}\nend").unwrap();
        let mut v = Viewer::open("x.log", f.path(), vec![], 1);
        finish(&mut v);
        v.prepare(5, 80);
        assert_eq!(v.window[0].text, "\\x1b]0;title\\x07 x      |");
        assert_eq!(v.window[1].text.len(), MAX_SHOWN);
        assert_eq!(v.window[1].cut, 100);
        assert_eq!(v.window[2].text, "end");
    }

    #[test]
    fn search_counts_and_moves_between_matches() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for i in 1..=3000 {
            if i % 1000 == 0 {
                writeln!(f, "{i} ERROR here").unwrap();
            } else {
                writeln!(f, "{i} fine").unwrap();
            }
        }
        let mut v = Viewer::open("x.log", f.path(), vec![], 1);
        v.start_search("error");
        finish(&mut v);
        assert_eq!(v.search.as_ref().unwrap().matches, vec![1000, 2000, 3000]);
        assert_eq!(v.cursor, 1000);
        assert_eq!(v.match_counter().unwrap(), "match 1/3");
        v.next_match(true);
        assert_eq!(v.cursor, 2000);
        v.next_match(true);
        v.next_match(true);
        assert_eq!(v.cursor, 1000, "wraps to the top");
        v.next_match(false);
        finish(&mut v);
        assert_eq!(v.cursor, 3000, "wraps to the end");
        v.start_search("nothing-like-this");
        finish(&mut v);
        assert_eq!(v.cursor, 3000);
        assert!(v.note.as_deref().unwrap().contains("not found"));
        // Not a regex: searched literally.
        v.start_search("ERROR here[");
        finish(&mut v);
        assert_eq!(v.search.as_ref().unwrap().count, 0);
    }

    #[test]
    fn evidence_jumps_wrap() {
        let (f, _) = file_with(100, true);
        let mut v = Viewer::open("x.log", f.path(), vec![(50, 51), (10, 10)], 10);
        finish(&mut v);
        assert_eq!(v.cursor, 10);
        v.jump_evidence(true);
        assert_eq!(v.cursor, 50);
        assert!(v.is_evidence(51));
        v.jump_evidence(true);
        assert_eq!(v.cursor, 10);
        v.jump_evidence(false);
        assert_eq!(v.cursor, 50);
    }

    #[test]
    fn a_missing_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = Viewer::open("gone.log", &dir.path().join("gone.log"), vec![], 5);
        assert!(
            v.error
                .as_deref()
                .unwrap()
                .starts_with("gone.log: cannot open")
        );
        v.prepare(10, 80);
        assert!(v.window.is_empty());
        assert!(!v.busy());
    }

    #[test]
    fn splitting_respects_wide_characters() {
        assert_eq!(split_at_width("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(split_at_width("日本語", 5), vec!["日本", "語"]);
        assert_eq!(split_at_width("", 5), vec![""]);
        assert_eq!(skip_columns("日本語", 2), "本語");
        let s = "abc";
        let tail = skip_columns(s, 10);
        assert_eq!(tail, "");
        assert_eq!(tail.as_ptr() as usize - s.as_ptr() as usize, 3);
        assert_eq!(wrapped_rows("abcdefgh", 4), 2);
    }
}
