//! The HTML report opened in a real browser (headless Chromium, installed by
//! `.ci/install-test-tools`): its script and style run under its own Content-Security-Policy, it
//! logs nothing to the console, requests nothing from the network, and a hostile bundle's
//! markup is shown as text.

mod common;

use common::*;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn chromium() -> PathBuf {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {c}"))
            .output()
            && out.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    panic!("Chromium is missing: run `bash .ci/install-test-tools` (Debian package chromium)");
}

struct Run {
    stdout: String,
    /// Chromium's own log; page console messages and policy violations appear as `:CONSOLE`.
    console: Vec<String>,
}

/// Opens `page` in a fresh headless Chromium with the given extra arguments.
fn open(page: &Path, extra: &[String]) -> Run {
    let profile = tempfile::tempdir().unwrap();
    // Bounded, so that a page waiting on something cannot hang the tests.
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
    }
}

/// A listener on 127.0.0.1 that answers every connection by closing it and records the request
/// line (the page must make no request at all).
struct Listener {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    fn start() -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                s.set_read_timeout(Some(Duration::from_millis(500))).ok();
                let mut buf = [0u8; 256];
                let n = s.read(&mut buf).unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n]);
                log.lock()
                    .unwrap()
                    .push(line.lines().next().unwrap_or("(connection)").to_string());
            }
        });
        Listener { port, seen }
    }

    /// The requests seen since the last call.
    fn take(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(300));
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// A bundle whose every string tries to become markup, load something or run something.
fn hostile_bundle(root: &Path, port: u16) -> PathBuf {
    let b = root.join("hostile");
    let leak = format!("http://127.0.0.1:{port}");
    let payload = format!(
        "<script>document.title='pwned'</script><img src=\"{leak}/img\" onerror=\"document.title='pwned'\"><iframe src=\"{leak}/frame\"></iframe><style>body{{background:url({leak}/css)}}</style>"
    );
    let write = |rel: &str, body: &str| {
        let p = b.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    let cluster = serde_json::to_string(&payload).unwrap();
    write(
        "manifest.json",
        &format!(
            r#"{{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","cluster":{{"name":{cluster},"context":{cluster}}},
"sources":[{{"path":"kubectl/events.json","command":["kubectl"],"exit_code":1,"started":"2026-11-20T10:15:01Z","duration_ms":10,"stderr":{cluster},"error":"command failed"}}]}}"#
        ),
    );
    // CoreDNS's loop message with the payload after it: a finding whose evidence carries it.
    write(
        "kubectl/logs/kube-system/coredns-5d78c9869d-8xk2p/coredns.log",
        &format!(
            "[INFO] plugin/reload: Running configuration SHA512 = 591cf3\n[FATAL] plugin/loop: Loop (127.0.0.1:45937 -> :53) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO 4547991504243258144.3688648895315093531.\" {payload}\n"
        ),
    );
    write(
        "kubectl/logs/default/web-1/web.log",
        &format!(
            "2026-11-20T09:47:14Z ERROR {payload}\n2026-11-20T09:47:15Z ERROR \u{1b}]0;title\u{7} \u{202e}reversed\n"
        ),
    );
    write(
        "kubectl/pods.json",
        &format!(
            r#"{{"kind":"List","items":[{{"metadata":{{"name":"web-1","namespace":"default"}},"spec":{{"nodeName":{cluster}}},
"status":{{"conditions":[{{"type":"Ready","status":"False","reason":{cluster},"lastTransitionTime":"2026-11-20T09:47:16Z"}}]}}}}]}}"#
        ),
    );
    b
}

