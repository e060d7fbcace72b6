//! Which failures a platform check reports itself. The `k8s/*` checks are the first answer on
//! any cluster; where a `gke/*` or `kubeadm/*` check knows the cause, that check is the more
//! specific answer and the failure is reported once, by it. This module is the one place
//! that knows what the platform checks claim, so that a change of theirs is made here too;
//! whether a platform check runs at all is asked of the engine's own platform gate.

use super::scheduling::{Unschedulable, Why};
use crate::checks::gke::logs::startup_failure_secs;
use crate::checks::kubeadm::pods::{failing_containers, is_dns_pod};
use crate::checks::kubeadm::taints::taints_asked_away;
use crate::cluster::{Pod, State};
use crate::facts::Facts;
use crate::platform;
use crate::spec::Catalog;
use std::sync::OnceLock;

/// The embedded catalog, for what the platform checks declare (their platforms, their log
/// patterns): read once.
fn catalog() -> Option<&'static Catalog> {
    static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::embedded().ok()).as_ref()
}

/// A gke-metadata-server pod, as `gke/metadata-server-crashloop` finds them.
fn is_metadata_server(pod: &Pod) -> bool {
    pod.meta.namespace == "kube-system"
        && (pod.meta.name.starts_with("gke-metadata-server-")
            || pod.meta.label("k8s-app") == Some("gke-metadata-server"))
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

/// What the platform checks claim on one bundle: made once per check run, asked per object.
pub struct Claims<'a, 'b> {
    facts: &'a Facts<'b>,
    found: platform::Inferred,
}

impl<'a, 'b> Claims<'a, 'b> {
    pub fn new(facts: &'a Facts<'b>) -> Self {
        Claims {
            facts,
            found: platform::infer(facts),
        }
    }

    /// Whether the check `id` runs on this bundle: the engine's platform gate on its
    /// `applies_to`.
    fn runs(&self, id: &str) -> bool {
        catalog()
            .and_then(|c| c.get(id))
            .is_some_and(|c| platform::gate(&c.spec.applies_to, &self.found).is_ok())
    }

    /// The platform check that reports this pod's crash-looping, OOM-killed or failing-to-start
    /// containers, if one does:
    /// - `gke/metadata-server-crashloop`: a gke-metadata-server pod crash-looping or OOM-killed;
    /// - `kubeadm/pods-crashloop-after-init`: a kube-system pod in CrashLoopBackOff,
    ///   RunContainerError or Error on a kubeadm-built cluster (it names CoreDNS's own causes).
    pub fn failing_pod(&self, pod: &Pod) -> Option<&'static str> {
        if is_metadata_server(pod) && self.runs("gke/metadata-server-crashloop") {
            let failing = pod.containers.iter().any(|c| {
                c.state.waiting() == Some("CrashLoopBackOff")
                    || matches!(&c.state, State::Terminated(t) if t.reason == "OOMKilled")
                    || c.last.as_ref().is_some_and(|t| t.reason == "OOMKilled")
            });
            if failing {
                return Some("gke/metadata-server-crashloop");
            }
        }
        if pod.meta.namespace == "kube-system"
            && !failing_containers(pod).is_empty()
            && self.runs("kubeadm/pods-crashloop-after-init")
        {
            return Some("kubeadm/pods-crashloop-after-init");
        }
        None
    }

    /// The platform check that reports this Pending pod, if one does: CoreDNS waiting for a pod
    /// network (`kubeadm/coredns-pending-no-cni`), or pods kept off control-plane nodes only by
    /// the taint a kubeadm configuration asked to leave out (`kubeadm/taints-omitted`).
    pub fn pending_pod(&self, pod: &Pod, why: Option<&Unschedulable>) -> Option<&'static str> {
        if is_dns_pod(pod) && self.runs("kubeadm/coredns-pending-no-cni") {
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
            && self.runs("kubeadm/taints-omitted")
            && taints_asked_away(self.facts)
        {
            return Some("kubeadm/taints-omitted");
        }
        None
    }

    /// The containers `gke/wi-startup-timeout` reports: authentication failures in their log
    /// within the start-up window. Its own log pattern is used, from the embedded catalog.
    pub fn startup_auth_failure(&self, pod: &Pod, container: &str) -> Option<&'static str> {
        const ID: &str = "gke/wi-startup-timeout";
        if !self.runs(ID) {
            return None;
        }
        let re = &catalog()?
            .get(ID)?
            .scans
            .iter()
            .find(|s| s.name == "authfail")?
            .regex;
        let base = format!(
            "kubectl/logs/{}/{}/{container}",
            pod.meta.namespace, pod.meta.name
        );
        let now = self.facts.collection_time();
        for path in [format!("{base}.log"), format!("{base}.previous.log")] {
            if self.facts.bundle.file(&path).is_none() {
                continue;
            }
            let Ok(text) = self.facts.text(&path) else {
                continue;
            };
            let hit = text.lines().any(|(_, l)| {
                re.is_match(l.as_bytes()) && startup_failure_secs(pod, &path, l, now).is_some()
            });
            if hit {
                return Some("gke/wi-startup-timeout");
            }
        }
        None
    }

    /// Whether a node's Ready message is the missing pod network that `kubeadm/coredns-pending-no-cni`
    /// reports on kubeadm-built clusters.
    pub fn node_without_network(&self, ready_message: &str) -> Option<&'static str> {
        (NETWORK_NOT_READY.iter().any(|w| ready_message.contains(w))
            && self.runs("kubeadm/coredns-pending-no-cni"))
        .then_some("kubeadm/coredns-pending-no-cni")
    }
}
