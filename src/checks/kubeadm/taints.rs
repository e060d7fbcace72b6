//! `kubeadm/taints-omitted`: an InitConfiguration (or control-plane JoinConfiguration) asks for
//! no taints with an empty `nodeRegistration.taints` list, yet the node still carries the default
//! control-plane NoSchedule taint. kubeadm's v1beta1 types drop an empty list when marshaled
//! (`omitempty`), and an absent list means "apply the default taint"; v1beta2 fixed it. Pods
//! that should run on a single control-plane node then stay Pending.

use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster;
use crate::facts::{JsonDoc, TextFile, Unavailable};
use crate::model::Evidence;
use crate::objpath::str_at;
use serde_json::Value;

/// The taint keys kubeadm puts on control-plane nodes (`master` up to 1.24, `control-plane` from
/// 1.24 on; both for a while).
const ROLE_TAINTS: &[&str] = &[
    "node-role.kubernetes.io/master",
    "node-role.kubernetes.io/control-plane",
];

/// One InitConfiguration/JoinConfiguration that asks for an empty taint list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EmptyTaints {
    kind: String,
    api_version: String,
    node_name: Option<String>,
    /// `[]` or `null`, as written.
    written: &'static str,
}

/// What a kubeadm node-registration document says about taints: `None` when it is not an
/// Init/control-plane Join configuration; `Some(None)` when it does not ask for an empty list.
fn node_registration_taints(doc: &Value) -> Option<Option<EmptyTaints>> {
    let api = str_at(doc, "apiVersion").unwrap_or("");
    if !api.starts_with("kubeadm.k8s.io/") {
        return None;
    }
    let kind = str_at(doc, "kind")?;
    let applies = match kind {
        "InitConfiguration" => true,
        // Only a control-plane join gets the control-plane taint by default.
        "JoinConfiguration" => doc.get("controlPlane").is_some_and(|c| !c.is_null()),
        _ => false,
    };
    if !applies {
        return None;
    }
    let reg = doc.get("nodeRegistration");
    let written = match reg
        .and_then(|r| r.as_object())
        .and_then(|r| r.get("taints"))
    {
        Some(Value::Array(a)) if a.is_empty() => "[]",
        Some(Value::Null) => "null",
        _ => return Some(None),
    };
    Some(Some(EmptyTaints {
        kind: kind.to_string(),
        api_version: api.to_string(),
        node_name: reg
            .and_then(|r| str_at(r, "name"))
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        written,
    }))
}

/// Whether some node's kubeadm configuration asks for no taints: then the Pending pods the
/// control-plane taint keeps off that node are `kubeadm/taints-omitted`'s to report.
pub(crate) fn taints_asked_away(facts: &crate::facts::Facts) -> bool {
    facts.nodes().iter().any(|node| {
        facts
            .yaml(&format!("nodes/{node}/kubeadm/config.yaml"))
            .is_ok_and(|doc| {
                doc.docs
                    .iter()
                    .any(|d| matches!(node_registration_taints(d), Some(Some(_))))
            })
    })
}

/// The `taints:` line of the document of `kind` in a (multi-document) kubeadm config.
fn taints_line(text: &TextFile, kind: &str) -> Evidence {
    let n = text.line_count();
    let kind_line = (1..=n).find(|&i| {
        let l = text.line(i).trim();
        l.strip_prefix("kind:")
            .is_some_and(|k| k.trim().trim_matches(['"', '\'']) == kind)
    });
    // The document spans from the separator before `kind:` to the one after it.
    let start = kind_line
        .map(|k| {
            (1..k)
                .rev()
                .find(|&i| text.line(i).starts_with("---"))
                .map_or(1, |i| i + 1)
        })
        .unwrap_or(1);
    let end = kind_line
        .and_then(|k| (k + 1..=n).find(|&i| text.line(i).starts_with("---")))
        .map_or(n, |i| i - 1);
    let line = (start..=end)
        .find(|&i| text.line(i).trim_start().starts_with("taints:"))
        .or(kind_line)
        .unwrap_or(1);
    text.evidence(line, line)
}

