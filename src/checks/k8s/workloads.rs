//! `k8s/workload-unavailable`: Deployments, StatefulSets and DaemonSets with fewer available
//! replicas than they want, each with its pods that are not ready and the finding that says
//! why. A Deployment's rollout still within its progress deadline is left alone: Kubernetes
//! itself does not call it failed yet.

use super::{name_list, overlap};
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{
    self, Pod, State, Workload, WorkloadKind, condition, human_duration, secs_before,
};
use crate::facts::{JsonDoc, Unavailable};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;

/// Pods of a workload shown one by one; past this, only counted.
const PODS_SHOWN: usize = 10;

/// Progressing reasons of a rollout under way.
const ROLLING: &[&str] = &[
    "ReplicaSetUpdated",
    "NewReplicaSetCreated",
    "FoundNewReplicaSet",
];

/// Whether Kubernetes still gives this workload time: a Deployment's rollout within its
/// progress deadline, or any workload created less than the default deadline before
/// collection.
fn still_rolling(w: &Workload, now: Option<Timestamp>) -> bool {
    // 2147483647 (what extensions/v1beta1 defaulted to) means "no deadline": Kubernetes then
    // never calls a rollout failed, and neither do we beyond the default.
    let deadline = match w.progress_deadline {
        Some(d) if d < i32::MAX as u64 => d,
        _ => cluster::DEFAULT_PROGRESS_DEADLINE,
    } as i64;
    if secs_before(now, w.meta.created).is_some_and(|s| s < deadline) {
        return true;
    }
    if w.kind != WorkloadKind::Deployment {
        return false;
    }
    let Some(p) = condition(&w.conditions, "Progressing") else {
        return false;
    };
    p.status == "True"
        && p.reason.is_some_and(|r| ROLLING.contains(&r))
        && secs_before(now, p.last_update.or(p.last_transition)).is_some_and(|s| s < deadline)
}

/// Why a pod is not ready, and the check that reports it.
fn pod_state(claims: &overlap::Claims, p: &Pod) -> (String, &'static str) {
    if let Some(check) = claims.failing_pod(p) {
        return (format!("failing, see {check}"), check);
    }
    if p.phase == "Pending"
        && let Some(c) = condition(&p.conditions, "PodScheduled").filter(|c| c.status == "False")
    {
        let parsed = c.message.map(super::scheduling::parse_message);
        let check = claims
            .pending_pod(p, parsed.as_ref())
            .unwrap_or("k8s/pod-unschedulable");
        return (
            format!(
                "Pending, not scheduled ({})",
                c.reason.unwrap_or("no reason")
            ),
            check,
        );
    }
    for c in &p.containers {
        let oom = c.last.as_ref().is_some_and(|t| t.reason == "OOMKilled")
            || matches!(&c.state, State::Terminated(t) if t.reason == "OOMKilled");
        let check = match c.state.waiting() {
            _ if oom => "k8s/pod-oomkilled",
            Some("CrashLoopBackOff") => "k8s/pod-crashloop",
            Some(
                "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" | "ErrImageNeverPull",
            ) => "k8s/image-pull-failure",
            Some("CreateContainerConfigError" | "CreateContainerError" | "RunContainerError") => {
                "k8s/container-config-error"
            }
            Some("ContainerCreating") => "k8s/volume-mount-failure",
            _ => continue,
        };
        return (format!("{} in {}", c.state.label(), c.name), check);
    }
    if let Some(c) = p
        .containers
        .iter()
        .find(|c| c.init && !matches!(&c.state, State::Terminated(t) if t.exit_code == 0))
    {
        return (
            format!(
                "initialising, init container {} is {}",
                c.name,
                c.state.label()
            ),
            "",
        );
    }
    let unready: Vec<&str> = p
        .containers
        .iter()
        .filter(|c| !c.ready && !c.init)
        .map(|c| c.name)
        .collect();
    if p.phase == "Running" && !unready.is_empty() {
        return (
            format!(
                "Running, container {} not ready (readiness probe)",
                unready.join(", ")
            ),
            "",
        );
    }
    (
        format!(
            "phase {}",
            if p.phase.is_empty() {
                "unknown"
            } else {
                p.phase
            }
        ),
        "",
    )
}

fn is_ready(p: &Pod) -> bool {
    p.phase == "Running" && condition(&p.conditions, "Ready").is_some_and(|c| c.status == "True")
}

