//! Rendering only: turns the state into a frame. Nothing here reads files or changes the state;
//! all text drawn was escaped when it entered the state (see `state::Model` and `viewer`).

use super::keys::{self, Mode, Tab};
use super::state::{App, CheckRow, CheckView, CollRow, Model, Pane, Screen};
use super::viewer::{self, Viewer};
use crate::bundle::human_bytes;
use crate::manifest::SourceStatus;
use crate::model::{Severity, Status};
use crate::pipeline::{PHASE_CHECKING, PHASE_OPENING};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Below this, the UI says how large it needs to be instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    pub body: Rect,
    pub status: Rect,
    pub footer: Rect,
}

fn row(area: Rect, y: u16, height: u16) -> Rect {
    Rect {
        x: area.x,
        y: area.y.saturating_add(y),
        width: area.width,
        height,
    }
}

/// The screen's parts, or None when the terminal is too small.
pub fn areas(area: Rect) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let h = area.height;
    Some(Areas {
        header: row(area, 0, 2),
        tabs: row(area, 2, 1),
        body: row(area, 3, h - 5),
        status: row(area, h - 2, 1),
        footer: row(area, h - 1, 1),
    })
}

/// The detail view's text pane and evidence pane (title row, then list).
pub fn detail_areas(body: Rect, evidence_items: usize) -> (Rect, Option<(Rect, Rect)>) {
    if evidence_items == 0 || body.height < 6 {
        return (body, None);
    }
    let want = (evidence_items as u16).saturating_add(1);
    let ev_h = want.clamp(3, (body.height * 2 / 5).max(3));
    let text_h = body.height - ev_h;
    let text = row(body, 0, text_h);
    let title = row(body, text_h, 1);
    let list = row(body, text_h + 1, ev_h - 1);
    (text, Some((title, list)))
}

fn sev_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        Severity::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Severity::Warning => Style::new().fg(Color::Yellow),
        Severity::Info => Style::new().fg(Color::Blue),
    }
}

fn status_style(s: Status) -> Style {
    match s {
        Status::Finding => Style::new().fg(Color::Red),
        Status::NotEvaluated => Style::new().fg(Color::DarkGray),
        Status::Pass => Style::new().fg(Color::Green),
        Status::NotApplicable => Style::new().fg(Color::DarkGray),
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Finding => "finding",
        Status::NotEvaluated => "not eval",
        Status::Pass => "pass",
        Status::NotApplicable => "n/a",
    }
}

const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
const DIM: Style = Style::new().fg(Color::DarkGray);
const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
const KEY: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);

/// Draws the whole UI.
pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let Some(a) = areas(area) else {
        too_small(f, area);
        return;
    };
    header(f, app, a.header);
    tabs(f, app, a.tabs);
    match app.stack.last() {
        Some(Screen::Detail(d)) => detail(f, app, d, a.body),
        Some(Screen::Viewer(v)) => viewer(f, v, a.body),
        Some(Screen::Search(s)) => search(f, s, a.body),
        Some(Screen::Object(o)) => object(f, o, a.body),
        Some(Screen::Timeline(t)) => super::timeline_draw::draw(f, t, a.body),
        None => match app.tab {
            Tab::Checks => checks(f, app, a.body),
            Tab::Files => files(f, app, a.body),
            Tab::Collection => collection(f, app, a.body),
        },
    }
    status(f, app, a.status);
    footer(f, app, a.footer);
    if app.help {
        help(f, app, a.body);
    }
}

fn too_small(f: &mut Frame, area: Rect) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let text = format!(
        "kubetriage needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}. Enlarge the window (ctrl-c quits).",
        area.width, area.height
    );
    f.render_widget(
        Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
        area,
    );
}

/// A group's count in the check list: "(3)", or "(2 of 3)" while a filter hides some.
fn group_count(shown: usize, total: usize) -> String {
    if shown == total {
        format!("({shown})")
    } else {
        format!("({shown} of {total})")
    }
}

/// The bundle, its cluster, platform and collection time in one row of `width` columns. What
/// does not fit goes whole rather than cut mid-word: the collection time first, then the
/// bundle path's leading folders (never its last name), then the cluster's project and
/// location (never its name).
fn first_header_line(m: &Model, width: usize) -> Line<'static> {
    let lead = " kubetriage ";
    let source = format!("{} ({})", m.source, m.format);
    let platform = format!("  {}", m.platform);
    let collected = format!("  collected {}", m.created);
    let w = viewer::width_of;
    let spans = |source: String, cluster: &str, collected: bool| {
        let mut v = vec![Span::styled(lead, BOLD), Span::raw(source)];
        if !cluster.is_empty() {
            v.push(Span::styled("  cluster ", DIM));
            v.push(Span::raw(cluster.to_string()));
        }
        v.push(Span::raw(platform.clone()));
        if collected {
            v.push(Span::styled("  collected ", DIM));
            v.push(Span::raw(m.created.clone()));
        }
        Line::from(v)
    };
    let cluster_w = |c: &str| {
        if c.is_empty() {
            0
        } else {
            w("  cluster ") + w(c)
        }
    };
    let fixed = w(lead) + w(&platform);
    if fixed + w(&source) + cluster_w(&m.cluster) + w(&collected) <= width {
        return spans(source, &m.cluster, true);
    }
    let short_cluster = m.cluster.split(", ").next().unwrap_or("");
    let cluster = if fixed + w(&left_elided(&source, 0)) + cluster_w(&m.cluster) <= width {
        m.cluster.as_str()
    } else {
        short_cluster
    };
    let room = width.saturating_sub(fixed + cluster_w(cluster));
    spans(left_elided(&source, room), cluster, false)
}

