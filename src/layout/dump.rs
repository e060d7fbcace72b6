//! `kubectl cluster-info dump`: the `--output-directory` folder (`nodes.json`,
//! `<ns>/<kind>.json`, `<ns>/<pod>/logs.txt`) and the standard-output form saved to a file of
//! any name (a stream of pretty-printed JSON lists and `==== START logs for container … ====`
//! sections), each also as `-o yaml` writes it (`nodes.yaml`, `<ns>/<kind>.yaml`; on standard
//! output, YAML lists separated by `---` lines between the log sections). Lists of every
//! namespace are merged into one list per kind; each container's log section becomes
//! `kubectl/logs/<ns>/<pod>/<c>.log`, its lines pointing into the file it was cut from (a YAML
//! list's items, rewritten as JSON, point at their fields' lines). A dump has no
//! ServiceAccounts, ConfigMaps, NetworkPolicies, RBAC, version, previous logs or node files:
//! those are recorded as absent with that reason.

use super::lists::ListBuilder;
use super::troubleshoot::note_containers;
use super::{Containers, Input, Segment, View};
use std::collections::BTreeMap;
use std::sync::Arc;

const START: &str = "==== START logs for container ";
const END: &str = "==== END logs for container ";

/// Our list for each kind the dump writes, in the order it writes them per namespace (after
/// `nodes`): events, replication-controllers, services, daemonsets, deployments, replicasets,
/// pods. `None` for kinds our layout has no place for.
/// (our list, list kind, API version).
type Ours = (&'static str, &'static str, &'static str);

const PER_NAMESPACE: &[(&str, Option<Ours>)] = &[
    ("events", Some(("events.json", "EventList", "v1"))),
    ("replication-controllers", None),
    ("services", None),
    (
        "daemonsets",
        Some(("daemonsets.json", "DaemonSetList", "apps/v1")),
    ),
    (
        "deployments",
        Some(("deployments.json", "DeploymentList", "apps/v1")),
    ),
    ("replicasets", None),
    ("pods", Some(("pods.json", "PodList", "v1"))),
];

/// The folder holding `nodes.json` beside namespace folders with `pods.json` (or the same in
/// YAML, as `-o yaml` writes them), and the extension of its lists.
fn folder_base(input: &Input) -> Option<(String, &'static str)> {
    input.files.iter().find_map(|f| {
        let (base, ext) = match f.path.strip_suffix("nodes.json") {
            Some(b) => (b, "json"),
            None => (f.path.strip_suffix("nodes.yaml")?, "yaml"),
        };
        if !(base.is_empty() || base.ends_with('/')) {
            return None;
        }
        let (pods, events) = (format!("pods.{ext}"), format!("events.{ext}"));
        let has_ns = input.files.iter().any(|g| {
            g.path
                .strip_prefix(base)
                .and_then(|r| r.split_once('/'))
                .is_some_and(|(_, file)| file == pods || file == events)
        });
        has_ns.then(|| (base.to_string(), ext))
    })
}

pub fn is_dump_folder(input: &Input) -> bool {
    folder_base(input).is_some()
}

/// Whether a file is a dump saved from standard output, whatever its name: it starts with `{`
/// and shows a node list or log section markers (JSON), or starts with a YAML list
/// (`apiVersion:` then `items:`) of nodes, or with log section markers (`-o yaml`).
pub fn is_stdout_dump(input: &Input, rel: &str) -> bool {
    stdout_form(input, rel).is_some()
}

/// The form of a dump saved from standard output: `Some(true)` for YAML, `Some(false)` for JSON.
fn stdout_form(input: &Input, rel: &str) -> Option<bool> {
    let head = super::head(&input.disk(rel), 64 << 10);
    let text = String::from_utf8_lossy(&head);
    let body = text.trim_start();
    if body.starts_with('{') {
        let nodes = text.contains("\"NodeList\"") || text.contains("\"NodeInfo\"");
        return (nodes || text.contains(START)).then_some(false);
    }
    // The YAML printer writes keys in order: a list starts `apiVersion: v1`, then `items:`.
    let mut lines = body
        .lines()
        .map(str::trim_end)
        .filter(|l| *l != "---" && !l.starts_with('#'));
    let yaml_list = lines.next().is_some_and(|l| l.starts_with("apiVersion: "))
        && lines.next().is_some_and(|l| l.starts_with("items:"));
    let nodes = text.contains("\nkind: NodeList") || text.contains("\n    nodeInfo:");
    (yaml_list && (nodes || text.contains(START))).then_some(true)
}

pub fn import(input: &Input, view: &mut View) -> std::io::Result<()> {
    let mut containers = Containers::new();
    if let Some((base, ext)) = folder_base(input) {
        import_folder(input, view, &base, ext, &mut containers)?;
    } else {
        for f in input.files.iter().filter(|f| !f.path.contains('/')) {
            match stdout_form(input, &f.path) {
                Some(false) => import_stdout(input, view, &f.path, &mut containers)?,
                Some(true) => import_stdout_yaml(input, view, &f.path, &mut containers)?,
                None => {}
            }
        }
    }
    for (what, path) in [
        ("ServiceAccounts", "kubectl/serviceaccounts.json"),
        ("ConfigMaps", "kubectl/configmaps.json"),
        ("NetworkPolicies", "kubectl/networkpolicies.json"),
        ("Roles", "kubectl/roles.json"),
        ("RoleBindings", "kubectl/rolebindings.json"),
        ("ClusterRoles", "kubectl/clusterroles.json"),
        ("ClusterRoleBindings", "kubectl/clusterrolebindings.json"),
        ("StatefulSets", "kubectl/statefulsets.json"),
        ("server version", "kubectl/version.json"),
    ] {
        view.absent(
            path,
            format!("{path}: a kubectl cluster-info dump carries no {what}"),
        );
    }
    view.absent(
        "gcloud/",
        "a kubectl cluster-info dump carries no gcloud data",
    );
    view.absent(
        "nodes/",
        "a kubectl cluster-info dump carries no node files (journals, kubelet or runtime configuration)",
    );
    view.absent(
        "captured/",
        "a kubectl cluster-info dump carries no terminal output captured by a person",
    );
    view.absent(
        "kubectl/logs/",
        "a kubectl cluster-info dump holds the current logs of the dumped namespaces only (kube-system and the current namespace unless -A), never previous instances",
    );
    Ok(())
}

fn import_folder(
    input: &Input,
    view: &mut View,
    base: &str,
    ext: &str,
    containers: &mut Containers,
) -> std::io::Result<()> {
    if ext == "yaml" {
        return import_yaml_folder(input, view, base, containers);
    }
    view.alias("kubectl/nodes.json", input, &format!("{base}nodes.json"));
    // The internal form (an old kubectl) needs rewriting even for nodes.
    if let Some(text) = input.read_string(&format!("{base}nodes.json"))
        && serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|v| super::lists::is_internal(&v))
    {
        let mut lb = ListBuilder::new("NodeList", "v1");
        let _ = lb.add_file(&input.shown(&format!("{base}nodes.json")), text.as_bytes());
        let (bytes, segs) = lb.finish();
        view.replace("kubectl/nodes.json", &bytes, segs)?;
    }
    let namespaces = folder_namespaces(input, base);
    // Pods first: their container names are needed nowhere else here, but keep the order the
    // dump wrote.
    for (kind, ours) in PER_NAMESPACE {
        let Some((file, list_kind, api)) = ours else {
            continue;
        };
        let mut lb = ListBuilder::new(list_kind, api);
        let mut any = false;
        for ns in &namespaces {
            let rel = format!("{base}{ns}/{kind}.json");
            if input.file(&rel).is_none() {
                continue;
            }
            any = true;
            let bytes = input.read(&rel)?;
            match lb.add_file(&input.shown(&rel), &bytes) {
                Ok(items) if *kind == "pods" => note_containers(&items, containers),
                Ok(_) => {}
                Err(e) => {
                    let shown = input.shown(&rel);
                    let problem =
                        super::lists::list_problem(&shown, &e, &format!("kubectl/{file}"));
                    view.problem(shown, problem)
                }
            }
        }
        if any {
            let (bytes, segs) = lb.finish();
            view.build(&format!("kubectl/{file}"), &bytes, segs)?;
        }
    }
    folder_logs(input, view, base)
}

