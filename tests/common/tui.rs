//! The terminal UI driven in-process, for the `TestBackend` tests: a catalog cut to the checks
//! a test's snapshots show, the UI's configuration, keys typed as a person types them, and the
//! screen as text.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use kubetriage::bundle::Limits;
use kubetriage::cli::{Config, FailOn, Format};
use kubetriage::spec::Catalog;
use kubetriage::tui::state::App;
use kubetriage::tui::{handle_event, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;
use std::sync::Arc;

/// The catalog cut to `ids`: a fixed subset, so that checks added to the catalog later do not
/// change every snapshot.
pub fn catalog_of(ids: &[&str]) -> Arc<Catalog> {
    let mut cat = Catalog::embedded().unwrap();
    cat.checks.retain(|c| ids.contains(&c.spec.id.as_str()));
    assert_eq!(
        cat.checks.len(),
        ids.len(),
        "a check of the test set is missing"
    );
    Arc::new(cat)
}

/// The settings the terminal UI runs a bundle with.
pub fn tui_config(bundle: impl Into<PathBuf>) -> Config {
    Config {
        bundle: bundle.into(),
        more: Vec::new(),
        format: Format::Tui,
        fail_on: FailOn::Never,
        analyzers: None,
        limits: Limits::default(),
        threads: None,
        tuning: Default::default(),
    }
}

/// A bundle of testdata/ by a relative path, so that no path of the machine running the tests
/// shows in a snapshot.
pub fn testdata_bundle(name: &str) -> PathBuf {
    PathBuf::from("testdata").join(name)
}

/// Types `keys`: plain characters, or `<enter>`, `<esc>`, `<tab>`, `<bs>`, `<c-d>`...
pub fn press(app: &mut App, keys: &str) {
    let mut rest = keys;
    while let Some(c) = rest.chars().next() {
        let (code, mods, used) = if c == '<' {
            let end = rest.find('>').expect("unclosed <key>");
            let name = &rest[1..end];
            let (code, mods) = match name {
                "enter" => (KeyCode::Enter, KeyModifiers::NONE),
                "esc" => (KeyCode::Esc, KeyModifiers::NONE),
                "tab" => (KeyCode::Tab, KeyModifiers::NONE),
                "bs" => (KeyCode::Backspace, KeyModifiers::NONE),
                "down" => (KeyCode::Down, KeyModifiers::NONE),
                "up" => (KeyCode::Up, KeyModifiers::NONE),
                "pgdn" => (KeyCode::PageDown, KeyModifiers::NONE),
                "pgup" => (KeyCode::PageUp, KeyModifiers::NONE),
                "lt" => (KeyCode::Char('<'), KeyModifiers::NONE),
                n if n.starts_with("c-") => (
                    KeyCode::Char(n.chars().nth(2).unwrap()),
                    KeyModifiers::CONTROL,
                ),
                other => panic!("unknown key <{other}>"),
            };
            (code, mods, end + 1)
        } else {
            (KeyCode::Char(c), KeyModifiers::NONE, c.len_utf8())
        };
        handle_event(app, Event::Key(KeyEvent::new(code, mods)));
        // Background work (indexing, searching, collecting rows) finishes between keys, as
        // it would while a person reads the screen.
        while app.busy() {
            app.work(1 << 20);
        }
        rest = &rest[used..];
    }
}

/// The UI drawn on a `w` × `h` screen.
pub fn screen(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    render(&mut t, app).unwrap();
    t
}

/// The screen's cells as text, a line a row.
pub fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}