/// The control-plane NoSchedule taint keys a node carries, with the evidence line of each.
fn role_taints(nodes: &JsonDoc, name: &str) -> Option<Vec<(String, Evidence)>> {
    let node = cluster::node_named(nodes, name)?;
    let item = node.at.item;
    let mut out = Vec::new();
    for t in &node.taints {
        let key = t.key;
        if !ROLE_TAINTS.contains(&key) || t.effect != "NoSchedule" {
            continue;
        }
        let taints_at = nodes
            .text
            .find_line_in(item.line, item.end_line, "\"taints\"")
            .unwrap_or(item.line);
        let ev = match nodes
            .text
            .find_line_in(taints_at, item.end_line, &format!("\"{key}\""))
        {
            Some(n) => nodes.text.evidence(n, n),
            None => nodes.item_evidence(item),
        };
        out.push((key.to_string(), ev));
    }
    Some(out)
}

/// Whether a scheduler message blames one of `keys` for keeping a pod off a node. Schedulers
/// before 1.18 did not name the taint ("had taints that the pod didn't tolerate"); later ones
/// write it as `{key: value}`.
fn names_taint(message: &str, keys: &[String]) -> bool {
    message.contains("had taints that the pod didn't tolerate")
        || keys.iter().any(|k| message.contains(&format!("{{{k}: ")))
}

/// Pods Pending because of the taint, and FailedScheduling events naming it.
fn pending_evidence(ctx: &Ctx, keys: &[String]) -> (usize, Vec<Evidence>) {
    let mut pods_pending = 0;
    let mut ev = Vec::new();
    if let Ok(pods) = ctx.list("kubectl/pods.json") {
        for pod in cluster::pods(&pods).filter(|p| p.phase == "Pending") {
            let blocked = pod.conditions.iter().any(|c| {
                c.kind == "PodScheduled"
                    && c.status == "False"
                    && c.message.is_some_and(|m| names_taint(m, keys))
            });
            if blocked {
                pods_pending += 1;
                ev.push(pod.at.line("nodes are available"));
            }
        }
    }
    if let Ok(events) = ctx.list("kubectl/events.json") {
        // In the list's order, as the scheduler wrote them.
        let mut views = cluster::events(&events);
        views.sort_by_key(|e| e.at.item.line);
        for e in views {
            if e.reason == "FailedScheduling" && names_taint(e.message, keys) {
                ev.push(e.at.line("\"message\""));
            }
        }
    }
    (pods_pending, ev)
}

