//! `--format html`: one self-contained page to attach to an incident document or send to someone
//! without kubetriage — the summary, every finding with its evidence, what to do and where it is
//! documented, what the collector could not get, and the timeline with its histogram.
//!
//! The page loads nothing: its style and script are inline and a Content-Security-Policy of
//! `default-src 'none'` allows exactly those two by hash, so it works offline and from a mail
//! attachment, and text a bundle smuggles in can neither load nor run anything. Every bundle
//! string is HTML-escaped (after the terminal escaping that makes control and bidirectional
//! characters visible). Without JavaScript everything is readable and the findings still fold
//! (`<details>`); with it, the timeline filters and the histogram narrows the timeline.

use super::Report;
use crate::model::{Severity, Status};
use crate::sanitize::{escape, escape_lines};
use crate::spec::Catalog;
use crate::timeline::{Entry, Timeline};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Past this many entries the page keeps the most severe and the cited ones (the histogram
/// still counts every entry); `kubetriage timeline --format json` has them all.
pub const MAX_HTML_ENTRIES: usize = 20_000;
/// Bars of the histogram.
const BUCKETS: usize = 60;

const STYLE: &str = r#"
:root { --crit:#8b0000; --err:#c62828; --warn:#b26a00; --info:#546e7a; --fg:#1b1b1b; --dim:#5f6368; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1200px; padding: 1em 1.5em 4em; }
h1 { font-size: 1.5em; margin: .2em 0 .4em; } h2 { font-size: 1.2em; border-bottom: 1px solid var(--line); padding-bottom: .2em; margin-top: 1.8em; }
h3 { font-size: 1em; margin: .8em 0 .3em; } h4 { font-size: .9em; margin: .8em 0 .2em; color: var(--dim); text-transform: uppercase; letter-spacing: .03em; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: .5em .7em; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: .2em 0 .6em; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: .25em .5em; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--dim); } td { overflow-wrap: anywhere; }
.meta td:first-child { width: 9em; color: var(--dim); }
nav a { margin-right: 1em; } a { color: #0b57d0; }
.sev { display: inline-block; min-width: 5.2em; font-weight: 600; }
.s-critical { color: var(--crit); } .s-error { color: var(--err); } .s-warning { color: var(--warn); } .s-info { color: var(--info); }
.counts span { margin-right: 1.2em; }
details.check { border: 1px solid var(--line); border-left: 5px solid var(--info); border-radius: 4px; margin: .6em 0; padding: .3em .8em; }
details.check.b-critical { border-left-color: var(--crit); } details.check.b-error { border-left-color: var(--err); } details.check.b-warning { border-left-color: var(--warn); }
details.check > summary { cursor: pointer; font-weight: 600; }
.finding { border-top: 1px dashed var(--line); margin-top: .5em; padding-top: .3em; }
.src { color: var(--dim); }
.warnbox { background: #fff8e1; border: 1px solid #f0c36d; padding: .4em .8em; border-radius: 4px; }
svg.hist { width: 100%; height: 130px; display: block; border: 1px solid var(--line); background: #fcfcfc; }
svg.hist rect.h-critical { fill: var(--crit); } svg.hist rect.h-error { fill: var(--err); } svg.hist rect.h-warning { fill: #f0a500; } svg.hist rect.h-info { fill: #b0bec5; }
svg.hist rect.hit { fill: transparent; cursor: pointer; } svg.hist rect.hit:hover { fill: rgba(11,87,208,.12); }
.axis { display: flex; justify-content: space-between; color: var(--dim); font-size: 12px; }
.legend span { margin-right: 1em; } .legend i { display: inline-block; width: .8em; height: .8em; margin-right: .3em; vertical-align: -1px; }
.legend .l-critical { background: var(--crit); } .legend .l-error { background: var(--err); } .legend .l-warning { background: #f0a500; } .legend .l-info { background: #b0bec5; }
table.tl td { padding: .15em .4em; } table.tl td.t, table.tl td.k { white-space: nowrap; } table.tl td.o { overflow-wrap: normal; word-break: break-word; } table.tl tr.cited td:first-child { box-shadow: inset 3px 0 0 #0b57d0; }
table.tl tr.day td { background: #eef2f6; font-weight: 600; }
.controls { margin: .6em 0; display: flex; flex-wrap: wrap; gap: .4em 1em; align-items: center; }
.controls input[type=search] { min-width: 16em; }
[hidden] { display: none !important; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  nav, .controls, svg.hist rect.hit { display: none; }
  details.check, tr { break-inside: avoid; }
  pre { white-space: pre-wrap; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
}
"#;

const SCRIPT: &str = r#"
(function () {
  var $ = function (s) { return document.querySelector(s); };
  var all = function (s) { return Array.prototype.slice.call(document.querySelectorAll(s)); };
  all('.controls').forEach(function (c) { c.hidden = false; });
  var rank = { critical: 0, error: 1, warning: 2, info: 3 };
  var range = null;
  function apply() {
    var min = rank[$('#f-sev').value], q = $('#f-text').value.toLowerCase();
    var cited = $('#f-cited').checked, shown = 0;
    all('#tl tbody tr.e').forEach(function (r) {
      var t = +r.dataset.t;
      var ok = rank[r.dataset.sev] <= min && (!cited || r.classList.contains('cited')) &&
        (!q || r.textContent.toLowerCase().indexOf(q) >= 0) &&
        (!range || (t >= range[0] && t < range[1]));
      r.hidden = !ok; if (ok) shown++;
    });
    all('#tl tbody tr.day').forEach(function (d) {
      var n = d.nextElementSibling, any = false;
      while (n && !n.classList.contains('day')) { if (!n.hidden) { any = true; break; } n = n.nextElementSibling; }
      d.hidden = !any;
    });
    $('#f-count').textContent = shown + ' shown' + (range ? ' (one interval; click it again for all)' : '');
  }
  ['#f-sev', '#f-text', '#f-cited'].forEach(function (s) { $(s).addEventListener('input', apply); });
  all('svg.hist rect.hit').forEach(function (b) {
    b.addEventListener('click', function () {
      var r = [+b.dataset.from, +b.dataset.to];
      range = (range && range[0] === r[0]) ? null : r; apply();
    });
  });
  $('#fold-all').addEventListener('click', function () { all('details.check').forEach(function (d) { d.open = false; }); });
  $('#unfold-all').addEventListener('click', function () { all('details.check').forEach(function (d) { d.open = true; }); });
  window.addEventListener('beforeprint', function () { all('details').forEach(function (d) { d.open = true; }); });
  apply();
})();
"#;

/// HTML-escapes bundle text, after making control and bidirectional characters visible.
fn esc(s: &str) -> String {
    html(&escape(s))
}

/// HTML-escapes multi-line bundle text, keeping its line breaks.
fn esc_lines(s: &str) -> String {
    html(&escape_lines(s))
}

/// Escapes the five characters that matter in HTML text and quoted attributes.
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn csp_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The public page a catalog reference points at (the checks' explanations are our own words;
/// the page is where the facts come from).
fn reference_url(seed: &str) -> Option<&'static str> {
    match seed {
        "000_88f879d7fcaa3a40.txt" => {
            Some("https://cloud.google.com/kubernetes-engine/docs/troubleshooting/authentication")
        }
        "001_a843213bd4746882.txt" => Some(
            "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/",
        ),
        _ => None,
    }
}

/// The check's reference: a link when there is a web page (the spec's URL, else the public page
/// of its source), else the citation as text.
fn reference(h: &mut String, d: &crate::model::DocRef) {
    if d.is_empty() {
        return;
    }
    let label = match (&d.title, &d.seed, &d.section) {
        (Some(t), _, _) => t.clone(),
        (None, Some(seed), Some(sec)) => format!("{seed} — {sec}"),
        _ => d.cite(),
    };
    let url = d
        .url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .or_else(|| d.seed.as_deref().and_then(reference_url));
    let _ = match url {
        Some(u) => writeln!(
            h,
            "<p class=\"src\">Reference: <a href=\"{}\" rel=\"noreferrer\">{}</a></p>",
            html(u),
            esc(&label)
        ),
        None => writeln!(h, "<p class=\"src\">Reference: {}</p>", esc(&label)),
    };
}

fn sev_class(s: Severity) -> &'static str {
    s.as_str()
}

/// Writes the page. `entries` are the timeline entries to show (all of them, or a filtered
/// `kubetriage timeline` selection), in timeline order.
pub fn write(
    report: &Report,
    tl: &Timeline,
    entries: &[&Entry],
    catalog: &Catalog,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut h = String::with_capacity(64 * 1024 + entries.len().min(MAX_HTML_ENTRIES) * 400);
    let b = &report.bundle;
    let s = &report.summary;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}; img-src data:; base-uri 'none'; form-action 'none'\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"generator\" content=\"kubetriage {}\">\n<title>kubetriage report: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
        csp_hash(STYLE),
        csp_hash(SCRIPT),
        html(&report.version),
        esc(&b.source),
        STYLE
    );
    let verdicts_link = if report.tool_verdicts.is_empty() {
        String::new()
    } else {
        format!(
            "<a href=\"#tool-verdicts\">{}'s verdicts</a>",
            esc(&report.tool_verdicts[0].tool)
        )
    };
    let _ = write!(
        h,
        "<h1>kubetriage report: {}</h1>\n<nav><a href=\"#findings\">Findings</a>{verdicts_link}<a href=\"#collection\">Collection problems</a><a href=\"#timeline\">Timeline</a><a href=\"#other\">Other checks</a></nav>\n",
        esc(&b.source)
    );
    // Summary.
    let _ = write!(
        h,
        "<h2 id=\"summary\">Summary</h2>\n<table class=\"meta\">\n"
    );
    let mut row = |k: &str, v: String| {
        let _ = writeln!(h, "<tr><td>{k}</td><td>{v}</td></tr>");
    };
    row(
        "bundle",
        format!("{} ({})", esc(&b.source), html(&b.format)),
    );
    if !b.layout.is_empty() && b.layout != "kubetriage" {
        row("written by", format!("{} bundle", esc(&b.layout)));
    }
    if let Some(n) = &b.cluster.name {
        row("cluster", esc(n));
    }
    if let Some(c) = &b.cluster.context {
        row("context", esc(c));
    }
    if let Some(p) = &b.cluster.project {
        row("project", esc(p));
    }
    if let Some(l) = &b.cluster.location {
        row("location", esc(l));
    }
    row(
        "collected",
        esc(b
            .created
            .as_deref()
            .unwrap_or("unknown (no collection time)")),
    );
    row("platform", esc(&b.platform));
    row(
        "checks",
        format!(
            "{} with findings, {} passed, {} not evaluated, {} not applicable",
            s.finding, s.pass, s.not_evaluated, s.not_applicable
        ),
    );
    row(
        "findings",
        format!(
            "<span class=\"counts\"><span class=\"s-critical\">{} critical</span><span class=\"s-error\">{} error</span><span class=\"s-warning\">{} warning</span><span class=\"s-info\">{} info</span></span>",
            s.critical, s.error, s.warning, s.info
        ),
    );
    row(
        "timeline",
        format!(
            "{} entries, {} without a known time",
            tl.entries.len(),
            tl.untimed
        ),
    );
    row("kubetriage", html(&report.version));
    h.push_str("</table>\n");
    for w in &b.warnings {
        let _ = writeln!(h, "<p class=\"warnbox\">{}</p>", esc(w));
    }

    // Findings.
    let _ = write!(
        h,
        "<h2 id=\"findings\">Findings</h2>\n<div class=\"controls\" hidden><button type=\"button\" id=\"fold-all\">Fold all</button><button type=\"button\" id=\"unfold-all\">Unfold all</button></div>\n"
    );
    let findings = report.with_status(Status::Finding);
    if findings.is_empty() {
        h.push_str("<p>No check found a problem.</p>\n");
    }
    for c in findings {
        let worst = c.worst_finding().unwrap_or(c.severity);
        let _ = write!(
            h,
            "<details class=\"check b-{}\" open id=\"check-{}\">\n<summary><span class=\"sev s-{}\">{}</span> <code>{}</code> — {} ({} finding{})</summary>\n",
            sev_class(worst),
            html(&c.id),
            sev_class(worst),
            worst.as_str(),
            html(&c.id),
            esc(&c.title),
            c.findings.len(),
            if c.findings.len() == 1 { "" } else { "s" }
        );
        for (i, f) in c.findings.iter().enumerate() {
            let _ = write!(
                h,
                "<div class=\"finding\">\n<h3>{}. <span class=\"sev s-{}\">{}</span> {}</h3>\n",
                i + 1,
                sev_class(f.severity),
                f.severity.as_str(),
                esc(&f.summary)
            );
            if f.occurrences > f.evidence.len() {
                let _ = writeln!(
                    h,
                    "<p class=\"src\">{} occurrences, {} shown as evidence</p>",
                    f.occurrences,
                    f.evidence.len()
                );
            }
            if !f.detail.is_empty() {
                let _ = writeln!(h, "<pre>{}</pre>", esc_lines(f.detail.trim_end()));
            }
            if !f.remediation.is_empty() {
                let _ = writeln!(
                    h,
                    "<h4>What to do</h4>\n<pre>{}</pre>",
                    esc_lines(f.remediation.trim_end())
                );
            }
            if !f.evidence.is_empty() {
                h.push_str("<h4>Evidence</h4>\n");
                for e in &f.evidence {
                    let lines = if e.end_line > e.line {
                        format!("{}–{}", e.line, e.end_line)
                    } else {
                        e.line.to_string()
                    };
                    let _ = writeln!(
                        h,
                        "<div class=\"src mono\">{}:{}</div>\n<pre>{}</pre>",
                        esc(&e.file),
                        lines,
                        esc_lines(&e.excerpt)
                    );
                }
            }
            h.push_str("</div>\n");
        }
        if let Some(check) = catalog.get(&c.id) {
            reference(&mut h, &check.spec.docs);
        }
        h.push_str("</details>\n");
    }

    tool_verdicts(&mut h, report);

    // Collection problems.
    h.push_str("<h2 id=\"collection\">Collection problems</h2>\n");
    let problems: Vec<_> = report.collection_problems().collect();
    if problems.is_empty() && b.problems.is_empty() {
        h.push_str("<p>The collector recorded no failure and the bundle opened cleanly.</p>\n");
    }
    if !problems.is_empty() {
        h.push_str(
            "<table><thead><tr><th>source</th><th>status</th><th>detail</th></tr></thead><tbody>\n",
        );
        for c in problems {
            let _ = writeln!(
                h,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.path),
                c.status.as_str(),
                esc(&c.detail)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    if !b.problems.is_empty() {
        h.push_str("<h3>Opening the bundle</h3>\n<table><tbody>\n");
        for p in &b.problems {
            let _ = writeln!(
                h,
                "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
                esc(&p.file),
                esc(&p.problem)
            );
        }
        h.push_str("</tbody></table>\n");
    }

    timeline_section(&mut h, tl, entries);

    // The other checks.
    h.push_str("<h2 id=\"other\">Other checks</h2>\n<table><thead><tr><th>check</th><th>result</th><th>severity</th><th>title or reason</th></tr></thead><tbody>\n");
    for c in report.checks.iter().filter(|c| c.status != Status::Finding) {
        let what = if c.reason.is_empty() {
            esc(&c.title)
        } else {
            format!(
                "{}<br><span class=\"src\">{}</span>",
                esc(&c.title),
                esc(&c.reason)
            )
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html(&c.id),
            c.status.as_str(),
            c.severity.as_str(),
            what
        );
    }
    h.push_str("</tbody></table>\n");
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out.write_all(h.as_bytes())
}

/// Another tool's own results carried by the bundle (troubleshoot's `analysis.json`), after
/// kubetriage's findings and labelled as that tool's, as in the text report.
fn tool_verdicts(h: &mut String, report: &Report) {
    let Some(first) = report.tool_verdicts.first() else {
        return;
    };
    let _ = write!(
        h,
        "<h2 id=\"tool-verdicts\">{0}'s own verdicts</h2>\n<p>{1} written into the bundle by {0}, not by kubetriage.</p>\n<table><thead><tr><th>severity</th><th>verdict</th><th>message</th><th>where</th></tr></thead><tbody>\n",
        esc(&first.tool),
        crate::report::plural(report.tool_verdicts.len(), "verdict")
    );
    for v in &report.tool_verdicts {
        let title = if v.title.is_empty() {
            &v.name
        } else {
            &v.title
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}:{}</td></tr>",
            esc(&v.severity),
            esc(title),
            esc(&v.message),
            esc(&v.file),
            v.line
        );
    }
    h.push_str("</tbody></table>\n");
}

/// The entries the page lists: all of them, or past [`MAX_HTML_ENTRIES`] the cited ones and
/// then the most severe, in timeline order. Returns the kept entries and how many were left out.
fn kept<'t>(entries: &[&'t Entry]) -> (Vec<&'t Entry>, usize) {
    if entries.len() <= MAX_HTML_ENTRIES {
        return (entries.to_vec(), 0);
    }
    let mut idx: Vec<usize> = (0..entries.len()).collect();
    // Stable: within a rank, earlier entries first.
    idx.sort_by_key(|&i| (entries[i].checks.is_empty(), entries[i].severity));
    idx.truncate(MAX_HTML_ENTRIES);
    idx.sort_unstable();
    (
        idx.iter().map(|&i| entries[i]).collect(),
        entries.len() - MAX_HTML_ENTRIES,
    )
}

fn timeline_section(h: &mut String, tl: &Timeline, entries: &[&Entry]) {
    let _ = write!(
        h,
        "<h2 id=\"timeline\">Timeline</h2>\n<p>{} entries in UTC{}; {} facts of the bundle have no time that can be known and are not placed. A blue mark on the left means a finding cites the line.</p>\n",
        entries.len(),
        match tl.reference {
            Some(t) => format!(
                ", years missing from log lines taken from the collection time {}",
                t
            ),
            None => String::new(),
        },
        tl.untimed
    );
    if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
        // The chart spans the troubled part: from the first warning (or worse) to the end, so
        // weeks of quiet history do not squash the incident into one bar.
        let from = entries
            .iter()
            .find(|e| e.severity <= Severity::Warning)
            .unwrap_or(first)
            .time
            .as_second();
        let to = last.time.as_second();
        let pad = (to - from) / 20;
        let from = (from - pad).max(first.time.as_second());
        let earlier = entries.iter().filter(|e| e.time.as_second() < from).count();
        let charted: Vec<&Entry> = entries
            .iter()
            .copied()
            .filter(|e| e.time.as_second() >= from)
            .collect();
        histogram(h, &charted, from, to);
        if earlier > 0 {
            let _ = writeln!(
                h,
                "<p class=\"src\">{earlier} earlier entries, none of them a warning or worse, are listed below but not charted.</p>"
            );
        }
    }
    let (shown, left_out) = kept(entries);
    if left_out > 0 {
        let _ = writeln!(
            h,
            "<p class=\"warnbox\">{left_out} less severe entries are left out of this page (the histogram counts them); <code>kubetriage timeline --format json</code> lists every entry.</p>"
        );
    }
    h.push_str(
        "<div class=\"controls\" hidden><label>at least <select id=\"f-sev\"><option value=\"critical\">critical</option><option value=\"error\">error</option><option value=\"warning\">warning</option><option value=\"info\" selected>info</option></select></label>\
<label><input type=\"checkbox\" id=\"f-cited\"> cited by a finding</label>\
<label>containing <input type=\"search\" id=\"f-text\" placeholder=\"text, pod, node, file\"></label><span id=\"f-count\" class=\"src\"></span></div>\n",
    );
    h.push_str("<table class=\"tl\" id=\"tl\"><thead><tr><th>time (UTC)</th><th>severity</th><th>kind</th><th>object</th><th>message</th><th>source</th><th>cited by</th></tr></thead><tbody>\n");
    let mut day = String::new();
    let mut messages = crate::timeline::MessageReader::new(tl);
    for e in shown {
        let d = e.time.strftime("%Y-%m-%d").to_string();
        if d != day {
            let _ = writeln!(h, "<tr class=\"day\"><td colspan=\"7\">{d}</td></tr>");
            day = d;
        }
        let checks: Vec<String> = e
            .checks
            .iter()
            .map(|c| format!("<a href=\"#check-{0}\">{0}</a>", html(c)))
            .collect();
        let _ = writeln!(
            h,
            "<tr class=\"e{}\" data-sev=\"{}\" data-t=\"{}\"><td class=\"t mono\">{}</td><td class=\"k s-{}\">{}</td><td class=\"k\">{}</td><td class=\"mono o\">{}</td><td>{}</td><td class=\"mono src\">{}:{}</td><td>{}</td></tr>",
            if e.checks.is_empty() { "" } else { " cited" },
            sev_class(e.severity),
            e.time.as_second(),
            e.time.strftime("%H:%M:%S%.3f"),
            sev_class(e.severity),
            e.severity.as_str(),
            e.kind.as_str(),
            esc(&e.object.label()),
            esc(&messages.get(e)),
            esc(&e.file),
            e.line,
            checks.join(" ")
        );
    }
    h.push_str("</tbody></table>\n");
}

/// Entries per interval, stacked by severity, as inline SVG (presentation attributes only, so
/// the page's policy needs no inline styles).
fn histogram(h: &mut String, entries: &[&Entry], from: i64, to: i64) {
    let span = (to - from).max(1);
    let step = (span + BUCKETS as i64 - 1) / BUCKETS as i64;
    let step = step.max(1);
    let n = ((span / step) + 1) as usize;
    let mut counts = vec![[0usize; 4]; n];
    for e in entries {
        let b = (((e.time.as_second() - from) / step) as usize).min(n - 1);
        counts[b][e.severity as usize] += 1;
    }
    let max = counts
        .iter()
        .map(|c| c.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1);
    let (w, ht) = (1000.0f64, 120.0f64);
    let bw = w / n as f64;
    let _ = writeln!(
        h,
        "<svg class=\"hist\" viewBox=\"0 0 1000 120\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"entries per interval by severity\">"
    );
    let names = ["critical", "error", "warning", "info"];
    for (i, c) in counts.iter().enumerate() {
        let x = i as f64 * bw;
        let mut y = ht;
        // Most severe at the bottom, so it is seen first.
        for (sev, &k) in c.iter().enumerate() {
            if k == 0 {
                continue;
            }
            let bh = (k as f64 / max as f64 * (ht - 4.0)).max(1.5);
            y -= bh;
            let _ = writeln!(
                h,
                "<rect class=\"h-{}\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\"/>",
                names[sev],
                x + bw * 0.08,
                y,
                bw * 0.84,
                bh
            );
        }
        let t0 = from + i as i64 * step;
        let label = format!(
            "{} – {}: {} critical, {} error, {} warning, {} info",
            fmt_second(t0),
            fmt_second(t0 + step),
            c[0],
            c[1],
            c[2],
            c[3]
        );
        let _ = writeln!(
            h,
            "<rect class=\"hit\" x=\"{:.2}\" y=\"0\" width=\"{:.2}\" height=\"120\" data-from=\"{}\" data-to=\"{}\"><title>{}</title></rect>",
            x,
            bw,
            t0,
            t0 + step,
            label
        );
    }
    h.push_str("</svg>\n");
    let _ = writeln!(
        h,
        "<div class=\"axis\"><span>{}</span><span>one bar = {}</span><span>{}</span></div>\n<p class=\"legend\"><span><i class=\"l-critical\"></i>critical</span><span><i class=\"l-error\"></i>error</span><span><i class=\"l-warning\"></i>warning</span><span><i class=\"l-info\"></i>info</span></p>",
        fmt_second(from),
        crate::timeline::step_label(step),
        fmt_second(to)
    );
}

fn fmt_second(s: i64) -> String {
    jiff::Timestamp::from_second(s)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("a\u{1b}]0;t\u{7}"), "a\\x1b]0;t\\x07");
        assert_eq!(esc_lines("<b>\n</b>"), "&lt;b&gt;\n&lt;/b&gt;");
    }

    #[test]
    fn policy_hashes_match_the_inline_code() {
        // The digest of the empty string, as every CSP implementation computes it.
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }
}
