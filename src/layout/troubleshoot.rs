//! Replicated troubleshoot support and preflight bundles, every format from the 2021 bare
//! arrays to today's typed lists with `items: null`.
//!
//! `cluster-resources/<kind>/<namespace>.json` lists are merged into `kubectl/<kind>.json`;
//! pod logs `cluster-resources/pods/logs/<ns>/<pod>/<c>[-previous].log` become
//! `kubectl/logs/<ns>/<pod>/<c>[.previous].log`, the two told apart by the pod's container
//! names; host collectors are placed under `nodes/<node>/` by the command that produced them
//! (their `-info.json`), never by the collector's name, which the spec's author chose. The
//! `logs` collector's symbolic links duplicate real files and are not read. `analysis.json`
//! holds troubleshoot's own verdicts.

use super::lists::ListBuilder;
use super::node::{self, Conv};
use super::{Containers, Input, Segment, ToolVerdict, View};
use serde_json::Value;
use std::sync::Arc;

/// (troubleshoot folder or file, our list, list kind, API version, since which troubleshoot).
const PER_NAMESPACE: &[(&str, &str, &str, &str)] = &[
    ("pods", "pods.json", "PodList", "v1"),
    ("events", "events.json", "EventList", "v1"),
    (
        "serviceaccounts",
        "serviceaccounts.json",
        "ServiceAccountList",
        "v1",
    ),
    (
        "network-policy",
        "networkpolicies.json",
        "NetworkPolicyList",
        "networking.k8s.io/v1",
    ),
    ("configmaps", "configmaps.json", "ConfigMapList", "v1"),
    ("daemonsets", "daemonsets.json", "DaemonSetList", "apps/v1"),
    (
        "deployments",
        "deployments.json",
        "DeploymentList",
        "apps/v1",
    ),
    (
        "statefulsets",
        "statefulsets.json",
        "StatefulSetList",
        "apps/v1",
    ),
    (
        "roles",
        "roles.json",
        "RoleList",
        "rbac.authorization.k8s.io/v1",
    ),
    (
        "rolebindings",
        "rolebindings.json",
        "RoleBindingList",
        "rbac.authorization.k8s.io/v1",
    ),
];

/// Cluster-scoped lists: (troubleshoot names, our list).
const CLUSTER: &[(&[&str], &str)] = &[
    (&["nodes.json"], "nodes.json"),
    (&["clusterroles.json"], "clusterroles.json"),
    (
        &["clusterrolebindings.json", "clusterRoleBindings.json"],
        "clusterrolebindings.json",
    ),
];

/// Why a kind may be missing from a troubleshoot bundle that has `cluster-resources/`.
fn why_missing(dir: &str) -> &'static str {
    match dir {
        "serviceaccounts" | "configmaps" => {
            "troubleshoot collects them since v0.70.3; this bundle is older or its spec excluded them"
        }
        "daemonsets" => "troubleshoot collects them since v0.69.0; this bundle is older",
        "network-policy" | "roles" | "rolebindings" => {
            "this troubleshoot version or its spec did not collect them"
        }
        _ => "the collecting user could not list them, or the spec excluded them",
    }
}

/// Finds the bundle root: the folder holding `version.yaml` or `cluster-resources/`.
fn base(input: &Input) -> String {
    for f in input.files {
        for marker in [
            "version.yaml",
            "cluster-resources/",
            "cluster-info/",
            "host-collectors/",
        ] {
            if let Some(i) = f.path.find(marker)
                && (i == 0 || f.path.as_bytes()[i - 1] == b'/')
            {
                return f.path[..i].to_string();
            }
        }
    }
    String::new()
}

