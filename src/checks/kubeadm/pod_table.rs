//! `kubectl get pods` tables a person pasted into `captured/`, read as pods when the bundle has
//! no `kubectl/pods.json`: a hand-made bundle often holds just that table, and the checks that
//! judge pod states (crash-looping, Pending) can still answer from it.
//!
//! Each row becomes a pod object with the few fields the table shows (namespace, name, phase,
//! one container's state and restarts, the node with `-o wide`), its line being the row, so
//! evidence points at the pasted line.

use crate::checks::Ctx;
use crate::facts::{Item, JsonDoc, TextFile, Unavailable};
use serde_json::{Value, json};
use std::sync::Arc;

/// The pods of `kubectl/pods.json`, or, when that file is not in the bundle, of the pod tables
/// pasted into `captured/`; the original reason when there are none either.
pub fn pods_or_table(ctx: &Ctx) -> Result<Arc<JsonDoc>, Unavailable> {
    let missing = match ctx.list("kubectl/pods.json") {
        Ok(doc) => return Ok(doc),
        Err(e) => e,
    };
    if ctx.facts.bundle.file("kubectl/pods.json").is_some() {
        // The file is there but unusable: say so rather than guess from a paste.
        return Err(missing);
    }
    // Without a NODE column (`-o wide`), the pods of a one-node cluster run on that node.
    let only_node = match (ctx.facts.nodes().as_slice(), ctx.list("kubectl/nodes.json")) {
        ([node], Err(_)) => Some(node.clone()),
        ([node], Ok(doc)) if doc.items.len() == 1 => Some(node.clone()),
        _ => None,
    };
    for f in ctx.facts.glob("captured/**") {
        let Ok(text) = ctx.facts.text(&f.path) else {
            continue;
        };
        let mut items = parse(&text);
        if let Some(node) = &only_node {
            for i in &mut items {
                let v = i.value_mut();
                if v["spec"].get("nodeName").is_none() && v["status"]["phase"] != "Pending" {
                    v["spec"]["nodeName"] = json!(node);
                }
            }
        }
        if !items.is_empty() {
            return Ok(Arc::new(JsonDoc::new(
                TextFile::new(&text.path, text.text.as_bytes().to_vec()),
                Value::Null,
                items,
                true,
            )));
        }
    }
    Err(missing)
}

/// The columns of a `kubectl get pods` header line, when `line` is one.
fn header(line: &str) -> Option<Vec<&str>> {
    let cols: Vec<&str> = line.split_whitespace().collect();
    let at = |i: usize, w: &str| cols.get(i) == Some(&w);
    let first = usize::from(at(0, "NAMESPACE"));
    (at(first, "NAME") && at(first + 1, "READY") && at(first + 2, "STATUS")).then_some(cols)
}

/// The namespace a `kubectl get pods` command line asks for (`-n kube-system`,
/// `--namespace=kube-system`).
fn namespace_of_command(line: &str) -> Option<String> {
    if !line.contains("kubectl") || !line.contains(" pod") && !line.contains(" po ") {
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        if let Some(ns) = w.strip_prefix("--namespace=") {
            return Some(ns.to_string());
        }
        if let Some(ns) = w
            .strip_prefix("-n")
            .filter(|r| !r.is_empty() && !r.starts_with('-'))
        {
            return Some(ns.to_string());
        }
        if matches!(*w, "-n" | "--namespace") {
            return words.get(i + 1).map(|s| s.to_string());
        }
    }
    None
}

