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

use crate::facts::{Item, JsonDoc, TextFile};
use crate::lenient::{self, Obj, Time};
use crate::liststream::Parts;
use crate::model::Evidence;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

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
        let mut from = self.item.line;
        for a in anchors {
            if let Some(n) = self.find(from, a) {
                from = n;
            }
        }
        match self.find(from, needle) {
            Some(n) => self
                .doc
                .on_item_line(self.item, text.evidence(n, n), Some(needle)),
            None => self.line(needle),
        }
    }

    /// Lines `from..=to` of the object's file, as one evidence item.
    pub fn lines(&self, from: usize, to: usize) -> Evidence {
        self.doc
            .on_item_line(self.item, self.doc.text.evidence(from, to), None)
    }

    /// 1-based line of the first line in the object containing `needle`, after `from`.
    pub fn find(&self, from: usize, needle: &str) -> Option<usize> {
        self.doc.find_in_item(self.item, from, needle)
    }
}

/// An in-memory list file holding `items`, one compact JSON object a line (line `n` is item
/// `n`): views, evidence and checks work on it as on a bundle file.
pub fn table(path: &str, items: Vec<Value>) -> JsonDoc {
    let text: String = items.iter().map(|v| format!("{v}\n")).collect();
    let items = items
        .into_iter()
        .enumerate()
        .map(|(i, value)| Item::new(value, i + 1, i + 1))
        .collect();
    JsonDoc::new(
        TextFile::new(path, text.into_bytes()),
        Value::Null,
        items,
        true,
    )
}

/// The fields of Kubernetes objects the views read, parsed in one pass from each object's
/// bytes with everything else skipped; wrong types read as absent (see `lenient.rs`).
mod raw {
    use crate::lenient::Time;
    use crate::lenient::{self, List, Obj};
    use serde::Deserialize;

