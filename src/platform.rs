//! Which platform a bundle's cluster runs on, and how we know.
//!
//! Checks are written for a platform (`applies_to` in their spec): a GKE check has nothing to
//! say about a kubeadm-built cluster, and the other way round. The engine asks this module once
//! per bundle and gives checks for another platform the status "not applicable"; when the
//! platform cannot be told, those checks are "not evaluated", never "pass".

use crate::facts::Facts;
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
    because(
        Platform::Unknown,
        "the bundle has no manifest naming it and no GKE or kubeadm node data",
        None,
    )
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
}