/// Pods of the names kubeadm and the usual network add-ons create in kube-system.
fn kube_system_name(name: &str) -> bool {
    [
        "coredns-",
        "kube-dns-",
        "etcd-",
        "kube-apiserver-",
        "kube-controller-manager-",
        "kube-scheduler-",
        "kube-proxy-",
        "calico-",
        "canal-",
        "kube-flannel-",
        "weave-net-",
        "cilium-",
        "kube-router-",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// The container's name as far as the pod's name tells it: `coredns-78fcdf6894-cfmm7` →
/// `coredns` (the table shows no container names).
fn container_name(pod: &str) -> String {
    let mut parts: Vec<&str> = pod.split('-').collect();
    while parts.len() > 1
        && parts.last().is_some_and(|p| {
            p.len() >= 5
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && p.chars().any(|c| c.is_ascii_digit())
        })
    {
        parts.pop();
    }
    parts.join("-")
}

/// A pod object for one row: the STATUS column decides phase and container state as
/// `kubectl get pods` derives it.
fn pod_from_row(
    ns: Option<&str>,
    name: &str,
    ready: &str,
    status: &str,
    restarts: u64,
    node: Option<&str>,
) -> Value {
    let container = container_name(name);
    let (init, reason) = match status.strip_prefix("Init:") {
        Some(r) => (true, r),
        None => (false, status),
    };
    let state = match reason {
        "Running" => json!({"running": {}}),
        "Completed" => json!({"terminated": {"reason": "Completed", "exitCode": 0}}),
        "Error" => json!({"terminated": {"reason": "Error"}}),
        other => json!({"waiting": {"reason": other}}),
    };
    let phase = match status {
        "Running" | "CrashLoopBackOff" | "Error" | "RunContainerError" => "Running",
        "Completed" => "Succeeded",
        "Evicted" | "Failed" => "Failed",
        "Unknown" => "Unknown",
        _ => "Pending",
    };
    let all_ready = ready
        .split_once('/')
        .is_some_and(|(a, b)| a == b && a != "0");
    let status_obj =
        json!({"name": container, "restartCount": restarts, "ready": all_ready, "state": state});
    let mut pod = json!({
        "metadata": {"name": name},
        "spec": {},
        "status": {"phase": phase},
    });
    if let Some(ns) = ns {
        pod["metadata"]["namespace"] = json!(ns);
    }
    if let Some(n) = node.filter(|n| *n != "<none>") {
        pod["spec"]["nodeName"] = json!(n);
    }
    match status {
        "Evicted" => pod["status"]["reason"] = json!("Evicted"),
        "Terminating" => pod["metadata"]["deletionTimestamp"] = json!("(terminating)"),
        _ => {}
    }
    let key = if init {
        "initContainerStatuses"
    } else {
        "containerStatuses"
    };
    if status != "Pending" || init {
        pod["status"][key] = json!([status_obj]);
    }
    pod
}

/// Every pod row of every `kubectl get pods` table in a pasted file.
pub fn parse(text: &TextFile) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cols: Option<Vec<String>> = None;
    let mut command_ns: Option<String> = None;
    for (n, line) in text.lines() {
        if let Some(ns) = namespace_of_command(line) {
            command_ns = Some(ns);
            cols = None;
            continue;
        }
        if let Some(h) = header(line) {
            cols = Some(h.iter().map(|s| s.to_string()).collect());
            continue;
        }
        let Some(c) = &cols else {
            continue;
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            cols = None;
            continue;
        }
        let has_ns = c.first().is_some_and(|s| s == "NAMESPACE");
        let base = usize::from(has_ns);
        let (Some(name), Some(ready), Some(status), Some(restarts)) = (
            words.get(base),
            words.get(base + 1),
            words.get(base + 2),
            words.get(base + 3),
        ) else {
            continue;
        };
        let (Ok(restarts), true) = (restarts.parse::<u64>(), ready.contains('/')) else {
            continue;
        };
        // Newer kubectl adds "(2m ago)" after the restart count: two more words.
        let mut at = base + 4;
        if words.get(at).is_some_and(|w| w.starts_with('(')) {
            while at < words.len() && !words[at].ends_with(')') {
                at += 1;
            }
            at += 1;
        }
        // -o wide: AGE IP NODE ...
        let node = c
            .iter()
            .any(|h| h == "NODE")
            .then(|| words.get(at + 2).copied())
            .flatten();
        let ns = if has_ns {
            Some(words[0].to_string())
        } else {
            command_ns
                .clone()
                .or_else(|| kube_system_name(name).then(|| "kube-system".to_string()))
        };
        let value = pod_from_row(ns.as_deref(), name, ready, status, restarts, node);
        items.push(Item::new(value, n, n));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objpath::str_at;

    fn rows(text: &str) -> Vec<Item> {
        parse(&TextFile::new(
            "captured/pods.txt",
            text.as_bytes().to_vec(),
        ))
    }

    #[test]
    fn tables_of_every_shape_become_pods() {
        let t = "$ kubectl get pods -n kube-system -o wide\nNAME                       READY   STATUS             RESTARTS        AGE   IP          NODE         NOMINATED NODE   READINESS GATES\ncoredns-78fcdf6894-cfmm7   0/1     CrashLoopBackOff   12 (3m ago)     15m   10.32.0.3   k8s-master   <none>           <none>\netcd-k8s-master            1/1     Running            0               16m   10.0.0.10   k8s-master   <none>           <none>\n";
        let r = rows(t);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].line, 3);
        let p = &r[0].value;
        assert_eq!(str_at(p, "metadata.namespace"), Some("kube-system"));
        assert_eq!(str_at(p, "spec.nodeName"), Some("k8s-master"));
        assert_eq!(
            str_at(p, "status.containerStatuses[].state.waiting.reason"),
            Some("CrashLoopBackOff")
        );
        assert_eq!(
            str_at(p, "status.containerStatuses[].name"),
            Some("coredns")
        );

        let all = "NAMESPACE     NAME                               READY   STATUS    RESTARTS   AGE\nkube-system   coredns-856dbd57b4-4btrn           0/1     Pending   0          44m\ndefault       web-1                              1/1     Running   0          1h\n";
        let r = rows(all);
        assert_eq!(r.len(), 2);
        assert_eq!(str_at(&r[0].value, "status.phase"), Some("Pending"));
        assert_eq!(str_at(&r[1].value, "metadata.namespace"), Some("default"));

        // The 2018 table without a command line: kube-system by the pod's name.
        let old = "NAME                                    READY     STATUS             RESTARTS   AGE\ncoredns-78fcdf6894-cfmm7             0/1       CrashLoopBackOff   12         15m\nmy-app-5d9c7b6f4d-x2x9z              1/1       Running            0          1d\n";
        let r = rows(old);
        assert_eq!(
            str_at(&r[0].value, "metadata.namespace"),
            Some("kube-system")
        );
        assert_eq!(str_at(&r[1].value, "metadata.namespace"), None);
        assert!(rows("no table here\nNAME READY\n").is_empty());
    }

    #[test]
    fn init_and_final_states() {
        let t = "NAME READY STATUS RESTARTS AGE\ncalico-node-8x2fj 0/1 Init:CrashLoopBackOff 8 20m\nkube-dns-1 0/3 Error 2 1h\nmetrics-1 0/1 Evicted 0 2h\n";
        let r = rows(t);
        assert_eq!(
            str_at(
                &r[0].value,
                "status.initContainerStatuses[].state.waiting.reason"
            ),
            Some("CrashLoopBackOff")
        );
        assert_eq!(
            str_at(
                &r[1].value,
                "status.containerStatuses[].state.terminated.reason"
            ),
            Some("Error")
        );
        assert_eq!(str_at(&r[2].value, "status.reason"), Some("Evicted"));
    }

    #[test]
    fn container_names_drop_generated_suffixes() {
        assert_eq!(container_name("coredns-78fcdf6894-cfmm7"), "coredns");
        assert_eq!(container_name("kube-proxy-x0p8m"), "kube-proxy");
        assert_eq!(container_name("etcd-k8s-master"), "etcd-k8s-master");
    }
}
