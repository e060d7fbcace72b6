//! Remediation text mixes sentences (pre-wrapped in the spec files near 95 columns), list items,
//! and commands or YAML to paste. Every output lays it out for its own width: sentences are
//! re-flowed at word boundaries, and a command is never broken where a copy of it would stop
//! working: only at a space outside quotes, with a shell continuation (` \`), so that what a
//! terminal's selection copies still runs. YAML and other text that cannot be continued is kept
//! on one row (the terminal UI scrolls it sideways).

use unicode_width::UnicodeWidthStr;

/// One piece of a remediation text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Sentences: `indent` spaces before the first row, `hang` before the others (a list item's
    /// text lines up after its marker). `text` is joined into one line.
    Para {
        indent: usize,
        hang: usize,
        text: String,
    },
    /// Lines to copy as they are, with their own indentation (relative to the text).
    Code {
        lines: Vec<String>,
    },
    Blank,
}

/// Commands that start a line to run, when they are indented deeper than the text around.
const COMMANDS: &[&str] = &[
    "kubectl",
    "gcloud",
    "sudo",
    "systemctl",
    "journalctl",
    "crictl",
    "docker",
    "kubeadm",
    "yum",
    "apt-get",
    "dnf",
    "curl",
    "ip",
    "helm",
    "setenforce",
];

/// A pre-wrapped line this long continues on the next one; shorter lines end where the author
/// wanted them to.
const PREWRAPPED: usize = 60;

fn indent_of(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

/// The marker of a list item (`- `, `* `, `1. `, `2) `) at the start of `t`, with its length.
fn list_marker(t: &str) -> Option<usize> {
    if t.starts_with("- ") || t.starts_with("* ") {
        return Some(2);
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 3 {
        let rest = &t[digits..];
        if rest.starts_with(". ") || rest.starts_with(") ") {
            return Some(digits + 2);
        }
    }
    None
}

/// True for a line that reads as YAML or JSON rather than a command: `key: value`, `- item`,
/// `---`, `{`, `[`.
pub fn yaml_like(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with("- ") || t == "-" || t.starts_with("---") || t.starts_with(['{', '[', '#']) {
        return true;
    }
    let key: String = t
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | '"' | '\''))
        .collect();
    !key.is_empty() && !key.starts_with('-') && {
        let rest = &t[key.len()..];
        rest == ":" || rest.starts_with(": ")
    }
}

fn starts_with_command(t: &str) -> bool {
    let first = t.split_whitespace().next().unwrap_or("");
    COMMANDS.contains(&first)
}

/// Splits a remediation into paragraphs, code and blank lines.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    // The content indent of the last prose line, and whether it asked for what follows (`:`).
    let mut ctx = 0usize;
    let mut announced = false;
    // The open code block: its first line's indent, and whether its last line continues.
    let mut code: Option<(usize, bool)> = None;
    // Whether the last paragraph may take the next line (pre-wrapped, same indent).
    let mut open_para = false;
    for raw in text.split('\n') {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            out.push(Block::Blank);
            code = None;
            open_para = false;
            continue;
        }
        let ind = indent_of(line);
        let t = &line[ind..];
        if let Some((start, cont)) = code {
            let yaml_block = out.last().is_some_and(|b| match b {
                Block::Code { lines } => lines.iter().any(|l| yaml_like(l)),
                _ => false,
            });
            if cont || ind > start || (ind == start && yaml_block && yaml_like(t)) {
                if let Some(Block::Code { lines }) = out.last_mut() {
                    lines.push(line.to_string());
                }
                code = Some((start, t.ends_with('\\')));
                continue;
            }
            code = None;
        }
        let starts_code = t == "---"
            || ind >= ctx + 4
            || (announced
                && ind > ctx.saturating_sub(2)
                && yaml_like(t)
                && list_marker(t).is_none())
            || (ind > ctx && starts_with_command(t));
        let first_prose = out.iter().all(|b| matches!(b, Block::Blank));
        if starts_code && !first_prose {
            out.push(Block::Code {
                lines: vec![line.to_string()],
            });
            code = Some((ind, t.ends_with('\\')));
            open_para = false;
            continue;
        }
        let marker = list_marker(t);
        announced = t.ends_with(':');
        if marker.is_none()
            && open_para
            && let Some(Block::Para { hang, text, .. }) = out.last_mut()
            && *hang == ind
        {
            text.push(' ');
            text.push_str(t);
            open_para = t.width() + ind >= PREWRAPPED;
            ctx = ind;
            continue;
        }
        let hang = ind + marker.unwrap_or(0);
        out.push(Block::Para {
            indent: ind,
            hang,
            text: t.to_string(),
        });
        ctx = hang;
        open_para = line.width() >= PREWRAPPED;
    }
    while matches!(out.last(), Some(Block::Blank)) {
        out.pop();
    }
    out
}

