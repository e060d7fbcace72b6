//! Merging Kubernetes lists from many files (one per namespace) into the one list per kind the
//! checks read, each item copied as it was written so that its lines map back to its file.
//!
//! Lists come in every shape the tools ever wrote: `{"kind": "PodList", "items": [...]}`,
//! `"items": null`, a bare array (troubleshoot 2021), and the internal form an old kubectl
//! printed (`Items`, `Spec`, metadata inline): the last is rewritten into the API form, and its
//! lines then point at the start of the object it came from.

use super::{Entry, Origin, Segment};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One merged list being written.
pub struct ListBuilder {
    out: Vec<u8>,
    segs: Vec<Segment>,
    /// The logical line the next write starts on.
    line: usize,
    items: usize,
    /// `namespace/name` of the items already in, to keep one copy of each.
    seen: std::collections::HashSet<String>,
}

impl ListBuilder {
    pub fn new(kind: &str, api_version: &str) -> ListBuilder {
        let mut out = Vec::new();
        out.extend_from_slice(
            format!("{{\"kind\": \"{kind}\", \"apiVersion\": \"{api_version}\", \"metadata\": {{}}, \"items\": [\n")
                .as_bytes(),
        );
        ListBuilder {
            out,
            segs: Vec::new(),
            line: 2,
            items: 0,
            seen: Default::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items == 0 && self.segs.is_empty()
    }

    /// Adds the items of one real list file; returns their values (after any rewriting), or
    /// why the file is not a list.
    pub fn add_file(&mut self, shown: &str, bytes: &[u8]) -> Result<Vec<Value>, String> {
        let text = String::from_utf8_lossy(bytes);
        self.add_region(shown, &text, 1)
    }

    /// Adds the items of a JSON list found in `text`, which starts at line `first_line` of the
    /// real file `shown`.
    pub fn add_region(
        &mut self,
        shown: &str,
        text: &str,
        first_line: usize,
    ) -> Result<Vec<Value>, String> {
        if text.trim().is_empty() {
            return Err(format!("{shown} is empty"));
        }
        let whole: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "{shown} is not valid JSON (line {}: {e})",
                e.line() + first_line - 1
            )
        })?;
        self.add_list(shown, whole, Some(text), &[], first_line, None)
    }

    /// Adds the items of a list read from another form than JSON (a YAML dump): each item is
    /// written as JSON, its lines pointing at `item_lines[i]` (the item's first line in the real
    /// file), or at `first_line` when the item lines are not known.
    ///
    /// `fields`, when given, maps the document's paths (see [`crate::yaml::line_paths`]) to
    /// real lines: each line of an item's JSON then points at the line of its own field.
    pub fn add_value(
        &mut self,
        shown: &str,
        whole: Value,
        item_lines: &[usize],
        first_line: usize,
        fields: Option<&HashMap<String, usize>>,
    ) -> Result<Vec<Value>, String> {
        self.add_list(shown, whole, None, item_lines, first_line, fields)
    }

    /// The items of a parsed list; `text` is its JSON text when it has one, to copy items as
    /// written.
    fn add_list(
        &mut self,
        shown: &str,
        mut whole: Value,
        text: Option<&str>,
        item_lines: &[usize],
        first_line: usize,
        fields: Option<&HashMap<String, usize>>,
    ) -> Result<Vec<Value>, String> {
        let file: Arc<str> = Arc::from(shown);
        let internal = is_internal(&whole);
        let raw_items = match &mut whole {
            Value::Array(a) => std::mem::take(a),
            Value::Object(o) => {
                let key = if o.contains_key("items") {
                    "items"
                } else {
                    "Items"
                };
                match o.get_mut(key) {
                    Some(Value::Array(a)) => std::mem::take(a),
                    Some(Value::Null) => Vec::new(),
                    _ => return Err(format!("{shown} is not a list (no items)")),
                }
            }
            _ => return Err(format!("{shown} is not a list")),
        };
        if self.segs.is_empty() {
            // The list's own first line points at the first file merged into it.
            self.segs.push(Segment {
                first: 1,
                count: 1,
                file: file.clone(),
                line: first_line,
                exact: false,
            });
        }
        let text = text.unwrap_or("");
        let spans = crate::jsonscan::list_item_spans(text.as_bytes());
        // Items come in order: count line breaks from the previous item on, not from the start.
        let (mut counted_to, mut lines_before) = (0usize, 0usize);
        let mut line_at = |offset: usize| {
            lines_before +=
                memchr::memchr_iter(b'\n', &text.as_bytes()[counted_to..offset]).count();
            counted_to = offset;
            first_line + lines_before
        };
        let spans_fit = spans.len() == raw_items.len();
        let lines_fit = item_lines.len() == raw_items.len();
        let mut values = Vec::with_capacity(raw_items.len());
        for (i, raw) in raw_items.into_iter().enumerate() {
            let span = spans.get(i).copied().filter(|_| spans_fit);
            let real_line = match span {
                Some((s, _)) => line_at(s),
                None if lines_fit => item_lines[i],
                None => first_line,
            };
            let (value, verbatim) = if internal {
                (from_internal(raw, true), None)
            } else {
                (raw, span.map(|(s, e)| &text[s..e]))
            };
            let key = identity(&value);
            if let Some(k) = &key
                && !self.seen.insert(k.clone())
            {
                continue;
            }
            let body = match verbatim {
                Some(t) => t.to_string(),
                None => serde_json::to_string_pretty(&value).unwrap_or_default(),
            };
            if let Some(fields) = fields.filter(|_| !internal) {
                let base = format!("items{}#{i}", crate::yaml::PATH_SEP);
                let lines = field_lines(&body, &base, fields, real_line);
                self.push_mapped(&body, file.clone(), &lines);
            } else {
                self.push_item(&body, file.clone(), real_line, verbatim.is_some());
            }
            values.push(value);
        }
        Ok(values)
    }

    fn push_item(&mut self, body: &str, file: Arc<str>, line: usize, exact: bool) {
        if self.items > 0 {
            self.out.extend_from_slice(b",\n");
            self.line += 1;
        }
        let count = body.bytes().filter(|b| *b == b'\n').count() + 1;
        self.segs.push(Segment {
            first: self.line,
            count,
            file,
            line,
            exact,
        });
        self.out.extend_from_slice(body.as_bytes());
        self.line += count - 1;
        self.items += 1;
    }

    /// Pushes an item whose every line has its own real line (`lines[k]` for line k).
    fn push_mapped(&mut self, body: &str, file: Arc<str>, lines: &[usize]) {
        if self.items > 0 {
            self.out.extend_from_slice(b",\n");
            self.line += 1;
        }
        let first = self.line;
        let mut run: Option<Segment> = None;
        for (k, &real) in lines.iter().enumerate() {
            match &mut run {
                Some(r) if r.line + r.count == real => r.count += 1,
                _ => {
                    if let Some(r) = run.take() {
                        self.segs.push(r);
                    }
                    run = Some(Segment {
                        first: first + k,
                        count: 1,
                        file: file.clone(),
                        line: real,
                        exact: true,
                    });
                }
            }
        }
        if let Some(r) = run {
            self.segs.push(r);
        }
        let count = body.bytes().filter(|b| *b == b'\n').count() + 1;
        self.out.extend_from_slice(body.as_bytes());
        self.line += count - 1;
        self.items += 1;
    }

    pub fn finish(mut self) -> (Vec<u8>, Vec<Segment>) {
        self.out.extend_from_slice(b"\n]}\n");
        (self.out, self.segs)
    }
}

