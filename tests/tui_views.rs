//! The terminal UI rendered into ratatui's `TestBackend`, driven by key sequences the way a
//! support engineer would type them: every view is snapshotted (insta), and the behaviour
//! behind each view (drilling down to an evidence line, filtering, searching, backing out) is
//! asserted on the state and on the screen's cells.

mod common;

use common::tui::{catalog_of, press, screen, testdata_bundle, text, tui_config};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use kubetriage::pipeline::{Progress, analyze_bundle};
use kubetriage::spec::Catalog;
use kubetriage::tui::render;
use kubetriage::tui::state::{App, Screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;

/// The checks the snapshots show: a fixed subset, so that checks added to the catalog later
/// do not change every snapshot.
const CHECKS: &[&str] = &[
    "kubeadm/coredns-loop",
    "kubeadm/cgroup-driver-mismatch",
    "gke/metadata-server-crashloop",
    "gke/wi-binding-missing",
];

fn app_for(bundle: &Path) -> App {
    let cat = catalog_of(CHECKS);
    let config = tui_config(bundle.to_path_buf());
    let a = analyze_bundle(&config, &cat, &Progress::default()).unwrap();
    let mut app = App::new(cat);
    app.set_analysis(a);
    app
}

/// A bundle written into a temp folder: `files` are (path, content).
fn temp_bundle(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, body) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    dir
}

/// The app over a temp bundle, with its header naming it `name` instead of the temp path.
fn app_for_temp(dir: &tempfile::TempDir, name: &str) -> App {
    let mut app = app_for(dir.path());
    app.model.as_mut().unwrap().source = name.to_string();
    app
}

fn viewer(app: &App) -> &kubetriage::tui::viewer::Viewer {
    match app.stack.last() {
        Some(Screen::Viewer(v)) => v,
        other => panic!("not in the viewer: {other:?}"),
    }
}

#[test]
fn check_list_shows_findings_first_then_not_evaluated() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    let t = screen(&mut app, 110, 20);
    insta::assert_snapshot!(t.backend());
    let s = text(&t);
    let finding = s.find("kubeadm/coredns-loop").unwrap();
    let not_eval = s.find("Not evaluated").unwrap();
    assert!(finding < not_eval);
    // The selected row is drawn reversed.
    let buf = t.backend().buffer();
    let y = s.lines().position(|l| l.starts_with('›')).unwrap() as u16;
    assert!(
        buf[(5, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

#[test]
fn filter_as_you_type_then_escape_clears_it() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "/cgroup");
    let t = screen(&mut app, 110, 16);
    insta::assert_snapshot!("filter_typing", t.backend());
    let s = text(&t);
    assert!(s.contains("kubeadm/cgroup-driver-mismatch"));
    assert!(!s.contains("kubeadm/coredns-loop"));
    // Letters went to the prompt, not to the list: `q` did not quit.
    press(&mut app, "<bs><bs><bs><bs><bs><bs>q");
    assert!(!app.quit);
    assert_eq!(app.checks.filter, "q");
    press(&mut app, "<bs>loop<enter>");
    assert!(app.prompt.is_none());
    let s = text(&screen(&mut app, 110, 16));
    assert!(s.contains("filter /loop"));
    assert!(!s.contains("cgroup-driver-mismatch"));
    // esc clears the filter first, and does not quit.
    press(&mut app, "<esc>");
    assert_eq!(app.checks.filter, "");
    assert!(!app.quit);
    assert!(text(&screen(&mut app, 110, 16)).contains("cgroup-driver-mismatch"));
}

#[test]
fn findings_only_severity_filters_and_folding() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "f");
    let s = text(&screen(&mut app, 110, 16));
    assert!(s.contains("findings only"));
    assert!(!s.contains("Not evaluated"));
    press(&mut app, "f2");
    let s = text(&screen(&mut app, 110, 16));
    assert!(s.contains("hiding error"));
    assert!(!s.contains("kubeadm/pods-crashloop-after-init"), "{s}");
    assert!(s.contains("kubeadm/coredns-loop"));
    press(&mut app, "21");
    let s = text(&screen(&mut app, 110, 16));
    assert!(!s.contains("kubeadm/coredns-loop"), "critical hidden:\n{s}");
    press(&mut app, "1");
    // Fold the findings group: its header stays, its checks go.
    press(&mut app, "gh");
    let t = screen(&mut app, 110, 16);
    insta::assert_snapshot!("folded_group", t.backend());
    let s = text(&t);
    assert!(s.contains("▸ Checks with findings (1)"));
    assert!(!s.contains("kubeadm/coredns-loop"));
    press(&mut app, "<enter>");
    assert!(text(&screen(&mut app, 110, 16)).contains("kubeadm/coredns-loop"));
}

