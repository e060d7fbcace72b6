//! Which platform a bundle's cluster runs on, and how we know.
//!
//! Checks are written for a platform (`applies_to` in their spec): a GKE check has nothing to
//! say about a kubeadm-built cluster, and the other way round. The engine asks this module once
//! per bundle and gives checks for another platform the status "not applicable"; when the
//! platform cannot be told, those checks are "not evaluated", never "pass".

use crate::cluster;
use crate::facts::Facts;
use crate::layout::Hint;
use crate::model::Evidence;
use std::fmt;

/// A cluster's platform, as far as the bundle tells.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Platform {
    Gke,
    Kubeadm,
    /// Another distribution, by its lower-case name (`k3s`, `aks`, `eks`, `openshift`, …).
    Other(String),
    Unknown,
}

impl Platform {
    /// The name specs use in `applies_to` and reports use in `bundle.platform`.
    pub fn name(&self) -> &str {
        match self {
            Platform::Gke => "gke",
            Platform::Kubeadm => "kubeadm",
            Platform::Other(n) => n,
            Platform::Unknown => "unknown",
        }
    }

    /// The name for a sentence: "GKE", "a kubeadm-built cluster", "k3s".
    pub fn describe(&self) -> String {
        match self {
            Platform::Gke => "GKE".into(),
            Platform::Kubeadm => "kubeadm".into(),
            Platform::Other(n) => n.clone(),
            Platform::Unknown => "an unknown platform".into(),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The platform and what it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    pub platform: Platform,
    /// How it was told, for a reason a user reads ("the manifest says mode kubeadm").
    pub because: String,
    /// The file and line it was read from, when there is one.
    pub evidence: Option<Evidence>,
}

/// Tells the platform from the bundle: the collector's own word first, then what the files show.
pub fn infer(facts: &Facts) -> Inferred {
    let because = |platform: Platform, why: &str, file: Option<&str>| Inferred {
        platform,
        because: why.to_string(),
        evidence: file.map(|f| Evidence {
            file: f.to_string(),
            line: 1,
            end_line: 1,
            excerpt: String::new(),
        }),
    };
    if let Some(mode) = facts.manifest().and_then(|m| m.mode.as_deref()) {
        let line = manifest_line(facts, "\"mode\"");
        let why = format!("the manifest says mode {mode}");
        let platform = match mode {
            "gke" => Platform::Gke,
            "kubeadm" => Platform::Kubeadm,
            _ => Platform::Unknown,
        };
        if platform != Platform::Unknown {
            return Inferred {
                platform,
                because: why,
                evidence: line,
            };
        }
    }
    // Another tool's bundle: what its data shows (node labels, versions, static pods…).
    if facts.bundle.layout != crate::layout::Layout::Kubetriage {
        return from_data(facts).unwrap_or_else(|| {
            because(
                Platform::Unknown,
                &format!(
                    "{} carries no manifest, and no node label, version, static pod or package in it names the platform",
                    facts.bundle.layout.describe()
                ),
                None,
            )
        });
    }
    if facts.bundle.file("gcloud/cluster.json").is_some() {
        return because(
            Platform::Gke,
            "the bundle holds a GKE cluster description (gcloud/cluster.json)",
            Some("gcloud/cluster.json"),
        );
    }
    if let Some(f) = facts
        .bundle
        .files
        .iter()
        .find(|f| f.path.starts_with("nodes/"))
    {
        return because(
            Platform::Kubeadm,
            "the bundle holds node files collected on a kubeadm node",
            Some(&f.path),
        );
    }
    from_data(facts).unwrap_or_else(|| {
        because(
            Platform::Unknown,
            "the bundle has no manifest naming it and no GKE or kubeadm node data",
            None,
        )
    })
}

/// The platform the cluster's own data names, as the engine's gate reads it.
fn from_data(facts: &Facts) -> Option<Inferred> {
    let found = from_data_found(facts, facts.bundle.view.hint.as_ref())?;
    let platform = match found.platform.as_str() {
        "gke" => Platform::Gke,
        "kubeadm" => Platform::Kubeadm,
        other => Platform::Other(other.to_string()),
    };
    Some(Inferred {
        platform,
        because: found.because,
        evidence: Some(found.evidence),
    })
}

/// A platform told from the data, with the line that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `gke`, `kubeadm`, `k3s`, `rke2`, `kurl`, `eks`, `aks`, `openshift`, `minikube`,
    /// `charmed-kubernetes`, `microk8s`.
    pub platform: String,
    pub because: String,
    pub evidence: Evidence,
}

/// (label prefix or key, platform, what it is).
const NODE_LABELS: &[(&str, &str, &str)] = &[
    (
        "cloud.google.com/gke-nodepool",
        "gke",
        "a GKE node-pool label",
    ),
    ("eks.amazonaws.com/", "eks", "an EKS node label"),
    ("kubernetes.azure.com/", "aks", "an AKS node label"),
    ("kurl.sh/cluster", "kurl", "a kURL node label"),
    ("node.openshift.io/", "openshift", "an OpenShift node label"),
    ("minikube.k8s.io/", "minikube", "a minikube node label"),
    (
        "juju-application",
        "charmed-kubernetes",
        "a Juju application label",
    ),
    ("microk8s.io/cluster", "microk8s", "a MicroK8s node label"),
];

/// (version part, platform).
const VERSIONS: &[(&str, &str)] = &[
    ("-gke.", "gke"),
    ("+k3s", "k3s"),
    ("+rke2", "rke2"),
    ("-eks-", "eks"),
];

const PROVIDERS: &[(&str, &str)] = &[
    ("gce://", "gke"),
    ("aws://", "eks"),
    ("azure://", "aks"),
    ("kind://", "kind"),
];

/// Distributions that build their clusters with kubeadm (`kubeadm init` and `join` under
/// their own installer), so the kubeadm checks apply to them.
const KUBEADM_BUILT: &[&str] = &["kurl", "minikube", "kind"];

/// Whether the catalog has checks of its own for a platform: GKE, kubeadm, and the
/// distributions kubeadm builds. Any other is checked only by the checks for every platform.
pub fn has_own_checks(p: &Platform) -> bool {
    match p {
        Platform::Gke | Platform::Kubeadm => true,
        Platform::Other(name) => KUBEADM_BUILT.contains(&name.as_str()),
        Platform::Unknown => false,
    }
}

/// The platform the cluster's own data names: node labels, provider IDs and version suffixes
/// first (they name it outright), then a distribution's namespaces, an importer's hint (a
/// sosreport's snaps), and last kubeadm's own marks (its node annotation, kubelet flags file,
/// `kubeadm-config` ConfigMap, static control-plane pods).
pub fn from_data_found(facts: &Facts, hint: Option<&Hint>) -> Option<Found> {
    if let Ok(nodes) = facts.list("kubectl/nodes.json") {
        let views = cluster::nodes(&nodes);
        // Labels first: a GKE node's label is surer than its provider (a GCE VM may run kubeadm).
        for n in &views {
            for (key, platform, what) in NODE_LABELS {
                // The first such key in sorted order, as a parsed object lists them.
                if let Some(k) = n
                    .meta
                    .labels
                    .iter()
                    .map(|(k, _)| &**k)
                    .filter(|k| k.starts_with(key))
                    .min()
                {
                    return Some(Found {
                        platform: platform.to_string(),
                        because: format!("{what} ({k})"),
                        evidence: n.at.line(&format!("\"{k}\"")),
                    });
                }
            }
        }
        for n in &views {
            let item = n.at.item;
            for ver in [n.kubelet_version, n.kube_proxy_version]
                .into_iter()
                .flatten()
            {
                if let Some((_, p)) = VERSIONS.iter().find(|(s, _)| ver.contains(s)) {
                    return Some(Found {
                        platform: p.to_string(),
                        because: format!("the nodes run Kubernetes {ver}"),
                        evidence: nodes.item_line_evidence(item, ver),
                    });
                }
            }
            if let Some(id) = n.provider_id
                && let Some((_, p)) = PROVIDERS.iter().find(|(s, _)| id.starts_with(s))
                // A GCE VM is GKE only with a GKE version; plain GCE may run kubeadm.
                && *p != "gke"
            {
                return Some(Found {
                    platform: p.to_string(),
                    because: format!(
                        "the node's provider ID is {}",
                        id.split('/').next().unwrap_or(id)
                    ),
                    evidence: nodes.item_line_evidence(item, "\"providerID\""),
                });
            }
            if n.meta.name == "minikube" {
                return Some(Found {
                    platform: "minikube".into(),
                    because: "the only node is called minikube".into(),
                    evidence: nodes.item_line_evidence(item, "\"minikube\""),
                });
            }
        }
    }
    if let Ok(v) = facts.json("kubectl/version.json")
        && let Some(ver) = v.value["serverVersion"]["gitVersion"].as_str()
        && let Some((_, p)) = VERSIONS.iter().find(|(s, _)| ver.contains(s))
    {
        return Some(Found {
            platform: p.to_string(),
            because: format!("the API server is {ver}"),
            evidence: v.text.evidence_for(ver),
        });
    }
    if let Ok(pods) = facts.list("kubectl/pods.json") {
        for pod in cluster::pods(&pods) {
            let (ns, item) = (pod.meta.namespace, pod.at.item);
            if ns == "kurl" {
                return Some(Found {
                    platform: "kurl".into(),
                    because: "pods run in kURL's namespace kurl".into(),
                    evidence: pods.item_line_evidence(item, "\"kurl\""),
                });
            }
            if ns.starts_with("openshift-") {
                return Some(Found {
                    platform: "openshift".into(),
                    because: format!("pods run in OpenShift's namespace {ns}"),
                    evidence: pods.item_line_evidence(item, ns),
                });
            }
        }
    }
    if let Ok(nodes) = facts.list("kubectl/nodes.json")
        && let Some(item) = cluster::nodes(&nodes)
            .iter()
            .find(|n| {
                n.meta
                    .annotation("kubeadm.alpha.kubernetes.io/cri-socket")
                    .is_some()
            })
            .map(|n| n.at.item)
    {
        return Some(Found {
            platform: "kubeadm".into(),
            because: "the node carries the cri-socket annotation kubeadm writes".into(),
            evidence: nodes.item_line_evidence(item, "kubeadm.alpha.kubernetes.io/cri-socket"),
        });
    }
    if let Some(h) = hint {
        return Some(Found {
            platform: h.platform.clone(),
            because: h.because.clone(),
            evidence: Evidence {
                file: h.file.clone(),
                line: h.line,
                end_line: h.line,
                excerpt: h.excerpt.clone(),
            },
        });
    }
    for f in facts.glob("nodes/*/kubelet/flags.env") {
        if let Ok(t) = facts.text(&f.path)
            && let Some(n) = t.find_line_in(1, t.line_count(), "KUBELET_KUBEADM_ARGS")
        {
            return Some(Found {
                platform: "kubeadm".into(),
                because: "a node's kubelet runs with the flags file kubeadm writes".into(),
                evidence: t.evidence(n, n),
            });
        }
    }
    if let Ok(cms) = facts.list("kubectl/configmaps.json")
        && let Some(item) = cms.items.iter().find(|i| {
            i.value["metadata"]["name"].as_str() == Some("kubeadm-config")
                && i.value["metadata"]["namespace"].as_str() == Some("kube-system")
        })
    {
        return Some(Found {
            platform: "kubeadm".into(),
            because: "kube-system holds the kubeadm-config ConfigMap".into(),
            evidence: cms.item_line_evidence(item, "\"kubeadm-config\""),
        });
    }
    if let Ok(pods) = facts.list("kubectl/pods.json") {
        // A mirror pod first; a pod merely named like one (hand-made data) after.
        let views = cluster::pods(&pods);
        let by_static = views.clone().filter(|p| is_static(p));
        for pod in by_static.chain(views) {
            let item = pod.at.item;
            let name = pod.meta.name;
            let node = pod.node.unwrap_or("");
            if pod.meta.namespace == "kube-system"
                && !node.is_empty()
                && name == format!("kube-apiserver-{node}")
            {
                return Some(Found {
                    platform: "kubeadm".into(),
                    because: format!(
                        "the API server runs as the static pod {name}, as kubeadm sets it up"
                    ),
                    evidence: pods.item_line_evidence(item, &format!("\"{name}\"")),
                });
            }
        }
    }
    None
}

/// A static (mirror) pod: owned by its Node, or marked as read from a file.
fn is_static(pod: &cluster::Pod) -> bool {
    let m = &pod.meta;
    m.annotation("kubernetes.io/config.source") == Some("file")
        || m.annotation("kubernetes.io/config.mirror").is_some()
        || m.owners.iter().any(|o| o.kind == "Node")
}

/// The manifest line holding `needle`, as evidence.
fn manifest_line(facts: &Facts, needle: &str) -> Option<Evidence> {
    let text = facts.text("manifest.json").ok()?;
    let (i, line) = text
        .text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(needle))?;
    Some(Evidence {
        file: "manifest.json".into(),
        line: i + 1,
        end_line: i + 1,
        excerpt: line.trim().to_string(),
    })
}

