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
fn write_list(
    path: &Path,
    n: usize,
    mut item: impl FnMut(usize) -> serde_json::Value,
) -> io::Result<()> {
    let mut w = create(path)?;
    w.write_all(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")?;
    for i in 0..n {
        let v = item(i);
        let text = serde_json::to_string_pretty(&v).map_err(io::Error::other)?;
        for (k, line) in text.lines().enumerate() {
            if k > 0 {
                w.write_all(b"\n")?;
            }
            w.write_all(b"        ")?;
            w.write_all(line.as_bytes())?;
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
    write_list(&out.join("kubectl/nodes.json"), size.nodes, |i| {
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
        } else {
            format!("{app}-{}-{}", rng.hex(10), rng.suffix(5))
        };
        pod_names.push((ns, name, nodes[rng.below(nodes.len())].clone()));
    }
    let mut prng = Rng::new(seed ^ 0x5eed);
    write_list(&out.join("kubectl/pods.json"), size.pods, |i| {
        let (ns, name, node) = &pod_names[i];
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
    write_list(&out.join("kubectl/serviceaccounts.json"), size.ksas, |i| {
        let ns = NAMESPACES[i % NAMESPACES.len()];
        let name = format!("workload-{i}");
        let mut meta = serde_json::json!({"name": name, "namespace": ns, "creationTimestamp": "2026-10-02T00:00:00Z", "uid": format!("{}-0000-4000-8000-{}", srng.hex(8), srng.hex(12))});
        if i % 25 == 0 {
            meta["annotations"] = serde_json::json!({"iam.gke.io/gcp-service-account": format!("workload-sa-{i}@{PROJECT}.iam.gserviceaccount.com")});
        }
        serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
    })?;

    let mut erng = Rng::new(seed ^ 0xe7e7);
    write_list(&out.join("kubectl/events.json"), size.events, |i| {
        let (ns, pod, node) = &pod_names[i % pod_names.len()];
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

    write_list(&out.join("kubectl/networkpolicies.json"), 0, |_| {
        serde_json::Value::Null
    })?;
    write_list(&out.join("kubectl/configmaps.json"), 1, |_| {
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
                    "gen_bundle --size tiny|small|medium|large --out DIR [--seed N] [--scale-logs K]"
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
        eprintln!("gen_bundle: unknown size {size:?}: tiny, small, medium or large");
        std::process::exit(2);
    };
    if let Err(e) = generate(&out, s.scale_logs(scale.max(1)), seed) {
        eprintln!("gen_bundle: {}: {e}", out.display());
        std::process::exit(1);
    }
}
