//! `kubeadm/flannel-wrong-iface`: flannel picks the interface of the default route unless told
//! otherwise. On Vagrant (and VirtualBox or QEMU NAT setups) that is the NAT interface, whose
//! address 10.0.2.15 every VM has, so flannel publishes one public IP for several nodes and
//! their VXLAN tunnels point at themselves. Flannel records the address it chose in the node
//! annotation `flannel.alpha.coreos.com/public-ip`; nodes sharing one are the finding, and the
//! remediation names the interface that carries each node's own address.

use super::network::{addresses, node_inets};
use super::node_ip::{parse_ip, routable_inets};
use crate::checks::{Ctx, Draft, Outcome, line_evidence};
use crate::cluster::{self, Node, Pod};
use crate::facts::{Item, JsonDoc, Unavailable};
use crate::model::Evidence;
use crate::objpath::{str_at, str_list};
use serde_json::Value;

const PUBLIC_IP: &str = "flannel.alpha.coreos.com/public-ip";
const PUBLIC_IP_OVERWRITE: &str = "flannel.alpha.coreos.com/public-ip-overwrite";

fn annotation<'d>(node: &Node<'d>, key: &str) -> Option<&'d str> {
    node.meta
        .annotation(key)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn containers(spec: &Value) -> Vec<&Value> {
    spec.get("containers")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

fn image_is_flannel(c: &Value) -> bool {
    str_at(c, "image").is_some_and(|i| i.contains("flannel"))
}

/// The flanneld container of a pod spec (not the CNI-installing init containers): named
/// kube-flannel, else running a flannel image that is not the CNI plugin's.
fn flannel_container(spec: &Value) -> Option<(usize, &Value)> {
    let cs = containers(spec);
    cs.iter()
        .position(|c| str_at(c, "name") == Some("kube-flannel"))
        .or_else(|| {
            cs.iter().position(|c| {
                image_is_flannel(c) && !str_at(c, "image").is_some_and(|i| i.contains("cni"))
            })
        })
        .or_else(|| cs.iter().position(|c| image_is_flannel(c)))
        .and_then(|i| cs.get(i).map(|c| (i, *c)))
}

/// A flannel pod: in kube-system or kube-flannel, named kube-flannel*, labelled app=flannel, or
/// running a flannel image.
fn is_flannel_pod(pod: &Pod) -> bool {
    let (ns, name) = (pod.meta.namespace, pod.meta.name);
    let labelled = pod.meta.label("app") == Some("flannel");
    let image = pod
        .containers
        .iter()
        .any(|c| !c.init && c.in_spec && c.image.contains("flannel"));
    (matches!(ns, "kube-system" | "kube-flannel") && name.starts_with("kube-flannel"))
        || labelled
        || image
}

fn is_flannel_ds(ds: &Value) -> bool {
    let name = str_at(ds, "metadata.name").unwrap_or("");
    name.contains("flannel")
        || str_at(ds, "spec.template.metadata.labels.app") == Some("flannel")
        || ds
            .pointer("/spec/template/spec")
            .is_some_and(|s| containers(s).iter().any(|c| image_is_flannel(c)))
}

/// How flanneld is told which interface to use: `--iface`, `--iface-regex`, `--iface-can-reach`
/// in its command or args (`--iface=eth1` or `--iface eth1`), or the FLANNELD_IFACE* variables.
/// Returns (setting, value, index in args when it is one `--iface=...` element there).
fn iface_settings(c: &Value) -> Vec<(String, String, Option<usize>)> {
    let mut out = Vec::new();
    let args = str_list(c.get("args"));
    let command = str_list(c.get("command"));
    for (from_args, tokens) in [(false, &command), (true, &args)] {
        let mut i = 0;
        while i < tokens.len() {
            let t = tokens[i].trim();
            let flag = t.trim_start_matches('-');
            for name in ["iface", "iface-regex", "iface-can-reach"] {
                if let Some(v) = flag
                    .strip_prefix(name)
                    .and_then(|r| r.strip_prefix('='))
                    .filter(|_| t.starts_with('-'))
                {
                    out.push((
                        format!("--{name}"),
                        v.to_string(),
                        (from_args && name == "iface").then_some(i),
                    ));
                } else if t.starts_with('-') && flag == name {
                    let v = tokens.get(i + 1).map(|s| s.to_string()).unwrap_or_default();
                    out.push((format!("--{name}"), v, None));
                    i += 1;
                }
            }
            i += 1;
        }
    }
    if let Some(env) = c.get("env").and_then(Value::as_array) {
        for e in env {
            let name = str_at(e, "name").unwrap_or("");
            if matches!(
                name,
                "FLANNELD_IFACE" | "FLANNELD_IFACE_REGEX" | "FLANNELD_IFACE_CAN_REACH"
            ) {
                // Canal's manifest takes the value from its ConfigMap.
                let setting = match (
                    str_at(e, "valueFrom.configMapKeyRef.name"),
                    str_at(e, "valueFrom.configMapKeyRef.key"),
                ) {
                    (Some(cm), Some(key)) => {
                        format!("env {name} (from ConfigMap {cm}, key {key})")
                    }
                    _ => format!("env {name}"),
                };
                out.push((setting, str_at(e, "value").unwrap_or("").to_string(), None));
            }
        }
    }
    out
}

/// Evidence for the container's flag list: from its `"args"` (else `"command"`) key to the
/// closing bracket, found after the `"containers"` key of the object.
fn flags_evidence(doc: &JsonDoc, item: &Item, c: &Value) -> Evidence {
    let t = &doc.text;
    let start = t
        .find_line_in(item.line, item.end_line, "\"containers\"")
        .unwrap_or(item.line);
    let key = if c.get("args").is_some() {
        "\"args\""
    } else {
        "\"command\""
    };
    // The first flag of this container pins the right "args" among several containers.
    let first = str_list(c.get(if key == "\"args\"" { "args" } else { "command" }))
        .into_iter()
        .next();
    let anchor = first
        .and_then(|f| {
            let quoted = serde_json::to_string(&f).ok()?;
            t.find_line_in(start, item.end_line, &quoted)
        })
        .and_then(|n| (start..=n).rev().find(|&k| t.line(k).contains(key)));
    let Some(open) = anchor.or_else(|| t.find_line_in(start, item.end_line, key)) else {
        return doc.item_line_evidence(item, "\"containers\"");
    };
    let close = if t.line(open).contains(']') {
        open
    } else {
        (open..=item.end_line)
            .find(|&k| t.line(k).trim_start().starts_with(']'))
            .unwrap_or(open)
    };
    t.evidence(open, close)
}

/// Where flannel runs: its DaemonSets and pods.
struct Flannel<'d> {
    daemonsets: Vec<(&'d JsonDoc, &'d Item)>,
    pods: Vec<(&'d JsonDoc, &'d Item)>,
}

