//! `k8s/node-not-ready`: nodes whose `Ready` condition is False or Unknown, or that report
//! memory, disk or PID pressure or an unavailable network. A node cordoned on purpose (a
//! drain: `unschedulable` with its taint) is reported at info severity: someone is working on
//! it.

use super::overlap;
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{self, Condition, Node, condition, human_duration, secs_before};
use crate::facts::Unavailable;
use crate::model::Severity;
use jiff::Timestamp;
use std::collections::HashMap;

/// A node that has not been Ready since it registered, this shortly before collection, is
/// still joining: its network add-on and kubelet are starting.
const JOINING_SECS: i64 = 600;

const PRESSURES: &[&str] = &[
    "MemoryPressure",
    "DiskPressure",
    "PIDPressure",
    "NetworkUnavailable",
];

/// What a Ready condition that is not True means, and since when.
fn ready_text(ctx: &Ctx, c: &Condition, now: Option<Timestamp>) -> String {
    let since = since(ctx, now, c);
    match (c.status, c.reason) {
        ("Unknown", _) => ctx.phrase("ready-unknown", &[("since", &since)]),
        (status, r) => ctx.phrase(
            "ready-not-true",
            &[
                ("status", status),
                ("since", &since),
                ("reason", r.unwrap_or("no reason")),
                ("message", c.message.unwrap_or("no message")),
            ],
        ),
    }
}

fn since(ctx: &Ctx, now: Option<Timestamp>, c: &Condition) -> String {
    secs_before(now, c.last_transition)
        .map(|s| ctx.phrase("since", &[("for", &human_duration(s))]))
        .map(|s| format!(" {s}"))
        .unwrap_or_default()
}

/// `k8s/node-not-ready`.
pub fn node_not_ready(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let claims = overlap::Claims::new(ctx.facts);
    let doc = ctx.list("kubectl/nodes.json")?;
    let pods_doc = ctx.list("kubectl/pods.json").ok();
    let pods = || pods_doc.iter().flat_map(|d| cluster::pods(d));
    let now = ctx.facts.collection_time();
    // CoreDNS Pending while nodes wait for a pod network is kubeadm/coredns-pending-no-cni's.
    let dns_pending =
        pods().any(|p| p.phase == "Pending" && claims.pending_pod(&p, None).is_some());
    // Pods still running on each node, counted once the first node needs it.
    let running_by_node = std::cell::OnceCell::new();
    let mut drafts = Vec::new();
    // A node without a Ready condition tells nothing; when no node has one, nothing was checked.
    let (mut listed, mut with_status) = (0usize, 0usize);
    for n in cluster::nodes(&doc) {
        listed += 1;
        if condition(&n.conditions, "Ready").is_some() {
            with_status += 1;
        }
        let mut problems = Vec::new();
        let mut evidence = Vec::new();
        let ready = condition(&n.conditions, "Ready");
        if let Some(r) = ready.filter(|r| r.status != "True") {
            if dns_pending
                && claims
                    .node_without_network(r.message.unwrap_or(""))
                    .is_some()
            {
                continue;
            }
            if joining(&n, r, now) {
                continue;
            }
            problems.push(ready_text(ctx, r, now));
            evidence.push(n.condition_evidence("Ready"));
        }
        for kind in PRESSURES {
            if let Some(c) = condition(&n.conditions, kind).filter(|c| c.status == "True") {
                problems.push(ctx.phrase(
                    "pressure",
                    &[
                        ("condition", kind),
                        ("since", &since(ctx, now, c)),
                        ("message", c.message.unwrap_or("no message")),
                    ],
                ));
                evidence.push(n.condition_evidence(kind));
            }
        }
        if problems.is_empty() {
            continue;
        }
        let running = running_by_node
            .get_or_init(|| {
                let mut by: HashMap<&str, usize> = HashMap::new();
                for p in pods() {
                    if let Some(node) = p.node
                        && !p.is_gone()
                        && p.phase != "Succeeded"
                        && p.phase != "Failed"
                    {
                        *by.entry(node).or_default() += 1;
                    }
                }
                by
            })
            .get(n.name())
            .copied()
            .unwrap_or(0);
        let pods_text = match &pods_doc {
            Some(_) if running == 1 => ctx.phrase("one-pod", &[]),
            Some(_) => ctx.phrase("pods", &[("count", &running.to_string())]),
            None => ctx.phrase("pods-unknown", &[]),
        };
        let mut d = Draft::new()
            .var("node", n.name())
            .var("problems", problems.join("; "))
            .var("state", state_word(&n))
            .var("pods", pods_text);
        if n.cordoned() {
            d.severity = Some(Severity::Info);
            d.vars.insert("drain".into(), ctx.phrase("cordoned", &[]));
            evidence.push(n.at.line("\"unschedulable\""));
        } else {
            d.vars.insert("drain".into(), String::new());
        }
        d.evidence = evidence;
        d.occurrences = Some(1);
        drafts.push(d);
    }
    if listed == 0 {
        return Draft::missing("no-node").not_evaluated();
    }
    if with_status == 0 {
        return Draft::missing("no-status").not_evaluated();
    }
    Ok(Outcome::Findings(drafts))
}

/// Never Ready since it registered (its Ready condition last changed within a minute of its
/// creation), and registered less than [`JOINING_SECS`] before collection.
fn joining(n: &Node, ready: &Condition, now: Option<Timestamp>) -> bool {
    let (Some(created), Some(changed)) = (n.meta.created, ready.last_transition) else {
        return false;
    };
    ready.status == "False"
        && (changed.as_second() - created.as_second()).abs() <= 60
        && secs_before(now, Some(created)).is_some_and(|s| s < JOINING_SECS)
}

fn state_word(n: &Node) -> String {
    match condition(&n.conditions, "Ready").map(|c| c.status) {
        Some("True") => "Ready, under pressure".into(),
        Some("Unknown") => "NotReady (status unknown)".into(),
        Some(_) => "NotReady".into(),
        None => "without a Ready condition".into(),
    }
}
