//! A private tmux server with one pane, for the end-to-end tests of the terminal UI: keys
//! sent as a person types them, the screen read back as it is shown. The pane starts in the
//! checkout, so a bundle may be named by a relative path and the screen does not depend on
//! where the repository was cloned.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A private tmux server (its own socket in a temp folder) with one pane.
pub struct Tmux {
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Tmux {
    pub fn new() -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.as_ref().is_ok_and(|o| o.status.success()),
            "tmux is required for the end-to-end UI tests: install it (.ci/run does) — {version:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        Tmux { _dir: dir, socket }
    }

    pub fn cmd(&self, args: &[&str]) -> Output {
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
    /// Starts `argv` in a 160×36 pane, under a shell that then prints `kubetriage-exit=CODE` on
    /// the normal screen and lingers, so that the last output is surely read before the pane
    /// closes.
    pub fn start(&self, argv: &[&str]) {
        self.start_with(argv, 160, 36, &[]);
    }

    /// Starts `argv` in a `width`×`height` pane with `env` (`NAME=value`) set.
    pub fn start_with(&self, argv: &[&str], width: u16, height: u16, env: &[&str]) {
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

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "t", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    pub fn show(&self, format: &str) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["display-message", "-p", "-t", "t", format])
                .stdout,
        )
        .trim_end()
        .to_string()
    }

    /// Waits until the pane shows something `ok` accepts, and returns it.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
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
