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
            Some(end) if is_placeholder(&after[..end]) => {
                let (name, noun) = split_noun(&after[..end]);
                match (vars.get(name), noun) {
                    (Some(v), Some(noun)) => out.push_str(&counted(v, noun)),
                    (Some(v), None) => out.push_str(v),
                    (None, _) => {
                        out.push('{');
                        out.push_str(&after[..end]);
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
            Some(end) if is_placeholder(&after[..end]) => {
                out.push(split_noun(&after[..end]).0.to_string());
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
        let noun_len = match after[name_len..].strip_prefix('|') {
            Some(rest) => {
                1 + rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == ' ' || c == '-'))
                    .unwrap_or(rest.len())
            }
            None => 0,
        };
        if !after[name_len + noun_len..].starts_with('}') {
            let shown: String = after.chars().take(name_len.min(30)).collect();
            return Err(Malformed {
                message: format!(
                    "placeholder {{{shown} is not closed: write {{{shown}}}, or {{{{ for a literal brace"
                ),
                at: format!("{{{shown}"),
            });
        }
        out.push(after[..name_len].to_string());
        rest = &after[name_len + noun_len + 1..];
    }
    Ok(out)
}

/// `{count|line}`: a number and its noun, singular or plural as the number asks ("1 line",
/// "3 lines"), so that no text says "line(s)".
fn split_noun(p: &str) -> (&str, Option<&str>) {
    match p.split_once('|') {
        Some((name, noun)) => (name, Some(noun)),
        None => (p, None),
    }
}

fn is_placeholder(p: &str) -> bool {
    let (name, noun) = split_noun(p);
    is_name(name)
        && noun.is_none_or(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        })
}

/// "1 line", "3 lines", "2 entries"; a value that is not a number keeps the noun as written.
pub fn counted(value: &str, noun: &str) -> String {
    match value.trim().parse::<u64>() {
        Ok(1) => format!("1 {noun}"),
        Ok(n) => format!("{n} {}", plural_noun(noun)),
        Err(_) => format!("{value} {noun}"),
    }
}

fn plural_noun(noun: &str) -> String {
    let (head, last) = match noun.rsplit_once(' ') {
        Some((h, l)) => (format!("{h} "), l),
        None => (String::new(), noun),
    };
    let last = if last.ends_with('s')
        || last.ends_with('x')
        || last.ends_with("ch")
        || last.ends_with("sh")
    {
        format!("{last}es")
    } else if last.ends_with('y') && !last[..last.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']) {
        format!("{}ies", &last[..last.len() - 1])
    } else {
        format!("{last}s")
    };
    format!("{head}{last}")
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
    fn counted_nouns_agree_with_their_number() {
        let mut v = Vars::new();
        v.insert("count".into(), "1".into());
        v.insert("n".into(), "3".into());
        assert_eq!(fill("({count|line})", &v), "(1 line)");
        assert_eq!(
            fill("({n|line}, {n|probe error}, {n|KSA}, {n|entry})", &v),
            "(3 lines, 3 probe errors, 3 KSAs, 3 entries)"
        );
        assert_eq!(check("{n|time} {pod}").unwrap(), vec!["n", "pod"]);
        assert_eq!(names("{n|time}"), vec!["n"]);
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
