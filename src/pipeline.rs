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
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

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
    pub bundle: Bundle,
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
    progress.phase.store(PHASE_OPENING, Ordering::Relaxed);
    let inputs: Vec<std::path::PathBuf> = std::iter::once(config.bundle.clone())
        .chain(config.more.iter().cloned())
        .collect();
    let bundle = Bundle::open_many(&inputs, &config.limits, Some(&progress.open))?;
    if progress.open.cancel.load(Ordering::Relaxed) {
        anyhow::bail!("the analysis was cancelled");
    }
    progress.phase.store(PHASE_CHECKING, Ordering::Relaxed);
    let (manifest, report) = {
        let facts = Facts::with_tuning(&bundle, config.tuning);
        let results = engine::run_with_progress(cat, &facts, Some(&progress.scan));
        (
            facts.manifest().cloned(),
            Report::new(&bundle, &facts, results),
        )
    };
    if progress.scan.cancel.load(Ordering::Relaxed) {
        // Files the scan stopped reading would look unreadable: these results are not real.
        anyhow::bail!("the analysis was cancelled");
    }
    progress.phase.store(PHASE_DONE, Ordering::Relaxed);
    Ok(Analysis {
        bundle,
        manifest,
        report,
    })
}