    pub type Str = Option<lenient::Text>;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct Meta {
        #[serde(deserialize_with = "lenient::string")]
        pub namespace: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub name: Str,
        #[serde(deserialize_with = "lenient::time")]
        pub creation_timestamp: Option<Time>,
        #[serde(deserialize_with = "lenient::present")]
        pub deletion_timestamp: bool,
        #[serde(deserialize_with = "lenient::string_map")]
        pub labels: lenient::StringMap,
        #[serde(deserialize_with = "lenient::string_map")]
        pub annotations: lenient::StringMap,
        pub owner_references: lenient::Shared<Owner>,
        #[serde(deserialize_with = "lenient::count")]
        pub generation: Option<u64>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq, Eq, Hash)]
    #[serde(default)]
    pub struct Owner {
        #[serde(deserialize_with = "lenient::string")]
        pub kind: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub name: Str,
        #[serde(deserialize_with = "lenient::boolean")]
        pub controller: Option<bool>,
    }

    /// A condition as kept: its type, status and time, and the rest only when written (most
    /// pod conditions have neither reason nor message, and a pod list holds five a pod).
    #[derive(Debug, Default, Deserialize)]
    #[serde(from = "ConditionFields")]
    pub struct Condition {
        pub kind: Str,
        pub status: Str,
        pub last_transition_time: Option<Time>,
        pub more: Option<Box<ConditionMore>>,
    }

    #[derive(Debug, Default)]
    pub struct ConditionMore {
        pub reason: Str,
        pub message: Str,
        pub last_heartbeat_time: Option<Time>,
        pub last_update_time: Option<Time>,
    }

    /// A condition as written.
    #[derive(Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct ConditionFields {
        #[serde(rename = "type", deserialize_with = "lenient::string")]
        kind: Str,
        #[serde(deserialize_with = "lenient::string")]
        status: Str,
        #[serde(deserialize_with = "lenient::string")]
        reason: Str,
        #[serde(deserialize_with = "lenient::string")]
        message: Str,
        #[serde(deserialize_with = "lenient::time")]
        last_transition_time: Option<Time>,
        #[serde(deserialize_with = "lenient::time")]
        last_heartbeat_time: Option<Time>,
        #[serde(deserialize_with = "lenient::time")]
        last_update_time: Option<Time>,
    }

    impl From<ConditionFields> for Condition {
        fn from(c: ConditionFields) -> Condition {
            let more = ConditionMore {
                reason: c.reason,
                message: c.message,
                last_heartbeat_time: c.last_heartbeat_time,
                last_update_time: c.last_update_time,
            };
            let written = more.reason.is_some()
                || more.message.is_some()
                || more.last_heartbeat_time.is_some()
                || more.last_update_time.is_some();
            Condition {
                kind: c.kind,
                status: c.status,
                last_transition_time: c.last_transition_time,
                more: written.then(|| Box::new(more)),
            }
        }
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Object {
        pub metadata: Obj<Meta>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Pod {
        pub metadata: Obj<Meta>,
        pub spec: Obj<PodSpec>,
        pub status: Obj<PodStatus>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct PodSpec {
        #[serde(deserialize_with = "lenient::string")]
        pub node_name: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub restart_policy: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub service_account_name: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub service_account: Str,
        #[serde(deserialize_with = "lenient::boolean")]
        pub host_network: Option<bool>,
        pub containers: lenient::Shared<ContainerSpec>,
        pub init_containers: lenient::Shared<ContainerSpec>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq, Eq, Hash)]
    #[serde(default, rename_all = "camelCase")]
    pub struct ContainerSpec {
        #[serde(deserialize_with = "lenient::string")]
        pub name: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub image: Str,
        pub resources: Obj<Resources>,
        #[serde(deserialize_with = "lenient::string")]
        pub restart_policy: Str,
        pub ports: List<super::Port>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq, Eq, Hash)]
    #[serde(default)]
    pub struct Resources {
        pub limits: Obj<Memory>,
        pub requests: Obj<Memory>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq, Eq, Hash)]
    #[serde(default)]
    pub struct Memory {
        #[serde(deserialize_with = "lenient::string")]
        pub memory: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct PodStatus {
        #[serde(deserialize_with = "lenient::string")]
        pub phase: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub reason: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub message: Str,
        #[serde(deserialize_with = "lenient::time")]
        pub start_time: Option<Time>,
        pub conditions: List<Condition>,
        pub container_statuses: List<ContainerStatus>,
        pub init_container_statuses: List<ContainerStatus>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct ContainerStatus {
        #[serde(deserialize_with = "lenient::string")]
        pub name: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub image: Str,
        #[serde(deserialize_with = "lenient::boolean")]
        pub ready: Option<bool>,
        #[serde(deserialize_with = "lenient::count")]
        pub restart_count: Option<u64>,
        pub state: State,
        /// Only the previous instance's termination is read.
        #[serde(deserialize_with = "last_termination")]
        pub last_state: Option<Box<Terminated>>,
    }

    /// A container state as kept: the one that counts, as `kubectl` shows it (waiting over
    /// terminated over running), two words wide; the rare parts are boxed.
    #[derive(Debug, Default, Deserialize)]
    #[serde(from = "Option<Obj<StateFields>>")]
    pub enum State {
        /// No state written.
        #[default]
        Unknown,
        Waiting(Box<Waiting>),
        Terminated(Box<Terminated>),
        Running(Option<Time>),
    }

    /// A container state as written.
    #[derive(Default, Deserialize)]
    #[serde(default)]
    pub struct StateFields {
        waiting: Option<Obj<Waiting>>,
        running: Option<Obj<Running>>,
        terminated: Option<Obj<Terminated>>,
    }

    impl From<Option<Obj<StateFields>>> for State {
        fn from(s: Option<Obj<StateFields>>) -> State {
            let Some(Obj(s)) = s else {
                return State::Unknown;
            };
            if let Some(Obj(w)) = s.waiting {
                State::Waiting(Box::new(w))
            } else if let Some(Obj(t)) = s.terminated {
                State::Terminated(Box::new(t))
            } else if let Some(Obj(r)) = s.running {
                State::Running(r.started_at)
            } else {
                State::Unknown
            }
        }
    }

    fn last_termination<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Box<Terminated>>, D::Error> {
        let s = Option::<Obj<StateFields>>::deserialize(d)?;
        Ok(s.and_then(|Obj(s)| s.terminated).map(|Obj(t)| Box::new(t)))
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Waiting {
        #[serde(deserialize_with = "lenient::string")]
        pub reason: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub message: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct Running {
        #[serde(deserialize_with = "lenient::time")]
        pub started_at: Option<Time>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct Terminated {
        #[serde(deserialize_with = "lenient::string")]
        pub reason: Str,
        #[serde(deserialize_with = "lenient::int")]
        pub exit_code: Option<i64>,
        #[serde(deserialize_with = "lenient::int")]
        pub signal: Option<i64>,
        #[serde(deserialize_with = "lenient::string")]
        pub message: Str,
        #[serde(deserialize_with = "lenient::time")]
        pub started_at: Option<Time>,
        #[serde(deserialize_with = "lenient::time")]
        pub finished_at: Option<Time>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Node {
        pub metadata: Obj<Meta>,
        pub spec: Obj<NodeSpec>,
        pub status: Obj<NodeStatus>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct NodeSpec {
        #[serde(deserialize_with = "lenient::boolean")]
        pub unschedulable: Option<bool>,
        #[serde(rename = "providerID", deserialize_with = "lenient::string")]
        pub provider_id: Str,
        #[serde(rename = "podCIDR", deserialize_with = "lenient::string")]
        pub pod_cidr: Str,
        pub taints: List<Taint>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Taint {
        #[serde(deserialize_with = "lenient::string")]
        pub key: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub value: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub effect: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct NodeStatus {
        pub conditions: List<Condition>,
        pub addresses: List<Address>,
        pub node_info: Obj<NodeInfo>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Address {
        #[serde(rename = "type", deserialize_with = "lenient::string")]
        pub kind: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub address: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct NodeInfo {
        #[serde(deserialize_with = "lenient::string")]
        pub kubelet_version: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub kube_proxy_version: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub container_runtime_version: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct Event {
        #[serde(rename = "type", deserialize_with = "lenient::string")]
        pub kind: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub reason: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub message: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub note: Str,
        pub involved_object: Option<Obj<ObjectRef>>,
        /// The events.k8s.io/v1 shape's parts, boxed: a core/v1 list has none of them.
        pub regarding: Option<Box<Obj<ObjectRef>>>,
        pub metadata: Obj<EventMeta>,
        pub series: Option<Box<Obj<Series>>>,
        /// Boxed: only the core/v1 shape has it.
        pub source: Option<Box<Obj<Source>>>,
        #[serde(deserialize_with = "lenient::time")]
        pub first_timestamp: Option<Time>,
        #[serde(deserialize_with = "lenient::time")]
        pub deprecated_first_timestamp: Option<Time>,
        #[serde(deserialize_with = "lenient::time")]
        pub event_time: Option<Time>,
        #[serde(deserialize_with = "lenient::time")]
        pub last_timestamp: Option<Time>,
        #[serde(deserialize_with = "lenient::time")]
        pub deprecated_last_timestamp: Option<Time>,
        #[serde(deserialize_with = "lenient::count")]
        pub count: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub deprecated_count: Option<u64>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Source {
        #[serde(deserialize_with = "lenient::string")]
        pub host: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct EventMeta {
        #[serde(deserialize_with = "lenient::string")]
        pub namespace: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct ObjectRef {
        #[serde(deserialize_with = "lenient::string")]
        pub kind: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub namespace: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub name: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub field_path: Str,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct Series {
        #[serde(deserialize_with = "lenient::time")]
        pub last_observed_time: Option<Time>,
        #[serde(deserialize_with = "lenient::count")]
        pub count: Option<u64>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    pub struct Workload {
        pub metadata: Obj<Meta>,
        pub spec: Obj<WorkloadSpec>,
        pub status: Obj<WorkloadStatus>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct WorkloadSpec {
        #[serde(deserialize_with = "lenient::count")]
        pub replicas: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub progress_deadline_seconds: Option<u64>,
        #[serde(deserialize_with = "lenient::boolean")]
        pub paused: Option<bool>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    pub struct WorkloadStatus {
        #[serde(deserialize_with = "lenient::count")]
        pub desired_number_scheduled: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub number_available: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub number_ready: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub updated_number_scheduled: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub ready_replicas: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub available_replicas: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub updated_replicas: Option<u64>,
        #[serde(deserialize_with = "lenient::count")]
        pub observed_generation: Option<u64>,
        #[serde(deserialize_with = "lenient::string")]
        pub current_revision: Str,
        #[serde(deserialize_with = "lenient::string")]
        pub update_revision: Str,
        pub conditions: List<super::raw::Condition>,
    }
}

/// Slots of [`JsonDoc::derived`] for each kind of parsed object.
const PODS: usize = 0;
const NODES: usize = 1;
const EVENTS: usize = 2;
const WORKLOADS: usize = 3;
const OBJECTS: usize = 4;
const POD_EVENTS: usize = 5;

/// Every item of `doc` parsed as `T`, once per list (in parallel for large lists), from the
/// item's bytes; an item that is not an object, or cannot be read, is an empty `T`.
fn parsed<T>(doc: &JsonDoc, slot: usize) -> &Parts<T>
where
    T: serde::de::DeserializeOwned + Default + Send + Sync + 'static,
{
    doc.derived(slot, |doc| {
        Parts::from(crate::facts::map_in_parallel(&doc.items, |item| {
            let got = match item.raw_text() {
                Some(raw) => serde_json::from_str::<Obj<T>>(&raw),
                None => Obj::<T>::deserialize(item.value()),
            };
            got.map(|o| o.0).unwrap_or_default()
        }))
    })
}

/// How to read, with its objects parsed on the way, a list whose kind its file name tells
/// (`pods.json`, `nodes.json`, `events.json`): for reading a large list ahead of the checks,
/// or as it inflates from an archive.
pub fn typed_reader(path: &str) -> Option<crate::facts::ReadTyped> {
    fn read<T>(
        file: Box<dyn std::io::Read + '_>,
        len: usize,
        step: usize,
        slot: usize,
    ) -> Option<crate::facts::ParsedStream>
    where
        T: serde::de::DeserializeOwned + Default + Send + Sync + 'static,
    {
        let parse = |raw: &str| serde_json::from_str::<Obj<T>>(raw).ok().map(|o| o.0);
        let (streamed, parsed) = crate::liststream::read_list_parsed(file, len, step, &parse)?;
        Some(crate::facts::ParsedStream {
            streamed,
            slot,
            parsed: Box::new(parsed),
        })
    }
    Some(match path.rsplit('/').next()? {
        "pods.json" => |f, len, step| read::<raw::Pod>(f, len, step, PODS),
        "nodes.json" => |f, len, step| read::<raw::Node>(f, len, step, NODES),
        "events.json" => |f, len, step| read::<raw::Event>(f, len, step, EVENTS),
        _ => return None,
    })
}

/// Reads a list ahead of the checks that will ask for it, its objects parsed on the way when
/// its file name tells their kind.
pub fn prepare(facts: &crate::facts::Facts, path: &str) {
    let _ = match typed_reader(path) {
        Some(read) => facts.json_parsed(path, read),
        None => facts.json(path),
    };
}

fn st(s: &raw::Str) -> Option<&str> {
    s.as_deref()
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
    /// The string entries of `labels` and `annotations`.
    pub labels: &'d [(lenient::Text, lenient::Text)],
    pub annotations: &'d [(lenient::Text, lenient::Text)],
    pub owners: Vec<OwnerRef<'d>>,
}

impl<'d> Meta<'d> {
    fn of(m: &'d raw::Meta) -> Meta<'d> {
        Meta {
            namespace: st(&m.namespace).unwrap_or(""),
            name: st(&m.name).unwrap_or(""),
            created: m.creation_timestamp.map(Time::get),
            deleting: m.deletion_timestamp,
            labels: &m.labels,
            annotations: &m.annotations,
            owners: m
                .owner_references
                .0
                .iter()
                .map(|o| OwnerRef {
                    kind: st(&o.kind).unwrap_or(""),
                    name: st(&o.name).unwrap_or(""),
                    controller: o.controller == Some(true),
                })
                .collect(),
        }
    }

    pub fn label(&self, key: &str) -> Option<&'d str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    pub fn annotation(&self, key: &str) -> Option<&'d str> {
        self.annotations
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
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
    let raw = Obj::<raw::Meta>::deserialize(&pod["metadata"])
        .map(|o| o.0)
        .unwrap_or_default();
    let meta = Meta::of(&raw);
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

fn conditions(conds: &[raw::Condition]) -> Vec<Condition<'_>> {
    conds
        .iter()
        .map(|c| Condition {
            kind: st(&c.kind).unwrap_or(""),
            status: st(&c.status).unwrap_or(""),
            reason: c.more.as_ref().and_then(|m| st(&m.reason)),
            message: c.more.as_ref().and_then(|m| st(&m.message)),
            last_transition: c.last_transition_time.map(Time::get),
            last_update: c
                .more
                .as_ref()
                .and_then(|m| m.last_heartbeat_time.or(m.last_update_time))
                .map(Time::get),
        })
        .collect()
}

/// The condition of type `kind`, if the object reports it.
pub fn condition<'a, 'd>(conds: &'a [Condition<'d>], kind: &str) -> Option<&'a Condition<'d>> {
    conds.iter().find(|c| c.kind == kind)
}

/// One entry of a container's `ports`: what the container listens on and, with a non-zero
/// `hostPort`, what its node publishes. Read as the API reads it: a port that is not an
/// integer is absent (0), the protocol defaults to TCP.
#[derive(Debug, Default, Deserialize, PartialEq, Eq, Hash)]
#[serde(default, rename_all = "camelCase")]
pub struct Port {
    #[serde(deserialize_with = "lenient::int")]
    container_port: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    host_port: Option<i64>,
    #[serde(deserialize_with = "lenient::string")]
    protocol: raw::Str,
}

impl Port {
    /// `containerPort`, 0 when not a non-negative integer.
    pub fn container_port(&self) -> u64 {
        self.container_port.map_or(0, |p| p.max(0) as u64)
    }

    /// `hostPort`, 0 (not published) when not a non-negative integer.
    pub fn host_port(&self) -> u64 {
        self.host_port.map_or(0, |p| p.max(0) as u64)
    }

    /// `TCP`, `UDP` or `SCTP` (`TCP` when not written).
    pub fn protocol(&self) -> &str {
        st(&self.protocol).unwrap_or("TCP")
    }
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

impl<'d> Terminated<'d> {
    fn of(t: &'d raw::Terminated) -> Terminated<'d> {
        Terminated {
            reason: st(&t.reason).unwrap_or(""),
            exit_code: t.exit_code.unwrap_or(0),
            signal: t.signal,
            message: st(&t.message),
            started: t.started_at.map(Time::get),
            finished: t.finished_at.map(Time::get),
        }
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

impl<'d> State<'d> {
    fn of(v: Option<&'d raw::State>) -> State<'d> {
        match v {
            Some(raw::State::Waiting(w)) => State::Waiting {
                reason: st(&w.reason).unwrap_or(""),
                message: st(&w.message),
            },
            Some(raw::State::Terminated(t)) => State::Terminated(Terminated::of(t)),
            Some(raw::State::Running(started)) => State::Running {
                started: started.map(Time::get),
            },
            Some(raw::State::Unknown) | None => State::Unknown,
        }
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
    /// Is in the pod's spec (not only in its statuses).
    pub in_spec: bool,
    /// The container's own `restartPolicy` (`Always` makes an init container a native
    /// sidecar).
    pub restart_policy: Option<&'d str>,
    /// The `ports` of its spec (empty for a container known only from its status).
    pub ports: &'d [Port],
    /// Its place in `containerStatuses` (or `initContainerStatuses`): the order kubectl and
    /// the kubelet list them in, which is not the spec's.
    pub status_index: Option<usize>,
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
    /// `spec.serviceAccountName` (else the older `spec.serviceAccount`), as written.
    pub service_account: Option<&'d str>,
    /// `spec.hostNetwork`: the pod uses its node's network (no NetworkPolicy, the node's
    /// identity at the metadata server).
    pub host_network: bool,
    pub conditions: Vec<Condition<'d>>,
    /// Init containers first, then the regular ones, in spec order.
    pub containers: Vec<Container<'d>>,
}

impl<'d> Pod<'d> {
    fn of(at: At<'d>, v: &'d raw::Pod) -> Pod<'d> {
        let (spec, status) = (&v.spec.0, &v.status.0);
        let mut containers = Vec::new();
        for (specs, statuses, init) in [
            (
                &spec.init_containers.0,
                &status.init_container_statuses.0,
                true,
            ),
            (&spec.containers.0, &status.container_statuses.0, false),
        ] {
            let mut names: Vec<&str> = specs.iter().filter_map(|c| st(&c.name)).collect();
            for s in statuses {
                if let Some(n) = st(&s.name)
                    && !names.contains(&n)
                {
                    names.push(n);
                }
            }
            for name in names {
                let sp = specs.iter().find(|c| st(&c.name) == Some(name));
                let status_index = statuses.iter().position(|c| st(&c.name) == Some(name));
                let cs = status_index.map(|i| &statuses[i]);
                let res = sp.map(|c| &c.resources.0);
                containers.push(Container {
                    name,
                    init,
                    image: sp
                        .and_then(|c| st(&c.image))
                        .or_else(|| cs.and_then(|c| st(&c.image)))
                        .unwrap_or(""),
                    ready: cs.and_then(|c| c.ready) == Some(true),
                    restarts: cs.and_then(|c| c.restart_count).unwrap_or(0),
                    state: State::of(cs.map(|c| &c.state)),
                    last: cs.and_then(|c| c.last_state.as_deref()).map(Terminated::of),
                    memory_limit: res.and_then(|r| st(&r.limits.0.memory)),
                    memory_request: res.and_then(|r| st(&r.requests.0.memory)),
                    has_status: cs.is_some(),
                    in_spec: sp.is_some(),
                    restart_policy: sp.and_then(|c| st(&c.restart_policy)),
                    ports: sp.map_or(&[][..], |c| &c.ports.0[..]),
                    status_index,
                });
            }
        }
        // Every check that reads pods builds this list for each pod: no growth slack.
        containers.shrink_to_fit();
        Pod {
            at,
            meta: Meta::of(&v.metadata.0),
            node: st(&spec.node_name).filter(|n| !n.is_empty()),
            phase: st(&status.phase).unwrap_or(""),
            reason: st(&status.reason).filter(|r| !r.is_empty()),
            message: st(&status.message),
            started: status.start_time.map(Time::get),
            restart_policy: st(&spec.restart_policy).unwrap_or("Always"),
            service_account: st(&spec.service_account_name).or(st(&spec.service_account)),
            host_network: spec.host_network == Some(true),
            conditions: conditions(&status.conditions.0),
            containers,
        }
    }

    /// The whole object as a `Value`, built on first use: for the few checks that read a
    /// field no view holds.
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

    /// The Kubernetes service account it runs as: (namespace, name), `default` for what is
    /// not written.
    pub fn ksa(&self) -> (&'d str, &'d str) {
        let ns = match self.meta.namespace {
            "" => "default",
            ns => ns,
        };
        (ns, self.service_account.unwrap_or("default"))
    }

    /// The target of `kubectl set`/`rollout` commands for it: its workload
    /// (`deployment/web`), else the pod itself (`pod/web-1`).
    pub fn target(&self) -> String {
        match self.workload() {
            Some(w) => w.kubectl(),
            None => format!("pod/{}", self.meta.name),
        }
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

/// Every pod of a list, each view built as it is reached. The parsed fields are kept with
/// the list, the views (containers joined from spec and status, conditions) are not: two
/// checks each holding 150,000 of them cost hundreds of MiB. A check keeps (clones) the
/// views it reports on.
pub fn pods(doc: &JsonDoc) -> impl Iterator<Item = Pod<'_>> + Clone {
    let data = parsed::<raw::Pod>(doc, PODS);
    doc.items
        .iter()
        .zip(data)
        .map(move |(item, v)| Pod::of(At { doc, item }, v))
}

/// The view of the `i`th pod of a list.
pub fn pod_at(doc: &JsonDoc, i: usize) -> Option<Pod<'_>> {
    let v = parsed::<raw::Pod>(doc, PODS).get(i)?;
    Some(Pod::of(
        At {
            doc,
            item: doc.items.get(i)?,
        },
        v,
    ))
}

/// The node the pod `namespace/name` of a list runs on, read without building any view.
pub fn node_of_pod<'d>(doc: &'d JsonDoc, namespace: &str, name: &str) -> Option<&'d str> {
    parsed::<raw::Pod>(doc, PODS)
        .iter()
        .find(|p| {
            st(&p.metadata.0.namespace) == Some(namespace) && st(&p.metadata.0.name) == Some(name)
        })
        .and_then(|p| st(&p.spec.0.node_name))
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
    pub kube_proxy_version: Option<&'d str>,
    /// `spec.providerID` (`gce://project/zone/vm`, `aws:///zone/i-…`).
    pub provider_id: Option<&'d str>,
    /// `spec.podCIDR`: the pod address range the node was given.
    pub pod_cidr: Option<&'d str>,
    /// `status.nodeInfo.containerRuntimeVersion` (`containerd://1.7.22`, `docker://20.10.7`).
    pub runtime_version: Option<&'d str>,
    /// `status.addresses` as (type, address): `InternalIP`, `ExternalIP`, `Hostname`...
    /// (entries lacking either are left out).
    pub addresses: Vec<(&'d str, &'d str)>,
}

impl<'d> Node<'d> {
    fn of(at: At<'d>, v: &'d raw::Node) -> Node<'d> {
        let (spec, status) = (&v.spec.0, &v.status.0);
        Node {
            at,
            meta: Meta::of(&v.metadata.0),
            unschedulable: spec.unschedulable == Some(true),
            taints: spec
                .taints
                .0
                .iter()
                .map(|t| Taint {
                    key: st(&t.key).unwrap_or(""),
                    value: st(&t.value).unwrap_or(""),
                    effect: st(&t.effect).unwrap_or(""),
                })
                .collect(),
            conditions: conditions(&status.conditions.0),
            kubelet_version: st(&status.node_info.0.kubelet_version),
            kube_proxy_version: st(&status.node_info.0.kube_proxy_version),
            provider_id: st(&spec.provider_id),
            pod_cidr: st(&spec.pod_cidr),
            runtime_version: st(&status.node_info.0.container_runtime_version),
            addresses: status
                .addresses
                .0
                .iter()
                .filter_map(|a| Some((st(&a.kind)?, st(&a.address)?)))
                .collect(),
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
    let data = parsed::<raw::Node>(doc, NODES);
    doc.items
        .iter()
        .zip(data)
        .map(|(item, v)| Node::of(At { doc, item }, v))
        .collect()
}

/// The node named `name` of a list, building no other node's view (checks that look one node
/// up per node of the bundle stay linear).
pub fn node_named<'d>(doc: &'d JsonDoc, name: &str) -> Option<Node<'d>> {
    let data = parsed::<raw::Node>(doc, NODES);
    let i = data
        .iter()
        .position(|n| st(&n.metadata.0.name) == Some(name))?;
    Some(Node::of(
        At {
            doc,
            item: &doc.items[i],
        },
        &data[i],
    ))
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
    /// `source.host`: the node whose kubelet reported it (core/v1 events).
    pub host: Option<&'d str>,
}

impl<'d> Event<'d> {
    fn of(at: At<'d>, v: &'d raw::Event) -> Event<'d> {
        let about = v
            .involved_object
            .as_ref()
            .or(v.regarding.as_deref())
            .map(|o| &o.0);
        let series = v.series.as_deref().map(|o| &o.0);
        let first = v
            .first_timestamp
            .or(v.deprecated_first_timestamp)
            .or(v.event_time);
        let last = series
            .and_then(|x| x.last_observed_time)
            .or(v.last_timestamp)
            .or(v.deprecated_last_timestamp)
            .or(v.event_time)
            .or(first);
        Event {
            at,
            kind: st(&v.kind).unwrap_or(""),
            reason: st(&v.reason).unwrap_or(""),
            message: st(&v.message).or_else(|| st(&v.note)).unwrap_or(""),
            object: ObjectRef {
                kind: about.and_then(|a| st(&a.kind)).unwrap_or(""),
                namespace: about
                    .and_then(|a| st(&a.namespace))
                    .or_else(|| st(&v.metadata.0.namespace))
                    .unwrap_or(""),
                name: about.and_then(|a| st(&a.name)).unwrap_or(""),
                field_path: about.and_then(|a| st(&a.field_path)),
            },
            first: first.or(last).map(Time::get),
            last: last.map(Time::get),
            count: series
                .and_then(|x| x.count)
                .or(v.count)
                .or(v.deprecated_count)
                .unwrap_or(1)
                .max(1),
            host: v.source.as_deref().and_then(|s| st(&s.0.host)),
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
    let data = parsed::<raw::Event>(doc, EVENTS);
    let mut out: Vec<Event> = doc
        .items
        .iter()
        .zip(data)
        .map(|(item, v)| Event::of(At { doc, item }, v))
        .collect();
    out.sort_by_key(|e| (e.last, e.at.item.line));
    out
}

/// Events about pods, looked up by the pod's namespace and name; each lookup builds the views
/// of that pod's events only. The index is made once per list and shared by every check.
pub struct PodEvents<'d> {
    doc: Option<&'d JsonDoc>,
    index: Option<&'d PodEventIndex>,
}

/// By namespace, then pod name: the list's items about that pod, in the order of [`events`].
#[derive(Default)]
pub struct PodEventIndex(std::collections::HashMap<lenient::Text, PodIndexByName>);

type PodIndexByName = std::collections::HashMap<lenient::Text, Vec<u32>>;

/// The events about pods of a list (none without a list).
pub fn pod_events(doc: Option<&JsonDoc>) -> PodEvents<'_> {
    let Some(doc) = doc else {
        return PodEvents {
            doc: None,
            index: None,
        };
    };
    let index = doc.derived(POD_EVENTS, |doc| {
        let data = parsed::<raw::Event>(doc, EVENTS);
        let view = |i: usize| {
            Event::of(
                At {
                    doc,
                    item: &doc.items[i],
                },
                &data[i],
            )
        };
        // The order of `events`, one view at a time.
        let mut about: Vec<(Option<Timestamp>, usize, u32)> = (0..doc.items.len())
            .filter_map(|i| {
                let e = view(i);
                (e.object.kind == "Pod").then_some((e.last, e.at.item.line, i as u32))
            })
            .collect();
        about.sort_unstable();
        let mut index = PodEventIndex::default();
        for (_, _, i) in about {
            let e = view(i as usize);
            let (ns, name) = (e.object.namespace, e.object.name);
            if !index.0.contains_key(ns) {
                index.0.insert(ns.into(), PodIndexByName::default());
            }
            let by_name = index.0.get_mut(ns).expect("inserted above");
            match by_name.get_mut(name) {
                Some(items) => items.push(i),
                None => {
                    by_name.insert(name.into(), vec![i]);
                }
            }
        }
        index
    });
    PodEvents {
        doc: Some(doc),
        index: Some(index),
    }
}

impl<'d> PodEvents<'d> {
    /// The events about pod `namespace/name`, oldest last-seen first.
    pub fn of(&self, namespace: &str, name: &str) -> Vec<Event<'d>> {
        let (Some(doc), Some(index)) = (self.doc, self.index) else {
            return Vec::new();
        };
        let Some(items) = index.0.get(namespace).and_then(|n| n.get(name)) else {
            return Vec::new();
        };
        let data = parsed::<raw::Event>(doc, EVENTS);
        items
            .iter()
            .map(|&i| {
                let i = i as usize;
                Event::of(
                    At {
                        doc,
                        item: &doc.items[i],
                    },
                    &data[i],
                )
            })
            .collect()
    }
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
    fn of(at: At<'d>, v: &'d raw::Workload, kind: WorkloadKind) -> Workload<'d> {
        let (spec, status) = (&v.spec.0, &v.status.0);
        let (desired, available, ready, updated) = match kind {
            WorkloadKind::DaemonSet => (
                status.desired_number_scheduled.unwrap_or(0),
                status.number_available.unwrap_or(0),
                status.number_ready.unwrap_or(0),
                status.updated_number_scheduled.unwrap_or(0),
            ),
            _ => {
                let ready = status.ready_replicas.unwrap_or(0);
                (
                    spec.replicas.unwrap_or(1),
                    match kind {
                        WorkloadKind::StatefulSet => status.available_replicas.unwrap_or(ready),
                        _ => status.available_replicas.unwrap_or(0),
                    },
                    ready,
                    status.updated_replicas.unwrap_or(0),
                )
            }
        };
        let rolling = match kind {
            WorkloadKind::StatefulSet => {
                let (c, u) = (st(&status.current_revision), st(&status.update_revision));
                c.is_some() && u.is_some() && c != u
            }
            WorkloadKind::DaemonSet => updated < desired,
            WorkloadKind::Deployment => false,
        };
        Workload {
            at,
            meta: Meta::of(&v.metadata.0),
            kind,
            desired,
            available,
            ready,
            updated,
            conditions: conditions(&status.conditions.0),
            progress_deadline: match kind {
                WorkloadKind::Deployment => Some(
                    spec.progress_deadline_seconds
                        .unwrap_or(DEFAULT_PROGRESS_DEADLINE),
                ),
                _ => None,
            },
            paused: spec.paused == Some(true),
            generation: v.metadata.0.generation,
            observed_generation: status.observed_generation,
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
    let data = parsed::<raw::Workload>(doc, WORKLOADS);
    doc.items
        .iter()
        .zip(data)
        .map(|(item, v)| Workload::of(At { doc, item }, v, kind))
        .collect()
}

/// Any object, by its metadata alone (service accounts, ConfigMaps, roles...).
#[derive(Debug, Clone)]
pub struct Object<'d> {
    pub at: At<'d>,
    pub meta: Meta<'d>,
}

impl<'d> Object<'d> {
    /// Its namespace, `default` when none is written (as kubectl reads a namespaced object).
    pub fn namespace_or_default(&self) -> &'d str {
        match self.meta.namespace {
            "" => "default",
            ns => ns,
        }
    }
}

/// The metadata of every object of a list.
pub fn objects(doc: &JsonDoc) -> Vec<Object<'_>> {
    let data = parsed::<raw::Object>(doc, OBJECTS);
    doc.items
        .iter()
        .zip(data)
        .map(|(item, v)| Object {
            at: At { doc, item },
            meta: Meta::of(&v.metadata.0),
        })
        .collect()
}

/// The object `namespace/name` of a list, building no other object's view (a ConfigMap
/// looked up by name among thousands).
pub fn object_named<'d>(doc: &'d JsonDoc, namespace: &str, name: &str) -> Option<Object<'d>> {
    let data = parsed::<raw::Object>(doc, OBJECTS);
    let i = data.iter().position(|o| {
        st(&o.metadata.0.namespace) == Some(namespace) && st(&o.metadata.0.name) == Some(name)
    })?;
    Some(Object {
        at: At {
            doc,
            item: &doc.items[i],
        },
        meta: Meta::of(&data[i].metadata.0),
    })
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
        let pods: Vec<Pod> = pods(&doc).collect();
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
        let meta = |v: Value| {
            let doc = table("kubectl/pods.json", vec![v]);
            pod_at(&doc, 0).unwrap().workload().map(|w| w.kubectl())
        };
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
