//! An evidence excerpt is one log or file line, often far wider than a screen or a ticket. What
//! proves the finding is the part a check matched, usually well after a timestamp, a host name
//! and a process id; shortening keeps the part around it and marks what was left out with `…`.

use crate::spec::Check;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The byte offset in `line` (already escaped for display) of what a reader must see: the
/// first match of one of the check's log patterns, else the message after the prefixes of
/// journald, klog or a timestamp, else the start.
pub fn focus(line: &str, check: Option<&Check>) -> usize {
    if let Some(c) = check {
        for s in &c.scans {
            if let Some(m) = s.regex.find(line.as_bytes())
                && line.is_char_boundary(m.start())
            {
                return m.start();
            }
        }
    }
    let msg = crate::logline::parse(line, None).message;
    let start = msg.as_ptr() as usize;
    let base = line.as_ptr() as usize;
    if start >= base && start <= base + line.len() {
        start - base
    } else {
        0
    }
}

/// `line` in at most `width` columns, keeping the text from a little before `focus` on;
/// `…` marks the parts left out.
pub fn shorten(line: &str, width: usize, focus: usize) -> String {
    if line.width() <= width {
        return line.to_string();
    }
    if width < 4 {
        return line.chars().take(width).collect();
    }
    let mut focus = focus.min(line.len());
    while !line.is_char_boundary(focus) {
        focus -= 1;
    }
    // The start when the focus is in the first half anyway; else a few words before it.
    if line[..focus].width() <= width / 2 {
        let mut out = String::new();
        let mut used = 0;
        for c in line.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width - 1 {
                break;
            }
            used += w;
            out.push(c);
        }
        out.push('…');
        return out;
    }
    let before = (width / 6).min(12);
    let mut start = focus;
    let mut cols = 0;
    for (i, c) in line[..focus].char_indices().rev() {
        let w = c.width().unwrap_or(0);
        if cols + w > before {
            break;
        }
        cols += w;
        start = i;
    }
    // Start at a word when there is one close by.
    if let Some(p) = line[start..focus].find(' ') {
        start += p + 1;
    }
    // The tail must fill the width: move the start back while it does not.
    let tail_w = line[start..].width();
    if tail_w + 1 < width {
        let mut need = width - 1 - tail_w;
        for (i, c) in line[..start].char_indices().rev() {
            let w = c.width().unwrap_or(0);
            if w > need {
                break;
            }
            need -= w;
            start = i;
        }
    }
    let lead = if start > 0 { "…" } else { "" };
    let room = width - lead.width();
    let rest = &line[start..];
    if rest.width() <= room {
        return format!("{lead}{rest}");
    }
    let mut out = String::from(lead);
    let mut used = 0;
    for c in rest.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `text` without the indentation all its lines share. An excerpt cut out of a pretty-printed
/// list starts twenty or more columns deep; on an 80-column report that indentation would
/// push the value that proves the finding past the edge. Lines keep their indentation
/// relative to each other, so a multi-line excerpt still reads as the file does.
pub fn dedent(text: &str) -> String {
    let common = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    if common == 0 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, l) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // Only blank lines can be shorter than the shared indentation.
        out.push_str(l.get(common..).unwrap_or(""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_kept() {
        assert_eq!(shorten("abc", 10, 2), "abc");
    }

    #[test]
    fn the_focus_stays_in_view() {
        let line = "Nov 20 09:30:43 cp-1 kubelet[1187]: E1120 09:30:43.552671    1187 server.go:302] failed to run Kubelet: misconfiguration: kubelet cgroup driver: \"systemd\" is different from docker cgroup driver: \"cgroupfs\"";
        let f = line.find("misconfiguration").unwrap();
        for w in [40, 60, 80] {
            let s = shorten(line, w, f);
            assert!(s.width() <= w, "{s}");
            assert!(s.contains("misconfig"), "at {w}: {s}");
            assert!(s.starts_with('…'));
        }
        // Near the end: the window ends with the line, no trailing mark.
        let s = shorten(line, 40, line.find("cgroupfs").unwrap());
        assert!(s.ends_with("\"cgroupfs\""), "{s}");
        assert_eq!(s.width(), 40);
    }

    #[test]
    fn without_a_pattern_the_message_after_the_prefixes_is_the_focus() {
        let line = "Nov 20 09:30:43 cp-1 kubelet[1187]: E1120 09:30:43.552671    1187 server.go:302] failed to run Kubelet";
        let f = focus(line, None);
        assert!(
            line[f..].starts_with("failed to run") || line[f..].starts_with("server.go"),
            "{}",
            &line[f..]
        );
    }

    #[test]
    fn dedent_keeps_relative_indentation() {
        assert_eq!(dedent("      \"a\": 1"), "\"a\": 1");
        assert_eq!(
            dedent("    {\n      \"a\": 1\n\n    }"),
            "{\n  \"a\": 1\n\n}"
        );
        assert_eq!(dedent("x\n  y"), "x\n  y");
        assert_eq!(dedent("\t\tfoo\n\t\t\tbar"), "foo\n\tbar");
    }

    #[test]
    fn wide_characters_count_as_two() {
        let line = "日本語のログ行です。".repeat(10);
        let s = shorten(&line, 21, 60);
        assert!(s.width() <= 21, "{s}");
    }
}