/// The words of a sentence: split at spaces, except inside a `code span`, which stays whole
/// so that a command quoted in a sentence is never split over two rows.
fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut in_code = false;
    for (i, c) in text.char_indices() {
        if c == '`' {
            in_code = !in_code;
        }
        if c == ' ' && !in_code {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Word-wraps `text` into rows of at most `width` columns: the first row after `indent` spaces,
/// the others after `hang`. A word (or a `code span`) longer than a row keeps a row of its own,
/// whole.
pub fn wrap(text: &str, width: usize, indent: usize, hang: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut cur = " ".repeat(indent);
    let mut empty = true;
    for word in words(text) {
        let need = cur.width() + usize::from(!empty) + word.width();
        if !empty && need > width {
            rows.push(std::mem::replace(&mut cur, " ".repeat(hang)));
            empty = true;
        }
        if !empty {
            cur.push(' ');
        }
        cur.push_str(word);
        empty = false;
    }
    if !empty || rows.is_empty() {
        rows.push(cur);
    }
    rows
}

/// Lays out one line of code at `width` columns. A command is broken only at spaces outside
/// quotes, every row but the last ending in ` \` and the next ones indented 4 more, so that
/// the rows copied together still run in a shell. YAML, JSON and a command with no place to
/// break stay whole (wider than `width`).
pub fn code_rows(line: &str, width: usize) -> Vec<String> {
    if line.width() <= width || yaml_like(line) {
        return vec![line.to_string()];
    }
    let ind = indent_of(line);
    // Byte offsets of spaces outside quotes, where the line may break.
    let mut breaks = Vec::new();
    let (mut single, mut double, mut escaped) = (false, false, false);
    for (i, c) in line.char_indices().skip(ind) {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            // Never before a final continuation mark: it belongs to the row before it.
            ' ' if !single && !double && line[i..].trim() != "\\" => breaks.push(i),
            _ => {}
        }
    }
    let cont = " ".repeat(ind + 4);
    let mut rows = Vec::new();
    let mut start = 0usize;
    let mut prefix = String::new();
    loop {
        let rest = &line[start..];
        if prefix.width() + rest.width() <= width {
            rows.push(format!("{prefix}{rest}"));
            break;
        }
        // The last break that keeps `prefix + piece + " \"` within the width.
        let mut best = None;
        for &b in breaks.iter().filter(|&&b| b > start) {
            let piece = &line[start..b];
            if prefix.width() + piece.trim_end().width() + 2 <= width {
                best = Some(b);
            } else {
                break;
            }
        }
        // No break fits: take the first one after the overflow, or the whole rest.
        let b = match best.or_else(|| breaks.iter().copied().find(|&b| b > start)) {
            Some(b) if !line[b..].trim().is_empty() => b,
            _ => {
                rows.push(format!("{prefix}{rest}"));
                break;
            }
        };
        let piece = line[start..b].trim_end();
        rows.push(format!("{prefix}{piece} \\"));
        start = b + 1;
        while line[start..].starts_with(' ') {
            start += 1;
        }
        prefix = cont.clone();
    }
    rows
}

/// The whole text laid out at `width` columns, `indent` spaces before every row: paragraphs
/// re-flowed, code broken only where a copy still runs. Each row tells whether it is code.
pub fn layout(text: &str, width: usize, indent: usize) -> Vec<(String, bool)> {
    let avail = width.saturating_sub(indent).max(20);
    let pad = " ".repeat(indent);
    let mut rows = Vec::new();
    for b in blocks(text) {
        match b {
            Block::Blank => rows.push((String::new(), false)),
            Block::Para {
                indent: i,
                hang,
                text,
            } => {
                for r in wrap(&text, avail, i, hang) {
                    rows.push((format!("{pad}{r}"), false));
                }
            }
            Block::Code { lines } => {
                for l in lines {
                    for r in code_rows(&l, avail) {
                        rows.push((format!("{pad}{r}"), true));
                    }
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const WI: &str = "Let the KSA impersonate the GSA:\n    gcloud iam service-accounts add-iam-policy-binding payments-api@shop-prod-1234.iam.gserviceaccount.com \\\n        --role=roles/iam.workloadIdentityUser \\\n        --member=\"serviceAccount:shop-prod-1234.svc.id.goog[payments/api]\" \\\n        --project=shop-prod-1234\nPods pick up the change within a few minutes; no restart is needed.";

    #[test]
    fn commands_and_sentences_are_told_apart() {
        let b = blocks(WI);
        assert_eq!(b.len(), 3, "{b:?}");
        assert!(matches!(&b[0], Block::Para { text, .. } if text.ends_with("GSA:")));
        assert!(matches!(&b[1], Block::Code { lines } if lines.len() == 4));
        assert!(matches!(&b[2], Block::Para { text, .. } if text.starts_with("Pods pick")));
    }

    #[test]
    fn prewrapped_sentences_are_joined_and_list_items_kept() {
        let t = "Make both sides use the same driver; systemd is the recommended one on hosts booted with\nsystemd. On node cp-1, either\n  - set the kubelet's driver to the runtime's: `cgroupDriver: systemd` in\n    /var/lib/kubelet/config.yaml, then `systemctl restart kubelet`; or\n  - set the runtime's driver.\nShort line.\nAnother short line.";
        let b = blocks(t);
        assert_eq!(b.len(), 5, "{b:#?}");
        assert!(
            matches!(&b[0], Block::Para { text, .. } if text.ends_with("booted with systemd. On node cp-1, either"))
        );
        assert!(
            matches!(&b[1], Block::Para { indent: 2, hang: 4, text } if text.ends_with("`systemctl restart kubelet`; or"))
        );
        assert!(matches!(&b[3], Block::Para { text, .. } if text == "Short line."));
    }

    #[test]
    fn yaml_after_a_colon_is_code_and_ends_at_a_sentence() {
        let t = "Grant it (save as a file):\n---\napiVersion: v1\nkind: Role\nrules:\n- apiGroups: [\"\"]\n  verbs: [\"list\"]\nOr grant the IAM permission GKE named on the project, for example through a custom role:\n    gcloud iam roles create x";
        let b = blocks(t);
        assert!(
            matches!(&b[1], Block::Code { lines } if lines.len() == 6),
            "{b:#?}"
        );
        assert!(matches!(&b[2], Block::Para { text, .. } if text.starts_with("Or grant")));
        assert!(matches!(&b[3], Block::Code { .. }));
    }

    #[test]
    fn a_command_breaks_only_at_spaces_with_a_continuation() {
        let line = "    gcloud iam service-accounts add-iam-policy-binding payments-api@shop-prod-1234.iam.gserviceaccount.com \\";
        for width in [40, 60, 80, 100] {
            let rows = code_rows(line, width);
            // Joined as a shell would join them, the rows give back the command.
            let joined = rows
                .iter()
                .map(|r| r.trim_start())
                .collect::<Vec<_>>()
                .join("\n");
            let shell = joined.replace(" \\\n", " ");
            assert_eq!(shell, line.trim_start(), "at {width}: {rows:?}");
            for r in &rows[..rows.len() - 1] {
                assert!(r.ends_with(" \\"), "{r}");
            }
        }
        // Never inside quotes.
        let q = "    kubectl patch ds kube-proxy -p='{ \"spec\": { \"template\": { \"x\": 1 } } }' --type merge";
        for r in code_rows(q, 30) {
            assert_eq!(r.matches('\'').count() % 2, 0, "a quote left open: {r}");
        }
        // YAML stays whole.
        let y = "        command: [\"/bin/bash\", \"-c\", \"curl -sS http://169.254.169.254/computeMetadata/v1/\"]";
        assert_eq!(code_rows(y, 40), vec![y.to_string()]);
    }

    #[test]
    fn wrapping_keeps_words_whole() {
        let rows = wrap("alpha beta gamma delta epsilon", 12, 2, 4);
        assert_eq!(
            rows,
            vec!["  alpha beta", "    gamma", "    delta", "    epsilon"]
        );
        assert_eq!(wrap("x", 5, 0, 0), vec!["x"]);
        let rows = wrap("then run `systemctl restart docker` now", 20, 0, 0);
        assert_eq!(rows, vec!["then run", "`systemctl restart docker`", "now"]);
    }
}