#[test]
fn the_report_runs_in_a_browser_shows_hostile_markup_as_text_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let listener = Listener::start();
    let port = listener.port;

    // The detector works: a page that does load from the listener is seen.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        format!("<!DOCTYPE html><title>c</title><img src=\"http://127.0.0.1:{port}/control\">"),
    )
    .unwrap();
    open(&control, &["--dump-dom".into()]);
    let seen = listener.take();
    assert!(
        seen.iter().any(|r| r.contains("/control")),
        "the listener must see a page's request: {seen:?}"
    );

    let bundle = hostile_bundle(dir.path(), port);
    let out = kubetriage()
        .args(["--format", "html", "--fail-on", "never"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")
    );
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert_eq!(
        html.matches("<style").count(),
        1,
        "only the page's own style"
    );
    assert!(!html.contains("<img") && !html.contains("<iframe"));
    assert!(
        html.contains("kubeadm/coredns-loop"),
        "the hostile evidence is in a finding"
    );
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();

    let run = open(&page, &["--dump-dom".into()]);
    let dom = run.stdout;
    assert!(
        run.console.is_empty(),
        "console messages: {:#?}",
        run.console
    );
    assert!(listener.take().is_empty(), "the page made network requests");
    // The page's script ran (its hash matches the policy): it showed the controls and counted.
    assert!(dom.contains("id=\"f-count\""), "{dom}");
    assert!(
        !dom.contains("<div class=\"controls\" hidden"),
        "the script did not run under the page's policy"
    );
    assert!(dom.contains(" shown</span>"), "the filter did not count");
    // The payload is text: the title is the report's, the markup appears escaped.
    assert!(dom.contains("<title>kubetriage report: "));
    assert!(!dom.contains("pwned</title>"));
    let shown = "&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=\"http://127.0.0.1";
    assert!(
        dom.matches(shown).count() >= 3,
        "the payload is shown as text in the summary, the finding and the timeline"
    );
    assert!(dom.contains("\\x1b]0;title\\x07") && dom.contains("\\u{202e}reversed"));

    // A screenshot and a printout.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    open(
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{}",
        png.len()
    );
    let pdf = dir.path().join("report.pdf");
    open(
        &page,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    let pdf = std::fs::read(&pdf).expect("a printout");
    assert!(pdf.starts_with(b"%PDF"));
    assert!(listener.take().is_empty(), "printing made requests");
}

#[test]
fn the_timeline_page_is_readable_without_javascript() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = testdata().join("timeline-new-year");
    let out = kubetriage()
        .args(["timeline", "--format", "html", "--min-severity", "warning"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let html = String::from_utf8(out.stdout).unwrap();
    let json = kubetriage()
        .args(["timeline", "--format", "json", "--min-severity", "warning"])
        .arg(&bundle)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let want = v["entries"].as_array().unwrap().len();
    assert!(want > 10);
    // Everything is in the page itself, not made by its script: the entries, the histogram,
    // the open findings; the controls that need the script are hidden until it runs.
    let (before_script, _) = html.split_once("<script>").unwrap();
    assert_eq!(before_script.matches("<tr class=\"e").count(), want);
    assert!(before_script.contains("<svg class=\"hist\""));
    assert!(before_script.contains("<details class=\"check b-critical\" open"));
    assert_eq!(
        before_script
            .matches("<div class=\"controls\" hidden>")
            .count(),
        2
    );
    // Rendered without its script (removed, as a browser with JavaScript off would skip it):
    // every entry is there, the script's controls are not, and no console message.
    let (_, after) = html.split_once("</script>").unwrap();
    let nojs = dir.path().join("nojs.html");
    std::fs::write(&nojs, format!("{before_script}{after}")).unwrap();
    let shot = dir.path().join("nojs.png");
    let run = open(
        &nojs,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1000,1400".into(),
        ],
    );
    assert!(run.console.is_empty(), "{:#?}", run.console);
    assert!(std::fs::read(&shot).unwrap().len() > 20_000);
    let run = open(&nojs, &["--dump-dom".into()]);
    assert_eq!(run.stdout.matches("<tr class=\"e").count(), want);
    assert_eq!(run.stdout.matches("class=\"controls\" hidden").count(), 2);
    let page = dir.path().join("t.html");
    std::fs::write(&page, &html).unwrap();
    // With it, the filter counts what is listed.
    let run = open(&page, &["--dump-dom".into()]);
    assert!(run.console.is_empty(), "{:#?}", run.console);
    assert!(
        run.stdout.contains(&format!(">{want} shown</span>")),
        "{}",
        run.stdout
    );
}