/// The pods' `logs.txt` files of a dump folder, cut into one log per container.
fn folder_logs(input: &Input, view: &mut View, base: &str) -> std::io::Result<()> {
    for f in input.files {
        let Some(rest) = f.path.strip_prefix(base) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        if let [_, _, "logs.txt"] = parts.as_slice() {
            let text = input.read_string(&f.path).unwrap_or_default();
            sections(view, &input.shown(&f.path), &text, 1)?;
        }
    }
    Ok(())
}

/// The namespaces of a dump folder: its sub-folders holding list files.
fn folder_namespaces(input: &Input, base: &str) -> Vec<String> {
    let mut ns: Vec<String> = input
        .files
        .iter()
        .filter_map(|f| {
            let (ns, file) = f.path.strip_prefix(base)?.split_once('/')?;
            (!file.contains('/')).then(|| ns.to_string())
        })
        .collect();
    ns.dedup();
    ns
}

/// A dump folder written with `-o yaml`: `nodes.yaml` and `<ns>/<kind>.yaml`, each one list
/// (every file but the first starts with `---`: kubectl's YAML printer counts objects across
/// files).
fn import_yaml_folder(
    input: &Input,
    view: &mut View,
    base: &str,
    containers: &mut Containers,
) -> std::io::Result<()> {
    let namespaces = folder_namespaces(input, base);
    let mut files: Vec<(String, Vec<String>, &str, &str, &str)> = vec![(
        "nodes.json".into(),
        vec![format!("{base}nodes.yaml")],
        "NodeList",
        "v1",
        "nodes",
    )];
    for (kind, ours) in PER_NAMESPACE {
        let Some((file, list_kind, api)) = ours else {
            continue;
        };
        let rels = namespaces
            .iter()
            .map(|ns| format!("{base}{ns}/{kind}.yaml"))
            .collect();
        files.push((file.to_string(), rels, list_kind, api, kind));
    }
    for (file, rels, list_kind, api, kind) in files {
        let mut lb = ListBuilder::new(list_kind, api);
        let mut any = false;
        for rel in rels {
            if input.file(&rel).is_none() {
                continue;
            }
            any = true;
            let text = input.read_string(&rel).unwrap_or_default();
            let shown = input.shown(&rel);
            for (doc, first_line) in yaml_documents(&text, 1) {
                match add_yaml_list(&mut lb, &shown, doc, first_line) {
                    Ok(items) if kind == "pods" => note_containers(&items, containers),
                    Ok(_) => {}
                    Err(e) => {
                        let problem =
                            super::lists::list_problem(&shown, &e, &format!("kubectl/{file}"));
                        view.problem(shown.clone(), problem)
                    }
                }
            }
        }
        if any {
            let (bytes, segs) = lb.finish();
            view.build(&format!("kubectl/{file}"), &bytes, segs)?;
        }
    }
    folder_logs(input, view, base)
}

