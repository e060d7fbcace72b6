//! The whole JSON report of every bundle in testdata/ (our own, the foreign layouts, the real
//! foreign archives), kept as a snapshot: a change to how the bundle is read or parsed must
//! give the very same answers (findings, evidence lines, reasons, passes), and the number of
//! worker threads must not change a byte of it.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// Every bundle of testdata/: each entry but the expectations and notes, and the real
/// archives of testdata/foreign/.
fn bundles() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let skip = |p: &Path| {
        let name = p.file_name().unwrap().to_string_lossy();
        name.ends_with(".expect.yaml") || name.ends_with(".md") || name == "foreign"
    };
    for e in std::fs::read_dir(testdata()).unwrap() {
        let p = e.unwrap().path();
        if !skip(&p) {
            out.push(p);
        }
    }
    for e in std::fs::read_dir(testdata().join("foreign")).unwrap() {
        let p = e.unwrap().path();
        if !skip(&p) {
            out.push(p);
        }
    }
    out.sort();
    assert!(out.len() > 50, "testdata/ holds {} bundles", out.len());
    out
}

/// The report as text, the bundle's place on this machine replaced by its name in testdata/.
fn report(bundle: &Path, threads: &str) -> String {
    let (code, v) = run_json(bundle, &["--threads", threads, "--fail-on", "never"]);
    assert_eq!(code, 0, "{}", bundle.display());
    let text = serde_json::to_string_pretty(&v).unwrap();
    let here = bundle.to_string_lossy();
    let rel = bundle.strip_prefix(testdata()).unwrap().to_string_lossy();
    text.replace(here.as_ref(), &format!("testdata/{rel}"))
}

#[test]
fn every_bundle_gives_the_same_report_at_one_and_four_threads() {
    let mut differ = Vec::new();
    for bundle in bundles() {
        let one = report(&bundle, "1");
        let four = report(&bundle, "4");
        if one != four {
            differ.push(bundle.display().to_string());
        }
        let rel = bundle.strip_prefix(testdata()).unwrap().to_string_lossy();
        let name = rel.replace(['/', '.'], "_");
        insta::with_settings!({ snapshot_suffix => name, description => rel.to_string(),
            omit_expression => true }, {
            insta::assert_snapshot!("report", one);
        });
    }
    assert!(
        differ.is_empty(),
        "reports differ between 1 and 4 threads: {differ:?}"
    );
}
