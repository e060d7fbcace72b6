//! The eight `k8s/*` scenarios of testdata/ as Replicated troubleshoot writes them, and the same
//! verdicts in both layouts.
//!
//! `testdata/troubleshoot-k8s-<scenario>` is made from `testdata/k8s-<scenario>` by
//! [`write_troubleshoot`]: per-namespace lists under `cluster-resources/`, objects in the field
//! order of the Go types, two-space indent, in the list shapes of three troubleshoot releases
//! (v0.10's bare arrays without `kind`, v0.50's typed lists, v0.123's `"items": null` for an
//! empty namespace), pod logs as `<container>.log` and `<container>-previous.log`, a list the
//! scenario lacks as the list call troubleshoot saw fail (`<kind>-errors.json`). The bundles are
//! kept in testdata/ so that `tests/bundles.rs` runs their expectations; the first test below
//! fails when they no longer match what this file writes. After changing a scenario or this
//! file, write them again with
//! `cargo test --test k8s_troubleshoot -- --ignored write_the_troubleshoot_bundles`.

mod common;

use common::*;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The eight scenarios (firing and near miss each), with the troubleshoot release whose
/// shapes each is written in.
const SCENARIOS: &[(&str, Release)] = &[
    ("pod-crashloop", Release::V0_123),
    ("pod-crashloop-near-miss", Release::V0_10),
    ("pod-oomkilled", Release::V0_50),
    ("pod-oomkilled-near-miss", Release::V0_123),
    ("image-pull-failure", Release::V0_10),
    ("image-pull-failure-near-miss", Release::V0_50),
    ("pod-unschedulable", Release::V0_50),
    ("pod-unschedulable-near-miss", Release::V0_10),
    ("container-config-error", Release::V0_123),
    ("container-config-error-near-miss", Release::V0_10),
    ("node-not-ready", Release::V0_10),
    ("node-not-ready-near-miss", Release::V0_123),
    // DaemonSets are collected since v0.69.0.
    ("workload-unavailable", Release::V0_123),
    ("workload-unavailable-near-miss", Release::V0_123),
    ("volume-mount-failure", Release::V0_50),
    ("volume-mount-failure-near-miss", Release::V0_123),
];

/// The troubleshoot releases whose output shapes the bundles take.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Release {
    /// 2021: every list a bare array, items without `kind`/`apiVersion`, `[]` when empty; no
    /// pod logs, no DaemonSets.
    V0_10,
    /// 2023: `{"kind": "PodList", …, "items": [...]}`, items typed, `"items": []` when empty;
    /// logs of unhealthy pods; no DaemonSets.
    V0_50,
    /// 2025: as v0.50 with `"items": null` when empty, and DaemonSets.
    V0_123,
}

impl Release {
    fn version(self) -> &'static str {
        match self {
            Release::V0_10 => "v0.10.10",
            Release::V0_50 => "v0.50.0",
            Release::V0_123 => "v0.123.14",
        }
    }
}

/// Per-namespace kinds: (our list, troubleshoot folder, list kind, item kind, API version).
const PER_NAMESPACE: &[(&str, &str, &str, &str, &str)] = &[
    ("pods.json", "pods", "PodList", "Pod", "v1"),
    ("events.json", "events", "EventList", "Event", "v1"),
    (
        "deployments.json",
        "deployments",
        "DeploymentList",
        "Deployment",
        "apps/v1",
    ),
    (
        "statefulsets.json",
        "statefulsets",
        "StatefulSetList",
        "StatefulSet",
        "apps/v1",
    ),
    (
        "daemonsets.json",
        "daemonsets",
        "DaemonSetList",
        "DaemonSet",
        "apps/v1",
    ),
];

/// The service account troubleshoot ran as, in the errors of the lists it could not read.
const USER: &str = "support-viewer";

