//! End to end: the real binary in a real terminal (tmux), driven by keys as a person would.
//! It must reach an evidence line, leave the terminal as it found it, and show escape
//! sequences from a bundle as text without obeying them (the pane's title stays unchanged).
//!
//! tmux is required: `.ci/run` installs it. Without it these tests fail, never pass silently.

use std::path::{Path, PathBuf};
mod common;

use common::tmux::Tmux;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubetriage")
}

fn testdata(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn reaches_an_evidence_line_and_restores_the_terminal() {
    let t = Tmux::new();
    let bundle = testdata("kubeadm-coredns-loop");
    t.start(&[bin(), &bundle]);
    let list = t.wait_for("the check list", |s| {
        s.contains("Checks with findings (2)") && s.contains("kubeadm/coredns-loop")
    });
    assert!(list.contains("3 critical"), "{list}");
    t.keys(&["Enter"]);
    t.wait_for("the check detail", |s| s.contains("Evidence (6)"));
    // `y` copies the finding through the terminal.
    t.keys(&["y"]);
    t.wait_for("the copy message", |s| s.contains("copied finding 1 of 3"));
    let buffer = String::from_utf8_lossy(&t.cmd(&["show-buffer"]).stdout).into_owned();
    assert!(
        buffer.starts_with("CoreDNS forwards queries back to itself")
            && buffer.contains("kubectl -n kube-system delete pod -l k8s-app=kube-dns"),
        "{buffer}"
    );
    t.keys(&["Enter"]);
    let viewer = t.wait_for("the evidence line", |s| {
        s.lines().any(|l| {
            l.starts_with(">*") && l.contains("[FATAL] plugin/loop: Loop (127.0.0.1:53003")
        })
    });
    assert!(
        viewer.contains("coredns-5d78c9869d-8xk2p/coredns.log"),
        "{viewer}"
    );
    assert!(viewer.contains("line 5/5"), "{viewer}");
    // Search, then back out with esc and quit with q from the top.
    t.keys(&["/", "loop", "Enter"]);
    t.wait_for("the match counter", |s| s.contains("match 1/1"));
    t.keys(&["Escape", "Escape", "q"]);
    t.wait_for("the check list again", |s| {
        s.contains("Checks with findings (2)")
    });
    t.keys(&["q"]);
    let after = t.wait_for("the program to end", |s| s.contains("kubetriage-exit="));
    // A finding at or above the default --fail-on: exit code 1, as the text report gives.
    assert!(after.contains("kubetriage-exit=1"), "{after}");
    assert!(
        !after.contains("Checks with findings (2)"),
        "the alternate screen was left:\n{after}"
    );
}

#[test]
fn ctrl_c_quits_from_a_prompt() {
    let t = Tmux::new();
    let bundle = testdata("kubeadm-coredns-loop");
    t.start(&[bin(), "--format", "tui", &bundle]);
    t.wait_for("the check list", |s| s.contains("Checks with findings (2)"));
    t.keys(&["/", "q"]);
    t.wait_for("the prompt to take the q", |s| {
        s.contains("filter checks: /q")
    });
    t.keys(&["C-c"]);
    // The exit code is the report's: findings at or above --fail-on give 1.
    t.wait_for("the program to end", |s| s.contains("kubetriage-exit=1"));
}

/// A bundle whose log lines carry escape sequences (a window-title change, a screen clear,
/// colours) on the line that proves a finding.
fn hostile_bundle(dir: &Path) -> PathBuf {
    let root = dir.join("hostile");
    let log = root.join("kubectl/logs/kube-system/coredns-x/coredns.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(
        root.join("manifest.json"),
        br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
    )
    .unwrap();
    std::fs::write(
        &log,
        b"[INFO] starting\n\
[FATAL] plugin/loop: Loop (127.0.0.1:1 -> :53) detected \x1b]0;pwned\x07 \x1b]2;pwned2\x1b\\ \x1b[2J \x1b[31mred\x1b[0m end\n",
    )
    .unwrap();
    root
}

#[test]
fn escape_sequences_in_a_bundle_are_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = hostile_bundle(dir.path());
    let log = bundle.join("kubectl/logs/kube-system/coredns-x/coredns.log");

    // The control: the same bytes printed raw do change this pane's title, so the check
    // below can tell.
    let control = Tmux::new();
    control.start(&["cat", log.to_str().unwrap()]);
    control.wait_for("cat to end", |s| s.contains("kubetriage-exit=0"));
    let title = control.show("#{pane_title}");
    assert!(
        title.starts_with("pwned"),
        "raw output sets the title: {title:?}"
    );

    let t = Tmux::new();
    t.start(&[bin(), bundle.to_str().unwrap()]);
    t.wait_for("the check list", |s| s.contains("kubeadm/coredns-loop"));
    t.keys(&["Enter"]);
    t.wait_for("the check detail", |s| s.contains("Evidence (1)"));
    t.keys(&["Enter"]);
    let screen = t.wait_for("the evidence line", |s| {
        s.lines().any(|l| l.starts_with(">*"))
    });
    let line = screen.lines().find(|l| l.starts_with(">*")).unwrap();
    assert!(
        line.contains(
            r"detected \x1b]0;pwned\x07 \x1b]2;pwned2\x1b\ \x1b[2J \x1b[31mred\x1b[0m end"
        ),
        "{screen}"
    );
    assert_eq!(
        t.show("#{pane_title}"),
        "before",
        "the title must not change"
    );
    t.keys(&["C-c"]);
    t.wait_for("the program to end", |s| s.contains("kubetriage-exit="));
    assert_eq!(t.show("#{pane_title}"), "before");
}

