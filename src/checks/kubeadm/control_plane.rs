//! `kubeadm/control-plane-crashloop`: the static-pod control plane keeps exiting, so kubeadm's
//! wait for it never ends.

use super::containers::{self, Row};
use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::facts::Unavailable;
use crate::model::Evidence;
use std::collections::BTreeMap;

/// The containers kubeadm runs as static pods.
const COMPONENTS: &[&str] = &[
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

pub fn control_plane_crashloop(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let backoff = ctx.matches_of("backoff");
    let mut drafts: Vec<(String, Draft)> = Vec::new();
    let mut lists_read = 0;
    let mut running_seen = false;
    for node in ctx.facts.nodes() {
        let journal: Vec<_> = backoff
            .iter()
            .filter(|m| path_vars(&m.file).get("node") == Some(&node))
            .collect();
        let path = format!("nodes/{node}/runtime/containers.txt");
        match ctx.facts.text(&path) {
            Ok(list) => {
                lists_read += 1;
                let docker = containers::is_docker(&list);
                let mut by_component: BTreeMap<&str, Vec<Row>> = BTreeMap::new();
                for row in containers::parse(&list) {
                    if let Some(c) = COMPONENTS.iter().find(|c| **c == row.name) {
                        by_component.entry(c).or_default().push(row);
                    }
                }
                for (component, rows) in by_component {
                    // The newest container: the highest attempt; lists print newest first.
                    let newest = rows
                        .iter()
                        .max_by(|a, b| {
                            a.attempt
                                .unwrap_or(0)
                                .cmp(&b.attempt.unwrap_or(0))
                                .then(b.line.cmp(&a.line))
                        })
                        .expect("a group has rows");
                    // A running container is the current one: after an upgrade or a manifest
                    // change the old pod's exited containers (with their higher attempt counts)
                    // stay listed until the kubelet collects them.
                    if rows.iter().any(|r| r.state.is_running()) {
                        running_seen = true;
                        continue;
                    }
                    let restarts = rows
                        .iter()
                        .filter_map(|r| r.attempt)
                        .max()
                        .unwrap_or(rows.len().saturating_sub(1) as u64);
                    let pod = newest
                        .pod
                        .clone()
                        .unwrap_or_else(|| format!("{component}-{node}"));
                    let mut d = draft(&node, component, &pod, docker)
                        .var("state", newest.state.describe())
                        .var("restarts", restarts.to_string());
                    for r in &rows {
                        d = d.evidence(list.evidence(r.line, r.line));
                    }
                    for m in journal
                        .iter()
                        .filter(|m| m.captures["container"] == component)
                    {
                        d = d.evidence(line_evidence(m));
                    }
                    drafts.push((node.clone(), d));
                }
            }
            Err(_) => {
                // No container list: the kubelet's back-off lines still name the component.
                let mut by_pod: Vec<(String, String, Vec<Evidence>)> = Vec::new();
                for m in &journal {
                    let (c, p) = (&m.captures["container"], &m.captures["pod"]);
                    match by_pod.iter_mut().find(|(_, pod, _)| pod == p) {
                        Some(g) => g.2.push(line_evidence(m)),
                        None => by_pod.push((c.clone(), p.clone(), vec![line_evidence(m)])),
                    }
                }
                for (component, pod, ev) in by_pod {
                    let n = ev.len();
                    let mut d = draft(&node, &component, &pod, false)
                        .var("state", "in CrashLoopBackOff")
                        .var("restarts", format!("at least {n}"));
                    d.evidence = ev;
                    drafts.push((node.clone(), d.variant("journal-only")));
                }
            }
        }
    }
    // kubeadm's own output: gave up waiting, or stopped at the wait with no success after it.
    let mut waits: BTreeMap<String, Vec<Evidence>> = BTreeMap::new();
    let ready = ctx.matches_of("ready");
    for m in ctx.matches_of("wait") {
        let healthy_after = ready.iter().any(|r| r.file == m.file && r.line > m.line);
        if !healthy_after {
            waits
                .entry(m.file.to_string())
                .or_default()
                .push(line_evidence(m));
        }
    }
    let crash_nodes: std::collections::BTreeSet<&String> = drafts.iter().map(|(n, _)| n).collect();
    let mut out: Vec<Draft> = Vec::new();
    if crash_nodes.len() == 1 {
        // One node's control plane is failing: kubeadm's wait was for it.
        let mut first = true;
        for (_, mut d) in drafts {
            if first {
                for ev in waits.values().flatten() {
                    d = d.evidence(ev.clone());
                }
                first = false;
            }
            out.push(d);
        }
    } else {
        out.extend(drafts.into_iter().map(|(_, d)| d));
    }
    if out.is_empty() && !running_seen {
        for (file, ev) in waits {
            let mut d = Draft::new().var("file", file.as_str()).variant("wait");
            d.evidence = ev;
            out.push(d);
        }
    }
    if !out.is_empty() {
        return Ok(Outcome::Findings(out));
    }
    if lists_read == 0 && ctx.scanned("backoff") == 0 && ctx.scanned("wait") == 0 {
        return Draft::missing("default").not_evaluated();
    }
    Ok(Outcome::Pass)
}

fn draft(node: &str, component: &str, pod: &str, docker: bool) -> Draft {
    let (list, logs) = if docker {
        (
            format!("docker ps -a --filter name=k8s_{component}_"),
            format!("docker logs $(docker ps -aq --filter name=k8s_{component}_ | head -n 1)"),
        )
    } else {
        (
            format!("crictl ps -a --name {component}"),
            format!("crictl logs $(crictl ps -a --name {component} -q | head -n 1)"),
        )
    };
    let d = Draft::new()
        .var("node", node)
        .var("component", component)
        .var("pod", pod)
        .var("list_cmd", list)
        .var("logs_cmd", logs);
    // The spec's remediation names each component's usual reasons to exit.
    match component {
        "etcd" => d.variant("etcd"),
        "kube-apiserver" => d.variant("kube-apiserver"),
        _ => d,
    }
}