/// Go struct field order of the Kubernetes types the scenarios hold: (type, [(field, type of
/// its value or of its array's elements)]). Fields not listed follow in the order read.
const ORDER: &[(&str, &[(&str, &str)])] = &[
    (
        "Pod",
        &[
            ("kind", ""),
            ("apiVersion", ""),
            ("metadata", "Meta"),
            ("spec", "PodSpec"),
            ("status", "PodStatus"),
        ],
    ),
    (
        "Node",
        &[
            ("kind", ""),
            ("apiVersion", ""),
            ("metadata", "Meta"),
            ("spec", "NodeSpec"),
            ("status", "NodeStatus"),
        ],
    ),
    (
        "Workload",
        &[
            ("kind", ""),
            ("apiVersion", ""),
            ("metadata", "Meta"),
            ("spec", "WorkloadSpec"),
            ("status", "WorkloadStatus"),
        ],
    ),
    (
        "Event",
        &[
            ("kind", ""),
            ("apiVersion", ""),
            ("metadata", "Meta"),
            ("involvedObject", "ObjectRef"),
            ("reason", ""),
            ("message", ""),
            ("source", "Source"),
            ("firstTimestamp", ""),
            ("lastTimestamp", ""),
            ("count", ""),
            ("type", ""),
            ("eventTime", ""),
            ("series", ""),
            ("action", ""),
            ("related", "ObjectRef"),
            ("reportingComponent", ""),
            ("reportingInstance", ""),
        ],
    ),
    (
        "Namespace",
        &[
            ("kind", ""),
            ("apiVersion", ""),
            ("metadata", "Meta"),
            ("spec", ""),
            ("status", ""),
        ],
    ),
    (
        "Meta",
        &[
            ("name", ""),
            ("generateName", ""),
            ("namespace", ""),
            ("selfLink", ""),
            ("uid", ""),
            ("resourceVersion", ""),
            ("generation", ""),
            ("creationTimestamp", ""),
            ("deletionTimestamp", ""),
            ("deletionGracePeriodSeconds", ""),
            ("labels", ""),
            ("annotations", ""),
            ("ownerReferences", "OwnerRef"),
            ("finalizers", ""),
            ("managedFields", ""),
        ],
    ),
    (
        "OwnerRef",
        &[
            ("apiVersion", ""),
            ("kind", ""),
            ("name", ""),
            ("uid", ""),
            ("controller", ""),
            ("blockOwnerDeletion", ""),
        ],
    ),
    (
        "PodSpec",
        &[
            ("volumes", ""),
            ("initContainers", "Container"),
            ("containers", "Container"),
            ("ephemeralContainers", "Container"),
            ("restartPolicy", ""),
            ("terminationGracePeriodSeconds", ""),
            ("activeDeadlineSeconds", ""),
            ("dnsPolicy", ""),
            ("nodeSelector", ""),
            ("serviceAccountName", ""),
            ("serviceAccount", ""),
            ("automountServiceAccountToken", ""),
            ("nodeName", ""),
            ("hostNetwork", ""),
            ("hostPID", ""),
            ("hostIPC", ""),
            ("shareProcessNamespace", ""),
            ("securityContext", ""),
            ("imagePullSecrets", ""),
            ("hostname", ""),
            ("subdomain", ""),
            ("affinity", ""),
            ("schedulerName", ""),
            ("tolerations", "Toleration"),
            ("hostAliases", ""),
            ("priorityClassName", ""),
            ("priority", ""),
            ("dnsConfig", ""),
            ("readinessGates", ""),
            ("runtimeClassName", ""),
            ("enableServiceLinks", ""),
            ("preemptionPolicy", ""),
            ("overhead", ""),
            ("topologySpreadConstraints", ""),
        ],
    ),
    (
        "Container",
        &[
            ("name", ""),
            ("image", ""),
            ("command", ""),
            ("args", ""),
            ("workingDir", ""),
            ("ports", ""),
            ("envFrom", ""),
            ("env", ""),
            ("resources", "Resources"),
            ("resizePolicy", ""),
            ("restartPolicy", ""),
            ("volumeMounts", ""),
            ("volumeDevices", ""),
            ("livenessProbe", ""),
            ("readinessProbe", ""),
            ("startupProbe", ""),
            ("lifecycle", ""),
            ("terminationMessagePath", ""),
            ("terminationMessagePolicy", ""),
            ("imagePullPolicy", ""),
            ("securityContext", ""),
            ("stdin", ""),
            ("stdinOnce", ""),
            ("tty", ""),
        ],
    ),
    (
        "Resources",
        &[("limits", ""), ("requests", ""), ("claims", "")],
    ),
    (
        "Toleration",
        &[
            ("key", ""),
            ("operator", ""),
            ("value", ""),
            ("effect", ""),
            ("tolerationSeconds", ""),
        ],
    ),
    (
        "PodStatus",
        &[
            ("phase", ""),
            ("conditions", "Condition"),
            ("message", ""),
            ("reason", ""),
            ("nominatedNodeName", ""),
            ("hostIP", ""),
            ("hostIPs", ""),
            ("podIP", ""),
            ("podIPs", ""),
            ("startTime", ""),
            ("initContainerStatuses", "ContainerStatus"),
            ("containerStatuses", "ContainerStatus"),
            ("qosClass", ""),
            ("ephemeralContainerStatuses", "ContainerStatus"),
        ],
    ),
    (
        "Condition",
        &[
            ("type", ""),
            ("status", ""),
            ("lastProbeTime", ""),
            ("lastHeartbeatTime", ""),
            ("lastUpdateTime", ""),
            ("lastTransitionTime", ""),
            ("reason", ""),
            ("message", ""),
        ],
    ),
    (
        "ContainerStatus",
        &[
            ("name", ""),
            ("state", "State"),
            ("lastState", "State"),
            ("ready", ""),
            ("restartCount", ""),
            ("image", ""),
            ("imageID", ""),
            ("containerID", ""),
            ("started", ""),
        ],
    ),
    (
        "State",
        &[
            ("waiting", "Waiting"),
            ("running", ""),
            ("terminated", "Terminated"),
        ],
    ),
    ("Waiting", &[("reason", ""), ("message", "")]),
    (
        "Terminated",
        &[
            ("exitCode", ""),
            ("signal", ""),
            ("reason", ""),
            ("message", ""),
            ("startedAt", ""),
            ("finishedAt", ""),
            ("containerID", ""),
        ],
    ),
    (
        "ObjectRef",
        &[
            ("kind", ""),
            ("namespace", ""),
            ("name", ""),
            ("uid", ""),
            ("apiVersion", ""),
            ("resourceVersion", ""),
            ("fieldPath", ""),
        ],
    ),
    ("Source", &[("component", ""), ("host", "")]),
    (
        "NodeSpec",
        &[
            ("podCIDR", ""),
            ("podCIDRs", ""),
            ("providerID", ""),
            ("unschedulable", ""),
            ("taints", "Taint"),
        ],
    ),
    (
        "Taint",
        &[
            ("key", ""),
            ("value", ""),
            ("effect", ""),
            ("timeAdded", ""),
        ],
    ),
    (
        "NodeStatus",
        &[
            ("capacity", ""),
            ("allocatable", ""),
            ("phase", ""),
            ("conditions", "Condition"),
            ("addresses", ""),
            ("daemonEndpoints", ""),
            ("nodeInfo", ""),
            ("images", ""),
            ("volumesInUse", ""),
            ("volumesAttached", ""),
        ],
    ),
    (
        "WorkloadSpec",
        &[
            ("replicas", ""),
            ("selector", ""),
            ("template", "Template"),
            ("volumeClaimTemplates", ""),
            ("serviceName", ""),
            ("podManagementPolicy", ""),
            ("strategy", ""),
            ("updateStrategy", ""),
            ("minReadySeconds", ""),
            ("revisionHistoryLimit", ""),
            ("paused", ""),
            ("progressDeadlineSeconds", ""),
        ],
    ),
    ("Template", &[("metadata", "Meta"), ("spec", "PodSpec")]),
    (
        "WorkloadStatus",
        &[
            ("currentNumberScheduled", ""),
            ("numberMisscheduled", ""),
            ("desiredNumberScheduled", ""),
            ("numberReady", ""),
            ("observedGeneration", ""),
            ("replicas", ""),
            ("updatedReplicas", ""),
            ("readyReplicas", ""),
            ("currentReplicas", ""),
            ("availableReplicas", ""),
            ("unavailableReplicas", ""),
            ("updatedNumberScheduled", ""),
            ("numberAvailable", ""),
            ("numberUnavailable", ""),
            ("collisionCount", ""),
            ("conditions", "Condition"),
        ],
    ),
];

