//! The analysis pipeline, below both the command line and the terminal UI: open the bundle,
//! parse facts, run the catalog, build the report. It prints nothing and knows no terminal.

use crate::bundle::{Bundle, OpenProgress, Unpacked, Unpacking};
use crate::cli::Config;
use crate::engine;
use crate::facts::{EarlyLists, Facts};
use crate::manifest::Manifest;
use crate::report::Report;
use crate::scan::ScanProgress;
use crate::spec::{Catalog, SpecError};
use crate::timeline::{self, Timeline};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// The catalog compiled in, or with the spec files of `analyzers` added, bound to the built-in
/// functions (see [`crate::checks::validate`]).
pub fn load_catalog(analyzers: Option<&Path>) -> Result<Catalog, SpecError> {
    let cat = match analyzers {
        Some(dir) => Catalog::with_overrides(dir)?,
        None => Catalog::embedded()?,
    };
    crate::checks::validate(&cat, analyzers.is_none())?;
    Ok(cat)
}

/// Opens the bundle and runs the catalog over it.
pub fn analyze(config: &Config, cat: &Catalog) -> anyhow::Result<Report> {
    Ok(analyze_bundle(config, cat, &Progress::default())?.report)
}

/// Like [`analyze_bundle`], for a process that ends once the report is written: the parsed
/// facts (every kubectl list of the bundle) are left to the end of the process rather than
/// freed piece by piece, which takes hundreds of milliseconds on a big bundle. Finish with
/// [`Analysis::leave`].
pub fn analyze_to_exit(config: &Config, cat: &Catalog) -> anyhow::Result<Analysis> {
    run(config, cat, &Progress::default(), Keep::UntilExit)
}

/// A bundle analyzed and kept open: the terminal UI reads evidence files from it (an archive
/// stays unpacked in its private folder) for as long as the `Analysis` lives.
#[derive(Debug)]
pub struct Analysis {
    /// Shared with the timeline's reading, which goes on after the analysis is handed over.
    pub bundle: Arc<Bundle>,
    /// The collector's records, for per-file status (failed, redacted, bounded).
    pub manifest: Option<Manifest>,
    pub report: Report,
}

impl Analysis {
    /// For a process that is about to end, once the report is written and flushed: removes the
    /// private folder an archive was unpacked into, and leaves everything else to the end of
    /// the process instead of freeing it.
    pub fn leave(self) {
        self.bundle.remove_unpacked();
        std::mem::forget(self);
    }

    /// [`Analysis::leave`] for an analysis that was shared (the terminal UI's): other holders
    /// may still be running, but the process ends anyway.
    pub fn leave_shared(this: std::sync::Arc<Analysis>) {
        this.bundle.remove_unpacked();
        std::mem::forget(this);
    }
}

/// What becomes of the parsed facts once the report is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Freed at once: the caller goes on (the terminal UI, a library user, tests).
    Free,
    /// Left to the end of the process.
    UntilExit,
}

/// How far a run has come, for a UI that shows itself before the analysis ends.
/// Only read for display: it never changes what the analysis finds.
#[derive(Debug, Default)]
pub struct Progress {
    /// One of the `PHASE_*` values.
    pub phase: AtomicU8,
    /// Unpacking an archive: bytes read so far, and a way to stop it.
    pub open: OpenProgress,
    /// Scanning the text files.
    pub scan: ScanProgress,
    /// Stops building the timeline (the UI is closing).
    pub timeline_cancel: AtomicBool,
}

pub const PHASE_OPENING: u8 = 0;
pub const PHASE_CHECKING: u8 = 1;
pub const PHASE_DONE: u8 = 2;

