//! `kubeadm/reset-hang-runtime-stopped`: `kubeadm reset` waits at removing the Kubernetes
//! containers because the container runtime it asks is not running.

use super::KubeletSettings;
use crate::checks::{Ctx, Draft, Outcome, line_evidence};
use crate::facts::Unavailable;
use crate::model::Evidence;

/// A node's runtime service and whether it is stopped, with the evidence.
struct RuntimeState {
    node: String,
    unit: String,
    stopped: bool,
    state: String,
    evidence: Evidence,
}

pub fn reset_hang_runtime_stopped(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    // Per captured file: the "removing containers" step with nothing after it, or removal
    // failures and retries.
    let removing = ctx.matches_of("removing");
    let after = ctx.matches_of("after");
    let mut hangs: Vec<(String, Vec<Evidence>)> = Vec::new();
    let stuck = ctx.matches_of("stuck");
    let tagged = removing
        .iter()
        .map(|m| (true, m))
        .chain(stuck.iter().map(|m| (false, m)));
    for (is_removing, m) in tagged {
        // kubeadm 1.25+ at -v=5 logs every removal attempt, also when it succeeds: an attempt
        // is a hang only when reset went no further.
        let waits = is_removing || m.text.contains("Attempting to remove container");
        if waits && after.iter().any(|a| a.file == m.file && a.line > m.line) {
            continue;
        }
        match hangs.iter_mut().find(|(f, _)| **f == *m.file) {
            Some((_, ev)) => ev.push(line_evidence(m)),
            None => hangs.push((m.file.to_string(), vec![line_evidence(m)])),
        }
    }
    hangs.sort_by(|a, b| a.0.cmp(&b.0));
    if hangs.is_empty() {
        if ctx.scanned("removing") == 0 {
            return Draft::missing("default").not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let states: Vec<RuntimeState> = ctx
        .facts
        .nodes()
        .iter()
        .filter_map(|n| runtime_state(ctx, n))
        .collect();
    let stopped: Vec<&RuntimeState> = states.iter().filter(|s| s.stopped).collect();
    if stopped.is_empty() && !states.is_empty() {
        // The runtime answers: reset waits for some other reason.
        return Ok(Outcome::Pass);
    }
    let mut drafts = Vec::new();
    for (file, ev) in hangs {
        let mut d = Draft::new().var("file", file.as_str());
        d.evidence = ev;
        if stopped.is_empty() {
            let unit = ctx
                .facts
                .nodes()
                .first()
                .map(|n| runtime_unit(ctx, n))
                .unwrap_or_else(|| "docker".into());
            d = d.var("unit", unit).variant("state-unknown");
        } else {
            let nodes: Vec<&str> = stopped.iter().map(|s| s.node.as_str()).collect();
            let units: Vec<&str> = {
                let mut u: Vec<&str> = stopped.iter().map(|s| s.unit.as_str()).collect();
                u.dedup();
                u
            };
            let states: Vec<String> = stopped
                .iter()
                .map(|s| format!("{} is {} on {}", s.unit, s.state, s.node))
                .collect();
            d = d
                .var("node", nodes.join(", "))
                .var("unit", units.join(", "))
                .var("states", states.join("; "));
            for s in &stopped {
                d = d.evidence(s.evidence.clone());
            }
        }
        drafts.push(d);
    }
    Ok(Outcome::Findings(drafts))
}

/// The runtime the kubelet on `node` uses, and its state from `systemd/states.txt` or, without
/// it, from the last start/stop line of the runtime's journal.
fn runtime_state(ctx: &Ctx, node: &str) -> Option<RuntimeState> {
    let unit = runtime_unit(ctx, node);
    if let Ok(states) = ctx.facts.text(&format!("nodes/{node}/systemd/states.txt")) {
        for (n, line) in states.lines() {
            let mut it = line.split_whitespace();
            let (Some(u), Some(state)) = (it.next(), it.next()) else {
                continue;
            };
            if u.trim_end_matches(".service") == unit {
                let stopped = !matches!(state, "active" | "activating" | "reloading");
                return Some(RuntimeState {
                    node: node.into(),
                    unit: unit.clone(),
                    stopped,
                    state: state.into(),
                    evidence: states.evidence(n, n),
                });
            }
        }
    }
    let journal = format!("nodes/{node}/journal/{unit}.log");
    let last = ctx
        .matches_of("service")
        .into_iter()
        .rfind(|m| *m.file == *journal)?;
    let stopped = !m_is_start(&last.text);
    Some(RuntimeState {
        node: node.into(),
        unit,
        stopped,
        state: if stopped { "stopped" } else { "active" }.into(),
        evidence: line_evidence(last),
    })
}

fn m_is_start(line: &str) -> bool {
    line.contains("Started ")
}

/// The runtime's systemd unit: from the kubelet's CRI endpoint, else from what the collector
/// found of Docker on the node, else containerd.
fn runtime_unit(ctx: &Ctx, node: &str) -> String {
    let kubelet = KubeletSettings::read(ctx, node);
    if let Some((ep, _)) = kubelet.setting("container-runtime-endpoint", "containerRuntimeEndpoint")
    {
        if ep.contains("crio") {
            return "crio".into();
        }
        if ep.contains("containerd") {
            return "containerd".into();
        }
        if ep.contains("docker") {
            return "docker".into();
        }
    }
    let has = |p: &str| {
        ctx.facts
            .bundle
            .file(&format!("nodes/{node}/{p}"))
            .is_some()
    };
    if has("runtime/docker-info.json") || has("journal/docker.log") || has("systemd/docker.service")
    {
        "docker".into()
    } else if has("journal/crio.log") || has("systemd/crio.service") {
        "crio".into()
    } else {
        "containerd".into()
    }
}