/// A DaemonSet to fix, with the object whose flanneld container shows the flags.
struct Target<'d> {
    namespace: String,
    name: String,
    doc: &'d JsonDoc,
    item: &'d Item,
    spec: &'d Value,
    on_delete: Option<bool>,
}

fn owner_ds(pod: &Value) -> Option<String> {
    pod.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|o| str_at(o, "kind") == Some("DaemonSet"))
        .and_then(|o| str_at(o, "name"))
        .map(str::to_string)
}

/// The DaemonSet name a pod belongs to when its owner was not recorded: `kube-flannel-ds-x7k2p`
/// → `kube-flannel-ds`.
fn ds_from_pod_name(pod: &str) -> String {
    match pod.rsplit_once('-') {
        Some((base, _)) if !base.is_empty() => base.to_string(),
        _ => pod.to_string(),
    }
}

pub fn flannel_wrong_iface(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let nodes = ctx.list("kubectl/nodes.json")?;
    let pods = ctx.list("kubectl/pods.json").ok();
    let dss = ctx.list("kubectl/daemonsets.json").ok();
    let flannel = Flannel {
        daemonsets: dss
            .as_deref()
            .map(|d| {
                d.items
                    .iter()
                    .filter(|i| is_flannel_ds(&i.value))
                    .map(|i| (d, i))
                    .collect()
            })
            .unwrap_or_default(),
        // Only flannel's own pods are read whole (their container flags), the rest through
        // the shared views.
        pods: pods
            .as_deref()
            .map(|d| {
                cluster::pods(d)
                    .filter(|p| is_flannel_pod(p))
                    .map(|p| (d, p.at.item))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let annotated = cluster::nodes(&nodes).iter().any(|n| {
        n.meta
            .annotations
            .iter()
            .any(|(k, _)| k.starts_with("flannel.alpha.coreos.com/"))
    });
    if flannel.daemonsets.is_empty() && flannel.pods.is_empty() {
        match (pods.is_some(), dss.is_some()) {
            (true, true) => return Draft::missing("no-flannel").not_evaluated(),
            (true, false) => return Draft::missing("no-flannel-pod").not_evaluated(),
            (false, true) => return Draft::missing("no-flannel-daemonset").not_evaluated(),
            (false, false) if !annotated => return Draft::missing("default").not_evaluated(),
            (false, false) => {}
        }
    }

    // Each node's public address as flannel sees it.
    struct NodeAddr<'d> {
        name: String,
        ip: String,
        how: &'static str,
        item: &'d Item,
        needle: String,
    }
    let mut per_node: Vec<NodeAddr> = Vec::new();
    for node in cluster::nodes(&nodes) {
        let item = node.at.item;
        let name = node.meta.name;
        if name.is_empty() {
            continue;
        }
        let found = if let Some(ip) = annotation(&node, PUBLIC_IP_OVERWRITE) {
            Some((
                ip.to_string(),
                "public-ip-overwrite annotation",
                PUBLIC_IP_OVERWRITE,
            ))
        } else if let Some(ip) = annotation(&node, PUBLIC_IP) {
            Some((ip.to_string(), "public-ip annotation", PUBLIC_IP))
        } else if iface_given(&flannel, name) {
            // flanneld has not published an address yet, and it will not take the
            // default-route interface the kubelet's address may come from.
            None
        } else {
            addresses(&node)
                .into_iter()
                .find(|(t, _)| t == "InternalIP")
                .map(|(_, a)| (a, "InternalIP, no flannel annotation", ""))
        };
        let Some((ip, how, key)) = found else {
            continue;
        };
        let needle = if key.is_empty() {
            String::new()
        } else {
            format!("\"{key}\"")
        };
        per_node.push(NodeAddr {
            name: name.to_string(),
            ip,
            how,
            item,
            needle,
        });
    }
    if per_node.is_empty() {
        return Draft::missing("no-address").not_evaluated();
    }
    let key = |ip: &str| parse_ip(ip).map_or_else(|| ip.to_string(), |a| a.to_string());
    let mut groups: Vec<(String, Vec<&NodeAddr>)> = Vec::new();
    for n in &per_node {
        let k = key(&n.ip);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(n),
            None => groups.push((k, vec![n])),
        }
    }
    let symptom = ctx.matches_of("not-found");
    let mut drafts = Vec::new();
    for (ip, members) in groups.into_iter().filter(|(_, m)| m.len() > 1) {
        let names: Vec<&str> = members.iter().map(|n| n.name.as_str()).collect();
        let mut d = Draft::new()
            .var("ip", ip.as_str())
            .var("nodes", names.join(", "))
            .var("count", names.len().to_string());
        for n in &members {
            d = d.evidence(if n.needle.is_empty() {
                super::node_ip::address_evidence(&nodes, n.item, &n.ip)
            } else {
                nodes.item_line_evidence(n.item, &n.needle)
            });
        }
        let targets = targets(&flannel, &names);
        if let Some(t) = targets.first()
            && let Some((_, c)) = flannel_container(t.spec)
        {
            d = d.evidence(flags_evidence(t.doc, t.item, c));
        }
        let how: Vec<String> = members
            .iter()
            .map(|n| format!("{} ({})", n.name, n.how))
            .collect();
        let mut detail = ctx.phrase("address-per-node", &[("ip", &ip), ("how", &how.join(", "))]);
        if ip == super::node_ip::NAT_ADDRESS.to_string() {
            detail.push(' ');
            detail.push_str(&ctx.phrase("nat-address", &[]));
        }
        if !symptom.is_empty() {
            detail.push(' ');
            detail.push_str(&ctx.phrase("symptom", &[]));
            for m in &symptom {
                d = d.evidence(line_evidence(m));
            }
        }
        let (iface, iface_note) = interfaces(
            ctx,
            &members
                .iter()
                .map(|n| (n.name.as_str(), n.ip.as_str()))
                .collect::<Vec<_>>(),
        );
        let flags: Vec<String> = iface.iter().map(|i| format!("--iface={i}")).collect();
        d.vars.insert("detail".into(), detail);
        d.vars.insert("iface_flags".into(), flags.join(" "));
        d.vars.insert("iface_note".into(), iface_note);
        d.vars
            .insert("iface_state".into(), iface_state(ctx, &targets));
        d.vars
            .insert("commands".into(), commands(ctx, &targets, &flags));
        drafts.push(d);
    }
    if drafts.is_empty() {
        Ok(Outcome::Pass)
    } else {
        Ok(Outcome::Findings(drafts))
    }
}

/// The flannel DaemonSets that run on `nodes` (by their pods' owners), with the object that shows
/// the container spec: the DaemonSet from daemonsets.json, else one of its pods.
fn targets<'d>(f: &Flannel<'d>, nodes: &[&str]) -> Vec<Target<'d>> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for (_, p) in &f.pods {
        let v = &p.value;
        if !str_at(v, "spec.nodeName").is_some_and(|n| nodes.contains(&n)) {
            continue;
        }
        let ns = str_at(v, "metadata.namespace")
            .unwrap_or("kube-flannel")
            .to_string();
        let ds = owner_ds(v)
            .unwrap_or_else(|| ds_from_pod_name(str_at(v, "metadata.name").unwrap_or("")));
        if !wanted.contains(&(ns.clone(), ds.clone())) {
            wanted.push((ns, ds));
        }
    }
    let ds_key = |i: &Item| {
        (
            str_at(&i.value, "metadata.namespace")
                .unwrap_or("")
                .to_string(),
            str_at(&i.value, "metadata.name").unwrap_or("").to_string(),
        )
    };
    if wanted.is_empty() {
        // No pod on these nodes: every flannel DaemonSet, else the DaemonSet of any flannel pod.
        wanted = f.daemonsets.iter().map(|(_, i)| ds_key(i)).collect();
        if wanted.is_empty()
            && let Some((_, p)) = f.pods.first()
        {
            let v = &p.value;
            wanted.push((
                str_at(v, "metadata.namespace")
                    .unwrap_or("kube-flannel")
                    .to_string(),
                owner_ds(v)
                    .unwrap_or_else(|| ds_from_pod_name(str_at(v, "metadata.name").unwrap_or(""))),
            ));
        }
    }
    let mut out = Vec::new();
    for (ns, name) in wanted {
        if let Some((doc, item)) = f
            .daemonsets
            .iter()
            .find(|(_, i)| ds_key(i) == (ns.clone(), name.clone()))
        {
            let Some(spec) = item.value.pointer("/spec/template/spec") else {
                continue;
            };
            out.push(Target {
                on_delete: Some(
                    str_at(&item.value, "spec.updateStrategy.type") == Some("OnDelete"),
                ),
                namespace: ns,
                name,
                doc,
                item,
                spec,
            });
        } else if let Some((doc, item)) = f.pods.iter().find(|(_, p)| {
            str_at(&p.value, "metadata.namespace") == Some(ns.as_str())
                && owner_ds(&p.value).unwrap_or_else(|| {
                    ds_from_pod_name(str_at(&p.value, "metadata.name").unwrap_or(""))
                }) == name
        }) {
            let Some(spec) = item.value.get("spec") else {
                continue;
            };
            out.push(Target {
                namespace: ns,
                name,
                doc,
                item,
                spec,
                on_delete: None,
            });
        }
    }
    out
}

