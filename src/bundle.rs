//! Opening a bundle: a folder, a `.tar.gz`/`.tgz` or a `.tar`, detected by content.
//!
//! Archives are untrusted. They are unpacked entry by entry into a private temporary folder that
//! this process creates (mode 0700) and removes on exit: absolute paths, `..`, links and device
//! files are refused and reported, each file's and the total decompressed size are capped, and
//! a truncated archive yields what could be read plus a reported problem. Nothing is ever
//! written outside that folder, and no link is ever created or followed.

use crate::layout::{Input, Layout, Origin, View};
use flate2::bufread::MultiGzDecoder;
use serde::Serialize;
use std::cell::Cell;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use thiserror::Error;

/// Bounds applied while unpacking an archive (folders are read in place, so they need none).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single file, decompressed.
    pub max_file: u64,
    /// Largest total of all entries, decompressed.
    pub max_total: u64,
    /// Most entries an archive may have.
    pub max_entries: u64,
    /// Past `ratio_floor` decompressed bytes, a decompressed/compressed ratio above this is
    /// treated as a decompression bomb (real logs and JSON compress 5–50×).
    pub max_ratio: u64,
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file: 4 << 30,
            max_total: 16 << 30,
            max_entries: 2_000_000,
            max_ratio: 300,
            ratio_floor: 512 << 20,
        }
    }
}

/// A file of an archive that has just been unpacked whole: the analysis may start on it while
/// the rest of the archive is still inflating.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// The entry's path inside the archive, `/`-separated (the archive's top folder included).
    pub entry: String,
    /// Where it was written, inside the private unpack folder.
    pub disk: PathBuf,
    pub size: u64,
}

/// Told of each archive file as it is unpacked (see [`Bundle::open_streaming`]).
pub trait Unpacking: Sync {
    /// Where to send a copy of the bytes of the file about to be unpacked from `entry` (its
    /// path inside the archive; `size` bytes, as its header says), if anywhere: each block is
    /// written there as it inflates, and the sink is dropped at the file's end. A sink that
    /// fails is not written to again; the unpacking goes on.
    fn copy_to(&self, entry: &str, size: u64) -> Option<Box<dyn Write + Send>> {
        let _ = (entry, size);
        None
    }

    /// The file is whole on disk.
    fn unpacked(&self, file: Unpacked);
}

pub type OnUnpacked<'a> = &'a dyn Unpacking;

/// What the user handed us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Folder,
    TarGz,
    Tar,
    TarXz,
    TarBz2,
    TarZst,
    /// One plain file (a `kubectl cluster-info dump` saved from standard output).
    File,
    /// Several inputs read as one case.
    Several,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Folder => "folder",
            Format::TarGz => "tar.gz",
            Format::Tar => "tar",
            Format::TarXz => "tar.xz",
            Format::TarBz2 => "tar.bz2",
            Format::TarZst => "tar.zst",
            Format::File => "file",
            Format::Several => "several",
        }
    }
}

/// Something about the bundle itself that the user should know: an entry refused, a link not
/// followed, a truncated archive, a missing manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub problem: String,
}

pub use crate::layout::BundleFile;

/// One input of a case, as the JSON report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputInfo {
    pub source: String,
    pub layout: String,
}

/// An opened bundle (or case of several inputs): the files the checks read, in our layout,
/// and the files as they were sent.
///
/// For a bundle of our own layout both lists are the same. For another tool's layout,
/// `files` are the logical files of [`crate::layout::View`] (`kubectl/pods.json` merged from
/// `cluster-resources/pods/*.json`) and `sent` the real ones, which evidence names.
#[derive(Debug)]
pub struct Bundle {
    pub source: PathBuf,
    pub format: Format,
    /// The (first) input's top-level folder on disk.
    pub root: PathBuf,
    /// What the checks read, sorted by path.
    pub files: Vec<BundleFile>,
    /// The files as sent, sorted by path; prefixed by each input's name in a case of several.
    pub sent: Vec<BundleFile>,
    pub problems: Vec<Problem>,
    /// The layout recognised (`Several` for a case of several inputs).
    pub layout: Layout,
    /// Each input of a case of several, with its layout.
    pub inputs: Vec<InputInfo>,
    pub view: View,
    /// (name prefix, folder) of each input, for the real files' disk paths.
    roots: Vec<(String, PathBuf)>,
    /// Keeps the private unpack folders alive as long as the bundle.
    _unpacked: Vec<tempfile::TempDir>,
}

