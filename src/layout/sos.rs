//! sosreports: one node's root (`etc/`, `var/`, `proc/`) plus `sos_commands/<plugin>/` command
//! output under mangled names (`journalctl_--no-pager_--unit_kubelet`). The node is the
//! report's `hostname`, matched to a cluster node by name. Journals, kubelet, runtime and CNI
//! files go under `nodes/<node>/`; the kubernetes plugin's JSON lists (taken on a
//! control-plane node, per namespace, in the per-kind folders of sos before 4.7.1 or under
//! `cluster-info/` since) are merged into `kubectl/`. Its relative links (root `hostname`,
//! `proc/mounts` → `self/mounts`, tailed output) are followed inside the report only.
//! Compressed output (`journalctl_…_--unit_x.xz`) and rotated logs (`var/log/syslog.2.gz`) are
//! read inflated, bounded, their lines named in the compressed file as sent.

use super::lists::ListBuilder;
use super::node::{self, Conv};
use super::troubleshoot::note_containers;
use super::{Containers, Input, View};
use std::collections::BTreeMap;

/// sos `kubectl get -o json` output by its last word: (word, our list, kind, API version).
const KINDS: &[(&str, &str, &str, &str)] = &[
    ("nodes", "nodes.json", "NodeList", "v1"),
    ("pods", "pods.json", "PodList", "v1"),
    ("events", "events.json", "EventList", "v1"),
    (
        "deployments",
        "deployments.json",
        "DeploymentList",
        "apps/v1",
    ),
    ("daemonsets", "daemonsets.json", "DaemonSetList", "apps/v1"),
    (
        "statefulsets",
        "statefulsets.json",
        "StatefulSetList",
        "apps/v1",
    ),
    (
        "serviceaccounts",
        "serviceaccounts.json",
        "ServiceAccountList",
        "v1",
    ),
    ("configmaps", "configmaps.json", "ConfigMapList", "v1"),
    (
        "networkpolicies",
        "networkpolicies.json",
        "NetworkPolicyList",
        "networking.k8s.io/v1",
    ),
];

fn base(input: &Input) -> String {
    input
        .files
        .iter()
        .find_map(|f| {
            let i = f.path.find("sos_commands/")?;
            (i == 0 || f.path.as_bytes()[i - 1] == b'/').then(|| f.path[..i].to_string())
        })
        .unwrap_or_default()
}

/// The report's host name: its `hostname` output, else `/etc/hostname`.
pub fn host(input: &Input) -> Option<String> {
    let base = base(input);
    ["hostname", "sos_commands/host/hostname", "etc/hostname"]
        .iter()
        .find_map(|p| {
            let f = input.resolve(&format!("{base}{p}"))?;
            let t = input.read_string(&f.path)?;
            let h = t.lines().next()?.trim().to_string();
            (!h.is_empty()).then_some(h)
        })
}

/// `kubectl_--kubeconfig_X_get_-o_json_--namespace_ns_pods` → (namespace, word).
fn json_get(name: &str) -> Option<(Option<String>, String)> {
    let name = strip_collision(name);
    if !name.contains("get_-o_json") && !name.contains("get_--output_json") {
        return None;
    }
    let word = name.rsplit('_').next()?.to_string();
    let ns = name
        .split_once("--namespace_")
        .and_then(|(_, r)| r.split('_').next())
        .map(str::to_string);
    Some((ns, word))
}

/// sos adds `.1`, `.2` to names that collide.
fn strip_collision(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => name,
    }
}

/// A pod's log: `…_--namespace_<ns>_logs_<pod>` (sos < 4.7.1) or
/// `…_logs_<pod>_-c_<container>` under `cluster-info/<ns>/podlogs/<pod>/`.
fn pod_log(rel_in_plugin: &str) -> Option<(String, String, Option<String>)> {
    let name = rel_in_plugin.rsplit('/').next()?;
    let (head, after) = name.rsplit_once("_logs_")?;
    let (pod, container) = match after.split_once("_-c_") {
        Some((p, c)) => (p.to_string(), Some(c.to_string())),
        None => (after.to_string(), None),
    };
    let ns = head
        .split_once("--namespace_")
        .and_then(|(_, r)| r.split('_').next())
        .map(str::to_string)
        .or_else(|| {
            // cluster-info/<ns>/podlogs/<pod>/…
            let parts: Vec<&str> = rel_in_plugin.split('/').collect();
            parts
                .iter()
                .position(|p| *p == "podlogs")
                .and_then(|i| i.checked_sub(1))
                .map(|i| parts[i].to_string())
        })?;
    Some((ns, pod, container))
}

