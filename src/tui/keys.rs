//! Keys → actions. A pure function of the key and of what is on screen: no I/O, no state
//! change, so that the whole key map is testable and documented in one place (the help screen
//! and the footer are generated from the tables below).
//!
//! The conventions are the ones users bring from k9s, less and lnav: `j`/`k`, `g`/`G`,
//! `ctrl-d`/`ctrl-u`, `enter` drills down, `esc` goes back, `q` quits at the top, `/` searches.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What is in front of the user, as far as keys are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A text prompt (filter or search) is open: letters go to it.
    Prompt,
    Help,
    Checks,
    Files,
    Collection,
    Detail,
    Viewer,
    /// The hits of a search across the bundle.
    Search,
    /// A pod's or a node's view.
    Object,
    /// The timeline, whole or around a line.
    Timeline,
}

/// Which top-level view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Checks,
    Files,
    Collection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// `q`: back one screen, or quit at the top.
    Back,
    /// `esc`: clear the active filter or search first, then back.
    Escape,
    Up,
    Down,
    Top,
    Bottom,
    HalfPageDown,
    HalfPageUp,
    PageDown,
    PageUp,
    Left,
    Right,
    Enter,
    /// Collapse or expand a group or folder.
    Toggle,
    NextPane,
    PrevPane,
    /// `/`: open the filter or search prompt.
    Search,
    NextMatch,
    PrevMatch,
    Help,
    FindingsOnly,
    /// Show or hide one severity (index into `Severity::ALL`).
    Severity(usize),
    NextEvidence,
    PrevEvidence,
    Wrap,
    /// Copy the selected finding (summary and what to do) to the clipboard.
    Copy,
    GoTab(Tab),
    PromptInput(char),
    PromptBackspace,
    PromptClear,
    PromptSubmit,
    PromptCancel,
    /// `s`: search every file of the bundle.
    BundleSearch,
    /// `:`: go to a line.
    GotoPrompt,
    /// `&`: show only the lines that match.
    FilterPrompt,
    /// A digit of a count (`42G`); `0` alone goes to the first column.
    Digit(u8),
    /// `$`: scroll sideways to the end of the longest line shown.
    LineEnd,
    /// `p` in a check or the viewer: the view of the pod or node the line names.
    ObjectView,
    /// `o`: open the file at the line in `$PAGER`.
    OpenPager,
    /// `v`: open the file at the line in `$EDITOR`.
    OpenEditor,
    /// `t`: the timeline (around the evidence or viewer line, if any).
    Timeline,
    /// `+`: a wider window around the line.
    Widen,
    /// `-`: a narrower one.
    Narrow,
}