fn fields(ty: &str) -> &'static [(&'static str, &'static str)] {
    ORDER
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, f)| *f)
        .unwrap_or(&[])
}

/// A JSON string as Go's encoding/json writes it: `<`, `>` and `&` escaped for HTML.
fn go_string(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// `json.MarshalIndent(v, "", "  ")` of a value of Go type `ty`.
fn go_json(v: &Value, ty: &str, depth: usize, out: &mut String) {
    let pad = |d: usize| "  ".repeat(d);
    match v {
        Value::Object(o) if o.is_empty() => out.push_str("{}"),
        Value::Object(o) => {
            let known = fields(ty);
            let mut keys: Vec<(&str, &str)> = known
                .iter()
                .filter(|(k, _)| o.contains_key(*k))
                .map(|(k, t)| (*k, *t))
                .collect();
            keys.extend(
                o.keys()
                    .filter(|k| !known.iter().any(|(f, _)| f == k))
                    .map(|k| (k.as_str(), "")),
            );
            out.push_str("{\n");
            for (i, (k, t)) in keys.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&go_string(k));
                out.push_str(": ");
                go_json(&o[*k], t, depth + 1, out);
                if i + 1 < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Array(a) => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                go_json(x, ty, depth + 1, out);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::String(s) => out.push_str(&go_string(s)),
        other => out.push_str(&other.to_string()),
    }
}

fn item_type(kind: &str) -> &'static str {
    match kind {
        "Pod" => "Pod",
        "Node" => "Node",
        "Event" => "Event",
        "Namespace" => "Namespace",
        _ => "Workload",
    }
}

