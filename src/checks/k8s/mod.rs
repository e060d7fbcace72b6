//! Built-in analyzers of the `k8s/*` family: workload and node health on any cluster,
//! whatever its platform. They read the Kubernetes objects through [`crate::cluster`] and
//! answer "what is broken right now, and since when", with the bundle's own time.
//!
//! Two rules hold for the whole family:
//! - pods failing the same way are one finding: the pods of one workload (a Deployment through
//!   its ReplicaSets) with the same container in the same state and cause, whatever their
//!   number, each pod one occurrence;
//! - a failure a platform check explains is left to it ([`overlap`]), so it is reported once,
//!   by the more specific check.

mod config;
mod crashloop;
mod images;
mod nodes;
pub mod overlap;
pub mod scheduling;
mod volumes;
mod workloads;

use super::{Builtin, Ctx, Draft};
use crate::cluster::{self, Pod, human_duration, secs_before};
use crate::facts::{JsonDoc, Unavailable};
use crate::model::Evidence;
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;

/// The `k8s/*` built-in analyzers, bound to their specs by id.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        id: "k8s/container-config-error",
        run: config::container_config_error,
        fills: &[
            "advice",
            "container",
            "count",
            "message",
            "name",
            "namespace",
            "node",
            "pod",
            "pods",
            "reason",
            "since",
            "subject",
            "target",
        ],
    },
    Builtin {
        id: "k8s/image-pull-failure",
        run: images::image_pull_failure,
        fills: &[
            "namespace",
            "pod",
            "pods",
            "count",
            "subject",
            "target",
            "node",
            "container",
            "image",
            "state",
            "cause",
            "message",
            "since",
            "advice",
        ],
    },
    Builtin {
        id: "k8s/node-not-ready",
        run: nodes::node_not_ready,
        fills: &[
            "condition",
            "drain",
            "for",
            "message",
            "node",
            "pods",
            "problems",
            "reason",
            "since",
            "state",
            "status",
        ],
    },
    Builtin {
        id: "k8s/pod-crashloop",
        run: crashloop::pod_crashloop,
        fills: &[
            "ago",
            "code",
            "container",
            "count",
            "exit",
            "for",
            "meaning",
            "namespace",
            "node",
            "node_restarts",
            "own",
            "pod",
            "pods",
            "reason",
            "restarts",
            "since",
            "state",
            "subject",
            "target",
            "why",
        ],
    },
    Builtin {
        id: "k8s/pod-oomkilled",
        run: crashloop::pod_oomkilled,
        fills: &[
            "container",
            "count",
            "limit",
            "memory",
            "namespace",
            "node",
            "pod",
            "pods",
            "request",
            "restarts",
            "state",
            "subject",
            "target",
            "when",
        ],
    },
    Builtin {
        id: "k8s/pod-unschedulable",
        run: scheduling::pod_unschedulable,
        fills: &[
            "namespace",
            "pod",
            "pods",
            "count",
            "subject",
            "target",
            "node",
            "why",
            "message",
            "since",
            "advice",
        ],
    },
    Builtin {
        id: "k8s/volume-mount-failure",
        run: volumes::volume_mount_failure,
        fills: &[
            "advice",
            "cause",
            "count",
            "event",
            "kind",
            "message",
            "name",
            "namespace",
            "node",
            "phase",
            "pod",
            "pods",
            "since",
            "subject",
            "target",
            "volume",
        ],
    },
    Builtin {
        id: "k8s/workload-unavailable",
        run: workloads::workload_unavailable,
        fills: &[
            "available",
            "conditions",
            "desired",
            "kind",
            "lines",
            "name",
            "namespace",
            "pods",
            "target",
            "unready",
            "workload",
        ],
    },
];

/// The lists a check reads: pods (required) and events (optional: they add evidence).
pub struct Lists {
    pub pods: Arc<JsonDoc>,
    pub events: Option<Arc<JsonDoc>>,
    pub now: Option<Timestamp>,
}

impl Lists {
    pub fn read(ctx: &Ctx) -> Result<Lists, Unavailable> {
        Ok(Lists {
            pods: ctx.list("kubectl/pods.json")?,
            events: ctx.list("kubectl/events.json").ok(),
            now: ctx.facts.collection_time(),
        })
    }

