//! The terminal UI's timeline view rendered into ratatui's `TestBackend`: opened from the check
//! list (the whole bundle) and from an evidence line (the entries around its time), with its
//! histogram, its filters, the window keys, and `enter` opening the entry's line in the viewer.

mod common;

use common::tui::{catalog_of, press, screen, testdata_bundle, text, tui_config};
use kubetriage::pipeline::{Progress, analyze_then_timeline};
use kubetriage::timeline::Timeline;
use kubetriage::tui::state::{App, Screen};
use kubetriage::tui::timeline::TimelineView;
use std::path::Path;

/// A fixed subset of the catalog (checks added later do not change the snapshots): those whose
/// evidence the `timeline-new-year` bundle's entries are cited by, and two that stay silent.
const CHECKS: &[&str] = &[
    "k8s/pod-oomkilled",
    "k8s/node-not-ready",
    "kubeadm/control-plane-crashloop",
    "kubeadm/coredns-loop",
    "gke/wi-binding-missing",
];

/// The app after the analysis, and the timeline the background thread would hand it next.
fn app_and_timeline(bundle: &Path) -> (App, Timeline) {
    let cat = catalog_of(CHECKS);
    let mut analysis = None;
    let tl = analyze_then_timeline(&tui_config(bundle), &cat, &Progress::default(), |a| {
        analysis = Some(a.unwrap());
        true
    })
    .expect("the timeline is built when it is wanted");
    let mut app = App::new(cat);
    app.set_analysis(analysis.unwrap());
    (app, tl)
}

fn app_for(bundle: &Path) -> App {
    let (mut app, tl) = app_and_timeline(bundle);
    app.set_timeline(tl);
    app
}

fn view(app: &App) -> &TimelineView {
    match app.stack.last() {
        Some(Screen::Timeline(t)) => t,
        _ => panic!("not in the timeline view"),
    }
}

/// (file, line) of the selected entry.
fn selected(app: &App) -> (String, usize) {
    let e = view(app).selected_entry().expect("an entry is selected");
    (e.file.to_string(), e.line)
}

#[test]
fn the_whole_timeline_at_80_columns_with_its_histogram() {
    let mut app = app_for(&testdata_bundle("timeline-new-year"));
    press(&mut app, "t");
    let t = screen(&mut app, 80, 24);
    let s = text(&t);
    insta::assert_snapshot!("timeline_80", s);
    let v = view(&app);
    assert_eq!(v.rows.len(), app.timeline.as_ref().unwrap().entries.len());
    // The first entry a finding cites is selected, and marked.
    let e = v.selected_entry().unwrap();
    assert!(!e.checks.is_empty());
    assert!(
        s.lines()
            .any(|l| l.starts_with("›*") && l.contains("default/web-7f9c6d5")),
        "{s}"
    );
    // The histogram counts every entry, and marks the selected one's interval.
    let counted: u32 = v.hist.counts.iter().flatten().sum();
    assert_eq!(counted as usize, v.rows.len());
    assert!(v.hist.counts.len() <= 80);
    assert!(s.contains('▲'), "{s}");
    for line in s.lines() {
        assert!(line.chars().count() <= 80);
    }
    // Esc goes back to the check list.
    press(&mut app, "<esc>");
    assert!(app.stack.is_empty());
}

#[test]
fn filters_narrow_the_timeline_like_the_check_list() {
    let mut app = app_for(&testdata_bundle("timeline-new-year"));
    press(&mut app, "t/web<enter>");
    let s = text(&screen(&mut app, 80, 24));
    insta::assert_snapshot!("timeline_filtered", s);
    let tl = app.timeline.clone().unwrap();
    let v = view(&app);
    assert!(!v.rows.is_empty());
    for &i in &v.rows {
        let e = &tl.entries[i];
        let words = format!("{} {} {}", e.object.label(), e.file, tl.message(e));
        assert!(words.to_lowercase().contains("web"), "{words}");
    }
    assert!(s.contains("filter /web"), "{s}");
    // Hiding info leaves warnings and worse; `f` only the cited entries.
    press(&mut app, "4");
    let v = view(&app);
    assert!(
        v.rows
            .iter()
            .all(|&i| tl.entries[i].severity != kubetriage::model::Severity::Info)
    );
    press(&mut app, "4f");
    let v = view(&app);
    assert!(!v.rows.is_empty());
    assert!(v.rows.iter().all(|&i| !tl.entries[i].checks.is_empty()));
    // Esc clears the text filter first, then goes back.
    press(&mut app, "<esc>");
    assert!(view(&app).filter.is_empty());
    press(&mut app, "<esc>");
    assert!(app.stack.is_empty());
}