#[test]
fn drill_down_to_an_evidence_line_and_back_out() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "<enter>");
    let t = screen(&mut app, 110, 34);
    insta::assert_snapshot!("detail", t.backend());
    let s = text(&t);
    assert!(s.contains("What to do:"));
    assert!(s.contains("Evidence (6)"));
    // ctrl-d scrolls the text while the evidence keeps the focus; the commands are verbatim.
    press(&mut app, "<c-d><c-d>");
    let s = text(&screen(&mut app, 110, 34));
    assert!(
        s.lines().any(
            |l| l.trim_end() == "        kubectl -n kube-system delete pod -l k8s-app=kube-dns"
        ),
        "{s}"
    );
    // The third finding's evidence: the kubelet's resolvConf line.
    press(&mut app, "jjjj");
    let s = text(&screen(&mut app, 110, 34));
    assert!(
        s.contains("Finding 3 of 3"),
        "the text follows the evidence:\n{s}"
    );
    press(&mut app, "<enter>");
    let v = viewer(&app);
    assert_eq!(v.rel, "nodes/cp-1/kubelet/config.yaml");
    assert_eq!(v.cursor, 25);
    let t = screen(&mut app, 110, 34);
    insta::assert_snapshot!("viewer_at_evidence", t.backend());
    let s = text(&t);
    let row = s
        .lines()
        .find(|l| l.starts_with(">*") && l.contains(" 25 "))
        .expect("the evidence line is the cursor line");
    assert!(row.contains("resolvConf: /etc/resolv.conf"));
    assert!(s.contains("line 25/"));
    // Evidence lines are highlighted.
    let y = s.lines().position(|l| l.starts_with(">*")).unwrap() as u16;
    let cell = &t.backend().buffer()[(20, y)];
    assert_ne!(cell.bg, ratatui::style::Color::Reset);
    // `y` copies the selected evidence's finding, for the customer.
    press(&mut app, "<esc>y");
    let copied = app.clipboard.take().unwrap();
    assert!(
        copied.starts_with("CoreDNS forwards queries back to itself"),
        "{copied}"
    );
    assert!(
        copied.contains("Node cp-1: the kubelet gives pods /etc/resolv.conf"),
        "{copied}"
    );
    assert!(copied.contains("kubectl -n kube-system delete pod -l k8s-app=kube-dns"));
    assert!(text(&screen(&mut app, 110, 34)).contains("copied finding 3 of 3"));
    press(&mut app, "<enter>");
    // Back out: viewer → detail → list → quit.
    press(&mut app, "<esc>");
    assert!(matches!(app.stack.last(), Some(Screen::Detail(_))));
    press(&mut app, "q");
    assert!(app.stack.is_empty());
    assert!(!app.quit);
    press(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn viewer_jumps_between_evidence_lines() {
    let dir = temp_bundle(&[
        (
            "manifest.json",
            br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
        ),
        (
            "kubectl/logs/kube-system/coredns-abc/coredns.log",
            &log_with_loops(400, &[40, 120, 390]),
        ),
    ]);
    let mut app = app_for_temp(&dir, "loops");
    press(&mut app, "<enter><enter>");
    assert_eq!(viewer(&app).cursor, 40);
    press(&mut app, "e");
    assert_eq!(viewer(&app).cursor, 120);
    press(&mut app, "]");
    assert_eq!(viewer(&app).cursor, 390);
    press(&mut app, "e");
    assert_eq!(viewer(&app).cursor, 40, "wraps to the first");
    press(&mut app, "E");
    assert_eq!(viewer(&app).cursor, 390);
    let s = text(&screen(&mut app, 100, 20));
    assert!(s.contains("evidence 3/3"), "{s}");
    // g/G, paging, and j/k.
    press(&mut app, "g");
    assert_eq!(viewer(&app).cursor, 1);
    press(&mut app, "G");
    assert_eq!(viewer(&app).cursor, 400);
    press(&mut app, "g<c-d>");
    screen(&mut app, 100, 20);
    assert!(viewer(&app).cursor > 1);
    let before = viewer(&app).cursor;
    press(&mut app, "<c-u>jjk");
    assert_eq!(
        viewer(&app).cursor,
        before
            .saturating_sub(viewer(&app).half_page() as usize)
            .max(1)
            + 1
    );
    press(&mut app, "<pgdn>");
    screen(&mut app, 100, 20);
    let top = viewer(&app).top;
    assert!(top > 1);
    let s = text(&screen(&mut app, 100, 20));
    assert!(
        s.contains(&format!(" {top} │")),
        "the window starts at line {top}:\n{s}"
    );
}

/// A CoreDNS log of `n` lines with the loop plugin firing on the given lines.
fn log_with_loops(n: usize, at: &[usize]) -> Vec<u8> {
    let mut out = String::new();
    for i in 1..=n {
        if at.contains(&i) {
            out.push_str(&format!(
                "[FATAL] plugin/loop: Loop (127.0.0.1:{i} -> :53) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO {i}.\"\n"
            ));
        } else {
            out.push_str(&format!(
                "[INFO] 10.0.0.{}:{i} - query A example.com. NOERROR\n",
                i % 250
            ));
        }
    }
    out.into_bytes()
}

#[test]
fn viewer_search_counts_matches_and_moves_with_n() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "<enter><enter>g/plugin<enter>");
    let v = viewer(&app);
    let s = v.search.as_ref().unwrap();
    let (count, matches) = (s.count, s.matches.clone());
    assert!(count >= 2, "{matches:?}");
    assert_eq!(v.cursor, matches[0]);
    let t = screen(&mut app, 110, 16);
    insta::assert_snapshot!("viewer_search", t.backend());
    let txt = text(&t);
    assert!(txt.contains(&format!("match 1/{count}")), "{txt}");
    let (first, second) = (matches[0], matches[1]);
    press(&mut app, "n");
    assert_eq!(viewer(&app).cursor, second);
    press(&mut app, "N");
    assert_eq!(viewer(&app).cursor, first);
    // Matches are highlighted.
    let t = screen(&mut app, 110, 16);
    let buf = t.backend().buffer();
    let txt = text(&t);
    let (y, line) = txt
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with('>'))
        .unwrap();
    let x = line
        .find("plugin")
        .map(|b| line[..b].chars().count())
        .unwrap() as u16;
    assert_eq!(buf[(x, y as u16)].bg, ratatui::style::Color::Yellow);
    // esc clears the search first, then goes back.
    press(&mut app, "<esc>");
    assert!(viewer(&app).search.is_none());
    press(&mut app, "<esc>");
    assert!(matches!(app.stack.last(), Some(Screen::Detail(_))));
}

