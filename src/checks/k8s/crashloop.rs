//! `k8s/pod-crashloop` and `k8s/pod-oomkilled`: containers that keep dying. A container in
//! `CrashLoopBackOff`, or one that restarted several times with a failing exit shortly before
//! collection, is crash-looping; restarts the node caused (a reboot ends every container on
//! it at once, reason `Unknown` or exit 255) are not, and neither are completed Job pods.
//! An OOM-killed container is its own finding, with its memory limit, since the fix is there.

use super::{Groups, Lists, finish, for_how_long, overlap, pod_vars};
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{self, Container, Pod, State, Terminated, secs_before};
use crate::facts::{Facts, TextFile, Unavailable};
use crate::model::{Evidence, Severity};
use jiff::Timestamp;
use std::collections::HashMap;

/// A running container that restarted this often, its current run started this shortly before
/// collection, is crash-looping between two back-offs (the back-off grows to five minutes).
const MIN_RESTARTS: u64 = 3;
const RECENT_SECS: i64 = 600;
/// A running container that restarted this often, last after a failure of its own, has a
/// problem that comes back (at every start-up, every reboot) even if it runs at collection.
const MANY_RESTARTS: u64 = 100;
/// Terminations this close together on one node are one event (a reboot, a runtime restart).
const SAME_MOMENT_SECS: i64 = 120;
/// Lines of the previous instance's log shown as evidence.
const LOG_TAIL: usize = 5;
/// Pods of a group whose log and events are shown besides their status.
const DETAILED_PODS: usize = 2;

/// How a container is failing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// Waiting in CrashLoopBackOff.
    BackOff,
    /// Terminated with an error and about to be restarted.
    Exited,
    /// Running again after repeated failing exits shortly before collection.
    Restarting,
    /// Running for a while now, after hundreds of restarts that ended in failures.
    Flapping,
}

impl Failure {
    fn label(&self, init: bool) -> String {
        let s = match self {
            Failure::BackOff => "in CrashLoopBackOff",
            Failure::Exited => "exited with an error, waiting to restart",
            Failure::Restarting => "restarting repeatedly",
            Failure::Flapping => "running again after many failed restarts",
        };
        if init {
            format!("{s} (init container)")
        } else {
            s.to_string()
        }
    }
}

/// Terminations the node caused: reason `Unknown` (the runtime lost the container: a reboot
/// or a runtime restart), or exit 255 at the same moment as every other container ending on
/// that node.
struct NodeEvents<'d> {
    by_node: HashMap<&'d str, Vec<(Timestamp, bool)>>,
    /// Per node, the most restarts of a container whose last end was the node's doing: how
    /// many restarts the node's own restarts account for.
    node_restarts: HashMap<&'d str, u64>,
}

fn node_caused(t: &Terminated) -> bool {
    t.reason == "Unknown" || t.exit_code == 255
}