/// Why a check for `wanted` platforms says nothing on this bundle: `Ok(())` when it applies,
/// `Err(Gate)` otherwise.
pub fn gate(wanted: &[String], found: &Inferred) -> Result<(), Gate> {
    if wanted.is_empty() || wanted.iter().any(|w| w == found.platform.name()) {
        return Ok(());
    }
    // kURL, minikube and kind set their clusters up with kubeadm: what the kubeadm
    // troubleshooting page says holds for them.
    if wanted.iter().any(|w| w == "kubeadm") && KUBEADM_BUILT.contains(&found.platform.name()) {
        return Ok(());
    }
    let list = wanted
        .iter()
        .map(|w| match w.as_str() {
            "gke" => "GKE".to_string(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" or ");
    if found.platform == Platform::Unknown {
        return Err(Gate::Unknown(format!(
            "platform unknown: {}; this check applies to {list} clusters only",
            found.because
        )));
    }
    Err(Gate::OtherPlatform(format!(
        "applies to {list} clusters; this bundle comes from {} ({})",
        found.platform.describe(),
        found.because
    )))
}

/// Why a check does not run on a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// The bundle is from another platform: "not applicable".
    OtherPlatform(String),
    /// The platform cannot be told: "not evaluated".
    Unknown(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(p: Platform) -> Inferred {
        Inferred {
            platform: p,
            because: "test".into(),
            evidence: None,
        }
    }

    #[test]
    fn a_check_for_every_platform_always_applies() {
        assert_eq!(gate(&[], &found(Platform::Unknown)), Ok(()));
        assert_eq!(gate(&[], &found(Platform::Other("k3s".into()))), Ok(()));
    }

    #[test]
    fn another_platform_is_not_applicable_and_an_unknown_one_not_evaluated() {
        let gke = vec!["gke".to_string()];
        assert_eq!(gate(&gke, &found(Platform::Gke)), Ok(()));
        assert!(matches!(
            gate(&gke, &found(Platform::Kubeadm)),
            Err(Gate::OtherPlatform(r)) if r.contains("applies to GKE clusters")
        ));
        assert!(matches!(
            gate(&gke, &found(Platform::Unknown)),
            Err(Gate::Unknown(r)) if r.starts_with("platform unknown")
        ));
        assert!(matches!(
            gate(&gke, &found(Platform::Other("k3s".into()))),
            Err(Gate::OtherPlatform(r)) if r.contains("k3s")
        ));
    }

    #[test]
    fn kubeadm_checks_apply_to_distributions_built_with_kubeadm() {
        let kubeadm = vec!["kubeadm".to_string()];
        for d in ["kurl", "minikube", "kind"] {
            assert_eq!(
                gate(&kubeadm, &found(Platform::Other(d.into()))),
                Ok(()),
                "{d}"
            );
        }
        for d in ["k3s", "aks", "charmed-kubernetes"] {
            assert!(matches!(
                gate(&kubeadm, &found(Platform::Other(d.into()))),
                Err(Gate::OtherPlatform(_))
            ));
        }
        // GKE checks stay GKE's.
        let gke = vec!["gke".to_string()];
        assert!(gate(&gke, &found(Platform::Other("kurl".into()))).is_err());
    }
}