/// Splits a YAML text (starting at line `first_line` of its file) at its `---` lines: each
/// document's text and the line it starts on. Blank documents are left out.
fn yaml_documents(text: &str, first_line: usize) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let (mut start, mut start_line, mut line) = (0usize, first_line, first_line);
    let mut pos = 0usize;
    for l in text.split_inclusive('\n') {
        if l.trim_end() == "---" {
            if !text[start..pos].trim().is_empty() {
                out.push((&text[start..pos], start_line));
            }
            start = pos + l.len();
            start_line = line + 1;
        }
        pos += l.len();
        line += 1;
    }
    if !text[start..].trim().is_empty() {
        out.push((&text[start..], start_line));
    }
    out
}

/// The first line of each item of a YAML list as kubectl's printer writes it (`items:`, then
/// one `- ` line at the left margin per item), counted from `first_line`.
fn yaml_item_lines(doc: &str, first_line: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut in_items = false;
    for (i, l) in doc.lines().enumerate() {
        if l.starts_with("items:") {
            in_items = true;
        } else if in_items && (l.starts_with("- ") || l == "-") {
            out.push(first_line + i);
        } else if in_items && !l.is_empty() && !l.starts_with([' ', '-', '#']) {
            in_items = false;
        }
    }
    out
}

/// Adds one YAML document holding a list to `lb`; returns its items, or why it is no list.
fn add_yaml_list(
    lb: &mut ListBuilder,
    shown: &str,
    doc: &str,
    first_line: usize,
) -> Result<Vec<serde_json::Value>, String> {
    let whole = parse_yaml_list(shown, doc, first_line)?;
    add_parsed_yaml_list(lb, shown, whole, doc, first_line)
}

