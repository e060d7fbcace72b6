//! The words a user reads live in the spec files (`analyzers/`), where they can be reviewed,
//! corrected and translated without touching Rust; a check function only chooses a text
//! variant and fills its names. This test keeps it so: it fails when the code of a check under
//! `src/checks/` holds a string literal shaped like an English sentence.
//!
//! Why a check was not evaluated (`Outcome::NotEvaluated`, `Unavailable`) has no place in a
//! spec yet, so literals in such a statement are let through; so are regular expressions,
//! commands and the few phrases of [`ALLOWED`].

use std::path::{Path, PathBuf};

/// Sentences that stay in Rust for now, by the start of their text: reasons for "not
/// evaluated" kept in data structures before they reach an `Outcome`, and list items or phrases
/// assembled from several independent facts of the bundle (one per node, policy or step), which
/// a single template with variants cannot hold without a variant per combination. The list only
/// shrinks: a new entry needs a reason, a moved sentence leaves it.
const ALLOWED: &[&str] = &[
    // src/checks/kubeadm/cni.rs
    "no  type  (a plugin list must be named .",
    // src/checks/k8s/scheduling.rs: labels of the scheduler's own reasons, in its words
    "a volume bound to another zone or node",
    "the cluster has no node to schedule on",
];

/// A string literal of the code, with its 1-based line.
struct Literal {
    line: usize,
    text: String,
    /// The code before it, back to the start of its statement.
    context: String,
}

/// The string literals of Rust source `src` outside comments and the test module.
fn literals(src: &str) -> Vec<Literal> {
    let code = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    let b = code.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line, mut stmt) = (0, 1, 0);
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b';' | b'{' | b'}' => stmt = i + 1,
            b'\'' => {
                // A char literal ('"', '\\', '{'), not a lifetime.
                let rest = &code[i..];
                let len = if let Some(esc) = rest.strip_prefix("'\\") {
                    esc.find('\'').map(|e| e + 3)
                } else {
                    rest[1..]
                        .char_indices()
                        .nth(1)
                        .filter(|(_, c)| *c == '\'')
                        .map(|(e, _)| e + 2)
                };
                if let Some(n) = len {
                    i += n;
                    continue;
                }
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                let open = i + 1 + hashes;
                if b.get(open) == Some(&b'"') {
                    let close = format!("\"{}", "#".repeat(hashes));
                    if let Some(end) = code[open + 1..].find(&close) {
                        let text = &code[open + 1..open + 1 + end];
                        out.push(Literal {
                            line,
                            text: text.to_string(),
                            context: code[stmt..i].to_string(),
                        });
                        line += text.matches('\n').count();
                        i = open + 1 + end + close.len();
                        continue;
                    }
                }
            }
            b'"' => {
                let start = i;
                let mut text = String::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        // A line continuation drops the break and the next line's indent.
                        if b.get(i + 1) == Some(&b'\n') {
                            i += 2;
                            while i < b.len() && b[i].is_ascii_whitespace() {
                                i += 1;
                            }
                            continue;
                        }
                        text.push(' ');
                        i += 2;
                        continue;
                    }
                    let c = code[i..].chars().next().unwrap_or(' ');
                    text.push(c);
                    i += c.len_utf8();
                }
                let lines_in = code[start..i].matches('\n').count();
                out.push(Literal {
                    line,
                    text,
                    context: code[stmt..start].to_string(),
                });
                line += lines_in;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Eight words or more, most of them plain words, and not a regular expression.
fn is_sentence(s: &str) -> bool {
    let words: Vec<&str> = s
        .split_whitespace()
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .collect();
    if words.len() < 8 {
        return false;
    }
    if ["(?", "\\d", "\\s", "\\w", "\\b", "[^", ".*", "\\."]
        .iter()
        .any(|r| s.contains(r))
    {
        return false;
    }
    // A command line or a manifest built from the data.
    let first = s.split_whitespace().next().unwrap_or("");
    if ["gcloud", "kubectl", "sudo", "---", "apiVersion:"].contains(&first) {
        return false;
    }
    let plain = words
        .iter()
        .filter(|w| {
            let w = w.trim_matches(|c: char| "{}()[],.;:'\"`".contains(c));
            !w.is_empty()
                && w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && w.chars()
                    .all(|c| c.is_ascii_alphabetic() || "'-".contains(c))
        })
        .count();
    plain >= 6
}

/// A literal in a statement that is not a check's words: a file-level reason made by the
/// facts layer's type, or an error about the catalog itself (for the spec's author or a
/// developer: a spec and its built-in that disagree).
fn is_reason(context: &str) -> bool {
    ["Unavailable", "SpecError", "message", "panic!"]
        .iter()
        .any(|k| context.contains(k))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every sentence-shaped literal of the checks' code outside a reason: `file:line: text`.
fn sentences() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/checks"), &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let rel = f.strip_prefix(root).unwrap().display().to_string();
        for l in literals(&src) {
            if is_sentence(&l.text) && !is_reason(&l.context) {
                out.push(format!("{rel}:{}: {}", l.line, l.text));
            }
        }
    }
    out
}

#[test]
fn checks_hold_no_sentence_a_spec_could_hold() {
    let all = sentences();
    let text = |s: &str| s.split_once(": ").map_or("", |x| x.1).to_string();
    let stale: Vec<&&str> = ALLOWED
        .iter()
        .filter(|a| !all.iter().any(|s| text(s).starts_with(**a)))
        .collect();
    assert!(
        stale.is_empty(),
        "allowed sentences no longer in the code, remove them from ALLOWED: {stale:?}"
    );
    let found: Vec<String> = all
        .iter()
        .filter(|s| !ALLOWED.iter().any(|a| text(s).starts_with(a)))
        .cloned()
        .collect();
    assert!(
        found.is_empty(),
        "{} sentence(s) in check code; move each into its check's spec under analyzers/ (a text \
         variant the check chooses, with placeholders for what it fills):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn the_detector_sees_sentences_and_lets_the_rest_through() {
    let src = r##"
fn f(d: Draft) -> Draft {
    // A comment may say anything it likes about the way this code works.
    let re = "^(?:the|a) (?P<x>\\w+) is not the address this cluster uses$";
    let cmd = "kubectl -n kube-system get pods -o wide --sort-by=.metadata.name";
    let ok = 'x';
    let brace = '{';
    return Err(Unavailable::because("no kube-proxy logs of any pod are in the bundle we were given"));
    return Ok(Outcome::NotEvaluated("the kubelet logs of every node are missing from this bundle".into()));
    d.var("why", "the cluster has no workload pool, so the annotations have no effect")
}
#[cfg(test)]
mod tests {
    const T: &str = "a test may hold a sentence of as many words as it wants";
}
"##;
    let found: Vec<(usize, String)> = literals(src)
        .into_iter()
        .filter(|l| is_sentence(&l.text) && !is_reason(&l.context))
        .map(|l| (l.line, l.text))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                9,
                "the kubelet logs of every node are missing from this bundle".to_string()
            ),
            (
                10,
                "the cluster has no workload pool, so the annotations have no effect".to_string()
            )
        ]
    );
}
