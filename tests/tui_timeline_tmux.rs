//! End to end: the timeline view of the real binary in a real terminal (tmux), driven by keys
//! as a person would: `t` from the check list shows the entries and the histogram, a filter
//! narrows them, `enter` opens the entry's line in the viewer, `t` there shows the entries
//! around that line.
//!
//! The bundle is named by a path relative to the checkout, where the pane starts: the screen
//! does not depend on where the repository was cloned. tmux is required (`.ci/run` installs it).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A private tmux server (its own socket in a temp folder) with one pane.
struct Tmux {
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Tmux {
    fn new() -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.as_ref().is_ok_and(|o| o.status.success()),
            "tmux is required for the end-to-end UI tests: install it (.ci/run does) — {version:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        Tmux { _dir: dir, socket }
    }

    fn cmd(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .env_remove("TMUX")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts `argv` in a `width`×`height` pane with `env` (`NAME=value`) set.
    fn start_with(&self, argv: &[&str], width: u16, height: u16, env: &[&str]) {
        let (w, h) = (width.to_string(), height.to_string());
        let mut args = vec![
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w,
            "-y",
            &h,
            "-c",
            env!("CARGO_MANIFEST_DIR"),
            "sleep 600",
        ];
        self.cmd(&args);
        // Keys arrive as typed: an escape is an escape, not the start of a sequence.
        self.cmd(&["set-option", "-s", "escape-time", "0"]);
        // Applications may set the clipboard (OSC 52): it lands in a tmux buffer.
        self.cmd(&["set-option", "-s", "set-clipboard", "on"]);
        self.cmd(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        self.cmd(&["select-pane", "-t", "t", "-T", "before"]);
        args = vec![
            "respawn-pane",
            "-k",
            "-t",
            "t",
            "-c",
            env!("CARGO_MANIFEST_DIR"),
        ];
        for e in env {
            args.push("-e");
            args.push(e);
        }
        args.extend_from_slice(&[
            "sh",
            "-c",
            "\"$0\" \"$@\"; echo kubetriage-exit=$?; sleep 600",
        ]);
        args.extend_from_slice(argv);
        self.cmd(&args);
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "t", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    fn show(&self, format: &str) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["display-message", "-p", "-t", "t", format])
                .stdout,
        )
        .trim_end()
        .to_string()
    }

    /// Waits until the pane shows something `ok` accepts, and returns it.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ok(&screen) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let pid = self.show(
                    "#{pane_pid} dead=#{pane_dead} status=#{pane_dead_status} signal=#{pane_dead_signal} #{pane_current_command}",
                );
                panic!("timed out waiting for {what} ({pid}); the pane shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

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