/// The problem to report for a list file that could not be read into `logical`: what is wrong
/// with it (the error without the file's name, which the problem carries) and what it costs.
pub fn list_problem(shown: &str, err: &str, logical: &str) -> String {
    let what = match err.strip_prefix(shown) {
        Some(rest) => format!("it{rest}"),
        None => err.to_string(),
    };
    format!("{what}; {logical} lacks its items")
}

/// The real line of each line of `body` (an object pretty-printed by serde_json, found at
/// `base` in its document): the line of the field it holds, else of the nearest enclosing
/// field `fields` knows, else `item_line`.
fn field_lines(
    body: &str,
    base: &str,
    fields: &HashMap<String, usize>,
    item_line: usize,
) -> Vec<usize> {
    let sep = crate::yaml::PATH_SEP;
    // Open containers: (path, index of the next element when an array).
    let mut stack: Vec<(String, Option<usize>)> = Vec::new();
    let mut out = Vec::new();
    let lookup = |path: &str| -> usize {
        let mut p = path;
        loop {
            if let Some(l) = fields.get(p) {
                return *l;
            }
            match p.rfind(sep) {
                Some(i) => p = &p[..i],
                None => return item_line,
            }
        }
    };
    for (k, raw) in body.lines().enumerate() {
        let t = raw.trim();
        if k == 0 {
            stack.push((base.to_string(), None));
            out.push(lookup(base));
            continue;
        }
        if t.starts_with('}') || t.starts_with(']') {
            let path = stack.pop().map(|(p, _)| p).unwrap_or_default();
            out.push(lookup(&path));
            continue;
        }
        let (parent, index) = match stack.last_mut() {
            Some((p, idx)) => (p.clone(), idx),
            None => (base.to_string(), &mut None),
        };
        let (path, value) = match index {
            Some(n) => {
                let path = format!("{parent}{sep}#{n}");
                *n += 1;
                (path, t)
            }
            None => match json_key(t) {
                Some((key, value)) => (format!("{parent}{sep}{key}"), value),
                None => (parent.clone(), t),
            },
        };
        out.push(lookup(&path));
        let v = value.trim_end_matches(',');
        if v == "{" {
            stack.push((path, None));
        } else if v == "[" {
            stack.push((path, Some(0)));
        }
    }
    out
}

