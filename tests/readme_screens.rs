//! The README shows the terminal UI's screens; this keeps them true. Each screen is drawn again
//! at the README's size, from the same bundle and the same keys, and must match the README's
//! block row for row (trailing spaces aside). After changing what a screen shows, capture it
//! again (`tmux` at 100 columns) and paste it into the README.

mod common;

use common::tui::{press, screen, testdata_bundle, tui_config};
use kubetriage::pipeline::{Progress, analyze_bundle};
use kubetriage::spec::Catalog;
use kubetriage::tui::state::App;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

/// The README's ```text blocks, in order.
fn readme_blocks() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let mut blocks = Vec::new();
    let mut rest = readme.as_str();
    while let Some(start) = rest.find("```text\n") {
        rest = &rest[start + 8..];
        let end = rest.find("```").unwrap();
        blocks.push(
            rest[..end]
                .lines()
                .map(|l| l.trim_end().to_string())
                .collect(),
        );
        rest = &rest[end + 3..];
    }
    blocks
}

/// The screen as a terminal shows it: a wide character takes its two cells once.
fn rows(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            let mut row = String::new();
            let mut x = 0;
            while x < buf.area.width {
                let sym = buf[(x, y)].symbol();
                row.push_str(sym);
                x += unicode_width::UnicodeWidthStr::width(sym).max(1) as u16;
            }
            row.trim_end().to_string()
        })
        .collect()
}

#[test]
fn the_readme_shows_the_screens_the_program_draws() {
    let blocks = readme_blocks();
    // (README block, keys from the check list of testdata/kubeadm-coredns-loop)
    let screens = [
        (0, ""),
        (1, "<enter>"),
        (2, "<enter>jjjj<enter>"),
        (3, "sHINFO<enter>"),
        (4, "<enter><tab>p"),
        (5, "b"),
    ];
    let cat = Arc::new(Catalog::embedded().unwrap());
    for (block, keys) in screens {
        let want = &blocks[block];
        let config = tui_config(testdata_bundle("kubeadm-coredns-loop"));
        let a = analyze_bundle(&config, &cat, &Progress::default()).unwrap();
        let mut app = App::new(cat.clone());
        app.set_analysis(a);
        let h = want.len() as u16;
        screen(&mut app, 100, h);
        press(&mut app, keys);
        let got = rows(&screen(&mut app, 100, h));
        assert_eq!(
            &got,
            want,
            "README block {} (keys {keys:?}) differs from the screen:\n{}",
            block + 1,
            got.join("\n")
        );
    }
}
