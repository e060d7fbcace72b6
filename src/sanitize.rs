//! Text from a bundle is written by strangers: before it reaches a terminal, every control
//! character and escape sequence is turned into visible text so that it is shown, never obeyed.

use std::borrow::Cow;

/// Escapes `s` for display on a terminal. Tabs become spaces (to the next multiple of 8 columns),
/// C0/C1 controls, DEL and bidirectional-override characters become `\xNN` / `\u{NNNN}` text.
/// Newlines are escaped too: callers split lines first.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut col = 0usize;
    for c in s.chars() {
        if c == '\t' {
            let n = 8 - (col % 8);
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else if needs_escape(c) {
            let e = if (c as u32) < 0x100 {
                format!("\\x{:02x}", c as u32)
            } else {
                format!("\\u{{{:04x}}}", c as u32)
            };
            col += e.len();
            out.push_str(&e);
        } else {
            out.push(c);
            col += 1;
        }
    }
    Cow::Owned(out)
}

/// Escapes a multi-line text line by line, keeping its newlines.
pub fn escape_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| escape(l.strip_suffix('\r').unwrap_or(l)).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn needs_escape(c: char) -> bool {
    matches!(c as u32, 0x00..=0x1f | 0x7f..=0x9f)
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape("hello world"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_are_made_visible() {
        assert_eq!(escape("\x1b]0;pwned\x07title"), "\\x1b]0;pwned\\x07title");
        assert_eq!(escape("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("\u{9b}31m"), "\\x9b31m");
        assert_eq!(escape("abc\u{202e}txt"), "abc\\u{202e}txt");
        assert_eq!(escape("cr\rlf\n"), "cr\\x0dlf\\x0a");
    }

    #[test]
    fn tabs_expand_to_columns() {
        assert_eq!(escape("\tx"), "        x");
        assert_eq!(escape("ab\tx"), "ab      x");
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(escape_lines("a\x1b\r\nb"), "a\\x1b\nb");
    }
}