/// What a shell makes of rows copied from the screen: a ` \` at a row's end continues the
/// command on the next row.
fn as_shell_reads(copied: &str) -> String {
    let mut out = String::new();
    for l in copied.lines() {
        let l = l.trim_end();
        match l.strip_suffix(" \\") {
            Some(head) => {
                out.push_str(head.trim_start());
                out.push(' ');
            }
            None => {
                out.push_str(l.trim_start());
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn gke_bundle_at_80_columns_commands_copy_whole_and_names_filter_the_checks() {
    let t = Tmux::new();
    let bundle = testdata("gke-wi-binding-missing");
    t.start_with(&[bin(), &bundle], 80, 60, &[]);
    t.wait_for("the check list", |s| s.contains("gke/wi-binding-missing"));
    // A KSA's name finds the check whose findings name it.
    t.keys(&["/", "legacy-etl"]);
    let s = t.wait_for("the filtered list", |s| {
        s.contains("filter checks: /legacy-etl")
    });
    assert!(s.contains("gke/wi-binding-missing"), "{s}");
    assert!(!s.contains("No check matches"), "{s}");
    t.keys(&["Enter", "Enter"]);
    t.wait_for("the check", |s| s.contains("What to do:"));
    let mut copied = String::new();
    for _ in 0..6 {
        let screen = t.capture();
        copied.push_str(&screen);
        if as_shell_reads(&copied).contains("--project=shop-prod-1234") {
            break;
        }
        t.keys(&["C-d"]);
    }
    let shell = as_shell_reads(&copied);
    assert!(
        shell.contains("gcloud iam service-accounts add-iam-policy-binding payments-api@shop-prod-1234.iam.gserviceaccount.com --role=roles/iam.workloadIdentityUser --member=\"serviceAccount:shop-prod-1234.svc.id.goog[payments/api]\" --project=shop-prod-1234"),
        "the command does not copy whole at 80 columns:\n{copied}"
    );
    // Checks written for kubeadm are counted apart from the ones that lacked their data.
    t.keys(&["Escape", "Escape", "Escape"]);
    let s = t.wait_for("the list", |s| s.contains("Not applicable ("));
    assert!(s.contains("not applicable"), "{s}");
    t.keys(&["q"]);
    t.wait_for("the program to end", |s| s.contains("kubetriage-exit=1"));
}

#[test]
fn kubeadm_bundle_search_viewer_keys_pod_view_and_pager() {
    let dir = tempfile::tempdir().unwrap();
    let pager = dir.path().join("pager.sh");
    // The pager records its arguments in a file: on screen, a long checkout path would wrap.
    let args_file = dir.path().join("pager-args");
    std::fs::write(
        &pager,
        format!(
            "#!/bin/sh\necho \"$*\" > '{}'\necho \"pager-args: $1\"\nread answer\n",
            args_file.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pager, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let t = Tmux::new();
    let bundle = testdata("kubeadm-coredns-loop");
    let env = format!("PAGER={}", pager.display());
    t.start_with(&[bin(), &bundle], 120, 30, &[&env]);
    t.wait_for("the check list", |s| s.contains("kubeadm/coredns-loop"));
    // Search the whole bundle; enter opens a hit at its line.
    t.keys(&["s", "HINFO", "Enter"]);
    let s = t.wait_for("the hits", |s| {
        s.contains(" hits in ") && s.contains("searched")
    });
    assert!(s.contains("coredns.log:"), "{s}");
    t.keys(&["Enter"]);
    // The hit's line is wider than the pane: it opens wrapped, the proof in view.
    t.wait_for("the viewer at the hit", |s| {
        s.lines()
            .any(|l| l.starts_with('>') && l.contains("[FATAL] plugin/loop"))
            && s.contains("Query: \"HINFO")
            && s.contains("w: unwrap")
    });
    // :N goes to a line; y copies path:line through the terminal.
    t.keys(&[":", "2", "Enter"]);
    t.wait_for("line 2", |s| s.contains("line 2/"));
    t.keys(&["y"]);
    t.wait_for("the copy message", |s| s.contains("copied kubectl/logs/"));
    let buffer = String::from_utf8_lossy(&t.cmd(&["show-buffer"]).stdout).into_owned();
    assert!(
        buffer.starts_with("kubectl/logs/kube-system/coredns-5d78c9869d-")
            && buffer.ends_with(":2"),
        "{buffer}"
    );
    // &pattern shows only the matching lines.
    t.keys(&["&", "FATAL", "Enter"]);
    t.wait_for("only matching lines", |s| s.contains("only matching lines"));
    t.keys(&["Escape"]);
    // The cursor stayed on the FATAL line the filter showed.
    t.wait_for("all lines again", |s| {
        s.contains("line 5/") && !s.contains("only matching")
    });
    // The pager opens the file at the line, and the UI comes back after it.
    t.keys(&["o"]);
    t.wait_for("the pager", |s| s.contains("pager-args: +5"));
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert!(
        args.starts_with("+5 ") && args.trim_end().ends_with("/coredns.log"),
        "{args}"
    );
    t.keys(&["Enter"]);
    t.wait_for("the viewer again", |s| s.contains("line 5/"));
    // p: the pod the file belongs to, with its containers and logs.
    t.keys(&["p"]);
    let s = t.wait_for("the pod view", |s| {
        s.contains("› pod kube-system/coredns-") && s.contains("phase Running")
    });
    assert!(s.contains("restarts 9") && s.contains("Logs (2)"), "{s}");
    t.keys(&["Escape", "Escape", "Escape", "q"]);
    t.wait_for("the program to end", |s| s.contains("kubetriage-exit=1"));
}