pub fn import(input: &Input, view: &mut View, known_nodes: &[String]) -> std::io::Result<()> {
    let base = base(input);
    let plugin = format!("{base}sos_commands/kubernetes/");
    // Cluster lists, when the report was taken on a node with kubectl access.
    let mut lists: BTreeMap<&str, ListBuilder> = BTreeMap::new();
    let mut containers = Containers::new();
    for f in input.files {
        let Some(rest) = f.path.strip_prefix(&plugin) else {
            continue;
        };
        let name = rest.rsplit('/').next().unwrap_or(rest);
        let Some((_, word)) = json_get(name) else {
            continue;
        };
        let Some((_, file, kind, api)) = KINDS.iter().find(|(w, ..)| *w == word) else {
            continue;
        };
        if f.size == 0 {
            continue;
        }
        let lb = lists
            .entry(file)
            .or_insert_with(|| ListBuilder::new(kind, api));
        let bytes = input.read(&f.path)?;
        if let Ok(items) = lb.add_file(&input.shown(&f.path), &bytes)
            && word == "pods"
        {
            note_containers(&items, &mut containers);
        }
    }
    for (file, lb) in lists {
        let (bytes, segs) = lb.finish();
        view.build(&format!("kubectl/{file}"), &bytes, segs)?;
    }
    for f in input.files {
        let Some(rest) = f.path.strip_prefix(&plugin) else {
            continue;
        };
        let Some((ns, pod, container)) = pod_log(rest) else {
            continue;
        };
        let container = container.or_else(|| {
            containers
                .get(&format!("{ns}/{pod}"))
                .and_then(|cs| cs.iter().rev().find(|_| true).cloned())
        });
        let Some(c) = container else { continue };
        view.alias(&format!("kubectl/logs/{ns}/{pod}/{c}.log"), input, &f.path);
    }

    // The node itself.
    let mut nodes = super::node_names(view);
    nodes.extend(known_nodes.iter().cloned());
    let node = host(input)
        .map(|h| super::match_node(&h, &nodes))
        .unwrap_or_else(|| "node".into());
    // Copied files first: /proc/mounts over `mount -l`.
    // Copied files, and links to them (`etc/resolv.conf` → `../run/systemd/resolve/…`).
    let copied = input
        .files
        .iter()
        .map(|f| &f.path)
        .chain(input.links.iter().map(|(l, _)| l));
    for path in copied {
        let Some(rel) = path.strip_prefix(&base) else {
            continue;
        };
        if rel.starts_with("sos_") {
            continue;
        }
        if let Some(ours) = node::by_copied_path(rel) {
            node::place(view, input, &node, &ours, path, Conv::Same);
        }
    }
    node::place(
        view,
        input,
        &node,
        "mounts",
        &format!("{base}proc/mounts"),
        Conv::Same,
    );
    for (link, path) in [
        ("installed-rpms", "runtime/packages.txt"),
        ("installed-debs", "runtime/packages.txt"),
    ] {
        node::place(
            view,
            input,
            &node,
            path,
            &format!("{base}{link}"),
            Conv::Same,
        );
    }
    // Command output, known by the command its name spells (compressed output, `….xz`, read
    // inflated); of several captures of one journal (`kubelet`, `snap.kubelet.daemon`), the
    // one with the most text.
    let mut journals: BTreeMap<String, Capture> = BTreeMap::new();
    for f in input.files {
        let Some(rest) = f.path.strip_prefix(&format!("{base}sos_commands/")) else {
            continue;
        };
        let Some((_, name)) = rest.split_once('/') else {
            continue;
        };
        if name.contains('/') {
            continue;
        }
        let plain = super::without_compression_suffix(name);
        let cmd = strip_collision(plain.unwrap_or(name)).replace('_', " ");
        let Some((path, conv)) = node::by_command(&cmd) else {
            continue;
        };
        let capture = match plain {
            None => Capture {
                size: f.size,
                rel: f.path.clone(),
                inflated: None,
            },
            Some(_) => match super::read_text(input, &f.path) {
                Ok(text) => Capture {
                    size: text.len() as u64,
                    rel: f.path.clone(),
                    inflated: Some(text),
                },
                Err(e) => {
                    view.problem(input.shown(&f.path), e);
                    continue;
                }
            },
        };
        if path.starts_with("journal/") {
            match journals.get(&path) {
                Some(best) if best.size >= capture.size => {}
                _ => {
                    journals.insert(path, capture);
                }
            }
            continue;
        }
        match capture.inflated {
            None => node::place(view, input, &node, &path, &f.path, conv),
            // Inflated output is read as it is: the conversions read the file itself.
            Some(text) if conv == Conv::Same => {
                place_inflated(view, input, &node, &path, &capture.rel, &text)?
            }
            Some(_) => {}
        }
    }
    // A unit's own journal that holds nothing (`-- No entries --`) is no better than none.
    journals.retain(|_, c| {
        let text = match &c.inflated {
            Some(t) => Some(std::borrow::Cow::Borrowed(t.as_str())),
            None => input.read_string(&c.rel).map(std::borrow::Cow::Owned),
        };
        text.is_some_and(|t| {
            t.lines()
                .any(|l| !l.trim().is_empty() && !l.starts_with("-- "))
        })
    });
    for (path, c) in &journals {
        match &c.inflated {
            None => node::place(view, input, &node, path, &c.rel, Conv::Same),
            Some(text) => place_inflated(view, input, &node, path, &c.rel, text)?,
        }
    }
    // Without a kubelet journal of its own, the kubelet's lines of the all-units journal.
    if !journals.contains_key("journal/kubelet.log") {
        kubelet_from_all_units(view, input, &base, &node)?;
    }

    view.hint = distribution(input, &base);
    view.absent("gcloud/", "a sosreport carries no gcloud data");
    view.absent(
        "captured/",
        "a sosreport carries no terminal output captured by a person",
    );
    if !view.has_prefix("kubectl/") {
        view.absent(
            "kubectl/",
            "this sosreport holds no cluster lists (sos collects them only on a control-plane node with kubectl access)",
        );
    }
    view.absent(
        "kubectl/logs/",
        "a sosreport holds pod logs only when taken with -k kubernetes.podlogs=on",
    );
    Ok(())
}

