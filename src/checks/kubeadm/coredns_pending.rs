//! `kubeadm/coredns-pending-no-cni`: kubeadm deploys CoreDNS but no pod network. Until a network
//! add-on writes a CNI configuration, every node reports `NetworkReady=false`, stays `NotReady`
//! with the `node.kubernetes.io/not-ready` taint, and CoreDNS (or kube-dns) stays `Pending`.
//! People take that for a DNS problem; the fix is to install the add-on.

use super::cni::{CniCollection, addon_pods, nodes_cni};
use super::pod_table;
use super::pods::is_dns_pod;
use crate::checks::{Ctx, Draft, Outcome, line_evidence};
use crate::cluster::{self, Node, Pod, condition};
use crate::facts::{Item, JsonDoc, Unavailable};
use crate::model::Evidence;
use crate::objpath::str_at;
use serde_json::Value;
use std::collections::BTreeMap;

/// Words of a node's Ready condition (and the kubelet's log) when no CNI configuration is loaded,
/// from Docker-era to containerd wordings.
const NETWORK_NOT_READY: &[&str] = &[
    "cni config uninitialized",
    "cni plugin not initialized",
    "network plugin is not ready",
    "NetworkPluginNotReady",
    "NetworkReady=false",
];

/// Scheduler wordings (by era) of "the nodes are not ready": the predicate's name (1.7-1.8,
/// `No nodes are available that match all of the predicates: NodeNotReady (1).`), its text
/// (to 1.11), then the taint the node lifecycle controller puts on such nodes.
const SCHED_NOT_READY: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node(s) were not ready",
    "NodeNotReady",
];

/// Evidence for the `"message"` line of `item` containing `marker` (the object's text may hold
/// the same words elsewhere, e.g. a toleration of the not-ready taint), else the item.
fn message_evidence(doc: &JsonDoc, item: &Item, marker: &str) -> Evidence {
    match (item.line..=item.end_line).find(|&n| {
        let l = doc.text.line(n);
        l.contains("\"message\"") && l.contains(marker)
    }) {
        Some(n) => doc.text.evidence(n, n),
        None => doc.item_line_evidence(item, marker),
    }
}

/// The scheduler's message on a pod (its `PodScheduled=False` condition), if any.
fn scheduling_message<'d>(pod: &Pod<'d>) -> Option<&'d str> {
    pod.conditions
        .iter()
        .find(|c| c.kind == "PodScheduled" && c.status == "False")
        .and_then(|c| c.message)
}

fn says_not_ready(msg: &str) -> bool {
    SCHED_NOT_READY.iter().any(|m| msg.contains(m))
}

/// Whether the scheduler only says the nodes have taints, without naming them (1.12-1.16:
/// `0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate.`). Before a
/// network add-on that taint is the not-ready one, so such a message names no other reason.
fn only_unnamed_taints(msg: &str) -> bool {
    let Some((_, reasons)) = msg.split_once("nodes are available:") else {
        return false;
    };
    reasons
        .trim()
        .trim_end_matches('.')
        .split(", ")
        .all(|r| r.contains("had taints that the pod didn't tolerate"))
}

/// The Ready condition of a node: (status, message).
fn node_ready<'d>(node: &Node<'d>) -> Option<(&'d str, &'d str)> {
    condition(&node.conditions, "Ready").map(|c| (c.status, c.message.unwrap_or("")))
}

/// The marker of a missing pod network in a message, if any.
pub(super) fn network_marker(msg: &str) -> Option<&'static str> {
    NETWORK_NOT_READY.iter().find(|m| msg.contains(*m)).copied()
}

