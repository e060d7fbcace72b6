//! The one place that parses YAML. Everything else sees `serde_json::Value`, so checks have a
//! single data model whether a bundle file was JSON or YAML.

use serde::Deserialize;
use serde_json::Value;

/// Parses every document of a (possibly multi-document) YAML text.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        let v = serde_yaml::Value::deserialize(de).map_err(|e| e.to_string())?;
        if v.is_null() {
            continue;
        }
        docs.push(to_json(v)?);
    }
    Ok(docs)
}

/// Parses a YAML text into a typed value (used for the analyzer spec files).
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// Separates the parts of a path from [`line_paths`]: a mapping key, or `#n` for the n-th
/// item of a sequence.
pub const PATH_SEP: char = '\u{1f}';

/// The line each node of a block-style YAML document starts on, by its path (parts joined with
/// [`PATH_SEP`]; line numbers 0-based within `text`): where evidence about a field of an object
/// read from YAML points in the file as sent. It follows the layout YAML printers write
/// (kubectl's, PyYAML's): block mappings and sequences, `- ` items at their key's column or
/// deeper, scalars on their key's line, continued or in `|`/`>` blocks on deeper lines. Lines it
/// cannot place are left out (their objects then point at a line they are within).
pub fn line_paths(text: &str) -> Vec<(String, usize)> {
    struct Frame {
        col: usize,
        path: String,
        seq: bool,
        next: usize,
    }
    let join = |base: &str, part: &str| {
        if base.is_empty() {
            part.to_string()
        } else {
            format!("{base}{PATH_SEP}{part}")
        }
    };
    let mut out = Vec::new();
    let mut stack = vec![Frame {
        col: 0,
        path: String::new(),
        seq: false,
        next: 0,
    }];
    // The path of a key or item whose value starts on a later line.
    let mut pending: Option<String> = None;
    // Lines deeper than this continue a scalar (folded, quoted or a `|` block).
    let mut scalar_col: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let content = line.trim_start_matches(' ');
        let col = line.len() - content.len();
        if content.is_empty() {
            continue;
        }
        if let Some(c) = scalar_col {
            if col > c {
                continue;
            }
            scalar_col = None;
        }
        if content.starts_with('#') || content == "---" || content == "..." {
            continue;
        }
        while stack.len() > 1 && stack.last().is_some_and(|f| f.col > col) {
            stack.pop();
        }
        let is_item = content == "-" || content.starts_with("- ");
        // An indentless sequence ends at a key of its own column.
        if !is_item && stack.len() > 1 && stack.last().is_some_and(|f| f.seq && f.col == col) {
            stack.pop();
        }
        let (mut col, mut rest) = (col, content);
        if is_item {
            let top_is_seq = stack.last().is_some_and(|f| f.seq && f.col == col);
            if !top_is_seq {
                let Some(path) = pending.take() else { continue };
                stack.push(Frame {
                    col,
                    path,
                    seq: true,
                    next: 0,
                });
            }
            let Some(seq) = stack.last_mut() else {
                continue;
            };
            let item = join(&seq.path, &format!("#{}", seq.next));
            seq.next += 1;
            out.push((item.clone(), i));
            let after = rest[1..].trim_start_matches(' ');
            let new_col = col + (rest.len() - after.len());
            pending = None;
            if after.is_empty() {
                pending = Some(item);
                continue;
            }
            match key_of(after) {
                Some(_) => {
                    stack.push(Frame {
                        col: new_col,
                        path: item,
                        seq: false,
                        next: 0,
                    });
                    col = new_col;
                    rest = after;
                }
                None => {
                    scalar_col = Some(col);
                    continue;
                }
            }
        }
        let Some((key, value)) = key_of(rest) else {
            continue;
        };
        if stack.last().is_some_and(|f| f.col < col || f.seq) {
            let path = pending
                .take()
                .unwrap_or_else(|| stack.last().map(|f| f.path.clone()).unwrap_or_default());
            stack.push(Frame {
                col,
                path,
                seq: false,
                next: 0,
            });
        }
        let Some(map) = stack.last() else { continue };
        let path = join(&map.path, &key);
        out.push((path.clone(), i));
        pending = None;
        if value.is_empty() {
            pending = Some(path);
        } else {
            scalar_col = Some(col);
        }
    }
    out
}

