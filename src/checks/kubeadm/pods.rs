//! Pod and runtime facts the crash-loop checks share: which containers of a pod are failing (as
//! `kubectl get pods` would show it), and which container runtime, at which version, a node runs.

use super::{package_line_version, package_version};
use crate::checks::Ctx;
use crate::cluster::{self, Container, Pod, State};
use crate::facts::{Item, JsonDoc};
use crate::model::Evidence;
use crate::version::Version;

/// A container of a pod that is not running and keeps failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub container: String,
    /// An init container (`kubectl get pods` shows `Init:CrashLoopBackOff`).
    pub init: bool,
    /// `CrashLoopBackOff`, `RunContainerError` or `Error`.
    pub reason: String,
    pub restarts: u64,
}

impl Failing {
    /// The STATUS column `kubectl get pods` would print for this container.
    pub fn status(&self) -> String {
        if self.init {
            format!("Init:{}", self.reason)
        } else {
            self.reason.clone()
        }
    }
}

/// The containers of a pod in `CrashLoopBackOff`, `RunContainerError` or `Error` (terminated
/// with an error and not restarted yet), init containers included.
pub fn failing_containers(pod: &Pod) -> Vec<Failing> {
    // kubectl shows a pod-level reason (Evicted, NodeShutdown...) or Terminating instead of its
    // containers' states: such a pod is gone or going, not crash-looping.
    if pod.is_gone() {
        return Vec::new();
    }
    // In the order of the statuses, as kubectl lists them.
    let mut statuses: Vec<&Container> = pod.containers.iter().filter(|c| c.has_status).collect();
    statuses.sort_by_key(|c| (!c.init, c.status_index));
    statuses
        .into_iter()
        .filter_map(|c| {
            let reason = match &c.state {
                State::Waiting {
                    reason: r @ ("CrashLoopBackOff" | "RunContainerError"),
                    ..
                } => r,
                State::Terminated(t) if t.reason == "Error" => "Error",
                _ => return None,
            };
            Some(Failing {
                container: c.name.to_string(),
                init: c.init,
                reason: reason.to_string(),
                restarts: c.restarts,
            })
        })
        .collect()
}

/// Evidence for a failing container: the line of its current state's reason inside the pod's
/// item (`kubectl` prints `lastState` before `state`, and both may say `Error`).
pub fn failing_evidence(doc: &JsonDoc, item: &Item, f: &Failing) -> Evidence {
    let text = &doc.text;
    let (first, last) = (item.line, item.end_line);
    let key = if f.init {
        "\"initContainerStatuses\""
    } else {
        "\"containerStatuses\""
    };
    let needle = format!("\"{}\"", f.reason);
    let statuses = text.find_line_in(first, last, key).unwrap_or(first);
    let line = text
        .find_line_in(statuses, last, &format!("\"name\": \"{}\"", f.container))
        .and_then(|name| text.find_line_in(name, last, "\"state\""))
        .and_then(|state| text.find_line_in(state, last, &needle))
        .or_else(|| text.find_line_in(statuses, last, &needle));
    match line {
        Some(n) => text.evidence(n, n),
        None => doc.item_evidence(item),
    }
}

/// A cluster-DNS pod: CoreDNS or kube-dns, as kubeadm deploys them.
pub fn is_dns_pod(pod: &Pod) -> bool {
    pod.meta.namespace == "kube-system"
        && (pod.meta.label("k8s-app") == Some("kube-dns")
            || pod.meta.name.starts_with("coredns-")
            || pod.meta.name.starts_with("kube-dns-"))
}

/// The container runtime of a node.
#[derive(Debug, Clone)]
pub enum Runtime {
    Docker(Version, Evidence),
    /// containerd, CRI-O or another CRI runtime.
    Other,
}

/// The runtime and its version on `node`: the Node object's `containerRuntimeVersion`
/// (`docker://1.13.1`), else the node's `runtime/version.txt` (`docker version` or
/// `docker --version`), else the Docker package in `runtime/packages.txt`.
pub fn runtime(ctx: &Ctx, node: &str) -> Option<Runtime> {
    if let Ok(nodes) = ctx.list("kubectl/nodes.json")
        && let Some(n) = cluster::node_named(&nodes, node)
        && let Some(rv) = n.runtime_version
        && let Some((name, version)) = rv.split_once("://")
    {
        let ev = n.at.line("\"containerRuntimeVersion\"");
        if name == "docker"
            && let Some(v) = Version::parse(version)
        {
            return Some(Runtime::Docker(v, ev));
        }
        if name != "docker" {
            return Some(Runtime::Other);
        }
    }
    if let Ok(f) = ctx.facts.text(&format!("nodes/{node}/runtime/version.txt"))
        && let Some((n, v)) = docker_version_in(&f.text)
    {
        return Some(Runtime::Docker(v, f.evidence(n, n)));
    }
    // The engine's own packages first: on Debian and Ubuntu a package named plain `docker` is
    // an unrelated system-tray program; on CentOS/RHEL it is the engine.
    [
        "docker-ce",
        "docker-engine",
        "docker.io",
        "moby-engine",
        "docker",
    ]
    .iter()
    .find_map(|p| package_version(ctx, node, p))
    .map(|(v, ev)| Runtime::Docker(v, ev))
}