pub fn import(input: &Input, view: &mut View) -> std::io::Result<()> {
    let base = base(input);
    let at = |p: &str| format!("{base}{p}");
    let mut containers = Containers::new();
    let has_resources = input
        .files
        .iter()
        .any(|f| f.path.starts_with(&at("cluster-resources/")));

    for (dir, ours, kind, api) in PER_NAMESPACE {
        let prefix = at(&format!("cluster-resources/{dir}/"));
        let files: Vec<_> = input
            .files
            .iter()
            .filter(|f| {
                f.path
                    .strip_prefix(&prefix)
                    .is_some_and(|rest| rest.ends_with(".json") && !rest.contains('/'))
            })
            .collect();
        let logical = format!("kubectl/{ours}");
        if files.is_empty() {
            if has_resources {
                view.absent(
                    &logical,
                    format!(
                        "{logical}: this troubleshoot bundle has no cluster-resources/{dir}/ ({})",
                        why_missing(dir)
                    ),
                );
            }
            continue;
        }
        let mut lb = ListBuilder::new(kind, api);
        for f in files {
            let shown = input.shown(&f.path);
            if f.size == 0 {
                view.problem(
                    shown,
                    format!("empty: troubleshoot could not list this namespace's {dir}, which {logical} lacks"),
                );
                continue;
            }
            let bytes = input.read(&f.path)?;
            match lb.add_file(&shown, &bytes) {
                Ok(items) if *dir == "pods" => note_containers(&items, &mut containers),
                Ok(_) => {}
                Err(e) => {
                    let problem = super::lists::list_problem(&shown, &e, &logical);
                    view.problem(shown, problem)
                }
            }
        }
        let (bytes, segs) = lb.finish();
        view.build(&logical, &bytes, segs)?;
    }
    for (names, ours) in CLUSTER {
        let logical = format!("kubectl/{ours}");
        let found = names
            .iter()
            .map(|n| at(&format!("cluster-resources/{n}")))
            .find(|p| input.file(p).is_some_and(|f| f.size > 0));
        match found {
            Some(p) => view.alias(&logical, input, &p),
            None if has_resources => {
                let errors = names
                    .iter()
                    .map(|n| {
                        at(&format!(
                            "cluster-resources/{}",
                            n.replace(".json", "-errors.json")
                        ))
                    })
                    .find_map(|p| input.read_string(&p).map(|t| (p, t)));
                let reason = match errors {
                    Some((p, t)) => format!(
                        "{logical}: troubleshoot could not list it ({}: {})",
                        input.shown(&p),
                        t.split_whitespace().collect::<Vec<_>>().join(" ")
                    ),
                    None => format!(
                        "{logical}: this troubleshoot bundle has no cluster-resources/{}",
                        names[0]
                    ),
                };
                view.absent(&logical, reason);
            }
            None => {}
        }
    }
    version(input, view, &at("cluster-info/cluster_version.json"))?;
    logs(
        input,
        view,
        &at("cluster-resources/pods/logs/"),
        &containers,
    );
    host_collectors(input, view, &at("host-collectors/"));
    verdicts(input, view, &at("analysis.json"));

    view.absent("gcloud/", "a troubleshoot bundle carries no gcloud data");
    view.absent(
        "captured/",
        "a troubleshoot bundle carries no terminal output captured by a person",
    );
    if !view.has_prefix("nodes/") {
        view.absent(
        "nodes/",
        "this troubleshoot bundle has no host collectors (node journals, kubelet and runtime files come only from a spec with hostCollectors)",
    );
    }
    view.absent(
        "kubectl/logs/",
        "troubleshoot collects the logs of unhealthy pods only, unless its spec has a logs collector",
    );
    Ok(())
}

/// Records each pod's container names (init, regular and ephemeral).
pub fn note_containers(items: &[Value], out: &mut Containers) {
    for p in items {
        let m = &p["metadata"];
        let (Some(ns), Some(name)) = (m["namespace"].as_str(), m["name"].as_str()) else {
            continue;
        };
        let mut names = Vec::new();
        for key in ["initContainers", "containers", "ephemeralContainers"] {
            if let Some(cs) = p["spec"][key].as_array() {
                names.extend(
                    cs.iter()
                        .filter_map(|c| c["name"].as_str().map(str::to_string)),
                );
            }
        }
        out.insert(format!("{ns}/{name}"), names);
    }
}

/// `cluster_version.json` (`{"info": {...}, "string": "v1.31.2+k3s1"}`) as our `version.json`.
fn version(input: &Input, view: &mut View, rel: &str) -> std::io::Result<()> {
    let Some(text) = input.read_string(rel) else {
        return Ok(());
    };
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return Ok(());
    };
    let Some(info) = v.get("info") else {
        return Ok(());
    };
    let line = text
        .lines()
        .position(|l| l.contains("\"gitVersion\""))
        .map(|i| i + 1)
        .unwrap_or(1);
    let out = serde_json::to_string_pretty(&serde_json::json!({ "serverVersion": info }))
        .unwrap_or_default();
    let count = out.lines().count();
    view.build(
        "kubectl/version.json",
        out.as_bytes(),
        vec![Segment {
            first: 1,
            count,
            file: Arc::from(input.shown(rel)),
            line,
            exact: false,
        }],
    )
}

/// Splits `<c>-previous.log` from `<c>.log` by the pod's container names.
pub fn log_name(file: &str, pod_containers: Option<&Vec<String>>) -> Option<(String, bool)> {
    let stem = file.strip_suffix(".log")?;
    if stem.ends_with("-logs-errors") {
        return None;
    }
    let known = |c: &str| pod_containers.is_some_and(|cs| cs.iter().any(|x| x == c));
    if let Some(c) = stem.strip_suffix("-previous") {
        if known(c) || (!known(stem) && pod_containers.is_none()) {
            return Some((c.to_string(), true));
        }
        if known(stem) {
            return Some((stem.to_string(), false));
        }
        return Some((c.to_string(), true));
    }
    Some((stem.to_string(), false))
}

fn logs(input: &Input, view: &mut View, prefix: &str, containers: &Containers) {
    for f in input.files {
        let Some(rest) = f.path.strip_prefix(prefix) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let [ns, pod, file] = parts.as_slice() else {
            continue;
        };
        let Some((c, previous)) = log_name(file, containers.get(&format!("{ns}/{pod}"))) else {
            continue;
        };
        let ours = if previous {
            format!("kubectl/logs/{ns}/{pod}/{c}.previous.log")
        } else {
            format!("kubectl/logs/{ns}/{pod}/{c}.log")
        };
        view.alias(&ours, input, &f.path);
    }
}