impl<'d> NodeEvents<'d> {
    fn new(pods: impl Iterator<Item = Pod<'d>> + Clone) -> NodeEvents<'d> {
        let mut by_node: HashMap<&str, Vec<(Timestamp, bool)>> = HashMap::new();
        let mut node_restarts: HashMap<&str, u64> = HashMap::new();
        for p in pods.clone() {
            let Some(node) = p.node else { continue };
            for c in &p.containers {
                if let Some(t) = &c.last
                    && let Some(f) = t.finished
                {
                    by_node.entry(node).or_default().push((f, node_caused(t)));
                }
            }
        }
        let mut events = NodeEvents {
            by_node,
            node_restarts: HashMap::new(),
        };
        for p in pods {
            let Some(node) = p.node else { continue };
            for c in &p.containers {
                if let Some(t) = &c.last
                    && events.explains(Some(node), t)
                {
                    let n = node_restarts.entry(node).or_default();
                    *n = (*n).max(c.restarts);
                }
            }
        }
        events.node_restarts = node_restarts;
        events
    }

    /// Whether `t` (a last termination on `node`) was the node's doing.
    fn explains(&self, node: Option<&str>, t: &Terminated) -> bool {
        if t.reason == "Unknown" {
            return true;
        }
        if t.exit_code != 255 {
            return false;
        }
        let (Some(node), Some(at)) = (node, t.finished) else {
            return false;
        };
        let near: Vec<bool> = self
            .by_node
            .get(node)
            .map(|v| {
                v.iter()
                    .filter(|(f, _)| (f.as_second() - at.as_second()).abs() <= SAME_MOMENT_SECS)
                    .map(|(_, n)| *n)
                    .collect()
            })
            .unwrap_or_default();
        near.len() >= 2 && near.iter().all(|n| *n)
    }
}

fn failure(
    pod: &Pod,
    c: &Container,
    now: Option<Timestamp>,
    nodes: &NodeEvents,
) -> Option<Failure> {
    match &c.state {
        State::Waiting { reason, .. } if *reason == "CrashLoopBackOff" => Some(Failure::BackOff),
        State::Terminated(t)
            if !t.succeeded()
                && t.reason != "OOMKilled"
                && c.restarts >= 1
                && pod.phase == "Running" =>
        {
            (!nodes.explains(pod.node, t)).then_some(Failure::Exited)
        }
        State::Running { started } if c.restarts >= MIN_RESTARTS => {
            let t = c.last.as_ref()?;
            if t.exit_code == 0 || t.reason == "OOMKilled" || nodes.explains(pod.node, t) {
                return None;
            }
            let ago = secs_before(now, started.or(t.finished))?;
            if ago <= RECENT_SECS {
                return Some(Failure::Restarting);
            }
            (c.restarts >= MANY_RESTARTS).then_some(Failure::Flapping)
        }
        _ => None,
    }
}

/// What an exit code says about how the process ended, in the spec's phrases.
fn exit_meaning(ctx: &Ctx, t: &Terminated) -> String {
    let code = t.exit_code;
    let why = match code {
        0 => "exit-success",
        1 | 2 => "exit-app-error",
        126 => "exit-not-executable",
        127 => "exit-not-found",
        128 => "exit-not-started",
        134 => "exit-abort",
        137 => "exit-kill",
        139 => "exit-segv",
        143 => "exit-term",
        255 => "exit-255",
        c if c > 128 => "exit-signal",
        _ => "exit-error",
    };
    let reason = if t.reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", t.reason)
    };
    ctx.phrase(
        "exit",
        &[
            ("code", &code.to_string()),
            ("reason", &reason),
            ("why", &ctx.phrase(why, &[])),
        ],
    )
}

/// The last lines of a container's previous log, when the bundle holds it.
fn log_tail(facts: &Facts, pod: &Pod, c: &Container) -> Option<Evidence> {
    let base = format!(
        "kubectl/logs/{}/{}/{}",
        pod.meta.namespace, pod.meta.name, c.name
    );
    for path in [format!("{base}.previous.log"), format!("{base}.log")] {
        if facts.bundle.file(&path).is_none() {
            continue;
        }
        let Ok(text) = facts.text(&path) else {
            continue;
        };
        if let Some(ev) = tail(&text) {
            return Some(ev);
        }
    }
    None
}

fn tail(text: &TextFile) -> Option<Evidence> {
    let n = text.line_count();
    let last = (1..=n).rev().find(|&i| !text.line(i).trim().is_empty())?;
    let first = last.saturating_sub(LOG_TAIL - 1).max(1);
    Some(text.evidence(first, last))
}

