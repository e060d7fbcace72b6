//! Built-in analyzers for the kubeadm checks (seed `001_a843213bd4746882.txt`).

use super::{Ctx, Draft, Outcome, group_matches};
use crate::facts::{TextFile, Unavailable};
use crate::model::Evidence;
use std::sync::Arc;

/// The kubeadm built-in analyzers, by the name their specs use.
pub const BUILTINS: &[(&str, super::BuiltinFn)] = &[
    ("cgroup-driver-mismatch", cgroup_driver_mismatch),
    ("coredns-loop", coredns_loop),
];

/// A node's kubelet settings, from `kubelet/config.yaml` and the flags in `kubelet/flags.env`
/// (flags win, as they do in the kubelet).
pub struct KubeletSettings {
    pub node: String,
    pub config: Option<Arc<crate::facts::YamlDoc>>,
    pub flags: Option<Arc<TextFile>>,
}

impl KubeletSettings {
    pub fn read(ctx: &Ctx, node: &str) -> KubeletSettings {
        KubeletSettings {
            node: node.to_string(),
            config: ctx
                .facts
                .yaml(&format!("nodes/{node}/kubelet/config.yaml"))
                .ok(),
            flags: ctx
                .facts
                .text(&format!("nodes/{node}/kubelet/flags.env"))
                .ok(),
        }
    }

