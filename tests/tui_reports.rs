//! The reports a support engineer pastes into a ticket: text at a chosen width, Markdown that
//! renders as Markdown, counts that agree with the JSON contract, and an exit code that depends
//! only on the findings, however much of the report a pipe takes.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A kubeadm bundle whose CoreDNS log shows the loop plugin firing on `n` lines, each `pad`
/// characters long.
fn loop_bundle(dir: &Path, n: usize, pad: usize) -> std::path::PathBuf {
    let root = dir.join("loops");
    let log = root.join("kubectl/logs/kube-system/coredns-abc/coredns.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(
        root.join("manifest.json"),
        br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
    )
    .unwrap();
    let mut body = String::new();
    for i in 1..=n {
        body.push_str(&format!(
            "2026-11-20T10:{:02}:00Z [FATAL] plugin/loop: Loop (127.0.0.1:{i} -> :53) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO {i}.\" {}\n",
            i % 60,
            "x".repeat(pad)
        ));
    }
    std::fs::write(&log, body).unwrap();
    root
}

#[test]
fn text_and_json_count_the_same_occurrences() {
    let dir = tempfile::tempdir().unwrap();
    let b = loop_bundle(dir.path(), 5000, 0);
    let (_, json) = run_json(&b, &[]);
    let check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "kubeadm/coredns-loop")
        .unwrap();
    let occurrences = check["findings"][0]["occurrences"].as_u64().unwrap();
    let shown = check["findings"][0]["evidence"].as_array().unwrap().len();
    assert_eq!(occurrences, 5000, "every matching line is counted");
    let out = kubetriage().arg(&b).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "evidence ({shown} shown of {occurrences} occurrences)"
        )),
        "{}",
        &text[..text.len().min(3000)]
    );
    let md = kubetriage()
        .args(["--format", "markdown"])
        .arg(&b)
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains(&format!("({shown} shown of {occurrences} occurrences)")));
}

#[test]
fn a_reader_that_stops_early_does_not_change_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // Far more than a pipe holds (64 KiB on Linux), in every format.
    let b = loop_bundle(dir.path(), 400, 2000);
    for format in ["text", "json", "markdown"] {
        for _ in 0..3 {
            let mut child = Command::new(env!("CARGO_BIN_EXE_kubetriage"))
                .args(["--format", format, "--width", "3000"])
                .arg(&b)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            // The reader goes away, as `head -1` does.
            let status = child.wait().unwrap();
            assert_eq!(
                status.code(),
                Some(1),
                "{format}: a critical finding gives 1"
            );
        }
        let all = kubetriage()
            .args(["--format", format])
            .arg(&b)
            .output()
            .unwrap();
        assert_eq!(all.status.code(), Some(1));
    }
}

