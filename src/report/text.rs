//! The plain-text report, for a terminal without the UI, a pipe or a ticket. It fits the width
//! it is given (`--width`): sentences re-flowed, commands broken only where a copy still runs,
//! excerpts shortened around what proves the finding. Every string that comes from the bundle
//! is escaped before it is written.

use super::{Options, Report, plural};
use crate::model::{CheckResult, Finding, Status};
use crate::sanitize::{escape, escape_lines};
use std::io::{self, Write};

/// Bundle problems listed before the rest are summarised by count.
const MAX_PROBLEMS_SHOWN: usize = 10;

/// The report with the default options (80 columns, every check).
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_with(report, &Options::default(), out)
}

pub fn write_with(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let width = opts.width.max(40);
    let b = &report.bundle;
    let s = &report.summary;
    // A long bundle path goes on its own line rather than past the width.
    para(
        out,
        &format!(
            "kubetriage {}: {} ({})",
            report.version,
            escape(&b.source),
            b.format
        ),
        width,
        2,
    )?;
    let mut cluster = vec![escape(&b.kind()).into_owned()];
    if let Some(n) = &b.cluster.name {
        cluster.push(format!("cluster {}", escape(n)));
    }
    if let Some(p) = &b.cluster.project {
        cluster.push(format!("project {}", escape(p)));
    }
    if let Some(l) = &b.cluster.location {
        cluster.push(format!("location {}", escape(l)));
    }
    cluster.push(format!(
        "collected {}",
        b.created.as_deref().unwrap_or("at an unknown time")
    ));
    para(out, &cluster.join(", "), width, 0)?;
    let findings = s.critical + s.error + s.warning + s.info;
    para(
        out,
        &format!(
            "{}: {} with findings, {} passed, {} not evaluated, {} not applicable; {}: {} critical, {} error, {} warning, {} info",
            plural(s.checks, "check"),
            s.finding,
            s.pass,
            s.not_evaluated,
            s.not_applicable,
            plural(findings, "finding"),
            s.critical,
            s.error,
            s.warning,
            s.info
        ),
        width,
        0,
    )?;
    for w in &b.warnings {
        para(out, &format!("warning: {}", escape(w)), width, 9)?;
    }
    let problems: Vec<_> = report.collection_problems().collect();
    if !problems.is_empty() {
        writeln!(
            out,
            "\nCollection failures ({} in manifest.json):",
            plural(problems.len(), "source")
        )?;
        for c in problems {
            para(
                out,
                &format!(
                    "  {:<8} {}  {}",
                    c.status.as_str(),
                    escape(&c.path),
                    escape(&c.detail)
                ),
                width,
                11,
            )?;
        }
    }
    if !b.problems.is_empty() {
        writeln!(out, "\nBundle problems ({}):", b.problems.len())?;
        for p in b.problems.iter().take(MAX_PROBLEMS_SHOWN) {
            let file = if p.file.is_empty() {
                "(archive)".to_string()
            } else {
                escape(&p.file).into_owned()
            };
            para(out, &format!("  {file}: {}", escape(&p.problem)), width, 4)?;
        }
        if b.problems.len() > MAX_PROBLEMS_SHOWN {
            writeln!(
                out,
                "  … and {} more (see --format json)",
                b.problems.len() - MAX_PROBLEMS_SHOWN
            )?;
        }
    }

    for c in report.with_status(Status::Finding) {
        check_findings(c, opts, width, out)?;
    }
    tool_verdicts(report, width, out)?;
    if opts.findings_only {
        return Ok(());
    }
    let not_eval = report.with_status(Status::NotEvaluated);
    if !not_eval.is_empty() {
        writeln!(out, "\nNot evaluated ({}):", not_eval.len())?;
        let id_w = not_eval.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for c in not_eval {
            let line = format!(
                "  {:<8} {:<id_w$}  {}",
                c.severity.as_str(),
                c.id,
                escape(&c.reason)
            );
            if unicode_width::UnicodeWidthStr::width(line.as_str()) <= width {
                writeln!(out, "{line}")?;
            } else {
                // The reason on rows of its own, under the check.
                writeln!(out, "  {:<8} {}", c.severity.as_str(), c.id)?;
                para(out, &format!("           {}", escape(&c.reason)), width, 11)?;
            }
        }
    }
    let passed = report.with_status(Status::Pass);
    if !passed.is_empty() {
        writeln!(out, "\nPassed ({}):", passed.len())?;
        let id_w = passed.iter().map(|c| c.id.len()).max().unwrap_or(0);
        // The title wrapped in its own column: wrapping the whole row would close up the
        // gap after the id.
        let room = width.saturating_sub(4 + id_w).max(20);
        for c in passed {
            let rows = crate::prose::wrap(&escape(&c.title), room, 0, 0);
            for (i, row) in rows.iter().enumerate() {
                let id = if i == 0 { c.id.as_str() } else { "" };
                writeln!(out, "  {id:<id_w$}  {row}")?;
            }
        }
    }
    // Apart from the checks that lacked their data: these were written for another platform.
    let other = report.with_status(Status::NotApplicable);
    if !other.is_empty() {
        writeln!(out, "\nNot applicable ({}):", other.len())?;
        for (reason, n) in report.not_applicable_reasons() {
            para(
                out,
                &format!("  {}: {}", plural(n, "check"), escape(reason)),
                width,
                4,
            )?;
        }
    }
    Ok(())
}

