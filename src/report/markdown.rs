//! `--format markdown`: a report to paste into a ticket or a post-incident review.

use super::Report;
use crate::model::Status;
use crate::sanitize::{escape, escape_lines};
use std::io::{self, Write};

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let b = &report.bundle;
    let s = &report.summary;
    writeln!(out, "# kubetriage report: {}\n", inline(&b.source))?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(out, "| bundle | {} ({}) |", cell(&b.source), b.format)?;
    writeln!(out, "| mode | {} |", b.mode)?;
    if let Some(n) = &b.cluster.name {
        writeln!(out, "| cluster | {} |", cell(n))?;
    }
    if let Some(p) = &b.cluster.project {
        writeln!(out, "| project | {} |", cell(p))?;
    }
    writeln!(
        out,
        "| collected | {} |",
        b.created.as_deref().unwrap_or("unknown")
    )?;
    writeln!(
        out,
        "| checks | {} with findings ({} critical, {} error, {} warning, {} info), {} passed, {} not evaluated |",
        s.finding, s.critical, s.error, s.warning, s.info, s.pass, s.not_evaluated
    )?;
    writeln!(out, "| kubetriage | {} |", report.version)?;
    for w in &b.warnings {
        writeln!(out, "\n> **Warning:** {}", inline(w))?;
    }
    let problems: Vec<_> = report.collection_problems().collect();
    if !problems.is_empty() {
        writeln!(
            out,
            "\n## Not collected\n\n| source | status | detail |\n|---|---|---|"
        )?;
        for c in problems {
            writeln!(
                out,
                "| `{}` | {} | {} |",
                code(&c.path),
                c.status.as_str(),
                cell(&c.detail)
            )?;
        }
    }
    if !b.problems.is_empty() {
        writeln!(out, "\n## Bundle problems\n")?;
        for p in &b.problems {
            writeln!(out, "- `{}`: {}", code(&p.file), inline(&p.problem))?;
        }
    }
    writeln!(out, "\n## Findings")?;
    let mut any = false;
    for c in report.with_status(Status::Finding) {
        any = true;
        writeln!(
            out,
            "\n### {} `{}`: {}\n",
            c.severity.as_str().to_uppercase(),
            c.id,
            inline(&c.title)
        )?;
        for f in &c.findings {
            writeln!(out, "- **{}** ({})", inline(&f.summary), f.severity)?;
            if !f.detail.is_empty() {
                writeln!(out, "\n  {}", inline(&f.detail))?;
            }
            for e in &f.evidence {
                let range = if e.end_line > e.line {
                    format!("{}-{}", e.line, e.end_line)
                } else {
                    e.line.to_string()
                };
                writeln!(out, "\n  `{}:{range}`\n", code(&e.file))?;
                fenced(out, &e.excerpt, "  ")?;
            }
            if f.occurrences > f.evidence.len() {
                writeln!(
                    out,
                    "\n  ({} occurrences in all, {} shown)",
                    f.occurrences,
                    f.evidence.len()
                )?;
            }
            if !f.remediation.is_empty() {
                writeln!(out, "\n  What to do:\n")?;
                fenced(out, &f.remediation, "  ")?;
            }
        }
    }
    if !any {
        writeln!(out, "\nNo findings.")?;
    }
    let not_eval = report.with_status(Status::NotEvaluated);
    if !not_eval.is_empty() {
        writeln!(out, "\n## Not evaluated\n\n| check | reason |\n|---|---|")?;
        for c in not_eval {
            writeln!(out, "| `{}` | {} |", c.id, cell(&c.reason))?;
        }
    }
    let passed = report.with_status(Status::Pass);
    if !passed.is_empty() {
        writeln!(out, "\n## Passed\n")?;
        for c in passed {
            writeln!(out, "- `{}` {}", c.id, inline(&c.title))?;
        }
    }
    if !report.with_status(Status::NotApplicable).is_empty() {
        writeln!(out, "\n## Not applicable\n")?;
        for (reason, n) in report.not_applicable_reasons() {
            writeln!(out, "- {n} checks: {}", inline(reason))?;
        }
    }
    if !report.tool_verdicts.is_empty() {
        let tool = &report.tool_verdicts[0].tool;
        writeln!(
            out,
            "\n## {}'s own verdicts (not kubetriage's)\n",
            inline(tool)
        )?;
        writeln!(
            out,
            "| severity | verdict | message | where |\n|---|---|---|---|"
        )?;
        for v in &report.tool_verdicts {
            writeln!(
                out,
                "| {} | {} | {} | `{}:{}` |",
                cell(&v.severity),
                cell(&v.title),
                cell(&v.message),
                code(&v.file),
                v.line
            )?;
        }
    }
    Ok(())
}

/// A code block whose fence is longer than any backtick run inside it.
fn fenced(out: &mut dyn Write, text: &str, pad: &str) -> io::Result<()> {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{pad}{fence}text")?;
    for l in escape_lines(text).lines() {
        writeln!(out, "{pad}{l}")?;
    }
    writeln!(out, "{pad}{fence}")
}

fn inline(s: &str) -> String {
    escape(s).replace('\n', " ")
}

fn cell(s: &str) -> String {
    inline(s).replace('|', "\\|")
}

fn code(s: &str) -> String {
    inline(s).replace('`', "'")
}