/// `"key": rest` → (key, rest), reading the key as a JSON string.
fn json_key(t: &str) -> Option<(String, &str)> {
    if !t.starts_with('"') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(t).into_iter::<String>();
    let key = de.next()?.ok()?;
    let rest = t[de.byte_offset()..].strip_prefix(": ")?;
    Some((key, rest))
}

/// `namespace/name` (or the uid) of an object, to keep one copy when inputs overlap.
fn identity(v: &Value) -> Option<String> {
    let m = v.get("metadata")?;
    if let Some(uid) = m.get("uid").and_then(Value::as_str) {
        return Some(uid.to_string());
    }
    let name = m.get("name").and_then(Value::as_str)?;
    let ns = m.get("namespace").and_then(Value::as_str).unwrap_or("");
    Some(format!("{ns}/{name}"))
}

/// Merges two logical lists of the same path (two inputs of one case).
pub fn merge_two(a: &Entry, b: &Entry) -> Option<(Vec<u8>, Vec<Segment>)> {
    let kind = std::fs::read(&a.disk).ok()?;
    let kind_name = serde_json::from_slice::<Value>(&kind)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| "List".into());
    let mut lb = ListBuilder::new(&kind_name, "v1");
    for e in [a, b] {
        let bytes = std::fs::read(&e.disk).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let spans = crate::jsonscan::list_item_spans(text.as_bytes());
        for (s, end) in spans {
            let logical = 1 + text.as_bytes()[..s].iter().filter(|b| **b == b'\n').count();
            let (file, line, exact) = match &*e.origin {
                Origin::Same(f) => (f.clone(), logical, true),
                Origin::Lines(_) => {
                    let (f, l) = e.origin.locate(logical);
                    let (_, l2) = e.origin.locate(logical + 1);
                    (f, l, l2 == l + 1)
                }
            };
            let body = &text[s..end];
            let v: Value = serde_json::from_str(body).ok()?;
            if let Some(k) = identity(&v)
                && !lb.seen.insert(k)
            {
                continue;
            }
            if lb.segs.is_empty() {
                lb.segs.push(Segment {
                    first: 1,
                    count: 1,
                    file: file.clone(),
                    line: 1,
                    exact: false,
                });
            }
            lb.push_item(body, file, line, exact);
        }
    }
    Some(lb.finish())
}

/// Whether a list was printed in kubectl's old internal form (`Items`, objects with their
/// metadata inline and capitalised field names).
pub fn is_internal(v: &Value) -> bool {
    if v.get("Items").is_some() {
        return true;
    }
    let items = match v {
        Value::Array(a) => Some(a),
        Value::Object(o) => o.get("items").and_then(Value::as_array),
        _ => None,
    };
    items.and_then(|a| a.first()).is_some_and(|i| {
        i.get("metadata").is_none() && (i.get("Spec").is_some() || i.get("Status").is_some())
    })
}

/// Object metadata fields that the internal form prints at the object's top level.
const META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "initializers",
    "finalizers",
    "clusterName",
];

/// Maps whose keys are data (label names, resource names), never field names.
const DATA_MAPS: &[&str] = &[
    "labels",
    "annotations",
    "nodeSelector",
    "matchLabels",
    "data",
    "binaryData",
    "capacity",
    "allocatable",
    "limits",
    "requests",
    "hard",
    "used",
    "selector",
];

