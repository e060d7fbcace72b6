//! The GKE family as a whole: every GKE check has a bundle where it fires and one where it stays
//! silent, and none of them speaks about a kubeadm-built cluster.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

fn gke_ids() -> BTreeSet<String> {
    let out = kubetriage().arg("checks").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.starts_with("gke/"))
        .map(str::to_string)
        .collect()
}

fn bundles_with_mode(mode: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(testdata()).unwrap() {
        let p = e.unwrap().path();
        let Ok(text) = std::fs::read_to_string(p.join("manifest.json")) else {
            continue;
        };
        let m: Value = serde_json::from_str(&text).unwrap();
        if m["mode"] == mode {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_gke_check_fires_somewhere_and_stays_silent_somewhere() {
    let ids = gke_ids();
    assert_eq!(ids.len(), 15, "{ids:?}");
    let mut fired = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for b in bundles_with_mode("gke") {
        let (_, report) = run_json(&b, &[]);
        for c in report["checks"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            match c["status"].as_str().unwrap() {
                "finding" => fired.insert(id.to_string()),
                "pass" => silent.insert(id.to_string()),
                _ => false,
            };
        }
    }
    for id in &ids {
        assert!(fired.contains(id), "{id} fires on no GKE bundle");
        assert!(silent.contains(id), "{id} passes on no GKE bundle");
    }
}

#[test]
fn gke_checks_do_not_speak_about_kubeadm_clusters() {
    let ids = gke_ids();
    let bundles = bundles_with_mode("kubeadm");
    assert!(!bundles.is_empty());
    for b in bundles {
        let (_, report) = run_json(&b, &[]);
        for id in &ids {
            let c = check(&report, id);
            assert_eq!(c["status"], "not-applicable", "{}: {id}", b.display());
            assert!(
                c["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("applies to GKE clusters"),
                "{}: {id}: {}",
                b.display(),
                c["reason"]
            );
        }
    }
}
