//! Reads a large JSON list file (`kubectl get pods -A -o json` of a big cluster) from disk in
//! blocks, without holding it: the document without its items, each item's byte span and
//! lines, and the file's sparse line index.
//!
//! Why not serde_json's reader: it takes a reader's bytes one at a time, and on a 1.7 GB
//! pods.json that alone cost some ten seconds. Here the structure is found by scanning strings
//! and nesting in memory blocks (as `jsonscan` does for texts in memory), and every item is
//! still checked by serde_json, from its slice, so a file that is not valid JSON is refused
//! here and read whole, where the usual error names its line.

use serde::de::IgnoredAny;
use serde_json::Value;
use std::io::Read;

/// Bytes read from the file at a time (more when one item is larger).
const BLOCK: usize = 8 << 20;

/// What reading a list as a stream learned of it.
pub struct Streamed {
    /// The document without its items (`items` kept as an empty array or null); an empty
    /// array for a bare top-level array.
    pub rest: Value,
    /// Each item's byte span, first line and last line (1-based).
    pub items: Vec<((usize, usize), usize, usize)>,
    /// Offsets where lines 1, 1 + step, 1 + 2 × step… start.
    pub checkpoints: Vec<usize>,
    /// How many lines start in the file (a final line break starts none).
    pub starts: usize,
    /// Lines longer than [`LONG_LINE`] bytes, as (start, end) offsets, in order: a list
    /// written on one line (`jq -c`) is one such line, which must never be read whole.
    pub long_lines: Vec<(usize, usize)>,
}

/// Reads `file` (of `len` bytes: a file, or an archive's file as it inflates) as a JSON list, noting a line start every `step` lines, and
/// checks every item with serde_json. `None` when it is not a list (an object without
/// `items`, a scalar), when `items` is given twice or is neither an array nor null, or when
/// any part is not valid JSON or not UTF-8: the caller then reads the file whole, which gives
/// the usual answer or error.
pub fn read_list(file: std::fs::File, len: usize, step: usize) -> Option<Streamed> {
    let check = |item: &str| serde_json::from_str::<IgnoredAny>(item).ok().map(|_| ());
    read_list_parsed(file, len, step, &check).map(|(s, _)| s)
}

/// [`read_list`], each item also parsed by `parse` (in order, one result per item): the
/// parse is the check, so `parse` returns `None` only for text that is not JSON. Items are
/// parsed on other threads while the scan goes on, each thread inside `around` (which
/// `lenient::interning` uses to share strings within a thread's items).
pub fn read_list_parsed<T: Send>(
    file: impl Read,
    len: usize,
    step: usize,
    parse: &(dyn Fn(&str) -> Option<T> + Sync),
) -> Option<(Streamed, Parts<T>)> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2 * workers);
    let rx = std::sync::Mutex::new(rx);
    std::thread::scope(|scope| {
        let parsers: Vec<_> = (0..workers)
            .map(|_| {
                let rx = &rx;
                scope.spawn(move || {
                    crate::lenient::interning(|| {
                        let mut done = Vec::new();
                        loop {
                            let next = rx.lock().ok().and_then(|r| r.recv().ok());
                            let Some(batch) = next else {
                                return Some(done);
                            };
                            let parsed = batch.parse(parse)?;
                            done.push((batch.index, parsed));
                        }
                    })
                })
            })
            .collect();
        let got = scan(file, len, step, tx);
        // A parser stops at the first bad item; the scan then stops too (`send` fails).
        let mut parts = Vec::new();
        let mut valid = true;
        for p in parsers {
            match p.join() {
                Ok(Some(done)) => parts.extend(done),
                _ => valid = false,
            }
        }
        let got = got.filter(|_| valid)?;
        parts.sort_unstable_by_key(|(i, _)| *i);
        let all = Parts::new(parts.into_iter().map(|(_, p)| p).collect());
        (all.len() == got.items.len()).then_some((got, all))
    })
}

/// Items parsed in parts (a batch each), kept so: joining them into one vector would hold
/// every parsed item twice for a moment, hundreds of MiB on a big cluster.
#[derive(Debug)]
pub struct Parts<T> {
    parts: Vec<Vec<T>>,
    /// Index of the first item of each part.
    starts: Vec<usize>,
    len: usize,
}

