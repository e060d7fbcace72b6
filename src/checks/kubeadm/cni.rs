//! The pod network as a bundle shows it: each node's active CNI configuration (the files the
//! collector copied from `/etc/cni/net.d` into `nodes/<node>/cni/`) and the pods of the network
//! add-on that wrote it (`kubectl/pods.json`).
//!
//! kubeadm installs no pod network, so several checks need to know whether one is there, which
//! plugins it chains (portmap for hostPort, a bridge and its hairpin setting), and whether its
//! agents run. This module answers those questions once, the way the container runtime does:
//! containerd and CRI-O (and dockershim before them) load the lexicographically first file in
//! the directory ending in `.conflist`, `.conf` or `.json` that parses as a CNI configuration,
//! and ignore the rest.

use super::Ctx;
use crate::cluster::{self, Container, Pod};
use crate::facts::{Item, JsonDoc, TextFile};
use crate::manifest::SourceStatus;
use crate::model::Evidence;
use crate::objpath::str_at;
use serde_json::Value;
use std::sync::Arc;

/// One plugin of a CNI configuration.
#[derive(Debug, Clone)]
pub(super) struct CniPlugin {
    /// The plugin's `type` (the binary under /opt/cni/bin): `bridge`, `portmap`, `calico`...
    pub kind: String,
    /// 1-based line of this plugin's `"type"` key in its file (line 1 for one-line JSON).
    pub line: usize,
    /// The plugin's JSON object as written.
    pub value: Value,
}

/// A parsed CNI configuration file: a `.conflist` (`plugins: [...]`) or a single-plugin
/// `.conf`/`.json`.
#[derive(Debug, Clone)]
pub(super) struct CniConfig {
    /// The bundle file (`nodes/<node>/cni/<name>`), for evidence.
    pub file: Arc<TextFile>,
    /// The file's name as it was in /etc/cni/net.d.
    pub name: String,
    /// Whether the file is a plugin list (`.conflist`); a single plugin cannot chain others.
    pub is_list: bool,
    /// The plugins in chain order.
    pub plugins: Vec<CniPlugin>,
    /// The whole document.
    pub value: Value,
}

/// The bridge a configuration attaches pods to: a `bridge` plugin, or the delegate of flannel's
/// plugin (whose `type` defaults to `bridge`).
#[derive(Debug, Clone)]
pub(super) struct BridgePlugin<'a> {
    /// The plugin in the chain (`bridge`, or `flannel` for a delegate).
    pub plugin: &'a CniPlugin,
    /// The bridge's own settings: the plugin object, or flannel's `delegate` object.
    pub settings: &'a Value,
    /// Whether the bridge comes from flannel's `delegate`.
    pub via_flannel: bool,
}

impl BridgePlugin<'_> {
    /// Whether a pod's packets may come back through its own bridge port: `hairpinMode`, or
    /// `promiscMode`, the alternative that puts the bridge itself in promiscuous mode (as
    /// kubenet's promiscuous-bridge does). Both are off unless written as true.
    pub fn hairpin(&self) -> bool {
        ["hairpinMode", "promiscMode"]
            .iter()
            .any(|k| self.settings.get(*k).and_then(Value::as_bool) == Some(true))
    }

    /// Whether the setting is written in the file (as opposed to the plugin's default).
    pub fn hairpin_written(&self) -> bool {
        self.settings.get("hairpinMode").is_some()
    }
}

impl CniConfig {
    /// The path of the file on the node.
    pub fn node_path(&self) -> String {
        format!("/etc/cni/net.d/{}", self.name)
    }

    /// Whether a plugin of this type is in the chain.
    pub fn has_plugin_type(&self, kind: &str) -> bool {
        self.plugin(kind).is_some()
    }

    /// The first plugin of this type.
    pub fn plugin(&self, kind: &str) -> Option<&CniPlugin> {
        self.plugins.iter().find(|p| p.kind == kind)
    }

