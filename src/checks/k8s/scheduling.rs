//! `k8s/pod-unschedulable`: Pending pods the scheduler could not place (`PodScheduled` False,
//! reason `Unschedulable`), with the scheduler's message taken apart: how many nodes, and why
//! each group of nodes was refused. Pods created in the last minute before collection are
//! left alone: the scheduler may simply not have placed them yet.

use super::{Groups, Lists, finish, for_how_long, overlap, pod_vars};
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{self, Pod, condition, secs_before};
use crate::facts::Unavailable;

/// Pods younger than this at collection may just not be scheduled yet.
const GRACE_SECS: i64 = 60;

/// Why a group of nodes did not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Insufficient cpu, memory, ephemeral-storage, pods, or an extended resource.
    Insufficient(String),
    TooManyPods,
    /// An untolerated taint (the key and value when the scheduler names it).
    Taint(Option<String>),
    /// Node affinity or node selector.
    NodeSelector,
    /// Inter-pod affinity or anti-affinity.
    PodAffinity,
    /// Topology spread constraints.
    TopologySpread,
    /// Volumes: unbound claims, zone or node affinity of a volume, attach limits.
    Volume(String),
    Ports,
    /// Cordoned nodes.
    Cordoned,
    NotReady,
    /// No node in the cluster at all.
    NoNodes,
    Other(String),
}

impl Why {
    pub fn text(&self) -> String {
        match self {
            Why::Insufficient(r) => format!("insufficient {r}"),
            Why::TooManyPods => "pod limit reached".into(),
            Why::Taint(Some(t)) => format!("untolerated taint {t}"),
            Why::Taint(None) => "untolerated taint".into(),
            Why::NodeSelector => "node selector or affinity not matched".into(),
            Why::PodAffinity => "pod affinity or anti-affinity not met".into(),
            Why::TopologySpread => "topology spread constraints not met".into(),
            Why::Volume(v) => v.clone(),
            Why::Ports => "requested host port in use".into(),
            Why::Cordoned => "cordoned".into(),
            Why::NotReady => "not ready".into(),
            Why::NoNodes => "no nodes to schedule on".into(),
            Why::Other(s) => s.clone(),
        }
    }

    /// The spec's phrase saying what to do about it.
    fn advice(&self) -> &'static str {
        match self {
            Why::Insufficient(_) | Why::TooManyPods => "advice-capacity",
            Why::Taint(_) => "advice-taint",
            Why::NodeSelector => "advice-selector",
            Why::PodAffinity | Why::TopologySpread => "advice-affinity",
            Why::Volume(_) => "advice-volume",
            Why::Ports => "advice-ports",
            Why::Cordoned => "advice-cordoned",
            Why::NotReady | Why::NoNodes => "advice-nodes",
            Why::Other(_) => "advice-other",
        }
    }
}

/// One part of the scheduler's message: `count` nodes refused for `why`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub count: u64,
    pub why: Why,
}

/// The scheduler's message, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unschedulable {
    /// `0/3 nodes are available`: the total, when given.
    pub nodes: Option<u64>,
    pub refusals: Vec<Refusal>,
}