/// A node's kubelet version and its runtime's name and version, from the Node object
/// (`kubeletVersion: v1.31.2`, `containerRuntimeVersion: containerd://2.0.0`).
pub fn node_versions(ctx: &Ctx, node: &str) -> Option<(Version, String, Version)> {
    let nodes = ctx.list("kubectl/nodes.json").ok()?;
    let n = cluster::node_named(&nodes, node)?;
    let kubelet = Version::parse(n.kubelet_version?)?;
    let (name, version) = n.runtime_version?.split_once("://")?;
    Some((kubelet, name.to_string(), Version::parse(version)?))
}

/// The Docker daemon's version and its 1-based line in `docker version` output (the
/// `Version:` of the `Server:` section) or in `docker --version` (`Docker version 1.11.2, build
/// b9f10c9`).
pub fn docker_version_in(text: &str) -> Option<(usize, Version)> {
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.trim().strip_prefix("Docker version ") {
            return Version::parse(rest.split(',').next().unwrap_or(rest)).map(|v| (i + 1, v));
        }
    }
    let (n, v) = docker_version_field(text, "Version:")?;
    Version::parse(v).map(|v| (n, v))
}

/// The package Docker's daemon was built as, from the `Package version:` line the CentOS/RHEL
/// `docker` package prints in `docker version` (`docker-1.13.1-84.git07f3374.el7.centos.x86_64`):
/// the only place besides the package manager that holds the release number.
pub fn docker_package_in(text: &str) -> Option<(usize, Version)> {
    let (n, v) = docker_version_field(text, "Package version:")?;
    package_line_version(v, "docker").map(|v| (n, v))
}

/// The value after `key` in `docker version` output, with its 1-based line: the `Server:`
/// section's, else the client's.
fn docker_version_field<'t>(text: &'t str, key: &str) -> Option<(usize, &'t str)> {
    let mut in_server = false;
    let mut client = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        // An unindented line starts a section ("Client:", "Server: Docker Engine - Community").
        if !line.starts_with(' ') && !line.starts_with('\t') && !t.is_empty() {
            in_server = t.starts_with("Server");
            continue;
        }
        if let Some(v) = t.strip_prefix(key) {
            let found = (i + 1, v.trim());
            if in_server {
                return Some(found);
            }
            client = client.or(Some(found));
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failing(v: serde_json::Value) -> Vec<Failing> {
        let doc = crate::cluster::table("kubectl/pods.json", vec![v]);
        failing_containers(&crate::cluster::pod_at(&doc, 0).unwrap())
    }

    #[test]
    fn failing_states_as_kubectl_shows_them() {
        let pod = json!({"status": {
        "initContainerStatuses": [{"name": "install-cni", "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
        "containerStatuses": [
            {"name": "a", "restartCount": 0, "state": {"waiting": {"reason": "RunContainerError"}}},
            {"name": "b", "restartCount": 2, "state": {"terminated": {"reason": "Error", "exitCode": 1}}},
            {"name": "c", "restartCount": 9, "state": {"running": {}},
                "lastState": {"terminated": {"reason": "Error"}}},
            {"name": "d", "state": {"waiting": {"reason": "ContainerCreating"}}},
            {"name": "e", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}
        ]}});
        let got: Vec<String> = failing(pod)
            .iter()
            .map(|f| format!("{}={}", f.container, f.status()))
            .collect();
        assert_eq!(
            got,
            [
                "install-cni=Init:CrashLoopBackOff",
                "a=RunContainerError",
                "b=Error"
            ]
        );
        assert!(failing(json!({"status": {}})).is_empty());
        let evicted = json!({"status": {"phase": "Failed", "reason": "Evicted",
            "containerStatuses": [{"name": "a", "state": {"terminated": {"reason": "Error"}}}]}});
        assert!(failing(evicted).is_empty());
        let terminating = json!({"metadata": {"deletionTimestamp": "2026-11-20T10:00:00Z"},
            "status": {"containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert!(failing(terminating).is_empty());
        assert!(failing(json!("odd")).is_empty());
    }

    #[test]
    fn docker_versions_from_every_era() {
        let old = "Client:\n Version:         1.13.1\n API version:     1.26\n Package version: docker-1.13.1-84.git07f3374.el7.centos.x86_64\n\nServer:\n Version:         1.13.1\n API version:     1.26 (minimum version 1.12)\n";
        let (line, v) = docker_version_in(old).unwrap();
        assert_eq!((line, v.parts.as_slice()), (7, &[1, 13, 1][..]));
        let new = "Client: Docker Engine - Community\n Version:           24.0.7\n\nServer: Docker Engine - Community\n Engine:\n  Version:          20.10.7\n  API version:      1.41 (minimum version 1.12)\n";
        let (line, v) = docker_version_in(new).unwrap();
        assert_eq!((line, v.parts.as_slice()), (6, &[20, 10, 7][..]));
        let short = "Docker version 1.11.2, build b9f10c9\n";
        assert_eq!(docker_version_in(short).unwrap().1.parts, [1, 11, 2]);
        let client_only = "Client:\n Version: 1.10.3\nCannot connect to the Docker daemon.\n";
        assert_eq!(docker_version_in(client_only).unwrap().1.parts, [1, 10, 3]);
        assert!(
            docker_version_in("containerd github.com/containerd/containerd v1.6.20\n").is_none()
        );
        let centos = format!(
            "{old} Package version: docker-1.13.1-84.git07f3374.el7.centos.x86_64\n Go version:      go1.10.3\n"
        );
        let (line, v) = docker_package_in(&centos).unwrap();
        assert_eq!((line, v.parts.as_slice()), (9, &[1, 13, 1, 84][..]));
        assert_eq!(docker_package_in(old).unwrap().1.parts, [1, 13, 1, 84]);
        assert!(docker_package_in(new).is_none());
    }
}
