//! Fills `{name}` placeholders in a spec's summary and remediation with names from the bundle.

use std::collections::BTreeMap;

/// Names a check found in the bundle (namespace, pod, node, GSA...), by placeholder.
pub type Vars = BTreeMap<String, String>;

/// Replaces each `{name}` with its value. An unknown name stays as written, so a spec typo is
/// visible in the output instead of silently producing an empty string; `{{` is a literal brace.
pub fn fill(template: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            out.push('{');
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(end) if is_name(&after[..end]) => {
                let name = &after[..end];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholder names a template uses (for validating specs).
pub fn names(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(end) if is_name(&after[..end]) => {
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// Why a template cannot be used, and the text it stumbled on (to find its line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub message: String,
    pub at: String,
}

/// The placeholder names of a template, or why it is malformed: `{{` is a literal brace, a
/// `{` before a name must close it (`{pod}`), a `{` before anything else (a space, a quote:
/// JSON in a command) is literal.
pub fn check(template: &str) -> Result<Vec<String>, Malformed> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            rest = stripped;
            continue;
        }
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(after.len());
        if name_len == 0 {
            rest = after;
            continue;
        }
        if !after[name_len..].starts_with('}') {
            let shown: String = after.chars().take(name_len.min(30)).collect();
            return Err(Malformed {
                message: format!(
                    "placeholder {{{shown} is not closed: write {{{shown}}}, or {{{{ for a literal brace"
                ),
                at: format!("{{{shown}"),
            });
        }
        out.push(after[..name_len].to_string());
        rest = &after[name_len + 1..];
    }
    Ok(out)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_names_and_keeps_unknown() {
        let mut v = Vars::new();
        v.insert("node".into(), "cp-1".into());
        assert_eq!(fill("node {node} / {other}", &v), "node cp-1 / {other}");
        assert_eq!(fill("json {{\"a\": 1}", &v), "json {\"a\": 1}");
        assert_eq!(fill("{ not a name }", &v), "{ not a name }");
        assert_eq!(names("a {x} {{y} {z.w}"), vec!["x", "z.w"]);
    }

    #[test]
    fn check_refuses_unclosed_placeholders_and_keeps_json_literal() {
        assert_eq!(check("a {x} {{y} {z.w}").unwrap(), vec!["x", "z.w"]);
        assert!(
            check("pod {pod and more")
                .unwrap_err()
                .message
                .contains("{pod")
        );
        assert!(check("end {pod").is_err());
        assert_eq!(
            check(r#"patch '{ "spec": {"a": 1} }'"#).unwrap(),
            Vec::<String>::new()
        );
    }
}