/// `k8s/pod-crashloop`.
pub fn pod_crashloop(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let claims = overlap::Claims::new(ctx.facts);
    let lists = Lists::read(ctx)?;
    let by_pod = lists.pod_events();
    let nodes = NodeEvents::new(cluster::pods(&lists.pods));
    let mut groups = Groups::new();
    for p in cluster::pods(&lists.pods) {
        let p = &p;
        if p.is_gone() || p.is_completed() || claims.failing_pod(p).is_some() {
            continue;
        }
        for (i, c) in p.containers.iter().enumerate() {
            // An OOM kill is k8s/pod-oomkilled's: the cause and the fix are the memory limit.
            if c.last.as_ref().is_some_and(|t| t.reason == "OOMKilled")
                || matches!(&c.state, State::Terminated(t) if t.reason == "OOMKilled")
            {
                continue;
            }
            let Some(f) = failure(p, c, lists.now, &nodes) else {
                continue;
            };
            if claims.startup_auth_failure(p, c.name).is_some() {
                continue;
            }
            let exit = c
                .last
                .as_ref()
                .or(match &c.state {
                    State::Terminated(t) => Some(t),
                    _ => None,
                })
                .map(|t| format!("{}/{}", t.exit_code, t.reason))
                .unwrap_or_default();
            let key = format!(
                "{}|{}|{}|{:?}|{exit}",
                super::owner_key(p),
                c.name,
                c.init,
                f
            );
            groups.add(key, p, (i, f));
        }
    }
    let mut drafts = Vec::new();
    for g in groups.into_groups() {
        let pods_of: Vec<&Pod> = g.iter().map(|(p, _)| p).collect();
        let (first, (ci, f)) = (&g[0].0, &g[0].1);
        let c = &first.containers[*ci];
        let last = c.last.as_ref().or(match &c.state {
            State::Terminated(t) => Some(t),
            _ => None,
        });
        let restarts: Vec<u64> = g
            .iter()
            .map(|(p, (i, _))| p.containers[*i].restarts)
            .collect();
        let (lo, hi) = (
            restarts.iter().min().copied().unwrap_or(0),
            restarts.iter().max().copied().unwrap_or(0),
        );
        let restarts_text = if lo == hi {
            format!("{hi} restarts")
        } else {
            format!("{lo} to {hi} restarts")
        };
        // Since when: the first back-off event of these pods, else when they started.
        let backoffs: Vec<Option<Timestamp>> = pods_of
            .iter()
            .flat_map(|p| {
                by_pod
                    .of(p.meta.namespace, p.meta.name)
                    .into_iter()
                    .filter(|e| e.reason == "BackOff")
                    .map(|e| e.first)
            })
            .collect();
        let since = match for_how_long(lists.now, backoffs.iter().copied()) {
            Some(s) => ctx.phrase("since-backoff", &[("for", &s)]),
            None => match secs_before(lists.now, pods_of.iter().filter_map(|p| p.started).min()) {
                Some(s) => ctx.phrase(
                    "since-started",
                    &[
                        ("ago", &cluster::human_duration(s)),
                        ("restarts", &restarts_text),
                    ],
                ),
                None => String::new(),
            },
        };
        let mut d = pod_vars(Draft::new(), &pods_of)
            .var("container", c.name)
            .var("state", f.label(c.init))
            .var("restarts", restarts_text)
            .var(
                "exit",
                last.map(|t| {
                    if t.reason.is_empty() {
                        t.exit_code.to_string()
                    } else {
                        format!("{} {}", t.exit_code, t.reason)
                    }
                })
                .unwrap_or_else(|| "unknown".into()),
            )
            .var("since", since)
            .var(
                "meaning",
                last.map(|t| exit_meaning(ctx, t))
                    .unwrap_or_else(|| ctx.phrase("exit-unrecorded", &[])),
            );
        match f {
            Failure::Restarting => d.severity = Some(Severity::Warning),
            Failure::Flapping => {
                d.severity = Some(Severity::Info);
                let reboots = first
                    .node
                    .and_then(|n| nodes.node_restarts.get(n).map(|r| (n, *r)));
                let ran = match &c.state {
                    State::Running { started } => secs_before(lists.now, *started),
                    _ => None,
                };
                let hi_text = hi.to_string();
                let mut s = match ran.map(cluster::human_duration) {
                    Some(d) => {
                        ctx.phrase("flapping-running", &[("for", &d), ("restarts", &hi_text)])
                    }
                    None => ctx.phrase("flapping-again", &[("restarts", &hi_text)]),
                };
                if let Some((node, r)) = reboots.filter(|(_, r)| *r > 0 && *r < hi) {
                    s.push(' ');
                    s.push_str(&ctx.phrase(
                        "flapping-reboots",
                        &[
                            ("node", node),
                            ("node_restarts", &r.to_string()),
                            ("own", &(hi - r).to_string()),
                        ],
                    ));
                }
                d.vars.insert("since".into(), s);
            }
            _ => {}
        }
        let mut extra = Vec::new();
        for (p, (i, _)) in &g {
            d.evidence.push(p.container_evidence(&p.containers[*i]));
        }
        for (p, (i, _)) in g.iter().take(DETAILED_PODS) {
            let c = &p.containers[*i];
            if let Some(ev) = log_tail(ctx.facts, p, c) {
                extra.push(ev);
            }
            // The probe failures that got it killed, when events hold them.
            if let Some(e) = by_pod
                .of(p.meta.namespace, p.meta.name)
                .iter()
                .rev()
                .find(|e| e.reason == "Unhealthy")
            {
                extra.push(e.evidence());
            }
        }
        drafts.push(finish(d, g.len(), extra));
    }
    Ok(Outcome::Findings(drafts))
}

