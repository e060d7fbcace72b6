//! Typed views of the Kubernetes objects a bundle holds: pods (containers, their states,
//! restarts, exit codes and times), nodes (conditions, taints, cordon), events (the object
//! they are about, reason, message, first and last time, count), workloads (Deployments,
//! StatefulSets, DaemonSets: replicas, conditions, progress deadline) and owner references.
//!
//! Checks of every family read the same `kubectl get ... -o json` lists; before this module
//! each one walked the raw JSON with its own paths and its own idea of defaults (a missing
//! `restartCount` is 0, a missing `spec.replicas` is 1, an event's time is `lastTimestamp`,
//! else `eventTime`...). The views here say it once. They borrow from the parsed list
//! ([`JsonDoc`]) so that reading 30,000 pods copies no strings, and every view keeps its place
//! in the file ([`At`]) so evidence points at the object's own lines.
//!
//! Views are built from any [`JsonDoc`]: a bundle file through `Facts::list`, or an in-memory
//! list made by [`table`] (one object a line), which is how tests and importers use them.
//! Fields the object lacks are `None` or the default Kubernetes applies, never a panic:
//! bundles are untrusted input.

use crate::facts::{Item, JsonDoc, TextFile, parse_time};
use crate::model::Evidence;
use jiff::Timestamp;
use serde_json::{Map, Value};

/// Where an object sits in its list file: evidence at its own lines.
#[derive(Debug, Clone, Copy)]
pub struct At<'d> {
    pub doc: &'d JsonDoc,
    pub item: &'d Item,
}

impl<'d> At<'d> {
    /// The bundle path of the list file.
    pub fn path(&self) -> &'d str {
        self.doc.path()
    }

    /// The whole object (cut to a readable excerpt when long).
    pub fn evidence(&self) -> Evidence {
        self.doc.item_evidence(self.item)
    }

    /// The first line of the object containing `needle`, else the whole object.
    pub fn line(&self, needle: &str) -> Evidence {
        self.doc.item_line_evidence(self.item, needle)
    }

    /// The first line containing `needle` after the lines containing each of `anchors` in turn
    /// (e.g. the `"reason"` after a container's `"name": "app"` after `"containerStatuses"`);
    /// when an anchor is not found, the search goes on from where it was.
    pub fn line_after(&self, anchors: &[&str], needle: &str) -> Evidence {
        let text = &self.doc.text;
        let (first, last) = (self.item.line, self.item.end_line);
        let mut from = first;
        for a in anchors {
            if let Some(n) = text.find_line_in(from, last, a) {
                from = n;
            }
        }
        match text.find_line_in(from, last, needle) {
            Some(n) => text.evidence(n, n),
            None => self.line(needle),
        }
    }

    /// Lines `from..=to` of the object's file, as one evidence item.
    pub fn lines(&self, from: usize, to: usize) -> Evidence {
        self.doc.text.evidence(from, to)
    }

    /// 1-based line of the first line in the object containing `needle`, after `from`.
    pub fn find(&self, from: usize, needle: &str) -> Option<usize> {
        self.doc
            .text
            .find_line_in(from.max(self.item.line), self.item.end_line, needle)
    }
}

/// An in-memory list file holding `items`, one compact JSON object a line (line `n` is item
/// `n`): views, evidence and checks work on it as on a bundle file.
pub fn table(path: &str, items: Vec<Value>) -> JsonDoc {
    let text: String = items.iter().map(|v| format!("{v}\n")).collect();
    let items = items
        .into_iter()
        .enumerate()
        .map(|(i, value)| Item {
            value,
            line: i + 1,
            end_line: i + 1,
        })
        .collect();
    JsonDoc {
        text: TextFile::new(path, text.into_bytes()),
        value: Value::Null,
        items,
        is_list: true,
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn obj<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn arr<'a>(v: Option<&'a Value>, key: &str) -> &'a [Value] {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn time(v: Option<&Value>, key: &str) -> Option<Timestamp> {
    v.and_then(|v| s(v, key)).and_then(parse_time)
}

fn uint(v: Option<&Value>, key: &str) -> Option<u64> {
    v.and_then(|v| v.get(key)).and_then(|x| {
        x.as_u64()
            .or_else(|| x.as_i64().map(|i| i.max(0) as u64))
            .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
    })
}

/// `metadata` of any object.
#[derive(Debug, Clone)]
pub struct Meta<'d> {
    /// Empty for cluster-scoped objects (nodes).
    pub namespace: &'d str,
    pub name: &'d str,
    pub created: Option<Timestamp>,
    /// `deletionTimestamp` is set: the object is being deleted (kubectl: Terminating).
    pub deleting: bool,
    pub labels: Option<&'d Map<String, Value>>,
    pub annotations: Option<&'d Map<String, Value>>,
    pub owners: Vec<OwnerRef<'d>>,
}