    /// The plugin types in chain order, for messages: "bridge, portmap".
    pub fn plugin_types(&self) -> String {
        self.plugins
            .iter()
            .map(|p| p.kind.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The bridge pods are attached to, if the chain has one (routed CNIs such as Calico or
    /// Cilium have none).
    pub fn bridge(&self) -> Option<BridgePlugin<'_>> {
        self.plugins.iter().find_map(|p| {
            if p.kind == "bridge" {
                return Some(BridgePlugin {
                    plugin: p,
                    settings: &p.value,
                    via_flannel: false,
                });
            }
            if p.kind == "flannel" {
                let d = p.value.get("delegate").filter(|d| d.is_object());
                let kind = d
                    .and_then(|d| d.get("type"))
                    .and_then(Value::as_str)
                    .unwrap_or("bridge");
                if kind == "bridge" {
                    return Some(BridgePlugin {
                        plugin: p,
                        settings: d.unwrap_or(&NULL),
                        via_flannel: true,
                    });
                }
            }
            None
        })
    }

    /// Evidence for one plugin's `"type"` line.
    pub fn plugin_evidence(&self, p: &CniPlugin) -> Evidence {
        self.file.evidence(p.line, p.line)
    }

    /// Evidence for the first line at or after `from` containing `needle`, else line `from`.
    pub fn line_evidence(&self, from: usize, needle: &str) -> Evidence {
        let n = self
            .file
            .find_line_in(from.max(1), self.file.line_count(), needle)
            .unwrap_or(from.max(1));
        self.file.evidence(n, n)
    }

    /// Evidence showing the chain: a `.conflist` from its `"plugins"` line to the end of the
    /// file, a `.conf` whole.
    pub fn chain_evidence(&self) -> Evidence {
        let last = self.file.line_count().max(1);
        let first = if self.is_list {
            self.file.find_line_in(1, last, "\"plugins\"").unwrap_or(1)
        } else {
            1
        };
        self.file.evidence(first, last)
    }
}

static NULL: Value = Value::Null;

/// How a node's CNI directory came into the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CniCollection {
    /// Files of `nodes/<node>/cni/` are in the bundle.
    Files,
    /// The node side was collected there but no CNI file came with it: /etc/cni/net.d was
    /// empty or absent on the node.
    Empty,
    /// The collector recorded a CNI file of this node as failed or skipped (the reason).
    Failed(String),
    /// Only some files of the node are in the bundle, with no manifest record of its node-side
    /// collection: nothing can be said about its CNI directory.
    Unknown,
}

/// What one node's CNI directory holds.
#[derive(Debug, Clone)]
pub(super) struct NodeCni {
    pub node: String,
    pub collection: CniCollection,
    /// The configuration the runtime uses: the first file (by name) that parses.
    pub active: Option<CniConfig>,
    /// When `active` is Multus: the configuration of the cluster network it hands every pod's
    /// primary interface to, when the bundle shows it (see [`multus_delegate`]).
    pub delegate: Option<CniConfig>,
    /// Configuration files (by their extension) that do not parse: (bundle path, why).
    pub unparsable: Vec<(String, String)>,
    /// Every file found under `nodes/<node>/cni/`, bundle paths in name order.
    pub files: Vec<String>,
}

impl NodeCni {
    /// Reads `nodes/<node>/cni/`.
    pub fn read(ctx: &Ctx, node: &str) -> NodeCni {
        let prefix = format!("nodes/{node}/cni/");
        let mut files: Vec<String> = ctx
            .facts
            .bundle
            .files
            .iter()
            .filter_map(|f| {
                let rest = f.path.strip_prefix(&prefix)?;
                (!rest.is_empty() && !rest.contains('/')).then(|| f.path.clone())
            })
            .collect();
        files.sort();
        files.dedup();
        let texts: Vec<Arc<TextFile>> = files
            .iter()
            .filter_map(|p| ctx.facts.text(p).ok())
            .collect();
        let (active, unparsable) = pick_active(&texts);
        let delegate = active.as_ref().and_then(|a| multus_delegate(a, &texts));
        let collection = if !files.is_empty() {
            CniCollection::Files
        } else {
            collection_without_files(ctx, node, &prefix)
        };
        NodeCni {
            node: node.to_string(),
            collection,
            active,
            delegate,
            unparsable,
            files,
        }
    }

    /// The configuration that sets up pods' primary network: Multus's cluster network when the
    /// active file is Multus and the bundle shows what it delegates to, else the active one.
    pub fn primary(&self) -> Option<&CniConfig> {
        self.delegate.as_ref().or(self.active.as_ref())
    }

