//! Writes a realistic, deterministic support bundle of a chosen size for benchmarks:
//! thousands of nodes, tens of thousands of pods, service accounts and events shaped as
//! `kubectl -o json` prints them, and journals and pod logs with klog prefixes, some of whose
//! lines are real findings. Same size and seed → the same bytes.
//!
//! ```sh
//! cargo run --release --example gen_bundle -- --size medium --out bench-out/medium [--seed 7] [--scale-logs 2]
//! ```

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// How much of everything to write.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub nodes: usize,
    pub pods: usize,
    pub events: usize,
    pub ksas: usize,
    /// Pods whose logs are collected, and lines per log.
    pub log_pods: usize,
    pub log_lines: usize,
    /// Nodes with a journal folder, and lines per journal.
    pub journal_nodes: usize,
    pub journal_lines: usize,
    /// Pods and events as a real cluster's `kubectl get -o json` prints them (4-space indent,
    /// owner references, several containers, probes, volumes, tolerations, full statuses),
    /// rather than the lean shapes of the log-heavy sizes.
    pub kubectl_shape: bool,
}

impl Size {
    pub fn named(name: &str) -> Option<Size> {
        Some(match name {
            "tiny" => Size {
                nodes: 6,
                pods: 60,
                events: 200,
                ksas: 40,
                log_pods: 8,
                log_lines: 300,
                journal_nodes: 3,
                journal_lines: 400,
                kubectl_shape: false,
            },
            "small" => Size {
                nodes: 100,
                pods: 1_000,
                events: 2_000,
                ksas: 400,
                log_pods: 10,
                log_lines: 3_000,
                journal_nodes: 3,
                journal_lines: 4_000,
                kubectl_shape: false,
            },
            "medium" => Size {
                nodes: 1_000,
                pods: 10_000,
                events: 20_000,
                ksas: 2_000,
                log_pods: 150,
                log_lines: 6_000,
                journal_nodes: 20,
                journal_lines: 8_000,
                kubectl_shape: false,
            },
            "large" => Size {
                nodes: 5_000,
                pods: 30_000,
                events: 200_000,
                ksas: 3_500,
                log_pods: 600,
                log_lines: 15_000,
                journal_nodes: 100,
                journal_lines: 20_000,
                kubectl_shape: false,
            },
            // A big cluster whose bundle is mostly its kubectl JSON: 5,000 nodes at 30 pods a
            // node, pods.json near 1 GB; modest logs.
            "json-heavy" => Size {
                nodes: 5_000,
                pods: 150_000,
                events: 100_000,
                ksas: 3_500,
                log_pods: 100,
                log_lines: 3_000,
                journal_nodes: 20,
                journal_lines: 4_000,
                kubectl_shape: true,
            },
            // The same with twice the JSON and the same logs: memory must stay flat.
            "json-heavy-x2" => Size {
                nodes: 10_000,
                pods: 300_000,
                events: 200_000,
                ksas: 7_000,
                log_pods: 100,
                log_lines: 3_000,
                journal_nodes: 20,
                journal_lines: 4_000,
                kubectl_shape: true,
            },
            // The smallest bundle in the kubectl shapes, for tests.
            "tiny-json" => Size {
                nodes: 6,
                pods: 90,
                events: 200,
                ksas: 40,
                log_pods: 8,
                log_lines: 300,
                journal_nodes: 3,
                journal_lines: 400,
                kubectl_shape: true,
            },
            _ => return None,
        })
    }

    pub fn scale_logs(mut self, k: usize) -> Size {
        self.log_lines *= k;
        self.journal_lines *= k;
        self
    }
}

/// splitmix64: tiny, fast and deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(len);
        s
    }
    pub fn suffix(&mut self, len: usize) -> String {
        const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..len).map(|_| A[self.below(A.len())] as char).collect()
    }
}

const CREATED: &str = "2026-11-20T10:15:00Z";
const PROJECT: &str = "bigshop-prod-4411";
const NAMESPACES: &[&str] = &[
    "default",
    "payments",
    "orders",
    "inventory",
    "search",
    "frontend",
    "batch",
    "monitoring",
    "istio-system",
    "kube-system",
];

fn create(path: &Path) -> io::Result<BufWriter<File>> {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p)?;
    }
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

/// Writes a `kubectl get ... -o json` list, one pretty-printed item at a time (bounded memory).
/// `indent` is kubectl's four spaces for the kubectl-shaped sizes; the log-heavy sizes keep the
/// two their published figures were measured with.
fn write_list(
    path: &Path,
    n: usize,
    indent: &[u8],
    mut item: impl FnMut(usize) -> serde_json::Value,
) -> io::Result<()> {
    let mut w = create(path)?;
    w.write_all(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")?;
    let mut text = Vec::with_capacity(64 << 10);
    for i in 0..n {
        let v = item(i);
        text.clear();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut text,
            serde_json::ser::PrettyFormatter::with_indent(indent),
        );
        serde::Serialize::serialize(&v, &mut ser).map_err(io::Error::other)?;
        for (k, line) in text.split(|&b| b == b'\n').enumerate() {
            if k > 0 {
                w.write_all(b"\n")?;
            }
            w.write_all(b"        ")?;
            w.write_all(line)?;
        }
        w.write_all(if i + 1 < n { b",\n" } else { b"\n" })?;
    }
    w.write_all(b"    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")?;
    w.flush()
}