/// A mapping entry's key and the rest of its line, when the line starts one.
fn key_of(s: &str) -> Option<(String, &str)> {
    if let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'') {
        // A quoted key: up to its closing quote (doubled in single quotes, escaped in double).
        let b = s.as_bytes();
        let mut i = 1;
        let mut key = String::new();
        while i < b.len() {
            let c = b[i] as char;
            if q == '"' && c == '\\' && i + 1 < b.len() {
                key.push(b[i + 1] as char);
                i += 2;
                continue;
            }
            if c == q {
                if q == '\'' && b.get(i + 1) == Some(&b'\'') {
                    key.push('\'');
                    i += 2;
                    continue;
                }
                let rest = &s[i + 1..];
                let rest = rest.strip_prefix(':')?;
                if !(rest.is_empty() || rest.starts_with(' ')) {
                    return None;
                }
                return Some((key, rest.trim()));
            }
            key.push(c);
            i += 1;
        }
        return None;
    }
    if s.starts_with(['[', '{', '|', '>', '&', '*', '!', '%', '@', '`']) {
        return None;
    }
    if let Some(k) = s.strip_suffix(':') {
        return (!k.contains(": ")).then(|| (k.to_string(), ""));
    }
    let (k, v) = s.split_once(": ")?;
    Some((k.to_string(), v.trim()))
}

fn to_json(v: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => serde_yaml::to_string(&other)
                        .map_err(|e| e.to_string())?
                        .trim()
                        .to_string(),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => to_json(t.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_becomes_json_values() {
        let docs = parse_documents(
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration:\n  taints: []\n---\nkind: ClusterConfiguration\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["nodeRegistration"]["taints"], serde_json::json!([]));
        assert_eq!(docs[1]["kind"], "ClusterConfiguration");
    }

    #[test]
    fn nodes_are_found_at_their_lines() {
        let text = "apiVersion: v1\nitems:\n- metadata:\n    name: a\n    labels:\n      k8s-app: kube-dns\n  spec:\n    containers:\n    - image: x\n      name: c\n      args:\n      - -conf\n      - /etc/coredns\n  status:\n    message: a long\n      folded text\n    note: |\n      block: not a key\n    phase: Running\n- metadata:\n    \"a:b\": 'q'\nkind: PodList\n";
        let paths: std::collections::HashMap<String, usize> = line_paths(text)
            .into_iter()
            .map(|(p, l)| (p.replace(PATH_SEP, "."), l + 1))
            .collect();
        assert_eq!(paths["items.#0"], 3);
        assert_eq!(paths["items.#0.metadata.name"], 4);
        assert_eq!(paths["items.#0.metadata.labels.k8s-app"], 6);
        assert_eq!(paths["items.#0.spec.containers.#0"], 9);
        assert_eq!(paths["items.#0.spec.containers.#0.image"], 9);
        assert_eq!(paths["items.#0.spec.containers.#0.name"], 10);
        assert_eq!(paths["items.#0.spec.containers.#0.args.#1"], 13);
        assert_eq!(paths["items.#0.status.message"], 15);
        assert_eq!(paths["items.#0.status.phase"], 19);
        assert!(!paths.contains_key("items.#0.status.block"));
        assert_eq!(paths["items.#1.metadata.a:b"], 21);
        assert_eq!(paths["kind"], 22);
    }

    #[test]
    fn broken_yaml_is_an_error_not_a_panic() {
        assert!(parse_documents("a: [unclosed").is_err());
    }
}
