//! Bundles written by other tools, read into the one layout the checks know.
//!
//! Customers send more than our collector's bundles: Replicated troubleshoot support bundles,
//! `kubectl cluster-info dump` folders or standard-output files, sosreports of their nodes. Each
//! layout is recognised by its content ([`detect`]) and read by its importer into a [`View`]: a
//! map from the paths of our layout (`kubectl/pods.json`, `nodes/<node>/journal/kubelet.log`, …)
//! to the files that hold that data. A logical file is either a real file of the bundle read as
//! it is, or one built from several (per-namespace lists merged into one list, a pod's log cut
//! out of a dump). Every logical line remembers the real file and line it came from
//! ([`Origin`]), so evidence names the file as the customer sent it, at its line, and no check
//! ever learns a foreign path. What a format cannot hold is recorded with the reason
//! ([`View::absent`]), so a check that needs it says why it is not evaluated.

pub mod dump;
pub mod lists;
pub mod node;
pub mod sos;
pub mod troubleshoot;

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One regular file of a bundle (as sent, or as the checks read it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// Bundle-relative path with `/` separators.
    pub path: String,
    pub size: u64,
}

/// What an importer saw of the platform outside the cluster's lists (a sosreport's installed
/// snaps), for the platform inference to weigh with the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub platform: String,
    pub because: String,
    pub file: String,
    pub line: usize,
    pub excerpt: String,
}

/// Which tool wrote a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Our collector's layout (or a hand-made bundle following it).
    Kubetriage,
    /// A Replicated troubleshoot support or preflight bundle.
    Troubleshoot,
    /// `kubectl cluster-info dump`, as a folder or as its standard output saved to a file.
    ClusterInfoDump,
    /// A node's sosreport.
    Sosreport,
    /// Several inputs read as one case.
    Several,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Kubetriage => "kubetriage",
            Layout::Troubleshoot => "troubleshoot",
            Layout::ClusterInfoDump => "cluster-info-dump",
            Layout::Sosreport => "sosreport",
            Layout::Several => "several",
        }
    }

    /// How a sentence names a bundle of this layout.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Kubetriage => "a kubetriage bundle",
            Layout::Troubleshoot => "a troubleshoot support bundle",
            Layout::ClusterInfoDump => "a kubectl cluster-info dump",
            Layout::Sosreport => "a sosreport",
            Layout::Several => "a case of several inputs",
        }
    }
}

/// One input of the case as it was opened: its real files, relative to its own root.
pub struct Input<'a> {
    /// The input's name in evidence when a case has several inputs (`""` when it is alone):
    /// its real files are then shown as `<label>/<path>`.
    pub label: &'a str,
    pub root: &'a Path,
    /// Regular files, sorted by path.
    pub files: &'a [BundleFile],
    /// Symbolic links found in it: (path, target as written).
    pub links: &'a [(String, String)],
}

impl Input<'_> {
    /// The path evidence uses for a real file of this input.
    pub fn shown(&self, rel: &str) -> String {
        if self.label.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.label)
        }
    }

    pub fn disk(&self, rel: &str) -> PathBuf {
        let mut p = self.root.to_path_buf();
        for part in rel.split('/') {
            p.push(part);
        }
        p
    }

    pub fn file(&self, rel: &str) -> Option<&BundleFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(rel))
            .ok()
            .map(|i| &self.files[i])
    }

    /// The real file a path names, following the bundle's own relative links (never out of
    /// the bundle, at most 16 hops).
    pub fn resolve(&self, rel: &str) -> Option<&BundleFile> {
        let mut path = rel.to_string();
        for _ in 0..16 {
            if let Some(f) = self.file(&path) {
                return Some(f);
            }
            // A link on the path itself or on one of its folders.
            let parts: Vec<&str> = path.split('/').collect();
            let mut next = None;
            for i in (1..=parts.len()).rev() {
                let head = parts[..i].join("/");
                if let Some((_, target)) = self.links.iter().find(|(p, _)| *p == head) {
                    let base: Vec<&str> = parts[..i - 1].to_vec();
                    let joined = join_inside(&base, target)?;
                    let rest = parts[i..].join("/");
                    next = Some(if rest.is_empty() {
                        joined
                    } else {
                        format!("{joined}/{rest}")
                    });
                    break;
                }
            }
            path = next?;
        }
        None
    }

    /// Reads a real file whole (importers read only the small files they must understand).
    pub fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.disk(rel))
    }

    pub fn read_string(&self, rel: &str) -> Option<String> {
        self.read(rel)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

/// Joins a relative link target to the folder holding the link; `None` when it climbs out of
/// the bundle or is absolute.
fn join_inside(base: &[&str], target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut out: Vec<&str> = base.to_vec();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

/// Where the lines of a logical file come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A real file read as it is: line n is its line n.
    Same(Arc<str>),
    /// Built from parts of real files.
    Lines(Vec<Segment>),
}

/// `count` logical lines from `first` (1-based) come from `file` starting at `line`. When not
/// `exact` (an object rewritten from an older form), all of them point at `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub first: usize,
    pub count: usize,
    pub file: Arc<str>,
    pub line: usize,
    pub exact: bool,
}