/// `k8s/pod-oomkilled`.
pub fn pod_oomkilled(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let claims = overlap::Claims::new(ctx.facts);
    let lists = Lists::read(ctx)?;
    let mut groups = Groups::new();
    for p in cluster::pods(&lists.pods) {
        let p = &p;
        if p.meta.deleting || claims.failing_pod(p).is_some() {
            continue;
        }
        for (i, c) in p.containers.iter().enumerate() {
            let current = matches!(&c.state, State::Terminated(t) if t.reason == "OOMKilled");
            let last = c.last.as_ref().is_some_and(|t| t.reason == "OOMKilled");
            if !(current || last) {
                continue;
            }
            let key = format!(
                "{}|{}|{}|{}",
                super::owner_key(p),
                c.name,
                c.memory_limit.unwrap_or("-"),
                c.state.label()
            );
            groups.add(key, p, i);
        }
    }
    let mut drafts = Vec::new();
    for g in groups.into_groups() {
        let pods_of: Vec<&Pod> = g.iter().map(|(p, _)| p).collect();
        let (first, ci) = (&g[0].0, g[0].1);
        let c = &first.containers[ci];
        let when = c
            .last
            .as_ref()
            .filter(|t| t.reason == "OOMKilled")
            .or(match &c.state {
                State::Terminated(t) => Some(t),
                _ => None,
            })
            .and_then(|t| t.finished);
        let ago = secs_before(lists.now, when)
            .map(|s| format!(", last {} before collection", cluster::human_duration(s)))
            .unwrap_or_default();
        let memory = match (c.memory_limit, c.memory_request) {
            (Some(l), Some(r)) => ctx.phrase("memory", &[("limit", l), ("request", r)]),
            (Some(l), None) => ctx.phrase("memory-no-request", &[("limit", l)]),
            (None, Some(r)) => ctx.phrase("memory-no-limit", &[("request", r)]),
            (None, None) => ctx.phrase("memory-none", &[]),
        };
        let mut d = pod_vars(Draft::new(), &pods_of)
            .var("container", c.name)
            .var("state", c.state.label())
            .var("restarts", c.restarts.to_string())
            .var("when", ago)
            .var("memory", memory)
            .var("limit", c.memory_limit.unwrap_or("none"));
        for (p, i) in &g {
            d.evidence.push(p.container_evidence(&p.containers[*i]));
        }
        let mut extra = Vec::new();
        if c.memory_limit.is_some() {
            extra.push(first.at.line_after(
                &[
                    "\"containers\"",
                    &format!("\"name\": \"{}\"", c.name),
                    "\"limits\"",
                ],
                "\"memory\"",
            ));
        }
        drafts.push(finish(d, g.len(), extra));
    }
    Ok(Outcome::Findings(drafts))
}
