//! The single pass over text files: every log pattern of every check that reads a file is
//! matched in one read of it, and files are scanned in parallel.
//!
//! Output is deterministic: matches come back ordered by file path, then line.

use crate::bundle::BundleFile;
use crate::facts::Facts;
use crate::spec::Catalog;
use crate::template::Vars;
use rayon::prelude::*;
use regex::bytes::RegexSet;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Lines longer than this are matched on their first part only (a file of one enormous line
/// must not exhaust memory).
const MAX_LINE: usize = 1 << 20;
/// Stored matches per check and file; past it only the count grows.
const MAX_STORED_PER_FILE: usize = 2_000;

/// One line that matched one of a check's scans.
#[derive(Debug, Clone)]
pub struct ScanMatch {
    /// Index into the check's `scans`.
    pub scan: usize,
    pub file: Arc<str>,
    pub line: usize,
    /// The file and line as the bundle was sent, when the file was read from another tool's
    /// layout (`cluster-resources/pods/logs/…`); evidence names them.
    pub sent: Option<(Arc<str>, usize)>,
    pub text: String,
    /// Named captures of the scan's regex.
    pub captures: Vars,
}

/// What the pass found, per check (indexed like `Catalog::checks`).
#[derive(Debug, Default)]
pub struct ScanResults {
    pub matches: Vec<Vec<ScanMatch>>,
    /// Per check, per scan: how many files were read for it.
    pub files_scanned: Vec<Vec<usize>>,
    /// Per check: matches beyond what was stored.
    pub dropped: Vec<usize>,
    /// Per check: files it should have read but could not, with the reason.
    pub unreadable: Vec<Vec<(String, String)>>,
}

/// A file's matches tagged with their check index, or the file and why it could not be read.
type FileScan = Result<Vec<(usize, ScanMatch)>, (String, String)>;

/// (check index, scan index) pairs that read one file.
type Wanted = Vec<(usize, usize)>;

/// How far a scan has come, for a UI to show while it runs (it never changes what is found).
#[derive(Debug, Default)]
pub struct ScanProgress {
    /// Bytes of the files to scan, known once the files are chosen.
    pub bytes_total: AtomicU64,
    /// Bytes of the files scanned so far.
    pub bytes_done: AtomicU64,
    /// Set to stop early (the user quit): reads then fail, so the results are incomplete and
    /// must be thrown away.
    pub cancel: AtomicBool,
    /// Files of an archive already scanned while the rest of it was inflating; the pass takes
    /// their results instead of reading them again.
    pub early: EarlyScan,
}

/// Scans of an archive's files made as each one finished unpacking, before the bundle's layout
/// is known. Each is made under the path the file would have in our own layout (the archive's
/// top folder taken off) and is used only when the bundle, once opened, reads that very file
/// under that very path as itself: then the result is the one the pass would compute, since a
/// file's scan depends only on its path, its bytes and the catalog. Anything else (another
/// tool's layout, an archive without a top folder, a path unpacked twice) is scanned again.
#[derive(Default)]
pub struct EarlyScan {
    /// Matchers compiled so far, by the scans they join.
    matchers: Mutex<HashMap<Wanted, Arc<Matcher>>>,
    /// By file on disk: the path it was scanned as, and what was found (`None` when the path
    /// was unpacked twice and the scan cannot be trusted).
    done: Mutex<HashMap<PathBuf, Option<(String, FileScan)>>>,
    /// How many early results the pass took.
    used: AtomicU64,
}

impl std::fmt::Debug for EarlyScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.done.lock().map(|d| d.len()).unwrap_or(0);
        write!(f, "EarlyScan({n} files)")
    }
}

