//! Which failures a platform check reports itself. The `k8s/*` checks are the first answer on
//! any cluster; where a `gke/*` or `kubeadm/*` check knows the cause, that check is the more
//! specific answer and the failure is reported once, by it. This module is the one place
//! that knows what the platform checks claim, so that a change of theirs is made here too.

use super::scheduling::{Unschedulable, Why};
use crate::checks::gke::logs::startup_failure_secs;
use crate::checks::kubeadm::pods::{failing_containers, is_dns_pod};
use crate::checks::kubeadm::taints::taints_asked_away;
use crate::cluster::{Pod, State};
use crate::facts::{Facts, Mode};
use std::sync::OnceLock;

/// The GKE checks run on every bundle not known to come from a kubeadm-built cluster.
pub fn gke_checks_run(facts: &Facts) -> bool {
    facts.mode() != Mode::Kubeadm
}

/// The kubeadm checks run on every bundle not known to come from GKE.
pub fn kubeadm_checks_run(facts: &Facts) -> bool {
    facts.mode() != Mode::Gke
}

/// A gke-metadata-server pod, as `gke/metadata-server-crashloop` finds them.
fn is_metadata_server(pod: &Pod) -> bool {
    pod.meta.namespace == "kube-system"
        && (pod.meta.name.starts_with("gke-metadata-server-")
            || pod.meta.label("k8s-app") == Some("gke-metadata-server"))
}

/// The platform check that reports this pod's crash-looping, OOM-killed or failing-to-start
/// containers, if one does:
/// - `gke/metadata-server-crashloop`: a gke-metadata-server pod crash-looping or OOM-killed;
/// - `kubeadm/pods-crashloop-after-init`: a kube-system pod in CrashLoopBackOff,
///   RunContainerError or Error on a kubeadm-built cluster (it names CoreDNS's own causes).
pub fn failing_pod(facts: &Facts, pod: &Pod) -> Option<&'static str> {
    if gke_checks_run(facts) && is_metadata_server(pod) {
        let failing = pod.containers.iter().any(|c| {
            c.state.waiting() == Some("CrashLoopBackOff")
                || matches!(&c.state, State::Terminated(t) if t.reason == "OOMKilled")
                || c.last.as_ref().is_some_and(|t| t.reason == "OOMKilled")
        });
        if failing {
            return Some("gke/metadata-server-crashloop");
        }
    }
    if kubeadm_checks_run(facts)
        && pod.meta.namespace == "kube-system"
        && !failing_containers(pod.value()).is_empty()
    {
        return Some("kubeadm/pods-crashloop-after-init");
    }
    None
}

/// The platform check that reports this Pending pod, if one does: CoreDNS waiting for a pod
/// network (`kubeadm/coredns-pending-no-cni`), or pods kept off control-plane nodes only by
/// the taint a kubeadm configuration asked to leave out (`kubeadm/taints-omitted`).
pub fn pending_pod(facts: &Facts, pod: &Pod, why: Option<&Unschedulable>) -> Option<&'static str> {
    if !kubeadm_checks_run(facts) {
        return None;
    }
    if is_dns_pod(pod.value()) {
        return Some("kubeadm/coredns-pending-no-cni");
    }
    let control_plane_taint = |w: &Why| match w {
        Why::Taint(None) => true,
        Why::Taint(Some(k)) => {
            k.starts_with("node-role.kubernetes.io/master")
                || k.starts_with("node-role.kubernetes.io/control-plane")
        }
        _ => false,
    };
    if let Some(u) = why
        && !u.refusals.is_empty()
        && u.refusals.iter().all(|r| control_plane_taint(&r.why))
        && taints_asked_away(facts)
    {
        return Some("kubeadm/taints-omitted");
    }
    None
}

/// The containers `gke/wi-startup-timeout` reports: authentication failures in their log
/// within the start-up window. Its own log pattern is used, from the embedded catalog.
pub fn startup_auth_failure(facts: &Facts, pod: &Pod, container: &str) -> Option<&'static str> {
    static PATTERN: OnceLock<Option<regex::bytes::Regex>> = OnceLock::new();
    if !gke_checks_run(facts) {
        return None;
    }
    let re = PATTERN
        .get_or_init(|| {
            let cat = crate::spec::Catalog::embedded().ok()?;
            let check = cat.get("gke/wi-startup-timeout")?;
            check
                .scans
                .iter()
                .find(|s| s.name == "authfail")
                .map(|s| s.regex.clone())
        })
        .as_ref()?;
    let base = format!(
        "kubectl/logs/{}/{}/{container}",
        pod.meta.namespace, pod.meta.name
    );
    let now = facts.collection_time();
    for path in [format!("{base}.log"), format!("{base}.previous.log")] {
        if facts.bundle.file(&path).is_none() {
            continue;
        }
        let Ok(text) = facts.text(&path) else {
            continue;
        };
        let hit = text.lines().any(|(_, l)| {
            re.is_match(l.as_bytes()) && startup_failure_secs(pod.value(), &path, l, now).is_some()
        });
        if hit {
            return Some("gke/wi-startup-timeout");
        }
    }
    None
}

/// Words of a node's Ready condition when no pod network is configured: the state
/// `kubeadm/coredns-pending-no-cni` reports, with the nodes' conditions as its evidence.
const NETWORK_NOT_READY: &[&str] = &[
    "cni config uninitialized",
    "cni plugin not initialized",
    "network plugin is not ready",
    "NetworkPluginNotReady",
    "NetworkReady=false",
];

/// Whether a node's Ready message is the missing pod network that `kubeadm/coredns-pending-no-cni`
/// reports on kubeadm-built clusters.
pub fn node_without_network(facts: &Facts, ready_message: &str) -> Option<&'static str> {
    (kubeadm_checks_run(facts) && NETWORK_NOT_READY.iter().any(|w| ready_message.contains(w)))
        .then_some("kubeadm/coredns-pending-no-cni")
}