/// One input as read from disk, before its layout is known.
#[derive(Debug)]
struct Raw {
    source: PathBuf,
    format: Format,
    root: PathBuf,
    files: Vec<BundleFile>,
    links: Vec<(String, String)>,
    problems: Vec<Problem>,
    unpacked: Vec<tempfile::TempDir>,
}

/// A bundle that cannot be opened at all (exit code 2).
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("{path}: {message}")]
    Unreadable { path: String, message: String },
}

fn unreadable(path: &Path, message: impl Into<String>) -> OpenError {
    OpenError::Unreadable {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// What kubetriage reads, in a few words, for errors that already say much.
const EXPECTED_SHORT: &str = "expected a kubetriage, troubleshoot, cluster-info dump or sosreport bundle at the top of what is passed";

/// What an input must look like, for the error when none is recognised.
const EXPECTED: &str = "expected a kubetriage bundle (manifest.json, kubectl/, nodes/), a troubleshoot support bundle (cluster-resources/), a kubectl cluster-info dump (nodes.json with <namespace>/pods.json, or its standard output saved to a file) or a sosreport (sos_commands/)";

impl Bundle {
    pub fn open(path: &Path, limits: &Limits) -> Result<Bundle, OpenError> {
        Self::open_with_progress(path, limits, None)
    }

    /// Like [`Bundle::open`], reporting how far unpacking has come through `progress` (and
    /// stopping early, as if the archive ended, when it is cancelled).
    pub fn open_with_progress(
        path: &Path,
        limits: &Limits,
        archive_read: Option<&OpenProgress>,
    ) -> Result<Bundle, OpenError> {
        Self::open_many(&[path.to_path_buf()], limits, archive_read)
    }

    /// Opens several inputs (`dump.txt node1-sosreport.tar.xz …`) as one case: the cluster
    /// lists of one and the node files of the others, nodes matched by host name, evidence
    /// naming the input each line came from. One input is a bundle as usual; a folder that
    /// holds several bundles is such a case too.
    pub fn open_many(
        paths: &[PathBuf],
        limits: &Limits,
        archive_read: Option<&OpenProgress>,
    ) -> Result<Bundle, OpenError> {
        Self::open_streaming(paths, limits, archive_read, None)
    }

    /// Like [`Bundle::open_many`], telling `on_unpacked` of each file of an archive as soon as
    /// it is written whole, so that work on it can overlap the inflating of the rest. Nothing
    /// changes in what is unpacked or refused; a file may be told of twice when an archive
    /// holds the same path twice (the later copy is the one kept).
    pub fn open_streaming(
        paths: &[PathBuf],
        limits: &Limits,
        archive_read: Option<&OpenProgress>,
        on_unpacked: Option<OnUnpacked>,
    ) -> Result<Bundle, OpenError> {
        let mut raws = Vec::new();
        for p in paths {
            raws.push(Self::open_raw_streaming(
                p,
                limits,
                archive_read,
                on_unpacked,
            )?);
        }
        let source = if paths.len() == 1 {
            paths[0].clone()
        } else {
            PathBuf::from(
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        };
        // Archives side by side make a case, unless the folder is itself another tool's layout:
        // a sosreport may carry an archive of its own at its top (`sos_reports.tgz`).
        let is_case = raws.len() == 1
            && match Self::layout_of(&raws[0]) {
                None => true,
                Some(Layout::Sosreport) => false,
                Some(_) => is_case_folder(&raws[0]),
            };
        if is_case {
            let mut raw = raws.pop().unwrap_or_else(|| unreachable!());
            let mut inner = Self::case_folder(&raw, limits, archive_read);
            if inner.is_empty() {
                return Err(Self::nothing_known(&raw));
            }
            // The inputs live in the outer archive's unpacked folder: keep it.
            inner[0].unpacked.append(&mut raw.unpacked);
            raws = inner;
        }
        Self::assemble(source, raws)
    }

    fn layout_of(raw: &Raw) -> Option<Layout> {
        crate::layout::detect(&Input {
            label: "",
            root: &raw.root,
            files: &raw.files,
            links: &raw.links,
        })
    }

    /// The bundles a folder holds side by side (a case folder): its entries that open with a
    /// known layout.
    fn case_folder(raw: &Raw, limits: &Limits, archive_read: Option<&OpenProgress>) -> Vec<Raw> {
        let Ok(rd) = fs::read_dir(&raw.root) else {
            return Vec::new();
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        entries
            .into_iter()
            .filter(|p| !fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()))
            .filter_map(|p| {
                let mut r = Self::open_raw(&p, limits, archive_read).ok()?;
                // Named inside what the user gave, never by a private unpack folder.
                if let Some(name) = p.file_name() {
                    r.source = raw.source.join(name);
                }
                Some(r)
            })
            .filter(|r| Self::layout_of(r).is_some())
            .collect()
    }

    /// The one-line error for an input in which nothing is recognised.
    fn nothing_known(raw: &Raw) -> OpenError {
        // A bundle one or more folders down, beside other files: say where it is.
        if let Some((folder, layout)) = crate::layout::nested(&raw.files) {
            let folder = folder.trim_end_matches('/');
            let what = if raw.format == Format::Folder {
                format!(
                    "{} seems to be {}: pass that folder instead",
                    raw.root.join(folder).display(),
                    layout.describe()
                )
            } else {
                format!(
                    "its folder {folder} seems to be {}: unpack the archive and pass that folder",
                    layout.describe()
                )
            };
            return unreadable(
                &raw.source,
                format!(
                    "found {} file(s) but no bundle at the top; {what} ({EXPECTED_SHORT})",
                    raw.files.len(),
                ),
            );
        }
        if let Some(archive) = raw
            .files
            .iter()
            .find(|f| f.path.contains('/') && is_archive(&raw.root.join(&f.path)))
        {
            return unreadable(
                &raw.source,
                format!(
                    "found {} file(s) but no bundle at the top, and an archive in a sub-folder ({}): pass the archive itself, or a folder holding the case's inputs side by side ({EXPECTED_SHORT})",
                    raw.files.len(),
                    archive.path
                ),
            );
        }
        let found = if raw.files.is_empty() {
            "no file".to_string()
        } else {
            let names: Vec<&str> = raw.files.iter().take(3).map(|f| f.path.as_str()).collect();
            format!(
                "{} file(s) ({}{}) but no known layout and no Kubernetes data",
                raw.files.len(),
                names.join(", "),
                if raw.files.len() > 3 { ", …" } else { "" }
            )
        };
        unreadable(&raw.source, format!("found {found}; {EXPECTED}"))
    }

    /// Reads one input into a folder of files, whatever it is.
    fn open_raw(
        path: &Path,
        limits: &Limits,
        archive_read: Option<&OpenProgress>,
    ) -> Result<Raw, OpenError> {
        Self::open_raw_streaming(path, limits, archive_read, None)
    }

    fn open_raw_streaming(
        path: &Path,
        limits: &Limits,
        archive_read: Option<&OpenProgress>,
        on_unpacked: Option<OnUnpacked>,
    ) -> Result<Raw, OpenError> {
        let meta = fs::metadata(path).map_err(|e| {
            unreadable(
                path,
                format!("cannot open: {e} (pass a bundle folder, an archive or a cluster-info dump file)"),
            )
        })?;
        if meta.is_dir() {
            return Self::open_folder(path);
        }
        let mut head = [0u8; 512];
        let n = read_prefix(path, &mut head)
            .map_err(|e| unreadable(path, format!("cannot read: {e}")))?;
        let head = &head[..n];
        if head.starts_with(&[0x1f, 0x8b]) {
            Self::open_archive(path, Format::TarGz, limits, archive_read, on_unpacked)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Self::open_archive(path, Format::TarXz, limits, archive_read, on_unpacked)
        } else if head.starts_with(b"BZh") {
            Self::open_archive(path, Format::TarBz2, limits, archive_read, on_unpacked)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Self::open_archive(path, Format::TarZst, limits, archive_read, on_unpacked)
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            Self::open_archive(path, Format::Tar, limits, archive_read, on_unpacked)
        } else if head.starts_with(b"PK\x03\x04") {
            Err(unreadable(
                path,
                "this is a zip archive; kubetriage reads folders and tar archives (.tar.gz, .tar.xz, .tar.bz2, .tar.zst, .tar): unzip it and pass the folder",
            ))
        } else if n == 0 {
            Err(unreadable(
                path,
                "the file is empty; expected a bundle folder, an archive or a cluster-info dump",
            ))
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let root = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            let raw = Raw {
                source: path.to_path_buf(),
                format: Format::File,
                root,
                files: vec![BundleFile {
                    path: name,
                    size: meta.len(),
                }],
                links: Vec::new(),
                problems: Vec::new(),
                unpacked: Vec::new(),
            };
            let input = Input {
                label: "",
                root: &raw.root,
                files: &raw.files,
                links: &raw.links,
            };
            if crate::layout::dump::is_stdout_dump(&input, &raw.files[0].path) {
                Ok(raw)
            } else {
                Err(unreadable(
                    path,
                    "not a bundle: neither a folder, a tar archive (.tar.gz, .tar.xz, .tar.bz2, .tar.zst, .tar) nor a kubectl cluster-info dump (a file starting with { that holds a NodeList, or a YAML list of nodes written by -o yaml)",
                ))
            }
        }
    }

    fn open_folder(path: &Path) -> Result<Raw, OpenError> {
        let mut root = path.to_path_buf();
        // A folder that holds nothing but the bundle's own top-level folder (an unpacked archive)
        // is read from that inner folder.
        if !root.join("manifest.json").exists() {
            let entries: Vec<_> = fs::read_dir(&root)
                .map_err(|e| unreadable(path, format!("cannot list the folder: {e}")))?
                .filter_map(|e| e.ok())
                .collect();
            if entries.len() == 1 && !is_layout_folder(&entries[0].file_name()) {
                let only = entries[0].path();
                if fs::symlink_metadata(&only)
                    .map(|m| m.is_dir())
                    .unwrap_or(false)
                {
                    root = only;
                }
            }
        }
        let mut files = Vec::new();
        let mut problems = Vec::new();
        let mut links = Vec::new();
        walk(&root, "", 0, &mut files, &mut links, &mut problems);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Raw {
            source: path.to_path_buf(),
            format: Format::Folder,
            root,
            files,
            links,
            problems,
            unpacked: Vec::new(),
        })
    }

    fn open_archive(
        path: &Path,
        format: Format,
        limits: &Limits,
        archive_read: Option<&OpenProgress>,
        on_unpacked: Option<OnUnpacked>,
    ) -> Result<Raw, OpenError> {
        let file =
            fs::File::open(path).map_err(|e| unreadable(path, format!("cannot open: {e}")))?;
        let compressed = Rc::new(Cell::new(0u64));
        // Counted as the decoders take it, then buffered once: the gzip decoder inflates
        // straight from this large buffer of the compressed file, with no copy in between.
        let counted = io::BufReader::with_capacity(
            1 << 20,
            CountingReader {
                inner: file,
                count: compressed.clone(),
                progress: archive_read,
            },
        );
        let reader: Box<dyn Read + '_> = match format {
            Format::TarGz => Box::new(MultiGzDecoder::new(counted)),
            Format::TarXz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(counted)),
            Format::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(counted)),
            Format::TarZst => Box::new(
                ruzstd::decoding::StreamingDecoder::new(counted)
                    .map_err(|e| unreadable(path, format!("not a readable zstd archive: {e}")))?,
            ),
            _ => Box::new(counted),
        };
        let dir = tempfile::Builder::new()
            .prefix("kubetriage-")
            .tempdir()
            .map_err(|e| {
                unreadable(
                    path,
                    format!("cannot create a private folder to unpack into: {e}"),
                )
            })?;
        let mut problems = Vec::new();
        let mut links = Vec::new();
        let entries = unpack(
            reader,
            dir.path(),
            limits,
            &compressed,
            &mut links,
            &mut problems,
            on_unpacked,
        )
        .map_err(|m| unreadable(path, m))?;
        if entries == 0 && problems.iter().any(|p| p.problem.starts_with("archive")) {
            let first = problems[0].problem.clone();
            return Err(unreadable(path, format!("no file could be read: {first}")));
        }
        let (root, top_problem) = top_folder(dir.path());
        // Entry names include the archive's top-level folder; reports speak bundle-relative paths.
        if let Ok(top) = root.strip_prefix(dir.path())
            && let Some(prefix) = top
                .to_str()
                .filter(|t| !t.is_empty())
                .map(|t| format!("{t}/"))
        {
            for p in &mut problems {
                if let Some(rest) = p.file.strip_prefix(&prefix) {
                    p.file = rest.to_string();
                }
            }
            links.retain_mut(|(l, _)| match l.strip_prefix(&prefix) {
                Some(rest) => {
                    *l = rest.to_string();
                    true
                }
                None => false,
            });
        }
        if let Some(p) = top_problem {
            problems.push(p);
        }
        let mut files = Vec::new();
        let mut more_links = Vec::new();
        walk(&root, "", 0, &mut files, &mut more_links, &mut problems);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Raw {
            source: path.to_path_buf(),
            format,
            root,
            files,
            links,
            problems,
            unpacked: vec![dir],
        })
    }

    /// Recognises each input's layout and reads them into the one view the checks use.
    fn assemble(source: PathBuf, mut raws: Vec<Raw>) -> Result<Bundle, OpenError> {
        let several = raws.len() > 1;
        let mut layouts = Vec::new();
        for r in &raws {
            layouts.push(Self::layout_of(r).ok_or_else(|| Self::nothing_known(r))?);
        }
        // Our own layout, alone: the files are read as they are.
        if !several && layouts[0] == Layout::Kubetriage {
            let raw = raws.pop().unwrap_or_else(|| unreachable!());
            let mut problems = raw.problems;
            problems.extend(link_problems(&raw.links));
            return Ok(Bundle {
                source,
                format: raw.format,
                root: raw.root.clone(),
                sent: raw.files.clone(),
                files: raw.files,
                problems,
                layout: Layout::Kubetriage,
                inputs: Vec::new(),
                view: View::default(),
                roots: vec![(String::new(), raw.root)],
                _unpacked: raw.unpacked,
            });
        }
        // Cluster-wide inputs first, so that node captures can be matched to the nodes.
        let mut order: Vec<usize> = (0..raws.len()).collect();
        order.sort_by_key(|&i| (layouts[i] == Layout::Sosreport) as u8);
        let mut labels: Vec<String> = Vec::new();
        for r in &raws {
            let mut name = r
                .source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".into());
            if labels.contains(&name) {
                name = format!("{name}-{}", labels.len() + 1);
            }
            labels.push(name);
        }
        let mut view = View::default();
        let mut problems = Vec::new();
        for &i in &order {
            let r = &raws[i];
            // A single file is named by itself; a folder or archive prefixes its files.
            let label = if several && r.format != Format::File {
                labels[i].as_str()
            } else {
                ""
            };
            let input = Input {
                label,
                root: &r.root,
                files: &r.files,
                links: &r.links,
            };
            let known_nodes = crate::layout::node_names(&view);
            let v = crate::layout::import(layouts[i], &input, &known_nodes).map_err(|e| {
                unreadable(
                    &r.source,
                    format!("cannot read it into kubetriage's layout: {e}"),
                )
            })?;
            view.absorb(v)
                .map_err(|e| unreadable(&r.source, format!("cannot combine the inputs: {e}")))?;
            for p in &r.problems {
                problems.push(Problem {
                    file: input.shown(&p.file),
                    problem: p.problem.clone(),
                });
            }
            if layouts[i] == Layout::Kubetriage {
                for p in link_problems(&r.links) {
                    problems.push(Problem {
                        file: input.shown(&p.file),
                        problem: p.problem,
                    });
                }
            }
        }
        problems.extend(
            std::mem::take(&mut view.problems)
                .into_iter()
                .map(|(file, problem)| Problem { file, problem }),
        );
        let mut sent = Vec::new();
        let mut roots = Vec::new();
        for (i, r) in raws.iter().enumerate() {
            let prefix = if several && r.format != Format::File {
                format!("{}/", labels[i])
            } else {
                String::new()
            };
            sent.extend(r.files.iter().map(|f| BundleFile {
                path: format!("{prefix}{}", f.path),
                size: f.size,
            }));
            roots.push((prefix, r.root.clone()));
        }
        sent.sort_by(|a, b| a.path.cmp(&b.path));
        let inputs = if several {
            raws.iter()
                .zip(&layouts)
                .map(|(r, l)| InputInfo {
                    source: r.source.display().to_string(),
                    layout: l.as_str().to_string(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let files = view.files();
        let format = if several {
            Format::Several
        } else {
            raws[0].format
        };
        let root = raws[0].root.clone();
        Ok(Bundle {
            source,
            format,
            root,
            files,
            sent,
            problems,
            layout: if several { Layout::Several } else { layouts[0] },
            inputs,
            view,
            roots,
            _unpacked: raws.into_iter().flat_map(|r| r.unpacked).collect(),
        })
    }

    /// Removes the private folders an archive was unpacked into, now, for a process about to
    /// end without freeing the bundle (the driver, once the report is written). The bundle's
    /// files cannot be read afterwards.
    pub fn remove_unpacked(&self) {
        for dir in &self._unpacked {
            let _ = fs::remove_dir_all(dir.path());
        }
    }

    /// The file at a path: a file the checks read, else a file as sent.
    pub fn file(&self, rel: &str) -> Option<&BundleFile> {
        find(&self.files, rel).or_else(|| find(&self.sent, rel))
    }

    /// The on-disk path of a path the checks read, or of a file as sent.
    pub fn disk_path(&self, rel: &str) -> PathBuf {
        if let Some(e) = self.view.entry(rel) {
            return e.disk.clone();
        }
        // A compressed file an importer read: its text, not its compressed bytes.
        if let Some(p) = self.view.inflated(rel) {
            return p.to_path_buf();
        }
        let (rest, root) = self
            .roots
            .iter()
            .filter(|(prefix, _)| rel.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(prefix, root)| (&rel[prefix.len()..], root.clone()))
            .unwrap_or((rel, self.root.clone()));
        let mut p = root;
        for part in rest.split('/') {
            p.push(part);
        }
        p
    }

    /// Where the lines of a file the checks read come from, when that is not the file itself.
    pub fn origin(&self, rel: &str) -> Option<Arc<Origin>> {
        self.view.entry(rel).map(|e| e.origin.clone())
    }
}

/// A folder that holds archives side by side is a case of several inputs, never one bundle:
/// no layout keeps archives at its top.
fn is_case_folder(raw: &Raw) -> bool {
    raw.files
        .iter()
        .any(|f| !f.path.contains('/') && is_archive(&raw.root.join(&f.path)))
}

/// Whether a file starts like a compressed archive kubetriage opens.
fn is_archive(path: &Path) -> bool {
    let mut head = [0u8; 6];
    let n = read_prefix(path, &mut head).unwrap_or(0);
    let h = &head[..n];
    h.starts_with(&[0x1f, 0x8b])
        || h.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
        || h.starts_with(b"BZh")
        || h.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

fn find<'a>(files: &'a [BundleFile], rel: &str) -> Option<&'a BundleFile> {
    files
        .binary_search_by(|f| f.path.as_str().cmp(rel))
        .ok()
        .map(|i| &files[i])
}

/// Links in a bundle of our own layout are reported, never followed.
fn link_problems(links: &[(String, String)]) -> Vec<Problem> {
    links
        .iter()
        .map(|(path, target)| Problem {
            file: path.clone(),
            problem: format!(
                "link to {target:?} not followed (links are never followed in a bundle)"
            ),
        })
        .collect()
}

fn read_prefix(path: &Path, buf: &mut [u8]) -> io::Result<usize> {
    let mut f = fs::File::open(path)?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Why the unpacked bundle could not be written, and what to do: the temporary folder is
/// often small, or held in memory (`/tmp` as tmpfs), while a big cluster's bundle is gigabytes.
fn cannot_write(e: &io::Error) -> String {
    format!(
        "cannot write the unpacked bundle into {} ({e}): is its disk full? Set TMPDIR to a folder with room for the unpacked bundle",
        std::env::temp_dir().display()
    )
}

/// Lets another thread watch the unpacking of an archive, and stop it.
#[derive(Debug, Default)]
pub struct OpenProgress {
    /// Bytes of the archive read so far.
    pub archive_read: AtomicU64,
    /// Set to stop unpacking: the archive then reads as if it ended there.
    pub cancel: AtomicBool,
}

/// Counts the compressed bytes consumed, to spot decompression bombs by their ratio.
struct CountingReader<'p, R> {
    inner: R,
    count: Rc<Cell<u64>>,
    /// Mirrors `count` for another thread to display.
    progress: Option<&'p OpenProgress>,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(p) = self.progress
            && p.cancel.load(Ordering::Relaxed)
        {
            return Err(io::Error::other("unpacking was cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        if let Some(p) = self.progress {
            p.archive_read.store(self.count.get(), Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Unpacks regular files and folders into `dest`. Returns how many files were written, or a
/// fatal message (a bomb or too many entries). Everything else is a recorded problem.
fn unpack(
    reader: Box<dyn Read + '_>,
    dest: &Path,
    limits: &Limits,
    compressed: &Rc<Cell<u64>>,
    links: &mut Vec<(String, String)>,
    problems: &mut Vec<Problem>,
    on_unpacked: Option<OnUnpacked>,
) -> Result<u64, String> {
    let mut archive = tar::Archive::new(reader);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return Err(format!("not a readable tar archive: {e}")),
    };
    let mut total: u64 = 0;
    let mut count: u64 = 0;
    let mut written: u64 = 0;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem {
                    file: String::new(),
                    problem: format!(
                        "archive ends early or is damaged after {written} files ({e}); the rest of the bundle is missing"
                    ),
                });
                break;
            }
        };
        count += 1;
        if count > limits.max_entries {
            return Err(format!(
                "more than {} entries: refusing to unpack (is this really a support bundle?)",
                limits.max_entries
            ));
        }
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = match safe_relative(&raw_name) {
            Ok(Some(rel)) => rel,
            Ok(None) => continue, // the archive's own "./"
            Err(why) => {
                problems.push(Problem {
                    file: raw_name,
                    problem: format!("entry refused: {why}"),
                });
                continue;
            }
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            if let Err(e) = fs::create_dir_all(dest.join(&rel)) {
                problems.push(Problem {
                    file: raw_name,
                    problem: format!("folder not created: {e}"),
                });
            }
            continue;
        }
        if kind.is_symlink() {
            // Recorded, never created: a known layout resolves its own links inside the
            // bundle, and our layout reports them.
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            links.push((rel_string(&rel), target));
            continue;
        }
        if kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            problems.push(Problem {
                file: raw_name,
                problem: format!(
                    "link to {target:?} not followed (links are never created from a bundle)"
                ),
            });
            continue;
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            if kind.is_pax_global_extensions()
                || kind.is_pax_local_extensions()
                || kind.is_gnu_longname()
                || kind.is_gnu_longlink()
            {
                continue;
            }
            problems.push(Problem {
                file: raw_name,
                problem: "special file (device, fifo...) skipped".into(),
            });
            continue;
        }
        let declared = entry.header().size().unwrap_or(0);
        if declared > limits.max_file {
            problems.push(Problem {
                file: rel_string(&rel),
                problem: format!(
                    "file of {} is over the {} per-file limit and was skipped (raise --max-file-size to read it)",
                    human_bytes(declared),
                    human_bytes(limits.max_file)
                ),
            });
            total = total.saturating_add(declared);
            check_total(total, limits, compressed.get(), &rel)?;
            continue;
        }
        let out_path = dest.join(&rel);
        if let Some(parent) = out_path.parent()
            && let Err(e) = fs::create_dir_all(parent)
        {
            problems.push(Problem {
                file: raw_name,
                problem: format!("not written: {e}"),
            });
            continue;
        }
        let mut out = match fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&out_path)
        {
            Ok(f) => io::BufWriter::with_capacity(1 << 20, f),
            Err(e) => {
                problems.push(Problem {
                    file: raw_name,
                    problem: format!("not written: {e}"),
                });
                continue;
            }
        };
        let mut copy = on_unpacked.and_then(|u| u.copy_to(&rel_string(&rel), declared));
        let mut buf = vec![0u8; 256 << 10];
        let mut this_file: u64 = 0;
        let mut failed = None;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    failed = Some(format!(
                        "archive ends early or is damaged inside this file ({e}); the file is cut short"
                    ));
                    break;
                }
            };
            this_file += n as u64;
            total = total.saturating_add(n as u64);
            if this_file > limits.max_file {
                failed = Some(format!(
                    "grew past the {} per-file limit while unpacking; cut short",
                    human_bytes(limits.max_file)
                ));
                break;
            }
            check_total(total, limits, compressed.get(), &rel)?;
            if let Err(e) = out.write_all(&buf[..n]) {
                return Err(cannot_write(&e));
            }
            if let Some(c) = &mut copy
                && c.write_all(&buf[..n]).is_err()
            {
                copy = None;
            }
        }
        drop(copy);
        if let Err(e) = out.flush() {
            return Err(cannot_write(&e));
        }
        written += 1;
        // Closed and whole as it will stay: work on it may start.
        drop(out);
        if let Some(tell) = on_unpacked {
            tell.unpacked(Unpacked {
                entry: rel_string(&rel),
                disk: out_path.clone(),
                size: this_file,
            });
        }
        if let Some(why) = failed {
            problems.push(Problem {
                file: rel_string(&rel),
                problem: why,
            });
            if why_is_truncation(problems) {
                break;
            }
        }
    }
    Ok(written)
}