impl EarlyScan {
    /// Scans a file just unpacked from an archive: `entry` is its path in the archive, `disk`
    /// where it was written. Files no scan reads cost nothing.
    pub fn file(&self, catalog: &Catalog, slow_path: bool, entry: &str, disk: &Path) {
        let Some((_, path)) = entry.split_once('/') else {
            return;
        };
        // The manifest is scanned through its parsed records, which need the whole bundle.
        if path == "manifest.json" {
            return;
        }
        let wanted = wanted_by(catalog, path);
        if wanted.is_empty() {
            return;
        }
        if let Ok(mut done) = self.done.lock()
            && let Some(before) = done.get_mut(disk)
        {
            // Unpacked twice: the copy on disk may change under a scan. Leave it to the pass.
            *before = None;
            return;
        }
        let matcher = {
            let Ok(mut m) = self.matchers.lock() else {
                return;
            };
            m.entry(wanted.clone())
                .or_insert_with(|| Arc::new(Matcher::new(catalog, &wanted, slow_path)))
                .clone()
        };
        let mut read = 0;
        let r = scan_disk_file(
            catalog,
            path,
            disk,
            None,
            &wanted,
            &matcher,
            Counter {
                progress: None,
                read: &mut read,
            },
        );
        if let Ok(mut done) = self.done.lock() {
            match done.get_mut(disk) {
                Some(before) => *before = None,
                None => {
                    done.insert(disk.to_path_buf(), Some((path.to_string(), r)));
                }
            }
        }
    }

    /// The early result for a file the pass is about to scan, if it is the pass's own.
    fn take(&self, path: &str, disk: &Path) -> Option<FileScan> {
        let mut done = self.done.lock().ok()?;
        match done.get(disk) {
            Some(Some((p, _))) if p == path => {}
            _ => return None,
        }
        self.used.fetch_add(1, Ordering::Relaxed);
        done.remove(disk).flatten().map(|(_, r)| r)
    }

    /// How many files the pass did not have to read again.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// The (check, scan) pairs whose file globs take `path`.
fn wanted_by(catalog: &Catalog, path: &str) -> Wanted {
    let mut wanted = Vec::new();
    for (ci, c) in catalog.checks.iter().enumerate() {
        for (si, s) in c.scans.iter().enumerate() {
            if s.files.is_match(path) {
                wanted.push((ci, si));
            }
        }
    }
    wanted
}

pub fn run(catalog: &Catalog, facts: &Facts) -> ScanResults {
    run_with_progress(catalog, facts, None)
}

/// Like [`run`], counting the bytes scanned into `progress` as files finish.
pub fn run_with_progress(
    catalog: &Catalog,
    facts: &Facts,
    progress: Option<&ScanProgress>,
) -> ScanResults {
    let n = catalog.checks.len();
    let mut files_scanned: Vec<Vec<usize>> = catalog
        .checks
        .iter()
        .map(|c| vec![0; c.scans.len()])
        .collect();
    // Which scans read which file; files with the same set share one compiled RegexSet.
    let mut sets: HashMap<Wanted, usize> = HashMap::new();
    let mut set_list: Vec<Wanted> = Vec::new();
    let mut work: Vec<(&BundleFile, usize)> = Vec::new();
    for f in &facts.bundle.files {
        let wanted = wanted_by(catalog, &f.path);
        for &(ci, si) in &wanted {
            files_scanned[ci][si] += 1;
        }
        if wanted.is_empty() {
            continue;
        }
        let id = *sets.entry(wanted.clone()).or_insert_with(|| {
            set_list.push(wanted);
            set_list.len() - 1
        });
        work.push((f, id));
    }
    let compiled: Vec<Matcher> = set_list
        .iter()
        .map(|w| Matcher::new(catalog, w, facts.tuning().slow_path))
        .collect();

    if let Some(p) = progress {
        let total = work.iter().map(|(f, _)| f.size).sum();
        p.bytes_total.store(total, Ordering::Relaxed);
    }
    let per_file: Vec<FileScan> = work
        .par_iter()
        .map(|(f, id)| {
            // Scanned already while the archive was inflating, as this very file and path.
            if let Some(p) = progress
                && f.path != "manifest.json"
                && facts.bundle.origin(&f.path).is_none()
                && let Some(r) = p.early.take(&f.path, &facts.bundle.disk_path(&f.path))
            {
                p.bytes_done.fetch_add(f.size, Ordering::Relaxed);
                return r;
            }
            let mut read = 0;
            let r = scan_file(
                catalog,
                facts,
                f,
                &set_list[*id],
                &compiled[*id],
                Counter {
                    progress,
                    read: &mut read,
                },
            );
            if let Some(p) = progress {
                // Whatever the reads did not count (a file read another way, or cut short).
                p.bytes_done
                    .fetch_add(f.size.saturating_sub(read), Ordering::Relaxed);
            }
            r
        })
        .collect();

    let mut out = ScanResults {
        matches: vec![Vec::new(); n],
        files_scanned,
        dropped: vec![0; n],
        unreadable: vec![Vec::new(); n],
    };
    for (r, (_, id)) in per_file.into_iter().zip(&work) {
        match r {
            Ok(ms) => {
                let mut per_check_count: HashMap<usize, usize> = HashMap::new();
                for (ci, m) in ms {
                    let c = per_check_count.entry(ci).or_default();
                    *c += 1;
                    if *c > MAX_STORED_PER_FILE {
                        out.dropped[ci] += 1;
                    } else {
                        out.matches[ci].push(m);
                    }
                }
            }
            Err(e) => {
                let mut checks: Vec<usize> = set_list[*id].iter().map(|&(ci, _)| ci).collect();
                checks.dedup();
                for ci in checks {
                    out.unreadable[ci].push(e.clone());
                }
            }
        }
    }
    out
}

/// Counts the bytes a scan reads into its progress as it goes (the largest logs take long).
struct Counter<'a> {
    progress: Option<&'a ScanProgress>,
    read: &'a mut u64,
}