    /// Whether the node's CNI directory was looked at (files, or known to be empty).
    pub fn collected(&self) -> bool {
        matches!(self.collection, CniCollection::Files | CniCollection::Empty)
    }

    /// Why the node has no usable configuration, for "not evaluated" reasons and details, in
    /// the phrases of the asking check's spec; `None` when it has one.
    pub fn missing_reason(&self, ctx: &Ctx) -> Option<String> {
        if self.active.is_some() {
            return None;
        }
        let dir = format!("nodes/{}/cni/", self.node);
        let node = self.node.as_str();
        Some(match &self.collection {
            CniCollection::Failed(why) => ctx.phrase("cni-failed", &[("dir", &dir), ("why", why)]),
            CniCollection::Unknown => ctx.phrase("cni-missing", &[("dir", &dir)]),
            CniCollection::Empty => ctx.phrase("cni-empty", &[("dir", &dir), ("node", node)]),
            CniCollection::Files if self.unparsable.is_empty() => ctx.phrase(
                "cni-no-config",
                &[("dir", &dir), ("files", &self.files.join(", "))],
            ),
            CniCollection::Files => {
                let why = self
                    .unparsable
                    .iter()
                    .map(|(p, why)| format!("{p}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                ctx.phrase("cni-unparsable", &[("dir", &dir), ("why", &why)])
            }
        })
    }
}

pub(super) fn nodes_cni(ctx: &Ctx) -> Vec<NodeCni> {
    ctx.facts
        .nodes()
        .iter()
        .map(|n| NodeCni::read(ctx, n))
        .collect()
}

/// A node without CNI files: failed in the manifest, known empty when the collector ran its
/// node side there, else unknown.
fn collection_without_files(ctx: &Ctx, node: &str, prefix: &str) -> CniCollection {
    let Some(m) = ctx.facts.manifest() else {
        return CniCollection::Unknown;
    };
    if let Some(src) = m
        .sources
        .iter()
        .find(|s| s.path.starts_with(prefix) && s.status() != SourceStatus::Ok)
    {
        let detail = src.detail();
        return CniCollection::Failed(if detail.is_empty() {
            src.status().as_str().to_string()
        } else {
            format!("{}: {detail}", src.status().as_str())
        });
    }
    let node_prefix = format!("nodes/{node}/");
    let node_side_ran = m.sources.iter().any(|s| {
        s.path.starts_with(&node_prefix) && s.status() == SourceStatus::Ok && {
            // Files only the node-side collector writes, next to /etc/cni/net.d's copy.
            let rest = &s.path[node_prefix.len()..];
            rest == "os-release"
                || rest == "ip-addr.txt"
                || rest == "mounts"
                || rest.starts_with("kubelet/")
                || rest.starts_with("systemd/")
                || rest.starts_with("probes/")
        }
    });
    if node_side_ran {
        CniCollection::Empty
    } else {
        CniCollection::Unknown
    }
}

/// Whether a file name is one the runtime loads as a CNI configuration.
pub(super) fn is_config_name(name: &str) -> bool {
    name.ends_with(".conflist") || name.ends_with(".conf") || name.ends_with(".json")
}

/// The active configuration among a node's files (any order), and the configuration files that
/// did not parse (bundle path, why). Files with other extensions are ignored, as the runtime
/// ignores them.
pub(super) fn pick_active(files: &[Arc<TextFile>]) -> (Option<CniConfig>, Vec<(String, String)>) {
    let mut sorted: Vec<&Arc<TextFile>> = files
        .iter()
        .filter(|f| is_config_name(file_name(&f.path)))
        .collect();
    sorted.sort_by(|a, b| {
        file_name(&a.path)
            .as_bytes()
            .cmp(file_name(&b.path).as_bytes())
    });
    let mut bad = Vec::new();
    for f in sorted {
        match parse_config(f.clone()) {
            Ok(c) => return (Some(c), bad),
            Err(why) => bad.push((f.path.clone(), why)),
        }
    }
    (None, bad)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a configuration is Multus (thin `multus`, or the thick plugin's `multus-shim`), which
/// only hands each pod to other configurations.
pub(super) fn is_multus(c: &CniConfig) -> bool {
    c.plugins
        .iter()
        .any(|p| p.kind == "multus" || p.kind == "multus-shim")
}

/// The configuration Multus gives pods' primary interface to, among a node's files: the first of
/// its inline `delegates` (a copy Multus makes of another file of the directory: that file when
/// it is there, found by its network name), or the file or network its `clusterNetwork` names
/// (as a path, seen from the Multus pod, or as a network name).
pub(super) fn multus_delegate(active: &CniConfig, files: &[Arc<TextFile>]) -> Option<CniConfig> {
    let m = active
        .plugins
        .iter()
        .find(|p| p.kind == "multus" || p.kind == "multus-shim")?;
    let others = || {
        files
            .iter()
            .filter(|f| f.path != active.file.path && is_config_name(file_name(&f.path)))
            .filter_map(|f| parse_config(f.clone()).ok())
            .filter(|c| !is_multus(c))
    };
    let by_name = |net: &str| others().find(|c| str_at(&c.value, "name") == Some(net));
    if let Some(d) = m
        .value
        .get("delegates")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .filter(|d| d.is_object())
    {
        if let Some(c) = str_at(d, "name").and_then(by_name) {
            return Some(c);
        }
        let is_list = d.get("plugins").is_some();
        return config_from_value(active.file.clone(), active.name.clone(), d.clone(), is_list)
            .ok();
    }
    let net = str_at(&m.value, "clusterNetwork")?.trim();
    if net.is_empty() {
        return None;
    }
    if net.contains('/') || is_config_name(net) {
        let base = file_name(net);
        return others().find(|c| c.name == base);
    }
    by_name(net)
}

/// Parses one CNI configuration file as the runtime would: a `.conflist` needs a non-empty
/// `plugins` array whose entries each have a `type`; a `.conf`/`.json` is one plugin with a
/// `type`.
pub(super) fn parse_config(file: Arc<TextFile>) -> Result<CniConfig, String> {
    let name = file_name(&file.path).to_string();
    let value: Value = serde_json::from_str(&file.text).map_err(|e| {
        format!(
            "not valid JSON (line {}, column {}: {e})",
            e.line(),
            e.column()
        )
    })?;
    let is_list = name.ends_with(".conflist");
    config_from_value(file, name, value, is_list)
}

/// A configuration from its JSON (a whole file, or a delegate inside one): a plugin list when
/// `is_list`, else one plugin. Lines are looked up in `file`.
fn config_from_value(
    file: Arc<TextFile>,
    name: String,
    value: Value,
    is_list: bool,
) -> Result<CniConfig, String> {
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    let raw: Vec<&Value> = if is_list {
        let list = value
            .get("plugins")
            .and_then(Value::as_array)
            .ok_or("a .conflist without a \"plugins\" list")?;
        if list.is_empty() {
            return Err("its \"plugins\" list is empty".into());
        }
        list.iter().collect()
    } else {
        vec![&value]
    };
    let mut plugins = Vec::new();
    let mut from = 1;
    for (i, p) in raw.into_iter().enumerate() {
        let kind = p
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                if is_list {
                    format!("plugin {} has no \"type\"", i + 1)
                } else {
                    "no \"type\" (a plugin list must be named .conflist)".to_string()
                }
            })?;
        let line = type_line(&file, from, kind).unwrap_or(from);
        from = line;
        plugins.push(CniPlugin {
            kind: kind.to_string(),
            line,
            value: p.clone(),
        });
    }
    Ok(CniConfig {
        file,
        name,
        is_list,
        plugins,
        value,
    })
}

/// The line of `"type": "<kind>"` at or after line `from`.
fn type_line(file: &TextFile, from: usize, kind: &str) -> Option<usize> {
    let quoted = format!("\"{kind}\"");
    (from.max(1)..=file.line_count()).find(|&n| {
        let l = file.line(n);
        l.match_indices("\"type\"").any(|(i, k)| {
            l[i + k.len()..]
                .trim_start()
                .strip_prefix(':')
                .is_some_and(|v| v.trim_start().starts_with(&quoted))
        })
    })
}

/// A pod of a pod network add-on's node agent.
#[derive(Debug, Clone)]
pub(super) struct AddonPod<'a> {
    pub namespace: String,
    pub name: String,
    /// The add-on: `calico`, `canal`, `flannel`, `weave-net`, `cilium`, `kube-router`,
    /// `antrea`, `aws-vpc-cni`, `kindnet`, `ovn-kubernetes`, `kube-ovn`, `openshift-sdn`.
    pub addon: &'static str,
    pub node: Option<String>,
    /// `status.phase` (empty when absent).
    pub phase: String,
    /// Running with every container ready.
    pub ready: bool,
    /// The pod's item in `kubectl/pods.json`, for evidence.
    pub item: &'a Item,
}

/// Node-agent pods of pod network add-ons in `kubectl/pods.json`, in any namespace. Operators
/// and controllers (tigera-operator, calico-kube-controllers, cilium-operator) are not agents:
/// without their agents no node has a pod network.
pub(super) fn addon_pods(pods: &JsonDoc) -> Vec<AddonPod<'_>> {
    cluster::pods(pods)
        .filter_map(|pod| {
            let addon = addon_of(&pod)?;
            let statuses: Vec<&Container> = pod
                .containers
                .iter()
                .filter(|c| !c.init && c.has_status)
                .collect();
            let ready =
                pod.phase == "Running" && !statuses.is_empty() && statuses.iter().all(|c| c.ready);
            Some(AddonPod {
                namespace: pod.meta.namespace.to_string(),
                name: pod.meta.name.to_string(),
                addon,
                node: pod.node.map(str::to_string),
                phase: pod.phase.to_string(),
                ready,
                item: pod.at.item,
            })
        })
        .collect()
}

/// Which network add-on's node agent a pod is, by its labels, name or container image.
pub(super) fn addon_of(pod: &Pod) -> Option<&'static str> {
    let label = |k: &str| pod.meta.label(k).unwrap_or("");
    let by_label = match (
        label("k8s-app"),
        label("app"),
        label("name"),
        label("component"),
    ) {
        ("calico-node", ..) | (_, "calico-node", ..) => Some("calico"),
        ("canal", ..) | (_, "canal", ..) => Some("canal"),
        (_, "flannel", ..) | ("flannel", ..) => Some("flannel"),
        (_, _, "weave-net", _) | ("weave-net", ..) => Some("weave-net"),
        ("cilium", ..) => Some("cilium"),
        ("kube-router", ..) | (_, "kube-router", ..) => Some("kube-router"),
        (_, _, _, "antrea-agent") => Some("antrea"),
        ("aws-node", ..) => Some("aws-vpc-cni"),
        (_, "kindnet", ..) | ("kindnet", ..) => Some("kindnet"),
        (_, "ovnkube-node", ..) => Some("ovn-kubernetes"),
        (_, "kube-ovn-cni", ..) => Some("kube-ovn"),
        (_, "sdn", ..) => Some("openshift-sdn"),
        _ => None,
    };
    if by_label.is_some() {
        return by_label;
    }
    let name = pod.meta.name;
    const PREFIXES: &[(&str, &str)] = &[
        ("calico-node-", "calico"),
        ("canal-", "canal"),
        ("kube-flannel-ds-", "flannel"),
        ("kube-flannel-", "flannel"),
        ("weave-net-", "weave-net"),
        ("kube-router-", "kube-router"),
        ("antrea-agent-", "antrea"),
        ("aws-node-", "aws-vpc-cni"),
        ("kindnet-", "kindnet"),
        ("ovnkube-node-", "ovn-kubernetes"),
        ("kube-ovn-cni-", "kube-ovn"),
    ];
    if let Some((_, a)) = PREFIXES.iter().find(|(p, _)| name.starts_with(p)) {
        return Some(a);
    }
    // cilium-xxxxx is the agent; cilium-operator-*, cilium-envoy-*, cilium-node-init-* are not.
    if let Some(rest) = name.strip_prefix("cilium-")
        && !rest.contains('-')
        && !rest.is_empty()
    {
        return Some("cilium");
    }
    let images: Vec<&str> = pod
        .containers
        .iter()
        .filter(|c| !c.init && c.in_spec)
        .map(|c| c.image)
        .collect();
    const IMAGES: &[(&str, &str)] = &[
        ("calico/node", "calico"),
        ("flannel/flannel:", "flannel"),
        ("flannel/flannel@", "flannel"),
        ("coreos/flannel:", "flannel"),
        ("mirrored-flannelcni-flannel:", "flannel"),
        ("weaveworks/weave-kube", "weave-net"),
        ("cilium/cilium:", "cilium"),
        ("cilium/cilium@", "cilium"),
        ("cloudnativelabs/kube-router", "kube-router"),
        ("antrea/antrea-agent", "antrea"),
        ("antrea/antrea-ubuntu", "antrea"),
        ("amazon-k8s-cni:", "aws-vpc-cni"),
        ("kindest/kindnetd", "kindnet"),
    ];
    images.iter().find_map(|img| {
        IMAGES
            .iter()
            .find(|(p, _)| img.contains(p))
            .map(|(_, a)| *a)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf(path: &str, text: &str) -> Arc<TextFile> {
        Arc::new(TextFile::new(path, text.as_bytes().to_vec()))
    }

    const FLANNEL: &str = r#"{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
"#;

    #[test]
    fn conflist_plugins_with_their_type_lines() {
        let c = parse_config(tf("nodes/n/cni/10-flannel.conflist", FLANNEL)).unwrap();
        assert!(c.is_list);
        assert_eq!(c.plugin_types(), "flannel, portmap");
        assert_eq!(c.plugins[0].line, 6);
        assert_eq!(c.plugins[1].line, 13);
        assert!(c.has_plugin_type("portmap"));
        let b = c.bridge().unwrap();
        assert!(b.via_flannel && b.hairpin());
        assert_eq!(c.chain_evidence().line, 4);
    }

    #[test]
    fn nested_ipam_type_does_not_take_the_plugin_line() {
        let text = "{\n\"cniVersion\": \"0.4.0\", \"name\": \"k8s\",\n\"plugins\": [\n{\"ipam\": {\n\"type\": \"host-local\"},\n\"type\": \"bridge\", \"bridge\": \"cni0\"},\n{\"type\": \"loopback\"}]}";
        let c = parse_config(tf("nodes/n/cni/10-bridge.conflist", text)).unwrap();
        assert_eq!((c.plugins[0].line, c.plugins[1].line), (6, 7));
        let b = c.bridge().unwrap();
        assert!(!b.via_flannel && !b.hairpin() && !b.hairpin_written());
        assert!(!c.has_plugin_type("portmap"));
    }

    #[test]
    fn single_conf_and_flannel_delegate_defaults() {
        let c = parse_config(tf(
            "nodes/n/cni/10-flannel.conf",
            r#"{"name":"cbr0","type":"flannel","delegate":{"isDefaultGateway":true}}"#,
        ))
        .unwrap();
        assert!(!c.is_list);
        assert_eq!(c.plugins.len(), 1);
        assert_eq!(c.plugins[0].line, 1);
        assert!(!c.bridge().unwrap().hairpin());
        // flannel delegating to another plugin has no bridge.
        let canal = parse_config(tf(
            "nodes/n/cni/10-canal.conf",
            r#"{"name":"canal","type":"flannel","delegate":{"type":"calico"}}"#,
        ))
        .unwrap();
        assert!(canal.bridge().is_none());
    }

    #[test]
    fn the_first_file_that_parses_by_name_is_active() {
        let files = vec![
            tf("nodes/n/cni/20-b.conflist", FLANNEL),
            tf("nodes/n/cni/10-a.conf", "{ not json"),
            tf(
                "nodes/n/cni/05-list.conf",
                r#"{"plugins":[{"type":"bridge"}]}"#,
            ),
            tf("nodes/n/cni/00-readme.txt", "{}"),
            tf("nodes/n/cni/15-empty.conflist", r#"{"plugins":[]}"#),
        ];
        let (active, bad) = pick_active(&files);
        assert_eq!(active.unwrap().name, "20-b.conflist");
        let bad: Vec<&str> = bad.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            bad,
            [
                "nodes/n/cni/05-list.conf",
                "nodes/n/cni/10-a.conf",
                "nodes/n/cni/15-empty.conflist"
            ]
        );
        assert!(pick_active(&[]).0.is_none());
        assert!(parse_config(tf("nodes/n/cni/x.conf", "[1]")).is_err());
        assert!(parse_config(tf("nodes/n/cni/x.conf", "{\"type\": 3}")).is_err());
    }

    #[test]
    fn multus_hands_pods_to_its_cluster_network() {
        let flannel = tf("nodes/n/cni/10-flannel.conflist", FLANNEL);
        // Thick plugin: clusterNetwork as a path seen from the Multus pod.
        let shim = tf(
            "nodes/n/cni/00-multus.conf",
            r#"{"cniVersion":"0.3.1","logLevel":"verbose","logToStderr":true,"name":"multus-cni-network","clusterNetwork":"/host/etc/cni/net.d/10-flannel.conflist","type":"multus-shim"}"#,
        );
        let files = vec![shim.clone(), flannel.clone()];
        let (active, _) = pick_active(&files);
        let active = active.unwrap();
        assert!(is_multus(&active));
        let d = multus_delegate(&active, &files).unwrap();
        assert_eq!(d.name, "10-flannel.conflist");
        assert!(d.has_plugin_type("portmap"));
        // Thin plugin: an inline copy of a file that is gone, read from the Multus file itself.
        let thin = tf(
            "nodes/n/cni/00-multus.conf",
            "{\n  \"cniVersion\": \"0.3.1\",\n  \"name\": \"multus-cni-network\",\n  \"type\": \"multus\",\n  \"kubeconfig\": \"/etc/cni/net.d/multus.d/multus.kubeconfig\",\n  \"delegates\": [\n    {\n      \"cniVersion\": \"0.3.1\",\n      \"name\": \"k8s-pod-network\",\n      \"plugins\": [\n        {\n          \"type\": \"calico\"\n        }\n      ]\n    }\n  ]\n}\n",
        );
        let thin_cfg = parse_config(thin.clone()).unwrap();
        let d = multus_delegate(&thin_cfg, std::slice::from_ref(&thin)).unwrap();
        assert_eq!((d.name.as_str(), d.plugins[0].line), ("00-multus.conf", 12));
        assert!(!d.has_plugin_type("portmap"));
        // The same network name in another file: that file is the source of the copy.
        let calico = tf(
            "nodes/n/cni/10-calico.conflist",
            r#"{"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [{"type": "calico"}, {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}]}"#,
        );
        let d = multus_delegate(&thin_cfg, &[thin, flannel, calico]).unwrap();
        assert_eq!(d.name, "10-calico.conflist");
        assert!(d.has_plugin_type("portmap"));
        // A clusterNetwork the bundle does not hold leaves it unknown.
        let (a, _) = pick_active(std::slice::from_ref(&shim));
        assert!(multus_delegate(&a.unwrap(), &[shim]).is_none());
    }

    #[test]
    fn addon_agents_by_label_name_or_image() {
        let addon_of = |v: Value| {
            let doc = cluster::table("kubectl/pods.json", vec![v]);
            super::addon_of(&cluster::pod_at(&doc, 0).unwrap())
        };
        let pod = |name: &str, labels: &str, image: &str| -> Value {
            serde_json::from_str(&format!(
                r#"{{"metadata":{{"name":"{name}","namespace":"x","labels":{{{labels}}}}},"spec":{{"containers":[{{"name":"c","image":"{image}"}}]}}}}"#
            ))
            .unwrap()
        };
        assert_eq!(addon_of(pod("calico-node-7x2kq", "", "")), Some("calico"));
        assert_eq!(
            addon_of(pod("x", r#""k8s-app":"calico-node""#, "")),
            Some("calico")
        );
        assert_eq!(
            addon_of(pod("kube-flannel-ds-amd64-4bq9z", "", "")),
            Some("flannel")
        );
        assert_eq!(
            addon_of(pod("x", r#""app":"flannel""#, "")),
            Some("flannel")
        );
        assert_eq!(addon_of(pod("cilium-4kq7t", "", "")), Some("cilium"));
        assert_eq!(
            addon_of(pod("cilium-operator-6d8f9b7c5-x2x9z", "", "")),
            None
        );
        assert_eq!(
            addon_of(pod("calico-kube-controllers-57b57c56f-lb2gk", "", "")),
            None
        );
        assert_eq!(
            addon_of(pod("net-1", "", "docker.io/weaveworks/weave-kube:2.8.1")),
            Some("weave-net")
        );
        assert_eq!(
            addon_of(pod(
                "coredns-5d78c9869d-8xk2p",
                r#""k8s-app":"kube-dns""#,
                "registry.k8s.io/coredns/coredns:v1.10.1"
            )),
            None
        );
    }
}
