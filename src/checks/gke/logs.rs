//! The GKE checks that read logs and captured output: a Forbidden answer naming an IAM
//! permission, metadata DNS failures, authentication failures (at start-up, or from pods whose
//! KSA has no annotation), the metadata server losing the control plane, and DeployPatch.

use super::*;
use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::cluster::{Pod, State};
use crate::facts::TextFile;
use crate::model::Severity;
use crate::scan::ScanMatch;
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

/// How soon after a container started an authentication failure counts as a start-up race:
/// the GKE metadata server needs a few seconds to learn about a new pod, and a failure within
/// this window is most likely that wait rather than a broken configuration.
pub const STARTUP_WINDOW_SECS: f64 = 10.0;

/// A Forbidden answer as the API server words it, with GKE's IAM hint. Quotes may be escaped,
/// once (a Status object printed as JSON) or more (that JSON quoted again in a log field, or
/// printed as Python bytes); older API servers leave out the API group, and the oldest
/// say `cannot list pods` without the word `resource`; older GKE says `Required "perm" permission`.
static FORBIDDEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"User \\*"(?P<user>[^"\\]+)\\*" cannot (?P<verb>[a-z]+) "#,
        r#"(?:resource \\*"(?P<resource>[^"\\]+)\\*"|path \\*"(?P<path>[^"\\]+)\\*"|(?P<oldres>[a-z][a-z0-9./]*))"#,
        r#"(?: in API group \\*"(?P<group>[^"\\]*)\\*")?"#,
        r#"(?: in the namespace \\*"(?P<ns>[^"\\]+)\\*"| at the cluster scope)?"#,
        r#": (?:requires one of \[(?P<perms>[^\]]*)\]|Required \\*"(?P<perm>[^"\\]+)\\*" permission)"#,
    ))
    .expect("valid regex")
});

/// One parsed Forbidden answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Forbidden {
    pub user: String,
    pub verb: String,
    /// `pods`, `pods/exec`; empty for a non-resource path.
    pub resource: String,
    pub path: String,
    pub group: String,
    /// `None`: cluster scope.
    pub namespace: Option<String>,
    pub permissions: Vec<String>,
}

/// Parses a Forbidden message (one line, or wrapped lines joined with spaces).
pub fn parse_forbidden(text: &str) -> Option<Forbidden> {
    let c = FORBIDDEN.captures(text)?;
    let get = |n: &str| c.name(n).map(|m| m.as_str().to_string());
    let permissions = match (get("perms"), get("perm")) {
        (Some(list), _) => list
            .split(',')
            .map(|p| {
                p.trim()
                    .trim_matches(|ch| ch == '"' || ch == '\\')
                    .to_string()
            })
            .filter(|p| !p.is_empty())
            .collect(),
        (None, Some(p)) => vec![p],
        _ => Vec::new(),
    };
    Some(Forbidden {
        user: get("user")?,
        verb: get("verb")?,
        resource: get("resource").or(get("oldres")).unwrap_or_default(),
        path: get("path").unwrap_or_default(),
        group: get("group").unwrap_or_default(),
        namespace: get("ns"),
        permissions,
    })
}

fn k8s_name(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(63);
    out.trim_matches(|c| c == '-' || c == '.').to_string()
}

/// The IAM member for a user name as the API server shows it.
fn iam_member(user: &str) -> String {
    // A Workload Identity principal already shows as an IAM member.
    if user.starts_with("serviceAccount:") || user.starts_with("principal://") {
        user.to_string()
    } else if user.ends_with(".gserviceaccount.com") {
        format!("serviceAccount:{user}")
    } else if user.contains('@') {
        format!("user:{user}")
    } else {
        "user:EMAIL_OF_THE_ACCOUNT".into()
    }
}

