//! Pod and node views, as k9s users expect them: a pod's status, containers, restarts, events,
//! logs and the findings that name it in one place; a node's conditions, pods, journal and
//! findings. Built when opened, from the bundle's `kubectl get -o json` files and its folder
//! layout (a bundle without `pods.json` still has its logs and node folders), every string
//! escaped once, here.

use crate::sanitize::escape;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pod,
    Node,
}

/// Where a row leads with `enter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A bundle file, at a line.
    File(String, usize),
    /// A check, by index into the model's checks.
    Check(usize),
    /// Another object's view.
    Object(Kind, String),
}

/// One row of the view: a heading, a fact, or a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub text: String,
    pub heading: bool,
    pub link: Option<Link>,
}

#[derive(Debug)]
pub struct ObjectView {
    pub kind: Kind,
    /// `namespace/name` for a pod, the name for a node (raw).
    pub name: String,
    pub title: String,
    pub rows: Vec<Row>,
    pub selected: usize,
    pub offset: usize,
}

/// Reads a bundle file (by its bundle path) as JSON, when it is there and parses.
pub type JsonReader<'a> = Box<dyn Fn(&str) -> Option<Value> + 'a>;

/// The bundle as the views need it: its file paths, a way to read a JSON file, and the
/// findings' words.
pub struct Sources<'a> {
    pub files: Vec<&'a str>,
    pub read_json: JsonReader<'a>,
    /// (check index, id, words of its findings: summaries, details, evidence paths).
    pub findings: Vec<(usize, &'a str, String)>,
}

fn heading(text: &str) -> Row {
    Row {
        text: text.to_string(),
        heading: true,
        link: None,
    }
}

fn fact(text: String) -> Row {
    Row {
        text,
        heading: false,
        link: None,
    }
}

fn link(text: String, link: Link) -> Row {
    Row {
        text,
        heading: false,
        link: Some(link),
    }
}

fn s<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

fn items(v: &Option<Value>) -> Vec<&Value> {
    v.as_ref()
        .and_then(|v| v["items"].as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The pods and nodes the bundle knows by name: from `pods.json` and `nodes.json`, and from
/// its log and node folders.
pub fn known_names(src: &Sources) -> (Vec<String>, Vec<String>) {
    let mut pods: Vec<String> = items(&(src.read_json)("kubectl/pods.json"))
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                s(p, &["metadata", "namespace"]),
                s(p, &["metadata", "name"])
            )
        })
        .collect();
    let mut nodes: Vec<String> = items(&(src.read_json)("kubectl/nodes.json"))
        .iter()
        .map(|n| s(n, &["metadata", "name"]).to_string())
        .collect();
    for f in &src.files {
        let parts: Vec<&str> = f.split('/').collect();
        if parts.len() >= 5 && parts[0] == "kubectl" && parts[1] == "logs" {
            pods.push(format!("{}/{}", parts[2], parts[3]));
        }
        if parts.len() >= 3 && parts[0] == "nodes" {
            nodes.push(parts[1].to_string());
        }
    }
    pods.sort();
    pods.dedup();
    nodes.sort();
    nodes.dedup();
    (pods, nodes)
}

/// The pod or node `text` names (a bundle path, a log line, a finding's words): a path names
/// its pod or node; otherwise the longest known name found in the text.
pub fn named_in(text: &str, pods: &[String], nodes: &[String]) -> Option<(Kind, String)> {
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() >= 5 && parts[0] == "kubectl" && parts[1] == "logs" {
        return Some((Kind::Pod, format!("{}/{}", parts[2], parts[3])));
    }
    if parts.len() >= 3 && parts[0] == "nodes" {
        return Some((Kind::Node, parts[1].to_string()));
    }
    let pod = pods
        .iter()
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            name.len() >= 3 && text.contains(name)
        })
        .max_by_key(|p| p.len());
    let node = nodes
        .iter()
        .filter(|n| n.len() >= 3 && contains_word(text, n))
        .max_by_key(|n| n.len());
    match (pod, node) {
        (Some(p), _) => Some((Kind::Pod, p.clone())),
        (None, Some(n)) => Some((Kind::Node, n.clone())),
        _ => None,
    }
}

/// `word` in `text` with no name character right before or after it (node `cp-1` is not in
/// `cp-10`).
fn contains_word(text: &str, word: &str) -> bool {
    let namech = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !namech(c));
        let after = text[i + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !namech(c));
        before && after
    })
}

