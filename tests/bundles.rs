//! Every bundle in testdata/ against its expectations (`testdata/<bundle>.expect.yaml`):
//! exactly which checks fire, with which evidence, which pass, and why others are not evaluated.
//! Each bundle folder is run as a folder and as a .tar.gz, and both must agree; a bundle kept
//! as one file (a cluster-info dump, a sosreport .tar.xz) is run as it is.

mod common;

use common::*;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Check id → its findings, in report order.
    #[serde(default)]
    findings: BTreeMap<String, Vec<ExpectFinding>>,
    /// Checks that must pass (evaluated and silent).
    #[serde(default)]
    pass: Vec<String>,
    /// Check id → a part of the reason it is not evaluated.
    #[serde(default)]
    not_evaluated: BTreeMap<String, String>,
    /// Checks written for another platform than the bundle's.
    #[serde(default)]
    not_applicable: Vec<String>,
    /// Sources the report must list as not collected.
    #[serde(default)]
    not_collected: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFinding {
    /// `file:line` of each evidence item, in order.
    evidence: Vec<String>,
    /// Parts the summary must contain.
    #[serde(default)]
    summary: Vec<String>,
    /// Parts the remediation must contain.
    #[serde(default)]
    remediation: Vec<String>,
    #[serde(default)]
    severity: Option<String>,
}

fn expectations() -> Vec<(String, Expect)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(testdata()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(bundle) = name.strip_suffix(".expect.yaml") {
            let text = std::fs::read_to_string(&p).unwrap();
            let exp: Expect =
                kubetriage::yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                testdata().join(bundle).exists(),
                "{name} has no bundle testdata/{bundle}"
            );
            out.push((bundle.to_string(), exp));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty());
    out
}

fn verify(bundle: &str, exp: &Expect, report: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let checks = report["checks"].as_array().unwrap();
    let firing: BTreeSet<&str> = checks
        .iter()
        .filter(|c| c["status"] == "finding")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = exp.findings.keys().map(String::as_str).collect();
    if firing != expected {
        errors.push(format!(
            "{bundle}: checks firing {firing:?}, expected {expected:?}"
        ));
    }
    for (id, want) in &exp.findings {
        let c = check(report, id);
        let got = c["findings"].as_array().unwrap();
        if got.len() != want.len() {
            let sums: Vec<_> = got
                .iter()
                .map(|f| f["summary"].as_str().unwrap_or(""))
                .collect();
            errors.push(format!(
                "{bundle}: {id} has {} findings, expected {}: {sums:#?}",
                got.len(),
                want.len()
            ));
            continue;
        }
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let refs = evidence_refs(g);
            if refs != w.evidence {
                errors.push(format!(
                    "{bundle}: {id} finding {i} evidence {refs:?}, expected {:?}",
                    w.evidence
                ));
            }
            for part in &w.summary {
                if !g["summary"].as_str().unwrap().contains(part.as_str()) {
                    errors.push(format!(
                        "{bundle}: {id} finding {i} summary {:?} lacks {part:?}",
                        g["summary"]
                    ));
                }
            }
            for part in &w.remediation {
                if !g["remediation"].as_str().unwrap().contains(part.as_str()) {
                    errors.push(format!(
                        "{bundle}: {id} finding {i} remediation lacks {part:?}:\n{}",
                        g["remediation"]
                    ));
                }
            }
            if let Some(s) = &w.severity
                && g["severity"] != s.as_str()
            {
                errors.push(format!(
                    "{bundle}: {id} finding {i} severity {}, expected {s}",
                    g["severity"]
                ));
            }
            let rem = g["remediation"].as_str().unwrap();
            if let Some(pos) = rem.find('{')
                && rem[pos..].find('}').is_some_and(|end| {
                    rem[pos + 1..pos + end]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            {
                errors.push(format!(
                    "{bundle}: {id} finding {i} remediation has an unfilled placeholder: {rem}"
                ));
            }
        }
    }
    for id in &exp.pass {
        let c = check(report, id);
        if c["status"] != "pass" {
            errors.push(format!(
                "{bundle}: {id} should pass but is {} ({})",
                c["status"], c["reason"]
            ));
        }
    }
    for (id, part) in &exp.not_evaluated {
        let c = check(report, id);
        if c["status"] != "not-evaluated" || !c["reason"].as_str().unwrap().contains(part.as_str())
        {
            errors.push(format!(
                "{bundle}: {id} should be not evaluated with {part:?} but is {} ({})",
                c["status"], c["reason"]
            ));
        }
    }
    for id in &exp.not_applicable {
        let c = check(report, id);
        if c["status"] != "not-applicable" {
            errors.push(format!(
                "{bundle}: {id} should be not applicable but is {} ({})",
                c["status"], c["reason"]
            ));
        }
    }
    for path in &exp.not_collected {
        let listed = report["collection"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["path"] == path.as_str() && c["status"] != "ok");
        if !listed {
            errors.push(format!(
                "{bundle}: {path} should be listed as not collected"
            ));
        }
    }
    errors
}

#[test]
fn every_bundle_meets_its_expectations_as_folder_and_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let mut errors = Vec::new();
    for (bundle, exp) in expectations() {
        let folder = testdata().join(&bundle);
        let (_, report) = run_json(&folder, &[]);
        errors.extend(verify(&bundle, &exp, &report));
        // A bundle kept as one file (a dump saved from standard output, an archive) is read
        // as it is.
        if !folder.is_dir() {
            continue;
        }
        let archive = pack_tar_gz(&folder, tmp.path());
        let (_, from_archive) = run_json(&archive, &[]);
        if from_archive["checks"] != report["checks"] {
            errors.push(format!(
                "{bundle}: the .tar.gz gives other results than the folder"
            ));
        }
        let format = if report["bundle"]["layout"] == "several" {
            "several"
        } else {
            "tar.gz"
        };
        assert_eq!(from_archive["bundle"]["format"], format, "{bundle}");
    }
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}