/// The remediation's names: the Role + binding YAML that grants exactly the refused verb, and
/// the IAM alternative when GKE named a permission.
pub fn forbidden_remediation(d: Draft, f: &Forbidden, project: &str) -> Draft {
    let what = if f.path.is_empty() {
        f.resource.as_str()
    } else {
        f.path.as_str()
    };
    let role = k8s_name(&format!("{}-{}", f.verb, what.trim_start_matches('/')));
    let binding = k8s_name(&format!(
        "{role}-{}",
        f.user.split('@').next().unwrap_or("")
    ));
    let (kind, bkind, ns_line) = match &f.namespace {
        Some(ns) => ("Role", "RoleBinding", format!("\n  namespace: {ns}")),
        None => ("ClusterRole", "ClusterRoleBinding", String::new()),
    };
    let rule = if f.path.is_empty() {
        format!(
            "- apiGroups: [\"{}\"]\n  resources: [\"{}\"]\n  verbs: [\"{}\"]",
            f.group, f.resource, f.verb
        )
    } else {
        format!(
            "- nonResourceURLs: [\"{}\"]\n  verbs: [\"{}\"]",
            f.path, f.verb
        )
    };
    let manifest = format!(
        "---\n\
apiVersion: rbac.authorization.k8s.io/v1\n\
kind: {kind}\n\
metadata:\n  name: {role}{ns_line}\n\
rules:\n{rule}\n\
---\n\
apiVersion: rbac.authorization.k8s.io/v1\n\
kind: {bkind}\n\
metadata:\n  name: {binding}{ns_line}\n\
subjects:\n- kind: User\n  name: \"{user}\"\n  apiGroup: rbac.authorization.k8s.io\n\
roleRef:\n  kind: {kind}\n  name: {role}\n  apiGroup: rbac.authorization.k8s.io",
        user = f.user,
    );
    let mut d = d.var("manifest", manifest);
    let numeric = !f.user.is_empty() && f.user.bytes().all(|b| b.is_ascii_digit());
    if let Some(perm) = f.permissions.first() {
        let role_id: String = perm
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let member = match iam_member(&f.user) {
            // `[ns/ksa]` would be a pattern to the shell.
            m if m.contains('[') => format!("\"{m}\""),
            m => m,
        };
        d = d
            .var("perms", f.permissions.join(", "))
            .var("perms_csv", f.permissions.join(","))
            .var("role_id", role_id)
            .var("member", member)
            .var("project", project)
            .variant(if numeric { "numeric-iam" } else { "iam" });
    } else if numeric {
        d = d.variant("numeric");
    }
    d
}

/// `gke/rbac-forbidden`: Forbidden answers with GKE's IAM hint, one finding per distinct
/// (user, verb, resource, group, namespace).
pub fn rbac_forbidden(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    if ctx.scanned("forbidden") == 0 {
        return Draft::missing("default")
            .var("globs", ctx.scan_globs("forbidden"))
            .not_evaluated();
    }
    let project = project_id(ctx.facts).unwrap_or_else(|| "PROJECT_ID".into());
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Draft> = HashMap::new();
    // Lines already read as part of a wrapped message, per file.
    let mut consumed: HashMap<String, usize> = HashMap::new();
    for m in ctx.matches_of("forbidden") {
        let file = m.file.to_string();
        if consumed.get(&file).is_some_and(|&last| m.line <= last) && file != "manifest.json" {
            continue;
        }
        let (parsed, ev) = if file == "manifest.json" {
            (parse_forbidden(&m.text), line_evidence(m))
        } else {
            match wrapped(ctx, m) {
                Some((f, ev)) => (Some(f), ev),
                None => (None, line_evidence(m)),
            }
        };
        let Some(f) = parsed else { continue };
        if file != "manifest.json" {
            consumed.insert(file, ev.end_line);
        }
        let key = format!(
            "{}\u{0}{}\u{0}{}{}\u{0}{}\u{0}{:?}",
            f.user, f.verb, f.resource, f.path, f.group, f.namespace
        );
        let d = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            let scope = match &f.namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "at cluster scope".to_string(),
            };
            let target = if f.path.is_empty() {
                let group = if f.group.is_empty() {
                    "core"
                } else {
                    f.group.as_str()
                };
                format!("{} (API group {group})", f.resource)
            } else {
                format!("path {}", f.path)
            };
            let d = Draft::new()
                .var("user", f.user.as_str())
                .var("verb", f.verb.as_str())
                .var("target", target)
                .var("scope", scope)
                .var(
                    "permission",
                    if f.permissions.is_empty() {
                        "an IAM permission".to_string()
                    } else {
                        f.permissions.join(", ")
                    },
                );
            forbidden_remediation(d, &f, &project)
        });
        d.evidence.push(ev);
    }
    let drafts: Vec<Draft> = order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .map(|d| {
            let n = d.evidence.len();
            d.var("count", n.to_string())
        })
        .collect();
    Ok(if drafts.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Findings(drafts)
    })
}