    /// A setting as (value, evidence): the `--flag=value` in flags.env first, then the config
    /// file's `field`.
    pub fn setting(&self, flag: &str, field: &str) -> Option<(String, Evidence)> {
        if let Some(f) = &self.flags {
            let needle = format!("--{flag}=");
            for (n, line) in f.lines() {
                if let Some(pos) = line.find(&needle) {
                    let v: String = line[pos + needle.len()..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
                        .collect();
                    return Some((v, f.evidence(n, n)));
                }
            }
        }
        let cfg = self.config.as_ref()?;
        let v = cfg
            .docs
            .iter()
            .find_map(|d| d.get(field))?
            .as_str()?
            .to_string();
        let ev = cfg.text.evidence_for(&format!("{field}:"));
        Some((v, ev))
    }
}

/// `kubeadm/coredns-loop`: CoreDNS's loop plugin fired, or a node's kubelet hands pods a
/// resolv.conf whose only resolver is a local stub, and CoreDNS forwards to that file.
pub fn coredns_loop(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut drafts = group_matches(ctx.matches_of("loop"), |v| v["pod"].clone());
    let pods = ctx.list("kubectl/pods.json").ok();
    for d in &mut drafts {
        let (ns, pod) = (d.vars["namespace"].clone(), d.vars["pod"].clone());
        d.vars
            .insert("where".into(), format!("CoreDNS pod {ns}/{pod}"));
        let node = pods.as_ref().and_then(|p| pod_node(p, &ns, &pod));
        d.vars.insert(
            "node".into(),
            node.unwrap_or_else(|| "the node running it".into()),
        );
    }
    let nodes = ctx.facts.nodes();
    let mut config_checked = false;
    // CoreDNS only loops through the node's resolv.conf when its Corefile forwards to it.
    let forwards_to_resolv = corefile_forwards_to_resolv_conf(ctx);
    for node in &nodes {
        let Ok(resolv) = ctx.facts.text(&format!("nodes/{node}/resolv.conf")) else {
            continue;
        };
        let kubelet = KubeletSettings::read(ctx, node);
        if kubelet.config.is_none() && kubelet.flags.is_none() {
            continue;
        }
        config_checked = true;
        let (resolv_path, resolv_ev) = match kubelet.setting("resolv-conf", "resolvConf") {
            Some((p, ev)) => (p, Some(ev)),
            None => ("/etc/resolv.conf".to_string(), None),
        };
        // Only /etc/resolv.conf is collected: a kubelet pointed elsewhere was already fixed.
        if resolv_path != "/etc/resolv.conf" {
            continue;
        }
        let servers: Vec<(usize, String)> = resolv
            .lines()
            .filter_map(|(n, l)| {
                let mut it = l.split_whitespace();
                (it.next() == Some("nameserver"))
                    .then(|| it.next().map(|s| (n, s.to_string())))
                    .flatten()
            })
            .collect();
        if servers.is_empty()
            || !servers.iter().all(|(_, s)| is_loopback(s))
            || forwards_to_resolv == Some(false)
        {
            continue;
        }
        let (line, stub) = servers[0].clone();
        let mut d = Draft::new()
            .var("node", node.as_str())
            .var("stub", stub.as_str())
            .var("where", format!("node {node}"))
            .evidence(resolv.evidence(line, line));
        if let Some(ev) = resolv_ev {
            d = d.evidence(ev);
        }
        d.summary = Some(
            "Node {node}: the kubelet gives pods /etc/resolv.conf, whose only nameserver is the local stub {stub}, so CoreDNS would forward queries back to itself"
                .into(),
        );
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if ctx.scanned("loop") == 0 && !config_checked {
        return Ok(Outcome::NotEvaluated(
            "neither CoreDNS logs (kubectl/logs/kube-system/coredns-*) nor a node's resolv.conf with its kubelet configuration are in the bundle"
                .into(),
        ));
    }
    Ok(Outcome::Pass)
}

/// The node a pod runs on, from `kubectl/pods.json`.
pub fn pod_node(pods: &crate::facts::JsonDoc, namespace: &str, name: &str) -> Option<String> {
    pods.items
        .iter()
        .find(|i| {
            crate::objpath::str_at(&i.value, "metadata.namespace") == Some(namespace)
                && crate::objpath::str_at(&i.value, "metadata.name") == Some(name)
        })
        .and_then(|i| crate::objpath::str_at(&i.value, "spec.nodeName"))
        .map(str::to_string)
}

fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr == "::1"
}

/// Whether the CoreDNS Corefile (ConfigMap `kube-system/coredns`) forwards to /etc/resolv.conf;
/// `None` when the ConfigMap was not collected.
fn corefile_forwards_to_resolv_conf(ctx: &Ctx) -> Option<bool> {
    let cms = ctx.list("kubectl/configmaps.json").ok()?;
    let cm = cms.items.iter().find(|i| {
        crate::objpath::str_at(&i.value, "metadata.namespace") == Some("kube-system")
            && crate::objpath::str_at(&i.value, "metadata.name") == Some("coredns")
    })?;
    let corefile = crate::objpath::str_at(&cm.value, "data.Corefile")?;
    Some(corefile.lines().any(|l| {
        let t = l.trim();
        (t.starts_with("forward") || t.starts_with("proxy")) && t.contains("/etc/resolv.conf")
    }))
}

/// Normalises a cgroup driver name for comparison (`Systemd` = `systemd`).
fn driver(s: &str) -> String {
    s.trim().trim_matches('"').to_ascii_lowercase()
}

/// `kubeadm/cgroup-driver-mismatch`: the kubelet's cgroup driver differs from the runtime's,
/// from the kubelet's own error lines or from the configured drivers.
pub fn cgroup_driver_mismatch(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut drafts: Vec<Draft> = Vec::new();
    // Log evidence, one finding per node (all its lines as evidence).
    let log_lines: Vec<_> = ["misconfiguration", "cgroups-path", "cgroup-parent"]
        .iter()
        .flat_map(|s| ctx.matches_of(s))
        .collect();
    let mut log_nodes: Vec<String> = Vec::new();
    for mut d in group_matches(log_lines, |v| {
        v.get("node").cloned().unwrap_or_else(|| v["file"].clone())
    }) {
        let node = d
            .vars
            .get("node")
            .cloned()
            .unwrap_or_else(|| "(unknown node)".into());
        // The containerd/runc and Docker "cgroup-parent" errors both mean: runtime systemd, kubelet cgroupfs.
        let (k, r) = match (d.vars.get("kubelet"), d.vars.get("runtime")) {
            (Some(k), Some(r)) => (driver(k), driver(r)),
            _ => ("cgroupfs".into(), "systemd".into()),
        };
        let runtime = if d.vars["line"].contains("slice:prefix:name") {
            "containerd"
        } else {
            "docker"
        };
        d.vars
            .insert("runtime_fix".into(), runtime_fix(runtime, &k));
        d.vars.insert("node".into(), node.clone());
        d.vars.insert("kubelet_driver".into(), k);
        d.vars.insert("runtime_driver".into(), r);
        log_nodes.push(node);
        drafts.push(d);
    }
    // Configuration evidence: a bundle collected before the error was logged still shows it.
    let mut compared = false;
    for node in ctx.facts.nodes() {
        let kubelet = KubeletSettings::read(ctx, &node);
        let from_cri = ctx
            .matches_of("from-cri")
            .into_iter()
            .any(|m| super::path_vars(&m.file).get("node") == Some(&node));
        if from_cri {
            // The kubelet takes the driver from the runtime: its config field is ignored.
            compared = true;
            continue;
        }
        let Some((runtime, runtime_driver, runtime_ev)) = runtime_driver(ctx, &node, &kubelet)
        else {
            continue;
        };
        // The kubelet's default driver is cgroupfs when its config does not set one.
        let (kubelet_driver, kubelet_ev) = match kubelet.setting("cgroup-driver", "cgroupDriver") {
            Some((v, ev)) => (driver(&v), Some(ev)),
            None if kubelet.config.is_some() => (
                "cgroupfs".to_string(),
                kubelet.config.as_ref().map(|c| c.text.evidence(1, 1)),
            ),
            None => continue,
        };
        compared = true;
        if kubelet_driver == runtime_driver || log_nodes.contains(&node) {
            continue;
        }
        let mut d = Draft::new()
            .var("node", node.as_str())
            .var("kubelet_driver", kubelet_driver.as_str())
            .var("runtime_driver", runtime_driver.as_str())
            .var("runtime_fix", runtime_fix(&runtime, &kubelet_driver))
            .var("runtime", runtime)
            .evidence(runtime_ev);
        if let Some(ev) = kubelet_ev {
            d = d.evidence(ev);
        }
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !compared && ctx.scanned("misconfiguration") == 0 {
        return Ok(Outcome::NotEvaluated(
            "no kubelet journal (nodes/*/journal/kubelet.log) and no node with both kubelet configuration (nodes/*/kubelet/config.yaml) and runtime information (nodes/*/runtime/docker-info.json or containerd-config.toml)"
                .into(),
        ));
    }
    Ok(Outcome::Pass)
}

/// How to switch the runtime to the kubelet's driver.
fn runtime_fix(runtime: &str, kubelet_driver: &str) -> String {
    if runtime == "containerd" {
        format!(
            "in /etc/containerd/config.toml, under the runc options ([plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options], or [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options] on containerd 2.x), set `SystemdCgroup = {}` and run `systemctl restart containerd`",
            kubelet_driver == "systemd"
        )
    } else {
        format!(
            "in /etc/docker/daemon.json set `\"exec-opts\": [\"native.cgroupdriver={kubelet_driver}\"]` and run `systemctl restart docker`"
        )
    }
}

/// The container runtime's cgroup driver on a node: containerd's `SystemdCgroup` when the kubelet
/// talks to containerd, else Docker's `CgroupDriver`.
fn runtime_driver(
    ctx: &Ctx,
    node: &str,
    kubelet: &KubeletSettings,
) -> Option<(String, String, Evidence)> {
    let endpoint = kubelet
        .setting("container-runtime-endpoint", "containerRuntimeEndpoint")
        .map(|(v, _)| v)
        .unwrap_or_default();
    let containerd = ctx
        .facts
        .text(&format!("nodes/{node}/runtime/containerd-config.toml"))
        .ok();
    let docker = ctx
        .facts
        .json(&format!("nodes/{node}/runtime/docker-info.json"))
        .ok();
    let use_containerd =
        endpoint.contains("containerd") || (docker.is_none() && containerd.is_some());
    if use_containerd {
        let toml = containerd?;
        // containerd's default for runc is SystemdCgroup = false.
        let mut found = None;
        for (n, l) in toml.lines() {
            let t = l.trim();
            if t.starts_with('#') {
                continue;
            }
            if let Some(rest) = t.strip_prefix("SystemdCgroup") {
                let v = rest
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .to_ascii_lowercase();
                found = Some((v.starts_with("true"), n));
            }
        }
        let (systemd, ev) = match found {
            Some((s, n)) => (s, toml.evidence(n, n)),
            None => (false, toml.evidence(1, 1)),
        };
        return Some((
            "containerd".into(),
            if systemd {
                "systemd".into()
            } else {
                "cgroupfs".into()
            },
            ev,
        ));
    }
    let doc = docker?;
    let d = doc.value.get("CgroupDriver")?.as_str()?;
    Some((
        "docker".into(),
        driver(d),
        doc.text.evidence_for("\"CgroupDriver\""),
    ))
}