impl<'d> Meta<'d> {
    pub fn of(v: &'d Value) -> Meta<'d> {
        let m = obj(v, "metadata");
        Meta {
            namespace: m.and_then(|m| s(m, "namespace")).unwrap_or(""),
            name: m.and_then(|m| s(m, "name")).unwrap_or(""),
            created: time(m, "creationTimestamp"),
            deleting: m.and_then(|m| obj(m, "deletionTimestamp")).is_some(),
            labels: m.and_then(|m| m.get("labels")).and_then(Value::as_object),
            annotations: m
                .and_then(|m| m.get("annotations"))
                .and_then(Value::as_object),
            owners: arr(m, "ownerReferences")
                .iter()
                .map(|o| OwnerRef {
                    kind: s(o, "kind").unwrap_or(""),
                    name: s(o, "name").unwrap_or(""),
                    controller: o.get("controller").and_then(Value::as_bool) == Some(true),
                })
                .collect(),
        }
    }

    pub fn label(&self, key: &str) -> Option<&'d str> {
        self.labels?.get(key)?.as_str()
    }

    /// The controlling owner (`controller: true`), else the first one.
    pub fn controller(&self) -> Option<&OwnerRef<'d>> {
        self.owners
            .iter()
            .find(|o| o.controller)
            .or(self.owners.first())
    }
}

/// One entry of `metadata.ownerReferences`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef<'d> {
    pub kind: &'d str,
    pub name: &'d str,
    pub controller: bool,
}

/// The workload a pod belongs to, as a person names it: a Deployment rather than its
/// ReplicaSet, a CronJob rather than its Job.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadRef {
    /// `Deployment`, `ReplicaSet`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, or another
    /// owner's kind as written (a custom controller's).
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl WorkloadRef {
    /// `deployment/web`, as kubectl takes it.
    pub fn kubectl(&self) -> String {
        format!("{}/{}", self.kind.to_ascii_lowercase(), self.name)
    }
}

impl std::fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// Strips a generated suffix `-<suffix>` from `name`, when there is one.
fn strip_suffix_part<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    name.strip_suffix(suffix)?
        .strip_suffix('-')
        .filter(|b| !b.is_empty())
}

/// The workload owning a pod (given its metadata), or `None` for a bare pod. A ReplicaSet
/// named `<deployment>-<pod-template-hash>` (the hash is the pod's `pod-template-hash` label)
/// stands for its Deployment; a Job named `<cronjob>-<minutes since epoch>` for its CronJob.
/// Without the label, a ReplicaSet's last `-` part is taken as the hash, as kubectl users read
/// it.
pub fn workload_of(meta: &Meta) -> Option<WorkloadRef> {
    let o = meta.controller()?;
    if o.name.is_empty() || o.kind.is_empty() {
        return None;
    }
    let (kind, name) = match o.kind {
        "ReplicaSet" => {
            let by_label = meta
                .label("pod-template-hash")
                .and_then(|h| strip_suffix_part(o.name, h));
            let by_shape = o
                .name
                .rsplit_once('-')
                .filter(|(d, h)| !d.is_empty() && h.len() >= 5 && h.chars().all(is_hash_char))
                .map(|(d, _)| d);
            match by_label.or(by_shape) {
                Some(d) => ("Deployment", d),
                None => ("ReplicaSet", o.name),
            }
        }
        "Job" => match o.name.rsplit_once('-') {
            Some((c, t))
                if !c.is_empty() && t.len() >= 8 && t.bytes().all(|b| b.is_ascii_digit()) =>
            {
                ("CronJob", c)
            }
            _ => ("Job", o.name),
        },
        k => (k, o.name),
    };
    Some(WorkloadRef {
        kind: kind.to_string(),
        namespace: meta.namespace.to_string(),
        name: name.to_string(),
    })
}

/// Characters of the hashes Kubernetes puts in generated names (`rand.SafeEncodeString`).
fn is_hash_char(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_lowercase()
}

/// The target of `kubectl set`/`rollout` commands for a pod: its workload (`deployment/web`),
/// else the pod itself (`pod/web-1`).
pub fn owner_target(pod: &Value) -> String {
    let meta = Meta::of(pod);
    match workload_of(&meta) {
        Some(w) => w.kubectl(),
        None => format!("pod/{}", meta.name),
    }
}

/// A condition of a pod, node or workload.
#[derive(Debug, Clone)]
pub struct Condition<'d> {
    /// `type`: Ready, PodScheduled, MemoryPressure, Available, Progressing...
    pub kind: &'d str,
    /// `True`, `False` or `Unknown`.
    pub status: &'d str,
    pub reason: Option<&'d str>,
    pub message: Option<&'d str>,
    pub last_transition: Option<Timestamp>,
    /// `lastHeartbeatTime` (nodes) or `lastUpdateTime` (Deployments).
    pub last_update: Option<Timestamp>,
}