fn why_is_truncation(problems: &[Problem]) -> bool {
    problems
        .last()
        .map(|p| p.problem.starts_with("archive ends early"))
        .unwrap_or(false)
}

fn check_total(total: u64, limits: &Limits, compressed: u64, rel: &Path) -> Result<(), String> {
    if total > limits.max_total {
        return Err(format!(
            "unpacking {} takes the bundle past the {} total limit: refusing a likely decompression bomb (raise --max-total-size if the bundle is genuine)",
            rel_string(rel),
            human_bytes(limits.max_total)
        ));
    }
    if total > limits.ratio_floor && total / compressed.max(1) > limits.max_ratio {
        return Err(format!(
            "{} decompresses more than {}× its compressed size: refusing a likely decompression bomb",
            rel_string(rel),
            limits.max_ratio
        ));
    }
    Ok(())
}

/// Turns an archive entry name into a safe relative path, or says why it is refused.
/// `Ok(None)` is the archive root itself.
fn safe_relative(name: &str) -> Result<Option<PathBuf>, &'static str> {
    if name.contains('\0') {
        return Err("name contains a NUL byte");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err("absolute path");
    }
    if name.len() > 2 && name.as_bytes()[1] == b':' {
        return Err("absolute path");
    }
    let mut out = PathBuf::new();
    for comp in Path::new(name).components() {
        match comp {
            Component::Normal(p) => {
                // A backslash is an ordinary character here (systemd's `\x2d` escapes); only a
                // Windows-style `..` step is refused.
                if p.to_string_lossy().split('\\').any(|piece| piece == "..") {
                    return Err("path climbs out of the bundle with '..'");
                }
                out.push(p)
            }
            Component::CurDir => {}
            Component::ParentDir => return Err("path climbs out of the bundle with '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path"),
        }
    }
    if out.as_os_str().is_empty() {
        return Ok(None);
    }
    Ok(Some(out))
}