pub fn coredns_pending_no_cni(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pods = pod_table::pods_or_table(ctx)?;
    let pending: Vec<Pod> = cluster::pods(&pods)
        .filter(|p| is_dns_pod(p) && p.phase == "Pending")
        .collect();
    if pending.is_empty() {
        return Ok(Outcome::Pass);
    }
    // A network add-on is there: CoreDNS waits for something else (or for a broken add-on,
    // which kubeadm/pods-crashloop-after-init reports).
    if !addon_pods(&pods).is_empty() {
        return Ok(Outcome::Pass);
    }
    let cni = nodes_cni(ctx);
    if cni.iter().any(|n| n.active.is_some()) {
        return Ok(Outcome::Pass);
    }
    let nodes = ctx.list("kubectl/nodes.json").ok();
    let node_views = nodes.as_deref().map(cluster::nodes).unwrap_or_default();
    if !node_views.is_empty()
        && node_views
            .iter()
            .all(|n| node_ready(n).is_some_and(|(s, _)| s == "True"))
    {
        // Every node reports its network ready: some CNI configuration is loaded.
        return Ok(Outcome::Pass);
    }

    let mut support: Vec<Evidence> = Vec::new();
    let mut not_ready_nodes: Vec<String> = Vec::new();
    let mut sched_messages = 0usize;
    for pod in &pending {
        if let Some(msg) = scheduling_message(pod)
            && !only_unnamed_taints(msg)
        {
            sched_messages += 1;
            if let Some(m) = SCHED_NOT_READY.iter().find(|m| msg.contains(*m)) {
                support.push(message_evidence(&pods, pod.at.item, m));
                continue;
            }
        }
        support.push(pod.at.line("\"phase\": \"Pending\""));
    }
    let pending_names: Vec<&str> = pending
        .iter()
        .map(|p| p.meta.name)
        .filter(|n| !n.is_empty())
        .collect();
    let mut sched_support = pending
        .iter()
        .filter_map(|p| scheduling_message(p))
        .any(says_not_ready);
    if let Ok(events) = ctx.list("kubectl/events.json") {
        // In the list's order, as the scheduler wrote them.
        let mut events = cluster::events(&events);
        events.sort_by_key(|e| e.at.item.line);
        for e in &events {
            if e.reason != "FailedScheduling" || !pending_names.contains(&e.object.name) {
                continue;
            }
            if only_unnamed_taints(e.message) {
                continue;
            }
            sched_messages += 1;
            if let Some(m) = SCHED_NOT_READY.iter().find(|m| e.message.contains(*m)) {
                sched_support = true;
                support.push(message_evidence(e.at.doc, e.at.item, m));
            }
        }
    }
    let mut node_support = false;
    for n in &node_views {
        if let Some((status, msg)) = node_ready(n)
            && status != "True"
            && let Some(m) = network_marker(msg)
        {
            node_support = true;
            support.push(message_evidence(n.at.doc, n.at.item, m));
            not_ready_nodes.push(n.meta.name.to_string());
        }
    }
    // The kubelet's and containerd's own words, the latest line of each journal.
    let mut last_by_file: BTreeMap<String, Evidence> = BTreeMap::new();
    for m in ctx.matches_of("network-not-ready") {
        last_by_file.insert(m.file.to_string(), line_evidence(m));
    }
    let log_support = !last_by_file.is_empty();
    for (file, ev) in last_by_file {
        if let Some(node) = crate::checks::path_vars(&file).get("node")
            && !not_ready_nodes.contains(node)
        {
            not_ready_nodes.push(node.clone());
        }
        support.push(ev);
    }
    let known_empty: Vec<&str> = cni
        .iter()
        .filter(|n| n.collection == CniCollection::Empty)
        .map(|n| n.node.as_str())
        .collect();

    let fire = node_support
        || sched_support
        || log_support
        || (sched_messages == 0 && !known_empty.is_empty());
    if !fire {
        if sched_messages > 0 {
            // The scheduler names another reason (resources, affinity, other taints).
            return Ok(Outcome::Pass);
        }
        return Draft::missing("default").not_evaluated();
    }

    let deployment = if pending_names.iter().all(|n| n.starts_with("kube-dns-")) {
        "kube-dns"
    } else {
        "coredns"
    };
    let mut why = Vec::new();
    if !not_ready_nodes.is_empty() {
        let name = if not_ready_nodes.len() == 1 {
            "network-not-ready-node"
        } else {
            "network-not-ready-nodes"
        };
        why.push(ctx.phrase(name, &[("nodes", &not_ready_nodes.join(", "))]));
    }
    if sched_support {
        why.push(ctx.phrase("no-untainted-node", &[]));
    }
    if !known_empty.is_empty() {
        why.push(ctx.phrase("cni-empty", &[("nodes", &known_empty.join(", "))]));
    }
    let (cidr, cidr_from) = pod_cidr(ctx, &node_views);
    let d = Draft {
        evidence: support,
        ..Draft::default()
    }
    .var("deployment", deployment)
    .var("count", pending.len().to_string())
    .var("pods", pending_names.join(", "))
    .var(
        "why",
        if why.is_empty() {
            String::new()
        } else {
            format!("No network add-on pods are running and {}.", why.join("; "))
        },
    )
    .var("cidr_from", cidr_from);
    // The remediation's install steps depend on the pod CIDR found (or its lack).
    let d = match cidr.as_deref() {
        None => d.variant("no-cidr"),
        Some(c) if c == "10.244.0.0/16" => d.var("cidr", c).variant("flannel-range"),
        Some(c) => d.var("cidr", c),
    };
    Ok(Outcome::Findings(vec![d]))
}