fn conditions(status: Option<&Value>) -> Vec<Condition<'_>> {
    arr(status, "conditions")
        .iter()
        .map(|c| Condition {
            kind: s(c, "type").unwrap_or(""),
            status: s(c, "status").unwrap_or(""),
            reason: s(c, "reason"),
            message: s(c, "message"),
            last_transition: time(Some(c), "lastTransitionTime"),
            last_update: time(Some(c), "lastHeartbeatTime").or(time(Some(c), "lastUpdateTime")),
        })
        .collect()
}

/// The condition of type `kind`, if the object reports it.
pub fn condition<'a, 'd>(conds: &'a [Condition<'d>], kind: &str) -> Option<&'a Condition<'d>> {
    conds.iter().find(|c| c.kind == kind)
}

/// A container's termination (`state.terminated` or `lastState.terminated`).
#[derive(Debug, Clone)]
pub struct Terminated<'d> {
    /// `Completed`, `Error`, `OOMKilled`, `ContainerCannotRun`, `Unknown`...
    pub reason: &'d str,
    pub exit_code: i64,
    pub signal: Option<i64>,
    pub message: Option<&'d str>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
}

impl Terminated<'_> {
    fn of(v: &Value) -> Option<Terminated<'_>> {
        let t = obj(v, "terminated")?;
        Some(Terminated {
            reason: s(t, "reason").unwrap_or(""),
            exit_code: t.get("exitCode").and_then(Value::as_i64).unwrap_or(0),
            signal: t.get("signal").and_then(Value::as_i64),
            message: s(t, "message"),
            started: time(Some(t), "startedAt"),
            finished: time(Some(t), "finishedAt"),
        })
    }

    /// Ended successfully (exit 0).
    pub fn succeeded(&self) -> bool {
        self.exit_code == 0 && self.reason != "OOMKilled" && self.reason != "Error"
    }
}

/// A container's current state.
#[derive(Debug, Clone)]
pub enum State<'d> {
    Waiting {
        /// `ContainerCreating`, `CrashLoopBackOff`, `ImagePullBackOff`,
        /// `CreateContainerConfigError`...
        reason: &'d str,
        message: Option<&'d str>,
    },
    Running {
        started: Option<Timestamp>,
    },
    Terminated(Terminated<'d>),
    /// No state recorded.
    Unknown,
}