/// The action of `key` in `mode`, if it has one.
pub fn action(mode: Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Quit);
    }
    if mode == Mode::Prompt {
        return match key.code {
            KeyCode::Esc => Some(Action::PromptCancel),
            KeyCode::Enter => Some(Action::PromptSubmit),
            KeyCode::Backspace => Some(Action::PromptBackspace),
            KeyCode::Char('u') if ctrl => Some(Action::PromptClear),
            KeyCode::Char(c) if !ctrl && !alt => Some(Action::PromptInput(c)),
            _ => None,
        };
    }
    if mode == Mode::Help {
        return match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => Some(Action::Help),
            _ => None,
        };
    }
    let top_level = matches!(mode, Mode::Checks | Mode::Files | Mode::Collection);
    let a = match key.code {
        KeyCode::Char('d') if ctrl => Action::HalfPageDown,
        KeyCode::Char('u') if ctrl => Action::HalfPageUp,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        _ if ctrl || alt => return None,
        KeyCode::Char('q') => Action::Back,
        KeyCode::Esc => Action::Escape,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('h') | KeyCode::Left => Action::Left,
        KeyCode::Char('l') | KeyCode::Right => Action::Right,
        KeyCode::Enter => Action::Enter,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Char('/') => Action::Search,
        KeyCode::Char('n') => Action::NextMatch,
        KeyCode::Char('N') => Action::PrevMatch,
        KeyCode::Char(' ') if mode == Mode::Viewer => Action::PageDown,
        KeyCode::Char('b') if mode == Mode::Viewer => Action::PageUp,
        KeyCode::Char(' ') if matches!(mode, Mode::Checks | Mode::Files) => Action::Toggle,
        KeyCode::Char('w') if mode == Mode::Viewer => Action::Wrap,
        KeyCode::Char('y') if matches!(mode, Mode::Detail | Mode::Viewer) => Action::Copy,
        KeyCode::Char(':') if mode == Mode::Viewer => Action::GotoPrompt,
        KeyCode::Char('&') if mode == Mode::Viewer => Action::FilterPrompt,
        KeyCode::Char(c @ '0'..='9') if mode == Mode::Viewer => Action::Digit(c as u8 - b'0'),
        KeyCode::Char('$') if mode == Mode::Viewer => Action::LineEnd,
        KeyCode::Char('o') if mode == Mode::Viewer => Action::OpenPager,
        KeyCode::Char('v') if mode == Mode::Viewer => Action::OpenEditor,
        KeyCode::Char('s') if top_level => Action::BundleSearch,
        KeyCode::Char('t') if top_level || matches!(mode, Mode::Detail | Mode::Viewer) => {
            Action::Timeline
        }
        KeyCode::Char('+') | KeyCode::Char('=') if mode == Mode::Timeline => Action::Widen,
        KeyCode::Char('-') if mode == Mode::Timeline => Action::Narrow,
        KeyCode::Char('f') if mode == Mode::Timeline => Action::FindingsOnly,
        KeyCode::Char(c @ '1'..='4') if mode == Mode::Timeline => {
            Action::Severity(c as usize - '1' as usize)
        }
        KeyCode::Char('p') if matches!(mode, Mode::Detail | Mode::Viewer) => Action::ObjectView,
        KeyCode::Char('e') | KeyCode::Char(']') if mode == Mode::Viewer => Action::NextEvidence,
        KeyCode::Char('E') | KeyCode::Char('[') if mode == Mode::Viewer => Action::PrevEvidence,
        KeyCode::Char('f') if mode == Mode::Checks => Action::FindingsOnly,
        KeyCode::Char(c @ '1'..='4') if mode == Mode::Checks => {
            Action::Severity(c as usize - '1' as usize)
        }
        KeyCode::Char('c') if top_level => Action::GoTab(Tab::Checks),
        KeyCode::Char('b') if top_level => Action::GoTab(Tab::Files),
        KeyCode::Char('p') if top_level => Action::GoTab(Tab::Collection),
        _ => return None,
    };
    Some(a)
}