/// Whether the flanneld that runs (or will run) on `node` is told which interface to use, with a
/// value (Canal's `FLANNELD_IFACE` from an empty `canal_iface` is no choice).
fn iface_given(f: &Flannel, node: &str) -> bool {
    targets(f, &[node]).iter().any(|t| {
        flannel_container(t.spec).is_some_and(|(_, c)| {
            iface_settings(c)
                .iter()
                .any(|(_, v, _)| !v.trim().is_empty())
        })
    })
}

/// The interface(s) carrying each node's own routable address, from `nodes/<node>/ip-addr.txt`.
fn interfaces(ctx: &Ctx, nodes: &[(&str, &str)]) -> (Vec<String>, String) {
    let mut found: Vec<String> = Vec::new();
    let mut per_node: Vec<String> = Vec::new();
    let mut missing: Vec<&str> = Vec::new();
    for (node, shared) in nodes {
        let Some((_, inets)) = node_inets(ctx, node) else {
            missing.push(node);
            continue;
        };
        // Not the interface that carries the shared address.
        let shared_dev: Vec<&str> = inets
            .iter()
            .filter(|i| i.addr == *shared)
            .map(|i| i.dev.as_str())
            .collect();
        let pick = routable_inets(&inets, &[shared])
            .into_iter()
            .find(|i| !shared_dev.contains(&i.dev.as_str()));
        match pick {
            Some(i) => {
                per_node.push(format!("{node}: {} ({})", i.dev, i.addr));
                if !found.contains(&i.dev) {
                    found.push(i.dev.clone());
                }
            }
            None => missing.push(node),
        }
    }
    let mut notes: Vec<String> = Vec::new();
    if found.is_empty() {
        found.push("eth1".into());
        notes.push(ctx.phrase("interfaces-unknown", &[]));
    } else {
        if !per_node.is_empty() {
            notes.push(ctx.phrase("own-addresses", &[("list", &per_node.join(", "))]));
        }
        if !missing.is_empty() {
            notes.push(ctx.phrase("no-interface", &[("nodes", &missing.join(", "))]));
        }
    }
    if found.len() > 1 {
        notes.push(ctx.phrase("iface-order", &[]));
    }
    (found, notes.join(" "))
}