    /// The events about each pod (none without an event list).
    pub fn pod_events(&self) -> cluster::PodEvents<'_> {
        cluster::pod_events(self.events.as_deref())
    }
}

/// Pods failing the same way, in first-seen order of their keys.
pub struct Groups<'d, T> {
    order: Vec<String>,
    groups: HashMap<String, Vec<(Pod<'d>, T)>>,
}

impl<T> Default for Groups<'_, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'d, T> Groups<'d, T> {
    pub fn new() -> Self {
        Groups {
            order: Vec::new(),
            groups: HashMap::new(),
        }
    }

    /// Adds a copy of `pod`'s view: pods are read one view at a time (`cluster::pods`), and
    /// the groups keep only the ones they report on.
    pub fn add(&mut self, key: String, pod: &Pod<'d>, what: T) {
        let g = self.groups.entry(key.clone()).or_insert_with(|| {
            self.order.push(key);
            Vec::new()
        });
        g.push((pod.clone(), what));
    }

    pub fn into_groups(mut self) -> Vec<Vec<(Pod<'d>, T)>> {
        self.order
            .iter()
            .filter_map(|k| self.groups.remove(k))
            .collect()
    }
}

/// The grouping key of a pod: its workload, else the pod itself.
pub fn owner_key(pod: &Pod) -> String {
    match pod.workload() {
        Some(w) => format!("{}/{}/{}", w.kind, w.namespace, w.name),
        None => format!("Pod/{}", pod.key()),
    }
}

/// "a, b, c and 4 more".
pub fn name_list(names: &[&str], max: usize) -> String {
    if names.len() <= max {
        return names.join(", ");
    }
    format!("{} and {} more", names[..max].join(", "), names.len() - max)
}

/// Who failing pods are, for a summary: `Deployment shop/web (3 pods: a, b, c)` or
/// `pod shop/web-1`.
pub fn subject(pods: &[&Pod]) -> String {
    let first = pods[0];
    let names: Vec<&str> = pods.iter().map(|p| p.meta.name).collect();
    match first.workload() {
        Some(w) if pods.len() == 1 => format!("{w} (pod {})", first.meta.name),
        Some(w) => format!("{w} ({} pods: {})", pods.len(), name_list(&names, 3)),
        None => format!("pod {}", first.key()),
    }
}

/// Template variables every pod finding has: `namespace`, `pod` (the first pod), `pods` (all
/// names), `count`, `subject`, `target` (`deployment/web` or `pod/web-1`), `node`.
pub fn pod_vars(d: Draft, pods: &[&Pod]) -> Draft {
    let first = pods[0];
    let names: Vec<&str> = pods.iter().map(|p| p.meta.name).collect();
    let mut nodes: Vec<&str> = pods.iter().filter_map(|p| p.node).collect();
    nodes.sort_unstable();
    nodes.dedup();
    d.var("namespace", first.meta.namespace)
        .var("pod", first.meta.name)
        .var("pods", name_list(&names, 10))
        .var("count", pods.len().to_string())
        .var("subject", subject(pods))
        .var("target", first.target())
        .var(
            "node",
            if nodes.is_empty() {
                "no node".to_string()
            } else {
                name_list(&nodes, 5)
            },
        )
}

/// `for 3 h before collection` from the earliest of `times`, or nothing when unknown.
pub fn for_how_long(
    now: Option<Timestamp>,
    times: impl IntoIterator<Item = Option<Timestamp>>,
) -> Option<String> {
    let earliest = times.into_iter().flatten().min()?;
    let secs = secs_before(now, Some(earliest))?;
    Some(format!("for {} before collection", human_duration(secs)))
}

/// Keeps the evidence of a finding standing for `count` pods readable: every pod's own line,
/// and the extra evidence (logs, events) only of the first pods.
pub fn finish(mut d: Draft, count: usize, extra: Vec<Evidence>) -> Draft {
    d.evidence.extend(extra);
    d.occurrences = Some(count);
    d
}