/// The view of one pod (`namespace/name`) or node.
pub fn build(kind: Kind, name: &str, src: &Sources) -> ObjectView {
    let mut rows = Vec::new();
    let title = match kind {
        Kind::Pod => format!("pod {}", escape(name)),
        Kind::Node => format!("node {}", escape(name)),
    };
    match kind {
        Kind::Pod => pod_rows(name, src, &mut rows),
        Kind::Node => node_rows(name, src, &mut rows),
    }
    // The findings that name it.
    let short = match kind {
        Kind::Pod => name.rsplit('/').next().unwrap_or(name),
        Kind::Node => name,
    };
    let named: Vec<&(usize, &str, String)> = src
        .findings
        .iter()
        .filter(|(_, _, words)| match kind {
            Kind::Pod => words.contains(short),
            Kind::Node => contains_word(words, short),
        })
        .collect();
    rows.push(heading(&format!("Findings that name it ({})", named.len())));
    if named.is_empty() {
        rows.push(fact("  none".into()));
    }
    for (i, id, _) in named {
        rows.push(link(format!("  {}", escape(id)), Link::Check(*i)));
    }
    ObjectView {
        kind,
        name: name.to_string(),
        title,
        rows,
        selected: 0,
        offset: 0,
    }
}

fn pod_rows(name: &str, src: &Sources, rows: &mut Vec<Row>) {
    let (ns, pod) = name.split_once('/').unwrap_or(("", name));
    let pods = (src.read_json)("kubectl/pods.json");
    let item = items(&pods)
        .into_iter()
        .find(|p| s(p, &["metadata", "name"]) == pod && s(p, &["metadata", "namespace"]) == ns);
    rows.push(heading("Status"));
    match item {
        None => rows.push(fact(
            "  not in kubectl/pods.json (the bundle has only its logs)".into(),
        )),
        Some(p) => {
            rows.push(fact(format!(
                "  phase {}  ip {}",
                escape(s(p, &["status", "phase"])),
                escape(s(p, &["status", "podIP"]))
            )));
            let node = s(p, &["spec", "nodeName"]);
            if !node.is_empty() {
                rows.push(link(
                    format!("  node {}", escape(node)),
                    Link::Object(Kind::Node, node.to_string()),
                ));
            }
            if let Some(conds) = p["status"]["conditions"].as_array() {
                let shown: Vec<String> = conds
                    .iter()
                    .map(|c| format!("{}={}", escape(s(c, &["type"])), escape(s(c, &["status"]))))
                    .collect();
                rows.push(fact(format!("  conditions {}", shown.join(" "))));
            }
            rows.push(heading("Containers"));
            let statuses = p["status"]["containerStatuses"]
                .as_array()
                .into_iter()
                .chain(p["status"]["initContainerStatuses"].as_array())
                .flatten();
            for c in statuses {
                let state = c["state"]
                    .as_object()
                    .and_then(|o| o.iter().next())
                    .map(|(k, v)| {
                        let reason = v["reason"].as_str().unwrap_or("");
                        if reason.is_empty() {
                            k.clone()
                        } else {
                            format!("{k} ({reason})")
                        }
                    })
                    .unwrap_or_default();
                let last = c["lastState"]["terminated"]
                    .as_object()
                    .map(|t| {
                        format!(
                            "; last: {} exit {}",
                            t.get("reason")
                                .and_then(Value::as_str)
                                .unwrap_or("terminated"),
                            t.get("exitCode").map(|e| e.to_string()).unwrap_or_default()
                        )
                    })
                    .unwrap_or_default();
                rows.push(fact(format!(
                    "  {}  {}  ready {}  restarts {}  {}{}",
                    escape(s(c, &["name"])),
                    escape(s(c, &["image"])),
                    c["ready"].as_bool().unwrap_or(false),
                    c["restartCount"].as_u64().unwrap_or(0),
                    escape(&state),
                    escape(&last)
                )));
            }
        }
    }
    let events = (src.read_json)("kubectl/events.json");
    let mine: Vec<&Value> = items(&events)
        .into_iter()
        .filter(|e| {
            s(e, &["involvedObject", "name"]) == pod && s(e, &["involvedObject", "namespace"]) == ns
        })
        .collect();
    rows.push(heading(&format!("Events ({})", mine.len())));
    for e in mine {
        rows.push(fact(format!(
            "  {} {} ×{}: {}",
            escape(s(e, &["type"])),
            escape(s(e, &["reason"])),
            e["count"].as_u64().unwrap_or(1),
            escape(s(e, &["message"]))
        )));
    }
    let prefix = format!("kubectl/logs/{ns}/{pod}/");
    let logs: Vec<&&str> = src
        .files
        .iter()
        .filter(|f| f.starts_with(&prefix))
        .collect();
    rows.push(heading(&format!("Logs ({})", logs.len())));
    for f in logs {
        rows.push(link(
            format!("  {}", escape(f)),
            Link::File(f.to_string(), 1),
        ));
    }
}