/// The one YAML document `doc` (at line `first_line` of `shown`) holds.
fn parse_yaml_list(shown: &str, doc: &str, first_line: usize) -> Result<serde_json::Value, String> {
    let mut docs = crate::yaml::parse_documents(doc)
        .map_err(|e| format!("{shown} holds no readable YAML list at line {first_line} ({e})"))?;
    if docs.len() != 1 {
        return Err(format!(
            "{shown} holds no single YAML list at line {first_line}"
        ));
    }
    Ok(docs.remove(0))
}

/// Adds the list `whole`, parsed from `doc`, with the lines of its items and fields.
fn add_parsed_yaml_list(
    lb: &mut ListBuilder,
    shown: &str,
    whole: serde_json::Value,
    doc: &str,
    first_line: usize,
) -> Result<Vec<serde_json::Value>, String> {
    let fields: std::collections::HashMap<String, usize> = crate::yaml::line_paths(doc)
        .into_iter()
        .map(|(p, l)| (p, first_line + l))
        .collect();
    lb.add_value(
        shown,
        whole,
        &yaml_item_lines(doc, first_line),
        first_line,
        Some(&fields),
    )
}

/// Cuts the log sections out of `text` (which starts at line `first_line` of `shown`).
fn sections(view: &mut View, shown: &str, text: &str, first_line: usize) -> std::io::Result<()> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        if let Some((c, ns, pod)) = marker(lines[i], START) {
            let (body, next, start_line) = section(&lines, i, &c, &ns, &pod);
            write_log(view, shown, &ns, &pod, &c, &body, first_line + start_line)?;
            i = next;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Reads the section opened at `lines[i]`: its text, the index after its END marker, and the
/// 0-based index of its first line.
fn section(lines: &[&str], i: usize, c: &str, ns: &str, pod: &str) -> (String, usize, usize) {
    let end = format!("{END}{c} of pod {ns}/{pod} ====");
    let mut body = String::new();
    let mut j = i + 1;
    while j < lines.len() {
        let l = lines[j];
        let bare = l.trim_end_matches(['\n', '\r']);
        if let Some(before) = bare.strip_suffix(&end) {
            body.push_str(before);
            if !before.is_empty() {
                body.push('\n');
            }
            return (body, j + 1, i + 1);
        }
        body.push_str(l);
        j += 1;
    }
    (body, j, i + 1)
}

/// `==== START logs for container c of pod ns/pod ====` → (c, ns, pod).
fn marker(line: &str, which: &str) -> Option<(String, String, String)> {
    let rest = line.trim_end().strip_prefix(which)?.strip_suffix(" ====")?;
    let (c, pod) = rest.split_once(" of pod ")?;
    let (ns, pod) = pod.split_once('/')?;
    Some((c.to_string(), ns.to_string(), pod.to_string()))
}

fn write_log(
    view: &mut View,
    shown: &str,
    ns: &str,
    pod: &str,
    c: &str,
    body: &str,
    line: usize,
) -> std::io::Result<()> {
    let path = format!("kubectl/logs/{ns}/{pod}/{c}.log");
    let trimmed = body.trim();
    if !trimmed.contains('\n')
        && (trimmed.starts_with("Request log error:")
            || trimmed.starts_with("Create log request error:"))
    {
        view.absent(
            &path,
            format!(
                "{path}: kubectl could not get this log when dumping ({shown}:{line}: {trimmed})"
            ),
        );
        return Ok(());
    }
    let count = body.lines().count().max(1);
    view.build(
        &path,
        body.as_bytes(),
        vec![Segment {
            first: 1,
            count,
            file: Arc::from(shown),
            line,
            exact: true,
        }],
    )
}

/// The standard-output form of `-o yaml`: YAML lists separated by `---` lines, with the log
/// sections between them.
fn import_stdout_yaml(
    input: &Input,
    view: &mut View,
    rel: &str,
    containers: &mut Containers,
) -> std::io::Result<()> {
    let bytes = input.read(rel)?;
    let text = String::from_utf8_lossy(&bytes);
    let shown = input.shown(rel);
    let mut lists: BTreeMap<&str, ListBuilder> = BTreeMap::new();
    let mut order = 0usize;
    // The YAML between two log sections, and the line it starts on.
    let mut chunk = String::new();
    let mut chunk_line = 1usize;
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut flush = |chunk: &mut String,
                     chunk_line: usize,
                     lists: &mut BTreeMap<&str, ListBuilder>,
                     containers: &mut Containers,
                     errors: &mut Vec<(String, String)>| {
        for (doc, first_line) in yaml_documents(chunk, chunk_line) {
            // Parsed once: for its kind, then for its items.
            let parsed = parse_yaml_list(&shown, doc, first_line);
            let kind = parsed
                .as_ref()
                .ok()
                .and_then(|v| v["kind"].as_str().map(str::to_string));
            let target = list_target(kind.as_deref(), order);
            order += 1;
            if let Some((file, lk, api, name)) = target {
                let lb = lists
                    .entry(file)
                    .or_insert_with(|| ListBuilder::new(lk, api));
                match parsed.and_then(|v| add_parsed_yaml_list(lb, &shown, v, doc, first_line)) {
                    Ok(items) if name == "pods" => note_containers(&items, containers),
                    Ok(_) => {}
                    Err(e) => errors.push((file.to_string(), e)),
                }
            }
        }
        chunk.clear();
    };
    let mut lines = text.split_inclusive('\n').enumerate().peekable();
    while let Some((i, l)) = lines.next() {
        let line = i + 1;
        if let Some((c, ns, pod)) = marker(l, START) {
            flush(&mut chunk, chunk_line, &mut lists, containers, &mut errors);
            let endm = format!("{END}{c} of pod {ns}/{pod} ====");
            let mut section_lines: Vec<&str> = vec![l];
            for (_, x) in lines.by_ref() {
                section_lines.push(x);
                if x.trim_end_matches(['\n', '\r']).ends_with(&endm) {
                    break;
                }
            }
            let (body, _, _) = section(&section_lines, 0, &c, &ns, &pod);
            write_log(view, &shown, &ns, &pod, &c, &body, line + 1)?;
            chunk_line = line + section_lines.len();
            continue;
        }
        // kubectl 1.18 and older ended with this line, which is no YAML.
        if l.starts_with("Cluster info dumped to ") {
            flush(&mut chunk, chunk_line, &mut lists, containers, &mut errors);
            chunk_line = line + 1;
            continue;
        }
        if chunk.is_empty() {
            chunk_line = line;
        }
        chunk.push_str(l);
    }
    flush(&mut chunk, chunk_line, &mut lists, containers, &mut errors);
    for (file, e) in errors {
        let problem = super::lists::list_problem(&shown, &e, &format!("kubectl/{file}"));
        view.problem(shown.clone(), problem);
    }
    for (file, lb) in lists {
        let (bytes, segs) = lb.finish();
        view.build(&format!("kubectl/{file}"), &bytes, segs)?;
    }
    Ok(())
}

/// The standard-output form: JSON lists and log sections in one stream.
fn import_stdout(
    input: &Input,
    view: &mut View,
    rel: &str,
    containers: &mut Containers,
) -> std::io::Result<()> {
    let bytes = input.read(rel)?;
    let text = String::from_utf8_lossy(&bytes);
    let shown = input.shown(rel);
    let b = text.as_bytes();
    let mut lists: BTreeMap<&str, ListBuilder> = BTreeMap::new();
    let mut order = 0usize;
    let mut pos = 0usize;
    let mut line = 1usize;
    while pos < b.len() {
        let end_of_line = memchr::memchr(b'\n', &b[pos..])
            .map(|k| pos + k + 1)
            .unwrap_or(b.len());
        let l = &text[pos..end_of_line];
        if l.starts_with('{') {
            let end = crate::jsonscan::skip_value(b, pos);
            let region = &text[pos..end];
            let value: Option<serde_json::Value> = serde_json::from_str(region).ok();
            let kind = value
                .as_ref()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string));
            let target = list_target(kind.as_deref(), order);
            order += 1;
            if let Some((file, lk, api, name)) = target {
                let lb = lists
                    .entry(file)
                    .or_insert_with(|| ListBuilder::new(lk, api));
                match lb.add_region(&shown, region, line) {
                    Ok(items) if name == "pods" => note_containers(&items, containers),
                    Ok(_) => {}
                    Err(e) => {
                        let problem =
                            super::lists::list_problem(&shown, &e, &format!("kubectl/{file}"));
                        view.problem(shown.clone(), problem)
                    }
                }
            }
            line += region.bytes().filter(|c| *c == b'\n').count();
            pos = end;
            continue;
        }
        if let Some((c, ns, pod)) = marker(l, START) {
            // Collect the section's lines from here on.
            let rest = &text[end_of_line..];
            let mut lines: Vec<&str> = vec![l];
            let endm = format!("{END}{c} of pod {ns}/{pod} ====");
            let mut consumed = 0;
            for x in rest.split_inclusive('\n') {
                lines.push(x);
                consumed += x.len();
                if x.trim_end_matches(['\n', '\r']).ends_with(&endm) {
                    break;
                }
            }
            let (body, _, _) = section(&lines, 0, &c, &ns, &pod);
            write_log(view, &shown, &ns, &pod, &c, &body, line + 1)?;
            line += lines.len();
            pos = end_of_line + consumed;
            continue;
        }
        line += 1;
        pos = end_of_line;
    }
    for (file, lb) in lists {
        let (bytes, segs) = lb.finish();
        view.build(&format!("kubectl/{file}"), &bytes, segs)?;
    }
    Ok(())
}