/// One capture of a command's output: its real file and size, and its text when it had to be
/// inflated.
struct Capture {
    size: u64,
    rel: String,
    inflated: Option<String>,
}

/// Inflated command output as `nodes/<node>/<path>`, its lines pointing at the compressed file
/// as sent (line n of what it inflates to).
fn place_inflated(
    view: &mut View,
    input: &Input,
    node: &str,
    path: &str,
    rel: &str,
    text: &str,
) -> std::io::Result<()> {
    let logical = format!("nodes/{node}/{path}");
    if view.entry(&logical).is_some() {
        return Ok(());
    }
    view.build(
        &logical,
        text.as_bytes(),
        vec![super::Segment {
            first: 1,
            count: text.lines().count().max(1),
            file: std::sync::Arc::from(input.shown(rel)),
            line: 1,
            exact: true,
        }],
    )?;
    view.keep_inflated(&input.shown(rel), text, Some(&logical))
}

/// The files that hold every unit's log lines, oldest first: the all-units journal
/// (`sos_commands/logs/journalctl_--no-pager`, perhaps compressed), else the copied syslog
/// (Debian, Ubuntu) or messages (RHEL) files with their rotations (`syslog.2.gz`, `syslog.1`,
/// `syslog`; `messages-20261115.gz`, `messages`).
fn all_unit_logs(input: &Input, base: &str) -> Vec<String> {
    let journal = format!("{base}sos_commands/logs/journalctl_--no-pager");
    for suffix in ["", ".xz", ".gz"] {
        if let Some(f) = input.resolve(&format!("{journal}{suffix}")) {
            return vec![f.path.clone()];
        }
    }
    for name in ["syslog", "messages"] {
        let prefix = format!("{base}var/log/{name}");
        // (rotation order, date, path): numbered rotations count down, dated ones up, the
        // live file last.
        let mut found: Vec<(i64, String, String)> = input
            .files
            .iter()
            .filter_map(|f| {
                let rest = f.path.strip_prefix(&prefix)?;
                let rest = super::without_compression_suffix(rest).unwrap_or(rest);
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if rest.is_empty() {
                    Some((i64::MAX, String::new(), f.path.clone()))
                } else if let Some(n) = rest.strip_prefix('.').filter(|n| digits(n)) {
                    Some((-n.parse::<i64>().ok()?, String::new(), f.path.clone()))
                } else {
                    let d = rest.strip_prefix('-').filter(|d| digits(d))?;
                    Some((0, d.to_string(), f.path.clone()))
                }
            })
            .collect();
        if !found.is_empty() {
            found.sort();
            return found.into_iter().map(|(_, _, p)| p).collect();
        }
    }
    Vec::new()
}