/// A reader that reports to a [`Counter`].
struct Counted<'a, R> {
    inner: R,
    counter: Counter<'a>,
}

impl<R: std::io::Read> std::io::Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self
            .counter
            .progress
            .is_some_and(|p| p.cancel.load(Ordering::Relaxed))
        {
            return Err(std::io::Error::other("the scan was cancelled"));
        }
        let n = self.inner.read(buf)?;
        *self.counter.read += n as u64;
        if let Some(p) = self.counter.progress {
            p.bytes_done.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

fn scan_file(
    catalog: &Catalog,
    facts: &Facts,
    f: &BundleFile,
    wanted: &Wanted,
    matcher: &Matcher,
    counter: Counter,
) -> FileScan {
    let origin = facts.bundle.origin(&f.path);
    if f.path != "manifest.json" {
        return scan_disk_file(
            catalog,
            &f.path,
            &facts.bundle.disk_path(&f.path),
            origin,
            wanted,
            matcher,
            counter,
        );
    }
    let mut out = Vec::new();
    let on_line = line_matcher(catalog, &f.path, origin, wanted, matcher, false);
    // The manifest is scanned for the stderr the collector recorded, decoded from JSON, with
    // each stderr line reported at the line of its record's "stderr" key.
    let doc = facts
        .text("manifest.json")
        .map_err(|u| (f.path.clone(), u.reason))?;
    let Some(m) = facts.manifest() else {
        return Ok(out);
    };
    let mut key_lines = doc
        .lines()
        .filter(|(_, l)| l.contains("\"stderr\""))
        .map(|(n, _)| n);
    let mut compact_line = 1;
    for src in &m.sources {
        let Some(stderr) = src.stderr.as_deref() else {
            continue;
        };
        let at = key_lines.next().unwrap_or(compact_line);
        compact_line = at;
        for l in stderr.lines() {
            on_line(at, l.as_bytes(), &mut out);
        }
    }
    Ok(out)
}

/// What a line of the file read as `path` gives: the matches of the wanted scans, each with
/// its captures, in scan order.
fn line_matcher<'a>(
    catalog: &'a Catalog,
    path: &str,
    origin: Option<Arc<crate::layout::Origin>>,
    wanted: &'a Wanted,
    matcher: &'a Matcher,
    journal_json: bool,
) -> impl Fn(usize, &[u8], &mut Vec<(usize, ScanMatch)>) + 'a {
    let set = &matcher.set;
    let file: Arc<str> = Arc::from(path);
    move |line_no: usize, line: &[u8], out: &mut Vec<(usize, ScanMatch)>| {
        // A journal exported with `journalctl -o json` holds each entry's text JSON-escaped in
        // its MESSAGE field: the patterns are matched on the text the unit wrote.
        let decoded = if journal_json {
            journal_json_message(line)
        } else {
            None
        };
        let line = decoded.as_deref().map_or(line, str::as_bytes);
        if !set.is_match(line) {
            return;
        }
        for idx in set.matches(line).iter() {
            let (ci, si) = wanted[idx];
            let scan = &catalog.checks[ci].scans[si];
            if scan.exclude.as_ref().is_some_and(|x| x.is_match(line)) {
                continue;
            }
            let Some(caps) = scan.regex.captures(line) else {
                continue;
            };
            let mut captures = Vars::new();
            for name in scan.regex.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    captures.insert(
                        name.to_string(),
                        String::from_utf8_lossy(m.as_bytes()).into_owned(),
                    );
                }
            }
            out.push((
                ci,
                ScanMatch {
                    scan: si,
                    file: file.clone(),
                    line: line_no,
                    sent: origin.as_ref().map(|o| o.locate(line_no)),
                    text: String::from_utf8_lossy(line).into_owned(),
                    captures,
                },
            ));
        }
    }
}