/// Folders of the bundle layout itself: a bundle holding only `kubectl/` (a person's hand-made
/// bundle) is rooted above it, not inside it.
const LAYOUT_FOLDERS: &[&str] = &["kubectl", "gcloud", "nodes", "captured"];

fn is_layout_folder(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| LAYOUT_FOLDERS.contains(&n))
}

/// The bundle root is the archive's single top-level folder.
fn top_folder(dir: &Path) -> (PathBuf, Option<Problem>) {
    let entries: Vec<_> = match fs::read_dir(dir) {
        Ok(r) => r.filter_map(|e| e.ok()).collect(),
        Err(_) => return (dir.to_path_buf(), None),
    };
    if entries.len() == 1
        && entries[0].file_type().map(|t| t.is_dir()).unwrap_or(false)
        && !is_layout_folder(&entries[0].file_name())
    {
        return (entries[0].path(), None);
    }
    if dir.join("manifest.json").is_file() || entries.is_empty() {
        return (dir.to_path_buf(), None);
    }
    (
        dir.to_path_buf(),
        Some(Problem {
            file: String::new(),
            problem: format!(
                "the archive has {} top-level entries instead of one folder; reading them as the bundle root",
                entries.len()
            ),
        }),
    )
}

/// Lists regular files under `dir`, never following links (each is recorded with its target).
fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    files: &mut Vec<BundleFile>,
    links: &mut Vec<(String, String)>,
    problems: &mut Vec<Problem>,
) {
    if depth > 64 {
        problems.push(Problem {
            file: prefix.to_string(),
            problem: "folders nested more than 64 deep were not read".into(),
        });
        return;
    }
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(Problem {
                file: prefix.to_string(),
                problem: format!("folder not readable: {e}"),
            });
            return;
        }
    };
    for entry in rd.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let meta = match fs::symlink_metadata(entry.path()) {
            Ok(m) => m,
            Err(e) => {
                problems.push(Problem {
                    file: rel,
                    problem: format!("not readable: {e}"),
                });
                continue;
            }
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = fs::read_link(entry.path())
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default();
            links.push((rel, target));
        } else if ft.is_dir() {
            walk(&entry.path(), &rel, depth + 1, files, links, problems);
        } else if ft.is_file() {
            files.push(BundleFile {
                path: rel,
                size: meta.len(),
            });
        } else {
            problems.push(Problem {
                file: rel,
                problem: "special file (device, fifo, socket) skipped".into(),
            });
        }
    }
}