pub fn taints_omitted(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    // (folder, config file, what it asks for)
    let mut asks: Vec<(String, std::sync::Arc<crate::facts::YamlDoc>, EmptyTaints)> = Vec::new();
    let mut registrations = 0;
    let mut configs = 0;
    for node in ctx.facts.nodes() {
        let Ok(doc) = ctx.facts.yaml(&format!("nodes/{node}/kubeadm/config.yaml")) else {
            continue;
        };
        configs += 1;
        for d in &doc.docs {
            match node_registration_taints(d) {
                None => {}
                Some(None) => registrations += 1,
                Some(Some(e)) => {
                    registrations += 1;
                    asks.push((node.clone(), doc.clone(), e));
                }
            }
        }
    }
    if registrations == 0 {
        return if configs == 0 {
            Draft::missing("default")
        } else {
            Draft::missing("no-registration").var("count", configs.to_string())
        }
        .not_evaluated();
    }
    if asks.is_empty() {
        return Ok(Outcome::Pass);
    }
    let nodes = ctx.list("kubectl/nodes.json")?;
    let mut drafts = Vec::new();
    let mut evaluated = 0;
    let mut missing: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (folder, doc, e) in asks {
        let candidates: Vec<String> = e
            .node_name
            .iter()
            .cloned()
            .chain(std::iter::once(folder.clone()))
            .collect();
        let Some((name, taints)) = candidates
            .iter()
            .find_map(|n| role_taints(&nodes, n).map(|t| (n.clone(), t)))
        else {
            missing.push(candidates[0].clone());
            continue;
        };
        evaluated += 1;
        if taints.is_empty() || seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let keys: Vec<String> = taints.iter().map(|(k, _)| k.clone()).collect();
        let (pending, pending_ev) = pending_evidence(ctx, &keys);
        let file = format!("nodes/{folder}/kubeadm/config.yaml");
        let version = e
            .api_version
            .strip_prefix("kubeadm.k8s.io/")
            .unwrap_or(&e.api_version)
            .to_string();
        let dropped = matches!(
            version.as_str(),
            "v1alpha1" | "v1alpha2" | "v1alpha3" | "v1beta1"
        );
        // The spec's detail says why the taint came back, for each way the list was written.
        let cause = if dropped {
            Some("dropped")
        } else if e.written == "null" {
            Some("null-list")
        } else {
            None
        };
        let key = keys[0].clone();
        let mut d = Draft::new()
            .var("node", name.as_str())
            .var("file", file.as_str())
            .var("kind", e.kind.as_str())
            .var("api_version", e.api_version.as_str())
            .var("written", e.written)
            .var("taint", format!("{}:NoSchedule", keys.join(":NoSchedule, ")))
            .var("taint_key", key.as_str())
            .var("pending", pending.to_string())
            .var(
                "untaint",
                keys.iter()
                    .map(|k| format!("    kubectl taint nodes {name} {k}:NoSchedule-"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
            .var(
                "config",
                format!(
                    "    apiVersion: {}\n    kind: {}\n    nodeRegistration:\n      taints:\n      - key: {key}\n        effect: PreferNoSchedule",
                    e.api_version, e.kind
                ),
            );
        d.variants.extend(cause);
        if pending > 0 {
            d = d.variant("pending");
        }
        d.evidence.push(taints_line(&doc.text, &e.kind));
        d.evidence.extend(taints.into_iter().map(|(_, ev)| ev));
        d.evidence.extend(pending_ev);
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if evaluated == 0 {
        return Draft::missing("node-missing")
            .var("nodes", missing.join(", "))
            .not_evaluated();
    }
    Ok(Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(yaml: &str) -> Option<Option<EmptyTaints>> {
        let docs = crate::yaml::parse_documents(yaml).unwrap();
        docs.iter().find_map(node_registration_taints)
    }

    #[test]
    fn empty_list_and_explicit_null_ask_for_no_taints_an_absent_key_does_not() {
        let e = first("apiVersion: kubeadm.k8s.io/v1beta1\nkind: InitConfiguration\nnodeRegistration:\n  name: cp-1\n  taints: []\n")
            .unwrap()
            .unwrap();
        assert_eq!(e.written, "[]");
        assert_eq!(e.node_name.as_deref(), Some("cp-1"));
        let e = first("apiVersion: kubeadm.k8s.io/v1beta1\nkind: InitConfiguration\nnodeRegistration:\n  taints:\n")
            .unwrap()
            .unwrap();
        assert_eq!(e.written, "null");
        assert_eq!(
            first(
                "apiVersion: kubeadm.k8s.io/v1beta1\nkind: InitConfiguration\nnodeRegistration:\n  name: cp-1\n"
            ),
            Some(None)
        );
        assert_eq!(
            first(
                "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\nnodeRegistration:\n  taints:\n  - key: node-role.kubernetes.io/master\n    effect: PreferNoSchedule\n"
            ),
            Some(None)
        );
        // A worker join never gets the control-plane taint; a ClusterConfiguration has no taints.
        assert_eq!(
            first(
                "apiVersion: kubeadm.k8s.io/v1beta1\nkind: JoinConfiguration\nnodeRegistration:\n  taints: []\n"
            ),
            None
        );
        assert!(first("apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ncontrolPlane:\n  localAPIEndpoint:\n    advertiseAddress: 10.0.0.2\nnodeRegistration:\n  taints: []\n").unwrap().is_some());
        assert_eq!(
            first("apiVersion: kubeadm.k8s.io/v1beta1\nkind: ClusterConfiguration\n"),
            None
        );
    }

    #[test]
    fn scheduler_messages_of_every_era_name_the_taint() {
        let keys = vec!["node-role.kubernetes.io/master".to_string()];
        assert!(names_taint(
            "0/1 nodes are available: 1 node(s) had taint {node-role.kubernetes.io/master: }, that the pod didn't tolerate.",
            &keys
        ));
        assert!(names_taint(
            "0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate.",
            &keys
        ));
        let keys = vec!["node-role.kubernetes.io/control-plane".to_string()];
        assert!(names_taint(
            "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
            &keys
        ));
        assert!(!names_taint(
            "0/1 nodes are available: 1 node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate.",
            &keys
        ));
    }

    #[test]
    fn the_taints_line_is_found_in_its_own_document() {
        let t = TextFile::new(
            "c.yaml",
            b"apiVersion: kubeadm.k8s.io/v1beta1\nkind: ClusterConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta1\nkind: InitConfiguration\nnodeRegistration:\n  taints: []\n".to_vec(),
        );
        assert_eq!(taints_line(&t, "InitConfiguration").line, 7);
    }
}