/// The cluster's pod CIDR and where it was read: kubeadm's `networking.podSubnet`
/// (a node's kubeadm/config.yaml, or the kubeadm-config ConfigMap), else a node's
/// `spec.podCIDR`.
fn pod_cidr(ctx: &Ctx, nodes: &[Node]) -> (Option<String>, String) {
    for node in ctx.facts.nodes() {
        let path = format!("nodes/{node}/kubeadm/config.yaml");
        if let Ok(y) = ctx.facts.yaml(&path)
            && let Some(s) = y.docs.iter().find_map(pod_subnet)
        {
            return (Some(s), format!("networking.podSubnet in {path}"));
        }
    }
    if let Ok(cms) = ctx.list("kubectl/configmaps.json")
        && let Some(cm) = cluster::object_named(&cms, "kube-system", "kubeadm-config")
        && let Some(text) = str_at(&cm.at.item.value, "data.ClusterConfiguration")
        && let Ok(docs) = crate::yaml::parse_documents(text)
        && let Some(s) = docs.iter().find_map(pod_subnet)
    {
        return (
            Some(s),
            "networking.podSubnet in the kubeadm-config ConfigMap".into(),
        );
    }
    if let Some((name, cidr)) = nodes.iter().find_map(|n| Some((n.meta.name, n.pod_cidr?))) {
        return (
            Some(cidr.to_string()),
            ctx.phrase("pod-cidr-of-node", &[("node", name)]),
        );
    }
    (None, String::new())
}

fn pod_subnet(doc: &Value) -> Option<String> {
    doc.get("networking")?
        .get("podSubnet")?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_markers_in_both_runtimes_wordings() {
        assert!(network_marker("runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized").is_some());
        assert!(network_marker("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized").is_some());
        assert!(network_marker("Kubelet stopped posting node status.").is_none());
        assert!(says_not_ready(
            "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        ));
        assert!(says_not_ready(
            "0/3 nodes are available: 3 node(s) were not ready."
        ));
        assert!(says_not_ready(
            "No nodes are available that match all of the predicates: NodeNotReady (1)."
        ));
        assert!(only_unnamed_taints(
            "0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate."
        ));
        assert!(!only_unnamed_taints(
            "0/2 nodes are available: 1 Insufficient memory, 1 node(s) had taints that the pod didn't tolerate."
        ));
        assert!(!says_not_ready(
            "0/2 nodes are available: 2 Insufficient cpu."
        ));
    }

    #[test]
    fn pod_subnet_from_cluster_configuration() {
        let docs = crate::yaml::parse_documents(
            "kind: InitConfiguration\n---\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n",
        )
        .unwrap();
        assert_eq!(
            docs.iter().find_map(pod_subnet).as_deref(),
            Some("10.244.0.0/16")
        );
        // The spec's install steps for Flannel's own range and for another one.
        let cat = crate::spec::Catalog::embedded().unwrap();
        let rem = &cat
            .get("kubeadm/coredns-pending-no-cni")
            .unwrap()
            .spec
            .remediation;
        let fill = |variant: &str, cidr: &str| {
            let mut v = crate::template::Vars::new();
            v.insert("cidr".into(), cidr.into());
            crate::template::fill(rem.pick(&[variant]), &v)
        };
        assert!(fill("flannel-range", "10.244.0.0/16").contains("kubectl apply -f https://"));
        assert!(fill("default", "172.16.0.0/16").contains("\"Network\": \"172.16.0.0/16\""));
    }
}