#[test]
fn viewer_wraps_long_lines_on_request() {
    let long = format!("start {} end\n", "x".repeat(250));
    let dir = temp_bundle(&[
        (
            "manifest.json",
            br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
        ),
        ("captured/long.txt", long.as_bytes()),
    ]);
    let mut app = app_for_temp(&dir, "long");
    press(&mut app, "b");
    let rows = text(&screen(&mut app, 80, 14));
    assert!(rows.contains("long.txt"), "{rows}");
    press(&mut app, "j<enter>");
    assert_eq!(viewer(&app).rel, "captured/long.txt");
    let body = |app: &mut App| -> String {
        let s = text(&screen(app, 80, 14));
        s.lines().skip(3).take(9).collect::<Vec<_>>().join("\n")
    };
    let s = body(&mut app);
    assert!(
        s.contains("start") && !s.contains("end"),
        "cut at the right edge:\n{s}"
    );
    press(&mut app, "w");
    let t = screen(&mut app, 80, 14);
    insta::assert_snapshot!("viewer_wrapped", t.backend());
    let s = body(&mut app);
    assert!(s.contains("start") && s.contains("end"), "{s}");
    assert!(text(&t).contains("· wrap"));
    press(&mut app, "wllllllllllllllllllllllllllllll");
    let s = body(&mut app);
    assert!(
        s.contains("end") && !s.contains("start"),
        "scrolled sideways:\n{s}"
    );
}

#[test]
fn bundle_browser_shows_the_manifest_status_of_each_file() {
    let manifest = br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm",
      "cluster":{"name":"lab"},
      "sources":[
        {"path":"kubectl/pods.json","command":["kubectl","get","pods","-A","-o","json"],"exit_code":0,"redactions":2},
        {"path":"nodes/cp-1/journal/kubelet.log","command":["journalctl","-u","kubelet"],"exit_code":0,"bound":{"since":"24h","max_bytes":10485760}},
        {"path":"kubectl/configmaps.json","command":["kubectl","get","cm"],"exit_code":1,"stderr":"Error from server (Forbidden): configmaps is forbidden","error":"command failed"}
      ]}"#;
    let dir = temp_bundle(&[
        ("manifest.json", manifest),
        ("kubectl/pods.json", br#"{"items":[]}"#),
        ("nodes/cp-1/journal/kubelet.log", b"line one\nline two\n"),
    ]);
    let mut app = app_for_temp(&dir, "lab-bundle");
    press(&mut app, "b");
    let t = screen(&mut app, 100, 16);
    insta::assert_snapshot!("bundle_browser", t.backend());
    let s = text(&t);
    let line = |needle: &str| s.lines().find(|l| l.contains(needle)).unwrap().to_string();
    assert!(line("pods.json").contains("redacted 2"));
    assert!(line("kubelet.log").contains("bounded"));
    assert!(line("configmaps.json").contains("failed"));
    assert!(line("configmaps.json").contains("not in bundle"));
    // Folding a folder hides its files; a filter shows matches with their folders.
    press(&mut app, "g<enter>");
    let s = text(&screen(&mut app, 100, 16));
    assert!(s.contains("▸ kubectl/") && !s.contains("pods.json"), "{s}");
    press(&mut app, "/kubelet<enter>");
    let s = text(&screen(&mut app, 100, 16));
    assert!(
        s.contains("kubelet.log") && !s.contains("manifest.json"),
        "{s}"
    );
    // Any file opens in the viewer.
    press(&mut app, "G<enter>");
    assert_eq!(viewer(&app).rel, "nodes/cp-1/journal/kubelet.log");
    let s = text(&screen(&mut app, 100, 16));
    assert!(s.contains("line two"));
}

#[test]
fn collection_problems_name_the_checks_left_not_evaluated() {
    let manifest = br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"gke",
      "cluster":{"name":"prod","project":"proj","location":"us-central1-a"},
      "sources":[
        {"path":"kubectl/pods.json","command":["kubectl","get","pods","-A","-o","json"],"exit_code":1,"stderr":"Unable to connect to the server: dial tcp 10.0.0.2:443: i/o timeout","error":"command failed"},
        {"path":"kubectl/serviceaccounts.json","command":["kubectl","get","sa","-A","-o","json"],"error":"timed out after 60s"}
      ]}"#;
    let dir = temp_bundle(&[
        ("manifest.json", manifest),
        ("gcloud/cluster.json", br#"{"name":"prod"}"#),
    ]);
    let mut app = app_for_temp(&dir, "prod-bundle");
    press(&mut app, "p");
    let t = screen(&mut app, 120, 16);
    insta::assert_snapshot!("collection_problems", t.backend());
    let s = text(&t);
    assert!(s.contains("2 collection failures"));
    assert!(s.contains("failed") && s.contains("kubectl/pods.json"));
    assert!(s.contains("timeout") && s.contains("kubectl/serviceaccounts.json"));
    assert!(
        s.contains("↳ not evaluated: gke/metadata-server-crashloop"),
        "{s}"
    );
    // enter on an affected check opens it; esc comes back.
    let rows = app.coll_rows();
    let k = rows
        .iter()
        .position(|r| matches!(r, kubetriage::tui::state::CollRow::Affected(..)))
        .unwrap();
    for _ in 0..k {
        press(&mut app, "j");
    }
    press(&mut app, "<enter>");
    let s = text(&screen(&mut app, 120, 24));
    assert!(s.contains("NOT EVAL"), "{s}");
    assert!(
        s.contains("Not evaluated: kubectl/"),
        "the reason names the file:\n{s}"
    );
    press(&mut app, "<esc>");
    assert!(app.stack.is_empty());
    // tab moves between the top-level views.
    press(&mut app, "<tab>");
    assert!(text(&screen(&mut app, 120, 16)).contains("[Checks"));
}

