//! The benchmark generator is deterministic and writes bundles kubetriage reads.

#[path = "../examples/gen_bundle.rs"]
#[allow(dead_code)]
mod gen_bundle;

mod common;

use common::tree;

#[test]
fn same_seed_same_bytes_and_every_json_file_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let size = gen_bundle::Size::named("tiny").unwrap();
    gen_bundle::generate(&tmp.path().join("a"), size, 42).unwrap();
    gen_bundle::generate(&tmp.path().join("b"), size, 42).unwrap();
    gen_bundle::generate(&tmp.path().join("c"), size, 43).unwrap();
    let (a, b, c) = (
        tree(&tmp.path().join("a")),
        tree(&tmp.path().join("b")),
        tree(&tmp.path().join("c")),
    );
    assert_eq!(a, b, "the same seed must give the same bundle");
    assert_ne!(a, c, "another seed gives another bundle");
    for (path, bytes) in &a {
        if path.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(bytes)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    // The planted findings are found.
    let (_, report) = common::run_json(&tmp.path().join("a"), &[]);
    let mds = common::check(&report, "gke/metadata-server-crashloop");
    assert_eq!(mds["status"], "finding", "{mds}");
}

#[test]
fn kubectl_shaped_bundles_are_kubectl_json_with_findings_the_catalog_detects() {
    let tmp = tempfile::tempdir().unwrap();
    let size = gen_bundle::Size::named("tiny-json").unwrap();
    let dir = tmp.path().join("b");
    gen_bundle::generate(&dir, size, 7).unwrap();
    let pods = std::fs::read_to_string(dir.join("kubectl/pods.json")).unwrap();
    // kubectl's own indentation: four spaces, items at eight.
    assert!(pods.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"apiVersion\": \"v1\",\n"));
    let list: serde_json::Value = serde_json::from_str(&pods).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), size.pods);
    let owned = items
        .iter()
        .filter(|p| p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet")
        .count();
    assert!(owned > size.pods / 2, "{owned}");
    assert!(
        items
            .iter()
            .any(|p| p["spec"]["containers"].as_array().unwrap().len() >= 3)
    );
    let (_, report) = common::run_json(&dir, &[]);
    for id in [
        "gke/metadata-server-crashloop",
        "k8s/image-pull-failure",
        "k8s/pod-oomkilled",
        "k8s/pod-unschedulable",
    ] {
        let c = common::check(&report, id);
        assert_eq!(c["status"], "finding", "{c}");
    }
}
