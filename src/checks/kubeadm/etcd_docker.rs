//! `kubeadm/etcd-restart-docker-1.13.1-84`: the runc shipped in CentOS 7's Docker 1.13.1-84
//! breaks `exec` into containers, so etcd's exec liveness probe fails and the kubelet restarts
//! it. The Node object and `docker --version` say only 1.13.1: the `-84` release is in the
//! package record, or on the `Package version:` line of CentOS's `docker version`.

use super::package_version;
use super::pods::docker_package_in;
use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::cluster::{self, Pod};
use crate::facts::Unavailable;
use crate::model::Evidence;
use crate::version::Version;
use std::collections::BTreeMap;

const ERROR: &str = "read parent: connection reset by peer";

/// Docker 1.13.1 release 84, whatever its git and distribution suffix.
fn is_bad_release(v: &Version) -> bool {
    v.parts.len() >= 4 && v.parts[..4] == [1, 13, 1, 84]
}

fn is_etcd(pod: &Pod) -> bool {
    pod.meta.namespace == "kube-system"
        && (pod.meta.label("component") == Some("etcd") || pod.meta.name.starts_with("etcd-"))
}

#[derive(Default)]
struct NodeSigns {
    errors: Vec<Evidence>,
    restarts: Vec<(u64, Evidence)>,
}

pub fn etcd_restart_docker(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pods = ctx.list("kubectl/pods.json").ok();
    let events = ctx.list("kubectl/events.json").ok();
    let mut signs: BTreeMap<String, NodeSigns> = BTreeMap::new();
    let etcd_node = |name: &str| -> String {
        pods.as_ref()
            .and_then(|p| crate::cluster::node_of_pod(p, "kube-system", name).map(str::to_string))
            .unwrap_or_else(|| name.trim_start_matches("etcd-").to_string())
    };
    if let Some(ev) = &events {
        // In the list's order, as they were recorded.
        let mut views = cluster::events(ev);
        views.sort_by_key(|e| e.at.item.line);
        for e in &views {
            let name = e.object.name;
            if !e.message.contains(ERROR) || !name.starts_with("etcd") {
                continue;
            }
            let node = pods
                .as_ref()
                .and_then(|p| {
                    crate::cluster::node_of_pod(p, "kube-system", name).map(str::to_string)
                })
                .or_else(|| e.host.map(str::to_string))
                .unwrap_or_else(|| etcd_node(name));
            signs.entry(node).or_default().errors.push(e.at.line(ERROR));
        }
    }
    let etcd_pod_re = regex::Regex::new(r"(etcd-[a-z0-9.-]+?)_kube-system").expect("fixed pattern");
    for m in ctx.matches_of("reset-by-peer") {
        // Any exec into a container fails the same way; only etcd's probe restarts etcd (the
        // prober names the pod, the runtime's ExecSync line etcd's etcdctl command).
        if !m.text.contains("etcd") {
            continue;
        }
        let node = path_vars(&m.file)
            .get("node")
            .cloned()
            .or_else(|| etcd_pod_re.captures(&m.text).map(|c| etcd_node(&c[1])));
        if let Some(node) = node {
            signs.entry(node).or_default().errors.push(line_evidence(m));
        }
    }
    if let Some(p) = &pods {
        for pod in cluster::pods(p).filter(|p| is_etcd(p)) {
            let restarts: u64 = pod
                .containers
                .iter()
                .filter(|c| !c.init && c.has_status)
                .map(|c| c.restarts)
                .sum();
            if restarts == 0 {
                continue;
            }
            let Some(node) = pod.node else {
                continue;
            };
            signs
                .entry(node.to_string())
                .or_default()
                .restarts
                .push((restarts, pod.at.line("\"restartCount\"")));
        }
    }
    if pods.is_none() && events.is_none() && signs.is_empty() {
        return Draft::missing("default").not_evaluated();
    }
    let mut drafts = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (node, s) in signs {
        let docker = ["docker", "docker-common", "docker-client"]
            .iter()
            .find_map(|p| package_version(ctx, &node, p))
            .or_else(|| {
                let f = ctx
                    .facts
                    .text(&format!("nodes/{node}/runtime/version.txt"))
                    .ok()?;
                let (n, v) = docker_package_in(&f.text)?;
                Some((v, f.evidence(n, n)))
            });
        let Some((version, pkg_ev)) = docker else {
            if !s.errors.is_empty() {
                unknown.push(node);
            }
            continue;
        };
        if !is_bad_release(&version) {
            continue;
        }
        let restarts: u64 = s.restarts.iter().map(|(n, _)| n).sum();
        let mut d = Draft::new()
            .var("node", node.as_str())
            .var("docker", version.text.as_str())
            .var("restarts", restarts.to_string())
            .var("errors", s.errors.len().to_string());
        d.evidence = s.errors;
        d.evidence.extend(s.restarts.into_iter().map(|(_, e)| e));
        d.evidence.push(pkg_ev);
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !unknown.is_empty() {
        return Draft::missing("no-package")
            .var("nodes", unknown.join(", "))
            .var("node", unknown[0].as_str())
            .not_evaluated();
    }
    Ok(Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::kubeadm::package_line_version;

    #[test]
    fn only_release_84_is_bad() {
        let v = |l: &str| package_line_version(l, "docker").unwrap();
        assert!(is_bad_release(&v(
            "docker-1.13.1-84.git07f3374.el7.centos.x86_64"
        )));
        assert!(!is_bad_release(&v(
            "docker-1.13.1-75.git8633870.el7.centos.x86_64"
        )));
        assert!(!is_bad_release(&v(
            "docker-1.13.1-208.git7d71120.el7_9.x86_64"
        )));
        assert!(
            package_line_version(
                "docker-client-1.13.1-84.git07f3374.el7.centos.x86_64",
                "docker"
            )
            .is_none()
        );
        assert!(package_line_version("package docker is not installed", "docker").is_none());
        let deb = package_line_version(
            "ii  kubeadm  1.18.5-00  amd64  Kubernetes Cluster Bootstrapping Tool",
            "kubeadm",
        )
        .unwrap();
        assert_eq!(deb.major_minor(), (1, 18));
    }
}