/// A list file as `release` wrote it: `items` of kind `kind` (an empty list when `None`).
fn list_file(release: Release, list_kind: &str, kind: &str, api: &str, items: &[Value]) -> String {
    let typed: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut o = i.as_object().cloned().unwrap_or_default();
            if release == Release::V0_10 {
                o.remove("kind");
                o.remove("apiVersion");
            } else {
                o.insert("kind".into(), json!(kind));
                o.insert("apiVersion".into(), json!(api));
            }
            Value::Object(o)
        })
        .collect();
    let mut out = String::new();
    let ty = item_type(kind);
    match release {
        Release::V0_10 => go_json(&Value::Array(typed), ty, 0, &mut out),
        _ => {
            let items = if typed.is_empty() && release == Release::V0_123 {
                "null".to_string()
            } else {
                let mut s = String::new();
                go_json(&Value::Array(typed), ty, 1, &mut s);
                s
            };
            out.push_str(&format!(
                "{{\n  \"kind\": {},\n  \"apiVersion\": {},\n  \"metadata\": {{\n    \"resourceVersion\": \"{}\"\n  }},\n  \"items\": {items}\n}}",
                go_string(list_kind),
                go_string(api),
                RESOURCE_VERSION,
            ));
        }
    }
    out
}

/// The lists' resourceVersion: one read of the API for every list, as troubleshoot does.
const RESOURCE_VERSION: &str = "915302";

/// A stable uid made from a name (troubleshoot's bundles carry the cluster's).
fn uid(name: &str) -> String {
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn items_of(path: &Path) -> Option<Vec<Value>> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).unwrap();
    Some(v["items"].as_array().cloned().unwrap_or_default())
}

