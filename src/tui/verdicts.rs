//! The verdicts another tool wrote into the bundle (a troubleshoot bundle's `analysis.json`),
//! in the check list as a group of their own, right after kubetriage's findings and labelled
//! as that tool's: the customer's own analyzers often said something first, and a support
//! engineer wants it beside kubetriage's results, not mixed into them. `enter` on a verdict
//! opens the file at the verdict's line, as evidence does.

use super::state::CheckRow;
use crate::layout::ToolVerdict;
use crate::sanitize::escape;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// One verdict, escaped for display once, when the analysis arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictView {
    /// The tool that wrote it (`troubleshoot`).
    pub tool: String,
    pub name: String,
    /// The tool's own word (`error`, `warn`, `pass`, `debug`…).
    pub severity: String,
    pub title: String,
    /// On one line: a list row has no room for the message's own line breaks.
    pub message: String,
    /// The file as in the bundle, to open it.
    pub file: String,
    pub file_shown: String,
    pub line: usize,
}

impl VerdictView {
    /// True when `needle` (lowercase) is in the verdict's name, title or message.
    pub fn mentions(&self, needle: &str) -> bool {
        [&self.name, &self.title, &self.message, &self.severity]
            .iter()
            .any(|s| s.to_lowercase().contains(needle))
    }
}

/// The report's verdicts as the UI shows them.
pub fn views(verdicts: &[ToolVerdict]) -> Vec<VerdictView> {
    let one_line =
        |s: &str| escape(&s.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned();
    verdicts
        .iter()
        .map(|v| VerdictView {
            tool: one_line(&v.tool),
            name: one_line(&v.name),
            severity: one_line(&v.severity),
            title: one_line(&v.title),
            message: one_line(&v.message),
            file: v.file.clone(),
            file_shown: escape(&v.file).into_owned(),
            line: v.line,
        })
        .collect()
}

/// The group's rows: its heading, then the verdicts that match `needle` unless `folded`.
/// Nothing when no verdict matches.
pub fn rows(verdicts: &[VerdictView], needle: &str, folded: bool) -> Vec<CheckRow> {
    let members: Vec<usize> = verdicts
        .iter()
        .enumerate()
        .filter(|(_, v)| needle.is_empty() || v.mentions(needle))
        .map(|(i, _)| i)
        .collect();
    if members.is_empty() {
        return Vec::new();
    }
    let mut out = vec![CheckRow::Verdicts(members.len())];
    if !folded {
        out.extend(members.into_iter().map(CheckRow::Verdict));
    }
    out
}

/// The group's heading: whose verdicts these are, and that they are not kubetriage's.
pub fn title(verdicts: &[VerdictView]) -> String {
    let tool = verdicts.first().map(|v| v.tool.as_str()).unwrap_or("");
    format!("{tool}'s own verdicts, not kubetriage's")
}

/// The status line while a verdict is selected: where `enter` leads.
pub fn status(v: &VerdictView) -> String {
    format!(
        "{}'s verdict {}: enter opens {} at line {}",
        v.tool, v.name, v.file_shown, v.line
    )
}

/// A tool's severity word in the colour of ours that means the same.
fn style(severity: &str) -> Style {
    match severity.to_ascii_lowercase().as_str() {
        "error" | "fail" | "failed" | "critical" => Style::new().fg(Color::Red),
        "warn" | "warning" => Style::new().fg(Color::Yellow),
        "pass" | "ok" => Style::new().fg(Color::Green),
        _ => Style::new().fg(Color::DarkGray),
    }
}

/// One verdict as a row of the check list, `width` columns wide: the tool's severity, the
/// verdict's title in the id column (`title_w` wide), then its message.
pub fn row(v: &VerdictView, selected: bool, width: usize, title_w: usize) -> Line<'static> {
    let fixed = 1 + 2 + 9 + 2;
    let title_w = title_w.min(width.saturating_sub(fixed));
    let message_w = width.saturating_sub(fixed + title_w);
    let title = if v.title.is_empty() {
        &v.name
    } else {
        &v.title
    };
    Line::from(vec![
        Span::raw(if selected { "›" } else { " " }),
        Span::raw("  "),
        Span::styled(super::draw::pad(&v.severity, 8) + " ", style(&v.severity)),
        Span::styled(
            super::draw::pad(title, title_w),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw("  "),
        Span::raw(super::draw::pad(&v.message, message_w)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(message: &str) -> ToolVerdict {
        ToolVerdict {
            tool: "troubleshoot".into(),
            name: "node.count".into(),
            severity: "warn".into(),
            title: "Node Count".into(),
            message: message.into(),
            file: "analysis.json".into(),
            line: 3,
        }
    }

    #[test]
    fn messages_are_one_escaped_line() {
        let v = views(&[verdict("two\nlines\x1b]0;title\x07")]);
        assert_eq!(v[0].message, "two lines\\x1b]0;title\\x07");
    }

    #[test]
    fn rows_follow_the_filter_and_the_fold() {
        let v = views(&[verdict("needs 3 nodes"), verdict("other")]);
        assert_eq!(
            rows(&v, "", false),
            vec![
                CheckRow::Verdicts(2),
                CheckRow::Verdict(0),
                CheckRow::Verdict(1)
            ]
        );
        assert_eq!(
            rows(&v, "3 nodes", false),
            vec![CheckRow::Verdicts(1), CheckRow::Verdict(0)]
        );
        assert_eq!(rows(&v, "", true), vec![CheckRow::Verdicts(2)]);
        assert!(rows(&v, "absent", false).is_empty());
    }
}