#[test]
fn help_lists_the_keys_of_the_current_view() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "?");
    let t = screen(&mut app, 100, 24);
    insta::assert_snapshot!("help_checks", t.backend());
    assert!(text(&t).contains("findings only"));
    press(&mut app, "j?");
    assert!(!app.help);
    press(&mut app, "<enter><enter>?");
    let s = text(&screen(&mut app, 100, 24));
    assert!(s.contains("Keys: file viewer") && s.contains("next / previous evidence line"));
    press(&mut app, "q");
    assert!(!app.help && !app.quit);
}

#[test]
fn bundle_text_is_shown_escaped() {
    let log = b"[INFO] plugin/reload: \x1b]0;pwned\x07 title \x1b[2J clear \x9b31m\n\
[FATAL] plugin/loop: Loop (127.0.0.1:1 -> :53) detected for zone \".\" \x1b[31mred\x1b[0m \xff\xfe\n";
    let dir = temp_bundle(&[
        (
            "manifest.json",
            b"{\"format\":1,\"created\":\"2026-11-20T10:15:00Z\",\"mode\":\"kubeadm\",\"cluster\":{\"name\":\"evil\\u001b]0;x\\u0007\"},\"sources\":[]}",
        ),
        ("kubectl/logs/kube-system/coredns-x\x1b[1m/coredns.log", log),
    ]);
    let mut app = app_for_temp(&dir, "hostile");
    press(&mut app, "<enter>");
    let s = text(&screen(&mut app, 120, 30));
    assert!(s.contains("coredns-x\\x1b[1m/coredns.log:2"), "{s}");
    assert!(!s.contains('\x1b'));
    press(&mut app, "<enter>g");
    let t = screen(&mut app, 120, 30);
    insta::assert_snapshot!("viewer_escaped", t.backend());
    let s = text(&t);
    assert!(s.contains("\\x1b]0;pwned\\x07 title \\x1b[2J clear"), "{s}");
    assert!(s.contains("\\x1b[31mred\\x1b[0m \u{fffd}\u{fffd}"), "{s}");
    assert!(
        s.contains("evil\\x1b]0;x\\x07"),
        "the cluster name too:\n{s}"
    );
    for c in s.chars() {
        assert!(!c.is_control() || c == '\n', "raw control {c:?} on screen");
    }
}

#[test]
fn tiny_terminals_say_how_large_they_need_to_be() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    for (w, h) in [(0, 0), (1, 1), (5, 3), (59, 30), (120, 11)] {
        let s = text(&screen(&mut app, w, h));
        if w >= 20 && h >= 3 {
            assert!(s.contains("at least 60×12"), "{w}x{h}:\n{s}");
        }
    }
    let t = screen(&mut app, 40, 6);
    insta::assert_snapshot!("too_small", t.backend());
    // Every view at the smallest size that draws, and a resize redraws.
    let mut t = Terminal::new(TestBackend::new(60, 12)).unwrap();
    for keys in ["", "<enter>", "<enter>", "w", "<esc><esc>b", "p", "?"] {
        press(&mut app, keys);
        render(&mut t, &mut app).unwrap();
    }
    t.backend_mut().resize(100, 30);
    render(&mut t, &mut app).unwrap();
    assert!(text(&t).contains("Keys: collection problems"));
}

#[test]
fn the_ui_shows_progress_before_the_analysis_ends() {
    let mut app = App::new(catalog_of(CHECKS));
    app.loading.source = "big-bundle.tar.gz".into();
    app.loading.archive_len = 4 << 30;
    app.loading.archive_read = 1 << 30;
    let t = screen(&mut app, 100, 14);
    insta::assert_snapshot!("loading", t.backend());
    assert!(text(&t).contains("unpacking the archive: 25% (1.0 GiB of 4.0 GiB)"));
    // Keys work while it runs, and quit quits.
    press(&mut app, "b?<esc>p");
    render(
        &mut Terminal::new(TestBackend::new(100, 14)).unwrap(),
        &mut app,
    )
    .unwrap();
    press(&mut app, "q");
    assert!(app.quit);
}

/// Events from a script, one per frame (a pause between two, so that the loop draws); when it
/// runs out, ctrl-c.
struct Script(std::collections::VecDeque<Event>, bool);

impl kubetriage::tui::Events for Script {
    fn next(&mut self, _timeout: std::time::Duration) -> std::io::Result<Option<Event>> {
        self.1 = !self.1;
        if !self.1 {
            return Ok(None);
        }
        Ok(Some(self.0.pop_front().unwrap_or(Event::Key(
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        ))))
    }
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

#[test]
fn the_event_loop_analyzes_an_archive_in_the_background_and_reaches_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("coredns.tar.gz");
    {
        let f = std::fs::File::create(&archive).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        b.append_dir_all("coredns", testdata_bundle("kubeadm-coredns-loop"))
            .unwrap();
        b.into_inner().unwrap().finish().unwrap();
    }
    let cat = catalog_of(CHECKS);
    let config = tui_config(archive.clone());
    let mut job = kubetriage::tui::Job::start(&config, cat.clone());
    job.wait_briefly(std::time::Duration::from_secs(60))
        .unwrap();
    let mut app = App::new(cat);
    let mut t = Terminal::new(TestBackend::new(110, 30)).unwrap();
    let mut events = Script(
        [
            key(KeyCode::Enter),
            key(KeyCode::Char('y')),
            key(KeyCode::Enter),
        ]
        .into(),
        false,
    );
    let mut copied = Vec::new();
    kubetriage::tui::run_loop(&mut t, &mut app, &mut events, &mut job, &mut |s: &str| {
        copied.push(s.to_string());
        Ok(())
    })
    .unwrap();
    assert_eq!(copied.len(), 1, "y copies once");
    assert!(copied[0].contains("What to do:"), "{}", copied[0]);
    assert!(app.quit);
    let v = viewer(&app);
    assert_eq!(
        v.rel,
        "kubectl/logs/kube-system/coredns-5d78c9869d-8xk2p/coredns.log"
    );
    assert_eq!(v.cursor, 5);
    // The viewer reads from the archive's private unpack folder, alive while the UI runs.
    assert!(text(&t).contains("[FATAL] plugin/loop"));
    assert_eq!(
        app.loading.archive_read,
        std::fs::metadata(&archive).unwrap().len(),
        "the progress counted the whole archive"
    );
    assert!(app.loading.scan_total > 0);
    assert_eq!(app.loading.scan_done, app.loading.scan_total);
    job.stop();
}