impl<T> Parts<T> {
    pub fn new(parts: Vec<Vec<T>>) -> Parts<T> {
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0;
        for p in &parts {
            starts.push(len);
            len += p.len();
        }
        Parts { parts, starts, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        let part = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        self.parts[part].get(i - self.starts[part])
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + Clone {
        self.parts.iter().flatten()
    }
}

impl<'a, T> IntoIterator for &'a Parts<T> {
    type Item = &'a T;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.parts.iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Parts<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        self.get(i).expect("an index below the number of items")
    }
}

impl<T> From<Vec<T>> for Parts<T> {
    fn from(v: Vec<T>) -> Parts<T> {
        Parts::new(vec![v])
    }
}

/// Items' bytes on their way to be parsed, the `index`th batch of the file.
#[derive(Default)]
struct Batch {
    index: usize,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Bytes of items sent to be parsed at a time.
const BATCH: usize = 1 << 20;

impl Batch {
    fn parse<T>(&self, parse: &dyn Fn(&str) -> Option<T>) -> Option<Vec<T>> {
        let mut start = 0;
        let mut out = Vec::with_capacity(self.ends.len());
        for &end in &self.ends {
            let item = std::str::from_utf8(&self.bytes[start..end]).ok()?;
            start = end;
            out.push(parse(item)?);
        }
        Some(out)
    }
}

fn scan<R: Read>(
    file: R,
    len: usize,
    step: usize,
    check: std::sync::mpsc::SyncSender<Batch>,
) -> Option<Streamed> {
    let mut s = Scanner {
        file,
        len,
        buf: Vec::new(),
        buf_at: 0,
        pos: 0,
        eof: false,
        lines: Lines {
            counted: 0,
            breaks: 0,
            starts: 1,
            step,
            checkpoints: vec![0],
            line_start: 0,
            long: Vec::new(),
        },
        check,
        batch: Batch::default(),
    };
    let mut items = Vec::new();
    let rest = match s.peek()? {
        b'[' => {
            s.pos += 1;
            s.items(&mut items)?;
            Value::Array(Vec::new())
        }
        b'{' => {
            s.pos += 1;
            let mut rest = serde_json::Map::new();
            let mut list = false;
            if s.peek()? == b'}' {
                return None;
            }
            loop {
                let key: String = serde_json::from_slice(s.take_value()?).ok()?;
                if s.peek()? != b':' {
                    return None;
                }
                s.pos += 1;
                if key == "items" {
                    if list {
                        // Read whole, the last `items` counts, as for any file.
                        return None;
                    }
                    list = true;
                    let v = match s.peek()? {
                        b'[' => {
                            s.pos += 1;
                            s.items(&mut items)?;
                            Value::Array(Vec::new())
                        }
                        _ => match serde_json::from_slice::<Value>(s.take_value()?).ok()? {
                            Value::Null => Value::Null,
                            _ => return None,
                        },
                    };
                    rest.insert(key, v);
                } else {
                    let v: Value = serde_json::from_slice(s.take_value()?).ok()?;
                    rest.insert(key, v);
                }
                match s.peek()? {
                    b',' => s.pos += 1,
                    b'}' => {
                        s.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
            if !list {
                return None;
            }
            Value::Object(rest)
        }
        _ => return None,
    };
    // Nothing but white space may follow the document.
    if s.peek().is_some() {
        return None;
    }
    let end = s.buf_at + s.buf.len();
    s.lines.count(&s.buf, s.buf_at, end, len);
    if end - s.lines.line_start > LONG_LINE {
        s.lines.long.push((s.lines.line_start, end));
    }
    Some(Streamed {
        rest,
        items,
        checkpoints: s.lines.checkpoints,
        starts: s.lines.starts,
        long_lines: s.lines.long,
    })
}

/// The line breaks of the file up to where they were last counted, and every `step`th line
/// start (as `TextFile::new` indexes a text).
struct Lines {
    /// File offset up to which line breaks are counted.
    counted: usize,
    breaks: usize,
    starts: usize,
    step: usize,
    checkpoints: Vec<usize>,
    /// Where the line being counted starts.
    line_start: usize,
    /// Lines longer than [`LONG_LINE`] bytes, as (start, end) offsets.
    long: Vec<(usize, usize)>,
}

/// Lines longer than this are noted (see [`Streamed::long_lines`]).
pub const LONG_LINE: usize = 64 << 10;

impl Lines {
    /// Counts the line breaks of `buf` (which starts at file offset `buf_at`) up to file
    /// offset `to`.
    fn count(&mut self, buf: &[u8], buf_at: usize, to: usize, len: usize) {
        if to <= self.counted {
            return;
        }
        let from = self.counted - buf_at;
        for i in memchr::memchr_iter(b'\n', &buf[from..to - buf_at]) {
            let at = self.counted + i;
            self.breaks += 1;
            if at + 1 - self.line_start > LONG_LINE {
                self.long.push((self.line_start, at + 1));
            }
            self.line_start = at + 1;
            if at + 1 < len {
                if self.starts % self.step == 0 {
                    self.checkpoints.push(at + 1);
                }
                self.starts += 1;
            }
        }
        self.counted = to;
    }
}

struct Scanner<R> {
    file: R,
    len: usize,
    /// The block in hand: bytes of the file from `buf_at`.
    buf: Vec<u8>,
    buf_at: usize,
    /// Index in `buf` of the next byte to read.
    pos: usize,
    eof: bool,
    lines: Lines,
    /// Where items go to be checked, and the ones not sent yet.
    check: std::sync::mpsc::SyncSender<Batch>,
    batch: Batch,
}

/// Why a scan of the bytes in hand stopped short.
enum Short {
    /// The value goes on past the bytes in hand.
    More,
    /// Not JSON.
    Bad,
}

impl<R: Read> Scanner<R> {
    /// Drops what was read, keeping lines counted, and appends at least a block more.
    /// False at the end of the file.
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        // Lines are counted up to what was read: the value in hand is counted when taken.
        let read = self.buf_at + self.pos;
        self.lines.count(&self.buf, self.buf_at, read, self.len);
        self.buf.drain(..self.pos);
        self.buf_at += self.pos;
        self.pos = 0;
        let have = self.buf.len();
        let want = BLOCK.max(have);
        self.buf.resize(have + want, 0);
        let mut got = 0;
        while got < want {
            match self.file.read(&mut self.buf[have + got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.buf.truncate(have + got);
        if got == 0 {
            self.eof = true;
        }
        got > 0
    }

    /// The next byte that is not white space, left unread; `None` at the end of the file.
    fn peek(&mut self) -> Option<u8> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    return Some(b);
                }
                self.pos += 1;
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Where the next value lies in `buf` (white space before it skipped), read past.
    fn take_range(&mut self) -> Option<std::ops::Range<usize>> {
        self.peek()?;
        loop {
            match value_end(&self.buf[self.pos..], self.eof) {
                Ok(n) => {
                    let start = self.pos;
                    self.pos += n;
                    return Some(start..start + n);
                }
                Err(Short::More) if self.fill() => {}
                Err(_) => return None,
            }
        }
    }

    /// The next value's bytes (white space before it skipped), read past.
    fn take_value(&mut self) -> Option<&[u8]> {
        let r = self.take_range()?;
        Some(&self.buf[r])
    }

    /// The items of an array whose `[` was just read, through its `]`: each one checked as
    /// JSON and noted with its span and lines.
    fn items(&mut self, out: &mut Vec<((usize, usize), usize, usize)>) -> Option<()> {
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.peek()?;
            let start = self.buf_at + self.pos;
            self.lines.count(&self.buf, self.buf_at, start, self.len);
            let line = self.lines.breaks + 1;
            let raw = self.take_range()?;
            let end = start + raw.len();
            self.batch.bytes.extend_from_slice(&self.buf[raw]);
            self.batch.ends.push(self.batch.bytes.len());
            if self.batch.bytes.len() >= BATCH {
                self.send()?;
            }
            self.lines.count(&self.buf, self.buf_at, end, self.len);
            out.push(((start, end), line, self.lines.breaks + 1));
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return self.send();
                }
                _ => return None,
            }
        }
    }

    /// Sends the items read so far to be parsed; `None` when a parser found a bad one.
    fn send(&mut self) -> Option<()> {
        let index = self.batch.index;
        let batch = std::mem::replace(
            &mut self.batch,
            Batch {
                index: index + 1,
                ..Batch::default()
            },
        );
        self.check.send(batch).ok()
    }
}

/// Length of the JSON value at the start of `b` (no white space before it), by strings and
/// nesting alone; `eof` says nothing follows `b`, which ends a number or literal.
fn value_end(b: &[u8], eof: bool) -> Result<usize, Short> {
    let more = |at_end: bool| if at_end { Short::Bad } else { Short::More };
    match b.first() {
        None => Err(more(eof)),
        Some(b'"') => string_end(b, 0).ok_or(more(eof)),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = 0;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        i = string_end(b, i).ok_or(more(eof))?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(more(eof))
        }
        Some(_) => match b
            .iter()
            .position(|c| matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
        {
            Some(0) => Err(Short::Bad),
            Some(n) => Ok(n),
            None if eof => Ok(b.len()),
            None => Err(Short::More),
        },
    }
}

/// Index just past the string whose opening quote is at `i`; `None` when it does not close
/// within `b`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', &b[j..])?;
        if b[k] == b'"' {
            return Some(k + 1);
        }
        // An escape: skip the byte it escapes.
        j = k + 2;
        if j > b.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn stream(text: &str) -> Option<Streamed> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("list.json");
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        read_list(std::fs::File::open(&p).unwrap(), text.len(), 2)
    }