/// Opens the inputs on a thread of their own; each file an archive yields is scanned as soon as
/// it is whole, while the rest inflates (the scan pass then takes those results, see
/// [`crate::scan::EarlyScan`]). A folder is only opened here: its files are all there already.
fn open_scanning(
    config: &Config,
    cat: &Catalog,
    inputs: &[std::path::PathBuf],
    progress: &Progress,
    lists: &EarlyLists,
) -> Result<Bundle, crate::bundle::OpenError> {
    let slow_path = config.tuning.slow_path;
    let (tx, rx) = std::sync::mpsc::channel::<Unpacked>();
    /// Hands each whole file to the scan, and the large lists' bytes to their readers.
    struct Tell<'a> {
        tx: std::sync::Mutex<std::sync::mpsc::Sender<Unpacked>>,
        lists: &'a EarlyLists,
        /// Lists above this size are read as they inflate (none on the slow path).
        above: Option<u64>,
    }
    impl Unpacking for Tell<'_> {
        fn copy_to(&self, entry: &str, size: u64) -> Option<Box<dyn std::io::Write + Send>> {
            let read = crate::cluster::typed_reader(entry)?;
            if size <= self.above? {
                return None;
            }
            self.lists.copy_to(entry, size, read)
        }
        fn unpacked(&self, u: Unpacked) {
            self.lists.unpacked(&u.entry, &u.disk);
            // The receiver outlives the opener: a send cannot fail.
            if let Ok(tx) = self.tx.lock() {
                let _ = tx.send(u);
            }
        }
    }
    let tell = Tell {
        tx: std::sync::Mutex::new(tx),
        lists,
        above: (!slow_path).then(|| {
            config
                .tuning
                .stream_lists_above
                .unwrap_or(crate::facts::STREAM_LISTS_ABOVE)
        }),
    };
    std::thread::scope(|s| {
        let opener = s.spawn(|| {
            let got =
                Bundle::open_streaming(inputs, &config.limits, Some(&progress.open), Some(&tell));
            // Ends the scan below.
            drop(tell);
            got
        });
        rayon::in_place_scope(|pool| {
            for u in rx {
                pool.spawn(move |_| {
                    if !progress.scan.cancel.load(Ordering::Relaxed) {
                        progress.scan.early.file(cat, slow_path, &u.entry, &u.disk);
                    }
                });
            }
        });
        opener
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Opens the bundle, runs the catalog over it, and keeps the bundle open with the report.
pub fn analyze_bundle(
    config: &Config,
    cat: &Catalog,
    progress: &Progress,
) -> anyhow::Result<Analysis> {
    run(config, cat, progress, Keep::Free)
}

fn run(
    config: &Config,
    cat: &Catalog,
    progress: &Progress,
    keep: Keep,
) -> anyhow::Result<Analysis> {
    let mut out = None;
    analyze_keeping(config, cat, progress, keep, |a| {
        out = Some(a);
        false
    });
    out.unwrap_or_else(|| Err(anyhow::anyhow!("the analysis stopped unexpectedly")))
}

/// Opens the bundle, runs the catalog, and hands the analysis to `deliver` at once; when
/// `deliver` returns true (a UI that shows the timeline), then builds the timeline from the
/// same parsed facts (the kubectl lists are not parsed twice) and returns it. `None` when it
/// was not wanted, the analysis failed, or `progress.timeline_cancel` stopped it.
pub fn analyze_then_timeline(
    config: &Config,
    cat: &Catalog,
    progress: &Progress,
    deliver: impl FnOnce(anyhow::Result<Analysis>) -> bool,
) -> Option<Timeline> {
    analyze_keeping(config, cat, progress, Keep::Free, deliver)
}

fn analyze_keeping(
    config: &Config,
    cat: &Catalog,
    progress: &Progress,
    keep: Keep,
    deliver: impl FnOnce(anyhow::Result<Analysis>) -> bool,
) -> Option<Timeline> {
    progress.phase.store(PHASE_OPENING, Ordering::Relaxed);
    let inputs: Vec<std::path::PathBuf> = std::iter::once(config.bundle.clone())
        .chain(config.more.iter().cloned())
        .collect();
    let lists = Arc::new(EarlyLists::default());
    let bundle = match open_scanning(config, cat, &inputs, progress, &lists) {
        Ok(b) => Arc::new(b),
        Err(e) => {
            deliver(Err(e.into()));
            return None;
        }
    };
    if progress.open.cancel.load(Ordering::Relaxed) {
        deliver(Err(anyhow::anyhow!("the analysis was cancelled")));
        return None;
    }
    progress.phase.store(PHASE_CHECKING, Ordering::Relaxed);
    let facts = Facts::with_tuning(&bundle, config.tuning).with_early(Arc::clone(&lists));
    let results = engine::run_with_progress(cat, &facts, Some(&progress.scan));
    lists.forget();
    let manifest = facts.manifest().cloned();
    let report = Report::new(&bundle, &facts, results);
    if progress.scan.cancel.load(Ordering::Relaxed) {
        // Files the scan stopped reading would look unreadable: these results are not real.
        deliver(Err(anyhow::anyhow!("the analysis was cancelled")));
        return None;
    }
    progress.phase.store(PHASE_DONE, Ordering::Relaxed);
    let checks = report.checks.clone();
    let wanted = deliver(Ok(Analysis {
        bundle: bundle.clone(),
        manifest,
        report,
    }));
    if !wanted {
        if keep == Keep::UntilExit {
            // Freeing every parsed list takes hundreds of milliseconds the process does not need.
            std::mem::forget(facts);
        }
        return None;
    }
    let tl = timeline::build_with(
        &facts,
        &checks,
        &timeline::Filter::default(),
        Some(&progress.timeline_cancel),
    );
    (!progress.timeline_cancel.load(Ordering::Relaxed)).then_some(tl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{FailOn, Format};
    use std::path::PathBuf;

    fn config(bundle: PathBuf) -> Config {
        Config {
            bundle,
            more: Vec::new(),
            format: Format::Json,
            fail_on: FailOn::Never,
            analyzers: None,
            limits: crate::bundle::Limits::default(),
            threads: None,
            tuning: crate::facts::Tuning::default(),
        }
    }

    fn json(report: &Report) -> serde_json::Value {
        let mut out = Vec::new();
        crate::report::json::write(report, &mut out).unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        v["bundle"]["source"] = serde_json::Value::Null;
        v["bundle"]["format"] = serde_json::Value::Null;
        v
    }

    /// A tar.gz of `entries` (path, bytes) in this order.
    fn archive(path: &Path, entries: &[(&str, &[u8])]) {
        let f = std::fs::File::create(path).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, bytes) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *bytes).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap();
    }

    const MANIFEST: &[u8] =
        br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#;
    const LOOP: &[u8] = b"[FATAL] plugin/loop: Loop (127.0.0.1:41093 -> :53) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO 4547991504243258144.3688648895315093531.\"\n";
    const FINE: &[u8] = b"[INFO] plugin/reload: Running configuration SHA512 = 591cf3\n";
    const LOG: &str = "b/kubectl/logs/kube-system/coredns-5d78c9869d-8xk2p/coredns.log";

    fn coredns_findings(a: &Analysis) -> usize {
        a.report
            .checks
            .iter()
            .find(|c| c.id == "kubeadm/coredns-loop")
            .map_or(0, |c| c.findings.len())
    }

    #[test]
    fn an_archive_is_scanned_while_it_inflates_with_the_folders_results() {
        let cat = load_catalog(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tgz = dir.path().join("b.tar.gz");
        archive(&tgz, &[("b/manifest.json", MANIFEST), (LOG, LOOP)]);
        let progress = Progress::default();
        let from_archive = analyze_bundle(&config(tgz), &cat, &progress).unwrap();
        assert_eq!(progress.scan.early.used(), 1, "the log was scanned early");
        let folder = dir.path().join("f/b");
        let log = folder.join(LOG.strip_prefix("b/").unwrap());
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        std::fs::write(folder.join("manifest.json"), MANIFEST).unwrap();
        std::fs::write(&log, LOOP).unwrap();
        let from_folder = analyze_bundle(&config(folder), &cat, &Progress::default()).unwrap();
        assert_eq!(json(&from_archive.report), json(&from_folder.report));
        assert!(coredns_findings(&from_archive) > 0);
    }

    #[test]
    fn a_large_list_is_read_while_the_archive_inflates_as_the_folder_reads_it() {
        let cat = load_catalog(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pods = br#"{"apiVersion": "v1", "kind": "List", "items": [
  {"metadata": {"namespace": "shop", "name": "web-1", "ownerReferences": [{"kind": "ReplicaSet", "name": "web-6d4b9c", "controller": true}]},
   "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "shop/web:1.2"}]},
   "status": {"phase": "Running", "containerStatuses": [{"name": "app", "restartCount": 9, "ready": false,
     "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-20T10:10:00Z"}},
     "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}}}]}}
]}
"#;
        let mut streamed = config(PathBuf::new());
        streamed.tuning.stream_lists_above = Some(0);
        let analyze = |bundle: PathBuf| {
            let config = Config {
                bundle,
                ..streamed.clone()
            };
            json(
                &analyze_bundle(&config, &cat, &Progress::default())
                    .unwrap()
                    .report,
            )
        };
        // (lists taken from the early reads, pods in the list) of an archive
        let early = |tgz: &Path| {
            let lists = EarlyLists::default();
            let inputs = [tgz.to_path_buf()];
            let bundle =
                open_scanning(&streamed, &cat, &inputs, &Progress::default(), &lists).unwrap();
            let facts = Facts::with_tuning(&bundle, streamed.tuning).with_early(Arc::new(lists));
            let doc = facts.list("kubectl/pods.json").unwrap();
            assert!(doc.text.is_on_disk());
            let used = facts.early.as_ref().unwrap().used();
            (used, crate::cluster::pods(&doc).count())
        };
        // Read early, from the archive's bytes, the list gives the folder's answers.
        let tgz = dir.path().join("b.tar.gz");
        archive(
            &tgz,
            &[("b/manifest.json", MANIFEST), ("b/kubectl/pods.json", pods)],
        );
        assert_eq!(early(&tgz), (1, 1), "read while inflating");
        let folder = dir.path().join("f/b");
        std::fs::create_dir_all(folder.join("kubectl")).unwrap();
        std::fs::write(folder.join("manifest.json"), MANIFEST).unwrap();
        std::fs::write(folder.join("kubectl/pods.json"), pods).unwrap();
        let from_folder = analyze(folder);
        assert_eq!(analyze(tgz), from_folder);
        assert!(
            from_folder.to_string().contains("web-1"),
            "the crash loop is found"
        );
        // Unpacked twice, the list is read again from its last copy.
        let twice = dir.path().join("twice.tar.gz");
        archive(
            &twice,
            &[
                ("b/manifest.json", MANIFEST),
                ("b/kubectl/pods.json", b"{\"items\": []}"),
                ("b/kubectl/pods.json", pods),
            ],
        );
        assert_eq!(early(&twice), (0, 1), "read again");
        assert_eq!(analyze(twice), from_folder);
    }

    #[test]
    fn a_path_unpacked_twice_is_read_as_its_last_copy() {
        let cat = load_catalog(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (first, last, found) in [(LOOP, FINE, false), (FINE, LOOP, true)] {
            let tgz = dir.path().join("b.tar.gz");
            archive(
                &tgz,
                &[("b/manifest.json", MANIFEST), (LOG, first), (LOG, last)],
            );
            let progress = Progress::default();
            let a = analyze_bundle(&config(tgz), &cat, &progress).unwrap();
            assert_eq!(progress.scan.early.used(), 0, "scanned again, not early");
            assert_eq!(coredns_findings(&a) > 0, found);
        }
    }
}