/// The kubelet's lines of the all-units journal or the syslog files (newest kept when sos
/// tailed them, rotations inflated), each pointing at its line there.
fn kubelet_from_all_units(
    view: &mut View,
    input: &Input,
    base: &str,
    node: &str,
) -> std::io::Result<()> {
    let mut out = String::new();
    let mut segs: Vec<super::Segment> = Vec::new();
    let mut logical = 0;
    for rel in all_unit_logs(input, base) {
        let text = match super::read_text(input, &rel) {
            Ok(t) => t,
            Err(e) => {
                view.problem(input.shown(&rel), e);
                continue;
            }
        };
        if super::without_compression_suffix(&rel).is_some() {
            view.keep_inflated(&input.shown(&rel), &text, None)?;
        }
        let shown: std::sync::Arc<str> = std::sync::Arc::from(input.shown(&rel));
        let mut last: Option<usize> = None;
        for (i, l) in text.lines().enumerate() {
            if !(l.contains(" kubelet[") || l.contains(" kubelet.daemon[")) {
                continue;
            }
            logical += 1;
            out.push_str(l);
            out.push('\n');
            match segs.last_mut() {
                Some(s) if last == Some(i) && s.first + s.count == logical => s.count += 1,
                _ => segs.push(super::Segment {
                    first: logical,
                    count: 1,
                    file: shown.clone(),
                    line: i + 1,
                    exact: true,
                }),
            }
            last = Some(i + 1);
        }
    }
    if out.is_empty() {
        return Ok(());
    }
    view.build(
        &format!("nodes/{node}/journal/kubelet.log"),
        out.as_bytes(),
        segs,
    )
}

/// The distribution a node's installed snaps show (Charmed Kubernetes runs its control plane
/// and kubelet from snaps; MicroK8s and Canonical Kubernetes are snaps of their own).
fn distribution(input: &Input, base: &str) -> Option<super::Hint> {
    let f = input.resolve(&format!("{base}installed-snaps"))?;
    let text = input.read_string(&f.path)?;
    for (needle, platform, what) in [
        (
            "cdk-addons",
            "charmed-kubernetes",
            "the cdk-addons snap of Charmed Kubernetes is installed",
        ),
        (
            "kube-apiserver",
            "charmed-kubernetes",
            "Kubernetes runs from the kube-apiserver snap, as Charmed Kubernetes installs it",
        ),
        (
            "kubelet",
            "charmed-kubernetes",
            "the kubelet runs from its snap, as Charmed Kubernetes installs it",
        ),
        ("microk8s", "microk8s", "the microk8s snap is installed"),
        (
            "k8s ",
            "canonical-kubernetes",
            "the k8s snap of Canonical Kubernetes is installed",
        ),
    ] {
        if let Some((i, l)) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.starts_with(needle))
        {
            return Some(super::Hint {
                platform: platform.into(),
                because: what.into(),
                file: input.shown(&f.path),
                line: i + 1,
                excerpt: l.to_string(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangled_names_are_read() {
        assert_eq!(
            json_get(
                "kubectl_--kubeconfig_.root.cdk.cdk_addons_kubectl_config_get_-o_json_--namespace_kube-system_pods"
            ),
            Some((Some("kube-system".into()), "pods".into()))
        );
        assert_eq!(
            json_get("kubectl_--kubeconfig_.etc.kubernetes.admin.conf_get_-o_json_nodes"),
            Some((None, "nodes".into()))
        );
        assert_eq!(
            pod_log(
                "pods/kubectl_--kubeconfig_.root.cdk.cdk_addons_kubectl_config_--namespace_default_logs_ubuntu-debug-5c8d99cd56-dvcdv"
            ),
            Some((
                "default".into(),
                "ubuntu-debug-5c8d99cd56-dvcdv".into(),
                None
            ))
        );
        assert_eq!(
            pod_log(
                "cluster-info/kube-system/podlogs/coredns-1/kubectl_--kubeconfig_.etc.kubernetes.admin.conf_logs_coredns-1_-c_coredns"
            ),
            Some((
                "kube-system".into(),
                "coredns-1".into(),
                Some("coredns".into())
            ))
        );
        assert_eq!(
            strip_collision("journalctl_--no-pager_--unit_x.1"),
            "journalctl_--no-pager_--unit_x"
        );
    }
}
