//! The analysis pipeline, below both the command line and the terminal UI: open the bundle,
//! parse facts, run the catalog, build the report. It prints nothing and knows no terminal.

use crate::bundle::{Bundle, OpenProgress};
use crate::cli::Config;
use crate::engine;
use crate::facts::Facts;
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

/// Opens the bundle, runs the catalog over it, and keeps the bundle open with the report.
pub fn analyze_bundle(
    config: &Config,
    cat: &Catalog,
    progress: &Progress,
) -> anyhow::Result<Analysis> {
    let mut out = None;
    analyze_then_timeline(config, cat, progress, |a| {
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
    progress.phase.store(PHASE_OPENING, Ordering::Relaxed);
    let inputs: Vec<std::path::PathBuf> = std::iter::once(config.bundle.clone())
        .chain(config.more.iter().cloned())
        .collect();
    let bundle = match Bundle::open_many(&inputs, &config.limits, Some(&progress.open)) {
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
    let facts = Facts::with_tuning(&bundle, config.tuning);
    let results = engine::run_with_progress(cat, &facts, Some(&progress.scan));
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