/// The Forbidden message starting at a matched line, joined with up to four following lines when
/// a document wrapped it between words, or a terminal capture cut it at its width (then the lines
/// join without a space, and may cut a word or a quoted name).
fn wrapped(ctx: &Ctx, m: &ScanMatch) -> Option<(Forbidden, crate::model::Evidence)> {
    if let Some(f) = parse_forbidden(&m.text) {
        return Some((f, line_evidence(m)));
    }
    let text: std::sync::Arc<TextFile> = ctx.facts.text(&m.file).ok()?;
    let eol: &[char] = &['\r', '\n'];
    for cut in [false, true] {
        let mut joined = if cut {
            m.text.trim_end_matches(eol).to_string()
        } else {
            m.text.trim_end().to_string()
        };
        for n in m.line + 1..=(m.line + 4).min(text.line_count()) {
            let next = text.line(n);
            // A blank line ends the message; another Forbidden answer is its own message.
            if next.trim().is_empty() || next.contains("forbidden:") {
                break;
            }
            if cut {
                joined.push_str(next.trim_end_matches(eol));
            } else {
                joined.push(' ');
                joined.push_str(next.trim());
            }
            if let Some(f) = parse_forbidden(&joined) {
                // Names never hold white space: one that does was cut by the terminal.
                let names = [&f.user, &f.resource, &f.path, &f.group];
                if names.iter().any(|s| s.contains(char::is_whitespace))
                    || f.namespace
                        .as_ref()
                        .is_some_and(|s| s.contains(char::is_whitespace))
                    || f.permissions
                        .iter()
                        .any(|s| s.contains(char::is_whitespace))
                {
                    break;
                }
                return Some((f, text.evidence(m.line, n)));
            }
        }
    }
    None
}

/// The pod a log file belongs to, from its path.
fn log_pod(file: &str) -> Option<(String, String, String, bool)> {
    let v = path_vars(file);
    Some((
        v.get("namespace")?.clone(),
        v.get("pod")?.clone(),
        v.get("container")?.clone(),
        file.ends_with(".previous.log"),
    ))
}

/// The pods some log files came from, by namespace and name; each view is built when looked
/// up. It holds only those pods, however many the list has.
struct PodIndex<'d> {
    doc: &'d JsonDoc,
    at: HashMap<String, HashMap<String, usize>>,
}

impl<'d> PodIndex<'d> {
    fn get(&self, key: &(String, String)) -> Option<Pod<'d>> {
        let i = *self.at.get(&key.0)?.get(&key.1)?;
        crate::cluster::pod_at(self.doc, i)
    }
}

fn pod_index<'d, 'm>(
    pods: &'d JsonDoc,
    matches: impl IntoIterator<Item = &'m ScanMatch>,
) -> PodIndex<'d> {
    let mut wanted: HashMap<String, HashMap<String, Option<usize>>> = HashMap::new();
    for (ns, pod, _, _) in matches.into_iter().filter_map(|m| log_pod(&m.file)) {
        wanted.entry(ns).or_default().insert(pod, None);
    }
    if !wanted.is_empty() {
        for (i, p) in crate::cluster::pods(pods).enumerate() {
            let (ns, name) = (p.ksa().0, p.meta.name);
            if let Some(slot) = wanted.get_mut(ns).and_then(|n| n.get_mut(name)) {
                // The last of a name wins, as it did when the views were collected by name.
                *slot = Some(i);
            }
        }
    }
    let at = wanted
        .into_iter()
        .map(|(ns, names)| {
            let names = names.into_iter().filter_map(|(n, i)| Some((n, i?)));
            (ns, names.collect())
        })
        .collect();
    PodIndex { doc: pods, at }
}

/// The workload that owns a pod, for `kubectl set env`: a Deployment (via its ReplicaSet),
/// StatefulSet, DaemonSet, else the pod itself.
fn owner_ref(pod: &Pod, name: &str) -> String {
    let owner = pod.meta.owners.first();
    let kind = owner.map(|o| o.kind);
    let oname = owner
        .map(|o| o.name)
        .filter(|n| !n.is_empty())
        .unwrap_or(name);
    match kind {
        Some("ReplicaSet") => match oname.rsplit_once('-') {
            Some((d, _)) => format!("deployment/{d}"),
            None => format!("replicaset/{oname}"),
        },
        Some("StatefulSet") => format!("statefulset/{oname}"),
        Some("DaemonSet") => format!("daemonset/{oname}"),
        _ => format!("pod/{name}"),
    }
}

