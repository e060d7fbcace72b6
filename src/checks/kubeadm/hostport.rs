//! `kubeadm/hostport-unsupported`: with CNI, a container's `hostPort` is opened by the CNI
//! `portmap` plugin, not by Kubernetes. When the node's active configuration does not chain
//! portmap, the pod starts normally and the port is simply never opened on the node.

use super::cni::{CniConfig, NodeCni, is_multus, nodes_cni};
use crate::checks::{Ctx, Draft, Outcome, phrase};
use crate::cluster::{self, Pod};
use crate::facts::{Item, JsonDoc, Unavailable};
use crate::model::Evidence;
use crate::objpath::str_at;
use crate::spec::Check;
use serde_json::Value;

/// A container port published on the node.
struct HostPort {
    container: String,
    host_port: u64,
    container_port: u64,
    protocol: String,
}

/// The non-zero `hostPort`s a pod's containers declare. Only `spec.containers` count: the
/// kubelet builds the sandbox's port mappings from them alone, so a hostPort of an init (or
/// sidecar) container is never opened, whatever the CNI chain.
fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let mut out = Vec::new();
    for c in pod.containers.iter().filter(|c| !c.init && c.in_spec) {
        for p in c.ports {
            let host_port = p.host_port();
            if host_port == 0 {
                continue;
            }
            out.push(HostPort {
                container: c.name.to_string(),
                host_port,
                container_port: p.container_port(),
                protocol: p.protocol().to_string(),
            });
        }
    }
    out
}

/// The lines of `item` declaring a non-zero `"hostPort"` in its `"containers"` (up to an
/// `"initContainers"` or `"ephemeralContainers"` key that follows them).
fn host_port_lines(doc: &JsonDoc, item: &Item) -> Vec<Evidence> {
    let t = &doc.text;
    let from = t
        .find_line_in(item.line, item.end_line, "\"containers\"")
        .unwrap_or(item.line);
    let to = ["\"initContainers\"", "\"ephemeralContainers\""]
        .iter()
        .filter_map(|k| t.find_line_in(from, item.end_line, k))
        .min()
        .unwrap_or(item.end_line);
    (from..=to)
        .filter(|&n| {
            let l = doc.text.line(n);
            l.match_indices("\"hostPort\"").any(|(i, k)| {
                l[i + k.len()..]
                    .trim_start()
                    .strip_prefix(':')
                    .map(|v| {
                        v.trim_start()
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect::<String>()
                    })
                    .and_then(|d| d.parse::<u64>().ok())
                    .is_some_and(|p| p != 0)
            })
        })
        .map(|n| doc.text.evidence(n, n))
        .collect()
}

/// Whether a configuration opens host ports: `Some(true)` with portmap (or Cilium's own plugin,
/// which maps host ports itself), `None` for Multus whose delegate the bundle does not show,
/// else `Some(false)`.
fn maps_host_ports(c: &CniConfig) -> Option<bool> {
    if c.has_plugin_type("portmap") || c.has_plugin_type("cilium-cni") {
        return Some(true);
    }
    if is_multus(c) {
        return None;
    }
    Some(false)
}

/// How to publish the pod's ports without hostPort.
fn owner_ref(pod: &Pod) -> String {
    let name = pod.meta.name;
    let Some(o) = pod.meta.owners.first() else {
        return format!("pod/{name}");
    };
    let (kind, oname) = (o.kind, o.name);
    match kind {
        // A Deployment's ReplicaSet is named <deployment>-<pod-template-hash>.
        "ReplicaSet" => match oname.rsplit_once('-') {
            Some((dep, _)) if !dep.is_empty() => format!("deployment/{dep}"),
            _ => format!("replicaset/{oname}"),
        },
        "DaemonSet" | "StatefulSet" if !oname.is_empty() => {
            format!("{}/{oname}", kind.to_ascii_lowercase())
        }
        _ => format!("pod/{name}"),
    }
}

