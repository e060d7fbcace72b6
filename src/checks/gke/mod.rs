//! Built-in analyzers for the GKE authentication checks (seed `000_88f879d7fcaa3a40.txt`), and
//! the Workload Identity facts they share.
//!
//! Workload Identity is a chain, and each link has its check: the project's enabled services
//! (`wi-credentials-api-disabled`), the cluster's workload pool (`wi-pool-missing`), the node
//! pools' metadata mode (`wi-nodepool-metadata-mode`), the KSA annotation
//! (`wi-ksa-annotation-invalid`, `wi-ksa-annotation-missing`), the GSA's IAM policy
//! (`wi-binding-missing`), the network path to the metadata server (`wi-netpol-blocks-metadata`,
//! `istio-metadata-intercept`) and the metadata server itself (`metadata-server-crashloop`,
//! `ksa-count-high`, `control-plane-unavailable`). The log checks live in [`logs`].

mod chain;
mod istio;
pub(crate) mod logs;
pub mod netpol;
mod network;

use super::Outcome;
use crate::facts::{Facts, JsonDoc, Unavailable};
use crate::model::Evidence;
use crate::objpath::str_at;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// The KSA annotation that maps a Kubernetes service account to a Google service account.
pub const WI_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// The node pool label GKE puts on every node.
pub const NODEPOOL_LABEL: &str = "cloud.google.com/gke-nodepool";

/// The GKE checks whose logic is written in Rust, by id.
pub const BUILTINS: &[super::Builtin] = &[
    super::Builtin {
        id: "gke/control-plane-unavailable",
        run: logs::control_plane_unavailable,
        fills: &[
            "cluster", "globs", "http500", "location", "refused", "target",
        ],
    },
    super::Builtin {
        id: "gke/deploypatch-service-agent",
        run: logs::deploypatch_service_agent,
        fills: &[
            "cluster",
            "location_flag",
            "near",
            "number",
            "project",
            "why",
        ],
    },
    super::Builtin {
        id: "gke/istio-metadata-intercept",
        run: istio::istio_metadata_intercept,
        fills: &["ksa", "pods", "rev", "undecided", "why_ksa", "why_pool"],
    },
    super::Builtin {
        id: "gke/ksa-count-high",
        run: chain::ksa_count_high,
        fills: &["namespaces", "top_namespaces"],
    },
    super::Builtin {
        id: "gke/metadata-dns-failure",
        run: logs::metadata_dns_failure,
        fills: &["metadata_host", "source", "workload"],
    },
    super::Builtin {
        id: "gke/metadata-server-crashloop",
        run: chain::metadata_server_crashloop,
        fills: &["ksa_count", "reasons", "restarts"],
    },
    super::Builtin {
        id: "gke/rbac-forbidden",
        run: logs::rbac_forbidden,
        fills: &[
            "globs",
            "manifest",
            "member",
            "permission",
            "perms",
            "perms_csv",
            "project",
            "role_id",
            "scope",
            "target",
            "user",
            "verb",
        ],
    },
    super::Builtin {
        id: "gke/wi-binding-missing",
        run: chain::wi_binding_missing,
        fills: &[
            "cluster",
            "gsa",
            "gsa_project",
            "ksa",
            "location_flag",
            "member",
            "near_miss",
            "own_pool",
            "place",
            "undecided",
            "what",
        ],
    },
    super::Builtin {
        id: "gke/wi-credentials-api-disabled",
        run: chain::wi_credentials_api_disabled,
        fills: &[
            "ksas", "pool", "project", "services", "state", "why_ksa", "why_pool",
        ],
    },
    super::Builtin {
        id: "gke/wi-ksa-annotation-invalid",
        run: chain::wi_ksa_annotation_invalid,
        fills: &[
            "account",
            "domain",
            "gsa_name",
            "gsa_project",
            "ksa",
            "project",
            "value",
        ],
    },
    super::Builtin {
        id: "gke/wi-ksa-annotation-missing",
        run: logs::wi_ksa_annotation_missing,
        fills: &["cluster", "ksa", "location_flag", "pods", "pool", "project"],
    },
    super::Builtin {
        id: "gke/wi-netpol-blocks-metadata",
        run: network::wi_netpol_blocks_metadata,
        fills: &[
            "cidr",
            "endpoint",
            "ip",
            "near_miss",
            "off",
            "pods",
            "policies",
            "policy",
            "port",
            "ports",
            "selector",
            "version",
            "why_ksa",
            "why_pool",
        ],
    },
    super::Builtin {
        id: "gke/wi-nodepool-metadata-mode",
        run: chain::wi_nodepool_metadata_mode,
        fills: &[
            "cluster",
            "location_flag",
            "mode",
            "pending",
            "pool",
            "running",
            "why_ksa",
            "why_pool",
        ],
    },
    super::Builtin {
        id: "gke/wi-pool-missing",
        run: chain::wi_pool_missing,
        fills: &[
            "cluster",
            "expected_pool",
            "ksas",
            "location_flag",
            "pool",
            "pool_commands",
        ],
    },
    super::Builtin {
        id: "gke/wi-startup-timeout",
        run: logs::wi_startup_timeout,
        fills: &["seconds", "started", "window", "workload"],
    },
];

