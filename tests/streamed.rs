//! A list file above the streaming threshold is read as a stream of items and left on disk,
//! its items and lines read back when asked for. With the threshold lowered to nothing, every
//! bundle of testdata/ must give the very report it gives with its lists held in memory.

mod common;

use common::*;
use kubetriage::bundle::{Bundle, Limits};
use kubetriage::cli::{Config, FailOn, Format};
use kubetriage::facts::{Facts, Tuning};
use std::path::{Path, PathBuf};

fn bundles() -> Vec<PathBuf> {
    let skip = |p: &Path| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.ends_with(".expect.yaml") || name.ends_with(".md") || name == "foreign"
    };
    let mut out = Vec::new();
    for dir in [testdata(), testdata().join("foreign")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if !skip(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn report(bundle: &Path, tuning: Tuning) -> String {
    let config = Config {
        bundle: bundle.to_path_buf(),
        more: Vec::new(),
        format: Format::Json,
        fail_on: FailOn::Never,
        analyzers: None,
        limits: Limits::default(),
        threads: None,
        tuning,
    };
    let catalog = kubetriage::pipeline::load_catalog(None).unwrap();
    let report = kubetriage::pipeline::analyze(&config, &catalog)
        .unwrap_or_else(|e| panic!("{}: {e}", bundle.display()));
    let mut out = Vec::new();
    kubetriage::report::json::write(&report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn lists_read_as_a_stream_give_the_same_report_as_in_memory() {
    let streamed = Tuning {
        stream_lists_above: Some(0),
        ..Tuning::default()
    };
    let mut differ = Vec::new();
    for bundle in bundles() {
        if report(&bundle, Tuning::default()) != report(&bundle, streamed) {
            differ.push(bundle.display().to_string());
        }
    }
    assert!(
        differ.is_empty(),
        "streamed lists change the report of {differ:?}"
    );
}

#[test]
fn a_list_above_the_threshold_is_left_on_disk() {
    let folder = testdata().join("gke-metadata-server-crashloop");
    let bundle = Bundle::open(&folder, &Limits::default()).unwrap();
    let streamed = Tuning {
        stream_lists_above: Some(0),
        ..Tuning::default()
    };
    let facts = Facts::with_tuning(&bundle, streamed);
    let pods = facts.list("kubectl/pods.json").unwrap();
    assert!(pods.text.is_on_disk());
    assert!(!pods.items.is_empty());
    let in_memory = Facts::new(&bundle);
    let held = in_memory.list("kubectl/pods.json").unwrap();
    assert!(!held.text.is_on_disk());
    for (a, b) in pods.items.iter().zip(&held.items) {
        assert_eq!((a.line, a.end_line), (b.line, b.end_line));
        assert_eq!(*a.value, *b.value);
        assert_eq!(pods.item_evidence(a), held.item_evidence(b));
    }
}

/// A list written on one line (`jq -c`) is one line of the whole file: streamed, it gives the
/// verdicts of the pretty-printed list, and each item's evidence shows the item's own bytes,
/// not the file's first ones.
#[test]
fn a_list_on_one_line_is_streamed_with_each_item_as_its_evidence() {
    let src = testdata().join("gke-metadata-server-crashloop");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("b");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let pods = copy.join("kubectl/pods.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&pods).unwrap()).unwrap();
    std::fs::write(&pods, serde_json::to_string(&v).unwrap()).unwrap();
    let streamed = Tuning {
        stream_lists_above: Some(0),
        ..Tuning::default()
    };
    let verdicts = |bundle: &Path| {
        let r: serde_json::Value = serde_json::from_str(&report(bundle, streamed)).unwrap();
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].clone(), c["status"].clone(), c["findings"].clone()))
            .collect::<Vec<_>>()
    };
    let (pretty, one_line) = (verdicts(&src), verdicts(&copy));
    assert_eq!(pretty.len(), one_line.len());
    let mut compared = 0;
    for ((id, status, findings), (_, status1, findings1)) in pretty.iter().zip(&one_line) {
        assert_eq!(status, status1, "{id}");
        let (Some(a), Some(b)) = (findings.as_array(), findings1.as_array()) else {
            continue;
        };
        assert_eq!(a.len(), b.len(), "{id}");
        for (f, f1) in a.iter().zip(b) {
            assert_eq!(f["summary"], f1["summary"], "{id}");
            for e in f1["evidence"].as_array().unwrap() {
                if e["file"] == "kubectl/pods.json" {
                    assert_eq!(e["line"], 1);
                    let excerpt = e["excerpt"].as_str().unwrap();
                    assert!(
                        !excerpt.starts_with("{\"apiVersion\""),
                        "{id}: the file's start, not the item: {excerpt}"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 0, "no evidence in pods.json was compared");
}