/// Rewrites one object of the internal form into the API form: metadata under `metadata`,
/// field names in lower camel case, `LastTerminationState` as `lastState`, probe handlers
/// inline, nulls dropped.
pub fn from_internal(v: Value, top: bool) -> Value {
    let Value::Object(o) = v else {
        return match v {
            Value::Array(a) => {
                Value::Array(a.into_iter().map(|x| from_internal(x, false)).collect())
            }
            other => other,
        };
    };
    let mut out = Map::new();
    let mut meta = Map::new();
    for (k, x) in o {
        if x.is_null() {
            continue;
        }
        let key = if k == "LastTerminationState" {
            "lastState".to_string()
        } else {
            lower_camel(&k)
        };
        if top && META.contains(&key.as_str()) {
            meta.insert(key, x);
            continue;
        }
        if key == "handler" && x.is_object() {
            // Probes and lifecycle hooks: the handler's fields sit in the probe itself.
            if let Value::Object(h) = from_internal(x, false) {
                out.extend(h);
            }
            continue;
        }
        let x = if DATA_MAPS.contains(&key.as_str()) && x.is_object() {
            x
        } else {
            from_internal(x, false)
        };
        out.insert(key, x);
    }
    if top && !meta.is_empty() {
        out.insert("metadata".into(), Value::Object(meta));
    }
    Value::Object(out)
}

/// `HTTPGet` → `httpGet`, `PodIP` → `podIP`, `UID` → `uid`, `name` unchanged.
fn lower_camel(k: &str) -> String {
    let upper = k.chars().take_while(|c| c.is_ascii_uppercase()).count();
    if upper == 0 {
        return k.to_string();
    }
    let n = if upper == k.chars().count() || upper == 1 {
        upper
    } else {
        upper - 1
    };
    k.chars()
        .enumerate()
        .map(|(i, c)| if i < n { c.to_ascii_lowercase() } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_lower_camel() {
        assert_eq!(lower_camel("HTTPGet"), "httpGet");
        assert_eq!(lower_camel("PodIP"), "podIP");
        assert_eq!(lower_camel("UID"), "uid");
        assert_eq!(lower_camel("QOSClass"), "qosClass");
        assert_eq!(lower_camel("name"), "name");
    }

    #[test]
    fn internal_objects_take_the_api_form() {
        let v: Value = serde_json::from_str(
            r#"{"name":"p","namespace":"kube-system","labels":{"K":"v"},"Spec":{"NodeName":"n","Containers":[{"Name":"c","LivenessProbe":{"Handler":{"HTTPGet":{"Path":"/"}},"PeriodSeconds":1}}]},"Status":{"ContainerStatuses":[{"Name":"c","State":{"Waiting":null,"Running":{"StartedAt":"x"}},"LastTerminationState":{"Waiting":null}}]}}"#,
        )
        .unwrap();
        let a = from_internal(v, true);
        assert_eq!(a["metadata"]["name"], "p");
        assert_eq!(a["metadata"]["labels"]["K"], "v");
        assert_eq!(a["spec"]["nodeName"], "n");
        assert_eq!(
            a["spec"]["containers"][0]["livenessProbe"]["httpGet"]["path"],
            "/"
        );
        assert!(a["status"]["containerStatuses"][0]["state"]["running"].is_object());
        assert!(
            a["status"]["containerStatuses"][0]["state"]
                .get("waiting")
                .is_none()
        );
        assert!(a["status"]["containerStatuses"][0]["lastState"].is_object());
    }

    #[test]
    fn merged_items_keep_their_lines() {
        let mut lb = ListBuilder::new("PodList", "v1");
        let a = "{\n  \"kind\": \"PodList\",\n  \"items\": [\n    {\n      \"metadata\": {\"name\": \"a\", \"namespace\": \"x\"}\n    }\n  ]\n}\n";
        let b = "[{\"metadata\": {\"name\": \"b\", \"namespace\": \"y\"}}]";
        lb.add_file("pods/x.json", a.as_bytes()).unwrap();
        lb.add_file("pods/y.json", b.as_bytes()).unwrap();
        lb.add_file("pods/z.json", br#"{"kind":"PodList","items":null}"#)
            .unwrap();
        let (bytes, segs) = lb.finish();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        let o = Origin::Lines(segs);
        assert_eq!(o.locate(2), (Arc::from("pods/x.json"), 4));
        assert_eq!(o.locate(3), (Arc::from("pods/x.json"), 5));
        assert_eq!(o.locate(5), (Arc::from("pods/y.json"), 1));
    }
}