impl Origin {
    /// The real file and line of logical line `n`.
    pub fn locate(&self, n: usize) -> (Arc<str>, usize) {
        match self {
            Origin::Same(f) => (f.clone(), n),
            Origin::Lines(segs) => {
                let i = segs.partition_point(|s| s.first <= n);
                let s = match i.checked_sub(1).and_then(|i| segs.get(i)) {
                    Some(s) => s,
                    None => match segs.first() {
                        Some(s) => return (s.file.clone(), s.line),
                        None => return (Arc::from(""), n),
                    },
                };
                let off = n - s.first;
                if off >= s.count {
                    // A line between parts (list punctuation): the part it follows.
                    return (
                        s.file.clone(),
                        s.line + if s.exact { s.count - 1 } else { 0 },
                    );
                }
                (s.file.clone(), s.line + if s.exact { off } else { 0 })
            }
        }
    }
}

/// One logical file.
#[derive(Debug, Clone)]
pub struct Entry {
    pub disk: PathBuf,
    pub size: u64,
    pub origin: Arc<Origin>,
}

/// A verdict the foreign tool itself wrote into the bundle (troubleshoot's `analysis.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolVerdict {
    /// The tool that wrote it: `troubleshoot`.
    pub tool: String,
    pub name: String,
    /// The tool's own word: `error`, `warn`, `pass`, `debug`…
    pub severity: String,
    pub title: String,
    pub message: String,
    /// Where it is in the bundle, `file:line`.
    pub file: String,
    pub line: usize,
}

/// The logical files of a case and what is known to be missing from it.
#[derive(Debug, Default)]
pub struct View {
    entries: BTreeMap<String, Entry>,
    /// (path prefix, why no such file can be there).
    absent: Vec<(String, String)>,
    pub verdicts: Vec<ToolVerdict>,
    /// Files of the input that could not be read as their layout says: (file as sent, problem).
    pub problems: Vec<(String, String)>,
    /// Compressed files as sent → their inflated text on disk, for showing them.
    inflated: BTreeMap<String, PathBuf>,
    /// What an importer saw of the platform outside the lists.
    pub hint: Option<Hint>,
    /// A private folder for the logical files that had to be built.
    dir: Option<tempfile::TempDir>,
    built: usize,
    /// Other views' folders, kept alive when their files were taken in.
    keep: Vec<tempfile::TempDir>,
}

