//! `kubeadm/hairpin-disabled`: a pod that calls a Service whose endpoint is the pod itself gets
//! its own packet back through the bridge port it came from. Unless that port is in hairpin
//! mode, the bridge drops the packet and the connection times out. Two settings decide it: the
//! kubelet's `hairpinMode` (`none` turns it off) and, with a bridge-based CNI, the bridge
//! plugin's `hairpinMode` (off unless written as true).

use super::KubeletSettings;
use super::cni::{NodeCni, nodes_cni};
use crate::checks::{Ctx, Draft, Outcome};
use crate::facts::Unavailable;
use crate::model::Evidence;

/// The kubelet's hairpin mode on a node, with its evidence; `None` when no kubelet setting was
/// collected. A kubelet that does not set it uses `promiscuous-bridge`.
fn kubelet_hairpin(ctx: &Ctx, node: &str) -> Option<(String, Option<Evidence>)> {
    let k = KubeletSettings::read(ctx, node);
    if let Some((v, ev)) = k.setting("hairpin-mode", "hairpinMode") {
        return Some((v, Some(ev)));
    }
    k.collected()
        .then(|| ("promiscuous-bridge".to_string(), None))
}

pub fn hairpin_disabled(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut evaluated = false;
    let mut drafts = Vec::new();
    for node_cni in nodes_cni(ctx) {
        let node = node_cni.node.clone();
        let kubelet = kubelet_hairpin(ctx, &node);
        evaluated |= kubelet.is_some() || node_cni.primary().is_some();
        let mut d = Draft::new().var("node", node.as_str());
        let mut what = Vec::new();
        let mut fixes = Vec::new();
        if let Some((mode, ev)) = &kubelet
            && mode.trim().eq_ignore_ascii_case("none")
        {
            d.evidence.extend(ev.clone());
            let file = ev.as_ref().map(|e| e.file.as_str()).unwrap_or("");
            what.push("the kubelet runs with hairpin mode none".to_string());
            fixes.push(kubelet_fix(&node, file));
        }
        if let Some((ev, text, fix)) = bridge_off(&node_cni) {
            d.evidence.push(ev);
            what.push(text);
            fixes.push(fix);
        }
        if what.is_empty() {
            continue;
        }
        d = d
            .var("what", what.join(", and "))
            .var("fix", fixes.join("\n"));
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !evaluated {
        return Draft::missing("default").not_evaluated();
    }
    Ok(Outcome::Pass)
}

fn kubelet_fix(node: &str, file: &str) -> String {
    if file.ends_with("kubelet/config.yaml") {
        format!(
            "On node {node}, set `hairpinMode: hairpin-veth` (or remove the line: the default is promiscuous-bridge) in /var/lib/kubelet/config.yaml, then `sudo systemctl restart kubelet`. Keep it in the KubeletConfiguration you give kubeadm so joins and upgrades do not bring `none` back."
        )
    } else if file.ends_with("kubelet/flags.env") {
        format!(
            "On node {node}, remove `--hairpin-mode=none` from /var/lib/kubelet/kubeadm-flags.env (and from nodeRegistration.kubeletExtraArgs in the kubeadm configuration, which writes that file), then `sudo systemctl restart kubelet`."
        )
    } else {
        format!(
            "On node {node}, remove `--hairpin-mode=none` from the kubelet's systemd unit or its KUBELET_EXTRA_ARGS file, then `sudo systemctl daemon-reload && sudo systemctl restart kubelet`."
        )
    }
}

/// The active CNI bridge of a node with hairpin off: (evidence, what, fix).
fn bridge_off(n: &NodeCni) -> Option<(Evidence, String, String)> {
    let c = n.primary()?;
    let b = c.bridge()?;
    if b.hairpin() {
        return None;
    }
    let node = &n.node;
    let path = c.node_path();
    let (ev, state) = if b.hairpin_written() {
        (
            c.line_evidence(b.plugin.line, "\"hairpinMode\""),
            "sets \"hairpinMode\" to false",
        )
    } else if b.via_flannel {
        (
            c.line_evidence(b.plugin.line, "\"delegate\""),
            "does not set \"hairpinMode\" (off by default)",
        )
    } else {
        (
            c.plugin_evidence(b.plugin),
            "does not set \"hairpinMode\" (off by default)",
        )
    };
    let bridge_name = b
        .settings
        .get("bridge")
        .and_then(|v| v.as_str())
        .unwrap_or("cni0");
    let (text, fix) = if b.via_flannel {
        (
            format!("flannel's bridge delegate in {path} {state}"),
            format!(
                "On node {node}, add `\"hairpinMode\": true` to flannel's \"delegate\" object in {path}. flannel's DaemonSet copies that file from cni-conf.json in its kube-flannel-cfg ConfigMap: change it there (current kube-flannel.yml sets it) or the old file comes back."
            ),
        )
    } else {
        (
            format!("the bridge plugin in {path} {state}"),
            format!(
                "On node {node}, add `\"hairpinMode\": true` to the bridge plugin in {path} (if a network add-on writes this file, change its template instead)."
            ),
        )
    };
    let fix = format!(
        "{fix} The bridge plugin applies it when a pod's interface is added: recreate the pods on {node}, or turn it on for the running ones with `for p in /sys/class/net/{bridge_name}/brif/*; do echo 1 | sudo tee $p/hairpin_mode; done`."
    );
    Some((ev, text, fix))
}