/// Names of scheduler predicates (1.6 to 1.9 messages name them) and the phrases of later
/// releases, with what they mean. Order matters: the first phrase found wins.
fn reason_of(part: &str) -> Why {
    let p = part.trim().trim_end_matches('.').trim();
    let l = p.to_ascii_lowercase();
    if let Some(r) = p.strip_prefix("Insufficient ") {
        return match r.trim() {
            "pods" => Why::TooManyPods,
            r => Why::Insufficient(r.to_string()),
        };
    }
    if l == "too many pods" {
        return Why::TooManyPods;
    }
    if l.contains("taint") {
        // 1.18-1.24: `had taint {key: value}, that the pod didn't tolerate`;
        // 1.25+: `had untolerated taint {key: value}`; older: no key.
        let key = p
            .split_once('{')
            .and_then(|(_, r)| r.split_once('}'))
            .map(|(t, _)| t.trim().trim_end_matches(':').trim().to_string());
        return Why::Taint(key);
    }
    if l.contains("volume node affinity conflict") || l.contains("volumenodeaffinityconflict") {
        return Why::Volume("a volume bound to another zone or node".into());
    }
    if l.contains("node selector")
        || l.contains("node affinity")
        || l == "matchnodeselector"
        || l == "nodeaffinity"
    {
        return Why::NodeSelector;
    }
    if l.contains("pod affinity")
        || l.contains("pod anti-affinity")
        || l.contains("anti-affinity")
        || l.contains("affinity rules")
        || l == "matchinterpodaffinity"
    {
        return Why::PodAffinity;
    }
    if l.contains("topology spread") || l.contains("spread constraint") {
        return Why::TopologySpread;
    }
    if l.contains("unbound immediate persistentvolumeclaims")
        || l.contains("unbound persistentvolumeclaim")
    {
        return Why::Volume("unbound PersistentVolumeClaims".into());
    }
    if l.contains("available persistent volumes to bind")
        || l.contains("persistentvolumeclaim") && l.contains("not found")
    {
        return Why::Volume("no PersistentVolume to bind".into());
    }
    if l.contains("volume zone")
        || l.contains("max volume count")
        || l.contains("volume count")
        || l.contains("novolumezoneconflict")
    {
        return Why::Volume("volume zone or attach limits".into());
    }
    if l.contains("free ports") || l.contains("podfitshostports") {
        return Why::Ports;
    }
    if l.contains("were unschedulable") || l == "nodeunschedulable" {
        return Why::Cordoned;
    }
    if l.contains("not ready") || l == "nodenotready" || l.contains("network unavailable") {
        return Why::NotReady;
    }
    if l.starts_with("insufficient") {
        return Why::Insufficient(p[12..].trim().to_string());
    }
    Why::Other(p.to_string())
}

/// Splits `1 node(s) had taint {a: b}, that the pod didn't tolerate, 2 Insufficient cpu` at
/// each `, ` followed by a count.
fn counted_parts(s: &str) -> Vec<(u64, &str)> {
    let mut out = Vec::new();
    let mut starts = vec![0];
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(off) = s[i..].find(", ") {
        let at = i + off + 2;
        let digits = b[at..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && b.get(at + digits) == Some(&b' ') {
            starts.push(at);
        }
        i = at;
    }
    for (k, &st) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map(|&n| n - 2).unwrap_or(s.len());
        let part = s[st..end].trim();
        let (n, rest) = match part.split_once(' ') {
            Some((n, rest)) if n.bytes().all(|c| c.is_ascii_digit()) => {
                (n.parse().unwrap_or(0), rest)
            }
            _ => (0, part),
        };
        if !rest.is_empty() {
            out.push((n, rest));
        }
    }
    out
}

/// Takes the scheduler's message apart, in the wordings of every release:
/// - 1.6-1.8 `No nodes are available that match all of the following predicates:: Insufficient
///   cpu (3), PodToleratesNodeTaints (1).`
/// - 1.9+ `0/3 nodes are available: 1 NodeUnschedulable, 2 Insufficient cpu.` (predicate names,
///   then phrases: `1 node(s) had taints that the pod didn't tolerate`)
/// - 1.18-1.24 `1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't
///   tolerate`
/// - 1.25+ `1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2
///   Insufficient memory. preemption: 0/3 nodes are available: ...` (the preemption part is
///   dropped: it says why no pod could be evicted, not why nodes do not fit)
/// - `pod has unbound immediate PersistentVolumeClaims`, `no nodes available to schedule pods`.
pub fn parse_message(msg: &str) -> Unschedulable {
    let msg = msg.trim();
    let main = match msg.find(" preemption: ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let main = main.trim().trim_end_matches('.');
    if let Some((head, rest)) = main
        .split_once(" nodes are available: ")
        .or_else(|| main.split_once(" nodes are available:"))
    {
        let nodes = head.rsplit('/').next().and_then(|n| n.trim().parse().ok());
        let mut refusals = Vec::new();
        for (count, part) in counted_parts(rest.trim()) {
            // `0/3 nodes are available: 3 node(s) didn't match node selector.` may be followed
            // by a repeat of an earlier wording inside parentheses in 1.9: ignore those.
            let part = part.trim().trim_end_matches('.');
            let part = part.strip_prefix("node(s) ").unwrap_or(part);
            refusals.push(Refusal {
                count,
                why: reason_of(part),
            });
        }
        return Unschedulable { nodes, refusals };
    }
    if let Some((_, rest)) = main.split_once("predicates:") {
        let rest = rest.trim_start_matches(':').trim();
        let refusals = rest
            .split(", ")
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let p = p.trim();
                let (name, count) = match p.rsplit_once(" (") {
                    Some((n, c)) => (n, c.trim_end_matches(')').parse().unwrap_or(0)),
                    None => (p, 0),
                };
                Refusal {
                    count,
                    why: reason_of(name),
                }
            })
            .collect();
        return Unschedulable {
            nodes: None,
            refusals,
        };
    }
    let l = main.to_ascii_lowercase();
    let why = if l.contains("no nodes available") || l.starts_with("no nodes are available") {
        Why::NoNodes
    } else {
        reason_of(main)
    };
    Unschedulable {
        nodes: if why == Why::NoNodes { Some(0) } else { None },
        refusals: vec![Refusal { count: 0, why }],
    }
}