/// Scans one file on disk, read as `path` (for the file globs, the matches and the errors);
/// `origin` maps its lines to the file as sent.
fn scan_disk_file(
    catalog: &Catalog,
    path: &str,
    disk: &Path,
    origin: Option<Arc<crate::layout::Origin>>,
    wanted: &Wanted,
    matcher: &Matcher,
    counter: Counter,
) -> FileScan {
    let mut out = Vec::new();
    let mut fh = std::fs::File::open(disk).map_err(|e| (path.to_string(), e.to_string()))?;
    // The prefilter reads the bytes as they are; in a journal exported as JSON the text it
    // looks for is escaped, so every line is a candidate there, decoded first.
    let journal_json = starts_as_journal_json(&mut fh);
    let prefilter = if journal_json {
        None
    } else {
        matcher.prefilter.as_ref()
    };
    let on_line = line_matcher(catalog, path, origin, wanted, matcher, journal_json);
    let fh = Counted { inner: fh, counter };
    for_each_candidate_line(fh, prefilter, |n, line| on_line(n, line, &mut out))
        .map_err(|e| (path.to_string(), e.to_string()))?;
    Ok(out)
}

/// Whether a file begins as `journalctl -o json` writes: an object holding journald's own
/// `__CURSOR` or `__REALTIME_TIMESTAMP` field. The file is left at its start.
fn starts_as_journal_json(fh: &mut std::fs::File) -> bool {
    use std::io::{Read, Seek};
    let mut head = [0u8; 512];
    let mut n = 0;
    while n < head.len() {
        match fh.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let rewound = fh.seek(std::io::SeekFrom::Start(0)).is_ok();
    let head = head[..n].trim_ascii_start();
    rewound && head.starts_with(b"{") && is_journal_json(head)
}

/// Whether a line looks like one entry of `journalctl -o json` (compact, or the older form with
/// spaces around the colons).
fn is_journal_json(line: &[u8]) -> bool {
    let find = |needle: &[u8]| memchr::memmem::find(line, needle).is_some();
    find(b"\"__CURSOR\"") || find(b"\"__REALTIME_TIMESTAMP\"")
}

/// The MESSAGE of a `journalctl -o json` entry, decoded: a string, or the array of byte values
/// journald writes for text that is not UTF-8. `None` for any other line.
fn journal_json_message(line: &[u8]) -> Option<String> {
    let trimmed = line.trim_ascii();
    if !trimmed.starts_with(b"{") || !is_journal_json(trimmed) {
        return None;
    }
    let entry: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(trimmed).ok()?;
    match entry.get("MESSAGE")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(bytes) => {
            let bytes: Vec<u8> = bytes
                .iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<_>>()?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => None,
    }
}

/// The patterns that read one set of files: the exact per-line set, and a prefilter that finds
/// candidate lines in whole blocks at the regex engine's full speed.
struct Matcher {
    set: RegexSet,
    /// All patterns as one alternation in multi-line mode. Every line that one of the patterns
    /// matches on its own contains a match of this regex starting in that line; `None` when the
    /// alternation is too large to compile, and then every line is a candidate.
    prefilter: Option<regex::bytes::Regex>,
}

impl Matcher {
    fn new(catalog: &Catalog, wanted: &Wanted, slow_path: bool) -> Matcher {
        let patterns: Vec<&str> = wanted
            .iter()
            .map(|&(ci, si)| catalog.checks[ci].scans[si].regex.as_str())
            .collect();
        let set = RegexSet::new(&patterns).expect("each regex compiled alone, so the set compiles");
        let alternation = format!(
            "(?mR:{})",
            patterns
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|")
        );
        let prefilter = (!slow_path)
            .then(|| {
                regex::bytes::RegexBuilder::new(&alternation)
                    .size_limit(64 << 20)
                    .dfa_size_limit(64 << 20)
                    .build()
                    .ok()
            })
            .flatten();
        Matcher { set, prefilter }
    }
}

/// Reads `r` block by block and calls `on_line(line_number, line)` for every line that may
/// match: each line containing the start of a prefilter match (every line when there is no
/// prefilter). Lines keep their numbers; `\r\n` endings are trimmed; a line longer than
/// [`MAX_LINE`] is seen through its first `MAX_LINE` bytes.
pub(crate) fn for_each_candidate_line(
    mut r: impl std::io::Read,
    prefilter: Option<&regex::bytes::Regex>,
    mut on_line: impl FnMut(usize, &[u8]),
) -> std::io::Result<()> {
    const BLOCK: usize = 4 << 20;
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + MAX_LINE);
    // Lines fully consumed before buf[0].
    let mut lines_before = 0usize;
    // Inside an overlong line whose head was already handled.
    let mut skipping = false;
    loop {
        let old = buf.len();
        buf.resize(old + BLOCK, 0);
        let n = loop {
            match r.read(&mut buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        buf.truncate(old + n);
        let eof = n == 0;
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    lines_before += 1;
                    skipping = false;
                }
                None => {
                    buf.clear();
                    if eof {
                        return Ok(());
                    }
                    continue;
                }
            }
        }
        let complete = if eof {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
        };
        let region = &buf[..complete];
        scan_region(region, lines_before, prefilter, &mut on_line);
        lines_before += memchr::memchr_iter(b'\n', region).count();
        if eof {
            return Ok(());
        }
        buf.drain(..complete);
        if buf.len() > MAX_LINE {
            on_line(lines_before + 1, trim_cr(&buf[..MAX_LINE]));
            buf.clear();
            skipping = true;
        }
    }
}