/// A Kubernetes service account carrying the Workload Identity annotation.
#[derive(Debug, Clone)]
pub struct AnnotatedKsa {
    pub namespace: String,
    pub name: String,
    /// The annotation value, trimmed.
    pub gsa: String,
    /// The annotation value exactly as written.
    pub raw: String,
    pub evidence: Evidence,
}

/// Every KSA with the WI annotation, in file order.
pub fn annotated_ksas(doc: &JsonDoc) -> Vec<AnnotatedKsa> {
    crate::cluster::objects(doc)
        .iter()
        .filter_map(|o| {
            let raw = o.meta.annotation(WI_ANNOTATION)?;
            Some(AnnotatedKsa {
                namespace: o.namespace_or_default().to_string(),
                name: o.meta.name.to_string(),
                gsa: raw.trim().to_string(),
                raw: raw.to_string(),
                evidence: o.at.line(WI_ANNOTATION),
            })
        })
        .collect()
}

/// The cluster's project id: the manifest's, else the cluster's selfLink.
pub fn project_id(facts: &Facts) -> Option<String> {
    if let Some(p) = facts
        .manifest()
        .and_then(|m| m.cluster.project.clone())
        .filter(|p| !p.is_empty())
    {
        return Some(p);
    }
    let cluster = facts.json("gcloud/cluster.json").ok()?;
    let link = str_at(&cluster.value, "selfLink")?;
    let rest = link.split("/projects/").nth(1)?;
    Some(rest.split('/').next()?.to_string())
}

