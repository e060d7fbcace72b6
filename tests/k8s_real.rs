//! The `k8s/*` family on real bundles other tools wrote (troubleshoot, cluster-info dump,
//! sosreport): the problems they hold are reported with the right pod names, and a healthy one
//! stays silent.

mod common;

use common::*;
use serde_json::Value;

/// Every finding summary of `id`, joined.
fn summaries(report: &Value, id: &str) -> String {
    check(report, id)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["summary"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn real_bundles_get_their_workload_problems_named() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "sbctl-tests-support-bundle.tar.gz",
            "k8s/pod-crashloop",
            &["velero-6996dd565b-xl44t"],
        ),
        (
            "troubleshoot-support-bundle-2021-03-24T00_39_51.tar.gz",
            "k8s/image-pull-failure",
            &["kotsadm-minio-0", "kotsadm-migrations-1616434755"],
        ),
        (
            "troubleshoot-support-bundle-2021-03-24T00_39_51.tar.gz",
            "k8s/pod-unschedulable",
            &["svclb-example-nginx-mkq2v"],
        ),
        (
            "troubleshoot-testdata-support-bundle.tar.gz",
            "k8s/pod-crashloop",
            &["local-path-provisioner", "metrics-server"],
        ),
        (
            "cluster-info-dump-aks-k8s-arena.tar.gz",
            "k8s/pod-crashloop",
            &[
                "coredns-autoscaler-6d7bd69669-nmpz2",
                "kubernetes-dashboard-7f7676f7b5-65j6w",
            ],
        ),
        (
            "sosreport-charmed-kubernetes-hotsos.tar.xz",
            "k8s/image-pull-failure",
            &["ubuntu-debug", "rate limit"],
        ),
    ];
    for (bundle, id, names) in cases {
        let (_, report) = run_json(&testdata().join("foreign").join(bundle), &[]);
        let s = summaries(&report, id);
        for n in *names {
            assert!(s.contains(n), "{bundle}: {id} does not name {n}:\n{s}");
        }
    }
    let (code, report) = run_json(
        &testdata().join("foreign/cluster-info-dump-minikube-multi-k8s.tar.gz"),
        &[],
    );
    assert_eq!(code, 0, "{}", report["summary"]);
}

#[test]
fn a_mount_failure_cites_the_event_whose_cause_it_quotes() {
    // The 2021 bundle: each collectd pod has a hostPath type error and later time-outs of the
    // same mount; the finding quotes the type error, and its evidence is that event.
    let (_, report) = run_json(
        &testdata().join("foreign/troubleshoot-support-bundle-2021-03-24T00_39_51.tar.gz"),
        &[],
    );
    let findings = check(&report, "k8s/volume-mount-failure")["findings"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(findings.len(), 2);
    for f in &findings {
        assert!(
            f["detail"]
                .as_str()
                .unwrap()
                .contains("hostPath type check failed"),
            "{f}"
        );
        let events: Vec<&Value> = f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["file"] == "cluster-resources/events/default.json")
            .collect();
        assert_eq!(events.len(), 1, "{f}");
        assert!(
            events[0]["excerpt"]
                .as_str()
                .unwrap()
                .contains("MountVolume.SetUp failed for volume"),
            "{f}"
        );
    }
}