/// `k8s/workload-unavailable`.
pub fn workload_unavailable(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let claims = overlap::Claims::new(ctx.facts);
    let mut lists: Vec<(WorkloadKind, Arc<JsonDoc>)> = Vec::new();
    let mut missing: Vec<Unavailable> = Vec::new();
    for kind in [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ] {
        match ctx.list(kind.list_path()) {
            Ok(d) => lists.push((kind, d)),
            // Our collector does not gather StatefulSets; read them when a bundle has them.
            Err(_) if kind == WorkloadKind::StatefulSet => {}
            Err(e) => missing.push(e),
        }
    }
    if lists.is_empty() {
        return Err(missing.remove(0));
    }
    let pods_doc = ctx.list("kubectl/pods.json").ok();
    // Per workload, in one pass over the pods: how many it owns, and the unready ones.
    let mut by_owner: HashMap<(String, String, String), (usize, Vec<Pod>)> = HashMap::new();
    for p in pods_doc.iter().flat_map(|d| cluster::pods(d)) {
        let Some(w) = p.workload().filter(|_| !p.is_gone()) else {
            continue;
        };
        let entry = by_owner.entry((w.kind, w.namespace, w.name)).or_default();
        entry.0 += 1;
        if !is_ready(&p) {
            entry.1.push(p);
        }
    }
    let now = ctx.facts.collection_time();
    let mut drafts = Vec::new();
    for (kind, doc) in &lists {
        for w in cluster::workloads(doc, *kind) {
            if w.desired == 0
                || w.available >= w.desired
                || w.meta.deleting
                || still_rolling(&w, now)
            {
                continue;
            }
            let key = (
                w.kind.as_str().to_string(),
                w.meta.namespace.to_string(),
                w.meta.name.to_string(),
            );
            let (owned, unready) = by_owner
                .get(&key)
                .map_or((0, &[][..]), |(n, u)| (*n, &u[..]));
            let states: Vec<(String, &'static str)> =
                unready.iter().map(|p| pod_state(&claims, p)).collect();
            // Pods a platform check reports are reported there, with their workload.
            if !states.is_empty()
                && states
                    .iter()
                    .all(|(_, c)| c.starts_with("gke/") || c.starts_with("kubeadm/"))
            {
                continue;
            }
            let mut lines: Vec<String> = unready
                .iter()
                .zip(&states)
                .take(PODS_SHOWN)
                .map(|(p, (s, check))| {
                    if check.is_empty() {
                        format!("{}: {s}", p.meta.name)
                    } else {
                        format!("{}: {s} ({check})", p.meta.name)
                    }
                })
                .collect();
            if unready.len() > PODS_SHOWN {
                lines.push(format!("and {} more", unready.len() - PODS_SHOWN));
            }
            let mut evidence = vec![w.at.line(match kind {
                WorkloadKind::DaemonSet => "\"desiredNumberScheduled\"",
                _ => "\"replicas\"",
            })];
            let mut notes = Vec::new();
            for (ckind, bad) in [
                ("Available", "False"),
                ("Progressing", "False"),
                ("ReplicaFailure", "True"),
            ] {
                if let Some(c) = condition(&w.conditions, ckind).filter(|c| c.status == bad) {
                    evidence.push(w.condition_evidence(ckind));
                    let age = secs_before(now, c.last_transition)
                        .map(|s| format!(" for {} before collection", human_duration(s)))
                        .unwrap_or_default();
                    notes.push(format!(
                        "{ckind} is {bad}{age} ({}): {}",
                        c.reason.unwrap_or("no reason"),
                        c.message.unwrap_or("no message").trim_end_matches('.')
                    ));
                }
            }
            for p in unready.iter().take(PODS_SHOWN) {
                evidence.push(p.at.line("\"phase\""));
            }
            let pods_text = if pods_doc.is_none() {
                ctx.phrase("pods-unknown", &[])
            } else if owned == 0 {
                ctx.phrase("no-pods", &[])
            } else if lines.is_empty() {
                ctx.phrase("pods-ready", &[("count", &owned.to_string())])
            } else {
                ctx.phrase("pods-not-ready", &[("lines", &lines.join("\n  "))])
            };
            let names: Vec<&str> = unready.iter().map(|p| p.meta.name).collect();
            let mut d = Draft::new()
                .var("workload", w.reference().to_string())
                .var("kind", w.kind.as_str())
                .var("namespace", w.meta.namespace)
                .var("name", w.meta.name)
                .var("target", w.reference().kubectl())
                .var("available", w.available.to_string())
                .var("desired", w.desired.to_string())
                .var("pods", pods_text)
                .var("unready", name_list(&names, 3))
                .var(
                    "conditions",
                    if notes.is_empty() {
                        String::new()
                    } else {
                        format!("{}.", notes.join(". "))
                    },
                );
            d.evidence = evidence;
            d.occurrences = Some(1);
            drafts.push(d);
        }
    }
    if drafts.is_empty()
        && let Some(m) = missing.into_iter().next()
    {
        return Err(m);
    }
    Ok(Outcome::Findings(drafts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_rollout_within_its_deadline_is_left_alone_and_no_deadline_means_the_default() {
        let now = crate::facts::parse_time("2026-11-20T10:15:00Z");
        let dep = |deadline: u64, created: &str, progressing: serde_json::Value| {
            json!({"metadata": {"name": "web", "namespace": "shop", "creationTimestamp": created},
                "spec": {"replicas": 3, "progressDeadlineSeconds": deadline},
                "status": {"availableReplicas": 1, "conditions": [progressing]}})
        };
        let rolling = json!({"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
            "lastUpdateTime": "2026-11-20T10:12:00Z", "lastTransitionTime": "2026-11-20T10:12:00Z"});
        let done = json!({"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
            "lastUpdateTime": "2026-11-01T10:12:00Z"});
        let doc = cluster::table(
            "kubectl/deployments.json",
            vec![
                dep(600, "2026-11-01T00:00:00Z", rolling.clone()),
                dep(60, "2026-11-01T00:00:00Z", rolling),
                dep(600, "2026-11-01T00:00:00Z", done.clone()),
                // Old addon manifests: "no deadline"; a crash loop of days is still reported.
                dep(2147483647, "2026-11-01T00:00:00Z", json!({})),
                dep(2147483647, "2026-11-20T10:10:00Z", json!({})),
            ],
        );
        let got: Vec<bool> = cluster::workloads(&doc, WorkloadKind::Deployment)
            .iter()
            .map(|w| still_rolling(w, now))
            .collect();
        assert_eq!(got, [true, false, false, false, true]);
    }
}