    fn spans(text: &str) -> Vec<&str> {
        let s = stream(text).expect("a list");
        s.items.iter().map(|&((a, b), _, _)| &text[a..b]).collect()
    }

    #[test]
    fn items_of_a_list_and_of_a_bare_array() {
        let t = r#"{"apiVersion":"v1","items":[{"a":"x}]\"{"}, [1,{"b":[]}], "s", 12, -3.5e2, true, null],"kind":"List"}"#;
        assert_eq!(
            spans(t),
            [
                r#"{"a":"x}]\"{"}"#,
                r#"[1,{"b":[]}]"#,
                r#""s""#,
                "12",
                "-3.5e2",
                "true",
                "null"
            ]
        );
        let s = stream(t).unwrap();
        assert_eq!(s.rest["kind"], "List");
        assert_eq!(s.rest["items"], serde_json::json!([]));
        assert_eq!(spans(" [ 1 ,2 ]\n"), ["1", "2"]);
        assert_eq!(spans("[]"), Vec::<&str>::new());
        assert_eq!(
            stream(r#"{"items":null}"#).unwrap().rest["items"],
            Value::Null
        );
    }

    #[test]
    fn lines_of_items_and_the_line_index() {
        let t = "{\n\"items\": [\n{\n\"a\": 1\n},\n{\"b\": 2}\n]\n}\n";
        let s = stream(t).unwrap();
        let lines: Vec<(usize, usize)> = s.items.iter().map(|&(_, l, e)| (l, e)).collect();
        assert_eq!(lines, [(3, 5), (6, 6)]);
        // The final line break starts no line.
        assert_eq!(s.starts, 8);
        // Lines 1, 3, 5 and 7 (every second line, as asked).
        let starts: Vec<usize> = std::iter::once(0)
            .chain(t.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        assert_eq!(s.checkpoints, [starts[0], starts[2], starts[4], starts[6]]);
    }

    #[test]
    fn long_lines_are_noted() {
        let pad = "x".repeat(LONG_LINE);
        let t = format!("{{\"items\": [\n{{\"a\": \"{pad}\"}},\n1]}}");
        let s = stream(&t).unwrap();
        let nl = t.find('\n').unwrap() + 1;
        let second = nl + t[nl..].find('\n').unwrap() + 1;
        assert_eq!(s.long_lines, [(nl, second)]);
        let one = format!("[\"{pad}\"]");
        assert_eq!(stream(&one).unwrap().long_lines, [(0, one.len())]);
    }

    #[test]
    fn not_lists_and_not_json_are_left_to_the_whole_read() {
        for t in [
            r#"{"kind":"Pod"}"#,
            r#"{}"#,
            "12",
            r#"{"items":[1,]}"#,
            r#"{"items":[1 2]}"#,
            r#"{"items":[{"a":}]}"#,
            r#"{"items":[1]} x"#,
            r#"{"items":[1],"items":[2]}"#,
            r#"{"items":{"a":1}}"#,
            r#"{"items":[1]"#,
            r#"{"items":["a"#,
            "",
        ] {
            assert!(stream(t).is_none(), "{t}");
        }
    }

    #[test]
    fn parsed_items_come_back_in_order_and_a_bad_one_refuses_the_list() {
        // Enough items for several batches, so that parsers finish them out of order.
        let items: Vec<String> = (0..40_000)
            .map(|i| format!(r#"{{"n":{i},"pad":"{}"}}"#, "p".repeat(i % 200)))
            .collect();
        let text = format!(r#"{{"items":[{}]}}"#, items.join(","));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("list.json");
        std::fs::write(&p, &text).unwrap();
        let n = |raw: &str| {
            serde_json::from_str::<Value>(raw)
                .ok()
                .map(|v| v["n"].as_u64())
        };
        let open = || std::fs::File::open(&p).unwrap();
        let (s, got) = read_list_parsed(open(), text.len(), 16, &n).unwrap();
        assert_eq!(s.items.len(), 40_000);
        assert!(got.iter().enumerate().all(|(i, n)| *n == Some(i as u64)));
        let refuse = |raw: &str| (!raw.contains(r#""n":31234,"#)).then_some(());
        assert!(read_list_parsed(open(), text.len(), 16, &refuse).is_none());
    }

    #[test]
    fn parts_read_as_one_list() {
        let p = Parts::new(vec![vec![], vec![1, 2, 3], vec![], vec![4]]);
        assert_eq!(p.len(), 4);
        assert_eq!(p.iter().copied().collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(
            (0..5).map(|i| p.get(i).copied()).collect::<Vec<_>>(),
            [Some(1), Some(2), Some(3), Some(4), None]
        );
        assert!(Parts::<u8>::new(Vec::new()).get(0).is_none());
    }

    #[test]
    fn items_longer_than_a_block() {
        let big = "x".repeat(BLOCK + 100);
        let t = format!(r#"{{"items":[{{"s":"{big}"}},2]}}"#);
        let s = stream(&t).unwrap();
        assert_eq!(s.items.len(), 2);
        assert_eq!(&t[s.items[1].0.0..s.items[1].0.1], "2");
    }
}