fn node_rows(name: &str, src: &Sources, rows: &mut Vec<Row>) {
    let nodes = (src.read_json)("kubectl/nodes.json");
    let item = items(&nodes)
        .into_iter()
        .find(|n| s(n, &["metadata", "name"]) == name);
    rows.push(heading("Conditions"));
    match item {
        None => rows.push(fact("  not in kubectl/nodes.json".into())),
        Some(n) => {
            for c in n["status"]["conditions"].as_array().into_iter().flatten() {
                rows.push(fact(format!(
                    "  {}={}  {}",
                    escape(s(c, &["type"])),
                    escape(s(c, &["status"])),
                    escape(s(c, &["message"]))
                )));
            }
            let addrs: Vec<String> = n["status"]["addresses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| format!("{} {}", escape(s(a, &["type"])), escape(s(a, &["address"]))))
                .collect();
            if !addrs.is_empty() {
                rows.push(fact(format!("  addresses {}", addrs.join(", "))));
            }
            let kubelet = s(n, &["status", "nodeInfo", "kubeletVersion"]);
            if !kubelet.is_empty() {
                rows.push(fact(format!("  kubelet {}", escape(kubelet))));
            }
        }
    }
    let pods = (src.read_json)("kubectl/pods.json");
    let on: Vec<String> = items(&pods)
        .into_iter()
        .filter(|p| s(p, &["spec", "nodeName"]) == name)
        .map(|p| {
            format!(
                "{}/{}",
                s(p, &["metadata", "namespace"]),
                s(p, &["metadata", "name"])
            )
        })
        .collect();
    rows.push(heading(&format!("Pods ({})", on.len())));
    for p in on {
        rows.push(link(
            format!("  {}", escape(&p)),
            Link::Object(Kind::Pod, p),
        ));
    }
    let prefix = format!("nodes/{name}/");
    let files: Vec<&&str> = src
        .files
        .iter()
        .filter(|f| f.starts_with(&prefix))
        .collect();
    rows.push(heading(&format!("Journal and files ({})", files.len())));
    // The journals first: they say what the node did.
    let mut files = files;
    files.sort_by_key(|f| (!f.contains("/journal/"), f.to_string()));
    for f in files {
        rows.push(link(
            format!("  {}", escape(f)),
            Link::File(f.to_string(), 1),
        ));
    }
}

/// Reads and parses a bundle JSON file; a missing or broken one is simply absent here (the
/// checks report it).
pub fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_or_a_line_names_its_pod_or_node() {
        let pods = vec!["kube-system/coredns-5d78c9869d-8xk2p".to_string()];
        let nodes = vec!["cp-1".to_string(), "cp-10".to_string()];
        assert_eq!(
            named_in(
                "kubectl/logs/kube-system/coredns-x/coredns.log",
                &pods,
                &nodes
            ),
            Some((Kind::Pod, "kube-system/coredns-x".into()))
        );
        assert_eq!(
            named_in("nodes/cp-1/journal/kubelet.log", &pods, &nodes),
            Some((Kind::Node, "cp-1".into()))
        );
        assert_eq!(
            named_in(
                "pod coredns-5d78c9869d-8xk2p on cp-10 is failing",
                &pods,
                &nodes
            ),
            Some((Kind::Pod, "kube-system/coredns-5d78c9869d-8xk2p".into()))
        );
        assert_eq!(
            named_in("Node cp-10: the kubelet", &pods, &nodes),
            Some((Kind::Node, "cp-10".into()))
        );
        assert_eq!(named_in("nothing", &pods, &nodes), None);
    }
}