fn node_name(i: usize) -> String {
    format!(
        "gke-bigshop-pool-{}-{:08x}-{:04}",
        i % 4,
        (i as u64).wrapping_mul(2_654_435_761) & 0xffff_ffff,
        i
    )
}

/// Generates the bundle under `out` (which must not exist or be empty).
pub fn generate(out: &Path, size: Size, seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    fs::create_dir_all(out)?;
    let manifest = serde_json::json!({
        "format": 1,
        "collector": {"name": "collect-bundle", "version": "0.1.0"},
        "created": CREATED,
        "mode": "gke",
        "cluster": {"context": format!("gke_{PROJECT}_us-central1_big"), "name": "big", "project": PROJECT, "location": "us-central1"},
        "sources": [
            {"path": "kubectl/pods.json", "command": ["kubectl", "get", "pods", "--all-namespaces", "-o", "json"], "exit_code": 0, "duration_ms": 48120, "stderr": "", "redactions": 0},
            {"path": "gcloud/services-enabled.json", "command": ["gcloud", "services", "list", "--enabled", "--format=json"], "exit_code": 1,
             "stderr": "ERROR: (gcloud.services.list) PERMISSION_DENIED: Permission denied to list services for consumer container [projects/441100200300].", "error": "command failed"}
        ]
    });
    fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).map_err(io::Error::other)? + "\n",
    )?;

    let nodes: Vec<String> = (0..size.nodes).map(node_name).collect();
    let indent: &[u8] = if size.kubectl_shape { b"    " } else { b"  " };
    write_list(&out.join("kubectl/nodes.json"), size.nodes, indent, |i| {
        if size.kubectl_shape {
            return kubectl::node(&nodes[i], i);
        }
        serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": nodes[i], "creationTimestamp": "2026-10-01T08:00:00Z",
                "labels": {"cloud.google.com/gke-nodepool": format!("pool-{}", i % 4), "kubernetes.io/hostname": nodes[i], "topology.kubernetes.io/zone": format!("us-central1-{}", ["a", "b", "c"][i % 3])},
                "uid": format!("{:08x}-0000-4000-8000-{:012x}", i, i)},
            "spec": {"podCIDR": format!("10.{}.{}.0/24", 64 + i / 256, i % 256), "providerID": format!("gce://{PROJECT}/us-central1-a/{}", nodes[i])},
            "status": {"addresses": [{"address": format!("10.128.{}.{}", i / 250, i % 250 + 2), "type": "InternalIP"}, {"address": nodes[i], "type": "Hostname"}],
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": "2026-11-20T10:14:40Z", "lastTransitionTime": "2026-10-01T08:01:00Z"}],
                "nodeInfo": {"kubeletVersion": "v1.29.10-gke.1227000", "containerRuntimeVersion": "containerd://1.7.22", "osImage": "Container-Optimized OS from Google", "kernelVersion": "6.1.100+"}}
        })
    })?;

    let mut pod_names = Vec::with_capacity(size.pods);
    for i in 0..size.pods {
        let ns = NAMESPACES[i % NAMESPACES.len()];
        let app = format!("svc{:03}", i % 400);
        let name = if ns == "kube-system" && i % 50 == 9 {
            format!("gke-metadata-server-{}", rng.suffix(5))
        } else if size.kubectl_shape {
            // A Deployment's pod: <deployment>-<pod-template-hash>-<suffix>.
            format!(
                "{}-{}-{}",
                kubectl::deployment(i),
                rng.suffix(10),
                rng.suffix(5)
            )
        } else {
            format!("{app}-{}-{}", rng.hex(10), rng.suffix(5))
        };
        pod_names.push((ns, name, nodes[rng.below(nodes.len())].clone()));
    }
    let mut prng = Rng::new(seed ^ 0x5eed);
    let planted = kubectl::Planted::new(size.pods);
    write_list(&out.join("kubectl/pods.json"), size.pods, indent, |i| {
        let (ns, name, node) = &pod_names[i];
        if size.kubectl_shape {
            return kubectl::pod(ns, name, node, i, planted.kind(i), &mut prng);
        }
        let crash = name.starts_with("gke-metadata-server-") && i % 3 == 0;
        let state = if crash {
            serde_json::json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container=gke-metadata-server pod={name}_{ns}")}})
        } else {
            serde_json::json!({"running": {"startedAt": "2026-11-19T22:00:00Z"}})
        };
        let image = if name.starts_with("gke-metadata-server-") {
            "gke.gcr.io/gke-metadata-server:20241008_2300_RC0".to_string()
        } else {
            format!(
                "us-docker.pkg.dev/{PROJECT}/apps/{}:1.{}.{}",
                &name[..6],
                i % 20,
                prng.below(9)
            )
        };
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": "2026-11-19T21:59:00Z", "labels": {"app": &name[..6], "pod-template-hash": prng.hex(10)},
                "uid": format!("{}-{}-{}-{}-{}", prng.hex(8), prng.hex(4), prng.hex(4), prng.hex(4), prng.hex(12))},
            "spec": {"containers": [{"name": "main", "image": image, "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}, "env": [{"name": "LOG_LEVEL", "value": "info"}]}],
                "nodeName": node, "serviceAccountName": if i % 7 == 0 { "workload" } else { "default" }, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"},
            "status": {"phase": "Running", "hostIP": "10.128.0.2", "podIP": format!("10.{}.{}.{}", 64 + i / 65536, (i / 256) % 256, i % 256), "startTime": "2026-11-19T21:59:00Z",
                "conditions": [{"type": "Ready", "status": if crash { "False" } else { "True" }, "lastTransitionTime": "2026-11-19T22:00:00Z"}],
                "containerStatuses": [{"name": "main", "image": "img", "ready": !crash, "restartCount": if crash { 211 } else { prng.below(3) }, "state": state,
                    "lastState": if crash { serde_json::json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": "2026-11-20T10:05:00Z", "finishedAt": "2026-11-20T10:06:10Z"}}) } else { serde_json::json!({}) },
                    "containerID": format!("containerd://{}", prng.hex(64))}]}
        })
    })?;

    let mut srng = Rng::new(seed ^ 0xacc0);
    write_list(
        &out.join("kubectl/serviceaccounts.json"),
        size.ksas,
        indent,
        |i| {
            let ns = NAMESPACES[i % NAMESPACES.len()];
            let name = format!("workload-{i}");
            let mut meta = serde_json::json!({"name": name, "namespace": ns, "creationTimestamp": "2026-10-02T00:00:00Z", "uid": format!("{}-0000-4000-8000-{}", srng.hex(8), srng.hex(12))});
            if i % 25 == 0 {
                meta["annotations"] = serde_json::json!({"iam.gke.io/gcp-service-account": format!("workload-sa-{i}@{PROJECT}.iam.gserviceaccount.com")});
            }
            serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
        },
    )?;

    let mut erng = Rng::new(seed ^ 0xe7e7);
    let planted_pods = planted.pods();
    write_list(&out.join("kubectl/events.json"), size.events, indent, |i| {
        let (ns, pod, node) = &pod_names[i % pod_names.len()];
        if size.kubectl_shape {
            return match planted_pods.get(i) {
                Some(&(p, kind)) => {
                    let (ns, pod, node) = &pod_names[p];
                    kubectl::planted_event(ns, pod, node, p, kind, i)
                }
                None => kubectl::event(ns, pod, node, i % pod_names.len(), i, &mut erng),
            };
        }
        let (reason, kind, msg) = match erng.below(10) {
            0 => ("BackOff", "Warning", format!("Back-off restarting failed container main in pod {pod}_{ns}")),
            1 => ("Unhealthy", "Warning", "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string()),
            2 => ("FailedScheduling", "Warning", "0/5000 nodes are available: 5000 Insufficient cpu. preemption: 0/5000 nodes are available: 5000 No preemption victims found for incoming pod.".to_string()),
            _ => ("Pulled", "Normal", format!("Container image \"us-docker.pkg.dev/{PROJECT}/apps/app:1.2.3\" already present on machine")),
        };
        serde_json::json!({
            "apiVersion": "v1", "kind": "Event", "count": 1 + erng.below(40), "type": kind, "reason": reason, "message": msg,
            "firstTimestamp": "2026-11-20T09:00:00Z", "lastTimestamp": "2026-11-20T10:14:00Z",
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns, "fieldPath": "spec.containers{main}"},
            "metadata": {"name": format!("{pod}.{:x}", 0x17a0_0000_0000u64 + i as u64), "namespace": ns, "creationTimestamp": "2026-11-20T09:00:00Z"},
            "source": {"component": "kubelet", "host": node}, "reportingComponent": "kubelet", "reportingInstance": node
        })
    })?;

    write_list(&out.join("kubectl/networkpolicies.json"), 0, indent, |_| {
        serde_json::Value::Null
    })?;
    write_list(&out.join("kubectl/configmaps.json"), 1, indent, |_| {
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": ".:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n}\n"}})
    })?;

    // Pod logs: application lines with klog headers; a few carry real findings.
    let mut lrng = Rng::new(seed ^ 0x1095);
    for p in 0..size.log_pods.min(pod_names.len()) {
        let (ns, name, _) = &pod_names[p * pod_names.len() / size.log_pods.max(1)];
        let mut w = create(&out.join(format!("kubectl/logs/{ns}/{name}/main.log")))?;
        for l in 0..size.log_lines {
            let (h, m, s) = (l / 3600 % 24, l / 60 % 60, l % 60);
            let us = lrng.below(1_000_000);
            if l == size.log_lines / 2 && p % 10 == 3 {
                writeln!(
                    w,
                    "E1120 {h:02}:{m:02}:{s:02}.{us:06}       1 client.go:88] Get \"http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token\": dial tcp: lookup metadata.google.internal: no such host"
                )?;
            } else if l == size.log_lines / 3 && p % 25 == 7 {
                writeln!(
                    w,
                    "[FATAL] plugin/loop: Loop (127.0.0.1:{} -> :53) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO {}.{}.\"",
                    30000 + p,
                    lrng.next_u64() % 10_000_000_000,
                    lrng.next_u64() % 10_000_000_000
                )?;
            } else {
                let level = ["I", "I", "I", "W", "I", "E"][lrng.below(6)];
                writeln!(
                    w,
                    "{level}1120 {h:02}:{m:02}:{s:02}.{us:06}       1 handler.go:{}] \"Request served\" method=\"GET\" path=\"/api/v1/items/{}\" status={} latency=\"{}ms\" trace=\"{}\"",
                    100 + lrng.below(300),
                    lrng.below(100_000),
                    [200, 200, 200, 404, 500][lrng.below(5)],
                    lrng.below(900),
                    lrng.hex(16)
                )?;
            }
        }
        w.flush()?;
    }

    // Node journals: kubelet and containerd in short-iso-precise with klog inside.
    let mut jrng = Rng::new(seed ^ 0x7a11);
    for (n, node) in nodes.iter().enumerate().take(size.journal_nodes) {
        for unit in ["kubelet", "containerd"] {
            let mut w = create(&out.join(format!("nodes/{node}/journal/{unit}.log")))?;
            let pid = 1000 + jrng.below(60_000);
            for l in 0..size.journal_lines {
                let (h, m, s) = (l / 3600 % 24, l / 60 % 60, l % 60);
                let us = jrng.below(1_000_000);
                let ts = format!("2026-11-20T{h:02}:{m:02}:{s:02}.{us:06}+0000");
                if unit == "kubelet" && l == 5 && n % 40 == 1 {
                    writeln!(
                        w,
                        "{ts} {node} kubelet[{pid}]: E1120 {h:02}:{m:02}:{s:02}.{us:06}  {pid:>6} server.go:292] \"Failed to run kubelet\" err=\"failed to run Kubelet: misconfiguration: kubelet cgroup driver: \\\"cgroupfs\\\" is different from docker cgroup driver: \\\"systemd\\\"\""
                    )?;
                } else if unit == "kubelet" {
                    writeln!(
                        w,
                        "{ts} {node} kubelet[{pid}]: I1120 {h:02}:{m:02}:{s:02}.{us:06}  {pid:>6} kubelet_pods.go:{}] \"Pod status updated\" pod=\"{}/{}\" status=\"Running\"",
                        800 + jrng.below(400),
                        NAMESPACES[jrng.below(NAMESPACES.len())],
                        jrng.hex(12)
                    )?;
                } else {
                    writeln!(
                        w,
                        "{ts} {node} containerd[{pid}]: time=\"2026-11-20T{h:02}:{m:02}:{s:02}.{us:06}000Z\" level=info msg=\"ImageUpdate event name:\\\"sha256:{}\\\"\"",
                        jrng.hex(64)
                    )?;
                }
            }
            w.flush()?;
        }
    }

    // GKE descriptions.
    let cluster = serde_json::json!({"name": "big", "location": "us-central1", "zone": "us-central1", "currentMasterVersion": "1.29.10-gke.1227000",
        "selfLink": format!("https://container.googleapis.com/v1/projects/{PROJECT}/locations/us-central1/clusters/big"),
        "workloadIdentityConfig": {"workloadPool": format!("{PROJECT}.svc.id.goog")}, "networkConfig": {"datapathProvider": "ADVANCED_DATAPATH"}, "status": "RUNNING"});
    fs::create_dir_all(out.join("gcloud"))?;
    fs::write(
        out.join("gcloud/cluster.json"),
        serde_json::to_string_pretty(&cluster).map_err(io::Error::other)? + "\n",
    )?;
    let policy = serde_json::json!({"bindings": [{"members": ["serviceAccount:service-441100200300@container-engine-robot.iam.gserviceaccount.com"], "role": "roles/container.serviceAgent"}], "etag": "BwYJ3k1xQ2c=", "version": 1});
    fs::write(
        out.join("gcloud/project-iam-policy.json"),
        serde_json::to_string_pretty(&policy).map_err(io::Error::other)? + "\n",
    )?;
    fs::create_dir_all(out.join("captured"))?;
    fs::write(
        out.join("captured/kubectl-get-roles.txt"),
        "Error from server (Forbidden): roles.rbac.authorization.k8s.io is forbidden: User \"oncall@bigshop.example\" cannot list resource \"roles\" in API group \"rbac.authorization.k8s.io\" in the namespace \"kube-system\": requires one of [\"container.roles.list\"] permission(s).\n",
    )?;
    Ok(())
}

