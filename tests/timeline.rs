//! `kubetriage timeline`: order, content, years and zones taken from the collection time,
//! filters, determinism, and output that fits 80 columns.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use unicode_width::UnicodeWidthStr;

fn timeline_json(bundle: &Path, extra: &[&str]) -> Value {
    let out = kubetriage()
        .arg("timeline")
        .arg("--format")
        .arg("json")
        .args(extra)
        .arg(bundle)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        bundle.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn entries(v: &Value) -> &Vec<Value> {
    v["entries"].as_array().unwrap()
}

/// The entry at `file:line` (there may be one per line only for log files).
fn at<'a>(v: &'a Value, file: &str, line: u64) -> Vec<&'a Value> {
    entries(v)
        .iter()
        .filter(|e| e["source"]["file"] == file && e["source"]["line"] == line)
        .collect()
}

fn one<'a>(v: &'a Value, file: &str, line: u64) -> &'a Value {
    let found = at(v, file, line);
    assert_eq!(found.len(), 1, "{file}:{line}: {found:?}");
    found[0]
}

fn key(e: &Value) -> (String, String, u64) {
    (
        e["time"].as_str().unwrap().to_string(),
        e["source"]["file"].as_str().unwrap().to_string(),
        e["source"]["line"].as_u64().unwrap(),
    )
}

/// Times sort as text only when written alike: compare them as instants.
fn instant(e: &Value) -> jiff::Timestamp {
    e["time"].as_str().unwrap().parse().unwrap()
}