#[test]
fn the_event_loop_ends_with_the_error_of_a_bundle_that_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bundle.zip");
    std::fs::write(&bogus, b"PK\x03\x04 not really").unwrap();
    let cat = catalog_of(CHECKS);
    let config = tui_config(bogus);
    let mut job = kubetriage::tui::Job::start(&config, cat.clone());
    let err = job
        .wait_briefly(std::time::Duration::from_secs(60))
        .unwrap_err();
    assert!(err.to_string().contains("zip archive"), "{err}");
}

#[test]
fn a_foreign_bundle_says_how_it_was_read_in_the_collection_view() {
    let mut app =
        app_for(&testdata_bundle("foreign").join("troubleshoot-testdata-support-bundle.tar.gz"));
    let s = text(&screen(&mut app, 120, 20));
    assert!(s.contains("warnings: see p"), "{s}");
    press(&mut app, "p");
    let s = text(&screen(&mut app, 120, 20));
    assert!(
        s.contains("warning: read as a troubleshoot support bundle"),
        "{s}"
    );
    // Its files as sent still browse and open (from the archive's private unpack folder).
    press(&mut app, "b/version<enter>G<enter>");
    let v = viewer(&app);
    assert!(
        v.rel.ends_with("version.yaml") || v.rel.contains("version"),
        "{}",
        v.rel
    );
    assert!(v.error.is_none());
    assert!(!text(&screen(&mut app, 120, 20)).contains("(empty file)"));
}

/// The text pane of the detail view as a terminal's selection copies it: rows without their
/// trailing blanks, joined by newlines.
fn text_pane(s: &str) -> String {
    s.lines()
        .skip(3)
        .take_while(|l| !l.starts_with(" Evidence ("))
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a shell makes of copied rows: a ` \` at a row's end continues the command.
fn as_shell_reads(copied: &str) -> String {
    regex::Regex::new(r" \\\n\s*")
        .unwrap()
        .replace_all(copied, " ")
        .into_owned()
}

#[test]
fn what_to_do_copies_whole_commands_at_any_width() {
    let mut app = app_for(&testdata_bundle("gke-wi-binding-missing"));
    let cmd = "gcloud iam service-accounts add-iam-policy-binding payments-api@shop-prod-1234.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser --member=\"serviceAccount:shop-prod-1234.svc.id.goog[payments/api]\" --project=shop-prod-1234";
    press(&mut app, "<enter>");
    for w in [80u16, 100, 160] {
        let t = screen(&mut app, w, 100);
        insta::assert_snapshot!(format!("what_to_do_{w}"), t.backend());
        let s = text(&t);
        let pane = text_pane(&s);
        assert!(
            as_shell_reads(&pane).contains(cmd),
            "at {w} columns the copied command is broken:\n{pane}"
        );
        // Sentences break between words: every word of the summary is on the screen whole.
        for word in "Pods pick up the change within a few minutes; no restart is needed.".split(' ')
        {
            assert!(pane.contains(word), "{word} at {w}:\n{pane}");
        }
    }
    // A command quoted in a sentence stays on one row, and so does a JSON fragment.
    let mut app = app_for(&testdata_bundle("kubeadm-cgroup-driver-mismatch"));
    press(&mut app, "<enter>");
    for w in [80u16, 100, 120, 160] {
        let pane = text_pane(&text(&screen(&mut app, w, 120)));
        for whole in [
            "`systemctl restart docker`",
            "`\"exec-opts\": [\"native.cgroupdriver=cgroupfs\"]`",
        ] {
            assert!(
                pane.lines().any(|l| l.contains(whole)),
                "{whole} split at {w}:\n{pane}"
            );
        }
        // Pre-wrapped prose is re-flowed: a row ends only where the next word would not fit.
        let rows: Vec<&str> = pane.lines().collect();
        let i = rows
            .iter()
            .position(|l| l.trim_start().starts_with("Make both sides"))
            .unwrap();
        let next = rows[i + 1].trim_start();
        if !next.starts_with("- ") {
            let first = next.split(' ').next().unwrap();
            assert!(
                rows[i].chars().count() + 1 + first.chars().count() > w as usize,
                "a ragged row at {w}:\n{}\n{}",
                rows[i],
                rows[i + 1]
            );
        }
    }
}

#[test]
fn wide_commands_scroll_sideways_in_the_check() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "<enter>");
    // The reference address is kept whole on one row; l shows its end.
    let s = text(&screen(&mut app, 80, 40));
    let url = "https://kubernetes.io/ja/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/";
    assert!(s.contains(&url[..60]), "{s}");
    press(&mut app, "llllllllllll");
    let s = text(&screen(&mut app, 80, 40));
    assert!(s.contains("crashloopbackoff"), "{s}");
    press(&mut app, "hhhhhhhhhhhh");
    assert!(text(&screen(&mut app, 80, 40)).contains(&url[..60]));
}

