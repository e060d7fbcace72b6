//! A search over every file of the bundle, for the pod name or error a ticket quotes. Like the
//! viewer, it runs in bounded steps between two looks at the keyboard, so that hits show as they
//! arrive and a multi-gigabyte bundle never freezes the UI. Lines are tested as read (up to the
//! part of a line the viewer shows) and escaped once, when kept.

use super::viewer::{MAX_SHOWN, read_capped};
use crate::sanitize;
use regex::bytes::{Regex as BytesRegex, RegexBuilder as BytesRegexBuilder};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

/// Hits kept for the list; past it only the count grows.
pub const MAX_HITS: usize = 10_000;

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index into `BundleSearch::files`.
    pub file: usize,
    pub line: usize,
    /// The line, escaped for display.
    pub text: String,
    /// Byte offset of the match in `text`.
    pub focus: usize,
}

/// A file to search: its bundle path (raw and escaped) and where it is on disk.
#[derive(Debug, Clone)]
pub struct Target {
    pub rel: String,
    pub shown: String,
    pub disk: PathBuf,
}

#[derive(Debug)]
pub struct BundleSearch {
    /// The pattern as typed.
    pub raw: String,
    /// The pattern escaped for display.
    pub pattern: String,
    regex: BytesRegex,
    display: regex::Regex,
    pub files: Vec<Target>,
    pub hits: Vec<Hit>,
    /// Matching lines in all, kept or not.
    pub count: usize,
    /// Files that had at least one hit.
    pub files_hit: usize,
    /// Files searched so far.
    pub searched: usize,
    reader: Option<(BufReader<File>, usize, bool)>,
    buf: Vec<u8>,
    pub selected: usize,
    pub offset: usize,
}

impl BundleSearch {
    /// A search for `pattern` (a regex, or literal text when it is not one; case matters only
    /// with a capital letter) over `files`.
    pub fn new(pattern: &str, files: Vec<Target>) -> Result<BundleSearch, String> {
        let insensitive = !pattern.chars().any(char::is_uppercase);
        let build = |p: &str| {
            let b = BytesRegexBuilder::new(p)
                .case_insensitive(insensitive)
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
        let (regex, display) = build(pattern)
            .or_else(|| build(&regex::escape(pattern)))
            .ok_or_else(|| "the pattern is too large".to_string())?;
        Ok(BundleSearch {
            raw: pattern.to_string(),
            pattern: sanitize::escape(pattern).into_owned(),
            regex,
            display,
            files,
            hits: Vec::new(),
            count: 0,
            files_hit: 0,
            searched: 0,
            reader: None,
            buf: Vec::new(),
            selected: 0,
            offset: 0,
        })
    }

    /// Where the pattern matches in a displayed text, to highlight it.
    pub fn find_in(&self, text: &str) -> Option<(usize, usize)> {
        self.display
            .find(text)
            .map(|m| (m.start(), m.end()))
            .filter(|(a, b)| a < b)
    }

    pub fn done(&self) -> bool {
        self.searched >= self.files.len()
    }

    /// Searches about `budget` more bytes. Returns true while files remain.
    pub fn work(&mut self, budget: usize) -> bool {
        let mut used = 0usize;
        while used < budget && !self.done() {
            if self.reader.is_none() {
                match File::open(&self.files[self.searched].disk) {
                    Ok(f) => self.reader = Some((BufReader::with_capacity(256 << 10, f), 0, false)),
                    Err(_) => {
                        self.searched += 1;
                        continue;
                    }
                }
            }
            let Some((r, line, hit)) = self.reader.as_mut() else {
                continue;
            };
            self.buf.clear();
            match read_capped(r, MAX_SHOWN, &mut self.buf) {
                Ok(Some(len)) => {
                    *line += 1;
                    used += len as usize + 1;
                    if self.regex.is_match(&self.buf) {
                        self.count += 1;
                        if !*hit {
                            *hit = true;
                            self.files_hit += 1;
                        }
                        if self.hits.len() < MAX_HITS {
                            let shown = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
                            let text =
                                sanitize::escape(&String::from_utf8_lossy(shown)).into_owned();
                            let focus = self.display.find(&text).map(|m| m.start()).unwrap_or(0);
                            self.hits.push(Hit {
                                file: self.searched,
                                line: *line,
                                text,
                                focus,
                            });
                        }
                    }
                }
                Ok(None) | Err(_) => {
                    self.reader = None;
                    self.searched += 1;
                    used += 1;
                }
            }
        }
        !self.done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_arrive_file_by_file_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (name, body) in [
            ("a.log", "one\nthe pod api-7d9 failed\nthree\n"),
            ("b.json", "{\"name\": \"api-7d9\"}"),
            ("c.txt", "nothing here\n"),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            files.push(Target {
                rel: name.into(),
                shown: name.into(),
                disk: p,
            });
        }
        files.push(Target {
            rel: "gone".into(),
            shown: "gone".into(),
            disk: dir.path().join("gone"),
        });
        let mut s = BundleSearch::new("API-7d9", files).unwrap();
        // A capital letter: case matters, nothing matches.
        while s.work(8) {}
        assert_eq!(s.count, 0);
        let files = s.files.clone();
        let mut s = BundleSearch::new("api-7d9", files).unwrap();
        assert!(s.work(20), "a small budget leaves work");
        while s.work(20) {}
        let got: Vec<(usize, usize)> = s.hits.iter().map(|h| (h.file, h.line)).collect();
        assert_eq!(got, vec![(0, 2), (1, 1)]);
        assert_eq!(s.files_hit, 2);
        assert_eq!(&s.hits[0].text[s.hits[0].focus..], "api-7d9 failed");
        // Not a regex: searched literally.
        let mut s = BundleSearch::new("api-7d9\"}[", s.files.clone()).unwrap();
        while s.work(1 << 20) {}
        assert_eq!(s.count, 0);
    }
}
