//! `kubeadm/join-rbac-get-nodes`: kubeadm 1.18 and later look up the joining Node before TLS
//! bootstrap, as the bootstrap-token user; a control plane set up by kubeadm 1.17 never gave
//! that user `get` on nodes, so the join is refused.

use super::{package_version, server_version};
use crate::checks::{Ctx, Draft, Outcome, line_evidence};
use crate::facts::Unavailable;
use crate::model::Evidence;
use crate::objpath::str_at;
use crate::version::Version;
use serde_json::Value;

const BOOTSTRAP_GROUPS: &[&str] = &[
    "system:bootstrappers:kubeadm:default-node-token",
    "system:bootstrappers",
];

pub fn join_rbac_get_nodes(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let server = server_version(ctx);
    let node_re = regex::Regex::new(r#"(?:nodes \\?"|cannot get Node \\?")([^"\\]+)"#)
        .expect("fixed pattern");
    // The refusal itself, one finding per joining node (or per output when it names none).
    let mut drafts: Vec<Draft> = Vec::new();
    for m in ctx.matches_of("forbidden") {
        let node = node_re
            .captures(&m.text)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| format!("the node whose join output is {}", m.file));
        match drafts.iter_mut().find(|d| d.vars["node"] == node) {
            Some(d) => d.evidence.push(line_evidence(m)),
            None => {
                let d = Draft::new()
                    .var("node", node.as_str())
                    .var("user", format!("system:bootstrap:{}", m.captures["token"]))
                    .evidence(line_evidence(m));
                drafts.push(d);
            }
        }
    }
    let server_text = server
        .as_ref()
        .map(|(v, _)| v.text.clone())
        .unwrap_or_else(|| "(version not collected)".into());
    if !drafts.is_empty() {
        for d in &mut drafts {
            d.vars.insert("server".into(), server_text.clone());
            let joiner = d.vars["user"].clone();
            d.vars.insert("joiner".into(), joiner);
        }
        return Ok(Outcome::Findings(drafts));
    }
    let Some((server_v, server_ev)) = server else {
        return match ctx.json("kubectl/version.json") {
            Err(u) => Draft::missing("unreadable").var("why", u.reason),
            Ok(_) => Draft::missing("no-version"),
        }
        .not_evaluated();
    };
    if server_v.major_minor() >= (1, 18) {
        // kubeadm 1.18+ sets the permission up itself.
        return Ok(Outcome::Pass);
    }
    let joiners = newer_joiners(ctx);
    if joiners.is_empty() {
        return Ok(Outcome::Pass);
    }
    match bootstrap_may_get_nodes(ctx)? {
        true => Ok(Outcome::Pass),
        false => {
            let names: Vec<String> = joiners
                .iter()
                .map(|(what, v, _)| format!("{what} ({})", v.text))
                .collect();
            let mut d = Draft::new()
                .var("server", server_v.text.as_str())
                .var("joiner", names.join(", "))
                .variant("versions")
                .evidence(server_ev);
            for (_, _, ev) in joiners {
                d = d.evidence(ev);
            }
            Ok(Outcome::Findings(vec![d]))
        }
    }
}

/// kubeadm or kubelet versions 1.18 or later that join or will join: `kubeadm version`
/// output, kubeadm packages on nodes, and nodes' kubelets.
fn newer_joiners(ctx: &Ctx) -> Vec<(String, Version, Evidence)> {
    let newer = |v: &Version| v.major_minor() >= (1, 18);
    let mut out = Vec::new();
    for m in ctx.matches_of("kubeadm-version") {
        if let Some(v) = Version::parse(&m.captures["version"]).filter(newer) {
            out.push((format!("kubeadm in {}", m.file), v, line_evidence(m)));
        }
    }
    for node in ctx.facts.nodes() {
        if let Some((v, ev)) = package_version(ctx, &node, "kubeadm").filter(|(v, _)| newer(v)) {
            out.push((format!("kubeadm on node {node}"), v, ev));
        }
    }
    if let Ok(nodes) = ctx.list("kubectl/nodes.json") {
        for n in crate::cluster::nodes(&nodes) {
            let Some(kv) = n.kubelet_version else {
                continue;
            };
            if let Some(v) = Version::parse(kv).filter(newer) {
                let name = Some(n.meta.name).filter(|n| !n.is_empty()).unwrap_or("?");
                out.push((
                    format!("the kubelet of node {name}"),
                    v,
                    n.at.line("\"kubeletVersion\""),
                ));
            }
        }
    }
    out
}

/// Whether a ClusterRoleBinding gives the bootstrap token group `get` on nodes.
fn bootstrap_may_get_nodes(ctx: &Ctx) -> Result<bool, Unavailable> {
    let roles = ctx.list("kubectl/clusterroles.json")?;
    let bindings = ctx.list("kubectl/clusterrolebindings.json")?;
    let has = |v: &Value, key: &str, want: &[&str]| {
        v.get(key).and_then(Value::as_array).is_some_and(|a| {
            a.iter()
                .any(|x| x.as_str().is_some_and(|s| want.contains(&s)))
        })
    };
    let grants = |role: &str| {
        roles.items.iter().any(|r| {
            str_at(&r.value, "metadata.name") == Some(role)
                && r.value
                    .get("rules")
                    .and_then(Value::as_array)
                    .is_some_and(|rules| {
                        rules.iter().any(|rule| {
                            has(rule, "apiGroups", &["", "*"])
                                && has(rule, "resources", &["nodes", "*"])
                                && has(rule, "verbs", &["get", "*"])
                        })
                    })
        })
    };
    Ok(bindings.items.iter().any(|b| {
        let to_bootstrap = b
            .value
            .get("subjects")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|x| {
                    str_at(x, "kind") == Some("Group")
                        && str_at(x, "name").is_some_and(|n| BOOTSTRAP_GROUPS.contains(&n))
                })
            });
        to_bootstrap
            && str_at(&b.value, "roleRef.kind") == Some("ClusterRole")
            && str_at(&b.value, "roleRef.name").is_some_and(grants)
    }))
}