impl View {
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Whether any logical file lies under `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.entries
            .range(prefix.to_string()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(prefix))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Logical files, sorted by path.
    pub fn files(&self) -> Vec<BundleFile> {
        self.entries
            .iter()
            .map(|(p, e)| BundleFile {
                path: p.clone(),
                size: e.size,
            })
            .collect()
    }

    /// A real file read as logical file `path`. An existing entry is kept (the first input
    /// that has a file wins).
    pub fn alias(&mut self, path: &str, input: &Input, rel: &str) {
        let Some(f) = input.resolve(rel) else { return };
        let disk = input.disk(&f.path);
        let shown = input.shown(&f.path);
        self.entries.entry(path.to_string()).or_insert(Entry {
            disk,
            size: f.size,
            origin: Arc::new(Origin::Same(Arc::from(shown))),
        });
    }

    /// A logical file built from parts of real files.
    pub fn build(
        &mut self,
        path: &str,
        bytes: &[u8],
        segments: Vec<Segment>,
    ) -> std::io::Result<()> {
        if self.entries.contains_key(path) {
            return Ok(());
        }
        let disk = self.write_private(bytes)?;
        self.entries.insert(
            path.to_string(),
            Entry {
                disk,
                size: bytes.len() as u64,
                origin: Arc::new(Origin::Lines(segments)),
            },
        );
        Ok(())
    }

    /// Rebuilds a logical file already in the view.
    pub fn replace(
        &mut self,
        path: &str,
        bytes: &[u8],
        segments: Vec<Segment>,
    ) -> std::io::Result<()> {
        self.entries.remove(path);
        self.build(path, bytes, segments)
    }

    /// Where the inflated text of compressed file `shown` (as sent) is, when an importer read it.
    pub fn inflated(&self, shown: &str) -> Option<&Path> {
        self.inflated.get(shown).map(PathBuf::as_path)
    }

    /// Keeps the inflated text of compressed file `shown`, so that it can be shown as text.
    /// `logical` names a built file holding exactly that text, when there is one.
    pub fn keep_inflated(
        &mut self,
        shown: &str,
        text: &str,
        logical: Option<&str>,
    ) -> std::io::Result<()> {
        if self.inflated.contains_key(shown) {
            return Ok(());
        }
        if let Some(e) = logical.and_then(|l| self.entries.get(l)) {
            let disk = e.disk.clone();
            self.inflated.insert(shown.to_string(), disk);
            return Ok(());
        }
        let disk = self.write_private(text.as_bytes())?;
        self.inflated.insert(shown.to_string(), disk);
        Ok(())
    }

    /// Writes bytes to a new file of the view's private folder.
    fn write_private(&mut self, bytes: &[u8]) -> std::io::Result<PathBuf> {
        if self.dir.is_none() {
            self.dir = Some(
                tempfile::Builder::new()
                    .prefix("kubetriage-view-")
                    .tempdir()?,
            );
        }
        let dir = self
            .dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default();
        self.built += 1;
        let disk = dir.join(format!("{}", self.built));
        std::fs::write(&disk, bytes)?;
        Ok(disk)
    }

    /// Records that a real file of the input could not be read as its layout says.
    pub fn problem(&mut self, file: impl Into<String>, problem: impl Into<String>) {
        self.problems.push((file.into(), problem.into()));
    }

    /// Records that files under `prefix` cannot be in this case, and why.
    pub fn absent(&mut self, prefix: &str, reason: impl Into<String>) {
        self.absent.push((prefix.to_string(), reason.into()));
    }

    /// Why `path` is not there, when the layout says it cannot be.
    pub fn absent_reason(&self, path: &str) -> Option<&str> {
        self.absent
            .iter()
            .filter(|(p, _)| path.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, r)| r.as_str())
    }

    /// Takes another input's view into this one (a case of several inputs). Lists the two hold
    /// under the same path are merged; other files keep the first input's.
    pub fn absorb(&mut self, other: View) -> std::io::Result<()> {
        let View {
            entries,
            absent,
            verdicts,
            problems,
            inflated,
            dir,
            hint,
            keep,
            ..
        } = other;
        self.problems.extend(problems);
        for (k, v) in inflated {
            self.inflated.entry(k).or_insert(v);
        }
        if self.hint.is_none() {
            self.hint = hint;
        }
        self.keep.extend(keep);
        for (path, e) in entries {
            match self.entries.get(&path) {
                None => {
                    self.entries.insert(path, e);
                }
                Some(mine) if path.starts_with("kubectl/") && path.ends_with(".json") => {
                    let merged = lists::merge_two(mine, &e);
                    if let Some((bytes, segs)) = merged {
                        self.entries.remove(&path);
                        self.build(&path, &bytes, segs)?;
                    }
                }
                Some(_) => {}
            }
        }
        // A reason stays only while no input has the data.
        for (p, r) in absent {
            self.absent.push((p, r));
        }
        let keep: Vec<(String, String)> = self
            .absent
            .drain(..)
            .filter(|(p, _)| !self.entries.keys().any(|k| k.starts_with(p.as_str())))
            .collect();
        self.absent = keep;
        self.verdicts.extend(verdicts);
        if let Some(d) = dir {
            // Keep the other view's built files alive as long as this view.
            self.keep.push(d);
        }
        Ok(())
    }
}

/// The most a compressed file inside a bundle (a rotated log, command output sos compressed) is
/// inflated to: beyond it the file is not read, and the report says so.
pub const MAX_INFLATED: u64 = 512 << 20;

/// The compression a file's first bytes show, if any.
pub fn compression(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if head.starts_with(b"BZh") {
        Some("bzip2")
    } else {
        None
    }
}

/// The text of a real file, inflated when it is compressed (gzip, xz, bzip2), at most
/// [`MAX_INFLATED`] bytes. The error is one line saying what is wrong with the file (for
/// [`View::problem`]).
pub fn read_text(input: &Input, rel: &str) -> Result<String, String> {
    use std::io::Read;
    let path = input.disk(rel);
    let file = std::fs::File::open(&path).map_err(|e| format!("cannot read: {e}"))?;
    let head = head(&path, 6);
    let Some(kind) = compression(&head) else {
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read: {e}"))?;
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    };
    let buffered = std::io::BufReader::new(file);
    let reader: Box<dyn Read> = match kind {
        "gzip" => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
        "xz" => Box::new(liblzma::read::XzDecoder::new_multi_decoder(buffered)),
        _ => Box::new(bzip2::read::MultiBzDecoder::new(buffered)),
    };
    let mut out = Vec::new();
    reader
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not a readable {kind} file ({e}); not read"))?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(format!(
            "larger than {} MiB once inflated ({kind}); not read",
            MAX_INFLATED >> 20
        ));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The name of a compressed file without its compression suffix (`x.log.gz` → `x.log`).
pub fn without_compression_suffix(name: &str) -> Option<&str> {
    [".gz", ".xz", ".bz2"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
}

/// The first lines of a file, for recognising a layout by content.
pub fn head(path: &Path, n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut buf = vec![0u8; n];
    let Ok(mut f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut got = 0;
    while got < n {
        match f.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k,
        }
    }
    buf.truncate(got);
    buf
}

/// Recognises the layout of one input by what it holds.
pub fn detect(input: &Input) -> Option<Layout> {
    let has = |p: &str| input.file(p).is_some();
    let has_dir = |p: &str| {
        let prefix = format!("{p}/");
        input.files.iter().any(|f| f.path.starts_with(&prefix))
    };
    if has("manifest.json") || has_dir("kubectl") || has_dir("gcloud") || has_dir("nodes") {
        return Some(Layout::Kubetriage);
    }
    if has("version.yaml")
        && input
            .read_string("version.yaml")
            .is_some_and(|v| v.contains("troubleshoot.sh/"))
        || has_dir("cluster-resources")
        || has("cluster-info/cluster_version.json")
        || has_dir("host-collectors")
    {
        return Some(Layout::Troubleshoot);
    }
    if has_dir("sos_commands") || has_dir("sos_reports") || has_dir("sos_logs") {
        return Some(Layout::Sosreport);
    }
    // A dump saved from standard output is one file: at the top, never a list file deep in
    // another layout (a nested bundle's `nodes.json` is no dump).
    if dump::is_dump_folder(input)
        || input
            .files
            .iter()
            .any(|f| !f.path.contains('/') && dump::is_stdout_dump(input, &f.path))
    {
        return Some(Layout::ClusterInfoDump);
    }
    if has("analysis.json") {
        // A troubleshoot archive that kept only the analyzers' results.
        return Some(Layout::Troubleshoot);
    }
    None
}

/// Where a bundle of a known layout seems to sit deeper inside an input that is none itself:
/// the folder and the layout its files show, for an error that says what to pass instead.
pub fn nested(files: &[BundleFile]) -> Option<(String, Layout)> {
    const MARKERS: &[(&str, Layout)] = &[
        ("manifest.json", Layout::Kubetriage),
        ("kubectl/", Layout::Kubetriage),
        ("cluster-resources/", Layout::Troubleshoot),
        ("sos_commands/", Layout::Sosreport),
        ("nodes.json", Layout::ClusterInfoDump),
        ("nodes.yaml", Layout::ClusterInfoDump),
    ];
    let mut best: Option<(usize, String, Layout)> = None;
    for f in files {
        for (marker, layout) in MARKERS {
            let at = if marker.ends_with('/') {
                f.path.find(&format!("/{marker}")).map(|i| i + 1)
            } else {
                f.path
                    .strip_suffix(marker)
                    .filter(|head| head.ends_with('/'))
                    .map(str::len)
            };
            let Some(at) = at else { continue };
            let folder = &f.path[..at];
            let depth = folder.matches('/').count();
            if best.as_ref().is_none_or(|(d, ..)| depth < *d) {
                best = Some((depth, folder.to_string(), *layout));
            }
        }
    }
    best.map(|(_, folder, layout)| (folder, layout))
}

/// Reads one input of a known foreign layout into a view.
///
/// `known_nodes` are the cluster's nodes as other inputs of the case list them, to match a
/// node capture's host name against.
pub fn import(layout: Layout, input: &Input, known_nodes: &[String]) -> std::io::Result<View> {
    let mut view = View::default();
    match layout {
        Layout::Troubleshoot => troubleshoot::import(input, &mut view)?,
        Layout::ClusterInfoDump => dump::import(input, &mut view)?,
        Layout::Sosreport => sos::import(input, &mut view, known_nodes)?,
        Layout::Kubetriage | Layout::Several => {
            for f in input.files {
                view.alias(&f.path, input, &f.path);
            }
        }
    }
    Ok(view)
}

/// Node names the view's `kubectl/nodes.json` lists.
pub fn node_names(view: &View) -> Vec<String> {
    let Some(e) = view.entry("kubectl/nodes.json") else {
        return Vec::new();
    };
    let Ok(bytes) = std::fs::read(&e.disk) else {
        return Vec::new();
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["items"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

/// Node names by host name: a sosreport's `hostname` matched against the cluster's nodes
/// (the same name, or the same first label of a fully qualified one).
pub fn match_node(host: &str, nodes: &[String]) -> String {
    let host = host.trim();
    if let Some(n) = nodes.iter().find(|n| n.as_str() == host) {
        return n.clone();
    }
    let short = host.split('.').next().unwrap_or(host);
    nodes
        .iter()
        .find(|n| n.split('.').next() == Some(short))
        .cloned()
        .unwrap_or_else(|| host.to_string())
}

/// Container names of each pod (`namespace/pod` → names), for telling a container called
/// `x-previous` from the previous instance of `x`.
pub type Containers = HashMap<String, Vec<String>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_locate_real_lines() {
        let o = Origin::Lines(vec![
            Segment {
                first: 1,
                count: 1,
                file: Arc::from("a.json"),
                line: 1,
                exact: false,
            },
            Segment {
                first: 2,
                count: 3,
                file: Arc::from("b.json"),
                line: 10,
                exact: true,
            },
            Segment {
                first: 6,
                count: 4,
                file: Arc::from("c.json"),
                line: 7,
                exact: false,
            },
        ]);
        assert_eq!(o.locate(1), (Arc::from("a.json"), 1));
        assert_eq!(o.locate(3), (Arc::from("b.json"), 11));
        assert_eq!(o.locate(5), (Arc::from("b.json"), 12));
        assert_eq!(o.locate(8), (Arc::from("c.json"), 7));
    }

    #[test]
    fn links_resolve_inside_only() {
        assert_eq!(join_inside(&["a", "b"], "../c/d"), Some("a/c/d".into()));
        assert_eq!(join_inside(&["a"], "../../etc/passwd"), None);
        assert_eq!(join_inside(&["a"], "/etc/passwd"), None);
    }

    #[test]
    fn hosts_match_nodes() {
        let nodes = vec!["node-1".to_string(), "cp.example.com".to_string()];
        assert_eq!(match_node("node-1\n", &nodes), "node-1");
        assert_eq!(match_node("cp", &nodes), "cp.example.com");
        assert_eq!(match_node("other", &nodes), "other");
    }
}