/// Rows of the evidence pane.
fn evidence_rows(s: &str) -> Vec<String> {
    s.lines()
        .skip_while(|l| !l.starts_with(" Evidence ("))
        .skip(1)
        .filter(|l| l.contains('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn evidence_locations_are_never_cut() {
    let mut app = app_for(&testdata_bundle("gke-wi-binding-missing"));
    press(&mut app, "<enter>");
    for w in [80u16, 100, 160] {
        let t = screen(&mut app, w, 40);
        insta::assert_snapshot!(format!("evidence_{w}"), t.backend());
        let rows = evidence_rows(&text(&t));
        assert!(rows.len() >= 6, "{rows:?}");
        for (row, loc) in rows.iter().zip([
            "iam-policy.json:1-12",
            "iam-policy.json:5",
            "kubectl/serviceaccounts.json:25",
            "iam-policy.json:1-3",
            "kubectl/serviceaccounts.json:39",
        ]) {
            assert!(
                row.contains(&format!("{loc}  ")) || row.trim_end().ends_with(loc),
                "at {w} columns the location {loc} is cut: {row:?}"
            );
        }
    }
    // A journal line is shortened around what the check matched, not at its start.
    let mut app = app_for(&testdata_bundle("kubeadm-cgroup-driver-mismatch"));
    press(&mut app, "<enter>");
    for w in [80u16, 100] {
        let rows = evidence_rows(&text(&screen(&mut app, w, 40)));
        let journal = rows
            .iter()
            .find(|r| r.contains("journal/kubelet.log:5"))
            .unwrap();
        assert!(journal.contains("misconfiguration"), "{journal}");
    }
}

#[test]
fn the_id_column_fits_its_ids_and_titles_stay_readable() {
    let mut app = app_for(&testdata_bundle("gke-wi-binding-missing"));
    press(&mut app, "<down>");
    for w in [80u16, 100] {
        let t = screen(&mut app, w, 16);
        insta::assert_snapshot!(format!("check_list_{w}"), t.backend());
        let s = text(&t);
        let row = s
            .lines()
            .find(|l| l.contains("gke/wi-binding-missing"))
            .unwrap();
        assert!(
            row.contains("A Kubernetes service account"),
            "at {w}: {row:?}"
        );
    }
    // The whole catalog at 80 columns: the longest id is whole.
    let cat = Arc::new(Catalog::embedded().unwrap());
    let config = tui_config(testdata_bundle("kubeadm-etcd-restart-docker-1.13.1-84"));
    let a = analyze_bundle(&config, &cat, &Progress::default()).unwrap();
    let mut app = App::new(cat);
    app.set_analysis(a);
    let s = text(&screen(&mut app, 80, 50));
    let row = s
        .lines()
        .find(|l| l.contains("kubeadm/etcd-restart-docker-1.13.1-84"))
        .expect("the longest id whole");
    assert!(row.contains("etcd"), "{row}");
}

#[test]
fn the_header_and_the_groups_count_the_same_things() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    let s = text(&screen(&mut app, 160, 20));
    let m = app.model.as_ref().unwrap();
    let findings: usize = m.checks.iter().map(|c| c.findings.len()).sum();
    let with = m.checks.iter().filter(|c| !c.findings.is_empty()).count();
    assert!(s.contains(&format!(" {findings} findings: ")), "{s}");
    assert!(
        s.contains(&format!("{with} check with findings"))
            || s.contains(&format!("{with} checks with findings")),
        "{s}"
    );
    assert!(s.contains(&format!("Checks with findings ({with})")), "{s}");
    // The finding column of a check counts its findings.
    let row = s
        .lines()
        .find(|l| l.contains("kubeadm/coredns-loop"))
        .unwrap();
    assert!(row.trim_end().ends_with(&findings.to_string()), "{row}");
}

#[test]
fn viewer_search_counts_only_matches_it_can_show_and_scrolls_to_them() {
    let mut wide = String::from("first line\n");
    wide.push_str(&format!("{}NEEDLE here\n", "x".repeat(300)));
    // A one-line JSON document whose match is past the part of the line the viewer shows.
    wide.push_str(&format!(
        "{{\"pad\":\"{}\",\"k\":\"NEEDLE\"}}\n",
        "y".repeat(20_000)
    ));
    wide.push_str("last line\n");
    let dir = temp_bundle(&[
        (
            "manifest.json",
            br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
        ),
        ("captured/wide.txt", wide.as_bytes()),
    ]);
    let mut app = app_for_temp(&dir, "wide");
    press(&mut app, "b/wide<enter>G<enter>/NEEDLE<enter>");
    let v = viewer(&app);
    assert_eq!(v.search.as_ref().unwrap().count, 1);
    assert_eq!(v.cursor, 2);
    let t = screen(&mut app, 100, 14);
    let s = text(&t);
    assert!(s.contains("match 1/1"), "{s}");
    // The match is on screen (scrolled sideways to it) and highlighted.
    let (y, line) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with('>'))
        .unwrap();
    let x = line.find("NEEDLE").expect("the match is in view");
    let x = line[..x].chars().count() as u16;
    assert_eq!(
        t.backend().buffer()[(x, y as u16)].bg,
        ratatui::style::Color::Yellow
    );
    assert!(s.contains("col "), "{s}");
}

#[test]
fn a_file_opened_from_the_bundle_browser_shows_its_evidence() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "b/q7w4n/coredns.log<enter>G<enter>");
    let v = viewer(&app);
    assert_eq!(
        v.rel,
        "kubectl/logs/kube-system/coredns-5d78c9869d-q7w4n/coredns.log"
    );
    assert_eq!(v.evidence, vec![(3, 3)]);
    let s = text(&screen(&mut app, 100, 16));
    assert!(s.contains("1 evidence range"), "{s}");
    assert!(
        s.lines().any(|l| l.starts_with(" *") && l.contains(" 3 │")),
        "{s}"
    );
    press(&mut app, "e");
    assert_eq!(viewer(&app).cursor, 3);
    assert!(text(&screen(&mut app, 100, 16)).contains("evidence 1/1"));
}