#[test]
fn every_catalog_check_appears_once_sorted_by_severity_then_id() {
    let (_, catalog) = {
        let out = kubetriage().arg("checks").output().unwrap();
        assert!(out.status.success());
        (0, String::from_utf8(out.stdout).unwrap())
    };
    let ids: BTreeSet<String> = catalog
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    for (bundle, _) in expectations() {
        let (_, report) = run_json(&testdata().join(&bundle), &[]);
        let checks = report["checks"].as_array().unwrap();
        let got: Vec<String> = checks
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got.len(), ids.len(), "{bundle}");
        assert_eq!(
            got.iter().cloned().collect::<BTreeSet<_>>(),
            ids,
            "{bundle}"
        );
        let rank = |s: &str| {
            ["critical", "error", "warning", "info"]
                .iter()
                .position(|x| *x == s)
                .unwrap()
        };
        let keys: Vec<(usize, String)> = checks
            .iter()
            .map(|c| {
                (
                    rank(c["severity"].as_str().unwrap()),
                    c["id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            keys, sorted,
            "{bundle}: checks not sorted by severity then id"
        );
        for c in checks {
            match c["status"].as_str().unwrap() {
                "not-evaluated" => assert!(
                    !c["reason"].as_str().unwrap().is_empty(),
                    "{bundle}: {} has no reason",
                    c["id"]
                ),
                "finding" => assert!(!c["findings"].as_array().unwrap().is_empty()),
                "pass" => assert!(c["findings"].as_array().unwrap().is_empty()),
                "not-applicable" => assert!(
                    !c["reason"].as_str().unwrap().is_empty(),
                    "{bundle}: {} has no reason",
                    c["id"]
                ),
                other => panic!("unknown status {other}"),
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    for (bundle, _) in expectations() {
        let folder = testdata().join(&bundle);
        let (_, one) = run_json(&folder, &["--threads", "1"]);
        let (_, four) = run_json(&folder, &["--threads", "4"]);
        assert_eq!(one, four, "{bundle}");
        // An archive is scanned while it inflates, on however many threads there are.
        if folder.is_dir() {
            let archive = pack_tar_gz(&folder, tmp.path());
            for threads in ["1", "4"] {
                let (_, packed) = run_json(&archive, &["--threads", threads]);
                assert_eq!(
                    packed["checks"], one["checks"],
                    "{bundle}: the .tar.gz at {threads} threads"
                );
            }
        }
    }
}

#[test]
fn the_fast_paths_give_the_same_results_as_the_slow_path() {
    for (bundle, _) in expectations() {
        let folder = testdata().join(&bundle);
        let (_, fast) = run_json(&folder, &[]);
        let out = kubetriage()
            .env("KUBETRIAGE_SLOW_PATH", "1")
            .args(["--format", "json"])
            .arg(&folder)
            .output()
            .unwrap();
        let slow: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            fast, slow,
            "{bundle}: the prefilter or parallel parsing changed the results"
        );
    }
}