impl State<'_> {
    fn of(v: Option<&Value>) -> State<'_> {
        let Some(v) = v else {
            return State::Unknown;
        };
        if let Some(w) = obj(v, "waiting") {
            return State::Waiting {
                reason: s(w, "reason").unwrap_or(""),
                message: s(w, "message"),
            };
        }
        if let Some(t) = Terminated::of(v) {
            return State::Terminated(t);
        }
        if let Some(r) = obj(v, "running") {
            return State::Running {
                started: time(Some(r), "startedAt"),
            };
        }
        State::Unknown
    }

    /// The waiting reason, when waiting.
    pub fn waiting(&self) -> Option<&str> {
        match self {
            State::Waiting { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// What `kubectl get pods` shows for it: the waiting or terminated reason, or `Running`.
    pub fn label(&self) -> &str {
        match self {
            State::Waiting { reason, .. } => reason,
            State::Terminated(t) => t.reason,
            State::Running { .. } => "Running",
            State::Unknown => "unknown",
        }
    }
}

/// A container of a pod: its spec and its status joined by name.
#[derive(Debug, Clone)]
pub struct Container<'d> {
    pub name: &'d str,
    /// An init container.
    pub init: bool,
    pub image: &'d str,
    pub ready: bool,
    pub restarts: u64,
    pub state: State<'d>,
    /// The previous instance's end (`lastState.terminated`).
    pub last: Option<Terminated<'d>>,
    /// `resources.limits.memory` and `resources.requests.memory` of its spec.
    pub memory_limit: Option<&'d str>,
    pub memory_request: Option<&'d str>,
    /// Has the container status (`containerStatuses` entry) at all.
    pub has_status: bool,
}

/// A pod.
#[derive(Debug, Clone)]
pub struct Pod<'d> {
    pub at: At<'d>,
    pub meta: Meta<'d>,
    pub node: Option<&'d str>,
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown` (empty when not recorded).
    pub phase: &'d str,
    /// A pod-level reason (`Evicted`, `NodeShutdown`, `NodeLost`...).
    pub reason: Option<&'d str>,
    pub message: Option<&'d str>,
    /// `status.startTime`: when the kubelet took the pod.
    pub started: Option<Timestamp>,
    /// `spec.restartPolicy` (`Always` when absent).
    pub restart_policy: &'d str,
    pub conditions: Vec<Condition<'d>>,
    /// Init containers first, then the regular ones, in spec order.
    pub containers: Vec<Container<'d>>,
}

impl<'d> Pod<'d> {
    pub fn of(at: At<'d>) -> Pod<'d> {
        let v = &at.item.value;
        let spec = obj(v, "spec");
        let status = obj(v, "status");
        let mut containers = Vec::new();
        for (spec_key, status_key, init) in [
            ("initContainers", "initContainerStatuses", true),
            ("containers", "containerStatuses", false),
        ] {
            let statuses = arr(status, status_key);
            let specs = arr(spec, spec_key);
            let mut names: Vec<&str> = specs.iter().filter_map(|c| s(c, "name")).collect();
            for st in statuses {
                if let Some(n) = s(st, "name")
                    && !names.contains(&n)
                {
                    names.push(n);
                }
            }
            for name in names {
                let sp = specs.iter().find(|c| s(c, "name") == Some(name));
                let st = statuses.iter().find(|c| s(c, "name") == Some(name));
                let res = sp.and_then(|c| obj(c, "resources"));
                let mem = |k: &str| res.and_then(|r| obj(r, k)).and_then(|m| s(m, "memory"));
                containers.push(Container {
                    name,
                    init,
                    image: sp
                        .and_then(|c| s(c, "image"))
                        .or_else(|| st.and_then(|c| s(c, "image")))
                        .unwrap_or(""),
                    ready: st.and_then(|c| c.get("ready")).and_then(Value::as_bool) == Some(true),
                    restarts: uint(st, "restartCount").unwrap_or(0),
                    state: State::of(st.and_then(|c| obj(c, "state"))),
                    last: st
                        .and_then(|c| obj(c, "lastState"))
                        .and_then(Terminated::of),
                    memory_limit: mem("limits"),
                    memory_request: mem("requests"),
                    has_status: st.is_some(),
                });
            }
        }
        Pod {
            at,
            meta: Meta::of(v),
            node: spec
                .and_then(|s_| s(s_, "nodeName"))
                .filter(|n| !n.is_empty()),
            phase: status.and_then(|x| s(x, "phase")).unwrap_or(""),
            reason: status
                .and_then(|x| s(x, "reason"))
                .filter(|r| !r.is_empty()),
            message: status.and_then(|x| s(x, "message")),
            started: time(status, "startTime"),
            restart_policy: spec.and_then(|x| s(x, "restartPolicy")).unwrap_or("Always"),
            conditions: conditions(status),
            containers,
        }
    }

    pub fn value(&self) -> &'d Value {
        &self.at.item.value
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.meta.namespace, self.meta.name)
    }

    pub fn workload(&self) -> Option<WorkloadRef> {
        workload_of(&self.meta)
    }

    /// A pod that is gone or going: being deleted, or ended with a pod-level reason
    /// (Evicted, NodeShutdown...). kubectl shows that reason rather than its containers'.
    pub fn is_gone(&self) -> bool {
        self.meta.deleting || self.reason.is_some()
    }

    /// A Job's pod that has done its work: phase Succeeded, or every container terminated
    /// with exit 0.
    pub fn is_completed(&self) -> bool {
        self.phase == "Succeeded"
            || (!self.containers.is_empty()
                && self.containers.iter().filter(|c| !c.init).all(|c| {
                    matches!(&c.state, State::Terminated(t) if t.exit_code == 0 && t.reason != "OOMKilled")
                }))
    }

    /// Evidence for one of its containers: the lines of the container's status, from its
    /// `lastState` through its `state` (restart count, last exit code and reason, current
    /// state), else the line naming the container.
    pub fn container_evidence(&self, c: &Container) -> Evidence {
        let key = if c.init {
            "\"initContainerStatuses\""
        } else {
            "\"containerStatuses\""
        };
        let Some(statuses) = self.at.find(self.at.item.line, key) else {
            return self.at.line(&format!("\"{}\"", c.name));
        };
        let name_line = format!("\"name\": \"{}\"", c.name);
        let Some(name_at) = self.at.find(statuses, &name_line) else {
            return self.at.line(key);
        };
        // kubectl writes a status's keys in order: ..., lastState, name, ready, restartCount,
        // started, state. The block starts at lastState when it precedes the name.
        let start = (statuses..name_at)
            .rev()
            .take(16)
            .find(|&n| self.at.doc.text.line(n).contains("\"lastState\""))
            .unwrap_or(name_at);
        let end = self
            .at
            .find(name_at, "\"state\"")
            .and_then(|st| {
                let reason = self.at.find(st, "\"reason\"");
                let running = self.at.find(st, "\"startedAt\"");
                match (reason, running) {
                    (Some(r), Some(x)) => Some(r.min(x)),
                    (a, b) => a.or(b),
                }
            })
            .filter(|&e| e - start < 40)
            .unwrap_or(name_at);
        // A compact (one-line) object gives start == end == the item's line.
        self.at.lines(start, end.max(start))
    }

    /// Evidence for a line inside one container's status (`"exitCode"`, `"message"`...).
    pub fn container_line(&self, c: &Container, needle: &str) -> Evidence {
        let key = if c.init {
            "\"initContainerStatuses\""
        } else {
            "\"containerStatuses\""
        };
        self.at
            .line_after(&[key, &format!("\"name\": \"{}\"", c.name)], needle)
    }
}

/// Every pod of a list.
pub fn pods(doc: &JsonDoc) -> Vec<Pod<'_>> {
    doc.items
        .iter()
        .map(|item| Pod::of(At { doc, item }))
        .collect()
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint<'d> {
    pub key: &'d str,
    pub value: &'d str,
    pub effect: &'d str,
}

/// A node.
#[derive(Debug, Clone)]
pub struct Node<'d> {
    pub at: At<'d>,
    pub meta: Meta<'d>,
    /// `spec.unschedulable`: cordoned.
    pub unschedulable: bool,
    pub taints: Vec<Taint<'d>>,
    pub conditions: Vec<Condition<'d>>,
    pub kubelet_version: Option<&'d str>,
}

impl<'d> Node<'d> {
    pub fn of(at: At<'d>) -> Node<'d> {
        let v = &at.item.value;
        let spec = obj(v, "spec");
        let status = obj(v, "status");
        Node {
            at,
            meta: Meta::of(v),
            unschedulable: spec
                .and_then(|x| x.get("unschedulable"))
                .and_then(Value::as_bool)
                == Some(true),
            taints: arr(spec, "taints")
                .iter()
                .map(|t| Taint {
                    key: s(t, "key").unwrap_or(""),
                    value: s(t, "value").unwrap_or(""),
                    effect: s(t, "effect").unwrap_or(""),
                })
                .collect(),
            conditions: conditions(status),
            kubelet_version: status
                .and_then(|x| obj(x, "nodeInfo"))
                .and_then(|x| s(x, "kubeletVersion")),
        }
    }

    pub fn name(&self) -> &'d str {
        self.meta.name
    }

    /// Cordoned (`kubectl cordon`/`drain`): unschedulable, with the taint the node controller
    /// adds for it.
    pub fn cordoned(&self) -> bool {
        self.unschedulable
            && self
                .taints
                .iter()
                .any(|t| t.key == "node.kubernetes.io/unschedulable")
    }

    /// Evidence for one of its conditions: the lines of the condition object.
    pub fn condition_evidence(&self, kind: &str) -> Evidence {
        condition_block(self.at, kind)
    }
}

/// The lines of the condition of type `kind` inside an object: kubectl writes a condition's
/// keys in order (lastHeartbeatTime, lastTransitionTime, message, reason, status, type), so
/// the block runs from the object's `{` to its `"type"` line.
fn condition_block(at: At, kind: &str) -> Evidence {
    let Some(conds) = at.find(at.item.line, "\"conditions\"") else {
        return at.evidence();
    };
    let ty = format!("\"type\": \"{kind}\"");
    let Some(t) = at.find(conds, &ty) else {
        return at.line("\"conditions\"");
    };
    let text = &at.doc.text;
    let start = (conds + 1..t)
        .rev()
        .take(12)
        .find(|&n| text.line(n).trim_end().ends_with('{'))
        .map(|n| n + 1)
        .unwrap_or(t);
    at.lines(start, t)
}

/// Every node of a list.
pub fn nodes(doc: &JsonDoc) -> Vec<Node<'_>> {
    doc.items
        .iter()
        .map(|item| Node::of(At { doc, item }))
        .collect()
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef<'d> {
    pub kind: &'d str,
    pub namespace: &'d str,
    pub name: &'d str,
    /// `spec.containers{app}` for container events.
    pub field_path: Option<&'d str>,
}

/// An event, in the core/v1 shape `kubectl get events -o json` writes, or the
/// events.k8s.io/v1 one (`regarding`, `note`, `deprecated*`, `series`).
#[derive(Debug, Clone)]
pub struct Event<'d> {
    pub at: At<'d>,
    /// `Normal` or `Warning`.
    pub kind: &'d str,
    pub reason: &'d str,
    pub message: &'d str,
    pub object: ObjectRef<'d>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// How many times it happened (1 when not counted).
    pub count: u64,
}

impl<'d> Event<'d> {
    pub fn of(at: At<'d>) -> Event<'d> {
        let v = &at.item.value;
        let about = obj(v, "involvedObject").or_else(|| obj(v, "regarding"));
        let series = obj(v, "series");
        let first = time(Some(v), "firstTimestamp")
            .or(time(Some(v), "deprecatedFirstTimestamp"))
            .or(time(Some(v), "eventTime"));
        let last = time(series, "lastObservedTime")
            .or(time(Some(v), "lastTimestamp"))
            .or(time(Some(v), "deprecatedLastTimestamp"))
            .or(time(Some(v), "eventTime"))
            .or(first);
        Event {
            at,
            kind: s(v, "type").unwrap_or(""),
            reason: s(v, "reason").unwrap_or(""),
            message: s(v, "message").or_else(|| s(v, "note")).unwrap_or(""),
            object: ObjectRef {
                kind: about.and_then(|a| s(a, "kind")).unwrap_or(""),
                namespace: about
                    .and_then(|a| s(a, "namespace"))
                    .or_else(|| v.pointer("/metadata/namespace").and_then(Value::as_str))
                    .unwrap_or(""),
                name: about.and_then(|a| s(a, "name")).unwrap_or(""),
                field_path: about.and_then(|a| s(a, "fieldPath")),
            },
            first: first.or(last),
            last,
            count: uint(series, "count")
                .or(uint(Some(v), "count"))
                .or(uint(Some(v), "deprecatedCount"))
                .unwrap_or(1)
                .max(1),
        }
    }

    /// Whether it is about the object `kind` `namespace/name`.
    pub fn is_about(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.object.kind == kind && self.object.name == name && self.object.namespace == namespace
    }

    /// Evidence: the event's message line.
    pub fn evidence(&self) -> Evidence {
        if self.message.is_empty() {
            return self.at.evidence();
        }
        self.at.line("\"message\"")
    }
}

/// Every event of a list, oldest last occurrence first (events without a time at the start).
pub fn events(doc: &JsonDoc) -> Vec<Event<'_>> {
    let mut out: Vec<Event> = doc
        .items
        .iter()
        .map(|item| Event::of(At { doc, item }))
        .collect();
    out.sort_by_key(|e| (e.last, e.at.item.line));
    out
}

/// The kinds of workload [`Workload`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// The list file of our layout holding this kind.
    pub fn list_path(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "kubectl/deployments.json",
            WorkloadKind::StatefulSet => "kubectl/statefulsets.json",
            WorkloadKind::DaemonSet => "kubectl/daemonsets.json",
        }
    }
}

/// Kubernetes' default `progressDeadlineSeconds` of a Deployment.
pub const DEFAULT_PROGRESS_DEADLINE: u64 = 600;

/// A Deployment, StatefulSet or DaemonSet, with its replica counts in common terms.
#[derive(Debug, Clone)]
pub struct Workload<'d> {
    pub at: At<'d>,
    pub meta: Meta<'d>,
    pub kind: WorkloadKind,
    /// Replicas wanted: `spec.replicas` (default 1), or a DaemonSet's
    /// `status.desiredNumberScheduled`.
    pub desired: u64,
    /// Available replicas (`availableReplicas`, `numberAvailable`; a StatefulSet before 1.22
    /// reports only `readyReplicas`).
    pub available: u64,
    pub ready: u64,
    pub updated: u64,
    pub conditions: Vec<Condition<'d>>,
    /// `spec.progressDeadlineSeconds` (Deployments; default 600).
    pub progress_deadline: Option<u64>,
    pub paused: bool,
    pub generation: Option<u64>,
    pub observed_generation: Option<u64>,
    /// The DaemonSet's or StatefulSet's update revision differs from the current one.
    pub rolling: bool,
}

impl<'d> Workload<'d> {
    pub fn of(at: At<'d>, kind: WorkloadKind) -> Workload<'d> {
        let v = &at.item.value;
        let spec = obj(v, "spec");
        let status = obj(v, "status");
        let st = |k: &str| uint(status, k);
        let (desired, available, ready, updated) = match kind {
            WorkloadKind::DaemonSet => (
                st("desiredNumberScheduled").unwrap_or(0),
                st("numberAvailable").unwrap_or(0),
                st("numberReady").unwrap_or(0),
                st("updatedNumberScheduled").unwrap_or(0),
            ),
            _ => {
                let ready = st("readyReplicas").unwrap_or(0);
                (
                    uint(spec, "replicas").unwrap_or(1),
                    match kind {
                        WorkloadKind::StatefulSet => st("availableReplicas").unwrap_or(ready),
                        _ => st("availableReplicas").unwrap_or(0),
                    },
                    ready,
                    st("updatedReplicas").unwrap_or(0),
                )
            }
        };
        let rolling = match kind {
            WorkloadKind::StatefulSet => {
                let (c, u) = (
                    status.and_then(|x| s(x, "currentRevision")),
                    status.and_then(|x| s(x, "updateRevision")),
                );
                c.is_some() && u.is_some() && c != u
            }
            WorkloadKind::DaemonSet => updated < desired,
            WorkloadKind::Deployment => false,
        };
        Workload {
            at,
            meta: Meta::of(v),
            kind,
            desired,
            available,
            ready,
            updated,
            conditions: conditions(status),
            progress_deadline: match kind {
                WorkloadKind::Deployment => {
                    Some(uint(spec, "progressDeadlineSeconds").unwrap_or(DEFAULT_PROGRESS_DEADLINE))
                }
                _ => None,
            },
            paused: spec.and_then(|x| x.get("paused")).and_then(Value::as_bool) == Some(true),
            generation: uint(obj(v, "metadata"), "generation"),
            observed_generation: st("observedGeneration"),
            rolling,
        }
    }

    pub fn reference(&self) -> WorkloadRef {
        WorkloadRef {
            kind: self.kind.as_str().to_string(),
            namespace: self.meta.namespace.to_string(),
            name: self.meta.name.to_string(),
        }
    }

    /// Whether `pod` belongs to this workload (by its owner, as [`workload_of`] names it).
    pub fn owns(&self, pod: &Pod) -> bool {
        pod.workload().is_some_and(|w| {
            w.kind == self.kind.as_str()
                && w.namespace == self.meta.namespace
                && w.name == self.meta.name
        })
    }

    /// Evidence for one of its conditions.
    pub fn condition_evidence(&self, kind: &str) -> Evidence {
        condition_block(self.at, kind)
    }
}

/// Every workload of a list of one kind.
pub fn workloads(doc: &JsonDoc, kind: WorkloadKind) -> Vec<Workload<'_>> {
    doc.items
        .iter()
        .map(|item| Workload::of(At { doc, item }, kind))
        .collect()
}

/// A duration for people: `45 s`, `12 min`, `3 h 5 min`, `4 d 2 h`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => match (secs % 3600) / 60 {
            0 => format!("{} h", secs / 3600),
            m => format!("{} h {m} min", secs / 3600),
        },
        _ => match (secs % 86_400) / 3600 {
            0 => format!("{} d", secs / 86_400),
            h => format!("{} d {h} h", secs / 86_400),
        },
    }
}

/// Seconds from `then` to the bundle's `now`, when both are known.
pub fn secs_before(now: Option<Timestamp>, then: Option<Timestamp>) -> Option<i64> {
    Some(now?.as_second() - then?.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crashing_pod() -> Value {
        json!({"metadata": {"name": "web-7d4b9c8f6d-x2x9z", "namespace": "shop",
            "creationTimestamp": "2026-11-20T08:00:00Z",
            "labels": {"pod-template-hash": "7d4b9c8f6d"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d4b9c8f6d", "controller": true}]},
          "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "shop/web:1.2",
            "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}}}]},
          "status": {"phase": "Running", "startTime": "2026-11-20T08:00:01Z",
            "containerStatuses": [{"name": "app", "restartCount": 12, "ready": false,
              "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                  "finishedAt": "2026-11-20T09:58:00Z"}},
              "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}}}]}})
    }

    #[test]
    fn pods_join_spec_and_status_by_container() {
        let doc = table("kubectl/pods.json", vec![crashing_pod(), json!("odd")]);
        let pods = pods(&doc);
        assert_eq!(pods.len(), 2);
        let p = &pods[0];
        assert_eq!(
            (p.meta.namespace, p.meta.name, p.node),
            ("shop", "web-7d4b9c8f6d-x2x9z", Some("n1"))
        );
        let c = &p.containers[0];
        assert_eq!((c.name, c.restarts, c.image), ("app", 12, "shop/web:1.2"));
        assert_eq!(c.state.waiting(), Some("CrashLoopBackOff"));
        let last = c.last.as_ref().unwrap();
        assert_eq!((last.reason, last.exit_code), ("OOMKilled", 137));
        assert_eq!(
            (c.memory_limit, c.memory_request),
            (Some("256Mi"), Some("128Mi"))
        );
        assert_eq!(p.container_evidence(c).line, 1);
        assert_eq!(p.workload().unwrap().kubectl(), "deployment/web");
        // Anything else reads as an empty pod, never a panic.
        assert!(pods[1].containers.is_empty() && pods[1].meta.name.is_empty());
    }

    #[test]
    fn owners_as_people_name_them() {
        let meta = |v: Value| workload_of(&Meta::of(Box::leak(Box::new(v)))).map(|w| w.kubectl());
        let rs = |name: &str, hash: Option<&str>| {
            let mut v = json!({"metadata": {"namespace": "a",
                "ownerReferences": [{"kind": "ReplicaSet", "name": name}]}});
            if let Some(h) = hash {
                v["metadata"]["labels"] = json!({"pod-template-hash": h});
            }
            v
        };
        assert_eq!(meta(rs("web-7d4b9c8f6d", None)).unwrap(), "deployment/web");
        assert_eq!(
            meta(rs("my-api-5f4d8", Some("5f4d8"))).unwrap(),
            "deployment/my-api"
        );
        // A hand-made ReplicaSet whose name has no hash stays a ReplicaSet.
        assert_eq!(meta(rs("frontend", None)).unwrap(), "replicaset/frontend");
        let job =
            json!({"metadata": {"ownerReferences": [{"kind": "Job", "name": "backup-29412345"}]}});
        assert_eq!(meta(job).unwrap(), "cronjob/backup");
        let job = json!({"metadata": {"ownerReferences": [{"kind": "Job", "name": "migrate"}]}});
        assert_eq!(meta(job).unwrap(), "job/migrate");
        let ds = json!({"metadata": {"ownerReferences": [
            {"kind": "Node", "name": "n1"}, {"kind": "DaemonSet", "name": "cni", "controller": true}]}});
        assert_eq!(meta(ds).unwrap(), "daemonset/cni");
        assert_eq!(meta(json!({"metadata": {"name": "x"}})), None);
        assert_eq!(owner_target(&json!({"metadata": {"name": "x"}})), "pod/x");
    }

    #[test]
    fn nodes_conditions_taints_and_cordon() {
        let doc = table(
            "kubectl/nodes.json",
            vec![json!({"metadata": {"name": "n1"},
                "spec": {"unschedulable": true, "taints": [
                    {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]},
                "status": {"conditions": [{"type": "Ready", "status": "Unknown",
                    "reason": "NodeStatusUnknown", "lastTransitionTime": "2026-11-20T09:00:00Z"}],
                    "nodeInfo": {"kubeletVersion": "v1.31.2"}}})],
        );
        let n = &nodes(&doc)[0];
        assert!(n.cordoned());
        let ready = condition(&n.conditions, "Ready").unwrap();
        assert_eq!(
            (ready.status, ready.reason),
            ("Unknown", Some("NodeStatusUnknown"))
        );
        assert_eq!(n.kubelet_version, Some("v1.31.2"));
    }

    #[test]
    fn events_of_both_apis() {
        let doc = table(
            "kubectl/events.json",
            vec![
                json!({"type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container",
                    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-1"},
                    "firstTimestamp": "2026-11-20T08:01:00Z", "lastTimestamp": "2026-11-20T09:59:00Z", "count": 31}),
                json!({"type": "Warning", "reason": "FailedScheduling", "note": "0/3 nodes are available",
                    "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-2"},
                    "eventTime": "2026-11-20T07:00:00.000000Z", "series": {"count": 4, "lastObservedTime": "2026-11-20T07:30:00Z"}}),
            ],
        );
        let ev = events(&doc);
        assert_eq!(ev[0].reason, "FailedScheduling");
        assert_eq!((ev[0].count, ev[0].message), (4, "0/3 nodes are available"));
        assert!(ev[0].is_about("Pod", "shop", "web-2"));
        assert_eq!(ev[1].count, 31);
        assert!(ev[1].first < ev[1].last);
    }

    #[test]
    fn workloads_with_kubernetes_defaults() {
        let doc = table(
            "kubectl/deployments.json",
            vec![
                json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {},
                "status": {"readyReplicas": 0}}),
            ],
        );
        let w = &workloads(&doc, WorkloadKind::Deployment)[0];
        assert_eq!((w.desired, w.available), (1, 0));
        assert_eq!(w.progress_deadline, Some(600));
        let doc = table(
            "kubectl/statefulsets.json",
            vec![
                json!({"metadata": {"name": "db", "namespace": "shop"}, "spec": {"replicas": 3},
                "status": {"readyReplicas": 2, "currentRevision": "db-1", "updateRevision": "db-2"}}),
            ],
        );
        let w = &workloads(&doc, WorkloadKind::StatefulSet)[0];
        assert_eq!((w.desired, w.available, w.rolling), (3, 2, true));
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(human_duration(42), "42 s");
        assert_eq!(human_duration(600), "10 min");
        assert_eq!(human_duration(3 * 3600 + 300), "3 h 5 min");
        assert_eq!(human_duration(2 * 86_400), "2 d");
        assert_eq!(human_duration(-5), "0 s");
    }
}
