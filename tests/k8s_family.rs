//! The `k8s/*` family beyond the example bundles: many pods failing the same way are one
//! finding, every check cites the Kubernetes documentation, and times are the bundle's.

mod common;

use common::*;
use serde_json::{Value, json};

/// A pod of Deployment `deploy` (ReplicaSet `<deploy>-6f7d9c8b5d`) whose container `app` is in
/// CrashLoopBackOff after exiting with `exit`.
fn crashing_pod(deploy: &str, i: usize, exit: i64) -> Value {
    let rs = format!("{deploy}-6f7d9c8b5d");
    let name = format!("{rs}-{i:05}");
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": "2026-11-20T08:00:00Z",
            "labels": {"app": deploy, "pod-template-hash": "6f7d9c8b5d"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "controller": true}]},
        "spec": {"nodeName": format!("node-{}", i % 7), "containers": [{"name": "app", "image": "registry.example.com/shop/app:1.0"}]},
        "status": {"phase": "Running", "startTime": "2026-11-20T08:00:00Z",
            "containerStatuses": [{"name": "app", "ready": false, "restartCount": 20 + i % 3,
                "lastState": {"terminated": {"exitCode": exit, "reason": "Error",
                    "startedAt": "2026-11-20T10:08:00Z", "finishedAt": "2026-11-20T10:08:03Z"}},
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off 5m0s restarting failed container=app pod={name}_shop(x)")}}}]}
    })
}

fn write_bundle(dir: &std::path::Path, pods: Vec<Value>) {
    std::fs::create_dir_all(dir.join("kubectl")).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"generic","sources":[]}"#,
    )
    .unwrap();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": pods});
    std::fs::write(
        dir.join("kubectl/pods.json"),
        serde_json::to_string_pretty(&list).unwrap(),
    )
    .unwrap();
}

#[test]
fn two_hundred_pods_crash_looping_the_same_way_are_one_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pods: Vec<Value> = (0..200).map(|i| crashing_pod("web", i, 1)).collect();
    // Another cause in the same workload, and another workload: findings of their own.
    pods.push(crashing_pod("web", 900, 139));
    pods.push(crashing_pod("api", 1, 1));
    write_bundle(tmp.path(), pods);
    let (_, report) = run_json(tmp.path(), &[]);
    let c = check(&report, "k8s/pod-crashloop");
    let findings = c["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{findings:#?}");
    let web = &findings[0];
    assert!(
        web["summary"]
            .as_str()
            .unwrap()
            .starts_with("Deployment shop/web (200 pods: web-6f7d9c8b5d-00000, web-6f7d9c8b5d-00001, web-6f7d9c8b5d-00002 and 197 more)"),
        "{}",
        web["summary"]
    );
    assert_eq!(web["occurrences"], 200);
    assert_eq!(web["evidence"].as_array().unwrap().len(), 200);
    assert!(
        findings[1]["summary"]
            .as_str()
            .unwrap()
            .contains("last exit 139")
    );
    assert_eq!(findings[1]["occurrences"], 1);
    assert!(
        findings[2]["summary"]
            .as_str()
            .unwrap()
            .contains("Deployment shop/api")
    );
}

#[test]
fn every_k8s_check_cites_a_kubernetes_io_page() {
    let out = kubetriage().arg("checks").output().unwrap();
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.starts_with("k8s/"))
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 8, "{ids:?}");
    for id in ids {
        let out = kubetriage().args(["explain", &id]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.lines()
                .any(|l| l.starts_with("Reference:") && l.contains(" https://kubernetes.io/docs/")),
            "{id}: {text}"
        );
    }
}

#[test]
fn ages_are_measured_from_the_bundles_collection_time() {
    // Started at 08:00, collected at 10:15 (the manifest): 2 h 15 min, whatever the reader's clock.
    let tmp = tempfile::tempdir().unwrap();
    write_bundle(tmp.path(), vec![crashing_pod("web", 1, 1)]);
    let (_, report) = run_json(tmp.path(), &[]);
    let detail = check(&report, "k8s/pod-crashloop")["findings"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("started 2 h 15 min before collection"),
        "{detail}"
    );
}