/// Whether the flanneld container already names an interface.
fn iface_state(ctx: &Ctx, targets: &[Target]) -> String {
    let Some(t) = targets.first() else {
        return ctx.phrase("spec-missing", &[]);
    };
    let ds = format!("{}/{}", t.namespace, t.name);
    let Some((_, c)) = flannel_container(t.spec) else {
        return ctx.phrase("no-container", &[("daemonset", &ds)]);
    };
    let cname = str_at(c, "name").unwrap_or("kube-flannel");
    let set = iface_settings(c);
    if set.is_empty() {
        ctx.phrase("no-iface", &[("container", cname), ("daemonset", &ds)])
    } else {
        let list: Vec<String> = set
            .iter()
            .map(|(k, v, _)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        ctx.phrase(
            "iface-set",
            &[
                ("container", cname),
                ("daemonset", &ds),
                ("flags", &list.join(", ")),
            ],
        )
    }
}

/// The commands that give flanneld the interface flags, per DaemonSet.
fn commands(ctx: &Ctx, targets: &[Target], flags: &[String]) -> String {
    if targets.is_empty() {
        let edit = ctx.phrase("edit-default", &[("flags", &flags.join(" "))]);
        return format!("    {edit}");
    }
    let mut out: Vec<String> = Vec::new();
    for t in targets {
        let (ns, name) = (&t.namespace, &t.name);
        out.push(format!("    kubectl -n {ns} edit ds {name}"));
        if let Some((ci, c)) = flannel_container(t.spec) {
            let base = format!("/spec/template/spec/containers/{ci}");
            let set = iface_settings(c);
            let ops: Vec<String> = if let Some(j) = set.iter().find_map(|(_, _, j)| *j)
                && flags.len() == 1
            {
                vec![format!(
                    r#"{{"op":"replace","path":"{base}/args/{j}","value":"{}"}}"#,
                    flags[0]
                )]
            } else if !set.is_empty() {
                Vec::new()
            } else if c.get("args").is_some() {
                flags
                    .iter()
                    .map(|f| format!(r#"{{"op":"add","path":"{base}/args/-","value":"{f}"}}"#))
                    .collect()
            } else if c.get("command").is_some() {
                flags
                    .iter()
                    .map(|f| format!(r#"{{"op":"add","path":"{base}/command/-","value":"{f}"}}"#))
                    .collect()
            } else {
                let list: Vec<String> = flags.iter().map(|f| format!("\"{f}\"")).collect();
                vec![format!(
                    r#"{{"op":"add","path":"{base}/args","value":[{}]}}"#,
                    list.join(",")
                )]
            };
            if !ops.is_empty() {
                let patch = ctx.phrase(
                    "patch",
                    &[("ns", ns), ("name", name), ("ops", &ops.join(","))],
                );
                out.push(format!("  {patch}"));
            }
        }
        if name.contains("canal") {
            // Canal's flanneld takes FLANNELD_IFACE from the canal-config ConfigMap.
            let iface = flags
                .first()
                .and_then(|f| f.strip_prefix("--iface="))
                .unwrap_or("eth1");
            out.push(format!(
                "  {}",
                ctx.phrase("canal", &[("ns", ns), ("iface", iface)])
            ));
        }
        match t.on_delete {
            Some(true) => out.push(format!(
                "  {}",
                ctx.phrase("on-delete", &[("ns", ns), ("name", name)])
            )),
            Some(false) => {}
            None => out.push(format!(
                "  {}",
                ctx.phrase("maybe-on-delete", &[("ns", ns)])
            )),
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn iface_flags_in_args_command_and_env() {
        let c = json!({"name": "kube-flannel", "command": ["/opt/bin/flanneld"], "args": ["--ip-masq", "--kube-subnet-mgr", "--iface=eth1"]});
        assert_eq!(
            iface_settings(&c),
            vec![("--iface".to_string(), "eth1".to_string(), Some(2))]
        );
        let c = json!({"command": ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--iface", "enp0s8"]});
        assert_eq!(
            iface_settings(&c),
            vec![("--iface".to_string(), "enp0s8".to_string(), None)]
        );
        let c = json!({"args": ["--iface-regex=eth1|enp0s8"], "env": [{"name": "FLANNELD_IFACE", "value": "eth1"}]});
        assert_eq!(iface_settings(&c).len(), 2);
        let c = json!({"args": ["--ip-masq", "--kube-subnet-mgr"]});
        assert!(iface_settings(&c).is_empty());
    }

    #[test]
    fn flanneld_container_is_not_the_cni_installer() {
        let spec = json!({"containers": [
            {"name": "sidecar", "image": "busybox"},
            {"name": "flannel", "image": "docker.io/flannel/flannel:v0.22.0"}
        ], "initContainers": [{"name": "install-cni-plugin", "image": "docker.io/flannel/flannel-cni-plugin:v1.1.2"}]});
        assert_eq!(flannel_container(&spec).map(|(i, _)| i), Some(1));
    }

    #[test]
    fn daemonset_name_from_pod_name() {
        assert_eq!(ds_from_pod_name("kube-flannel-ds-x7k2p"), "kube-flannel-ds");
        assert_eq!(
            ds_from_pod_name("kube-flannel-ds-amd64-9zq4c"),
            "kube-flannel-ds-amd64"
        );
        assert_eq!(ds_from_pod_name("x"), "x");
    }
}