/// Where the `order`-th list of a dump goes: (our file, list kind, apiVersion, dump name), by
/// its kind, or, for the internal form that writes none, by the order kubectl writes them.
fn list_target(
    kind: Option<&str>,
    order: usize,
) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    match kind {
        Some("NodeList") => Some(("nodes.json", "NodeList", "v1", "nodes")),
        Some(k) => PER_NAMESPACE.iter().find_map(|(name, ours)| {
            let (file, lk, api) = (*ours)?;
            (lk == k).then_some((file, lk, api, *name))
        }),
        None if order == 0 => Some(("nodes.json", "NodeList", "v1", "nodes")),
        None => {
            let (name, ours) = PER_NAMESPACE[(order - 1) % PER_NAMESPACE.len()];
            ours.map(|(file, lk, api)| (file, lk, api, name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_container_and_pod() {
        assert_eq!(
            marker(
                "==== START logs for container coredns of pod kube-system/coredns-1 ====\n",
                START
            ),
            Some(("coredns".into(), "kube-system".into(), "coredns-1".into()))
        );
        assert_eq!(marker("no marker", START), None);
    }

    #[test]
    fn yaml_documents_and_their_items_keep_their_lines() {
        let text = "apiVersion: v1\nitems:\n- metadata:\n    name: a\n- metadata:\n    name: b\nkind: PodList\n---\napiVersion: v1\nitems: []\nkind: EventList\n";
        let docs = yaml_documents(text, 1);
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].1, docs[1].1), (1, 9));
        assert_eq!(yaml_item_lines(docs[0].0, docs[0].1), vec![3, 5]);
        assert!(yaml_item_lines(docs[1].0, docs[1].1).is_empty());
        let mut lb = ListBuilder::new("PodList", "v1");
        let items = add_yaml_list(&mut lb, "pods.yaml", docs[0].0, docs[0].1).unwrap();
        assert_eq!(items[1]["metadata"]["name"], "b");
        let (_, segs) = lb.finish();
        let o = crate::layout::Origin::Lines(segs);
        // The second item's lines point at their fields' lines in the YAML.
        assert_eq!(o.locate(8).1, 5);
        assert_eq!(o.locate(9).1, 6);
        assert!(add_yaml_list(&mut ListBuilder::new("PodList", "v1"), "x", "a: [", 1).is_err());
    }

    #[test]
    fn a_section_ends_even_when_its_log_has_no_final_newline() {
        let lines = vec![
            "==== START logs for container c of pod ns/p ====\n",
            "one\n",
            "two==== END logs for container c of pod ns/p ====\n",
            "after\n",
        ];
        let (body, next, first) = section(&lines, 0, "c", "ns", "p");
        assert_eq!(body, "one\ntwo\n");
        assert_eq!((next, first), (3, 1));
    }
}
