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
            what.push(ctx.phrase("kubelet-none", &[]));
            fixes.push(kubelet_fix(ctx, &node, file));
        }
        if let Some((ev, text, fix)) = bridge_off(ctx, &node_cni) {
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

fn kubelet_fix(ctx: &Ctx, node: &str, file: &str) -> String {
    let phrase = if file.ends_with("kubelet/config.yaml") {
        "fix-kubelet-config"
    } else if file.ends_with("kubelet/flags.env") {
        "fix-kubelet-flags"
    } else {
        "fix-kubelet-unit"
    };
    ctx.phrase(phrase, &[("node", node)])
}

/// The active CNI bridge of a node with hairpin off: (evidence, what, fix).
fn bridge_off(ctx: &Ctx, n: &NodeCni) -> Option<(Evidence, String, String)> {
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
            "state-false",
        )
    } else if b.via_flannel {
        (
            c.line_evidence(b.plugin.line, "\"delegate\""),
            "state-unset",
        )
    } else {
        (c.plugin_evidence(b.plugin), "state-unset")
    };
    let bridge_name = b
        .settings
        .get("bridge")
        .and_then(|v| v.as_str())
        .unwrap_or("cni0");
    let state = ctx.phrase(state, &[]);
    let vars = [
        ("node", node.as_str()),
        ("path", path.as_str()),
        ("state", state.as_str()),
        ("bridge", bridge_name),
    ];
    let (text, fix) = if b.via_flannel {
        ("what-flannel", "fix-flannel")
    } else {
        ("what-bridge", "fix-bridge")
    };
    let text = ctx.phrase(text, &vars);
    let fix = format!(
        "{} {}",
        ctx.phrase(fix, &vars),
        ctx.phrase("fix-apply", &vars)
    );
    Some((ev, text, fix))
}
