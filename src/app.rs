//! The program: arguments → config → bundle → facts → checks → report, and the exit code.

use crate::bundle::{Bundle, OpenProgress};
use crate::cli::{Args, Command, Config, FailOn, Format};
use crate::engine;
use crate::facts::Facts;
use crate::manifest::Manifest;
use crate::report::{self, Report};
use crate::scan::ScanProgress;
use crate::spec::Catalog;
use clap::Parser;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

/// Exit codes, as ripgrep and friends use them.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_CLEAN),
        Err(e) => {
            eprintln!("kubetriage: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn catalog(analyzers: Option<&Path>) -> anyhow::Result<Catalog> {
    let cat = match analyzers {
        Some(dir) => Catalog::with_overrides(dir)?,
        None => Catalog::embedded()?,
    };
    crate::checks::validate(&cat, analyzers.is_none())?;
    Ok(cat)
}

fn run(args: &Args) -> anyhow::Result<u8> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match &args.command {
        Some(Command::Checks { analyzers }) => {
            let cat = catalog(analyzers.as_deref())?;
            for c in &cat.checks {
                let implemented = !matches!(c.analyzer, crate::spec::Analyzer::NotImplemented);
                writeln!(
                    out,
                    "{:<42} {:<8} {}{}",
                    c.spec.id,
                    c.spec.severity.as_str(),
                    c.spec.title,
                    if implemented {
                        ""
                    } else {
                        "  (not implemented yet)"
                    }
                )?;
            }
            out.flush()?;
            return Ok(EXIT_CLEAN);
        }
        Some(Command::Explain { id, analyzers }) => {
            let cat = catalog(analyzers.as_deref())?;
            let Some(c) = cat.get(id) else {
                anyhow::bail!("no check has the id {id:?}; `kubetriage checks` lists them");
            };
            explain(c, &mut out)?;
            out.flush()?;
            return Ok(EXIT_CLEAN);
        }
        Some(Command::Collector) => {
            out.write_all(crate::collector::SCRIPT.as_bytes())?;
            out.flush()?;
            return Ok(EXIT_CLEAN);
        }
        None => {}
    }
    let Some(bundle) = &args.bundle else {
        anyhow::bail!(
            "no bundle given: run `kubetriage BUNDLE` with a bundle folder, .tar.gz or .tar (see --help)"
        );
    };
    let config = args.config(bundle.clone());
    if let Some(n) = config.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    let cat = catalog(config.analyzers.as_deref())?;
    if config.format == Format::Tui {
        drop(out);
        return crate::tui::run_terminal(&config, cat);
    }
    let report = analyze(&config, &cat)?;
    match config.format {
        Format::Text | Format::Tui => report::text::write(&report, &mut out)?,
        Format::Json => report::json::write(&report, &mut out)?,
        Format::Markdown => report::markdown::write(&report, &mut out)?,
    }
    out.flush()?;
    Ok(exit_code(&report, config.fail_on))
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
    let bundle = Bundle::open_with_progress(&config.bundle, &config.limits, Some(&progress.open))?;
    if progress.open.cancel.load(Ordering::Relaxed) {
        anyhow::bail!("the analysis was cancelled");
    }
    progress.phase.store(PHASE_CHECKING, Ordering::Relaxed);
    let (manifest, report) = {
        let facts = Facts::new(&bundle);
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

pub fn exit_code(report: &Report, fail_on: FailOn) -> u8 {
    match (fail_on, report.worst()) {
        (FailOn::At(threshold), Some(worst)) if worst.at_least(threshold) => EXIT_FINDINGS,
        _ => EXIT_CLEAN,
    }
}

fn explain(c: &crate::spec::Check, out: &mut dyn Write) -> io::Result<()> {
    let s = &c.spec;
    writeln!(out, "{}  ({})\n{}\n", s.id, s.severity, s.title)?;
    writeln!(out, "{}", s.explanation.trim_end())?;
    if !s.reads.is_empty() {
        writeln!(out, "\nReads:")?;
        for r in &s.reads {
            writeln!(out, "  {r}")?;
        }
    }
    if !c.scans.is_empty() {
        writeln!(out, "\nLooks for lines matching:")?;
        for sc in &c.scans {
            writeln!(
                out,
                "  {}: {}  in {}",
                sc.name,
                sc.regex.as_str(),
                sc.file_globs.join(", ")
            )?;
        }
    }
    if !s.remediation.is_empty() {
        writeln!(out, "\nRemediation (names are filled in from the bundle):")?;
        for (variant, t) in s.remediation.all() {
            if !s.remediation.variants.is_empty() {
                writeln!(out, "[{variant}]")?;
            }
            writeln!(out, "{}", t.trim_end())?;
        }
    }
    if !s.docs.is_empty() {
        writeln!(out, "\nReference: {}", s.docs.cite())?;
    }
    writeln!(out, "Logic: {:?} (from {})", c.analyzer, c.origin)
}