/// Calls `on_line` for the candidate lines of a region made of whole lines (the last one may
/// lack its newline at the end of the file).
fn scan_region(
    region: &[u8],
    lines_before: usize,
    prefilter: Option<&regex::bytes::Regex>,
    on_line: &mut impl FnMut(usize, &[u8]),
) {
    let mut pos = 0;
    let mut counted = 0;
    let mut line = lines_before;
    while pos < region.len() {
        let start = match prefilter {
            Some(p) => match p.find_at(region, pos) {
                Some(m) => m.start(),
                None => return,
            },
            None => pos,
        };
        let ls = memchr::memrchr(b'\n', &region[pos..start]).map_or(pos, |i| pos + i + 1);
        let le = memchr::memchr(b'\n', &region[start..]).map_or(region.len(), |i| start + i);
        line += memchr::memchr_iter(b'\n', &region[counted..ls]).count();
        counted = ls;
        // Every line is seen through at most its first MAX_LINE bytes, wherever blocks fall.
        on_line(line + 1, trim_cr(&region[ls..le.min(ls + MAX_LINE)]));
        pos = le + 1;
    }
}

fn trim_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(text: &[u8], pattern: Option<&str>) -> Vec<(usize, String)> {
        let re = pattern.map(|p| regex::bytes::Regex::new(&format!("(?mR:{p})")).unwrap());
        let mut out = Vec::new();
        for_each_candidate_line(text, re.as_ref(), |n, l| {
            out.push((n, String::from_utf8_lossy(l).into_owned()))
        })
        .unwrap();
        out
    }

    #[test]
    fn journal_json_entries_are_read_as_their_message() {
        let compact = br#"{"__CURSOR":"s=7;i=1","__REALTIME_TIMESTAMP":"1763631004552675","MESSAGE":"E1120 server.go:292] \"Failed to run kubelet\" err=\"driver: \\\"cgroupfs\\\"\""}"#;
        assert_eq!(
            journal_json_message(compact).as_deref(),
            Some(r#"E1120 server.go:292] "Failed to run kubelet" err="driver: \"cgroupfs\"""#)
        );
        let spaced = br#"{ "__CURSOR" : "s=7", "MESSAGE" : "plain" }"#;
        assert_eq!(journal_json_message(spaced).as_deref(), Some("plain"));
        let bytes = br#"{"__CURSOR":"s=7","MESSAGE":[104,105,255]}"#;
        assert_eq!(journal_json_message(bytes).as_deref(), Some("hi\u{fffd}"));
        // A null MESSAGE (a field above journald's size limit) and other JSON lines give nothing.
        let null = br#"{"__CURSOR":"s=7","MESSAGE":null}"#;
        assert_eq!(journal_json_message(null), None);
        assert_eq!(
            journal_json_message(br#"{"level":"error","msg":"x"}"#),
            None
        );
        assert_eq!(
            journal_json_message(b"Nov 20 09:30:04 cp-1 kubelet[1]: {}"),
            None
        );
    }

    #[test]
    fn candidate_lines_keep_their_numbers() {
        let text = b"alpha\r\nbeta loop\ngamma\nloop delta\nepsilon loop";
        assert_eq!(
            candidates(text, Some("loop")),
            [
                (2, "beta loop".into()),
                (4, "loop delta".into()),
                (5, "epsilon loop".into())
            ]
        );
        assert_eq!(candidates(text, None).len(), 5);
        assert_eq!(candidates(text, None)[0], (1, "alpha".into()));
        assert!(candidates(b"", None).is_empty());
    }

    #[test]
    fn a_match_spanning_lines_does_not_hide_a_later_line() {
        // `a[^z]*b` matches across the newline from line 1 into line 2; line 2 matches alone too.
        let got = candidates(b"a x\nab\nq", Some("a[^z]*b"));
        assert_eq!(got, [(1, "a x".into()), (2, "ab".into())]);
        let anchored = candidates(b"x MISSING\nebtables MISSING\r\n", Some(r"^(\S+) MISSING$"));
        assert_eq!(
            anchored,
            [(1, "x MISSING".into()), (2, "ebtables MISSING".into())]
        );
    }

    #[test]
    fn overlong_lines_are_cut_not_buffered() {
        // Longer than a line but shorter than a block, and longer than a block.
        let mut short = vec![b'y'; MAX_LINE + 100];
        short.extend_from_slice(b" loop\n");
        assert_eq!(candidates(&short, None)[0].1.len(), MAX_LINE);
        let mut text = vec![b'x'; MAX_LINE + 10 * 1024 * 1024];
        text.extend_from_slice(b" loop\nnext loop\n");
        let got = candidates(&text, None);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, 1);
        assert_eq!(got[0].1.len(), MAX_LINE);
        assert_eq!(got[1], (2, "next loop".into()));
    }

    #[test]
    fn blocks_boundaries_do_not_change_results() {
        let mut text = Vec::new();
        for i in 0..400_000 {
            text.extend_from_slice(
                format!("line {i} {}\n", if i % 99_991 == 0 { "hit" } else { "ok" }).as_bytes(),
            );
        }
        let got: Vec<usize> = candidates(&text, Some("hit"))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(got, [1, 99_992, 199_983, 299_974, 399_965]);
    }
}
