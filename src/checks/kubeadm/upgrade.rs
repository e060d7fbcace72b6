//! `kubeadm/upgrade-plan-external-etcd`: kubeadm before 1.19 times out in `upgrade plan` when
//! it checks an external etcd's version. Harmless: `kubeadm upgrade apply` works.

use super::package_version;
use crate::checks::{Ctx, Draft, Outcome, line_evidence};
use crate::facts::Unavailable;
use crate::model::Evidence;
use crate::objpath::str_at;
use crate::version::Version;
use serde_json::Value;

pub fn upgrade_plan_external_etcd(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let fatal = ctx.matches_of("plan-fatal");
    if fatal.is_empty() {
        if ctx.scanned("plan-fatal") == 0 {
            return Draft::missing("default").not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let Some(etcd) = external_etcd(ctx) else {
        return Draft::missing("no-config").not_evaluated();
    };
    let Some((endpoints, etcd_ev)) = etcd else {
        // Stacked etcd: the timeout has another cause.
        return Ok(Outcome::Pass);
    };
    let versions = ctx.matches_of("kubeadm-version");
    let mut drafts = Vec::new();
    let mut files: Vec<&str> = fatal.iter().map(|m| &*m.file).collect();
    files.dedup();
    for file in files {
        // The version line of the same output first, else any recorded kubeadm version.
        let from_output = versions
            .iter()
            .filter(|m| &*m.file == file)
            .chain(versions.iter())
            .find_map(|m| {
                let v = m
                    .captures
                    .get("version")
                    .or_else(|| m.captures.get("gitversion"))?;
                Some((Version::parse(v)?, line_evidence(m)))
            });
        let version = from_output.or_else(|| {
            ctx.facts
                .nodes()
                .iter()
                .find_map(|n| package_version(ctx, n, "kubeadm"))
        });
        let Some((version, version_ev)) = version else {
            return Draft::missing("no-version")
                .var("file", file)
                .not_evaluated();
        };
        if version.major_minor() >= (1, 19) {
            continue;
        }
        let mut d = Draft::new()
            .var("file", file)
            .var("version", version.text.as_str())
            .var("endpoints", endpoints.as_str());
        d.evidence = fatal
            .iter()
            .filter(|m| &*m.file == file)
            .map(|m| line_evidence(m))
            .collect();
        d.evidence.push(version_ev);
        d.evidence.push(etcd_ev.clone());
        drafts.push(d);
    }
    if drafts.is_empty() {
        return Ok(Outcome::Pass);
    }
    Ok(Outcome::Findings(drafts))
}

/// `None`: no ClusterConfiguration found; `Some(None)`: etcd is local (stacked);
/// `Some(Some((endpoints, evidence)))`: external etcd.
fn external_etcd(ctx: &Ctx) -> Option<Option<(String, Evidence)>> {
    let mut found = false;
    for node in ctx.facts.nodes() {
        let Ok(doc) = ctx.facts.yaml(&format!("nodes/{node}/kubeadm/config.yaml")) else {
            continue;
        };
        for d in &doc.docs {
            if !is_cluster_config(d) {
                continue;
            }
            found = true;
            if let Some((eps, key)) = external_endpoints(d) {
                return Some(Some((eps, doc.text.evidence_for(key))));
            }
        }
    }
    if let Ok(cms) = ctx.list("kubectl/configmaps.json")
        && let Some(cm) = crate::cluster::object_named(&cms, "kube-system", "kubeadm-config")
    {
        let item = cm.at.item;
        for key in ["ClusterConfiguration", "MasterConfiguration"] {
            let Some(text) = item
                .value
                .pointer(&format!("/data/{key}"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let Ok(docs) = crate::yaml::parse_documents(text) else {
                continue;
            };
            found = true;
            if let Some((eps, key)) = docs.iter().find_map(external_endpoints) {
                return Some(Some((eps, cms.item_line_evidence(item, key))));
            }
        }
    }
    found.then_some(None)
}

fn is_cluster_config(d: &Value) -> bool {
    matches!(
        str_at(d, "kind"),
        Some("ClusterConfiguration") | Some("MasterConfiguration")
    )
}

/// The external etcd's endpoints: `etcd.external` from v1alpha2 on; in v1alpha1 (kubeadm 1.9
/// and 1.10) a non-empty `etcd.endpoints` list is what makes etcd external. With the key to
/// find the evidence line by.
fn external_endpoints(d: &Value) -> Option<(String, &'static str)> {
    let list = |v: &Value| -> Vec<String> {
        crate::objpath::str_list(v.get("endpoints"))
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let (eps, key) = match d.pointer("/etcd/external") {
        Some(ext) if ext.is_object() => (list(ext), "external:"),
        _ => {
            let old = d.get("etcd").map(list).unwrap_or_default();
            if old.is_empty() {
                return None;
            }
            (old, "endpoints:")
        }
    };
    let eps = if eps.is_empty() {
        "(no endpoints listed)".into()
    } else {
        eps.join(",")
    };
    Some((eps, key))
}
