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
use std::io::{BufRead, BufReader};
use std::sync::Arc;

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
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<(String, String)>,
}

/// A file's matches tagged with their check index, or the file and why it could not be read.
type FileScan = Result<Vec<(usize, ScanMatch)>, (String, String)>;

/// (check index, scan index) pairs that read one file.
type Wanted = Vec<(usize, usize)>;

pub fn run(catalog: &Catalog, facts: &Facts) -> ScanResults {
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
        let mut wanted = Vec::new();
        for (ci, c) in catalog.checks.iter().enumerate() {
            for (si, s) in c.scans.iter().enumerate() {
                if s.files.is_match(&f.path) {
                    wanted.push((ci, si));
                    files_scanned[ci][si] += 1;
                }
            }
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
    let compiled: Vec<RegexSet> = set_list
        .iter()
        .map(|w| {
            RegexSet::new(
                w.iter()
                    .map(|&(ci, si)| catalog.checks[ci].scans[si].regex.as_str()),
            )
            .expect("each regex compiled alone, so the set compiles")
        })
        .collect();

    let per_file: Vec<FileScan> = work
        .par_iter()
        .map(|(f, id)| scan_file(catalog, facts, f, &set_list[*id], &compiled[*id]))
        .collect();

    let mut out = ScanResults {
        matches: vec![Vec::new(); n],
        files_scanned,
        dropped: vec![0; n],
        unreadable: Vec::new(),
    };
    for r in per_file {
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
            Err(e) => out.unreadable.push(e),
        }
    }
    out
}

fn scan_file(
    catalog: &Catalog,
    facts: &Facts,
    f: &BundleFile,
    wanted: &Wanted,
    set: &RegexSet,
) -> FileScan {
    let file: Arc<str> = Arc::from(f.path.as_str());
    let mut out = Vec::new();
    let on_line = |line_no: usize, line: &[u8], out: &mut Vec<(usize, ScanMatch)>| {
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
                    text: String::from_utf8_lossy(line).into_owned(),
                    captures,
                },
            ));
        }
    };
    if f.path == "manifest.json" {
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
        return Ok(out);
    }
    let fh = std::fs::File::open(facts.bundle.disk_path(&f.path))
        .map_err(|e| (f.path.clone(), e.to_string()))?;
    let mut r = BufReader::with_capacity(1 << 20, fh);
    let mut line_no = 0usize;
    let mut long: Vec<u8> = Vec::new();
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err((f.path.clone(), e.to_string())),
        };
        if buf.is_empty() {
            if !long.is_empty() {
                line_no += 1;
                on_line(line_no, trim_cr(&long), &mut out);
            }
            break;
        }
        let mut consumed = 0;
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            line_no += 1;
            if long.is_empty() {
                on_line(line_no, trim_cr(&buf[start..end]), &mut out);
            } else {
                let room = MAX_LINE.saturating_sub(long.len());
                long.extend_from_slice(&buf[start..end.min(start + room)]);
                on_line(line_no, trim_cr(&long), &mut out);
                long.clear();
            }
            start = end + 1;
            consumed = start;
        }
        if consumed < buf.len() {
            let room = MAX_LINE.saturating_sub(long.len());
            let rest = &buf[consumed..];
            long.extend_from_slice(&rest[..rest.len().min(room)]);
            consumed = buf.len();
        }
        r.consume(consumed);
    }
    Ok(out)
}

fn trim_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}
