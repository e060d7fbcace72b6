//! `kubetriage check-spec`, and the worked examples of `analyzers/README.md`: each example is
//! taken from the README as written, checked, and run on a bundle where it must fire.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// The README's ```yaml blocks that start with `# file: NAME`, as (name, text).
fn readme_examples() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("analyzers/README.md"))
            .unwrap();
    let mut out = Vec::new();
    for block in readme.split("```yaml\n").skip(1) {
        let body = block.split("```").next().unwrap();
        if let Some(rest) = body.strip_prefix("# file: ") {
            let (name, _) = rest.split_once('\n').unwrap();
            out.push((name.trim().to_string(), body.to_string()));
        }
    }
    out
}

fn folder_with(examples: &[(String, String)], names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in examples {
        if names.contains(&name.as_str()) {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
    }
    dir
}

fn check_spec(dir: &Path, bundle: Option<&Path>) -> (i32, String) {
    let mut cmd = kubetriage();
    cmd.arg("check-spec").arg(dir);
    if let Some(b) = bundle {
        cmd.arg(b);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A bundle whose CoreDNS log holds upstream timeouts.
fn coredns_timeout_bundle(dir: &Path) -> PathBuf {
    let b = dir.join("dns");
    let logs = b.join("kubectl/logs/kube-system/coredns-7db6d8ff4d-x2x9q");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        b.join("manifest.json"),
        r#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
    )
    .unwrap();
    std::fs::write(
        logs.join("coredns.log"),
        "[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908\n\
         [ERROR] plugin/errors: 2 example.com. A: read udp 10.244.0.3:40339->10.0.0.2:53: i/o timeout\n\
         [ERROR] plugin/errors: 2 example.com. AAAA: read udp 10.244.0.3:55026->10.0.0.2:53: i/o timeout\n",
    )
    .unwrap();
    b
}

#[test]
fn the_readme_examples_load_and_fire() {
    let examples = readme_examples();
    let names: Vec<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "coredns-upstream-timeout.yaml",
            "probe-failures.yaml",
            "coredns-loop.yaml"
        ]
    );
    let tmp = tempfile::tempdir().unwrap();

    let dir = folder_with(&examples, &["coredns-upstream-timeout.yaml"]);
    let (code, out) = check_spec(dir.path(), Some(&coredns_timeout_bundle(tmp.path())));
    assert_eq!(code, 1, "{out}");
    // The report is laid out at 80 columns: compare its words, not its line breaks.
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("coredns-7db6d8ff4d-x2x9q: 2 queries to the upstream resolver timed out (first: example.com. A)"),
        "{out}"
    );

    let dir = folder_with(&examples, &["probe-failures.yaml"]);
    let (code, out) = check_spec(
        dir.path(),
        Some(&testdata().join("kubeadm-etcd-restart-docker-1.13.1-84")),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Liveness probe of kube-system/etcd-cp-1 failed 37 times"),
        "{out}"
    );
    assert!(out.contains("kubectl/events.json:20"), "{out}");

    let dir = folder_with(&examples, &["coredns-loop.yaml"]);
    let (code, out) = check_spec(dir.path(), Some(&testdata().join("kubeadm-coredns-loop")));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("CoreDNS stopped itself on a forwarding loop"),
        "{out}"
    );
    assert!(out.contains("runbook DNS-7"), "{out}");
}

#[test]
fn every_broken_spec_of_a_folder_is_listed_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let base = "id: team/x\nseverity: warning\ntitle: T\nexplanation: E\n";
    std::fs::write(
        dir.path().join("a.yaml"),
        format!("{base}scan: [{{name: a, files: [x.log], regex: b}}]\nanalyzer:\n  kind: log-pattern\n  group-by: pod\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        format!("{}summary: \"{{imgae}}\"\nscan: [{{name: a, files: [x.log], regex: b}}]\nanalyzer: {{kind: log-pattern}}\n", base.replace("team/x", "team/y")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("c.yaml"),
        format!("{}scan: [{{name: a, files: [kubectl/events.json], regex: b}}]\nanalyzer: {{kind: log-pattern}}\n", base.replace("team/x", "team/z")),
    )
    .unwrap();
    let (code, out) = check_spec(dir.path(), None);
    assert_eq!(code, 2, "{out}");
    let a = dir.path().join("a.yaml").display().to_string();
    let b = dir.path().join("b.yaml").display().to_string();
    let c = dir.path().join("c.yaml").display().to_string();
    assert!(
        out.contains(&format!("error  {a}:8: check team/x")),
        "{out}"
    );
    assert!(
        out.contains(&format!("error  {b}:5: check team/y")),
        "{out}"
    );
    assert!(out.contains("{imgae}"), "{out}");
    assert!(
        out.contains(&format!("error  {c}")) && out.contains("object-match"),
        "{out}"
    );
}
