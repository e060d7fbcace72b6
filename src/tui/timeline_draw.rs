//! Drawing the timeline view: an lnav-style histogram of entries per interval, stacked by
//! severity (the most severe at the bottom, so it is seen first), over the list of entries.
//! Rendering only: the rows were read back and escaped by `TimelineView::prepare`.

use super::timeline::{Histogram, TimelineView};
use super::viewer;
use crate::model::Severity;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const DIM: Style = Style::new().fg(Color::DarkGray);
const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
/// Eighths of a cell, for bars finer than a row.
const BLOCKS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The view's parts: histogram bars, its axis row, the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub bars: Rect,
    pub axis: Rect,
    pub list: Rect,
}

/// Splits the body: a histogram of 4 rows (2 on a short terminal), its axis, then the list.
pub fn areas(body: Rect) -> Areas {
    let bars_h: u16 = if body.height >= 14 { 4 } else { 2 };
    let bars_h = bars_h.min(body.height.saturating_sub(2));
    let at = |y: u16, h: u16| Rect {
        x: body.x,
        y: body.y.saturating_add(y),
        width: body.width,
        height: h,
    };
    Areas {
        bars: at(0, bars_h),
        axis: at(bars_h, 1.min(body.height.saturating_sub(bars_h))),
        list: at(bars_h + 1, body.height.saturating_sub(bars_h + 1)),
    }
}

pub fn sev_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        Severity::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Severity::Warning => Style::new().fg(Color::Yellow),
        Severity::Info => Style::new().fg(Color::Blue),
    }
}

fn short(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "crit",
        Severity::Error => "err",
        Severity::Warning => "warn",
        Severity::Info => "info",
    }
}

pub fn draw(f: &mut Frame, v: &TimelineView, body: Rect) {
    if v.waiting() {
        let text = vec![
            Line::raw(""),
            Line::styled("  building timeline…", Style::new().fg(Color::Yellow)),
            Line::raw(""),
            Line::styled(
                "  The entries appear here as soon as the bundle's logs are read; the keys keep working.",
                DIM,
            ),
        ];
        f.render_widget(Paragraph::new(text), body);
        return;
    }
    let a = areas(body);
    histogram(f, &v.hist, a.bars, a.axis);
    list(f, v, a.list);
}

fn histogram(f: &mut Frame, h: &Histogram, bars: Rect, axis: Rect) {
    let max = h
        .counts
        .iter()
        .map(|c| c.iter().map(|&n| u64::from(n)).sum::<u64>())
        .max()
        .unwrap_or(0);
    let height = bars.height as usize;
    let mut rows: Vec<Vec<Span>> = vec![Vec::new(); height];
    for (i, c) in h.counts.iter().enumerate() {
        let total: u64 = c.iter().map(|&n| u64::from(n)).sum();
        let eighths = if total == 0 || max == 0 {
            0
        } else {
            ((total * height as u64 * 8).div_ceil(max)).max(1) as usize
        };
        // Where each severity's part of the bar ends, counted in eighths from the bottom.
        let mut ends = [0usize; 4];
        let mut cum = 0u64;
        for (k, &n) in c.iter().enumerate() {
            cum += u64::from(n);
            ends[k] = (cum * eighths as u64).checked_div(total).unwrap_or(0) as usize;
        }
        let selected = h.selected == Some(i);
        for (r, row) in rows.iter_mut().enumerate() {
            let from_bottom = height - 1 - r;
            let lo = from_bottom * 8;
            let fill = eighths.saturating_sub(lo).min(8);
            let k = ends.iter().position(|&e| e > lo).unwrap_or(3);
            let mut style = sev_style(Severity::ALL[k]);
            if selected {
                style = style.bg(Color::DarkGray);
            }
            row.push(Span::styled(BLOCKS[fill].to_string(), style));
        }
    }
    let lines: Vec<Line> = rows.into_iter().map(Line::from).collect();
    f.render_widget(Paragraph::new(lines), bars);
    f.render_widget(Paragraph::new(axis_line(h, axis.width as usize)), axis);
}

