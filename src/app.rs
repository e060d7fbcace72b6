//! The program: arguments → config → the analysis pipeline → report or terminal UI, and the
//! exit code.

use crate::cli::{Args, Command, EXIT_CLEAN, EXIT_ERROR, Format, exit_code};
use crate::pipeline::{self, analyze};
use crate::report;
use crate::spec::Catalog;
use clap::Parser;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

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
    Ok(pipeline::load_catalog(analyzers)?)
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
        Some(Command::CheckSpec { dir, bundle }) => {
            return check_spec(args, dir, bundle.as_deref(), &mut out);
        }
        Some(Command::Collector) => {
            out.write_all(crate::collector::SCRIPT.as_bytes())?;
            out.flush()?;
            return Ok(EXIT_CLEAN);
        }
        Some(Command::Timeline(t)) => {
            let cat = catalog(t.analyzers.as_deref())?;
            crate::timeline_report::run(t, &cat, &mut out)?;
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
    if config.format == Format::Html {
        // The bundle stays open while the page is written: log messages are read from it.
        let (report, tl, _bundle) = crate::timeline_report::analyze(&config, &cat)?;
        report::html::write(
            &report,
            &tl,
            &tl.entries.iter().collect::<Vec<_>>(),
            &cat,
            &mut out,
        )?;
        out.flush()?;
        return Ok(exit_code(&report, config.fail_on));
    }
    let analysis = pipeline::analyze_to_exit(&config, &cat)?;
    let report = &analysis.report;
    let opts = args.report_options(Some(&cat));
    let written = match config.format {
        Format::Html => unreachable!("written above"),
        Format::Text | Format::Tui => report::text::write_with(report, &opts, &mut out),
        Format::Json => report::json::write(report, &mut out),
        Format::Markdown => report::markdown::write_with(report, &opts, &mut out),
    }
    .and_then(|()| out.flush());
    // A reader that stops early (`| head`) does not change the verdict: the exit code depends
    // only on the findings, however much of the report the pipe took.
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    let code = exit_code(report, config.fail_on);
    // Written and flushed: the process ends now, so nothing more is freed (the unpacked
    // archive's private folder is still removed).
    drop(out);
    analysis.leave();
    Ok(code)
}

/// `kubetriage check-spec DIR [BUNDLE]`: every spec of DIR checked (all errors listed, each with
/// its file and line), then, with a bundle, those checks run on it.
fn check_spec(
    args: &Args,
    dir: &Path,
    bundle: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let (checks, mut errors) = Catalog::compile_dir(dir);
    if checks.is_empty() && errors.is_empty() {
        anyhow::bail!("{}: no .yaml spec files in this folder", dir.display());
    }
    if errors.is_empty()
        && let Err(e) = pipeline::load_catalog(Some(dir))
    {
        errors.push(e);
    }
    for c in &checks {
        if !errors.iter().any(|e| e.file == c.origin) {
            writeln!(out, "ok     {}  {}", c.origin, c.spec.id)?;
        }
    }
    for e in &errors {
        writeln!(out, "error  {e}")?;
    }
    if !errors.is_empty() {
        out.flush()?;
        return Ok(EXIT_ERROR);
    }
    let Some(bundle) = bundle else {
        out.flush()?;
        return Ok(EXIT_CLEAN);
    };
    let mut config = args.config(bundle.to_path_buf());
    config.analyzers = Some(dir.to_path_buf());
    let cat = catalog(Some(dir))?;
    let mut report = analyze(&config, &cat)?;
    let ids: Vec<&str> = checks.iter().map(|c| c.spec.id.as_str()).collect();
    report.retain_checks(&ids);
    writeln!(out)?;
    report::text::write(&report, out)?;
    out.flush()?;
    Ok(exit_code(&report, config.fail_on))
}

fn explain(c: &crate::spec::Check, out: &mut dyn Write) -> io::Result<()> {
    let s = &c.spec;
    writeln!(out, "{}  ({})", s.id, s.severity)?;
    for row in crate::prose::wrap(&s.title, 80, 0, 0) {
        writeln!(out, "{row}")?;
    }
    writeln!(out)?;
    for (row, _) in crate::prose::layout(s.explanation.trim_end(), 80, 0) {
        writeln!(out, "{}", row.trim_end())?;
    }
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
            // Prose re-flows at 80 columns; commands stay whole on their rows.
            // `{{` is how a template writes a literal brace.
            for (row, _) in crate::prose::layout(&t.trim_end().replace("{{", "{"), 80, 0) {
                writeln!(out, "{}", row.trim_end())?;
            }
        }
    }
    if !s.not_evaluated.is_empty() {
        writeln!(out, "\nNot evaluated when:")?;
        let own = s
            .not_evaluated
            .all()
            .filter(|(v, _)| !c.inherited.contains(&format!("not_evaluated.{v}")));
        for (variant, t) in own {
            let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let t = if s.not_evaluated.variants.is_empty() {
                t
            } else {
                format!("[{variant}] {t}")
            };
            for line in crate::prose::wrap(&t, 80, 2, 4) {
                writeln!(out, "{line}")?;
            }
        }
    }
    if !s.docs.is_empty() {
        writeln!(
            out,
            "
Reference: {}",
            crate::reference::of(&s.docs).line()
        )?;
    }
    writeln!(out, "Logic: {:?} (from {})", c.analyzer, c.origin)
}
