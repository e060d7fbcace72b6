//! The plain-text report, for a terminal without the UI, a pipe or a ticket. Every string that
//! comes from the bundle is escaped before it is written.

use super::Report;
use crate::model::Status;
use crate::sanitize::{escape, escape_lines};
use std::io::{self, Write};

/// Bundle problems listed before the rest are summarised by count.
const MAX_PROBLEMS_SHOWN: usize = 10;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let b = &report.bundle;
    let s = &report.summary;
    writeln!(
        out,
        "kubetriage {}: {} ({})",
        report.version,
        escape(&b.source),
        b.format
    )?;
    let mut cluster = vec![format!("mode {}", b.mode)];
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
    writeln!(out, "{}", cluster.join(", "))?;
    writeln!(
        out,
        "{} checks: {} with findings, {} passed, {} not evaluated; findings: {} critical, {} error, {} warning, {} info",
        s.checks, s.finding, s.pass, s.not_evaluated, s.critical, s.error, s.warning, s.info
    )?;
    for w in &b.warnings {
        writeln!(out, "warning: {}", escape(w))?;
    }
    let problems: Vec<_> = report.collection_problems().collect();
    if !problems.is_empty() {
        writeln!(
            out,
            "\nNot collected ({} source(s) in manifest.json):",
            problems.len()
        )?;
        for c in problems {
            writeln!(
                out,
                "  {:<8} {}  {}",
                c.status.as_str(),
                escape(&c.path),
                escape(&c.detail)
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
            writeln!(out, "  {file}: {}", escape(&p.problem))?;
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
        writeln!(out)?;
        writeln!(
            out,
            "{:<8} {}  {}",
            c.severity.as_str().to_uppercase(),
            c.id,
            escape(&c.title)
        )?;
        for f in &c.findings {
            let sev = if f.severity != c.severity {
                format!("[{}] ", f.severity)
            } else {
                String::new()
            };
            writeln!(out, "  * {sev}{}", escape(&f.summary))?;
            if !f.detail.is_empty() {
                writeln!(out, "{}", indent(&escape_lines(&f.detail), 4))?;
            }
            let shown = f.evidence.len();
            let more = if f.occurrences > shown {
                format!(", {} shown of {}", shown, f.occurrences)
            } else {
                String::new()
            };
            writeln!(out, "    evidence{more}:")?;
            for e in &f.evidence {
                let range = if e.end_line > e.line {
                    format!("{}-{}", e.line, e.end_line)
                } else {
                    e.line.to_string()
                };
                writeln!(out, "      {}:{range}", escape(&e.file))?;
                writeln!(out, "{}", indent(&escape_lines(&e.excerpt), 8))?;
            }
            if !f.remediation.is_empty() {
                writeln!(out, "    what to do:")?;
                writeln!(out, "{}", indent(&escape_lines(&f.remediation), 6))?;
            }
        }
    }
    let not_eval = report.with_status(Status::NotEvaluated);
    if !not_eval.is_empty() {
        writeln!(out, "\nNot evaluated ({}):", not_eval.len())?;
        for c in not_eval {
            writeln!(out, "  {:<40} {}", c.id, escape(&c.reason))?;
        }
    }
    let passed = report.with_status(Status::Pass);
    if !passed.is_empty() {
        writeln!(out, "\nPassed ({}):", passed.len())?;
        for c in passed {
            writeln!(out, "  {:<40} {}", c.id, escape(&c.title))?;
        }
    }
    let other = report.with_status(Status::NotApplicable);
    if !other.is_empty() {
        writeln!(out, "\nNot applicable ({}):", other.len())?;
        for (reason, n) in report.not_applicable_reasons() {
            writeln!(out, "  {n} checks: {}", escape(reason))?;
        }
    }
    if !report.tool_verdicts.is_empty() {
        let tool = &report.tool_verdicts[0].tool;
        writeln!(
            out,
            "\n{}'s own verdicts ({}, not kubetriage's):",
            escape(tool),
            report.tool_verdicts.len()
        )?;
        for v in &report.tool_verdicts {
            writeln!(
                out,
                "  {:<8} {}  {}  ({}:{})",
                escape(&v.severity),
                escape(&v.title),
                escape(&v.message),
                escape(&v.file),
                v.line
            )?;
        }
    }
    Ok(())
}

fn indent(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
