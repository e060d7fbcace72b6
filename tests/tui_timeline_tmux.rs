//! End to end: the timeline view of the real binary in a real terminal (tmux), driven by keys
//! as a person would: `t` from the check list shows the entries and the histogram, a filter
//! narrows them, `enter` opens the entry's line in the viewer, `t` there shows the entries
//! around that line.
//!
//! The bundle is named by a path relative to the checkout, where the pane starts: the screen
//! does not depend on where the repository was cloned. tmux is required (`.ci/run` installs it).

mod common;

use common::tmux::Tmux;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubetriage")
}

#[test]
fn t_shows_the_timeline_and_enter_opens_the_line() {
    let t = Tmux::new();
    t.start_with(&[bin(), "testdata/timeline-new-year"], 80, 24, &[]);
    t.wait_for("the check list", |s| s.contains("Checks with findings"));
    t.keys(&["t"]);
    let s = t.wait_for("the timeline", |s| {
        s.contains("one column =") && s.contains("whole bundle")
    });
    assert!(s.contains("Checks › timeline"), "{s}");
    // The entries cited by a finding are marked, and the first of them is selected.
    assert!(s.lines().any(|l| l.starts_with("›*")), "{s}");
    // Filter to the kubelet's journal; enter opens the first entry's line in the viewer.
    t.keys(&["/", "kubelet.log", "Enter", "g"]);
    t.wait_for("the filtered timeline", |s| {
        s.contains("filter /kubelet.log")
    });
    t.keys(&["Enter"]);
    let s = t.wait_for("the viewer at the line", |s| s.contains("line 2/"));
    assert!(s.contains("kubelet.log"), "{s}");
    assert!(
        s.lines()
            .any(|l| l.starts_with('>') && l.contains(" 2 │") && l.contains(" E1231 ")),
        "{s}"
    );
    // From the viewer line, t shows the entries around its time; esc goes back step by step.
    t.keys(&["t"]);
    let s = t.wait_for("the timeline around the line", |s| {
        s.contains("±10 min around")
    });
    assert!(s.contains("12-31 23:59:58"), "{s}");
    t.keys(&["+"]);
    t.wait_for("a wider window", |s| s.contains("±30 min around"));
    t.keys(&["Escape", "Escape", "Escape", "Escape", "q"]);
    t.wait_for("the program to end", |s| s.contains("kubetriage-exit="));
}
