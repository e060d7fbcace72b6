//! Built-in analyzers for the GKE authentication checks (seed `000_88f879d7fcaa3a40.txt`), and
//! the Workload Identity facts they share.

use super::{Ctx, Draft, Outcome};
use crate::facts::{Facts, JsonDoc, Mode, Unavailable};
use crate::model::Evidence;
use crate::objpath::str_at;
use serde_json::Value;
use std::sync::Arc;

/// The KSA annotation that maps a Kubernetes service account to a Google service account.
pub const WI_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// The GKE built-in analyzers, by the name their specs use.
pub const BUILTINS: &[(&str, super::BuiltinFn)] = &[
    ("metadata-server-crashloop", metadata_server_crashloop),
    ("wi-binding-missing", wi_binding_missing),
];

/// The reason GKE-only checks give on other clusters.
pub const NOT_GKE: &str = "not a GKE cluster: the manifest's mode is not gke and the bundle has no GKE cluster description (gcloud/cluster.json) or GKE system pods";

/// A Kubernetes service account carrying the Workload Identity annotation.
#[derive(Debug, Clone)]
pub struct AnnotatedKsa {
    pub namespace: String,
    pub name: String,
    pub gsa: String,
    pub evidence: Evidence,
}

/// Every KSA with the WI annotation, in file order.
pub fn annotated_ksas(doc: &JsonDoc) -> Vec<AnnotatedKsa> {
    doc.items
        .iter()
        .filter_map(|item| {
            let gsa = item
                .value
                .get("metadata")?
                .get("annotations")?
                .get(WI_ANNOTATION)?
                .as_str()?;
            Some(AnnotatedKsa {
                namespace: str_at(&item.value, "metadata.namespace")
                    .unwrap_or("default")
                    .to_string(),
                name: str_at(&item.value, "metadata.name")
                    .unwrap_or("")
                    .to_string(),
                gsa: gsa.trim().to_string(),
                evidence: doc.item_line_evidence(item, WI_ANNOTATION),
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

/// `gke/metadata-server-crashloop`: a gke-metadata-server pod crash-looping or OOM-killed.
pub fn metadata_server_crashloop(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pods = match ctx.list("kubectl/pods.json") {
        Err(_) if ctx.facts.mode() != Mode::Gke => {
            return Ok(Outcome::NotEvaluated(NOT_GKE.into()));
        }
        r => r?,
    };
    let servers: Vec<_> = pods
        .items
        .iter()
        .filter(|i| {
            str_at(&i.value, "metadata.namespace") == Some("kube-system")
                && (str_at(&i.value, "metadata.name")
                    .is_some_and(|n| n.starts_with("gke-metadata-server-"))
                    || str_at(&i.value, "metadata.labels[\"k8s-app\"]")
                        == Some("gke-metadata-server"))
        })
        .collect();
    if servers.is_empty() {
        if ctx.facts.mode() != Mode::Gke {
            return Ok(Outcome::NotEvaluated(NOT_GKE.into()));
        }
        return Ok(Outcome::Pass);
    }
    let ksa_count = ctx
        .list("kubectl/serviceaccounts.json")
        .ok()
        .map(|d| d.items.len());
    let mut drafts = Vec::new();
    for item in servers {
        let statuses = item
            .value
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut reasons = Vec::new();
        let mut restarts = 0u64;
        for s in &statuses {
            restarts += s.get("restartCount").and_then(Value::as_u64).unwrap_or(0);
            if let Some(r) = s
                .pointer("/state/waiting/reason")
                .and_then(Value::as_str)
                .filter(|r| *r == "CrashLoopBackOff")
            {
                reasons.push(r.to_string());
            }
            if let Some(r) = s
                .pointer("/lastState/terminated/reason")
                .and_then(Value::as_str)
                .filter(|r| *r == "OOMKilled")
            {
                reasons.push(r.to_string());
            }
        }
        if reasons.is_empty() {
            continue;
        }
        reasons.dedup();
        let name = str_at(&item.value, "metadata.name")
            .unwrap_or("")
            .to_string();
        let node = str_at(&item.value, "spec.nodeName")
            .unwrap_or("(unscheduled)")
            .to_string();
        let cause = match ksa_count {
            Some(n) if n > 3000 => format!(
                "The cluster has {n} Kubernetes service accounts, over the 3,000 the metadata server is sized for: that is the likely cause of the crashes."
            ),
            Some(n) => format!(
                "The cluster has {n} Kubernetes service accounts (below 3,000, so their number is not the likely cause)."
            ),
            None => {
                "The service-account count is unknown: kubectl/serviceaccounts.json is not usable."
                    .to_string()
            }
        };
        let ev = doc_evidence(&pods, item, &reasons[0]);
        drafts.push(
            Draft::new()
                .var("pod", name)
                .var("node", node)
                .var("reasons", reasons.join(" and "))
                .var("restarts", restarts.to_string())
                .var(
                    "ksa_count",
                    ksa_count
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "unknown".into()),
                )
                .var("cause", cause)
                .evidence(ev),
        );
    }
    Ok(if drafts.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Findings(drafts)
    })
}

fn doc_evidence(doc: &Arc<JsonDoc>, item: &crate::facts::Item, needle: &str) -> Evidence {
    doc.item_line_evidence(item, &format!("\"{needle}\""))
}

/// The members a policy grants `role` to, with the line of each member.
fn role_members(policy: &JsonDoc, role: &str) -> Vec<(String, Evidence)> {
    let Some(bindings) = policy.value.get("bindings").and_then(Value::as_array) else {
        return Vec::new();
    };
    bindings
        .iter()
        .filter(|b| b.get("role").and_then(Value::as_str) == Some(role))
        .flat_map(|b| {
            b.get("members")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m.as_str().map(str::to_string))
        .map(|m| {
            let ev = policy.text.evidence_for(&format!("\"{m}\""));
            (m, ev)
        })
        .collect()
}

/// Splits `serviceAccount:POOL[NS/KSA]` into its parts.
fn parse_wi_member(m: &str) -> Option<(&str, &str, &str)> {
    let rest = m.strip_prefix("serviceAccount:")?;
    let (pool, tail) = rest.split_once('[')?;
    let (ns, ksa) = tail.strip_suffix(']')?.split_once('/')?;
    Some((pool, ns, ksa))
}

/// `gke/wi-binding-missing`: an annotated KSA whose GSA does not let it act as the GSA.
pub fn wi_binding_missing(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let sas = ctx.list("kubectl/serviceaccounts.json")?;
    let ksas = annotated_ksas(&sas);
    let cluster = ctx.json("gcloud/cluster.json").ok();
    let pool_set = cluster.as_ref().and_then(|c| workload_pool(&c.value));
    if ksas.is_empty() {
        return Ok(Outcome::NotEvaluated(format!(
            "Workload Identity is not in use: no Kubernetes service account carries the {WI_ANNOTATION} annotation"
        )));
    }
    let project = project_id(ctx.facts);
    let pool = match (pool_set, &project) {
        (Some(p), _) => p,
        (None, Some(p)) => format!("{p}.svc.id.goog"),
        (None, None) => {
            return Err(Unavailable {
                path: "gcloud/cluster.json".into(),
                reason: "the workload pool is unknown: gcloud/cluster.json has none and the project id is not recorded in manifest.json".into(),
            });
        }
    };
    let project_policy = ctx.json("gcloud/project-iam-policy.json");
    let mut drafts = Vec::new();
    let mut undecided: Vec<String> = Vec::new();
    for ksa in &ksas {
        let gsa_project = ksa
            .gsa
            .split_once('@')
            .and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"))
            .map(str::to_string);
        let Some(gsa_project) = gsa_project else {
            continue;
        }; // malformed: gke/wi-ksa-annotation-invalid reports it
        let member = format!("serviceAccount:{pool}[{}/{}]", ksa.namespace, ksa.name);
        let mut grants: Vec<(String, Evidence, &'static str)> = Vec::new();
        let mut read_any = false;
        let gsa_path = format!("gcloud/service-accounts/{}/iam-policy.json", ksa.gsa);
        let gsa_policy = ctx.json(&gsa_path);
        if let Ok(p) = &gsa_policy {
            read_any = true;
            grants.extend(
                role_members(p, "roles/iam.workloadIdentityUser")
                    .into_iter()
                    .map(|(m, e)| (m, e, "the service account's IAM policy")),
            );
        }
        // A project-level grant covers every GSA of that project.
        if Some(&gsa_project) == project.as_ref()
            && let Ok(p) = &project_policy
        {
            read_any = true;
            grants.extend(
                role_members(p, "roles/iam.workloadIdentityUser")
                    .into_iter()
                    .map(|(m, e)| (m, e, "the project IAM policy")),
            );
        }
        if !read_any {
            undecided.push(match &gsa_policy {
                Err(u) => u.reason.clone(),
                Ok(_) => gsa_path,
            });
            continue;
        }
        if grants.iter().any(|(m, _, _)| *m == member) {
            continue;
        }
        // Near misses: a grant for the same KSA elsewhere, or another KSA in this namespace.
        let mut near = Vec::new();
        let mut d = Draft::new().evidence(ksa.evidence.clone());
        for (m, ev, place) in &grants {
            let Some((p, ns, k)) = parse_wi_member(m) else {
                continue;
            };
            let what = match (p == pool, ns == ksa.namespace, k == ksa.name) {
                (true, false, true) => "the same KSA name in another namespace",
                (true, true, false) => "another KSA in the same namespace",
                (false, true, true) => "the same KSA in another project's workload pool",
                _ => continue,
            };
            near.push(format!("{place} grants {m} ({what})"));
            d = d.evidence(ev.clone());
        }
        if let Ok(p) = &gsa_policy {
            d = d.evidence(p.text.evidence(1, p.text.line_count().clamp(1, 40)));
        }
        let near_text = if near.is_empty() {
            String::new()
        } else {
            format!(" Near miss: {}.", near.join("; "))
        };
        drafts.push(
            d.var("namespace", ksa.namespace.as_str())
                .var("ksa", ksa.name.as_str())
                .var("gsa", ksa.gsa.as_str())
                .var("gsa_project", gsa_project)
                .var("member", member)
                .var("near_miss", near_text),
        );
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !undecided.is_empty() {
        return Ok(Outcome::NotEvaluated(format!(
            "cannot tell whether the bindings exist: {}",
            undecided.join("; ")
        )));
    }
    Ok(Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wi_members_parse() {
        assert_eq!(
            parse_wi_member("serviceAccount:p.svc.id.goog[ns/ksa]"),
            Some(("p.svc.id.goog", "ns", "ksa"))
        );
        assert_eq!(parse_wi_member("user:a@b.c"), None);
    }
}