/// Objects as a real cluster's `kubectl get -o json` prints them (keys sorted, as kubectl's
/// unstructured printer does; no managedFields, which kubectl hides by default).
mod kubectl {
    use super::{PROJECT, Rng};
    use serde_json::{Value, json};

    const APPS: &[&str] = &[
        "checkout",
        "cart",
        "payments-api",
        "orders-worker",
        "inventory-sync",
        "search-indexer",
        "frontend-web",
        "recommendations",
        "shipping",
        "notifications",
        "auth",
        "catalog",
        "pricing",
        "reviews",
        "ledger",
        "fraud-scoring",
        "media-resizer",
        "session-store",
        "gateway",
        "reporting",
    ];

    /// The Deployment a pod of index `i` belongs to (400 of them, as in the other sizes).
    pub fn deployment(i: usize) -> String {
        let d = i % 400;
        format!("{}-{}", APPS[d % APPS.len()], d / APPS.len())
    }

    /// What a pod shows: most are healthy, a few carry a problem the catalog detects.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        Healthy,
        /// Waiting in ImagePullBackOff on a tag that does not exist (k8s/image-pull-failure).
        PullFailure,
        /// Restarted after being OOM-killed (k8s/pod-oomkilled).
        OomKilled,
        /// Pending: no node has the memory it asks for (k8s/pod-unschedulable).
        Unschedulable,
    }

    /// Which pods carry a planted problem: six of each kind, spread over the list.
    pub struct Planted {
        stride: usize,
        pods: usize,
    }

    impl Planted {
        pub fn new(pods: usize) -> Planted {
            Planted {
                stride: (pods / 6).max(10),
                pods,
            }
        }
        pub fn kind(&self, i: usize) -> Kind {
            match i % self.stride {
                3 => Kind::PullFailure,
                5 => Kind::OomKilled,
                7 => Kind::Unschedulable,
                _ => Kind::Healthy,
            }
        }
        /// The planted pods in order, for the events that go with them.
        pub fn pods(&self) -> Vec<(usize, Kind)> {
            (0..self.pods)
                .map(|i| (i, self.kind(i)))
                .filter(|&(_, k)| k != Kind::Healthy && k != Kind::OomKilled)
                .collect()
        }
    }

    fn fixed_uid(kind: u64, i: usize) -> String {
        format!("{:08x}-{:04x}-4000-8000-{:012x}", kind, i % 0xffff, i)
    }

    fn image(app: &str, i: usize) -> String {
        format!(
            "us-docker.pkg.dev/{PROJECT}/apps/{app}:1.{}.{}",
            i % 20,
            i % 7
        )
    }

    fn missing_image(app: &str) -> String {
        format!("us-docker.pkg.dev/{PROJECT}/apps/{app}:1.99.0-rc7")
    }

    fn pull_failure_message(app: &str) -> String {
        let img = missing_image(app);
        format!(
            "Failed to pull image \"{img}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{img}\": failed to resolve reference \"{img}\": {img}: not found"
        )
    }

    const TEAMS: [&str; 4] = ["core", "growth", "platform", "data"];

    const UNSCHEDULABLE: &str = "0/5000 nodes are available: 5000 Insufficient memory. preemption: 0/5000 nodes are available: 5000 No preemption victims found for incoming pod.";

    pub fn node(name: &str, i: usize) -> Value {
        let zone = ["a", "b", "c"][i % 3];
        let pool = format!("pool-{}", i % 4);
        let images: Vec<Value> = (0..16)
            .map(|k| {
                json!({"names": [format!("us-docker.pkg.dev/{PROJECT}/apps/{}@sha256:{:064x}", APPS[(i + k) % APPS.len()], ((i * 31 + k) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                                 format!("us-docker.pkg.dev/{PROJECT}/apps/{}:1.{}.{}", APPS[(i + k) % APPS.len()], k % 20, k % 7)],
                       "sizeBytes": 20_000_000 + (i * 7919 + k * 104_729) % 400_000_000})
            })
            .collect();
        let cond = |t: &str, reason: &str, msg: &str| json!({"lastHeartbeatTime": "2026-11-20T10:14:40Z", "lastTransitionTime": "2026-10-01T08:01:00Z", "message": msg, "reason": reason, "status": "False", "type": t});
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "annotations": {"container.googleapis.com/instance_id": format!("{}", 4_000_000_000_000_000_000u64 + i as u64),
                    "csi.volume.kubernetes.io/nodeid": format!("{{\"pd.csi.storage.gke.io\":\"projects/{PROJECT}/zones/us-central1-{zone}/instances/{name}\"}}"),
                    "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
                "creationTimestamp": "2026-10-01T08:00:00Z",
                "labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": "e2-standard-8", "beta.kubernetes.io/os": "linux",
                    "cloud.google.com/gke-boot-disk": "pd-balanced", "cloud.google.com/gke-container-runtime": "containerd", "cloud.google.com/gke-nodepool": pool,
                    "cloud.google.com/gke-os-distribution": "cos", "cloud.google.com/machine-family": "e2", "iam.gke.io/gke-metadata-server-enabled": "true",
                    "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "e2-standard-8",
                    "topology.kubernetes.io/region": "us-central1", "topology.kubernetes.io/zone": format!("us-central1-{zone}")},
                "name": name, "resourceVersion": format!("{}", 880_000_000 + i), "uid": fixed_uid(0x0de, i)},
            "spec": {"podCIDR": format!("10.{}.{}.0/24", 64 + i / 256, i % 256), "podCIDRs": [format!("10.{}.{}.0/24", 64 + i / 256, i % 256)],
                "providerID": format!("gce://{PROJECT}/us-central1-{zone}/{name}")},
            "status": {
                "addresses": [{"address": format!("10.128.{}.{}", i / 250, i % 250 + 2), "type": "InternalIP"}, {"address": "", "type": "ExternalIP"}, {"address": name, "type": "Hostname"}],
                "allocatable": {"attachable-volumes-gce-pd": "127", "cpu": "7910m", "ephemeral-storage": "47060071478", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "29202352Ki", "pods": "110"},
                "capacity": {"attachable-volumes-gce-pd": "127", "cpu": "8", "ephemeral-storage": "98831908Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "32882608Ki", "pods": "110"},
                "conditions": [
                    cond("FrequentUnregisterNetDevice", "NoFrequentUnregisterNetDevice", "node is functioning properly"),
                    cond("FrequentKubeletRestart", "NoFrequentKubeletRestart", "kubelet is functioning properly"),
                    cond("FrequentContainerdRestart", "NoFrequentContainerdRestart", "containerd is functioning properly"),
                    cond("KernelDeadlock", "KernelHasNoDeadlock", "kernel has no deadlock"),
                    cond("ReadonlyFilesystem", "FilesystemIsNotReadOnly", "Filesystem is not read-only"),
                    cond("NetworkUnavailable", "RouteCreated", "NodeController create implicit route"),
                    cond("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    cond("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    cond("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    {"lastHeartbeatTime": "2026-11-20T10:14:40Z", "lastTransitionTime": "2026-10-01T08:01:00Z", "message": "kubelet is posting ready status", "reason": "KubeletReady", "status": "True", "type": "Ready"}
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "images": images,
                "nodeInfo": {"architecture": "amd64", "bootID": fixed_uid(0xb007, i), "containerRuntimeVersion": "containerd://1.7.22", "kernelVersion": "6.1.100+",
                    "kubeProxyVersion": "v1.29.10-gke.1227000", "kubeletVersion": "v1.29.10-gke.1227000", "machineID": format!("{:016x}{:016x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15), i),
                    "operatingSystem": "linux", "osImage": "Container-Optimized OS from Google", "systemUUID": fixed_uid(0x5e5, i)}
            }
        })
    }

    /// A container as the API server returns it (defaults filled in). The application's own
    /// container has probes, a port and environment; sidecars are leaner.
    #[allow(clippy::too_many_arguments)]
    fn container(
        name: &str,
        image: &str,
        port: Option<u64>,
        cpu: &str,
        mem: &str,
        limit: &str,
        app: bool,
        mounts: Value,
    ) -> Value {
        let mut c = json!({
            "image": image, "imagePullPolicy": "IfNotPresent", "name": name,
            "resources": {"limits": {"memory": limit}, "requests": {"cpu": cpu, "memory": mem}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "volumeMounts": mounts
        });
        if let Some(p) = port {
            c["ports"] = json!([{"containerPort": p, "name": "http", "protocol": "TCP"}]);
        }
        if app {
            let probe = |path: &str, delay: u64| json!({"failureThreshold": 3, "httpGet": {"path": path, "port": "http", "scheme": "HTTP"}, "initialDelaySeconds": delay, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 1});
            c["livenessProbe"] = probe("/healthz", 15);
            c["readinessProbe"] = probe("/readyz", 5);
            c["env"] = json!([{"name": "LOG_LEVEL", "value": "info"}]);
            c["securityContext"] =
                json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true});
        }
        c
    }

    fn running(since: &str) -> Value {
        json!({"running": {"startedAt": since}})
    }

    fn status(
        name: &str,
        image: &str,
        ready: bool,
        restarts: usize,
        state: Value,
        last: Value,
        r: &mut Rng,
    ) -> Value {
        let mut s = json!({
            "containerID": format!("containerd://{}", r.hex(64)),
            "image": image,
            "imageID": format!("{}@sha256:{}", image.split(':').next().unwrap_or(image), r.hex(64)),
            "lastState": last, "name": name, "ready": ready, "restartCount": restarts,
            "started": ready, "state": state
        });
        if state_is_waiting(&s) {
            s.as_object_mut().map(|o| o.remove("containerID"));
            s["imageID"] = json!("");
        }
        s
    }

    fn state_is_waiting(s: &Value) -> bool {
        s["state"].get("waiting").is_some() && s["restartCount"] == 0
    }

    pub fn pod(ns: &str, name: &str, node: &str, i: usize, kind: Kind, r: &mut Rng) -> Value {
        let metadata_server = name.starts_with("gke-metadata-server-");
        let (app, owner_kind, owner) = if metadata_server {
            (
                "gke-metadata-server".to_string(),
                "DaemonSet",
                "gke-metadata-server".to_string(),
            )
        } else {
            let d = deployment(i);
            let hash = name.rsplit('-').nth(1).unwrap_or("").to_string();
            (d.clone(), "ReplicaSet", format!("{d}-{hash}"))
        };
        let hash = name.rsplit('-').nth(1).unwrap_or("").to_string();
        let sa = if i % 7 == 0 { "workload" } else { "default" };
        let token = format!("kube-api-access-{}", r.suffix(5));
        let mounts = json!([
            {"mountPath": "/etc/app", "name": "config", "readOnly": true},
            {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token, "readOnly": true}
        ]);
        let sidecar_mounts = json!([
            {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token, "readOnly": true}
        ]);
        let main_image = if metadata_server {
            "gke.gcr.io/gke-metadata-server:20241008_2300_RC0".to_string()
        } else if kind == Kind::PullFailure {
            missing_image(&app)
        } else {
            image(&app, i)
        };
        let sidecar_image = "cr.fluentbit.io/fluent/fluent-bit:3.1.9".to_string();
        let proxy_image = "gcr.io/cloudsql-docker/gce-proxy:1.37.0".to_string();
        // One pod in three has a log shipper beside it, one in ten a database proxy too.
        let mut names = vec!["main"];
        let mut containers = vec![container(
            "main",
            &main_image,
            Some(8080),
            "250m",
            "512Mi",
            "1Gi",
            true,
            mounts,
        )];
        if i % 3 == 0 {
            names.push("log-shipper");
            containers.push(container(
                "log-shipper",
                &sidecar_image,
                None,
                "50m",
                "64Mi",
                "128Mi",
                false,
                sidecar_mounts.clone(),
            ));
        }
        if i % 10 == 0 {
            names.push("cloudsql-proxy");
            containers.push(container(
                "cloudsql-proxy",
                &proxy_image,
                Some(5432),
                "100m",
                "128Mi",
                "256Mi",
                false,
                sidecar_mounts,
            ));
        }
        let created = if kind == Kind::Unschedulable {
            "2026-11-20T09:31:00Z"
        } else {
            "2026-11-19T21:59:00Z"
        };
        let mut spec = json!({
            "containers": containers,
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 2000, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "serviceAccount": sa, "serviceAccountName": sa, "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
            ],
            "volumes": [
                {"configMap": {"defaultMode": 420, "name": format!("{app}-config")}, "name": "config"},
                {"name": token, "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                    {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
                ]}}
            ]
        });
        if kind != Kind::Unschedulable {
            spec["nodeName"] = json!(node);
        }
        let cond = |t: &str, ok: bool, when: &str| json!({"lastProbeTime": null, "lastTransitionTime": when, "status": if ok { "True" } else { "False" }, "type": t});
        let crash = metadata_server && i % 3 == 0;
        let pod_ip = format!("10.{}.{}.{}", 64 + i / 65536, (i / 256) % 256, i % 256);
        let host_ip = format!("10.128.{}.{}", i % 5000 / 250, i % 250 + 2);
        let status = if kind == Kind::Unschedulable {
            json!({
                "conditions": [{"lastProbeTime": null, "lastTransitionTime": created, "message": UNSCHEDULABLE, "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}],
                "phase": "Pending", "qosClass": "Burstable"
            })
        } else {
            let ready = !crash && kind != Kind::PullFailure;
            let mut statuses = Vec::new();
            for c in &names {
                let img = match *c {
                    "main" => main_image.clone(),
                    "log-shipper" => sidecar_image.clone(),
                    _ => proxy_image.clone(),
                };
                let (ok, restarts, state, last) = match (*c, kind) {
                    ("main", _) if crash => (
                        false,
                        211,
                        json!({"waiting": {"message": format!("back-off 5m0s restarting failed container=main pod={name}_{ns}"), "reason": "CrashLoopBackOff"}}),
                        json!({"terminated": {"containerID": format!("containerd://{}", r.hex(64)), "exitCode": 1, "finishedAt": "2026-11-20T10:06:10Z", "reason": "Error", "startedAt": "2026-11-20T10:05:00Z"}}),
                    ),
                    ("main", Kind::PullFailure) => (
                        false,
                        0,
                        json!({"waiting": {"message": format!("Back-off pulling image \"{main_image}\""), "reason": "ImagePullBackOff"}}),
                        json!({}),
                    ),
                    ("main", Kind::OomKilled) => (
                        true,
                        6,
                        running("2026-11-20T10:02:11Z"),
                        json!({"terminated": {"containerID": format!("containerd://{}", r.hex(64)), "exitCode": 137, "finishedAt": "2026-11-20T10:02:09Z", "reason": "OOMKilled", "startedAt": "2026-11-20T09:48:40Z"}}),
                    ),
                    _ => (true, r.below(3), running("2026-11-19T22:00:00Z"), json!({})),
                };
                statuses.push(status(c, &img, ok, restarts, state, last, r));
            }
            json!({
                "conditions": [
                    cond("PodReadyToStartContainers", true, "2026-11-19T22:00:00Z"),
                    cond("Initialized", true, "2026-11-19T21:59:00Z"),
                    cond("Ready", ready, if ready { "2026-11-19T22:00:30Z" } else { "2026-11-20T10:06:10Z" }),
                    cond("ContainersReady", ready, if ready { "2026-11-19T22:00:30Z" } else { "2026-11-20T10:06:10Z" }),
                    cond("PodScheduled", true, "2026-11-19T21:59:00Z")
                ],
                "containerStatuses": statuses,
                "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
                "phase": "Running", "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                "qosClass": "Burstable", "startTime": "2026-11-19T21:59:00Z"
            })
        };
        let mut labels = json!({"app": app, "app.kubernetes.io/part-of": "bigshop", "team": TEAMS[i % 4], "version": format!("1.{}", i % 20)});
        if owner_kind == "ReplicaSet" {
            labels["pod-template-hash"] = json!(hash);
        } else {
            labels["controller-revision-hash"] = json!("6f8d9c7b5");
            labels["pod-template-generation"] = json!("3");
        }
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true", "prometheus.io/port": "8080", "prometheus.io/scrape": "true"},
                "creationTimestamp": created,
                "generateName": format!("{}-", if owner_kind == "ReplicaSet" { owner.clone() } else { "gke-metadata-server".into() }),
                "labels": labels, "name": name, "namespace": ns,
                "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": owner_kind, "name": owner, "uid": fixed_uid(0x4e5, i % 400)}],
                "resourceVersion": format!("{}", 900_000_000 + i), "uid": fixed_uid(0x90d, i)
            },
            "spec": spec,
            "status": status
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn event_of(
        ns: &str,
        pod: &str,
        node: &str,
        p: usize,
        i: usize,
        kind: &str,
        reason: &str,
        msg: String,
        count: usize,
        component: &str,
    ) -> Value {
        let mut e = json!({
            "apiVersion": "v1", "count": count, "eventTime": null, "firstTimestamp": "2026-11-20T09:32:00Z",
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns, "resourceVersion": format!("{}", 900_000_000 + p), "uid": fixed_uid(0x90d, p)},
            "kind": "Event", "lastTimestamp": "2026-11-20T10:14:00Z", "message": msg,
            "metadata": {"creationTimestamp": "2026-11-20T09:32:00Z", "name": format!("{pod}.{:x}", 0x17a0_0000_0000u64 + i as u64), "namespace": ns,
                "resourceVersion": format!("{}", 950_000_000 + i), "uid": fixed_uid(0xe7e, i)},
            "reason": reason, "reportingComponent": component, "reportingInstance": if component == "kubelet" { node } else { "" },
            "source": if component == "kubelet" { json!({"component": component, "host": node}) } else { json!({"component": component}) },
            "type": kind
        });
        if component == "kubelet" {
            e["involvedObject"]["fieldPath"] = json!("spec.containers{main}");
        }
        e
    }

    pub fn planted_event(ns: &str, pod: &str, node: &str, p: usize, kind: Kind, i: usize) -> Value {
        let app = deployment(p);
        match kind {
            Kind::Unschedulable => event_of(
                ns,
                pod,
                node,
                p,
                i,
                "Warning",
                "FailedScheduling",
                UNSCHEDULABLE.into(),
                44,
                "default-scheduler",
            ),
            _ => event_of(
                ns,
                pod,
                node,
                p,
                i,
                "Warning",
                "Failed",
                pull_failure_message(&app),
                17,
                "kubelet",
            ),
        }
    }

    pub fn event(ns: &str, pod: &str, node: &str, p: usize, i: usize, r: &mut Rng) -> Value {
        let (kind, reason, msg) = match r.below(10) {
            0 => (
                "Warning",
                "BackOff",
                format!(
                    "Back-off restarting failed container main in pod {pod}_{ns}({})",
                    fixed_uid(0x90d, p)
                ),
            ),
            1 => (
                "Warning",
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string(),
            ),
            2 => (
                "Normal",
                "Killing",
                "Stopping container log-shipper".to_string(),
            ),
            3 => (
                "Normal",
                "Scheduled",
                format!("Successfully assigned {ns}/{pod} to {node}"),
            ),
            4 => ("Normal", "Created", "Created container main".to_string()),
            5 => ("Normal", "Started", "Started container main".to_string()),
            _ => (
                "Normal",
                "Pulled",
                format!(
                    "Container image \"us-docker.pkg.dev/{PROJECT}/apps/app:1.2.3\" already present on machine"
                ),
            ),
        };
        let component = if reason == "Scheduled" {
            "default-scheduler"
        } else {
            "kubelet"
        };
        event_of(
            ns,
            pod,
            node,
            p,
            i,
            kind,
            reason,
            msg,
            1 + r.below(40),
            component,
        )
    }
}

fn main() {
    let mut size = "small".to_string();
    let mut out: Option<PathBuf> = None;
    let mut seed = 7u64;
    let mut scale = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--size" => size = args.next().unwrap_or_default(),
            "--out" => out = args.next().map(PathBuf::from),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            "--scale-logs" => scale = args.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            "-h" | "--help" => {
                println!(
                    "gen_bundle --size tiny|small|medium|large|json-heavy|json-heavy-x2 --out DIR [--seed N] [--scale-logs K]"
                );
                return;
            }
            other => {
                eprintln!("gen_bundle: unknown argument {other:?} (see --help)");
                std::process::exit(2);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("gen_bundle: --out DIR is required");
        std::process::exit(2);
    };
    let Some(s) = Size::named(&size) else {
        eprintln!(
            "gen_bundle: unknown size {size:?}: tiny, tiny-json, small, medium, large, json-heavy or json-heavy-x2"
        );
        std::process::exit(2);
    };
    if let Err(e) = generate(&out, s.scale_logs(scale.max(1)), seed) {
        eprintln!("gen_bundle: {}: {e}", out.display());
        std::process::exit(1);
    }
}