#[test]
fn overlapping_evidence_is_visited_one_range_at_a_time() {
    let body: String = (1..=30).map(|i| format!("line {i}\n")).collect();
    let dir = temp_bundle(&[
        (
            "manifest.json",
            br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
        ),
        ("captured/x.txt", body.as_bytes()),
    ]);
    let mut app = app_for_temp(&dir, "overlap");
    app.open_file("captured/x.txt", vec![(1, 12), (5, 5), (20, 21)], 1);
    let status = |app: &mut App| -> String {
        let s = text(&screen(app, 100, 16));
        s.lines().nth(14).unwrap().to_string()
    };
    assert!(status(&mut app).contains("evidence 1/3"));
    press(&mut app, "e");
    assert_eq!(viewer(&app).cursor, 5);
    assert!(status(&mut app).contains("evidence 2/3"));
    press(&mut app, "e");
    assert_eq!(viewer(&app).cursor, 20);
    assert!(status(&mut app).contains("evidence 3/3"));
    // Past the last one it goes round, and says so.
    press(&mut app, "e");
    assert_eq!(viewer(&app).cursor, 1);
    let st = status(&mut app);
    assert!(
        st.contains("evidence 1/3") && st.contains("back to the first"),
        "{st}"
    );
    press(&mut app, "E");
    assert_eq!(viewer(&app).cursor, 20);
    assert!(status(&mut app).contains("on to the last"));
    press(&mut app, "EE");
    assert_eq!(viewer(&app).cursor, 1);
    assert!(status(&mut app).contains("evidence 1/3"));
}

#[test]
fn search_the_whole_bundle_and_open_a_hit_at_its_line() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "s");
    assert!(text(&screen(&mut app, 100, 20)).contains("search the bundle: /"));
    press(&mut app, "plugin/loop<enter>");
    let t = screen(&mut app, 100, 20);
    insta::assert_snapshot!("bundle_search", t.backend());
    let s = text(&t);
    assert!(s.contains("search /plugin/loop"), "{s}");
    let Some(Screen::Search(search)) = app.stack.last() else {
        panic!("not in the search view")
    };
    let hits: Vec<(String, usize)> = search
        .hits
        .iter()
        .map(|h| (search.files[h.file].rel.clone(), h.line))
        .collect();
    assert!(hits.len() >= 4, "{hits:?}");
    assert!(s.contains(&format!("{} hits in", search.count)), "{s}");
    // Hits are listed by file and line; enter opens the second one at its line.
    assert!(hits.windows(2).all(|w| w[0] <= w[1]), "{hits:?}");
    press(&mut app, "j<enter>");
    let v = viewer(&app);
    assert_eq!((v.rel.clone(), v.cursor), hits[1]);
    assert!(
        v.search.is_some(),
        "the pattern is searched in the file too"
    );
    press(&mut app, "<esc><esc>");
    assert!(matches!(app.stack.last(), Some(Screen::Search(_))));
    press(&mut app, "q");
    assert!(app.stack.is_empty());
}

#[test]
fn the_check_list_filters_by_the_name_of_a_pod_or_node() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    press(&mut app, "/coredns-5d78c9869d-q7w4n");
    let s = text(&screen(&mut app, 100, 16));
    assert!(s.contains("kubeadm/coredns-loop"), "{s}");
    assert!(!s.contains("No check matches"), "{s}");
    press(&mut app, "<esc>/cp-1");
    let s = text(&screen(&mut app, 100, 16));
    assert!(s.contains("kubeadm/coredns-loop"), "{s}");
}

#[test]
fn viewer_goes_to_lines_filters_and_hands_the_file_over() {
    let mut body = String::new();
    for i in 1..=300 {
        if i % 50 == 0 {
            body.push_str(&format!("{i} ERROR {}\n", "wide ".repeat(40)));
        } else {
            body.push_str(&format!("{i} fine\n"));
        }
    }
    let dir = temp_bundle(&[
        (
            "manifest.json",
            br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
        ),
        ("captured/app.log", body.as_bytes()),
    ]);
    let mut app = app_for_temp(&dir, "lines");
    press(&mut app, "b/app.log<enter>G<enter>");
    // :N and NG, as quoted in a ticket.
    press(&mut app, ":120<enter>");
    assert_eq!(viewer(&app).cursor, 120);
    press(&mut app, "42G");
    assert_eq!(viewer(&app).cursor, 42);
    press(&mut app, "7g");
    assert_eq!(viewer(&app).cursor, 7);
    press(&mut app, ":nope<enter>");
    assert!(text(&screen(&mut app, 80, 16)).contains("not a line number"));
    // 0 and $: the start and the end of the lines shown.
    press(&mut app, ":50<enter>");
    screen(&mut app, 80, 16);
    press(&mut app, "$");
    assert!(viewer(&app).left > 0);
    press(&mut app, "0");
    assert_eq!(viewer(&app).left, 0);
    // &pattern: only the matching lines, j/k move between them, esc shows all again.
    press(&mut app, "g&ERROR<enter>");
    let t = screen(&mut app, 80, 16);
    insta::assert_snapshot!("viewer_only_matches", t.backend());
    let s = text(&t);
    let numbers: Vec<&str> = s
        .lines()
        .skip(3)
        .take(11)
        .filter_map(|l| l.split('│').next())
        .map(|g| g.trim_matches(|c: char| !c.is_ascii_digit()))
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(
        numbers,
        vec!["50", "100", "150", "200", "250", "300"],
        "{s}"
    );
    assert!(s.contains("only matching lines"));
    press(&mut app, "j");
    assert_eq!(viewer(&app).cursor, 100);
    press(&mut app, "<esc>");
    assert!(!viewer(&app).only_matches);
    // y copies path:line; o and v ask for the pager and the editor at the line.
    press(&mut app, "y");
    assert_eq!(
        app.clipboard.take().as_deref(),
        Some("captured/app.log:100")
    );
    press(&mut app, "o");
    let x = app.external.take().expect("the pager is asked for");
    assert!(!x.editor && x.line == 100 && x.path.ends_with("captured/app.log"));
    let (program, args) =
        kubetriage::tui::external_command(&x, |k| (k == "PAGER").then(|| "less -R".to_string()));
    assert_eq!(program, "less");
    assert_eq!(args[..2], ["-R".to_string(), "+100".to_string()]);
    press(&mut app, "v");
    let x = app.external.take().unwrap();
    let (program, _) = kubetriage::tui::external_command(&x, |_| None);
    assert!(x.editor);
    assert_eq!(program, "vi");
}