#[test]
fn the_new_year_bundle_reads_every_format_on_one_clock() {
    let b = testdata().join("timeline-new-year");
    let v = timeline_json(&b, &[]);
    assert_eq!(v["bundle"]["created"], "2027-01-01T00:20:00Z");
    // journald `short` has no year: December belongs to the year before the January bundle.
    let dec = one(&v, "nodes/cp-1/journal/containerd.log", 2);
    assert_eq!(dec["time"], "2026-12-31T23:59:59Z");
    assert_eq!(dec["severity"], "error");
    assert_eq!(dec["object"]["node"], "cp-1");
    assert_eq!(dec["object"]["unit"], "containerd");
    let jan = one(&v, "nodes/cp-1/journal/containerd.log", 3);
    assert_eq!(jan["time"], "2027-01-01T00:00:01Z");
    assert_eq!(jan["severity"], "warning");
    // The info line of containerd is no entry.
    assert!(at(&v, "nodes/cp-1/journal/containerd.log", 1).is_empty());
    // Bare klog lines in a pod log, across midnight and the year.
    let web = "kubectl/logs/default/web-7f9c6d5b8-x2k4q/web.log";
    assert_eq!(one(&v, web, 2)["time"], "2026-12-31T23:59:59.9Z");
    assert_eq!(one(&v, web, 3)["time"], "2027-01-01T00:00:00.1Z");
    assert_eq!(one(&v, web, 4)["time"], "2027-01-01T00:00:02.5Z");
    assert_eq!(one(&v, web, 4)["kind"], "pod-log");
    assert_eq!(
        one(&v, web, 2)["object"]["node"],
        "cp-1",
        "node from pods.json"
    );
    assert!(at(&v, web, 1).is_empty() && at(&v, web, 5).is_empty());
    // JSON lines: their level and message.
    let etcd = "kubectl/logs/kube-system/etcd-cp-1/etcd.log";
    assert_eq!(one(&v, etcd, 2)["severity"], "warning");
    assert_eq!(one(&v, etcd, 2)["message"], "slow fdatasync");
    assert_eq!(one(&v, etcd, 3)["time"], "2027-01-01T00:00:02.25Z");
    assert_eq!(
        one(&v, etcd, 3)["message"],
        "failed to publish local member to cluster through raft: etcdserver: request timed out"
    );
    // The journald prefix's time wins over the klog header inside it; the finding cites it.
    let kubelet = one(&v, "nodes/cp-1/journal/kubelet.log", 2);
    assert_eq!(kubelet["time"], "2026-12-31T23:59:58.104512Z");
    assert_eq!(kubelet["object"]["pod"], "kube-apiserver-cp-1");
    assert_eq!(
        kubelet["checks"],
        serde_json::json!(["kubeadm/control-plane-crashloop"])
    );
    assert_eq!(
        one(&v, "nodes/cp-1/journal/kubelet.log", 5)["severity"],
        "error"
    );
    // Container termination, pod and node conditions from the JSON lists, at their own lines.
    let pods = std::fs::read_to_string(b.join("kubectl/pods.json")).unwrap();
    let oom: Vec<_> = entries(&v)
        .iter()
        .filter(|e| e["kind"] == "container-termination")
        .collect();
    assert_eq!(oom.len(), 1);
    assert_eq!(oom[0]["time"], "2027-01-01T00:00:04Z");
    assert_eq!(oom[0]["severity"], "error");
    assert!(
        oom[0]["message"]
            .as_str()
            .unwrap()
            .contains("OOMKilled, exit code 137")
    );
    let line = pods
        .lines()
        .nth(oom[0]["source"]["line"].as_u64().unwrap() as usize - 1)
        .unwrap();
    assert!(
        line.contains("\"finishedAt\": \"2027-01-01T00:00:04Z\""),
        "{line}"
    );
    let ready: Vec<_> = entries(&v)
        .iter()
        .filter(|e| e["kind"] == "pod-condition" && e["severity"] == "warning")
        .collect();
    assert_eq!(ready.len(), 2, "Ready and ContainersReady turned False");
    assert_ne!(
        ready[0]["source"]["line"], ready[1]["source"]["line"],
        "each condition at its own line"
    );
    let node_ready: Vec<_> = entries(&v)
        .iter()
        .filter(|e| e["kind"] == "node-condition" && e["severity"] == "error")
        .collect();
    assert_eq!(node_ready.len(), 1);
    assert!(
        node_ready[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Ready=Unknown")
    );
    // A repeated event: at its first and its last time.
    let backoff: Vec<_> = entries(&v)
        .iter()
        .filter(|e| e["kind"] == "event" && e["message"].as_str().unwrap().contains("BackOff"))
        .collect();
    assert_eq!(
        backoff
            .iter()
            .map(|e| e["time"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["2026-12-31T23:59:50Z", "2027-01-01T00:10:00Z"]
    );
    assert!(backoff[0]["message"].as_str().unwrap().contains("×12"));
    // kubeadm: the klog-prefixed warning is placed; the bare phases and the panic are not.
    assert_eq!(
        one(&v, "captured/kubeadm-init.txt", 4)["time"],
        "2027-01-01T00:05:01.334455Z"
    );
    assert!(at(&v, "captured/kubeadm-init.txt", 2).is_empty());
    assert_eq!(
        v["untimed"], 4,
        "three bare kubeadm phases and one panic line"
    );
    // The collector: start, the failed source, the end.
    let collector: Vec<_> = entries(&v)
        .iter()
        .filter(|e| e["kind"] == "collector")
        .map(|e| (e["time"].as_str().unwrap(), e["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        collector,
        [
            ("2027-01-01T00:20:00Z", "info"),
            ("2027-01-01T00:20:01Z", "info"),
            ("2027-01-01T00:20:04Z", "warning"),
            ("2027-01-01T00:20:12.89Z", "info"),
        ]
    );
}

#[test]
fn every_timeline_is_sorted_points_at_real_lines_and_ignores_the_thread_count() {
    let mut bundles: Vec<_> = std::fs::read_dir(testdata())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "foreign")
        .collect();
    bundles.sort();
    let mut total = 0;
    for b in bundles {
        let v = timeline_json(&b, &["--threads", "1"]);
        let list = entries(&v);
        total += list.len();
        for w in list.windows(2) {
            let (a, c) = (&w[0], &w[1]);
            let ka = (instant(a), key(a).1, key(a).2);
            let kc = (instant(c), key(c).1, key(c).2);
            assert!(ka <= kc, "{}: out of order: {a} then {c}", b.display());
        }
        for e in list {
            let (_, file, line) = key(e);
            let text = std::fs::read_to_string(b.join(&file)).unwrap();
            assert!(
                line >= 1 && line as usize <= text.lines().count(),
                "{}: {file}:{line} is not a line",
                b.display()
            );
        }
        let again = timeline_json(&b, &["--threads", "3"]);
        assert_eq!(v, again, "{}: depends on the thread count", b.display());
    }
    assert!(total > 200, "the test bundles have timestamped facts");
}

#[test]
fn filters_narrow_the_timeline() {
    let b = testdata().join("timeline-new-year");
    let all = timeline_json(&b, &[]);
    let n = entries(&all).len();
    let around = timeline_json(
        &b,
        &[
            "--around",
            "nodes/cp-1/journal/kubelet.log:2",
            "--window",
            "2s",
        ],
    );
    let times: Vec<_> = entries(&around).iter().map(instant).collect();
    let center: jiff::Timestamp = "2026-12-31T23:59:58.104512Z".parse().unwrap();
    assert!(!times.is_empty() && times.len() < n);
    for t in &times {
        assert!(
            (t.as_millisecond() - center.as_millisecond()).abs() <= 2000,
            "{t}"
        );
    }
    assert_eq!(times.len(), 5, "{around}");
    // A line that is no entry still has a time.
    let info = timeline_json(
        &b,
        &[
            "--around",
            "nodes/cp-1/journal/kubelet.log:1",
            "--window",
            "1m",
        ],
    );
    assert!(
        entries(&info)
            .iter()
            .all(|e| instant(e) <= center + jiff::Span::new().seconds(2))
    );
    let errors = timeline_json(&b, &["--min-severity", "error"]);
    assert!(
        entries(&errors)
            .iter()
            .all(|e| ["critical", "error"].contains(&e["severity"].as_str().unwrap()))
    );
    assert!(entries(&errors).len() >= 9);
    let ks = timeline_json(&b, &["--namespace", "kube-system"]);
    assert!(
        entries(&ks)
            .iter()
            .all(|e| e["object"]["namespace"] == "kube-system")
    );
    assert!(entries(&ks).len() >= 4);
    let pod = timeline_json(&b, &["--pod", "default/web-7f9c6d5b8-x2k4q"]);
    assert!(
        entries(&pod)
            .iter()
            .all(|e| e["object"]["pod"] == "web-7f9c6d5b8-x2k4q")
    );
    let node = timeline_json(&b, &["--node", "cp-1"]);
    assert!(entries(&node).len() > entries(&pod).len());
    let window = timeline_json(&b, &["--since", "2027-01-01 00:00", "--until", "00:00:05"]);
    let w: Vec<_> = entries(&window).iter().map(instant).collect();
    assert!(!w.is_empty());
    let (from, to): (jiff::Timestamp, jiff::Timestamp) = (
        "2027-01-01T00:00:00Z".parse().unwrap(),
        "2027-01-01T00:00:05Z".parse().unwrap(),
    );
    assert!(w.iter().all(|t| from <= *t && *t <= to), "{w:?}");
}

#[test]
fn bad_arguments_say_what_to_write() {
    let b = testdata().join("timeline-new-year");
    for (args, needle) in [
        (
            vec!["--around", "nope.log:3"],
            "nope.log is not in the bundle",
        ),
        (vec!["--around", "kubectl/pods.json"], "write FILE:LINE"),
        (
            vec!["--around", "captured/kubeadm-init.txt:2"],
            "no timestamp",
        ),
        (vec!["--since", "yesterday"], "--since"),
        (vec!["--window", "ten", "--around", "x:1"], "--window"),
    ] {
        let out = kubetriage()
            .arg("timeline")
            .args(&args)
            .arg(&b)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn without_a_collection_time_yearless_lines_are_counted_not_placed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("b/kubectl/logs/ns/p-1/c.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(
        &log,
        "E1120 09:47:13.000000       1 a.go:1] no year, no bundle time\n\
         2026-11-20T09:47:14Z ERROR a full timestamp\n\
         Nov 20 09:47:15 host app[1]: error: syslog without a year\n",
    )
    .unwrap();
    let v = timeline_json(&dir.path().join("b"), &[]);
    assert_eq!(v["untimed"], 2, "{v}");
    let list = entries(&v);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["time"], "2026-11-20T09:47:14Z");
}

#[test]
fn text_fits_80_columns_and_escapes_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("b/kubectl/logs/ns/p-1/c.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(
        &log,
        "2026-11-20T09:47:14Z ERROR \u{1b}]0;pwned\u{7}\u{1b}[2J title changed\n",
    )
    .unwrap();
    let out = kubetriage()
        .arg("timeline")
        .arg(dir.path().join("b"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && text.contains("\\x1b]0;pwned"),
        "{text}"
    );
    for b in [
        "timeline-new-year",
        "gke-wi-startup-timeout",
        "kubeadm-control-plane-crashloop",
    ] {
        let out = kubetriage()
            .arg("timeline")
            .arg(testdata().join(b))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.lines().count() > 10);
        for l in text.lines().skip(1) {
            assert!(l.width() <= 80, "{b}: {} columns: {l}", l.width());
        }
        assert!(text.contains("── 2027-01-01 (UTC) ──") || b != "timeline-new-year");
    }
}

/// Log messages are read back from their lines when written: an archive's unpacked folder must
/// still be there when the HTML report (which runs the timeline itself) writes them.
#[test]
fn messages_of_an_archive_are_read_back_before_it_is_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("timeline-new-year.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-C")
        .arg(testdata())
        .arg("-czf")
        .arg(&archive)
        .arg("timeline-new-year")
        .status()
        .unwrap();
    assert!(status.success());
    for args in [
        vec!["--format", "html", "--fail-on", "never"],
        vec!["timeline", "--format", "html"],
        vec!["timeline", "--format", "text"],
    ] {
        let out = kubetriage().args(&args).arg(&archive).output().unwrap();
        let page = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(page.contains("upstream payments unreachable"), "{args:?}");
        assert!(!page.contains("can no longer be read"), "{args:?}");
    }
}