/// The change to the configuration that adds portmap.
fn portmap_fix(w: &Check, node: &str, c: &CniConfig) -> String {
    let path = c.node_path();
    if c.is_list {
        return phrase(w, "fix-list", &[("node", node), ("path", &path)]);
    }
    // A .conf holds one plugin: it becomes a .conflist with portmap chained after it. Plugin
    // lists exist since CNI spec 0.3.0, and portmap needs the previous plugin's result.
    let old_version = str_at(&c.value, "cniVersion").unwrap_or("");
    let version = if old_version.is_empty()
        || old_version.starts_with("0.1.")
        || old_version.starts_with("0.2.")
    {
        "0.3.1"
    } else {
        old_version
    };
    let name = str_at(&c.value, "name").unwrap_or("k8s-pod-network");
    let mut fields = vec![format!(
        "\"type\": {}",
        Value::from(c.plugins[0].kind.as_str())
    )];
    if let Some(o) = c.value.as_object() {
        for (k, v) in o {
            if !matches!(k.as_str(), "type" | "cniVersion" | "name") {
                fields.push(format!("{}: {v}", Value::from(k.as_str())));
            }
        }
    }
    let stem = c
        .name
        .strip_suffix(".conf")
        .or_else(|| c.name.strip_suffix(".json"));
    let new_name = format!("{}.conflist", stem.unwrap_or(&c.name));
    let note = if old_version.is_empty() {
        format!(" {}", phrase(w, "version-unset", &[]))
    } else if version != old_version {
        let old = format!("{old_version:?}");
        format!(" {}", phrase(w, "version-old", &[("old", &old)]))
    } else {
        String::new()
    };
    phrase(
        w,
        "fix-conf",
        &[
            ("node", node),
            ("path", &path),
            ("new_name", &new_name),
            ("note", &note),
            ("version", version),
            ("name_json", &Value::from(name).to_string()),
            ("fields", &fields.join(", ")),
        ],
    )
}