/// The axis under the bars: the first and last interval's times, the interval length, and
/// `▲` under the selected entry's interval.
fn axis_line(h: &Histogram, width: usize) -> Line<'static> {
    let n = h.counts.len();
    let fmt = |s: i64| {
        jiff::Timestamp::from_second(s)
            .map(|t| t.strftime("%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let mut cells: Vec<char> = vec![' '; width];
    let left = fmt(h.from);
    let right = fmt(h.from + h.step * n as i64);
    let mid = format!("one column = {}", crate::timeline::step_label(h.step));
    let put = |cells: &mut Vec<char>, at: usize, s: &str| {
        for (i, c) in s.chars().enumerate() {
            if let Some(cell) = cells.get_mut(at + i) {
                *cell = c;
            }
        }
    };
    put(&mut cells, 0, &left);
    let right_at = width.saturating_sub(right.chars().count());
    if right_at > left.chars().count() + 1 {
        put(&mut cells, right_at, &right);
    }
    let mid_len = mid.chars().count();
    let mid_at = width.saturating_sub(mid_len) / 2;
    if mid_at > left.chars().count() + 1 && mid_at + mid_len + 1 < right_at {
        put(&mut cells, mid_at, &mid);
    }
    if let Some(s) = h.selected.filter(|&s| s < width) {
        cells[s] = '▲';
    }
    let text: String = cells.into_iter().collect();
    Line::styled(text, DIM)
}

fn list(f: &mut Frame, v: &TimelineView, area: Rect) {
    if v.rows.is_empty() {
        let why = if v.busy() {
            "  filtering…"
        } else if v.filter.is_empty() && !v.cited_only && !v.hidden.iter().any(|h| *h) {
            "  No entry in this time range: + widens the window."
        } else {
            "  No entry matches the filters: esc clears the text filter, 1-4 and f toggle the others."
        };
        f.render_widget(
            Paragraph::new(vec![Line::raw(""), Line::styled(why, DIM)]),
            area,
        );
        return;
    }
    let width = area.width as usize;
    let longest = v
        .shown
        .iter()
        .map(|r| viewer::width_of(&r.object))
        .max()
        .unwrap_or(0);
    // marker, mark, time (14), severity (5), object, two spaces, message.
    let fixed = 1 + 1 + 14 + 1 + 5;
    let obj_w = longest.min(width / 4).max(4);
    let msg_w = width.saturating_sub(fixed + obj_w + 2);
    let mut lines = Vec::new();
    for r in &v.shown {
        let sel = r.row == v.selected;
        let line = Line::from(vec![
            Span::raw(if sel { "›" } else { " " }),
            Span::styled(
                if r.cited { "*" } else { " " },
                Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            ),
            Span::raw(r.time.clone()),
            Span::raw(" "),
            Span::styled(format!("{:<5}", short(r.severity)), sev_style(r.severity)),
            Span::styled(
                pad(&r.object, obj_w),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw("  "),
            Span::raw(pad(&r.message, msg_w)),
        ]);
        lines.push(if sel { line.style(SELECTED) } else { line });
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// `s` cut or padded to exactly `w` columns.
fn pad(s: &str, w: usize) -> String {
    let cut = if viewer::width_of(s) <= w {
        s.to_string()
    } else if w == 0 {
        String::new()
    } else {
        let head = viewer::split_at_width(s, w - 1)
            .into_iter()
            .next()
            .unwrap_or("");
        format!("{head}…")
    };
    let used = viewer::width_of(&cut);
    format!("{cut}{}", " ".repeat(w.saturating_sub(used)))
}

/// The status bar's words for the view: how many entries, which window, which filters.
pub fn status(v: &TimelineView) -> String {
    let mut parts = Vec::new();
    match v.timeline() {
        None => parts.push("building timeline…".to_string()),
        Some(tl) => {
            let sel = if v.rows.is_empty() { 0 } else { v.selected + 1 };
            let mut count = format!("entry {sel}/{}", v.rows.len());
            if v.busy() {
                count.push('+');
            }
            parts.push(count);
            match (v.center, v.range()) {
                (Some(c), Some(_)) => parts.push(format!(
                    "±{} around {}",
                    crate::timeline::step_label(v.window),
                    c.strftime("%m-%d %H:%M:%S")
                )),
                _ => parts.push(format!("whole bundle, {} untimed", tl.untimed)),
            }
        }
    }
    parts.extend(v.describe_filters());
    if let Some(n) = &v.note {
        parts.push(n.clone());
    }
    parts.join(" · ")
}