impl Unschedulable {
    /// `0 of 3 nodes fit: 2 have not enough memory; 1 has a taint ...`.
    pub fn text(&self) -> String {
        let parts: Vec<String> = self
            .refusals
            .iter()
            .map(|r| match r.count {
                0 => r.why.text(),
                1 => format!("1 node: {}", r.why.text()),
                n => format!("{n} nodes: {}", r.why.text()),
            })
            .collect();
        match self.nodes {
            Some(0) if self.refusals.iter().all(|r| r.why == Why::NoNodes) => {
                "the cluster has no node to schedule on".into()
            }
            Some(n) => format!("none of the {n} nodes fits: {}", parts.join("; ")),
            None => parts.join("; "),
        }
    }

    /// What distinguishes one cause from another (counts aside).
    fn key(&self) -> String {
        let mut whys: Vec<String> = self
            .refusals
            .iter()
            .map(|r| format!("{:?}", r.why))
            .collect();
        whys.sort();
        whys.join(",")
    }
}

/// `k8s/pod-unschedulable`.
pub fn pod_unschedulable(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let claims = overlap::Claims::new(ctx.facts);
    let lists = Lists::read(ctx)?;
    let by_pod = lists.pod_events();
    let mut groups = Groups::new();
    for p in cluster::pods(&lists.pods) {
        let p = &p;
        if p.phase != "Pending" || p.is_gone() {
            continue;
        }
        let Some(cond) = condition(&p.conditions, "PodScheduled")
            .filter(|c| c.status == "False" && c.reason == Some("Unschedulable"))
        else {
            continue;
        };
        let young = secs_before(lists.now, p.meta.created).is_some_and(|s| s < GRACE_SECS);
        if young {
            continue;
        }
        let msg = cond.message.unwrap_or("");
        let parsed = parse_message(msg);
        if claims.pending_pod(p, Some(&parsed)).is_some() {
            continue;
        }
        let key = format!("{}|{}", super::owner_key(p), parsed.key());
        groups.add(key, p, (parsed, msg));
    }
    let mut drafts = Vec::new();
    for g in groups.into_groups() {
        let pods_of: Vec<&Pod> = g.iter().map(|(p, _)| p).collect();
        let (parsed, msg) = &g[0].1;
        let since = for_how_long(lists.now, pods_of.iter().map(|p| p.meta.created))
            .map(|s| format!("Pending {s}. "))
            .unwrap_or_default();
        let mut advice: Vec<&str> = parsed.refusals.iter().map(|r| r.why.advice()).collect();
        advice.dedup();
        let advice: Vec<String> = advice.iter().map(|k| ctx.phrase(k, &[])).collect();
        let mut d = pod_vars(Draft::new(), &pods_of)
            .var("why", parsed.text())
            .var("message", msg.trim())
            .var("since", since)
            .var("advice", advice.join("\n"));
        for p in &pods_of {
            d.evidence
                .push(p.at.line_after(&["\"conditions\""], "\"message\""));
        }
        let extra: Vec<_> = pods_of
            .iter()
            .take(2)
            .filter_map(|p| {
                by_pod
                    .of(p.meta.namespace, p.meta.name)
                    .iter()
                    .rev()
                    .find(|e| e.reason == "FailedScheduling")
                    .map(|e| e.evidence())
            })
            .collect();
        drafts.push(finish(d, g.len(), extra));
    }
    Ok(Outcome::Findings(drafts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whys(msg: &str) -> Vec<(u64, Why)> {
        parse_message(msg)
            .refusals
            .into_iter()
            .map(|r| (r.count, r.why))
            .collect()
    }

    #[test]
    fn scheduler_messages_of_every_release() {
        let m = "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
        assert_eq!(parse_message(m).nodes, Some(3));
        assert_eq!(
            whys(m),
            [
                (
                    1,
                    Why::Taint(Some("node-role.kubernetes.io/control-plane".into()))
                ),
                (2, Why::Insufficient("memory".into()))
            ]
        );
        let m = "0/3 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate, 2 Insufficient cpu.";
        assert_eq!(
            whys(m),
            [
                (1, Why::Taint(Some("node-role.kubernetes.io/master".into()))),
                (2, Why::Insufficient("cpu".into()))
            ]
        );
        let m = "0/5 nodes are available: 2 node(s) had taints that the pod didn't tolerate, 3 node(s) didn't match node selector.";
        assert_eq!(whys(m), [(2, Why::Taint(None)), (3, Why::NodeSelector)]);
        let m = "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.";
        assert_eq!(whys(m), [(4, Why::NodeSelector)]);
        let m = "0/2 nodes are available: 1 NodeUnschedulable, 1 PodToleratesNodeTaints.";
        assert_eq!(whys(m), [(1, Why::Cordoned), (1, Why::Taint(None))]);
        let m = "No nodes are available that match all of the following predicates:: Insufficient cpu (3), PodToleratesNodeTaints (1).";
        assert_eq!(
            whys(m),
            [(3, Why::Insufficient("cpu".into())), (1, Why::Taint(None))]
        );
        let m = "0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
        assert_eq!(
            whys(m),
            [(1, Why::Volume("unbound PersistentVolumeClaims".into()))]
        );
        let m = "pod has unbound immediate PersistentVolumeClaims (repeated 3 times)";
        assert!(matches!(whys(m)[0].1, Why::Volume(_)));
        let m = "0/6 nodes are available: 3 node(s) didn't match pod anti-affinity rules, 3 node(s) had volume node affinity conflict.";
        assert_eq!(whys(m)[0].1, Why::PodAffinity);
        assert!(matches!(whys(m)[1].1, Why::Volume(_)));
        let m = "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports.";
        assert_eq!(whys(m), [(3, Why::Ports)]);
        let m = "0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints.";
        assert_eq!(whys(m), [(3, Why::TopologySpread)]);
        let m = "0/1 nodes are available: 1 Too many pods.";
        assert_eq!(whys(m), [(1, Why::TooManyPods)]);
        let m = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.";
        assert_eq!(whys(m), [(1, Why::Insufficient("nvidia.com/gpu".into()))]);
        let m = "0/2 nodes are available: 2 node(s) were unschedulable.";
        assert_eq!(whys(m), [(2, Why::Cordoned)]);
        let m = "no nodes available to schedule pods";
        assert_eq!(
            parse_message(m).text(),
            "the cluster has no node to schedule on"
        );
        let m = "0/1 nodes are available: 1 node(s) had taint {node.cloudprovider.kubernetes.io/uninitialized: true}, that the pod didn't tolerate.";
        assert_eq!(
            whys(m),
            [(
                1,
                Why::Taint(Some(
                    "node.cloudprovider.kubernetes.io/uninitialized: true".into()
                ))
            )]
        );
        assert_eq!(
            parse_message("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory.").text(),
            "none of the 3 nodes fits: 1 node: untolerated taint node-role.kubernetes.io/control-plane; 2 nodes: insufficient memory"
        );
    }
}