/// Host collectors: `<dir>/<name>.txt` with `<dir>/<name>-info.json` saying which command
/// wrote it; the node is the `<node>/` folder of a remote collection, else hostOS's name.
fn host_collectors(input: &Input, view: &mut View, prefix: &str) {
    let local_node = input
        .read_string(&format!("{prefix}system/hostos_info.json"))
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["name"].as_str().map(str::to_string));
    let remote: Vec<String> = input
        .read_string(&format!("{prefix}system/node_list.json"))
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v["nodes"].as_array().map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    for f in input.files {
        let Some(rest) = f.path.strip_prefix(prefix) else {
            continue;
        };
        let Some(stem) = rest.strip_suffix("-info.json") else {
            continue;
        };
        let (node, _) = match rest.split_once('/') {
            Some((first, after)) if remote.iter().any(|n| n == first) => (first.to_string(), after),
            _ => match &local_node {
                Some(n) => (n.clone(), rest),
                None => ("node".to_string(), rest),
            },
        };
        let Some(info) = input
            .read_string(&f.path)
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            continue;
        };
        if info["exitCode"].as_str().is_some_and(|c| c != "0") {
            continue;
        }
        let Some(cmd) = info["command"].as_str() else {
            continue;
        };
        let Some((path, conv)) = node::by_command(cmd) else {
            continue;
        };
        let out = format!("{prefix}{stem}.txt");
        node::place(view, input, &node, &path, &out, conv);
    }
    // The `copy` collector keeps files under their base name: known ones by name.
    for f in input.files {
        let Some(rest) = f.path.strip_prefix(prefix) else {
            continue;
        };
        let name = rest.rsplit('/').next().unwrap_or(rest);
        let node = local_node.clone().unwrap_or_else(|| "node".into());
        let path = match name {
            "config.yaml" if rest.contains("kubelet") => "kubelet/config.yaml",
            "kubeadm-flags.env" => "kubelet/flags.env",
            "config.toml" if rest.contains("containerd") => "runtime/containerd-config.toml",
            _ => continue,
        };
        node::place(view, input, &node, path, &f.path, Conv::Same);
    }
}

/// troubleshoot's own results (`analysis.json`: name, severity, insight primary/detail).
fn verdicts(input: &Input, view: &mut View, rel: &str) {
    /// Far more than any analyzer run writes (a few KiB): a larger file is not troubleshoot's.
    const MAX_ANALYSIS: u64 = 64 << 20;
    let Some(f) = input.file(rel) else { return };
    if f.size > MAX_ANALYSIS {
        view.problem(
            input.shown(rel),
            format!(
                "larger than {} MiB: not read as troubleshoot's verdicts",
                MAX_ANALYSIS >> 20
            ),
        );
        return;
    }
    let Some(text) = input.read_string(rel) else {
        return;
    };
    let items = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            view.problem(
                input.shown(rel),
                "not a JSON array: not read as troubleshoot's verdicts",
            );
            return;
        }
        Err(e) => {
            view.problem(
                input.shown(rel),
                format!("not valid JSON ({e}): not read as troubleshoot's verdicts"),
            );
            return;
        }
    };
    let mut from = 0;
    for item in items {
        let name = item["name"].as_str().unwrap_or("").to_string();
        let needle = format!("\"name\": {}", serde_json::json!(name));
        let line = text
            .lines()
            .enumerate()
            .skip(from)
            .find(|(_, l)| l.contains(&needle))
            .map(|(i, _)| i + 1)
            .unwrap_or(1);
        from = line;
        let insight = &item["insight"];
        view.verdicts.push(ToolVerdict {
            tool: "troubleshoot".into(),
            name,
            severity: item["severity"]
                .as_str()
                .or_else(|| insight["severity"].as_str())
                .unwrap_or("")
                .to_string(),
            title: insight["primary"].as_str().unwrap_or("").to_string(),
            message: insight["detail"].as_str().unwrap_or("").to_string(),
            file: input.shown(rel),
            line,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_logs_are_told_by_container_names() {
        let cs = vec!["app".to_string(), "x-previous".to_string()];
        assert_eq!(log_name("app.log", Some(&cs)), Some(("app".into(), false)));
        assert_eq!(
            log_name("app-previous.log", Some(&cs)),
            Some(("app".into(), true))
        );
        assert_eq!(
            log_name("x-previous.log", Some(&cs)),
            Some(("x-previous".into(), false))
        );
        assert_eq!(
            log_name("x-previous-previous.log", Some(&cs)),
            Some(("x-previous".into(), true))
        );
        assert_eq!(log_name("app-logs-errors.log", Some(&cs)), None);
        assert_eq!(log_name("y-previous.log", None), Some(("y".into(), true)));
    }
}