/// `text` in at most `room` columns, its start replaced by `…` when it is wider; never less
/// than its last path component, which names the bundle.
fn left_elided(text: &str, room: usize) -> String {
    if viewer::width_of(text) <= room {
        return text.to_string();
    }
    let last = text.trim_end_matches(|c| c != '/').len();
    // The last name whole, or at least its last 16 columns when it is longer.
    let keep = viewer::width_of(&text[last..]).min(16);
    let mut out = String::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room.max(keep + 1) {
            break;
        }
        used += w;
        out.insert(0, c);
    }
    // Whole folder names: "…/name", not "…ta/name".
    if let Some(p) = out.find('/')
        && out.len() > p + 1
        && out.len() - p > text.len() - last
    {
        out.drain(..p);
    }
    format!("…{out}")
}

fn header(f: &mut Frame, app: &App, area: Rect) {
    let mut lines = Vec::new();
    match &app.model {
        Some(m) => {
            lines.push(first_header_line(m, area.width as usize));
            let s = &m.summary;
            let total = s.critical + s.error + s.warning + s.info;
            let mut second = vec![Span::styled(
                format!(" {}", crate::report::plural(total, "finding")),
                DIM,
            )];
            let mut sep = ": ";
            for (sev, n) in [
                (Severity::Critical, s.critical),
                (Severity::Error, s.error),
                (Severity::Warning, s.warning),
                (Severity::Info, s.info),
            ] {
                if n > 0 {
                    second.push(Span::styled(sep, DIM));
                    second.push(Span::styled(format!("{n} {sev}"), sev_style(sev)));
                    sep = ", ";
                }
            }
            second.push(Span::raw(" "));
            second.push(Span::styled("│ ", DIM));
            // At 80 columns "check" goes, so that the counts stay whole.
            // The problems of the bundle itself come after, and they must show whole.
            let failures = m.sources.len();
            let after = if failures > 0 {
                3 + crate::report::plural(failures, "collection failure").len()
            } else {
                0
            } + if m.warnings.is_empty() {
                0
            } else {
                3 + crate::report::plural(m.warnings.len(), "warning").len() + 7
            };
            let so_far: usize = second
                .iter()
                .map(|sp| sp.content.chars().count())
                .sum::<usize>()
                + after;
            // The counts, shortened until they fit: "check" goes first, then a zero of not
            // evaluated, then the not applicable count (the list shows it folded anyway).
            let fits = |t: &str| so_far + t.chars().count() <= area.width as usize;
            let n = s.finding.to_string();
            let word = crate::report::plural(s.finding, "check");
            let ne = format!(", {} not evaluated", s.not_evaluated);
            let na = if s.not_applicable > 0 {
                format!(", {} not applicable", s.not_applicable)
            } else {
                String::new()
            };
            let ne_or_none = |t: &str| {
                if s.not_evaluated == 0 {
                    String::new()
                } else {
                    t.to_string()
                }
            };
            let candidates = [
                (format!("{word} with findings{ne}"), true),
                (format!("{n} with findings{ne}"), true),
                (format!("{n} with findings{}", ne_or_none(&ne)), true),
                (format!("{n} with findings{ne}"), false),
                (format!("{n} with findings{}", ne_or_none(&ne)), false),
                (format!("{} not evaluated", s.not_evaluated), false),
            ];
            let (counts, na_shown) = candidates
                .iter()
                .find(|(t, with_na)| {
                    fits(&format!("{t}{}", if *with_na { na.as_str() } else { "" }))
                })
                .cloned()
                .unwrap_or_else(|| candidates[5].clone());
            second.push(Span::raw(counts));
            if na_shown && !na.is_empty() {
                second.push(Span::styled(na, DIM));
            }
            // Collection failures only when there are some (the tab counts them anyway).
            if failures > 0 {
                second.push(Span::styled(" │ ", DIM));
                second.push(Span::styled(
                    crate::report::plural(failures, "collection failure"),
                    Style::new().fg(Color::Yellow),
                ));
            }
            if !m.warnings.is_empty() {
                second.push(Span::styled(" │ ", DIM));
                second.push(Span::styled(
                    format!(
                        "{}: see p",
                        crate::report::plural(m.warnings.len(), "warning")
                    ),
                    Style::new().fg(Color::Yellow),
                ));
            }
            lines.push(Line::from(second));
        }
        None => {
            lines.push(Line::from(vec![
                Span::styled(" kubetriage ", BOLD),
                Span::raw(app.loading.source.clone()),
            ]));
            lines.push(Line::from(vec![
                Span::raw(" "),
                Span::styled(loading_text(app), Style::new().fg(Color::Yellow)),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// The progress line while the analysis runs.
pub fn loading_text(app: &App) -> String {
    const SPIN: [char; 4] = ['|', '/', '-', '\\'];
    let l = &app.loading;
    let spin = SPIN[(l.ticks % 4) as usize];
    match l.phase {
        PHASE_OPENING if l.archive_len > 0 => {
            let pct = l.archive_read.saturating_mul(100) / l.archive_len.max(1);
            format!(
                "{spin} unpacking the archive: {pct}% ({} of {})",
                human_bytes(l.archive_read),
                human_bytes(l.archive_len)
            )
        }
        PHASE_OPENING => format!("{spin} opening the bundle…"),
        PHASE_CHECKING if l.scan_total > 0 && l.scan_done < l.scan_total => {
            let pct = l.scan_done.saturating_mul(100) / l.scan_total;
            format!(
                "{spin} scanning the logs and text files: {pct}% ({} of {})",
                human_bytes(l.scan_done),
                human_bytes(l.scan_total)
            )
        }
        PHASE_CHECKING => format!("{spin} running the checks…"),
        _ => format!("{spin} finishing…"),
    }
}

fn tabs(f: &mut Frame, app: &App, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    if app.stack.is_empty() {
        let (nc, nf, np) = match &app.model {
            Some(m) => (
                m.checks.len(),
                m.files.iter().filter(|e| !e.is_dir).count(),
                m.sources.len() + m.problems.len(),
            ),
            None => (0, 0, 0),
        };
        for (t, label) in [
            (Tab::Checks, format!("Checks ({nc})")),
            (Tab::Files, format!("Bundle files ({nf})")),
            (Tab::Collection, format!("Collection problems ({np})")),
        ] {
            if t == app.tab {
                spans.push(Span::styled(
                    format!("[{label}]"),
                    SELECTED.add_modifier(Modifier::BOLD),
                ));
            } else {
                spans.push(Span::styled(format!(" {label} "), DIM));
            }
            spans.push(Span::raw(" "));
        }
    } else {
        let root = match app.tab {
            Tab::Checks => "Checks",
            Tab::Files => "Bundle files",
            Tab::Collection => "Collection problems",
        };
        spans.push(Span::styled(root, DIM));
        for s in &app.stack {
            spans.push(Span::styled(" › ", DIM));
            match s {
                Screen::Detail(d) => {
                    let id = app
                        .model
                        .as_ref()
                        .and_then(|m| m.checks.get(d.check))
                        .map(|c| c.id.clone())
                        .unwrap_or_default();
                    spans.push(Span::styled(id, BOLD));
                }
                Screen::Viewer(v) => spans.push(Span::styled(v.title.clone(), BOLD)),
                Screen::Search(s) => {
                    spans.push(Span::styled(format!("search /{}", s.pattern), BOLD))
                }
                Screen::Object(o) => spans.push(Span::styled(o.title.clone(), BOLD)),
                Screen::Timeline(t) => {
                    let title = match &t.anchor {
                        Some(a) if t.center.is_some() => {
                            format!(
                                "timeline around {}:{}",
                                crate::sanitize::escape(&a.file),
                                a.line
                            )
                        }
                        _ => "timeline".to_string(),
                    };
                    spans.push(Span::styled(title, BOLD))
                }
            }
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn waiting(f: &mut Frame, app: &App, area: Rect) {
    let text = vec![
        Line::raw(""),
        Line::raw(format!("  {}", loading_text(app))),
        Line::raw(""),
        Line::styled(
            "  The results appear here as soon as the checks finish.",
            DIM,
        ),
    ];
    f.render_widget(Paragraph::new(text), area);
}

fn marker(selected: bool) -> Span<'static> {
    if selected {
        Span::raw("›")
    } else {
        Span::raw(" ")
    }
}

fn checks(f: &mut Frame, app: &App, area: Rect) {
    let Some(m) = &app.model else {
        waiting(f, app, area);
        return;
    };
    let rows = app.check_rows();
    if rows.is_empty() {
        let why = if app.checks.filter.is_empty() {
            "  No check matches the current filters (f, 1-4)."
        } else {
            "  No check matches the filter: esc clears it."
        };
        f.render_widget(
            Paragraph::new(vec![Line::raw(""), Line::styled(why, DIM)]),
            area,
        );
        return;
    }
    // The id column is as wide as the longest id shown, but leaves the title at least
    // `MIN_TITLE` columns; below 120 columns the status word goes (the group says it).
    const MIN_TITLE: usize = 20;
    let width = area.width as usize;
    let status_w = if width >= 120 { 9 } else { 0 };
    let fixed = 1 + 2 + status_w + 9 + 2 + 6;
    let longest = rows
        .iter()
        .filter_map(|r| match r {
            CheckRow::Check(i) => Some(viewer::width_of(&m.checks[*i].id)),
            _ => None,
        })
        .max()
        .unwrap_or(10);
    let id_w = longest.min(width.saturating_sub(fixed + MIN_TITLE).max(12));
    let mut lines = Vec::new();
    for (ri, r) in rows
        .iter()
        .enumerate()
        .skip(app.checks.offset)
        .take(area.height as usize)
    {
        let sel = ri == app.checks.selected;
        let line = match r {
            CheckRow::Group(g, n) => {
                let folded = app.checks.collapsed[*g as usize];
                let icon = if folded { "▸" } else { "▾" };
                let count = group_count(*n, m.count(*g));
                Line::from(vec![
                    marker(sel),
                    Span::styled(format!("{icon} {} {count}", g.title()), BOLD),
                ])
            }
            CheckRow::Check(i) => {
                let c = &m.checks[*i];
                let n = match c.status {
                    Status::Finding => c.findings.len().to_string(),
                    _ => "-".to_string(),
                };
                let title_w = width.saturating_sub(fixed + id_w);
                Line::from(vec![
                    marker(sel),
                    Span::raw("  "),
                    Span::styled(pad(status_word(c.status), status_w), status_style(c.status)),
                    Span::styled(format!("{:<9}", c.severity.as_str()), sev_style(c.severity)),
                    Span::styled(pad(&c.id, id_w), BOLD),
                    Span::raw("  "),
                    Span::raw(pad(&c.title, title_w)),
                    Span::raw(format!("{n:>5} ")),
                ])
            }
            CheckRow::Verdicts(n) => {
                let icon = if app.checks.verdicts_folded {
                    "▸"
                } else {
                    "▾"
                };
                let count = group_count(*n, m.verdicts.len());
                Line::from(vec![
                    marker(sel),
                    Span::styled(
                        format!("{icon} {} {count}", super::verdicts::title(&m.verdicts)),
                        BOLD,
                    ),
                ])
            }
            CheckRow::Verdict(i) => {
                super::verdicts::row(&m.verdicts[*i], sel, width, id_w + status_w)
            }
        };
        lines.push(if sel { line.style(SELECTED) } else { line });
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// `s` cut or padded to exactly `w` columns.
pub(super) fn pad(s: &str, w: usize) -> String {
    let cut = truncate(s, w);
    let used = viewer::width_of(&cut);
    format!("{cut}{}", " ".repeat(w.saturating_sub(used)))
}

/// `s` cut to `w` columns, with `…` when it was longer.
fn truncate(s: &str, w: usize) -> String {
    if viewer::width_of(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let head = viewer::split_at_width(s, w - 1)
        .into_iter()
        .next()
        .unwrap_or("");
    format!("{head}…")
}

/// Lays out `text` (sentences, list items, commands) at `width` columns with `indent` spaces
/// before each row (see `prose`): sentences re-flowed at word boundaries, code in `code` style
/// and broken only where a copy still runs. Returns, per row, whether it is code.
fn prose_into(
    out: &mut DetailText,
    text: &str,
    width: usize,
    indent: usize,
    style: Style,
    code: Style,
) {
    for (row, is_code) in crate::prose::layout(text, width, indent) {
        let wide = is_code && viewer::width_of(&row) > width;
        out.lines
            .push(Line::styled(row, if is_code { code } else { style }));
        out.wide.push(wide);
    }
}

/// The detail text of a check laid out for one width.
#[derive(Debug, Default)]
pub struct DetailText {
    pub lines: Vec<Line<'static>>,
    /// The row where each finding starts.
    pub starts: Vec<usize>,
    /// Rows of code wider than the pane: shown from the pane's sideways scroll.
    pub wide: Vec<bool>,
}

impl DetailText {
    fn push(&mut self, l: Line<'static>) {
        self.lines.push(l);
        self.wide.push(false);
    }
}

/// The detail text of a check at `width` columns.
pub fn detail_text(c: &CheckView, width: usize) -> DetailText {
    let mut out = DetailText::default();
    let cmd = Style::new().fg(Color::Cyan);
    out.push(Line::from(vec![
        Span::styled(
            format!("{} ", status_word(c.status).to_uppercase()),
            status_style(c.status).add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("{} ", c.severity), sev_style(c.severity)),
        Span::styled(c.id.clone(), BOLD),
    ]));
    prose_into(&mut out, &c.title, width, 0, BOLD, BOLD);
    out.push(Line::raw(""));
    match c.status {
        Status::NotEvaluated => {
            let yellow = Style::new().fg(Color::Yellow);
            prose_into(
                &mut out,
                &format!("Not evaluated: {}", c.reason),
                width,
                0,
                yellow,
                yellow,
            );
            out.push(Line::raw(""));
        }
        Status::NotApplicable => {
            prose_into(
                &mut out,
                &format!("Not applicable: {}", c.reason),
                width,
                0,
                DIM,
                DIM,
            );
            out.push(Line::raw(""));
        }
        Status::Pass => {
            let green = Style::new().fg(Color::Green);
            prose_into(
                &mut out,
                "Passed: the check had its data and the problem is absent.",
                width,
                0,
                green,
                green,
            );
            out.push(Line::raw(""));
        }
        Status::Finding => {}
    }
    if !c.explanation.is_empty() {
        out.push(Line::styled("Why it matters", BOLD));
        prose_into(&mut out, &c.explanation, width, 2, Style::default(), cmd);
        out.push(Line::raw(""));
    }
    if !c.docs.is_empty() {
        prose_into(
            &mut out,
            &format!("Reference: {}", c.docs),
            width,
            0,
            DIM,
            DIM,
        );
    }
    if !c.docs_url.is_empty() {
        // An address is code: whole on one row, scrolled sideways when wider than the pane.
        let row = format!("  {}", c.docs_url);
        out.wide.push(viewer::width_of(&row) > width);
        out.lines
            .push(Line::styled(row, Style::new().fg(Color::Blue)));
    }
    if !c.reads.is_empty() {
        prose_into(
            &mut out,
            &format!("Reads: {}", c.reads.join(", ")),
            width,
            0,
            DIM,
            DIM,
        );
    }
    let n = c.findings.len();
    for (i, fnd) in c.findings.iter().enumerate() {
        out.push(Line::raw(""));
        out.starts.push(out.lines.len());
        let occ = if fnd.occurrences > 1 {
            format!(" · {}", plural(fnd.occurrences, "occurrence"))
        } else {
            String::new()
        };
        out.push(Line::from(vec![
            Span::styled(format!("Finding {} of {n}", i + 1), BOLD),
            Span::raw(" · "),
            Span::styled(fnd.severity.as_str(), sev_style(fnd.severity)),
            Span::raw(occ),
        ]));
        prose_into(&mut out, &fnd.summary, width, 2, Style::default(), cmd);
        if !fnd.detail.is_empty() {
            prose_into(&mut out, &fnd.detail, width, 2, DIM, cmd);
        }
        if !fnd.remediation.is_empty() {
            out.push(Line::styled("  What to do:", BOLD));
            prose_into(&mut out, &fnd.remediation, width, 4, Style::default(), cmd);
        }
        let places = fnd.evidence.len();
        let more = if fnd.occurrences > places {
            format!(" ({places} shown of {})", fnd.occurrences)
        } else {
            String::new()
        };
        out.push(Line::styled(
            format!(
                "  Evidence: {}{more}, listed below",
                plural(places, "place")
            ),
            DIM,
        ));
    }
    out
}

/// "1 place", "2 places".
pub fn plural(n: usize, word: &str) -> String {
    crate::report::plural(n, word)
}

fn detail(f: &mut Frame, app: &App, d: &super::state::DetailState, body: Rect) {
    let Some(c) = app.model.as_ref().and_then(|m| m.checks.get(d.check)) else {
        return;
    };
    let items = app.evidence_items(d.check);
    let (text_area, ev) = detail_areas(body, items.len());
    let t = detail_text(c, text_area.width as usize);
    let shown: Vec<Line> = t
        .lines
        .into_iter()
        .zip(t.wide)
        .skip(d.scroll)
        .take(text_area.height as usize)
        .map(|(l, wide)| if wide { scrolled(l, d.left) } else { l })
        .collect();
    f.render_widget(Paragraph::new(shown), text_area);
    let Some((title, list)) = ev else { return };
    let focus = if d.focus == Pane::Evidence {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        DIM
    };
    f.render_widget(
        Block::new()
            .borders(Borders::TOP)
            .border_style(focus)
            .title(Span::styled(
                format!(
                    " Evidence ({}) — enter shows the line in its file ",
                    items.len()
                ),
                focus,
            )),
        title,
    );
    let width = list.width as usize;
    let mut rows = Vec::new();
    for (k, &(fi, ei)) in items
        .iter()
        .enumerate()
        .skip(d.offset)
        .take(list.height as usize)
    {
        let e = &c.findings[fi].evidence[ei];
        let sel = k == d.selected && d.focus == Pane::Evidence;
        let (loc, excerpt) = evidence_row(e, &format!(" #{} ", fi + 1), width);
        let line = Line::from(vec![
            marker(k == d.selected),
            Span::styled(format!(" #{} ", fi + 1), DIM),
            Span::styled(loc, BOLD),
            Span::raw("  "),
            Span::styled(excerpt, DIM),
        ]);
        rows.push(if sel { line.style(SELECTED) } else { line });
    }
    f.render_widget(Paragraph::new(rows), list);
}

/// A row of code wider than the pane, from column `left` on.
fn scrolled(l: Line<'static>, left: usize) -> Line<'static> {
    if left == 0 {
        return l;
    }
    let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
    let style = l.spans.first().map(|s| s.style).unwrap_or(l.style);
    Line::styled(viewer::skip_columns(&text, left).to_string(), style)
}

/// An evidence item's location and excerpt for a row of `width` columns after `prefix`: the
/// location whole (`file:line` or `file:first-last`; a path too long loses its middle, never
/// the line), the excerpt shortened around what proves the finding.
pub fn evidence_row(
    e: &super::state::EvidenceView,
    prefix: &str,
    width: usize,
) -> (String, String) {
    let range = if e.end_line > e.line {
        format!("{}-{}", e.line, e.end_line)
    } else {
        e.line.to_string()
    };
    let fixed = 1 + viewer::width_of(prefix);
    let room = width.saturating_sub(fixed);
    let mut loc = format!("{}:{range}", e.file_shown);
    if viewer::width_of(&loc) > room {
        // Keep the end of the path (the file and its folder) and the line.
        let keep = room.saturating_sub(1 + viewer::width_of(&range) + 1);
        let chars: Vec<char> = e.file_shown.chars().collect();
        let mut tail = String::new();
        let mut used = 0;
        for ch in chars.iter().rev() {
            let w = unicode_width::UnicodeWidthChar::width(*ch).unwrap_or(0);
            if used + w > keep {
                break;
            }
            used += w;
            tail.insert(0, *ch);
        }
        loc = format!("…{tail}:{range}");
    }
    let left = room.saturating_sub(viewer::width_of(&loc) + 2);
    // A line cut from a pretty-printed list is indented far; its text is what proves.
    let text = e.excerpt.trim_start();
    let cut = e.excerpt.len() - text.len();
    let excerpt = if left >= 8 {
        crate::excerpt::shorten(text, left, e.focus.saturating_sub(cut))
    } else {
        String::new()
    };
    (loc, excerpt)
}

/// Width of the viewer's gutter: two marks, the line number, a space.
pub fn gutter_width(v: &Viewer) -> usize {
    let biggest = v
        .total_lines()
        .unwrap_or_else(|| v.known_lines())
        .max(v.top + v.rows)
        .max(9999);
    biggest.to_string().len() + 4
}

fn viewer(f: &mut Frame, v: &Viewer, area: Rect) {
    if let Some(e) = &v.error {
        f.render_widget(
            Paragraph::new(vec![
                Line::raw(""),
                Line::styled(format!("  {e}"), Style::new().fg(Color::Red)),
            ]),
            area,
        );
        return;
    }
    if v.window.is_empty() {
        let what = if v.len == 0 {
            "  (empty file)"
        } else {
            "  reading…"
        };
        f.render_widget(Paragraph::new(vec![Line::styled(what, DIM)]), area);
        return;
    }
    let gw = gutter_width(v);
    let text_w = (area.width as usize).saturating_sub(gw).max(1);
    let num_w = gw - 4;
    let hl = Style::new().bg(Color::Yellow).fg(Color::Black);
    let mut rows: Vec<Line> = Vec::new();
    for l in &v.window {
        if rows.len() >= area.height as usize {
            break;
        }
        let cur = l.number == v.cursor;
        let ev = v.is_evidence(l.number);
        let mut base = Style::default();
        if ev {
            base = base.bg(Color::Rgb(80, 60, 0)).fg(Color::White);
        }
        if cur {
            base = base.add_modifier(Modifier::REVERSED);
        }
        let matches: Vec<(usize, usize)> = v
            .search
            .as_ref()
            .map(|s| {
                s.display
                    .find_iter(&l.text)
                    .map(|m| (m.start(), m.end()))
                    .collect()
            })
            .unwrap_or_default();
        let pieces: Vec<&str> = if v.wrap {
            viewer::split_at_width(&l.text, text_w)
        } else {
            vec![viewer::skip_columns(&l.text, v.left)]
        };
        for (pi, piece) in pieces.iter().enumerate() {
            if rows.len() >= area.height as usize {
                break;
            }
            let gutter = if pi == 0 {
                format!(
                    "{}{}{:>num_w$} ",
                    if cur { '>' } else { ' ' },
                    if ev { '*' } else { ' ' },
                    l.number
                )
            } else {
                format!("  {:>num_w$} ", "")
            };
            let gstyle = if ev {
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
            } else {
                DIM
            };
            let mut spans = vec![Span::styled(gutter, gstyle), Span::styled("│", DIM)];
            let start = piece.as_ptr() as usize - l.text.as_ptr() as usize;
            spans.extend(highlight(piece, start, &matches, base, hl));
            if pi == pieces.len() - 1 && l.cut > 0 {
                spans.push(Span::styled(format!(" … [{} more bytes]", l.cut), DIM));
            }
            rows.push(Line::from(spans));
        }
    }
    f.render_widget(Paragraph::new(rows), area);
}

/// Spans of `piece` (which starts at byte `start` of its line) with the match ranges styled.
fn highlight(
    piece: &str,
    start: usize,
    matches: &[(usize, usize)],
    base: Style,
    hl: Style,
) -> Vec<Span<'static>> {
    let end = start + piece.len();
    let mut out = Vec::new();
    let mut at = start;
    for &(a, b) in matches {
        let (a, b) = (a.max(start), b.min(end));
        if a >= b || a < at {
            continue;
        }
        if a > at {
            out.push(Span::styled(piece[at - start..a - start].to_string(), base));
        }
        out.push(Span::styled(piece[a - start..b - start].to_string(), hl));
        at = b;
    }
    if at < end {
        out.push(Span::styled(piece[at - start..].to_string(), base));
    }
    out
}

/// A pod's or node's view: headings, facts, and rows that open something (marked `›` when
/// selected, `→` when they lead somewhere).
fn object(f: &mut Frame, o: &super::objects::ObjectView, area: Rect) {
    let mut rows = Vec::new();
    for (k, r) in o
        .rows
        .iter()
        .enumerate()
        .skip(o.offset)
        .take(area.height as usize)
    {
        let sel = k == o.selected;
        let line = if r.heading {
            Line::from(vec![marker(sel), Span::styled(r.text.clone(), BOLD)])
        } else if r.link.is_some() {
            Line::from(vec![
                marker(sel),
                Span::raw(r.text.clone()),
                Span::styled("  →", DIM),
            ])
        } else {
            Line::from(vec![marker(sel), Span::raw(r.text.clone())])
        };
        rows.push(if sel { line.style(SELECTED) } else { line });
    }
    f.render_widget(Paragraph::new(rows), area);
}

/// The hits of a search across the bundle: `file:line` whole, the line shortened around the
/// match, which is highlighted.
fn search(f: &mut Frame, s: &super::search::BundleSearch, area: Rect) {
    if s.hits.is_empty() {
        let what = if s.done() {
            format!("  No line of the bundle matches /{}.", s.pattern)
        } else {
            "  searching…".to_string()
        };
        f.render_widget(
            Paragraph::new(vec![Line::raw(""), Line::styled(what, DIM)]),
            area,
        );
        return;
    }
    let width = area.width as usize;
    let hl = Style::new().bg(Color::Yellow).fg(Color::Black);
    let mut rows = Vec::new();
    for (k, h) in s
        .hits
        .iter()
        .enumerate()
        .skip(s.offset)
        .take(area.height as usize)
    {
        let sel = k == s.selected;
        let loc = format!("{}:{}", s.files[h.file].shown, h.line);
        let room = width.saturating_sub(viewer::width_of(&loc) + 4);
        let text = crate::excerpt::shorten(&h.text, room.max(8), h.focus);
        let mut spans = vec![marker(sel), Span::styled(loc, BOLD), Span::raw("  ")];
        match s.find_in(&text) {
            Some((a, b)) => {
                spans.push(Span::raw(text[..a].to_string()));
                spans.push(Span::styled(text[a..b].to_string(), hl));
                spans.push(Span::raw(text[b..].to_string()));
            }
            None => spans.push(Span::raw(text)),
        }
        let line = Line::from(spans);
        rows.push(if sel { line.style(SELECTED) } else { line });
    }
    f.render_widget(Paragraph::new(rows), area);
}

fn files(f: &mut Frame, app: &App, area: Rect) {
    let Some(m) = &app.model else {
        waiting(f, app, area);
        return;
    };
    let rows = app.file_rows();
    if rows.is_empty() {
        let why = if app.files.filter.is_empty() {
            "  The bundle has no files."
        } else {
            "  No file matches the filter: esc clears it."
        };
        f.render_widget(
            Paragraph::new(vec![Line::raw(""), Line::styled(why, DIM)]),
            area,
        );
        return;
    }
    let width = area.width as usize;
    let name_w = rows
        .iter()
        .map(|&i| m.files[i].depth * 2 + 2 + viewer::width_of(&m.files[i].name))
        .max()
        .unwrap_or(20)
        .min(width.saturating_sub(36).max(10));
    let mut lines = Vec::new();
    for (ri, &i) in rows
        .iter()
        .enumerate()
        .skip(app.files.offset)
        .take(area.height as usize)
    {
        let e = &m.files[i];
        let sel = ri == app.files.selected;
        let icon = if e.is_dir {
            if app.files.collapsed.contains(&e.path) && app.files.filter.is_empty() {
                "▸ "
            } else {
                "▾ "
            }
        } else {
            "  "
        };
        let name = format!(
            "{}{icon}{}{}",
            "  ".repeat(e.depth),
            e.name,
            if e.is_dir { "/" } else { "" }
        );
        let size = if e.missing {
            "-".to_string()
        } else {
            human_bytes(e.size)
        };
        let mark_style = if e.marks.iter().any(|m| {
            m.starts_with("failed")
                || m.starts_with("timeout")
                || m.starts_with("skipped")
                || m.starts_with("not in")
        }) {
            Style::new().fg(Color::Red)
        } else {
            Style::new().fg(Color::Yellow)
        };
        let name_style = if e.missing {
            DIM
        } else if e.is_dir {
            BOLD
        } else {
            Style::default()
        };
        let line = Line::from(vec![
            marker(sel),
            Span::styled(pad(&name, name_w), name_style),
            Span::styled(format!(" {size:>10}  "), DIM),
            Span::styled(e.marks.join(", "), mark_style),
        ]);
        lines.push(if sel { line.style(SELECTED) } else { line });
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn collection(f: &mut Frame, app: &App, area: Rect) {
    let Some(m) = &app.model else {
        waiting(f, app, area);
        return;
    };
    let rows = app.coll_rows();
    let mut lines: Vec<Line> = Vec::new();
    let width = area.width as usize;
    for w in &m.warnings {
        for row in crate::prose::wrap(&format!("warning: {w}"), width.saturating_sub(1), 1, 3) {
            lines.push(Line::styled(row, Style::new().fg(Color::Yellow)));
        }
    }
    if rows.is_empty() {
        lines.push(Line::raw(""));
        let none = if m.foreign {
            "No collection failure is recorded in the bundle, and it opened without problems."
        } else {
            "The collector got everything it recorded, and the bundle opened without problems."
        };
        for row in crate::prose::wrap(none, width.saturating_sub(1), 2, 2) {
            lines.push(Line::styled(row, DIM));
        }
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    let reserved = lines.len();
    let avail = (area.height as usize).saturating_sub(reserved);
    for (ri, r) in rows.iter().enumerate().skip(app.coll.offset).take(avail) {
        let sel = ri == app.coll.selected;
        let line = match *r {
            CollRow::Source(i) => {
                let s = &m.sources[i];
                let style = match s.status {
                    SourceStatus::Timeout | SourceStatus::Failed => Style::new().fg(Color::Red),
                    _ => Style::new().fg(Color::Yellow),
                };
                let after = if s.affected.is_empty() {
                    " (no check left not evaluated)".to_string()
                } else {
                    String::new()
                };
                Line::from(vec![
                    marker(sel),
                    Span::styled(format!(" {:<8} ", s.status.as_str()), style),
                    Span::styled(s.path_shown.clone(), BOLD),
                    Span::raw("  "),
                    Span::raw(s.detail.clone()),
                    Span::styled(after, DIM),
                ])
            }
            CollRow::Affected(_, c) => {
                let c = &m.checks[c];
                Line::from(vec![
                    marker(sel),
                    Span::styled("          ↳ not evaluated: ", DIM),
                    Span::styled(c.id.clone(), BOLD),
                    Span::raw("  "),
                    Span::styled(c.title.clone(), DIM),
                ])
            }
            CollRow::Problem(i) => {
                let (file, problem) = &m.problems[i];
                Line::from(vec![
                    marker(sel),
                    Span::styled(" bundle   ", Style::new().fg(Color::Yellow)),
                    Span::styled(file.clone(), BOLD),
                    Span::raw(": "),
                    Span::raw(problem.clone()),
                ])
            }
        };
        lines.push(if sel { line.style(SELECTED) } else { line });
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn status(f: &mut Frame, app: &App, area: Rect) {
    if let Some(p) = &app.prompt {
        let label = match p.kind {
            super::state::PromptKind::ChecksFilter => "filter checks: /",
            super::state::PromptKind::FilesFilter => "filter files: /",
            super::state::PromptKind::ViewerSearch => "search: /",
            super::state::PromptKind::BundleSearch => "search the bundle: /",
            super::state::PromptKind::GotoLine => "go to line: :",
            super::state::PromptKind::FilterLines => "only lines matching: &",
            super::state::PromptKind::TimelineFilter => "filter the timeline: /",
        };
        let shown = crate::sanitize::escape(&p.text);
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!(" {label}"), KEY),
                Span::raw(shown.into_owned()),
                Span::styled("▏", KEY),
            ])),
            area,
        );
        return;
    }
    let mut spans = vec![Span::raw(" ")];
    if let Some(msg) = &app.message {
        spans.push(Span::styled(msg.clone(), Style::new().fg(Color::Yellow)));
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    match app.stack.last() {
        Some(Screen::Viewer(v)) => {
            let total = match v.total_lines() {
                Some(t) => t.to_string(),
                None => format!("{}+ ({}% indexed)", v.known_lines(), v.indexed_percent()),
            };
            let mut parts = vec![format!("line {}/{total}", v.cursor)];
            if !v.evidence.is_empty() {
                let at = v
                    .evidence_at_cursor()
                    .map(|i| format!("evidence {}/{}", i + 1, v.evidence.len()))
                    .unwrap_or_else(|| crate::report::plural(v.evidence.len(), "evidence range"));
                parts.push(at);
            }
            if let Some(s) = &v.search {
                parts.push(format!("/{}", s.pattern));
            }
            if let Some(c) = v.match_counter() {
                parts.push(c);
            }
            if v.only_matches {
                parts.push("& only matching lines (esc: all)".into());
            }
            if v.left > 0 && !v.wrap {
                parts.push(format!("col {}", v.left + 1));
            }
            if v.wrap {
                parts.push("wrap".into());
            }
            if let Some(p) = v.pending {
                parts.push(format!(
                    "going to {}…",
                    match p {
                        super::viewer::Pending::End => "the end".to_string(),
                        super::viewer::Pending::Line(n) => format!("line {n}"),
                        _ => "the next match".to_string(),
                    }
                ));
            }
            spans.push(Span::styled(parts.join(" · "), DIM));
            if let Some(n) = &v.note {
                spans.push(Span::raw("  "));
                spans.push(Span::styled(n.clone(), Style::new().fg(Color::Yellow)));
            }
        }
        Some(Screen::Search(s)) => {
            let mut text = format!(
                "{} in {}",
                crate::report::plural(s.count, "hit"),
                crate::report::plural(s.files_hit, "file")
            );
            if s.count > s.hits.len() {
                text.push_str(&format!(" ({} listed)", s.hits.len()));
            }
            if s.done() {
                text.push_str(&format!(
                    " · {} searched",
                    crate::report::plural(s.files.len(), "file")
                ));
            } else {
                text.push_str(&format!(
                    " · searching: {} of {} files…",
                    s.searched,
                    s.files.len()
                ));
            }
            spans.push(Span::styled(text, DIM));
        }
        Some(Screen::Timeline(t)) => {
            spans.push(Span::styled(
                super::timeline_draw::status(t),
                Style::new().fg(Color::Cyan),
            ));
        }
        Some(Screen::Detail(_)) | Some(Screen::Object(_)) => {}
        None => match app.tab {
            Tab::Checks => {
                let mut parts = Vec::new();
                if !app.checks.filter.is_empty() {
                    parts.push(format!(
                        "filter /{}",
                        crate::sanitize::escape(&app.checks.filter)
                    ));
                }
                if app.checks.findings_only {
                    parts.push("findings only".to_string());
                }
                let hidden: Vec<&str> = Severity::ALL
                    .iter()
                    .zip(app.checks.hidden)
                    .filter(|(_, h)| *h)
                    .map(|(s, _)| s.as_str())
                    .collect();
                if !hidden.is_empty() {
                    parts.push(format!("hiding {}", hidden.join(", ")));
                }
                if parts.is_empty()
                    && let Some(CheckRow::Verdict(i)) =
                        app.check_rows().get(app.checks.selected).copied()
                    && let Some(v) = app.model.as_ref().and_then(|m| m.verdicts.get(i))
                {
                    parts.push(super::verdicts::status(v));
                }
                if !parts.is_empty() {
                    spans.push(Span::styled(
                        parts.join(" · "),
                        Style::new().fg(Color::Cyan),
                    ));
                }
            }
            Tab::Files => {
                if !app.files.filter.is_empty() {
                    spans.push(Span::styled(
                        format!("filter /{}", crate::sanitize::escape(&app.files.filter)),
                        Style::new().fg(Color::Cyan),
                    ));
                }
            }
            Tab::Collection => {}
        },
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn footer(f: &mut Frame, app: &App, area: Rect) {
    let mode = app.mode();
    let mut spans = vec![Span::raw(" ")];
    for (k, what) in keys::footer(mode) {
        spans.push(Span::styled(*k, KEY));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn help(f: &mut Frame, app: &App, body: Rect) {
    let mode = app.help_mode();
    let entries = keys::help(mode);
    let key_w = entries
        .iter()
        .map(|(k, _)| viewer::width_of(k))
        .max()
        .unwrap_or(4);
    let title = match mode {
        Mode::Checks => "Keys: check list",
        Mode::Files => "Keys: bundle files",
        Mode::Collection => "Keys: collection problems",
        Mode::Detail => "Keys: check detail",
        Mode::Viewer => "Keys: file viewer",
        Mode::Search => "Keys: bundle search",
        Mode::Object => "Keys: pod or node",
        Mode::Timeline => "Keys: timeline",
        _ => "Keys",
    };
    let mut lines: Vec<Line> = entries
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {:<key_w$}  ", k), KEY),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " ctrl-c quits from anywhere; esc or ? closes this help",
        DIM,
    ));
    let w = (lines.iter().map(|l| l.width()).max().unwrap_or(20) as u16 + 2).min(body.width);
    let h = (lines.len() as u16 + 2).min(body.height);
    let area = Rect {
        x: body.x + (body.width - w) / 2,
        y: body.y + (body.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(" {title} "))),
        area,
    );
}