/// The keys of each view, for `?`: (keys, what they do).
pub fn help(mode: Mode) -> &'static [(&'static str, &'static str)] {
    match mode {
        Mode::Checks => &[
            ("j/k ↑/↓", "move"),
            ("g/G", "first / last"),
            ("ctrl-d/ctrl-u PgDn/PgUp", "half page / page"),
            ("enter", "open the check (on a group: collapse or expand)"),
            ("space h/l", "collapse or expand the group"),
            (
                "/",
                "filter as you type: id, title, or a name in the findings (pod, node)",
            ),
            ("s", "search every file of the bundle"),
            ("t", "the timeline of the whole bundle"),
            ("f", "findings only"),
            ("1 2 3 4", "show or hide critical, error, warning, info"),
            ("esc", "clear the filter"),
            ("tab c b p", "checks, bundle files, collection problems"),
            ("q ctrl-c", "quit"),
        ],
        Mode::Files => &[
            ("j/k ↑/↓", "move"),
            ("g/G", "first / last"),
            ("ctrl-d/ctrl-u PgDn/PgUp", "half page / page"),
            ("enter", "open the file (on a folder: collapse or expand)"),
            ("space h/l", "collapse or expand the folder"),
            ("/", "filter by path as you type"),
            ("s", "search every file of the bundle"),
            ("t", "the timeline of the whole bundle"),
            ("esc", "clear the filter"),
            ("tab c b p", "checks, bundle files, collection problems"),
            ("q ctrl-c", "quit"),
        ],
        Mode::Collection => &[
            ("j/k ↑/↓", "move"),
            ("g/G", "first / last"),
            (
                "enter",
                "open the check it left not evaluated, or the file if collected",
            ),
            ("t", "the timeline of the whole bundle"),
            ("tab c b p", "checks, bundle files, collection problems"),
            ("q ctrl-c", "quit"),
        ],
        Mode::Detail => &[
            ("j/k ↑/↓", "move in the focused pane"),
            ("tab", "switch between the text and the evidence"),
            ("ctrl-d/ctrl-u", "scroll the text"),
            ("g/G", "first / last"),
            ("enter", "open the evidence line in the file"),
            (
                "t",
                "the timeline around the evidence line's time (± 10 min)",
            ),
            (
                "y",
                "copy the selected evidence's finding (summary, evidence, what to do) to the clipboard",
            ),
            ("h/l ←/→", "scroll wide command lines sideways"),
            (
                "p",
                "the pod or node the evidence names: status, containers, events, logs, findings",
            ),
            ("esc q", "back to the list"),
            ("ctrl-c", "quit"),
        ],
        Mode::Viewer => &[
            ("j/k ↑/↓", "move a line"),
            ("ctrl-d/ctrl-u", "half page down / up"),
            ("space/b PgDn/PgUp", "page down / up"),
            ("g/G", "first / last line"),
            (":N NG", "go to line N"),
            ("e/E ]/[", "next / previous evidence line"),
            (
                "/",
                "search (regex; case-insensitive unless it has a capital)",
            ),
            ("n/N", "next / previous match"),
            ("&", "show only the lines that match (empty: all lines)"),
            ("h/l ←/→ 0 $", "scroll sideways, to the start, to the end"),
            ("y", "copy path:line to the clipboard"),
            ("o v", "open the file at the line in $PAGER, $EDITOR"),
            ("p", "the pod or node the line or file names"),
            ("t", "the timeline around this line's time (± 10 min)"),
            ("w", "wrap long lines on or off"),
            ("esc", "clear the search, then back"),
            ("q", "back"),
            ("ctrl-c", "quit"),
        ],
        Mode::Timeline => &[
            ("j/k ↑/↓", "move"),
            ("g/G", "first / last"),
            ("ctrl-d/ctrl-u PgDn/PgUp", "half page / page"),
            ("enter", "open the entry's file at its line"),
            ("/", "filter: message, pod, node, file, kind, check"),
            ("1 2 3 4", "show or hide critical, error, warning, info"),
            ("f", "only the entries a finding cites (marked *)"),
            ("+ -", "wider / narrower window; whole bundle: - zooms in"),
            ("*", "marks an entry a finding's evidence cites"),
            ("▲", "the selected entry's interval in the histogram"),
            ("esc", "clear the filter, then back"),
            ("q", "back"),
            ("ctrl-c", "quit"),
        ],
        Mode::Object => &[
            ("j/k ↑/↓", "move"),
            ("g/G", "first / last"),
            ("enter", "open the log, file, check or pod of the row"),
            ("esc q", "back"),
            ("ctrl-c", "quit"),
        ],
        Mode::Search => &[
            ("j/k ↑/↓", "move"),
            ("g/G", "first / last"),
            ("ctrl-d/ctrl-u PgDn/PgUp", "half page / page"),
            ("enter", "open the file at the line"),
            ("esc q", "back"),
            ("ctrl-c", "quit"),
        ],
        Mode::Prompt => &[
            ("enter", "keep"),
            ("esc", "cancel"),
            ("backspace ctrl-u", "delete a character / all"),
        ],
        Mode::Help => &[("esc ? q", "close the help")],
    }
}