#[test]
fn text_fits_the_width_it_is_given() {
    for bundle in [
        "gke-wi-binding-missing",
        "kubeadm-cgroup-driver-mismatch",
        "kubeadm-coredns-loop",
    ] {
        for width in [80usize, 100] {
            let out = kubetriage()
                .args(["--width", &width.to_string()])
                .arg(testdata().join(bundle))
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            for l in text.lines() {
                let w = unicode_width::UnicodeWidthStr::width(l);
                // Only what cannot be broken without breaking it may be wider: a path, an
                // address, a command without a space outside quotes.
                if w > width {
                    let unbreakable = l.trim().split(' ').count() <= 2
                        || l.contains("https://")
                        || l.trim_start().starts_with(['"', '{', '['])
                        || l.contains(": \"");
                    assert!(unbreakable, "{bundle} at {width}: {w} columns: {l}");
                }
            }
        }
    }
    // The default without a terminal is 80 columns: the width of a ticket.
    let out = kubetriage()
        .arg(testdata().join("kubeadm-cgroup-driver-mismatch"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let widest = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("nodes/") && !l.contains("https://"))
        // A token longer than a row (a TOML table name) keeps a row of its own, whole.
        .filter(|l| l.trim().trim_start_matches('(').contains(' '))
        .map(unicode_width::UnicodeWidthStr::width)
        .max()
        .unwrap();
    assert!(widest <= 80 && widest > 60, "{widest}");
}

#[test]
fn excerpts_from_indented_lists_keep_the_value_in_view() {
    // serviceaccounts.json:25 is twenty columns deep in its list; the report shows the
    // annotation and the start of its value, not the indentation.
    let out = kubetriage()
        .args(["--width", "80"])
        .arg(testdata().join("gke-wi-binding-missing"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let at = text.find("kubectl/serviceaccounts.json:25\n").expect(&text);
    let excerpt = text[at..].lines().nth(1).unwrap();
    assert!(
        excerpt.starts_with("        \"iam.gke.io/gcp-service-account\": \"payments-api@shop"),
        "{excerpt}"
    );
}

#[test]
fn findings_only_leaves_out_the_rest() {
    let b = testdata().join("kubeadm-coredns-loop");
    for format in ["text", "markdown"] {
        let all = kubetriage()
            .args(["--format", format])
            .arg(&b)
            .output()
            .unwrap();
        let all = String::from_utf8(all.stdout).unwrap();
        assert!(all.contains("Not evaluated (") && all.contains("Passed ("));
        let out = kubetriage()
            .args(["--format", format, "--findings-only"])
            .arg(&b)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(s.contains("kubeadm/coredns-loop"), "{s}");
        assert!(
            !s.contains("Not evaluated (") && !s.contains("Passed ("),
            "{format}:\n{s}"
        );
    }
}

#[test]
fn text_lists_not_evaluated_checks_with_their_severity() {
    let out = kubetriage()
        .arg(testdata().join("kubeadm-coredns-loop"))
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let section: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.starts_with("Not evaluated ("))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(!section.is_empty(), "{s}");
    let order = ["critical", "error", "warning", "info"];
    let mut last = 0;
    for l in section.iter().filter(|l| !l.starts_with("    ")) {
        let sev = l.split_whitespace().next().unwrap();
        let i = order
            .iter()
            .position(|o| *o == sev)
            .unwrap_or_else(|| panic!("no severity: {l}"));
        assert!(i >= last, "not ordered by severity: {l}");
        last = i;
    }
}

#[test]
fn markdown_renders_as_markdown() {
    let out = kubetriage()
        .args(["--format", "markdown"])
        .arg(testdata().join("kubeadm-coredns-loop"))
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    // The platform row names the platform once.
    assert!(md.contains("\n| platform | kubeadm |\n"), "{md}");
    // The remediation the three findings share is printed once, after them.
    assert_eq!(
        md.matches("Give the kubelet the host's real resolver list")
            .count(),
        1,
        "{md}"
    );
    assert!(md.contains("**What to do** (findings 1, 2, 3):"), "{md}");
    // Commands in fenced blocks, never indented (an indented fence is code in a list to some
    // renderers and text to others).
    assert!(
        md.contains("```sh\nkubectl -n kube-system delete pod -l k8s-app=kube-dns\n```"),
        "{md}"
    );
    assert!(!md.contains("\n  ```"), "{md}");
    // Prose is a paragraph of its own, on one line, not a code block.
    assert!(md.contains(
        "\nAlternatively, make the Corefile forward to explicit upstream addresses instead of /etc/resolv.conf. Do not just remove the loop plugin: the loop would remain.\n"
    ));
    // Evidence as `file:line` with the excerpt; the reference as a link.
    assert!(md.contains("- `nodes/cp-1/kubelet/config.yaml:25`: `resolvConf: /etc/resolv.conf`"));
    assert!(md.contains("](https://kubernetes.io/ja/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#"));
    assert!(!md.contains("001_a843213bd4746882.txt"));
    // Fences balance.
    assert_eq!(md.matches("```").count() % 2, 0);
    // Placeholders are not taken for HTML.
    let out = kubetriage()
        .args(["--format", "markdown"])
        .arg(testdata().join("kubeadm-node-ip-unroutable"))
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    for l in md
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("```"))
    {
        assert!(
            !l.contains("<routable") || l.contains("\\<routable") || l.contains('`'),
            "{l}"
        );
    }
}

#[test]
fn words_agree_with_their_numbers() {
    let out = kubetriage()
        .arg(testdata().join("kubeadm-cgroup-driver-mismatch"))
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("Collection failures (1 source in manifest.json)"),
        "{s}"
    );
    assert!(!s.contains("(s)") || s.contains("occurrence(s)"), "{s}");
    assert!(s.contains("evidence:\n") || s.contains("evidence (2 occurrences)"));
    assert!(!s.contains("1 occurrences") && !s.contains("1 sources"));
}

#[test]
fn passed_checks_keep_their_columns_when_a_title_wraps() {
    let out = kubetriage()
        .arg(testdata().join("foreign/sbctl-tests-support-bundle.tar.gz"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let passed = &text[text.find("\nPassed (").expect(&text)..];
    let lines: Vec<&str> = passed.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("  k8s/container-config-error "))
        .expect(passed);
    let col = lines[i].find("Containers cannot").expect(passed);
    assert!(lines[i][..col].ends_with("  "), "{passed}");
    // The title's next row starts in the title's column.
    let next = lines[i + 1];
    assert_eq!(next.len() - next.trim_start().len(), col, "{passed}");
    assert!(
        next.trim_start().starts_with(char::is_lowercase),
        "{passed}"
    );
}
