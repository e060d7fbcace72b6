//! The command line: exit codes, the catalog commands, and run-time spec overrides.

mod common;

use common::*;

#[test]
fn exit_codes_follow_fail_on() {
    let firing = testdata().join("kubeadm-coredns-loop");
    let silent = testdata().join("gke-wi-healthy");
    kubetriage().arg(&firing).assert().code(1);
    kubetriage()
        .arg("--fail-on")
        .arg("never")
        .arg(&firing)
        .assert()
        .code(0);
    kubetriage()
        .arg("--fail-on")
        .arg("critical")
        .arg(&firing)
        .assert()
        .code(1);
    kubetriage().arg(&silent).assert().code(0);
    kubetriage()
        .arg("--fail-on")
        .arg("sometimes")
        .arg(&firing)
        .assert()
        .code(2);
    kubetriage()
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no bundle given"));
    kubetriage().arg("--no-such-flag").assert().code(2);
    kubetriage()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicates::str::contains("Exit codes"));
}

#[test]
fn checks_lists_the_whole_catalog_and_explain_shows_one() {
    let out = kubetriage().arg("checks").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let ids: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids.iter().filter(|i| i.starts_with("gke/")).count(), 15);
    assert_eq!(ids.iter().filter(|i| i.starts_with("kubeadm/")).count(), 21);
    kubetriage()
        .args(["explain", "kubeadm/coredns-loop"])
        .assert()
        .code(0)
        .stdout(
            predicates::str::contains(
                "https://kubernetes.io/ja/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#corednsのpodがcrashloopbackoffもしくはerror状態になる",
            )
            .and(predicates::str::contains("plugin/loop"))
            .and(predicates::str::contains("001_a843213bd4746882.txt").not()),
        );
    kubetriage()
        .args(["explain", "kubeadm/nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("kubetriage checks"));
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn a_support_team_can_add_and_override_checks_without_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    // A new check written only in YAML: an object-match over pods.
    std::fs::write(
        dir.path().join("crashloop.yaml"),
        r#"id: site/kube-system-crashloop
severity: warning
title: A kube-system pod is crash-looping
explanation: Site-specific check shipped without a rebuild.
summary: "Pod {ns}/{pod} is in CrashLoopBackOff"
remediation: "kubectl -n {ns} logs {pod} --previous"
docs: {seed: site-runbook, section: crash loops}
analyzer:
  kind: object-match
  source: kubectl/pods.json
  all:
    - {path: metadata.namespace, equals: kube-system}
  any:
    - {path: "status.containerStatuses[].state.waiting.reason", equals: CrashLoopBackOff}
  vars: {ns: metadata.namespace, pod: metadata.name}
  evidence: "status.containerStatuses[].state.waiting.reason"
"#,
    )
    .unwrap();
    // An override of a catalog check: the same id, now a plain log pattern.
    std::fs::write(
        dir.path().join("override.yaml"),
        r#"id: kubeadm/coredns-loop
severity: warning
title: Overridden loop check
explanation: Replaced at run time.
summary: "loop in {pod}"
docs: {seed: x, section: y}
scan:
  - name: loop
    files: ["kubectl/logs/kube-system/*/coredns.log"]
    regex: 'plugin/loop: Loop'
analyzer: {kind: log-pattern, group_by: "{pod}"}
"#,
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let (_, report) = run_json(
        &testdata().join("kubeadm-coredns-loop"),
        &["--analyzers", d],
    );
    let site = check(&report, "site/kube-system-crashloop");
    assert_eq!(site["status"], "finding");
    let f = site["findings"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(
        f[0]["summary"],
        "Pod kube-system/coredns-5d78c9869d-8xk2p is in CrashLoopBackOff"
    );
    assert!(
        f[0]["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("CrashLoopBackOff")
    );
    let over = check(&report, "kubeadm/coredns-loop");
    assert_eq!(over["title"], "Overridden loop check");
    assert_eq!(over["severity"], "warning");
    let summaries: Vec<&str> = over["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "loop in coredns-5d78c9869d-8xk2p",
            "loop in coredns-5d78c9869d-q7w4n"
        ]
    );
    kubetriage()
        .args(["checks", "--analyzers", d])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("site/kube-system-crashloop"));
}

#[test]
fn a_broken_spec_names_file_check_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "id: site/broken\nseverity: warning\ntitle: T\nexplanation: E\ndocs: {seed: s, section: x}\nscan:\n  - {name: a, files: [x], regex: '(unclosed'}\nanalyzer: {kind: log-pattern}\n",
    )
    .unwrap();
    let out = kubetriage()
        .arg("--analyzers")
        .arg(dir.path())
        .arg(testdata().join("kubeadm-coredns-loop"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.yaml") && err.contains("site/broken") && err.contains("scan[0].regex"),
        "{err}"
    );
}

#[test]
fn markdown_and_text_list_what_was_not_collected() {
    let b = testdata().join("kubeadm-cgroup-driver-mismatch");
    for format in ["text", "markdown"] {
        let out = kubetriage()
            .args(["--format", format])
            .arg(&b)
            .output()
            .unwrap();
        let s = String::from_utf8(out.stdout).unwrap();
        let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("nodes/worker-1/journal/kubelet.log")
                && words.contains("No journal files were found"),
            "{format}:\n{s}"
        );
    }
}

#[test]
fn the_binary_carries_the_collector_script() {
    let out = kubetriage().arg("collector").output().unwrap();
    assert!(out.status.success());
    let script = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("collectors/collect-bundle.sh"),
    )
    .unwrap();
    assert_eq!(out.stdout, script);
}

#[test]
fn platform_checks_never_pass_on_a_bundle_of_unknown_platform() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kubectl/logs/default/app-1/app.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "hello\n").unwrap();
    let (_, report) = run_json(dir.path(), &[]);
    assert_eq!(report["bundle"]["platform"], "unknown");
    for c in report["checks"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if id.starts_with("gke/") || id.starts_with("kubeadm/") {
            assert_eq!(c["status"], "not-evaluated", "{id}");
            assert!(
                c["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("platform unknown"),
                "{id}: {}",
                c["reason"]
            );
        }
    }
}

#[test]
fn the_report_names_the_platform_and_where_it_was_read() {
    let (_, report) = run_json(&testdata().join("kubeadm-coredns-loop"), &[]);
    assert_eq!(report["schema"], 3);
    assert_eq!(report["bundle"]["platform"], "kubeadm");
    assert_eq!(
        report["bundle"]["platform_evidence"]["file"],
        "manifest.json"
    );
}

#[test]
fn explain_reads_at_80_columns() {
    // Prose re-flows at 80 columns; only what must stay whole may be wider: a command (its
    // own indented row), an address, a log pattern.
    let out = kubetriage().arg("checks").output().unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    let ids: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.contains('/'))
        .collect();
    assert!(ids.len() >= 44, "{list}");
    for id in ids {
        let out = kubetriage().args(["explain", id]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut patterns = false;
        for l in text.lines() {
            if l.is_empty() || !l.starts_with(' ') {
                patterns = l.starts_with("Looks for lines matching");
            }
            let w = unicode_width::UnicodeWidthStr::width(l);
            let whole = patterns || l.contains("https://") || l.starts_with("        ");
            assert!(w <= 80 || whole, "{id}: {w} columns: {l}");
        }
    }
}