#[test]
fn pod_and_node_views_from_an_evidence_line_and_back() {
    let mut app = app_for(&testdata_bundle("kubeadm-coredns-loop"));
    // The first evidence item is a log of pod coredns-5d78c9869d-8xk2p.
    press(&mut app, "<enter>p");
    let t = screen(&mut app, 120, 30);
    insta::assert_snapshot!("pod_view", t.backend());
    let s = text(&t);
    assert!(
        s.contains("pod kube-system/coredns-5d78c9869d-8xk2p"),
        "{s}"
    );
    assert!(s.contains("phase Running"), "{s}");
    assert!(
        s.contains("restarts 9") && s.contains("CrashLoopBackOff"),
        "{s}"
    );
    assert!(s.contains("coredns-5d78c9869d-8xk2p/coredns.log"), "{s}");
    assert!(s.contains("Findings that name it"), "{s}");
    assert!(s.contains("kubeadm/coredns-loop"), "{s}");
    // Its node, then a log of the pod from there.
    let Some(Screen::Object(o)) = app.stack.last() else {
        panic!("not in an object view")
    };
    let node_row = o
        .rows
        .iter()
        .position(|r| r.text.contains("node cp-1"))
        .unwrap();
    for _ in 0..node_row {
        press(&mut app, "j");
    }
    press(&mut app, "<enter>");
    let s = text(&screen(&mut app, 120, 30));
    assert!(s.contains("node cp-1"), "{s}");
    assert!(s.contains("kube-system/coredns-5d78c9869d-8xk2p"), "{s}");
    assert!(s.contains("nodes/cp-1/kubelet/config.yaml"), "{s}");
    let Some(Screen::Object(o)) = app.stack.last() else {
        panic!()
    };
    let file_row = o
        .rows
        .iter()
        .position(|r| r.text.contains("nodes/cp-1/kubelet/config.yaml"))
        .unwrap();
    press(&mut app, "g");
    for _ in 0..file_row {
        press(&mut app, "j");
    }
    press(&mut app, "<enter>");
    let v = viewer(&app);
    assert_eq!(v.rel, "nodes/cp-1/kubelet/config.yaml");
    assert_eq!(v.cursor, 25, "opened at its evidence line");
    // From the viewer, p names the node of the file; esc goes back one view at a time.
    press(&mut app, "p");
    assert!(text(&screen(&mut app, 120, 30)).contains("node cp-1"));
    press(&mut app, "<esc><esc><esc><esc>");
    assert!(matches!(app.stack.last(), Some(Screen::Detail(_))));
    // A line that names nothing says so.
    let dir = temp_bundle(&[
        (
            "manifest.json",
            br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
        ),
        ("captured/notes.txt", b"nothing here\n"),
    ]);
    let mut app = app_for_temp(&dir, "notes");
    press(&mut app, "b/notes<enter>G<enter>p");
    assert!(text(&screen(&mut app, 100, 16)).contains("no pod or node is named here"));
}

#[test]
fn the_header_of_a_foreign_bundle_fits_80_columns_whole() {
    // A long archive name, another tool's layout and a warning: what does not fit goes whole
    // (the collection time, the path's folders, a count the list shows anyway), and the
    // platform and the warning stay.
    let mut app = app_for(&testdata_bundle(
        "foreign/troubleshoot-support-bundle-2021-03-24T00_39_51.tar.gz",
    ));
    let t = screen(&mut app, 80, 14);
    let rows = text(&t);
    let first = rows.lines().next().unwrap();
    assert!(
        first.contains("platform k3s, troubleshoot bundle"),
        "{first}"
    );
    assert!(first.contains("00_39_51.tar.gz (tar.gz)"), "{first}");
    let second = rows.lines().nth(1).unwrap();
    assert!(second.trim_end().ends_with(": see p"), "{second}");
    press(&mut app, "p");
    let t = screen(&mut app, 80, 14);
    insta::assert_snapshot!("collection_foreign_80", t.backend());
}

#[test]
fn an_evidence_line_wider_than_the_pane_opens_wrapped() {
    // The kubelet's misconfiguration is 150 columns into its journal line: opened at 80
    // columns, the line wraps so the proof is on screen; w gives one row a line again.
    let mut app = app_for(&testdata_bundle("kubeadm-cgroup-driver-mismatch"));
    press(&mut app, "<enter><tab><enter>");
    assert_eq!(viewer(&app).rel, "nodes/cp-1/journal/kubelet.log");
    let t = screen(&mut app, 80, 24);
    insta::assert_snapshot!("viewer_evidence_wrapped_80", t.backend());
    let s = text(&t);
    assert!(s.contains("misconfiguration: kubele"), "{s}");
    assert!(s.contains("· wrap"), "{s}");
    press(&mut app, "w");
    let s = text(&screen(&mut app, 80, 24));
    assert!(!s.contains("misconfiguration"), "{s}");
    // A file opened from the bundle browser, not at evidence, keeps one row a line.
    let mut app = app_for(&testdata_bundle("kubeadm-cgroup-driver-mismatch"));
    app.open_file("nodes/cp-1/journal/kubelet.log", vec![], 1);
    let s = text(&screen(&mut app, 80, 24));
    assert!(!s.contains("· wrap"), "{s}");
}