/// The project's number: `projectNumber` of `gcloud projects describe` (a string in gcloud's
/// JSON, a number if someone rewrote it), the `projects/NUMBER` name of the Resource Manager v3
/// shape, else the `parent` of the enabled services, which gcloud names by number.
pub fn project_number(facts: &Facts) -> Option<String> {
    let digits =
        |s: &str| (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_string());
    if let Ok(p) = facts.json("gcloud/project.json") {
        let n = match p.value.get("projectNumber") {
            Some(Value::String(s)) => digits(s.trim()),
            Some(Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
            _ => str_at(&p.value, "name")
                .and_then(|n| n.strip_prefix("projects/"))
                .and_then(digits),
        };
        if n.is_some() {
            return n;
        }
    }
    let services = facts.json("gcloud/services-enabled.json").ok()?;
    let first = if services.is_list {
        services.items.first().map(|i| i.value())
    } else {
        services
            .value
            .get("services")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
    }?;
    str_at(first, "parent")
        .and_then(|p| p.strip_prefix("projects/"))
        .and_then(digits)
}

/// The cluster's name: the cluster description's, else the manifest's.
pub fn cluster_name(facts: &Facts) -> String {
    facts
        .json("gcloud/cluster.json")
        .ok()
        .and_then(|c| str_at(&c.value, "name").map(str::to_string))
        .or_else(|| facts.manifest().and_then(|m| m.cluster.name.clone()))
        .unwrap_or_else(|| "CLUSTER_NAME".into())
}

/// The cluster's location (zone or region): the cluster description's (`zone` in descriptions
/// older than the `location` field), else the manifest's.
pub fn cluster_location(facts: &Facts) -> Option<String> {
    facts
        .json("gcloud/cluster.json")
        .ok()
        .and_then(|c| {
            str_at(&c.value, "location")
                .or_else(|| str_at(&c.value, "zone"))
                .filter(|l| !l.is_empty())
                .map(str::to_string)
        })
        .or_else(|| facts.manifest().and_then(|m| m.cluster.location.clone()))
        .filter(|l| !l.is_empty())
}

/// A zone (`us-central1-a`) has three `-`-separated parts, a region (`us-central1`) two. The
/// deprecated `zone` field equals `location` even for regional clusters, so it cannot tell.
pub fn is_zonal(location: &str) -> bool {
    location.split('-').count() >= 3
}

/// `--location=LOC` for gcloud container commands (or a placeholder the user fills in).
pub fn location_flag(facts: &Facts) -> String {
    format!(
        "--location={}",
        cluster_location(facts).unwrap_or_else(|| "LOCATION".into())
    )
}

/// The cluster's workload pool (`workloadIdentityConfig.workloadPool`, or the older
/// `identityNamespace`), if set.
pub fn workload_pool(cluster: &Value) -> Option<String> {
    [
        "workloadIdentityConfig.workloadPool",
        "workloadIdentityConfig.identityNamespace",
    ]
    .iter()
    .find_map(|p| {
        str_at(cluster, p)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })
}

/// What the bundle says about Workload Identity use.
pub struct WiUse {
    pub cluster: Result<Arc<JsonDoc>, Unavailable>,
    pub sas: Result<Arc<JsonDoc>, Unavailable>,
    pub pool: Option<String>,
    pub ksas: Vec<AnnotatedKsa>,
}

impl WiUse {
    /// Reads the cluster description and the service accounts; fails only when neither is usable.
    pub fn read(ctx: &super::Ctx) -> Result<WiUse, Unavailable> {
        let cluster = ctx.facts.json("gcloud/cluster.json");
        let sas = ctx.facts.list("kubectl/serviceaccounts.json");
        if let (Err(a), Err(b)) = (&cluster, &sas) {
            let (a, b) = (a.to_string(), b.to_string());
            return Err(Unavailable {
                path: "gcloud/cluster.json".into(),
                reason: ctx.phrase("wi-use-unknown", &[("why_pool", &a), ("why_ksa", &b)]),
            });
        }
        let pool = cluster.as_ref().ok().and_then(|c| workload_pool(&c.value));
        let ksas = sas.as_ref().map(|d| annotated_ksas(d)).unwrap_or_default();
        Ok(WiUse {
            cluster,
            sas,
            pool,
            ksas,
        })
    }

    pub fn in_use(&self) -> bool {
        self.pool.is_some() || !self.ksas.is_empty()
    }

    /// Why the check does not apply, naming what was looked at.
    pub fn not_in_use(&self) -> Outcome {
        let d = match (&self.cluster, &self.sas) {
            (Ok(_), Ok(_)) => super::Draft::missing("wi-unused"),
            (Err(p), Ok(_)) => {
                super::Draft::missing("wi-unused-pool-unknown").var("why_pool", &p.reason)
            }
            (Ok(_), Err(s)) => {
                super::Draft::missing("wi-unused-ksa-unknown").var("why_ksa", &s.reason)
            }
            (Err(p), Err(s)) => super::Draft::missing("wi-unknown")
                .var("why_pool", &p.reason)
                .var("why_ksa", &s.reason),
        };
        Outcome::Missing(d)
    }

    /// (namespace, name) of every annotated KSA.
    pub fn ksa_set(&self) -> HashSet<(String, String)> {
        self.ksas
            .iter()
            .map(|k| (k.namespace.clone(), k.name.clone()))
            .collect()
    }

    /// The evidence that WI is in use: the pool line, else the first annotation.
    pub fn evidence(&self) -> Option<Evidence> {
        if self.pool.is_some()
            && let Ok(c) = &self.cluster
        {
            return Some(c.text.evidence_for("\"workloadPool\""));
        }
        self.ksas.first().map(|k| k.evidence.clone())
    }
}

/// Evidence for a top-level part of a gcloud resource: the line of its own `selfLink`, which
/// is unique in the file, else the first line.
pub fn resource_evidence(doc: &JsonDoc) -> Evidence {
    match str_at(&doc.value, "selfLink") {
        Some(link) => doc.text.evidence_for(&format!("\"{link}\"")),
        None => doc.text.evidence(1, 1),
    }
}

/// The collector's record of a source, as evidence: the line of its `stderr` in manifest.json.
pub fn manifest_source_evidence(facts: &Facts, path: &str) -> Option<Evidence> {
    let text = facts.text("manifest.json").ok()?;
    let at = text
        .lines()
        .find(|(_, l)| l.contains(&format!("\"{path}\"")) && l.contains("\"path\""))?;
    let n = text
        .find_line_in(at.0, (at.0 + 40).min(text.line_count()), "\"stderr\"")
        .unwrap_or(at.0);
    Some(text.evidence(n, n))
}

/// When the collector asked for a GSA's IAM policy and gcloud said the account does not exist:
/// the evidence of that answer.
pub fn gsa_not_found(facts: &Facts, gsa: &str) -> Option<Evidence> {
    let path = format!("gcloud/service-accounts/{gsa}/iam-policy.json");
    let src = facts.manifest()?.source(&path)?;
    if src.status() == crate::manifest::SourceStatus::Ok {
        return None;
    }
    let said = format!(
        "{} {}",
        src.stderr.as_deref().unwrap_or(""),
        src.error.as_deref().unwrap_or("")
    );
    let gone = said.contains("NOT_FOUND")
        || said.contains("does not exist")
        || said.contains("Unknown service account");
    if !gone {
        return None;
    }
    manifest_source_evidence(facts, &path)
}

/// "a, b, c and 4 more" for lists of names in summaries.
pub fn name_list(names: &[String], max: usize) -> String {
    if names.len() <= max {
        return names.join(", ");
    }
    format!("{} and {} more", names[..max].join(", "), names.len() - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zonal_or_regional_by_location_parts() {
        assert!(is_zonal("us-central1-a"));
        assert!(is_zonal("europe-west4-c"));
        assert!(!is_zonal("europe-west4"));
        assert!(!is_zonal("us-central1"));
    }

    #[test]
    fn long_name_lists_are_cut() {
        let n: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(name_list(&n, 3), "a, b, c");
        assert_eq!(name_list(&n, 2), "a, b and 1 more");
    }
}
