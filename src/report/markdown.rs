//! `--format markdown`: a report to paste into a ticket or a post-incident review.

use super::{Options, Report, plural};
use crate::model::{CheckResult, Status};
use crate::sanitize::{escape, escape_lines};
use std::io::{self, Write};

/// The report with the default options.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_with(report, &Options::default(), out)
}

pub fn write_with(report: &Report, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let b = &report.bundle;
    let s = &report.summary;
    writeln!(out, "# kubetriage report: {}\n", inline(&b.source))?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(out, "| bundle | {} ({}) |", cell(&b.source), b.format)?;
    writeln!(out, "| platform | {} |", cell(&b.platform))?;
    if !b.layout.is_empty() && b.layout != "kubetriage" {
        writeln!(
            out,
            "| written by | {} |",
            cell(&format!("{} bundle", b.layout))
        )?;
    }
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
        "| checks | {} with findings, {} passed, {} not evaluated, {} not applicable |",
        s.finding, s.pass, s.not_evaluated, s.not_applicable
    )?;
    writeln!(
        out,
        "| findings | {} critical, {} error, {} warning, {} info |",
        s.critical, s.error, s.warning, s.info
    )?;
    writeln!(out, "| kubetriage | {} |", report.version)?;
    for w in &b.warnings {
        writeln!(out, "\n> **Warning:** {}", inline(w))?;
    }
    let problems: Vec<_> = report.collection_problems().collect();
    if !problems.is_empty() {
        writeln!(
            out,
            "\n## Collection failures ({})\n\n| source | status | detail |\n|---|---|---|",
            problems.len()
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
        check_findings(c, opts, out)?;
    }
    if !any {
        writeln!(out, "\nNo findings.")?;
    }
    tool_verdicts(report, out)?;
    if opts.findings_only {
        return Ok(());
    }
    let not_eval = report.with_status(Status::NotEvaluated);
    if !not_eval.is_empty() {
        writeln!(
            out,
            "\n## Not evaluated ({})\n\n| check | severity | reason |\n|---|---|---|",
            not_eval.len()
        )?;
        for c in not_eval {
            writeln!(out, "| `{}` | {} | {} |", c.id, c.severity, cell(&c.reason))?;
        }
    }
    let passed = report.with_status(Status::Pass);
    if !passed.is_empty() {
        writeln!(out, "\n## Passed ({})\n", passed.len())?;
        for c in passed {
            writeln!(out, "- `{}` {}", c.id, inline(&c.title))?;
        }
    }
    let other = report.with_status(Status::NotApplicable);
    if !other.is_empty() {
        writeln!(out, "\n## Not applicable ({})\n", other.len())?;
        for (reason, n) in report.not_applicable_reasons() {
            writeln!(out, "- {}: {}", plural(n, "check"), inline(reason))?;
        }
    }
    Ok(())
}

fn check_findings(c: &CheckResult, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "\n### {} `{}`: {}",
        c.severity.as_str().to_uppercase(),
        c.id,
        inline(&c.title)
    )?;
    let spec = opts.catalog.and_then(|cat| cat.get(&c.id));
    let n = c.findings.len();
    for (remediation, members) in super::text::by_remediation(c) {
        for (i, f) in &members {
            let label = if n > 1 {
                format!("Finding {} of {n}", i + 1)
            } else {
                "Finding".to_string()
            };
            writeln!(
                out,
                "\n**{label} ({}):** {}",
                f.severity,
                prose_inline(&f.summary)
            )?;
            if !f.detail.is_empty() {
                text_blocks(out, &f.detail)?;
            }
            let shown = f.evidence.len();
            let count = if f.occurrences > shown {
                format!(
                    " ({shown} shown of {})",
                    plural(f.occurrences, "occurrence")
                )
            } else if f.occurrences > 1 {
                format!(" ({})", plural(f.occurrences, "occurrence"))
            } else {
                String::new()
            };
            writeln!(out, "\nEvidence{count}:\n")?;
            for e in &f.evidence {
                let range = if e.end_line > e.line {
                    format!("{}-{}", e.line, e.end_line)
                } else {
                    e.line.to_string()
                };
                let first = escape_lines(&e.excerpt);
                let first = first.lines().next().unwrap_or("").trim();
                let focus = crate::excerpt::focus(first, spec);
                let short = crate::excerpt::shorten(first, opts.width.max(40), focus);
                writeln!(
                    out,
                    "- {}: {}",
                    code_span(&format!("{}:{range}", escape(&e.file))),
                    code_span(&short)
                )?;
            }
        }
        if !remediation.is_empty() {
            if members.len() > 1 {
                let which: Vec<String> = members.iter().map(|(i, _)| (i + 1).to_string()).collect();
                writeln!(out, "\n**What to do** (findings {}):", which.join(", "))?;
            } else {
                writeln!(out, "\n**What to do:**")?;
            }
            text_blocks(out, remediation)?;
        }
    }
    if let Some(s) = spec {
        let r = crate::reference::of(&s.spec.docs);
        match &r.url {
            Some(u) => writeln!(out, "\nReference: [{}]({u})", prose_inline(&r.section))?,
            None => writeln!(out, "\nReference: {}", prose_inline(&r.line()))?,
        }
    }
    Ok(())
}

/// Sentences as paragraphs (list items as Markdown list items), commands and YAML in fenced
/// blocks, as `prose` tells them apart.
fn text_blocks(out: &mut dyn Write, text: &str) -> io::Result<()> {
    let mut last_was_item = false;
    for b in crate::prose::blocks(text) {
        match b {
            crate::prose::Block::Blank => {}
            crate::prose::Block::Para { indent, hang, text } => {
                let item = hang > indent;
                if !(item && last_was_item) {
                    writeln!(out)?;
                }
                writeln!(out, "{}", prose_inline(&text))?;
                last_was_item = item;
            }
            crate::prose::Block::Code { lines } => {
                let strip = lines
                    .iter()
                    .map(|l| l.len() - l.trim_start().len())
                    .min()
                    .unwrap_or(0);
                let body: Vec<&str> = lines.iter().map(|l| &l[strip.min(l.len())..]).collect();
                let lang = if body.iter().any(|l| crate::prose::yaml_like(l)) {
                    "yaml"
                } else {
                    "sh"
                };
                writeln!(out)?;
                fenced(out, &body.join("\n"), "", lang)?;
                last_was_item = false;
            }
        }
    }
    Ok(())
}

/// Prose from a template: escaped for the terminal, on one line, with `<` escaped so that
/// placeholders such as `<routable address>` are not taken for HTML.
fn prose_inline(s: &str) -> String {
    inline(s).replace('<', "\\<")
}

/// An inline code span that holds `s` whatever backticks it contains.
fn code_span(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{}{pad}{ticks}", s.replace('\n', " "))
}

/// A code block whose fence is longer than any backtick run inside it.
fn fenced(out: &mut dyn Write, text: &str, pad: &str, lang: &str) -> io::Result<()> {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{pad}{fence}{lang}")?;
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

/// Another tool's own results carried by the bundle (troubleshoot's `analysis.json`), labelled
/// as that tool's.
fn tool_verdicts(report: &Report, out: &mut dyn Write) -> io::Result<()> {
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