/// Findings that share the same remediation, in the order they first appear: the
/// remediation is printed once, after them.
pub fn by_remediation(c: &CheckResult) -> Vec<(&str, Vec<(usize, &Finding)>)> {
    let mut groups: Vec<(&str, Vec<(usize, &Finding)>)> = Vec::new();
    for (i, f) in c.findings.iter().enumerate() {
        match groups.iter_mut().find(|(r, _)| *r == f.remediation) {
            Some((_, members)) => members.push((i, f)),
            None => groups.push((&f.remediation, vec![(i, f)])),
        }
    }
    groups
}

fn check_findings(
    c: &CheckResult,
    opts: &Options,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{} {}", c.severity.as_str().to_uppercase(), c.id)?;
    para(out, &format!("  {}", escape(&c.title)), width, 2)?;
    let spec = opts.catalog.and_then(|cat| cat.get(&c.id));
    let groups = by_remediation(c);
    let shared = c.findings.len() > 1 && groups.len() < c.findings.len();
    for (remediation, members) in &groups {
        for (_, f) in members {
            let sev = if f.severity != c.severity {
                format!("[{}] ", f.severity)
            } else {
                String::new()
            };
            para(out, &format!("  * {sev}{}", escape(&f.summary)), width, 4)?;
            if !f.detail.is_empty() {
                block(out, &escape_lines(&f.detail), width, 4)?;
            }
            let shown = f.evidence.len();
            if f.occurrences > shown {
                writeln!(
                    out,
                    "    evidence ({shown} shown of {}):",
                    plural(f.occurrences, "occurrence")
                )?;
            } else if f.occurrences > 1 {
                writeln!(
                    out,
                    "    evidence ({}):",
                    plural(f.occurrences, "occurrence")
                )?;
            } else {
                writeln!(out, "    evidence:")?;
            }
            for e in &f.evidence {
                let range = if e.end_line > e.line {
                    format!("{}-{}", e.line, e.end_line)
                } else {
                    e.line.to_string()
                };
                writeln!(out, "      {}:{range}", escape(&e.file))?;
                for l in crate::excerpt::dedent(&escape_lines(&e.excerpt)).lines() {
                    let focus = crate::excerpt::focus(l, spec);
                    let short = crate::excerpt::shorten(l, width.saturating_sub(8), focus);
                    writeln!(out, "        {short}")?;
                }
            }
        }
        if !remediation.is_empty() {
            if shared && members.len() > 1 {
                let which: Vec<String> = members.iter().map(|(i, _)| (i + 1).to_string()).collect();
                writeln!(out, "    what to do (findings {}):", which.join(", "))?;
            } else {
                writeln!(out, "    what to do:")?;
            }
            block(out, &escape_lines(remediation), width, 6)?;
        }
    }
    if let Some(s) = spec {
        let r = crate::reference::of(&s.spec.docs);
        para(out, &format!("    reference: {}", r.line()), width, 6)?;
    }
    Ok(())
}

/// One paragraph at `width` columns, the rows after the first indented `hang` spaces.
fn para(out: &mut dyn Write, text: &str, width: usize, hang: usize) -> io::Result<()> {
    // A line that fits keeps its own spacing (aligned columns).
    if unicode_width::UnicodeWidthStr::width(text) <= width && !text.contains('\n') {
        return writeln!(out, "{}", text.trim_end());
    }
    let indent = text.len() - text.trim_start_matches(' ').len();
    for r in crate::prose::wrap(text.trim_start(), width, indent, hang) {
        writeln!(out, "{}", r.trim_end())?;
    }
    Ok(())
}

/// A text of sentences and commands laid out at `width` columns, `indent` spaces in.
fn block(out: &mut dyn Write, text: &str, width: usize, indent: usize) -> io::Result<()> {
    for (r, _) in crate::prose::layout(text, width, indent) {
        writeln!(out, "{}", r.trim_end())?;
    }
    Ok(())
}

/// Another tool's own results carried by the bundle (troubleshoot's `analysis.json`), labelled
/// as that tool's.
fn tool_verdicts(report: &Report, width: usize, out: &mut dyn Write) -> io::Result<()> {
    if !report.tool_verdicts.is_empty() {
        let tool = &report.tool_verdicts[0].tool;
        writeln!(
            out,
            "\n{}'s own verdicts ({}, not kubetriage's):",
            escape(tool),
            report.tool_verdicts.len()
        )?;
        // One line a verdict while it fits; else its words flow under the title.
        let one_line =
            |s: &str| escape(&s.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned();
        for v in &report.tool_verdicts {
            let title = if v.title.is_empty() {
                &v.name
            } else {
                &v.title
            };
            let head = format!("  {:<8} {}", one_line(&v.severity), one_line(title));
            let tail = format!("{}  ({}:{})", one_line(&v.message), escape(&v.file), v.line);
            let line = format!("{head}  {tail}");
            if unicode_width::UnicodeWidthStr::width(line.as_str()) <= width {
                writeln!(out, "{line}")?;
            } else {
                para(out, &head, width, 11)?;
                para(out, &format!("           {tail}"), width, 11)?;
            }
        }
    }
    Ok(())
}
