//! Paths into Kubernetes objects, as specs and checks write them:
//! `status.containerStatuses[].state.waiting.reason`, `metadata.annotations["iam.gke.io/gcp-service-account"]`.
//! `[]` fans out over an array, so a path yields every value it reaches.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Each,
}

/// A parsed path, reusable over many objects.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    steps: Vec<Step>,
}

impl Path {
    pub fn parse(s: &str) -> Result<Path, String> {
        let mut steps = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        let mut key = String::new();
        while i < b.len() {
            match b[i] {
                b'.' => {
                    if !key.is_empty() {
                        steps.push(Step::Key(std::mem::take(&mut key)));
                    }
                    i += 1;
                }
                b'[' => {
                    if !key.is_empty() {
                        steps.push(Step::Key(std::mem::take(&mut key)));
                    }
                    if s[i..].starts_with("[]") {
                        steps.push(Step::Each);
                        i += 2;
                    } else if s[i..].starts_with("[\"") {
                        let rest = &s[i + 2..];
                        let end = rest
                            .find("\"]")
                            .ok_or_else(|| format!("unclosed [\" in path {s:?}"))?;
                        steps.push(Step::Key(rest[..end].to_string()));
                        i += 2 + end + 2;
                    } else {
                        return Err(format!(
                            "in path {s:?}: use [] to fan out or [\"key\"] for a key with dots"
                        ));
                    }
                }
                _ => {
                    let ch = s[i..].chars().next().unwrap_or(' ');
                    key.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        if steps.is_empty() {
            return Err("empty path".into());
        }
        Ok(Path { steps })
    }

    /// Every value the path reaches in `v` (missing keys reach nothing).
    pub fn values<'a>(&self, v: &'a Value) -> Vec<&'a Value> {
        let mut cur = vec![v];
        for step in &self.steps {
            let mut next = Vec::new();
            for c in cur {
                match step {
                    Step::Key(k) => {
                        if let Some(x) = c.get(k.as_str()) {
                            next.push(x);
                        }
                    }
                    Step::Each => {
                        if let Some(arr) = c.as_array() {
                            next.extend(arr.iter());
                        }
                    }
                }
            }
            cur = next;
        }
        cur
    }

    /// The first value reached, if any.
    pub fn first<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        self.values(v).into_iter().find(|x| !x.is_null())
    }
}

/// Convenience for code: the first string at `path` in `v`.
pub fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    Path::parse(path).ok()?.first(v)?.as_str()
}

/// The strings of a JSON array (`args`, `endpoints`...); anything else gives none.
pub fn str_list(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The value as display text (strings unquoted).
pub fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_fan_out_and_quote() {
        let pod = json!({"metadata": {"annotations": {"iam.gke.io/gcp-service-account": "a@p.iam.gserviceaccount.com"}},
            "status": {"containerStatuses": [
                {"state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                {"state": {"running": {}}}]}});
        let p = Path::parse("status.containerStatuses[].state.waiting.reason").unwrap();
        assert_eq!(p.values(&pod), vec![&json!("CrashLoopBackOff")]);
        assert_eq!(
            str_at(
                &pod,
                "metadata.annotations[\"iam.gke.io/gcp-service-account\"]"
            ),
            Some("a@p.iam.gserviceaccount.com")
        );
        assert!(Path::parse("a[0]").is_err());
        assert!(Path::parse("").is_err());
        assert_eq!(Path::parse("nope.x").unwrap().values(&pod).len(), 0);
    }
}