pub fn hostport_unsupported(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pods = ctx.list("kubectl/pods.json")?;
    let cni = nodes_cni(ctx);
    let configs: Vec<(&NodeCni, &CniConfig)> = cni
        .iter()
        .filter_map(|n| n.primary().map(|c| (n, c)))
        .collect();
    // For a pod whose node was not collected: the collected nodes' verdict if they all agree
    // (an add-on writes the same file on every node).
    let all_lack = !configs.is_empty()
        && configs
            .iter()
            .all(|(_, c)| maps_host_ports(c) == Some(false));
    let all_have = !configs.is_empty()
        && configs
            .iter()
            .all(|(_, c)| maps_host_ports(c) == Some(true));

    let mut drafts = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for pod in cluster::pods(&pods) {
        if pod.host_network || matches!(pod.phase, "Succeeded" | "Failed") {
            continue;
        }
        let ports = host_ports(&pod);
        if ports.is_empty() {
            continue;
        }
        let (ns, name) = (pod.meta.namespace, pod.meta.name);
        let node = pod.node;
        let own = node.and_then(|n| cni.iter().find(|c| c.node == n));
        let own_cfg = own.and_then(|o| o.primary().map(|c| (o, c)));
        let lacking: Vec<(&NodeCni, &CniConfig)> = match own_cfg {
            Some((o, c)) => match maps_host_ports(c) {
                Some(true) => continue,
                Some(false) => vec![(o, c)],
                None => {
                    unknown.push(ctx.phrase(
                        "multus",
                        &[
                            ("pod", &format!("{ns}/{name}")),
                            ("file", &c.node_path()),
                            ("node", &o.node),
                        ],
                    ));
                    continue;
                }
            },
            None if all_have => continue,
            None if all_lack => configs.clone(),
            None => {
                let pod = format!("{ns}/{name}");
                unknown.push(match (own, node) {
                    (Some(n), _) => ctx.phrase(
                        "cni-unknown",
                        &[
                            ("pod", &pod),
                            ("why", &n.missing_reason(ctx).unwrap_or_default()),
                        ],
                    ),
                    (None, Some(n)) => {
                        ctx.phrase("node-uncollected", &[("pod", &pod), ("node", n)])
                    }
                    (None, None) => ctx.phrase("unscheduled", &[("pod", &pod)]),
                });
                continue;
            }
        };
        let mut d = Draft::new();
        d.evidence = host_port_lines(&pods, pod.at.item);
        if d.evidence.is_empty() {
            d.evidence.push(pod.at.evidence());
        }
        let mut fixes = Vec::new();
        let mut seen = Vec::new();
        for (n, c) in &lacking {
            if seen.contains(&c.file.path) {
                continue;
            }
            seen.push(c.file.path.clone());
            d.evidence.push(c.chain_evidence());
            fixes.push(portmap_fix(ctx.check, &n.node, c));
        }
        let (first_node, first) = (lacking[0].0, lacking[0].1);
        let lacks = match node {
            Some(n) if own_cfg.is_some() => ctx.phrase(
                "lacks-own",
                &[
                    ("node", n),
                    ("path", &first.node_path()),
                    ("plugins", &first.plugin_types()),
                ],
            ),
            _ => {
                let head = match node {
                    Some(n) => ctx.phrase("head-uncollected", &[("node", n)]),
                    None => ctx.phrase("head-unscheduled", &[]),
                };
                let list: Vec<String> = lacking
                    .iter()
                    .map(|(n, c)| format!("{} on {}: {}", c.node_path(), n.node, c.plugin_types()))
                    .collect();
                ctx.phrase(
                    "lacks-any",
                    &[("head", &head), ("configs", &list.join("; "))],
                )
            }
        };
        let port_text = ports
            .iter()
            .map(|p| {
                format!(
                    "{}/{} → {} (container {})",
                    p.host_port, p.protocol, p.container_port, p.container
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let first_port = ports
            .iter()
            .find(|p| p.container_port != 0)
            .map(|p| p.container_port);
        d = d
            .var("namespace", ns)
            .var("pod", name)
            .var("node", node.unwrap_or(first_node.node.as_str()))
            .var("lacks", lacks)
            .var("ports", port_text)
            .var("fix", fixes.join("\n"))
            .var(
                "expose",
                format!(
                    "kubectl -n {ns} expose {} --type=NodePort --port={}",
                    owner_ref(&pod),
                    first_port.unwrap_or(ports[0].host_port)
                ),
            );
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !unknown.is_empty() {
        let collected = cni.iter().any(NodeCni::collected);
        return Draft::missing(if collected { "default" } else { "no-cni" })
            .var("unknown", unknown.join("; "))
            .not_evaluated();
    }
    Ok(Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::TextFile;
    use std::sync::Arc;

    fn pod_list(json: &str) -> crate::facts::JsonDoc {
        cluster::table(
            "kubectl/pods.json",
            vec![serde_json::from_str(json).unwrap()],
        )
    }

    #[test]
    fn host_ports_skip_zero_and_keep_protocol() {
        let doc = pod_list(
            r#"{"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"hostPort":8080,"protocol":"TCP"},{"containerPort":9090}]},{"name":"dns","ports":[{"containerPort":53,"hostPort":0,"protocol":"UDP"}]}],"initContainers":[{"name":"init","ports":[{"containerPort":1,"hostPort":1}]}]}}"#,
        );
        let p = host_ports(&cluster::pod_at(&doc, 0).unwrap());
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].host_port, p[0].container_port), (8080, 80));
    }

    #[test]
    fn conf_becomes_a_conflist_with_portmap() {
        let c = super::super::cni::parse_config(Arc::new(TextFile::new(
            "nodes/w1/cni/10-flannel.conf",
            br#"{"name":"cbr0","cniVersion":"0.3.1","type":"flannel","delegate":{"isDefaultGateway":true}}"#.to_vec(),
        )))
        .unwrap();
        assert_eq!(maps_host_ports(&c), Some(false));
        let catalog = crate::spec::Catalog::embedded().unwrap();
        let w = catalog.get("kubeadm/hostport-unsupported").unwrap();
        let fix = portmap_fix(w, "w1", &c);
        assert!(fix.contains("/etc/cni/net.d/10-flannel.conflist"), "{fix}");
        assert!(fix.contains("\"portMappings\": true"), "{fix}");
    }

    #[test]
    fn owners_for_expose() {
        let doc = pod_list(
            r#"{"metadata":{"name":"web-7d4b9c8f6d-x2x9z","ownerReferences":[{"kind":"ReplicaSet","name":"web-7d4b9c8f6d"}]}}"#,
        );
        assert_eq!(
            owner_ref(&cluster::pod_at(&doc, 0).unwrap()),
            "deployment/web"
        );
    }
}