fn rel_string(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `1.5 GiB`-style sizes for messages.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_confined() {
        assert_eq!(
            safe_relative("b/kubectl/pods.json").unwrap(),
            Some(PathBuf::from("b/kubectl/pods.json"))
        );
        assert_eq!(safe_relative("./b/x").unwrap(), Some(PathBuf::from("b/x")));
        assert_eq!(safe_relative("./").unwrap(), None);
        assert!(safe_relative("/etc/passwd").is_err());
        assert!(safe_relative("b/../../etc/passwd").is_err());
        assert!(safe_relative("..").is_err());
        assert!(safe_relative("C:\\x").is_err());
        assert!(safe_relative("a\\..\\..\\x").is_err());
    }

    #[test]
    fn a_bundle_of_only_kubectl_output_is_rooted_above_it() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("kubectl")).unwrap();
        fs::write(d.path().join("kubectl/pods.json"), "{}").unwrap();
        let b = Bundle::open_folder(d.path()).unwrap();
        assert_eq!(b.root, d.path());
        assert!(safe_relative("etc/systemd/system/dev-disk-by\\x2duuid.swap").is_ok());
        assert_eq!(top_folder(d.path()).0, d.path());
        // An unpacked archive's own top-level folder is still descended into.
        let outer = tempfile::tempdir().unwrap();
        fs::create_dir_all(outer.path().join("bundle-1/kubectl")).unwrap();
        let b = Bundle::open_folder(outer.path()).unwrap();
        assert_eq!(b.root, outer.path().join("bundle-1"));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(4 << 30), "4.0 GiB");
    }
}
