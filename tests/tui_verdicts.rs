//! A troubleshoot bundle's own verdicts (`analysis.json`) in the terminal UI: a group of the
//! check list after kubetriage's findings, labelled as troubleshoot's, each verdict opening
//! the file at its line. Rendered into `TestBackend` (snapshot at 80 columns) and run for real
//! in tmux.

mod common;

use common::tmux::Tmux;
use common::tui::{catalog_of, press, screen, testdata_bundle, text, tui_config};
use kubetriage::pipeline::{Progress, analyze_bundle};
use kubetriage::tui::state::{App, CheckRow, Screen};
use std::path::Path;

const CHECKS: &[&str] = &[
    "kubeadm/coredns-loop",
    "kubeadm/cgroup-driver-mismatch",
    "gke/metadata-server-crashloop",
];

const BUNDLE: &str = "foreign-troubleshoot-coredns-loop";

fn app_for(bundle: &Path) -> App {
    let cat = catalog_of(CHECKS);
    let a = analyze_bundle(&tui_config(bundle), &cat, &Progress::default()).unwrap();
    let mut app = App::new(cat);
    app.set_analysis(a);
    app
}

#[test]
fn verdicts_follow_the_findings_labelled_as_troubleshoots() {
    let mut app = app_for(&testdata_bundle(BUNDLE));
    let t = screen(&mut app, 80, 20);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    let findings = s.find("Checks with findings").unwrap();
    let verdicts = s
        .find("troubleshoot's own verdicts, not kubetriage's (1)")
        .unwrap_or_else(|| panic!("no verdict group:\n{s}"));
    let not_eval = s.find("Not evaluated").unwrap();
    assert!(findings < verdicts && verdicts < not_eval, "{s}");
    assert!(s.contains("warn     Node Count"), "{s}");
    assert!(s.contains("This application requires at least"), "{s}");
}

#[test]
fn a_verdict_opens_analysis_json_at_its_line() {
    let mut app = app_for(&testdata_bundle(BUNDLE));
    let rows = app.check_rows();
    let at = rows
        .iter()
        .position(|r| matches!(r, CheckRow::Verdict(0)))
        .unwrap();
    let first = app.checks.selected;
    for _ in first..at {
        press(&mut app, "j");
    }
    let s = text(&screen(&mut app, 80, 20));
    assert!(
        s.contains("troubleshoot's verdict node.count: enter opens analysis.json at line 3"),
        "{s}"
    );
    press(&mut app, "<enter>");
    match app.stack.last() {
        Some(Screen::Viewer(v)) => {
            assert_eq!(v.rel, "analysis.json");
            assert_eq!(v.cursor, 3);
        }
        other => panic!("not in the viewer: {other:?}"),
    }
    // Back, fold the group with `h` on a verdict, unfold it with enter on its heading.
    press(&mut app, "qh");
    assert!(app.checks.verdicts_folded);
    assert_eq!(
        app.check_rows().get(app.checks.selected),
        Some(&CheckRow::Verdicts(1))
    );
    press(&mut app, "<enter>");
    assert!(!app.checks.verdicts_folded);
    // A filter keeps the verdicts it matches; "findings only" leaves them out.
    press(&mut app, "/3 nodes<enter>");
    assert!(app.check_rows().contains(&CheckRow::Verdict(0)));
    press(&mut app, "<esc>f");
    assert!(!app.check_rows().contains(&CheckRow::Verdicts(1)));
}

#[test]
fn bundles_without_verdicts_show_no_group() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    let s = text(&screen(&mut app, 80, 20));
    assert!(!s.contains("own verdicts"), "{s}");
}

#[test]
fn tmux_shows_the_verdicts_and_opens_their_line() {
    let t = Tmux::new();
    let bundle = Path::new("testdata").join(BUNDLE).display().to_string();
    t.start_with(
        &[env!("CARGO_BIN_EXE_kubetriage"), "--format", "tui", &bundle],
        80,
        24,
        &[],
    );
    let list = t.wait_for("the verdict group", |s| {
        s.contains("troubleshoot's own verdicts, not kubetriage's (1)")
    });
    assert!(list.contains("Node Count"), "{list}");
    // The selection starts on the first check; the verdict follows the other checks with
    // findings and the group heading.
    let findings = list
        .lines()
        .skip_while(|l| !l.contains("Checks with findings"))
        .skip(1)
        .take_while(|l| !l.contains("own verdicts"))
        .count();
    let mut keys = vec!["j"; findings + 1];
    keys.push("Enter");
    t.keys(&keys);
    let viewer = t.wait_for("analysis.json at the verdict's line", |s| {
        s.contains("analysis.json") && s.contains("line 3/")
    });
    assert!(viewer.contains("\"name\": \"node.count\""), "{viewer}");
    t.keys(&["q", "q"]);
    t.wait_for("the program to end", |s| s.contains("kubetriage-exit="));
}