#[test]
fn from_an_evidence_line_the_entries_around_its_time() {
    let mut app = app_for(&testdata_bundle("timeline-new-year"));
    // The control-plane check's evidence: the kubelet's journal line.
    press(&mut app, "/control-plane<enter><enter>");
    let (file, line) = match app.stack.last() {
        Some(Screen::Detail(d)) => {
            let m = app.model.as_ref().unwrap();
            let items = app.evidence_items(d.check);
            let (fi, ei) = items[d.selected];
            let e = &m.checks[d.check].findings[fi].evidence[ei];
            (e.file.clone(), e.line)
        }
        _ => panic!("not in the check"),
    };
    press(&mut app, "t");
    let s = text(&screen(&mut app, 80, 24));
    insta::assert_snapshot!("timeline_around_evidence", s);
    assert_eq!(
        selected(&app),
        (file.clone(), line),
        "the evidence line's entry"
    );
    let v = view(&app);
    let (from, to) = v.range().unwrap();
    assert_eq!((to - from).get_seconds(), 1200, "± 10 minutes");
    let tl = app.timeline.clone().unwrap();
    assert!(v.rows.iter().all(|&i| {
        let t = tl.entries[i].time;
        t >= from && t <= to
    }));
    assert!(s.contains("±10 min around"), "{s}");
    // `+` widens the window; the selection stays on the line.
    let before = v.rows.len();
    press(&mut app, "+");
    let v = view(&app);
    assert_eq!(v.window, 1800);
    assert!(v.rows.len() >= before);
    assert_eq!(selected(&app), (file.clone(), line));
    press(&mut app, "--");
    assert_eq!(view(&app).window, 300);
    // Enter opens the entry's line in the viewer; esc comes back to the timeline.
    press(&mut app, "<enter>");
    match app.stack.last() {
        Some(Screen::Viewer(v)) => {
            assert_eq!(v.rel, file);
            assert_eq!(v.cursor, line);
        }
        _ => panic!("enter did not open the viewer"),
    }
    press(&mut app, "<esc>");
    assert!(matches!(app.stack.last(), Some(Screen::Timeline(_))));
}

#[test]
fn from_a_viewer_line_and_while_the_timeline_is_building() {
    let (mut app, tl) = app_and_timeline(&testdata_bundle("timeline-new-year"));
    // The bundle browser, then the kubelet journal, at its second line.
    press(&mut app, "b/kubelet<enter>");
    press(&mut app, "<down><down><down><down><enter>");
    match app.stack.last() {
        Some(Screen::Viewer(v)) => assert_eq!(v.rel, "nodes/cp-1/journal/kubelet.log"),
        other => panic!("the journal did not open: {:?}", other.is_some()),
    }
    press(&mut app, "j");
    press(&mut app, "t");
    let s = text(&screen(&mut app, 80, 16));
    assert!(s.contains("building timeline…"), "{s}");
    // Keys keep working meanwhile; the view fills in when the timeline arrives.
    press(&mut app, "j?");
    assert!(app.help);
    press(&mut app, "?");
    app.set_timeline(tl);
    press(&mut app, "");
    while app.busy() {
        app.work(1 << 20);
    }
    let s = text(&screen(&mut app, 80, 16));
    assert!(!s.contains("building timeline…"), "{s}");
    assert_eq!(
        selected(&app),
        ("nodes/cp-1/journal/kubelet.log".to_string(), 2)
    );
}

#[test]
fn bundle_text_is_escaped_in_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kubectl/logs/default/evil-1/app.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(
        &log,
        "2026-11-20T09:40:00Z ERROR boom \x1b]0;owned\x07 \x1b[31mred\n",
    )
    .unwrap();
    let mut app = app_for(dir.path());
    app.model.as_mut().unwrap().source = "evil".into();
    press(&mut app, "t");
    let s = text(&screen(&mut app, 80, 16));
    assert!(s.contains("boom \\x1b]0;owned\\x07 \\x1b[31m"), "{s}");
    assert!(!s.contains('\u{1b}'));
}

#[test]
fn help_explains_the_keys_and_the_marks_at_80_columns() {
    let mut app = app_for(&testdata_bundle("timeline-new-year"));
    press(&mut app, "t?");
    let s = text(&screen(&mut app, 80, 24));
    insta::assert_snapshot!("timeline_help_80", s);
    assert!(s.contains("Keys: timeline"), "{s}");
    assert!(
        s.contains("marks an entry a finding's evidence cites"),
        "{s}"
    );
    press(&mut app, "?");
    assert!(!app.help);
}