fn namespace_of(item: &Value) -> &str {
    item["metadata"]["namespace"].as_str().unwrap_or("default")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Writes the bundle of our layout at `ours` as troubleshoot `release` would have collected the
/// same cluster, into `out`.
fn write_troubleshoot(ours: &Path, out: &Path, release: Release) {
    let kubectl = ours.join("kubectl");
    let lists: BTreeMap<&str, Vec<Value>> = PER_NAMESPACE
        .iter()
        .filter_map(|(file, ..)| items_of(&kubectl.join(file)).map(|i| (*file, i)))
        .collect();
    let nodes = items_of(&kubectl.join("nodes.json"));
    // Every namespace an object is in, and the ones every cluster has.
    let mut namespaces: BTreeSet<String> =
        ["default", "kube-node-lease", "kube-public", "kube-system"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    for items in lists.values() {
        namespaces.extend(items.iter().map(|i| namespace_of(i).to_string()));
    }
    let version = nodes
        .as_ref()
        .and_then(|n| n.first())
        .and_then(|n| n["status"]["nodeInfo"]["kubeletVersion"].as_str())
        .unwrap_or("v1.31.2")
        .to_string();

    write(
        &out.join("version.yaml"),
        &format!(
            "apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\nspec:\n  versionNumber: {}\n",
            release.version()
        ),
    );
    let minor = version.split('.').nth(1).unwrap_or("31");
    let info = json!({"info": {"major": "1", "minor": minor, "gitVersion": version,
        "gitCommit": "5864a4677267e6adeae276ad85882a8714d69d9d", "gitTreeState": "clean",
        "buildDate": "2024-10-22T20:28:14Z", "goVersion": "go1.22.8", "compiler": "gc",
        "platform": "linux/amd64"}, "string": version});
    let mut s = String::new();
    go_json(&info, "", 0, &mut s);
    write(&out.join("cluster-info/cluster_version.json"), &s);

    let ns_items: Vec<Value> = namespaces
        .iter()
        .map(|ns| {
            json!({"metadata": {"name": ns, "uid": uid(ns), "resourceVersion": "4",
                "creationTimestamp": "2026-01-12T08:30:00Z",
                "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        })
        .collect();
    write(
        &out.join("cluster-resources/namespaces.json"),
        &list_file(release, "NamespaceList", "Namespace", "v1", &ns_items),
    );

    for (file, dir, list_kind, kind, api) in PER_NAMESPACE {
        if *dir == "daemonsets" && release != Release::V0_123 {
            continue;
        }
        match lists.get(file) {
            Some(items) => {
                for ns in &namespaces {
                    let here: Vec<Value> = items
                        .iter()
                        .filter(|i| namespace_of(i) == ns)
                        .cloned()
                        .collect();
                    write(
                        &out.join(format!("cluster-resources/{dir}/{ns}.json")),
                        &list_file(release, list_kind, kind, api, &here),
                    );
                }
            }
            // The scenario has no such list: troubleshoot's user could not read it.
            None => {
                let (resource, group) = match *api {
                    "v1" => (dir.to_string(), String::new()),
                    g => (dir.to_string(), g.split('/').next().unwrap().to_string()),
                };
                let dotted = if group.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}.{group}")
                };
                let errors: Map<String, Value> = namespaces
                    .iter()
                    .map(|ns| {
                        (
                            ns.clone(),
                            json!(format!(
                                "{dotted} is forbidden: User \"{USER}\" cannot list resource \"{resource}\" in API group \"{group}\" in the namespace \"{ns}\""
                            )),
                        )
                    })
                    .collect();
                let mut s = String::new();
                go_json(&Value::Object(errors), "", 0, &mut s);
                write(
                    &out.join(format!("cluster-resources/{dir}-errors.json")),
                    &s,
                );
            }
        }
    }
    match nodes {
        Some(items) => write(
            &out.join("cluster-resources/nodes.json"),
            &list_file(release, "NodeList", "Node", "v1", &items),
        ),
        None => {
            // A failed cluster-scoped list: an empty file, and the error beside it.
            write(&out.join("cluster-resources/nodes.json"), "");
            let mut s = String::new();
            go_json(
                &json!([format!(
                    "nodes is forbidden: User \"{USER}\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
                )]),
                "",
                0,
                &mut s,
            );
            write(&out.join("cluster-resources/nodes-errors.json"), &s);
        }
    }

    // Logs of unhealthy pods (not collected by v0.10): `kubectl logs` and `--previous`; for a
    // container waiting to restart both return the instance that ended.
    if release != Release::V0_10 {
        let logs = kubectl.join("logs");
        let pods = lists.get("pods.json").cloned().unwrap_or_default();
        for p in &pods {
            let (ns, name) = (namespace_of(p), p["metadata"]["name"].as_str().unwrap());
            let dir = logs.join(ns).join(name);
            if !dir.is_dir() {
                continue;
            }
            let statuses: Vec<&Value> = ["initContainerStatuses", "containerStatuses"]
                .iter()
                .flat_map(|k| p["status"][k].as_array().into_iter().flatten())
                .collect();
            for c in statuses {
                let cname = c["name"].as_str().unwrap();
                let to = out.join(format!("cluster-resources/pods/logs/{ns}/{name}"));
                let current = std::fs::read_to_string(dir.join(format!("{cname}.log"))).ok();
                let previous =
                    std::fs::read_to_string(dir.join(format!("{cname}.previous.log"))).ok();
                let waiting = c["state"].get("waiting").is_some()
                    && c["lastState"].get("terminated").is_some();
                let current = current.or_else(|| previous.clone().filter(|_| waiting));
                if let Some(t) = current {
                    write(&to.join(format!("{cname}.log")), &t);
                }
                if let Some(t) = previous {
                    write(&to.join(format!("{cname}-previous.log")), &t);
                }
            }
        }
    }
}

#[test]
#[ignore = "writes testdata/: run it after changing a k8s scenario or this file"]
fn write_the_troubleshoot_bundles() {
    for (name, release) in SCENARIOS {
        let out = testdata().join(format!("troubleshoot-k8s-{name}"));
        if out.exists() {
            std::fs::remove_dir_all(&out).unwrap();
        }
        write_troubleshoot(&testdata().join(format!("k8s-{name}")), &out, *release);
    }
}

#[test]
fn the_troubleshoot_bundles_are_the_k8s_scenarios_as_written_here() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, release) in SCENARIOS {
        let out = tmp.path().join(name);
        write_troubleshoot(&testdata().join(format!("k8s-{name}")), &out, *release);
        let kept = testdata().join(format!("troubleshoot-k8s-{name}"));
        assert!(
            kept.is_dir() && tree(&kept) == tree(&out),
            "testdata/troubleshoot-k8s-{name} is not what k8s-{name} gives: write it again (see the top of this file)"
        );
    }
}

/// Check id → (status, [(severity, summary, occurrences)]).
type Verdicts = BTreeMap<String, (String, Vec<(String, String, Value)>)>;

/// What a user reads of a check's verdict: status, and per finding its severity, summary (the
/// workload and pods it names) and count. How long before collection is left out: a
/// troubleshoot bundle records no collection time, which is then the newest time its objects
/// show, seconds or minutes before the one our collector writes down.
fn verdicts(report: &Value) -> Verdicts {
    let ago = regex::Regex::new(r"\d+ (d|h|min|s)( \d+ (h|min|s))? before collection").unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().starts_with("k8s/"))
        .map(|c| {
            let findings = c["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["severity"].as_str().unwrap().to_string(),
                        ago.replace_all(f["summary"].as_str().unwrap(), "… before collection")
                            .into_owned(),
                        f["occurrences"].clone(),
                    )
                })
                .collect();
            (
                c["id"].as_str().unwrap().to_string(),
                (c["status"].as_str().unwrap().to_string(), findings),
            )
        })
        .collect()
}

#[test]
fn every_k8s_scenario_reaches_the_same_verdicts_as_a_troubleshoot_bundle() {
    let mut differ = Vec::new();
    for (name, _) in SCENARIOS {
        let (_, ours) = run_json(&testdata().join(format!("k8s-{name}")), &[]);
        let (_, theirs) = run_json(&testdata().join(format!("troubleshoot-k8s-{name}")), &[]);
        assert_eq!(theirs["bundle"]["layout"], "troubleshoot", "{name}");
        let (a, b) = (verdicts(&ours), verdicts(&theirs));
        assert_eq!(a.len(), 8, "{name}");
        if a != b {
            differ.push(format!("{name}:\n  ours   {a:?}\n  theirs {b:?}"));
        }
        // Evidence names troubleshoot's own files.
        for c in theirs["checks"].as_array().unwrap() {
            for f in c["findings"].as_array().unwrap() {
                for e in f["evidence"].as_array().unwrap() {
                    let file = e["file"].as_str().unwrap();
                    assert!(
                        file.starts_with("cluster-resources/"),
                        "{name}: {} cites {file}",
                        c["id"]
                    );
                }
            }
        }
    }
    assert!(differ.is_empty(), "\n{}", differ.join("\n"));
}