/// The value of `GCE_METADATA_HOST` in the pod's containers, if set.
fn metadata_host_env(pod: &Value) -> Option<String> {
    pod.pointer("/spec/containers")?
        .as_array()?
        .iter()
        .flat_map(|c| {
            c.get("env")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .find(|e| str_at(e, "name") == Some("GCE_METADATA_HOST"))
        .map(|e| str_at(&e, "value").unwrap_or("").to_string())
}

/// `gke/metadata-dns-failure`: metadata.google.internal not resolved, or no default credentials.
pub fn metadata_dns_failure(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut matches: Vec<&ScanMatch> = ctx.matches_of("dns");
    matches.extend(ctx.matches_of("nocreds"));
    if matches.is_empty() {
        if ctx.facts.glob("kubectl/logs/**").is_empty() {
            return Draft::missing("default").not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    matches.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let dns_idx = ctx.check.scans.iter().position(|s| s.name == "dns");
    let pods = ctx.list("kubectl/pods.json");
    let index = pods
        .as_ref()
        .ok()
        .map(|p| pod_index(p, matches.iter().copied()));
    // group by pod (or by file for captured output)
    let mut order = Vec::new();
    let mut groups: HashMap<String, (Vec<&ScanMatch>, bool)> = HashMap::new();
    for m in matches {
        let key = match log_pod(&m.file) {
            Some((ns, pod, _, _)) => format!("{ns}/{pod}"),
            None => m.file.to_string(),
        };
        let g = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (Vec::new(), false)
        });
        g.1 |= Some(m.scan) == dns_idx;
        g.0.push(m);
    }
    let mut drafts = Vec::new();
    for key in order {
        let (ms, dns) = groups.remove(&key).unwrap_or_default();
        let mut d = Draft::new().var("source", key.as_str());
        if !dns {
            d = d.variant("no-credentials");
        }
        let pod = log_pod(&ms[0].file);
        d = match (&pod, &index) {
            (Some((ns, name, _, _)), Some(idx)) => {
                let d = d.var("namespace", ns.as_str()).var("pod", name.as_str());
                match idx.get(&(ns.clone(), name.clone())) {
                    Some(pod) => match metadata_host_env(pod.value()) {
                        Some(v) => d.var("metadata_host", v).variant("env-set"),
                        None => d
                            .var("workload", owner_ref(&pod, name))
                            .variant("env-missing"),
                    },
                    None => d.variant("pod-missing"),
                }
            }
            (Some(_), None) => d.variant("pods-unknown"),
            (None, _) => d,
        };
        for m in &ms {
            d = d.evidence(line_evidence(m));
        }
        let n = ms.len();
        drafts.push(d.var("count", n.to_string()));
    }
    Ok(Outcome::Findings(drafts))
}

/// The start time of the container run a log file shows: `state.running.startedAt` for the
/// current log, `lastState.terminated.startedAt` for `--previous`. While a container waits to
/// be restarted (CrashLoopBackOff) the kubelet serves the last terminated run for both.
fn container_started(pod: &Pod, container: &str, previous: bool) -> Option<jiff::Timestamp> {
    // The regular containers' statuses first, then the init containers'.
    let c = pod
        .containers
        .iter()
        .filter(|c| c.has_status && c.name == container)
        .min_by_key(|c| c.init)?;
    let last = c.last.as_ref().and_then(|t| t.started);
    if previous {
        return last;
    }
    match &c.state {
        State::Running { started } => *started,
        State::Terminated(t) => t.started,
        _ => None,
    }
    .or(last)
}

/// How many seconds after its container's start an authentication failure line of a pod log
/// came (`file` under `kubectl/logs/`), when that is within the start-up window
/// `gke/wi-startup-timeout` reports: other checks leave such containers to it.
pub(crate) fn startup_failure_secs(
    pod: &Pod,
    file: &str,
    line: &str,
    reference: Option<jiff::Timestamp>,
) -> Option<f64> {
    let (_, _, container, previous) = log_pod(file)?;
    let started = container_started(pod, &container, previous)?;
    let at = crate::logline::parse(line, reference).time?;
    let secs = (at.as_millisecond() - started.as_millisecond()) as f64 / 1000.0;
    (-1.0..=STARTUP_WINDOW_SECS).contains(&secs).then_some(secs)
}

/// `gke/wi-startup-timeout`: authentication failures within [`STARTUP_WINDOW_SECS`] of the
/// container's start.
pub fn wi_startup_timeout(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    if ctx.scanned("authfail") == 0 {
        return Draft::missing("default").not_evaluated();
    }
    let ms = ctx.matches_of("authfail");
    if ms.is_empty() {
        return Ok(Outcome::Pass);
    }
    let pods = ctx.list("kubectl/pods.json")?;
    let index = pod_index(&pods, ms.iter().copied());
    let reference = ctx.facts.collection_time();
    let mut compared = 0usize;
    let mut undated = 0usize;
    let mut order = Vec::new();
    // per container: the draft, and the earliest failure (seconds after start, that run's start)
    let mut groups: HashMap<String, (Draft, f64, jiff::Timestamp)> = HashMap::new();
    for m in ms {
        let Some((ns, pod, container, previous)) = log_pod(&m.file) else {
            continue;
        };
        let started = index
            .get(&(ns.clone(), pod.clone()))
            .and_then(|p| container_started(&p, &container, previous));
        let at = crate::logline::parse(&m.text, reference).time;
        let (Some(started), Some(at)) = (started, at) else {
            undated += 1;
            continue;
        };
        compared += 1;
        let secs = (at.as_millisecond() - started.as_millisecond()) as f64 / 1000.0;
        if !(-1.0..=STARTUP_WINDOW_SECS).contains(&secs) {
            continue;
        }
        let key = format!("{ns}/{pod}/{container}");
        let g = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            let workload = index
                .get(&(ns.clone(), pod.clone()))
                .map(|p| owner_ref(&p, &pod))
                .unwrap_or_else(|| format!("pod/{pod}"));
            (
                Draft::new()
                    .var("namespace", ns.as_str())
                    .var("pod", pod.as_str())
                    .var("container", container.as_str())
                    .var("workload", workload),
                f64::MAX,
                started,
            )
        });
        if secs.max(0.0) < g.1 {
            g.1 = secs.max(0.0);
            g.2 = started;
        }
        g.0.evidence.push(line_evidence(m));
    }
    if order.is_empty() {
        if compared == 0 && undated > 0 {
            return Draft::missing("undated")
                .var("count", undated.to_string())
                .not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    Ok(Outcome::Findings(
        order
            .into_iter()
            .filter_map(|k| groups.remove(&k))
            .map(|(d, secs, started)| {
                let n = d.evidence.len();
                d.var("seconds", format!("{secs:.1}"))
                    .var("started", started.to_string())
                    .var("count", n.to_string())
                    .var("window", format!("{STARTUP_WINDOW_SECS:.0}"))
            })
            .collect(),
    ))
}

/// Whether the refused connection of a line was to a Google API (`Post "https://sts.googleapis.com/
/// v1/token": dial tcp 199.36.153.8:443: ...`), which the metadata server also calls, rather than
/// to the control plane: the URL just before `dial tcp` names the host.
fn dials_google_api(line: &str) -> bool {
    let before = line.split("dial tcp").next().unwrap_or("");
    let Some(at) = before.rfind("https://") else {
        return false;
    };
    let host = before[at + "https://".len()..]
        .split(['/', ':', '"', '\\', ' '])
        .next()
        .unwrap_or("");
    host.ends_with(".googleapis.com") || host.ends_with(".google.com")
}

/// `gke/control-plane-unavailable`: the metadata server cannot reach the control plane.
pub fn control_plane_unavailable(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let refused: Vec<&ScanMatch> = ctx
        .matches_of("refused")
        .into_iter()
        .filter(|m| !dials_google_api(&m.text))
        .collect();
    let http500 = ctx.matches_of("http500");
    if refused.is_empty() && http500.is_empty() {
        if ctx.scanned("refused") == 0 {
            return Draft::missing("default")
                .var("globs", ctx.scan_globs("refused"))
                .not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let mut all: Vec<&ScanMatch> = refused.iter().chain(http500.iter()).copied().collect();
    all.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let mut ips: Vec<String> = refused
        .iter()
        .filter_map(|m| m.captures.get("ip").cloned())
        .collect();
    ips.sort();
    ips.dedup();
    let endpoint = ctx
        .json("gcloud/cluster.json")
        .ok()
        .and_then(|c| str_at(&c.value, "endpoint").map(str::to_string));
    let target = if ips.is_empty() {
        "the control plane".to_string()
    } else if endpoint.as_ref().is_some_and(|e| ips.contains(e)) {
        format!(
            "the control plane at {} (the cluster's endpoint)",
            ips.join(", ")
        )
    } else {
        format!("{}:443", ips.join(":443, "))
    };
    let loc = cluster_location(ctx.facts);
    let (severity, topology) = match &loc {
        Some(l) if is_zonal(l) => (Severity::Error, Some("zonal")),
        Some(_) => (Severity::Warning, Some("regional")),
        None => (Severity::Warning, None),
    };
    let mut d = Draft::new()
        .var("target", target)
        .var("refused", refused.len().to_string())
        .var("http500", http500.len().to_string())
        .var("cluster", cluster_name(ctx.facts))
        .var("location", loc.unwrap_or_else(|| "LOCATION".into()));
    d.severity = Some(severity);
    d.variants.extend(topology);
    for m in all {
        d = d.evidence(line_evidence(m));
    }
    Ok(Outcome::Findings(vec![d]))
}

/// `gke/wi-ksa-annotation-missing`: Google auth failures in pods whose KSA has no annotation.
pub fn wi_ksa_annotation_missing(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    if ctx.scanned("authfail") == 0 {
        return Draft::missing("default").not_evaluated();
    }
    let ms = ctx.matches_of("authfail");
    if ms.is_empty() {
        return Ok(Outcome::Pass);
    }
    let pods = ctx.list("kubectl/pods.json")?;
    let sas = ctx.list("kubectl/serviceaccounts.json")?;
    let annotated: std::collections::HashSet<(String, String)> = annotated_ksas(&sas)
        .into_iter()
        .map(|k| (k.namespace, k.name))
        .collect();
    let index = pod_index(&pods, ms.iter().copied());
    let project = project_id(ctx.facts).unwrap_or_else(|| "PROJECT_ID".into());
    let cluster = ctx.json("gcloud/cluster.json");
    let pool = cluster.as_ref().ok().and_then(|c| workload_pool(&c.value));
    type Group<'m> = (
        Vec<String>,
        Vec<&'m ScanMatch>,
        Option<crate::model::Evidence>,
    );
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    // Pods whose logs fail but that kubectl/pods.json does not hold: their KSA is unknown.
    let mut unknown: Vec<String> = Vec::new();
    for m in ms {
        let Some((ns, pod, _, _)) = log_pod(&m.file) else {
            continue;
        };
        let Some(view) = index.get(&(ns.clone(), pod.clone())) else {
            let name = format!("{ns}/{pod}");
            if !unknown.contains(&name) {
                unknown.push(name);
            }
            continue;
        };
        // A pod on the host network asks the node's metadata server, as the node's service
        // account: Workload Identity and its annotation do not apply to it.
        if view.host_network {
            continue;
        }
        let (_, ksa) = view.ksa();
        if annotated.contains(&(ns.clone(), ksa.to_string())) {
            continue;
        }
        let g = groups.entry((ns.clone(), ksa.to_string())).or_default();
        if !g.0.contains(&pod) {
            g.0.push(pod.clone());
        }
        if g.2.is_none() {
            let needle = if str_at(view.value(), "spec.serviceAccountName").is_some() {
                "\"serviceAccountName\""
            } else {
                "\"name\""
            };
            g.2 = Some(view.at.line(needle));
        }
        g.1.push(m);
    }
    if groups.is_empty() {
        if !unknown.is_empty() {
            return Draft::missing("pods-unknown")
                .var("pods", name_list(&unknown, 5))
                .not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let all_ksas: std::collections::HashSet<(&str, &str)> = crate::cluster::objects(&sas)
        .iter()
        .map(|o| (o.namespace_or_default(), o.meta.name))
        .collect();
    let drafts = groups
        .into_iter()
        .map(|((ns, ksa), (pod_names, lines, pod_ev))| {
            let ksa_exists = all_ksas.contains(&(ns.as_str(), ksa.as_str()));
            let pool_text = match &pool {
                Some(p) => p.clone(),
                None => format!("{project}.svc.id.goog"),
            };
            // The remediation's first steps: the cluster's pool, then the KSA itself.
            let variant = match (pool.is_none(), cluster.is_ok(), ksa_exists) {
                (false, _, true) => None,
                (false, _, false) => Some("no-ksa"),
                (true, true, true) => Some("no-pool"),
                (true, true, false) => Some("no-pool-no-ksa"),
                (true, false, true) => Some("pool-unknown"),
                (true, false, false) => Some("pool-unknown-no-ksa"),
            };
            let mut d = Draft::new()
                .var("namespace", ns.as_str())
                .var("ksa", ksa.as_str())
                .var("pods", name_list(&pod_names, 5))
                .var("pool", pool_text)
                .var("project", project.as_str())
                .var("cluster", cluster_name(ctx.facts))
                .var("location_flag", location_flag(ctx.facts))
                .var("count", lines.len().to_string());
            d.variants.extend(variant);
            if let Some(e) = pod_ev {
                d = d.evidence(e);
            }
            for m in lines {
                d = d.evidence(line_evidence(m));
            }
            d
        })
        .collect();
    Ok(Outcome::Findings(drafts))
}

/// `gke/deploypatch-service-agent`: DeployPatch failures, or the GKE service agent without
/// roles/container.serviceAgent on the project.
pub fn deploypatch_service_agent(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let lines = ctx.matches_of("deploypatch");
    let project = project_id(ctx.facts);
    let project_doc = ctx.json("gcloud/project.json").ok();
    let number: Option<String> =
        project_doc
            .as_ref()
            .and_then(|p| match p.value.get("projectNumber") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
    let project = project
        .or_else(|| {
            project_doc
                .as_ref()
                .and_then(|p| str_at(&p.value, "projectId").map(str::to_string))
        })
        .unwrap_or_else(|| "PROJECT_ID".into());
    let policy = ctx.json("gcloud/project-iam-policy.json");
    let agent_of = |n: &str| {
        format!("serviceAccount:service-{n}@container-engine-robot.iam.gserviceaccount.com")
    };
    // Ok(true): role present; Ok(false): missing; Err: policy unusable.
    let (role_state, near) = match &policy {
        Ok(p) => {
            let members = super::chain::role_members(p, "roles/container.serviceAgent");
            let robots: Vec<&(String, crate::model::Evidence)> = members
                .iter()
                .filter(|(m, _)| m.ends_with("@container-engine-robot.iam.gserviceaccount.com"))
                .collect();
            match &number {
                Some(n) => {
                    let want = agent_of(n);
                    let ok = robots.iter().any(|(m, _)| *m == want);
                    let others: Vec<String> = robots.iter().map(|(m, _)| m.clone()).collect();
                    (Ok(ok), if ok { Vec::new() } else { others })
                }
                None => (Ok(!robots.is_empty()), Vec::new()),
            }
        }
        Err(u) => (Err(u.clone()), Vec::new()),
    };
    if lines.is_empty() {
        match &role_state {
            Ok(true) => return Ok(Outcome::Pass),
            Ok(false) => {}
            Err(u) => return Err(u.clone()),
        }
    }
    let number_text = number.clone().unwrap_or_else(|| "PROJECT_NUMBER".into());
    let mut d = Draft::new()
        .var("project", project.as_str())
        .var("number", number_text.as_str())
        .var("count", lines.len().to_string())
        .var("near", near.join(", "))
        .var("cluster", cluster_name(ctx.facts))
        .var("location_flag", location_flag(ctx.facts));
    if lines.is_empty() {
        d = d.variant("no-failure");
    }
    // The remediation's steps: find the project number, give the role back, enable again.
    d = match (number.is_none(), role_state == Ok(true)) {
        (false, false) => d,
        (false, true) => d.variant("role-granted"),
        (true, false) => d.variant("number-unknown"),
        (true, true) => d.variant("number-unknown-role-granted"),
    };
    match &role_state {
        Ok(true) => d = d.variant("role-granted"),
        Ok(false) if !near.is_empty() => d = d.variant("granted-to-others"),
        Ok(false) => {}
        Err(u) => d = d.var("why", u.to_string()).variant("policy-unknown"),
    }
    for m in &lines {
        d = d.evidence(line_evidence(m));
    }
    if role_state == Ok(false)
        && let Ok(p) = &policy
    {
        d = d.evidence(if p.value.get("bindings").is_some() {
            p.text.evidence_for("\"bindings\"")
        } else {
            p.text.evidence(1, p.text.line_count().clamp(1, 3))
        });
        if let Some(pd) = &project_doc {
            d = d.evidence(pd.text.evidence_for("\"projectNumber\""));
        }
    }
    Ok(Outcome::Findings(vec![d]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_messages_in_every_known_form() {
        let seed = r#"Error from server (Forbidden): roles.rbac.authorization.k8s.io is forbidden: User "example-account@example-project.iam.gserviceaccount.com" cannot list resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "kube-system": requires one of ["container.roles.list"] permission(s)."#;
        let f = parse_forbidden(seed).unwrap();
        assert_eq!(
            (
                f.user.as_str(),
                f.verb.as_str(),
                f.resource.as_str(),
                f.group.as_str()
            ),
            (
                "example-account@example-project.iam.gserviceaccount.com",
                "list",
                "roles",
                "rbac.authorization.k8s.io"
            )
        );
        assert_eq!(f.namespace.as_deref(), Some("kube-system"));
        assert_eq!(f.permissions, vec!["container.roles.list"]);

        let cluster = r#"Error from server (Forbidden): clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "109904733323051370338" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope: requires one of ["container.clusterRoleBindings.create"] permission(s)."#;
        let f = parse_forbidden(cluster).unwrap();
        assert_eq!(f.namespace, None);
        assert_eq!(f.permissions, vec!["container.clusterRoleBindings.create"]);

        let status = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"7843619910037672257843\" cannot create resource \"pods\" in API group \"\" in the namespace \"staging\": requires one of [\"container.pods.create\"] permission(s).","reason":"Forbidden","details":{"kind":"pods"},"code":403}"#;
        let f = parse_forbidden(status).unwrap();
        assert_eq!(
            (f.user.as_str(), f.resource.as_str(), f.group.as_str()),
            ("7843619910037672257843", "pods", "")
        );
        assert_eq!(f.namespace.as_deref(), Some("staging"));
        assert_eq!(f.permissions, vec!["container.pods.create"]);

        let twice = r#"{"level":"error","error":"patching resource: deployments.apps \\\"web\\\" is forbidden: User \\\"serviceAccount:p.svc.id.goog[ci/ctl]\\\" cannot patch resource \\\"deployments\\\" in API group \\\"apps\\\" in the namespace \\\"web\\\": requires one of [\\\"container.deployments.update\\\"] permission(s)."}"#;
        let f = parse_forbidden(twice).unwrap();
        assert_eq!(
            (f.user.as_str(), f.group.as_str(), f.namespace.as_deref()),
            ("serviceAccount:p.svc.id.goog[ci/ctl]", "apps", Some("web"))
        );
        assert_eq!(f.permissions, vec!["container.deployments.update"]);

        let sub = r#"Error from server (Forbidden): pods "web-0" is forbidden: User "dev@shop.example" cannot create resource "pods/exec" in API group "" in the namespace "web": requires one of ["container.pods.exec"] permission(s)."#;
        assert_eq!(parse_forbidden(sub).unwrap().resource, "pods/exec");

        let no_group = r#"Error from server (Forbidden): pods is forbidden: User "dev@shop.example" cannot list resource "pods" in the namespace "web": requires one of ["container.pods.list"] permission(s)."#;
        let f = parse_forbidden(no_group).unwrap();
        assert_eq!((f.resource.as_str(), f.group.as_str()), ("pods", ""));

        let oldest = r#"Error from server (Forbidden): pods is forbidden: User "ci@shop.iam.gserviceaccount.com" cannot list pods in the namespace "default": Required "container.pods.list" permission."#;
        let f = parse_forbidden(oldest).unwrap();
        assert_eq!(f.resource, "pods");
        assert_eq!(f.permissions, vec!["container.pods.list"]);

        // Without GKE's IAM hint it is plain RBAC, not this check's business.
        assert_eq!(
            parse_forbidden(
                r#"nodes is forbidden: User "system:bootstrap:abcdef" cannot get resource "nodes" in API group "" at the cluster scope"#
            ),
            None
        );
    }

    /// The remediation the spec's template gives for `f`.
    fn forbidden_remediation(f: &Forbidden, project: &str) -> String {
        let d = super::forbidden_remediation(Draft::new().var("user", f.user.as_str()), f, project);
        let cat = crate::spec::Catalog::embedded().unwrap();
        let spec = &cat.get("gke/rbac-forbidden").unwrap().spec;
        crate::template::fill(spec.remediation.pick(&d.variants), &d.vars)
    }

    #[test]
    fn remediation_grants_exactly_the_refused_verb() {
        let f = parse_forbidden(r#"User "a@b.iam.gserviceaccount.com" cannot list resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "kube-system": requires one of ["container.roles.list"] permission(s)."#).unwrap();
        let r = forbidden_remediation(&f, "proj");
        assert!(r.contains("kind: Role\n"), "{r}");
        assert!(r.contains("namespace: kube-system"));
        assert!(r.contains("apiGroups: [\"rbac.authorization.k8s.io\"]"));
        assert!(r.contains("verbs: [\"list\"]"));
        assert!(r.contains("--member=serviceAccount:a@b.iam.gserviceaccount.com"));
        assert!(r.contains("--permissions=container.roles.list"));
        let c = parse_forbidden(r#"User "109904733323051370338" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope: requires one of ["container.clusterRoleBindings.create"] permission(s)."#).unwrap();
        let r = forbidden_remediation(&c, "proj");
        assert!(r.contains("kind: ClusterRole\n") && r.contains("kind: ClusterRoleBinding"));
        assert!(!r.contains("namespace:"));
        assert!(r.contains("numeric id"));
        let wi = parse_forbidden(r#"User "serviceAccount:p.svc.id.goog[ci/ctl]" cannot patch resource "deployments" in API group "apps" in the namespace "web": requires one of ["container.deployments.update"] permission(s)."#).unwrap();
        let r = forbidden_remediation(&wi, "p");
        assert!(!r.contains("numeric id"), "{r}");
        assert!(
            r.contains("--member=\"serviceAccount:p.svc.id.goog[ci/ctl]\""),
            "{r}"
        );
    }
}