/// The main keys of each view, for the footer.
pub fn footer(mode: Mode) -> &'static [(&'static str, &'static str)] {
    match mode {
        Mode::Checks => &[
            ("enter", "open"),
            ("/", "filter"),
            ("s", "search"),
            ("t", "timeline"),
            ("f", "findings"),
            ("1-4", "severity"),
            ("tab", "files/problems"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Mode::Files => &[
            ("enter", "open"),
            ("/", "filter"),
            ("s", "search"),
            ("space", "fold"),
            ("tab", "next view"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Mode::Collection => &[
            ("enter", "open"),
            ("tab", "next view"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Mode::Detail => &[
            ("enter", "show line"),
            ("y", "copy"),
            ("p", "pod/node"),
            ("tab", "pane"),
            ("j/k", "move"),
            ("esc", "back"),
            ("?", "help"),
        ],
        Mode::Viewer => &[
            ("e/E", "evidence"),
            ("/", "search"),
            ("n/N", "match"),
            ("&", "only"),
            (":", "line"),
            ("y", "copy"),
            ("p", "pod/node"),
            ("o/v", "open"),
            ("esc", "back"),
            ("?", "help"),
        ],
        Mode::Timeline => &[
            ("enter", "open"),
            ("/", "filter"),
            ("1-4", "severity"),
            ("f", "* cited"),
            ("+/-", "window"),
            ("esc", "back"),
            ("?", "help"),
        ],
        Mode::Object => &[
            ("enter", "open"),
            ("j/k", "move"),
            ("esc", "back"),
            ("?", "help"),
        ],
        Mode::Search => &[
            ("enter", "open at the line"),
            ("j/k", "move"),
            ("esc", "back"),
            ("?", "help"),
        ],
        Mode::Prompt => &[("enter", "keep"), ("esc", "cancel")],
        Mode::Help => &[("esc", "close")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn letters_go_to_an_open_prompt() {
        for c in ['q', 'j', 'n', '/', '?', 'G'] {
            assert_eq!(
                action(Mode::Prompt, key(KeyCode::Char(c))),
                Some(Action::PromptInput(c))
            );
        }
        assert_eq!(
            action(Mode::Prompt, key(KeyCode::Esc)),
            Some(Action::PromptCancel)
        );
        assert_eq!(action(Mode::Prompt, ctrl('c')), Some(Action::Quit));
    }

    #[test]
    fn ctrl_c_quits_everywhere() {
        for m in [
            Mode::Prompt,
            Mode::Help,
            Mode::Checks,
            Mode::Files,
            Mode::Collection,
            Mode::Detail,
            Mode::Viewer,
            Mode::Search,
            Mode::Object,
            Mode::Timeline,
        ] {
            assert_eq!(action(m, ctrl('c')), Some(Action::Quit), "{m:?}");
        }
    }

    #[test]
    fn the_same_letter_means_what_the_view_needs() {
        let b = key(KeyCode::Char('b'));
        assert_eq!(action(Mode::Viewer, b), Some(Action::PageUp));
        assert_eq!(action(Mode::Checks, b), Some(Action::GoTab(Tab::Files)));
        assert_eq!(action(Mode::Detail, b), None);
        assert_eq!(action(Mode::Checks, ctrl('d')), Some(Action::HalfPageDown));
        assert_eq!(action(Mode::Viewer, ctrl('u')), Some(Action::HalfPageUp));
        assert_eq!(
            action(Mode::Checks, key(KeyCode::Char('3'))),
            Some(Action::Severity(2))
        );
        assert_eq!(action(Mode::Help, key(KeyCode::Char('j'))), None);
        assert_eq!(
            action(Mode::Viewer, key(KeyCode::Char('0'))),
            Some(Action::Digit(0))
        );
        assert_eq!(
            action(Mode::Checks, key(KeyCode::Char('s'))),
            Some(Action::BundleSearch)
        );
        assert_eq!(action(Mode::Viewer, key(KeyCode::Char('s'))), None);
        let t = key(KeyCode::Char('t'));
        for m in [Mode::Checks, Mode::Files, Mode::Detail, Mode::Viewer] {
            assert_eq!(action(m, t), Some(Action::Timeline), "{m:?}");
        }
        assert_eq!(action(Mode::Timeline, t), None);
        assert_eq!(
            action(Mode::Timeline, key(KeyCode::Char('+'))),
            Some(Action::Widen)
        );
        assert_eq!(
            action(Mode::Timeline, key(KeyCode::Char('2'))),
            Some(Action::Severity(1))
        );
        assert_eq!(
            action(Mode::Viewer, key(KeyCode::Char('y'))),
            Some(Action::Copy)
        );
        let release = KeyEvent {
            kind: KeyEventKind::Release,
            ..key(KeyCode::Char('j'))
        };
        assert_eq!(action(Mode::Checks, release), None);
    }
}
