//! Bundles written by other tools (troubleshoot, kubectl cluster-info dump, sos): each real one
//! opens with its layout and platform named, its data reaches the checks, evidence names the
//! files as sent, links and escaped names are no problems, and what the format cannot hold is
//! not evaluated with that reason.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the report"))
}

fn all_evidence(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for c in report["checks"].as_array().unwrap() {
        for f in c["findings"].as_array().unwrap() {
            out.extend(evidence_refs(f));
        }
    }
    out
}

#[test]
fn every_real_bundle_opens_with_its_layout_and_platform_named() {
    // (file, layout, platform, platform evidence file)
    let cases = [
        (
            "troubleshoot-testdata-support-bundle.tar.gz",
            "troubleshoot",
            "k3s",
            "cluster-resources/nodes.json",
        ),
        (
            "sbctl-tests-support-bundle.tar.gz",
            "troubleshoot",
            "kurl",
            "cluster-resources/nodes.json",
        ),
        (
            "troubleshoot-baseline-supportbundle.tar.gz",
            "troubleshoot",
            "k3s",
            "cluster-resources/nodes.json",
        ),
        (
            "troubleshoot-baseline-preflight-v1beta2.tar.gz",
            "troubleshoot",
            "k3s",
            "cluster-resources/nodes.json",
        ),
        (
            "troubleshoot-baseline-preflight-v1beta3.tar.gz",
            "troubleshoot",
            "k3s",
            "cluster-resources/nodes.json",
        ),
        (
            "troubleshoot-support-bundle-2021-03-24T00_39_51.tar.gz",
            "troubleshoot",
            "k3s",
            "cluster-resources/nodes.json",
        ),
        (
            "cluster-info-dump-aks-k8s-arena.tar.gz",
            "cluster-info-dump",
            "aks",
            "nodes.json",
        ),
        (
            "cluster-info-dump-minikube-multi-k8s.tar.gz",
            "cluster-info-dump",
            "minikube",
            "nodes.json",
        ),
        (
            "sosreport-charmed-kubernetes-hotsos.tar.xz",
            "sosreport",
            "charmed-kubernetes",
            "sos_commands/snap/snap_list_--all",
        ),
    ];
    for (name, layout, platform, evidence) in cases {
        let (code, report) = run_json(&testdata().join("foreign").join(name), &[]);
        assert!(code == 0 || code == 1, "{name}: exit {code}");
        let b = &report["bundle"];
        assert_eq!(b["layout"], layout, "{name}");
        assert_eq!(b["platform"], platform, "{name}");
        assert_eq!(b["platform_evidence"]["file"], evidence, "{name}");
        assert!(b["platform_evidence"]["line"].as_u64().unwrap() >= 1);
        // Links inside the bundle and systemd's escaped names are part of these layouts.
        assert_eq!(b["problems"], Value::Array(vec![]), "{name}");
        // A distribution without checks of its own says so at the top, in one sentence.
        let own = format!("kubetriage has no checks written for {platform} clusters");
        let says = b["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with(&own));
        let own_checks = ["gke", "kubeadm", "kurl", "minikube", "kind", "unknown"];
        assert_eq!(says, !own_checks.contains(&platform), "{name}");
        // Checks for other platforms are not applicable, with the platform named; none is
        // evaluated as if it applied.
        for c in report["checks"].as_array().unwrap() {
            if c["status"] == "not-applicable" {
                assert!(
                    c["reason"].as_str().unwrap().contains(platform),
                    "{name}: {c}"
                );
            }
        }
        // Evidence never names a logical path of ours that the bundle does not have.
        for e in all_evidence(&report) {
            assert!(
                !e.starts_with("kubectl/") && !e.starts_with("nodes/"),
                "{name}: evidence {e} names kubetriage's layout, not the file as sent"
            );
        }
    }
}

/// The real bundles' lists and logs reach the paths every check reads, each item's evidence
/// at a line of the file as sent that names it.
#[test]
fn real_bundles_feed_the_lists_the_checks_read() {
    use kubetriage::bundle::{Bundle, Limits};
    use kubetriage::facts::Facts;
    // (bundle, pods, events, pod log files, whether items keep their own lines)
    let cases = [
        (
            "sbctl-tests-support-bundle.tar.gz",
            58,
            Some(67),
            None,
            true,
        ),
        (
            "troubleshoot-support-bundle-2021-03-24T00_39_51.tar.gz",
            47,
            None,
            None,
            true,
        ),
        (
            "troubleshoot-testdata-support-bundle.tar.gz",
            8,
            None,
            Some(19),
            true,
        ),
        (
            "cluster-info-dump-aks-k8s-arena.tar.gz",
            10,
            None,
            None,
            true,
        ),
        (
            "cluster-info-dump-minikube-multi-k8s.tar.gz",
            11,
            Some(489),
            Some(11),
            false,
        ),
        (
            "sosreport-charmed-kubernetes-hotsos.tar.xz",
            18,
            None,
            None,
            true,
        ),
    ];
    for (name, pods, events, logs, exact) in cases {
        let b = Bundle::open(&testdata().join("foreign").join(name), &Limits::default()).unwrap();
        let facts = Facts::new(&b);
        let list = facts.list("kubectl/pods.json").unwrap();
        assert_eq!(list.items.len(), pods, "{name}");
        if let Some(n) = events {
            assert_eq!(
                facts.list("kubectl/events.json").unwrap().items.len(),
                n,
                "{name}"
            );
        }
        if let Some(n) = logs {
            let files = facts.glob("kubectl/logs/*/*/*.log");
            assert_eq!(files.len(), n, "{name}");
            // The logs collector's links (all-logs/…) are duplicates: never the source.
            for f in files {
                let t = facts.text(&f.path).unwrap();
                let (sent, _) = t.source_of(1);
                assert!(!sent.starts_with("all-logs/"), "{name}: {sent}");
            }
        }
        for item in &list.items {
            let pod = item.value["metadata"]["name"].as_str().unwrap();
            assert!(item.value["status"]["phase"].is_string(), "{name}: {pod}");
            let ev = list.item_line_evidence(item, &format!("\"{pod}\""));
            let sent = b.sent.iter().find(|f| f.path == ev.file);
            assert!(sent.is_some(), "{name}: {} is not a file as sent", ev.file);
            let text = std::fs::read_to_string(b.disk_path(&ev.file)).unwrap();
            let line = text.lines().nth(ev.line - 1).unwrap_or("");
            if exact {
                assert!(
                    line.contains(pod),
                    "{name}: {}:{} is {line:?}",
                    ev.file,
                    ev.line
                );
            }
        }
    }
}

#[test]
fn what_a_format_cannot_hold_is_not_evaluated_with_that_reason() {
    use kubetriage::bundle::{Bundle, Limits};
    use kubetriage::facts::Facts;
    // (bundle, a file the format cannot hold, part of the reason)
    let cases = [
        (
            "foreign/troubleshoot-testdata-support-bundle.tar.gz",
            "gcloud/cluster.json",
            "a troubleshoot bundle carries no gcloud data",
        ),
        (
            "foreign/troubleshoot-testdata-support-bundle.tar.gz",
            "kubectl/serviceaccounts.json",
            "troubleshoot collects them since v0.70.3",
        ),
        (
            "foreign/troubleshoot-testdata-support-bundle.tar.gz",
            "nodes/node-1/journal/kubelet.log",
            "no host collectors",
        ),
        (
            "foreign-dump-coredns-loop.txt",
            "kubectl/serviceaccounts.json",
            "a kubectl cluster-info dump carries no ServiceAccounts",
        ),
        (
            "foreign-dump-coredns-loop.txt",
            "kubectl/networkpolicies.json",
            "carries no NetworkPolicies",
        ),
        (
            "foreign/cluster-info-dump-aks-k8s-arena.tar.gz",
            "kubectl/logs/kube-system/omsagent-rs-67cc4766df-8nnnf/omsagent.log",
            "kubectl could not get this log when dumping",
        ),
        (
            "foreign-sosreport-cp-1.tar.xz",
            "kubectl/pods.json",
            "this sosreport holds no cluster lists",
        ),
    ];
    for (bundle, path, why) in cases {
        let b = Bundle::open(&testdata().join(bundle), &Limits::default()).unwrap();
        let facts = Facts::new(&b);
        let err = facts.text(path).unwrap_err();
        assert!(err.reason.contains(why), "{bundle}: {path}: {}", err.reason);
    }
    // And a check that needs it says so instead of passing.
    let (_, dump) = run_json(&testdata().join("foreign-dump-coredns-loop.txt"), &[]);
    let c = check(&dump, "kubeadm/join-rbac-get-nodes");
    assert_eq!(c["status"], "not-evaluated");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("a kubectl cluster-info dump carries no server version"),
        "{c}"
    );
}

#[test]
fn troubleshoot_verdicts_are_kept_as_that_tools() {
    let (_, report) = run_json(
        &testdata().join("foreign/troubleshoot-testdata-support-bundle.tar.gz"),
        &[],
    );
    let v = report["tool_verdicts"].as_array().unwrap();
    assert_eq!(v.len(), 10);
    let rook = v
        .iter()
        .find(|x| x["name"] == "custom.resource.definition.rook")
        .unwrap();
    assert_eq!(rook["tool"], "troubleshoot");
    assert_eq!(rook["severity"], "error");
    assert_eq!(rook["file"], "analysis.json");
    assert!(rook["line"].as_u64().unwrap() > 1);
    // The baseline's analysis.json is `[]`: none, and no error.
    let (_, base) = run_json(
        &testdata().join("foreign/troubleshoot-baseline-supportbundle.tar.gz"),
        &[],
    );
    assert_eq!(base["tool_verdicts"], Value::Array(vec![]));
}

#[test]
fn troubleshoot_verdicts_are_in_every_report_format() {
    let bundle = testdata().join("foreign-troubleshoot-coredns-loop");
    let run = |format: &str| {
        let out = kubetriage()
            .args(["--format", format])
            .arg(&bundle)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let html = run("html");
    let at = html
        .find("<h2 id=\"tool-verdicts\">troubleshoot's own verdicts</h2>")
        .unwrap_or_else(|| panic!("no verdict section in the HTML report"));
    assert!(at > html.find("<h2 id=\"findings\">").unwrap());
    assert!(html[at..].contains(
        "<td>warn</td><td>Node Count</td><td>This application requires at least 3 nodes</td><td class=\"mono\">analysis.json:3</td>"
    ));
    assert!(run("text").contains("troubleshoot's own verdicts (1, not kubetriage's):"));
    assert!(run("markdown").contains("## troubleshoot's own verdicts (not kubetriage's)"));
    // A bundle without verdicts has no such section.
    let plain = kubetriage()
        .args(["--format", "html"])
        .arg(testdata().join("kubeadm-coredns-loop"))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("tool-verdicts"));
}

#[test]
fn the_same_scenario_reaches_the_same_verdicts_in_every_layout() {
    let verdicts = |p: &Path| -> BTreeMap<String, (String, usize)> {
        let (_, r) = run_json(p, &[]);
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "finding")
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    (
                        c["status"].as_str().unwrap().to_string(),
                        c["findings"].as_array().unwrap().len(),
                    ),
                )
            })
            .collect()
    };
    let ours = verdicts(&testdata().join("kubeadm-coredns-loop"));
    assert_eq!(ours["kubeadm/coredns-loop"].1, 3);
    // Where every input survives (troubleshoot with host collectors; a dump with the node's
    // sosreport), every finding is reached.
    for other in [
        "foreign-troubleshoot-coredns-loop",
        "foreign-case-coredns-loop.tar.gz",
    ] {
        assert_eq!(verdicts(&testdata().join(other)), ours, "{other}");
    }
    // A dump alone has the pods and their logs but no node files: the same checks fire, the
    // node's half of the loop is missing.
    let dump = verdicts(&testdata().join("foreign-dump-coredns-loop.txt"));
    assert_eq!(
        dump.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>()
    );
    assert_eq!(dump["kubeadm/coredns-loop"].1, 2);
    // The same dump written with `-o yaml`, to a file or a folder, says the same; so does the
    // JSON dump folder.
    for other in [
        "foreign-dump-yaml-coredns-loop.yaml",
        "foreign-dump-yaml-folder-coredns-loop",
        "foreign-dump-folder-coredns-loop",
    ] {
        assert_eq!(verdicts(&testdata().join(other)), dump, "{other}");
    }
}

#[test]
fn a_yaml_dump_is_read_whatever_its_name_and_its_items_are_named_at_their_lines() {
    let tmp = tempfile::tempdir().unwrap();
    // Saved under a name that says nothing, with kubectl 1.18's last line.
    let mut text =
        std::fs::read_to_string(testdata().join("foreign-dump-yaml-coredns-loop.yaml")).unwrap();
    text.push_str("Cluster info dumped to standard output\n");
    let file = tmp.path().join("cluster-info.dump");
    std::fs::write(&file, &text).unwrap();
    let (_, report) = run_json(&file, &[]);
    assert_eq!(report["bundle"]["layout"], "cluster-info-dump");
    assert_eq!(report["bundle"]["platform"], "kubeadm");
    assert_eq!(report["bundle"]["problems"], Value::Array(vec![]));
    let c = check(&report, "kubeadm/pods-crashloop-after-init");
    let refs = evidence_refs(&c["findings"][0]);
    assert_eq!(refs, vec!["cluster-info.dump:183".to_string()]);
    // The line named holds the field cited, in the YAML as sent, inside that pod's item.
    assert_eq!(
        text.lines().nth(182).unwrap().trim(),
        "reason: CrashLoopBackOff"
    );
    assert_eq!(
        text.lines().nth(115).unwrap(),
        "    name: coredns-5d78c9869d-8xk2p"
    );
}

#[test]
fn several_inputs_on_the_command_line_are_one_case() {
    let (code, report) = {
        let out = kubetriage()
            .args(["--format", "json"])
            .arg(testdata().join("foreign-dump-coredns-loop.txt"))
            .arg(testdata().join("foreign-sosreport-cp-1.tar.xz"))
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        )
    };
    assert_eq!(code, 1);
    let b = &report["bundle"];
    assert_eq!(b["layout"], "several");
    let layouts: Vec<&str> = b["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["layout"].as_str().unwrap())
        .collect();
    assert_eq!(layouts, ["cluster-info-dump", "sosreport"]);
    let c = check(&report, "kubeadm/coredns-loop");
    let refs: Vec<String> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(evidence_refs)
        .collect();
    assert!(
        refs.contains(&"foreign-dump-coredns-loop.txt:784".to_string()),
        "{refs:?}"
    );
    assert!(
        refs.contains(&"foreign-sosreport-cp-1.tar.xz/var/lib/kubelet/config.yaml:25".to_string()),
        "{refs:?}"
    );
}

#[test]
fn an_input_with_nothing_known_is_a_one_line_error() {
    let empty = tempfile::tempdir().unwrap();
    let unrelated = tempfile::tempdir().unwrap();
    std::fs::write(unrelated.path().join("notes.txt"), "hello\n").unwrap();
    std::fs::create_dir_all(unrelated.path().join("pictures")).unwrap();
    std::fs::write(unrelated.path().join("pictures/cat.png"), "png").unwrap();
    for (dir, found) in [
        (empty.path(), "found no file"),
        (unrelated.path(), "found 2 file(s)"),
    ] {
        let out = kubetriage().arg(dir).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains(found) && err.contains("expected a kubetriage bundle"),
            "{err}"
        );
    }
}

#[test]
fn a_bundle_nested_where_nothing_finds_it_is_a_one_line_error_saying_where() {
    let copy = |from: &Path, to: &Path| {
        let ok = std::process::Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    // A troubleshoot bundle three folders down, beside notes: its nodes.json must not make
    // the folder a cluster-info dump read by halves.
    let case = tempfile::tempdir().unwrap();
    let deep = case.path().join("ticket/attachments/extracted");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(case.path().join("ticket/notes.txt"), "customer notes\n").unwrap();
    std::fs::write(case.path().join("ticket/attachments/mail.eml"), "mail\n").unwrap();
    copy(
        &testdata().join("foreign-troubleshoot-coredns-loop"),
        &deep.join("support-bundle"),
    );
    let out = kubetriage().arg(case.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("no bundle at the top")
            && err.contains("ticket/attachments/extracted/support-bundle seems to be a troubleshoot support bundle: pass that folder instead"),
        "{err}"
    );
    // Passing that folder works.
    let (code, report) = run_json(&deep.join("support-bundle"), &[]);
    assert_eq!(code, 1);
    assert_eq!(report["bundle"]["layout"], "troubleshoot");
    // An archive in a sub-folder beside other files is named.
    let arch = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(arch.path().join("inner")).unwrap();
    std::fs::write(arch.path().join("readme.txt"), "x\n").unwrap();
    std::fs::copy(
        testdata().join("foreign/troubleshoot-testdata-support-bundle.tar.gz"),
        arch.path().join("inner/sb.tar.gz"),
    )
    .unwrap();
    let out = kubetriage().arg(arch.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("an archive in a sub-folder (inner/sb.tar.gz)"),
        "{err}"
    );
    // A plain NodeList at the top of a folder is still read (kubectl get nodes -o json > file).
    let lone = tempfile::tempdir().unwrap();
    std::fs::copy(
        testdata().join("foreign-dump-folder-coredns-loop/nodes.json"),
        lone.path().join("nodes-dump.txt"),
    )
    .unwrap();
    let (_, report) = run_json(lone.path(), &[]);
    assert_eq!(report["bundle"]["layout"], "cluster-info-dump");
}

#[test]
fn compressed_tar_archives_of_every_kind_open_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = testdata().join("foreign-troubleshoot-coredns-loop");
    let (_, reference) = run_json(&folder, &[]);
    let mut tar_bytes = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar_bytes);
        b.follow_symlinks(false);
        b.append_dir_all("foreign-troubleshoot-coredns-loop", &folder)
            .unwrap();
        b.finish().unwrap();
    }
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    std::io::Write::write_all(&mut bz, &tar_bytes).unwrap();
    let zst = ruzstd::encoding::compress_to_vec(
        &tar_bytes[..],
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    for (ext, bytes) in [("tar.bz2", bz.finish().unwrap()), ("tar.zst", zst)] {
        // The name says nothing: the content is what counts.
        let out = tmp.path().join(format!("bundle-{ext}.bin"));
        std::fs::write(&out, bytes).unwrap();
        let (_, report) = run_json(&out, &[]);
        assert_eq!(report["bundle"]["format"], ext);
        assert_eq!(report["checks"], reference["checks"], "{ext}");
    }
}

#[test]
fn a_sosreport_without_a_kubelet_journal_gives_the_kubelets_lines_of_the_whole_journal() {
    use kubetriage::bundle::{Bundle, Limits};
    use kubetriage::facts::Facts;
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("sosreport-worker-2-2026-11-20-abcdefg");
    let w = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("sos_commands/host/hostname", "worker-2\n");
    w("version.txt", "sosreport: 4.5.6\n");
    w(
        "sos_commands/kubernetes/journalctl_--no-pager_--unit_kubelet",
        "-- Logs begin at Fri 2022-02-11 18:58:10 UTC, end at Fri 2022-02-11 19:23:41 UTC. --\n-- No entries --\n",
    );
    w(
        "sos_commands/logs/journalctl_--no-pager",
        "-- Logs begin at Fri 2022-02-11 18:58:10 UTC, end at Fri 2022-02-11 19:23:41 UTC. --\n\
Feb 11 19:02:10 worker-2 systemd[1]: Started kubelet.\n\
Feb 11 19:02:13 worker-2 kubelet[1187]: I0211 19:02:13.1 server.go:1] starting\n\
Feb 11 19:02:14 worker-2 containerd[900]: level=info msg=x\n\
Feb 11 19:02:15 worker-2 kubelet[1187]: E0211 19:02:15.2 kubelet.go:2] failed\n",
    );
    let b = Bundle::open(&root, &Limits::default()).unwrap();
    let facts = Facts::new(&b);
    let j = facts.text("nodes/worker-2/journal/kubelet.log").unwrap();
    assert_eq!(j.line_count(), 2);
    let e = j.evidence(2, 2);
    assert_eq!(
        (e.file.as_str(), e.line),
        ("sos_commands/logs/journalctl_--no-pager", 5)
    );
    assert!(e.excerpt.contains("failed"));
}

#[test]
fn a_sosreport_with_an_archive_at_its_top_is_still_a_sosreport() {
    // hotsos's sosreports carry `sos_reports.tgz` beside `sos_commands/`: one input, not a case.
    let dir = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("tar")
        .arg("-xJf")
        .arg(testdata().join("foreign/sosreport-charmed-kubernetes-hotsos.tar.xz"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let root = dir.path().join("sosreport-charmed-kubernetes-hotsos");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"not read").unwrap();
    std::fs::write(root.join("sos_reports.tgz"), gz.finish().unwrap()).unwrap();
    let (_, report) = run_json(&root, &[]);
    assert_eq!(report["bundle"]["layout"], "sosreport");
    assert_eq!(report["bundle"]["platform"], "charmed-kubernetes");
    assert_eq!(
        check(&report, "k8s/image-pull-failure")["status"],
        "finding"
    );
}

#[test]
fn a_kurl_bundle_gets_the_kubeadm_checks_and_redacted_addresses_are_not_compared() {
    // kURL builds its clusters with kubeadm. Its troubleshoot bundle hides every node address
    // as ***HIDDEN***: three nodes with the same hidden text do not share an address.
    let (_, r) = run_json(
        &testdata().join("foreign/sbctl-tests-support-bundle.tar.gz"),
        &[],
    );
    assert_eq!(r["bundle"]["platform"], "kurl");
    let c = check(&r, "kubeadm/node-ip-unroutable");
    assert_eq!(c["status"], "not-evaluated", "{c}");
    assert!(c["reason"].as_str().unwrap().contains("redacted"), "{c}");
    assert_eq!(
        check(&r, "kubeadm/pods-crashloop-after-init")["status"],
        "pass"
    );
    assert_eq!(
        check(&r, "gke/wi-binding-missing")["status"],
        "not-applicable"
    );
}

#[test]
fn a_sosreports_compressed_output_and_rotated_logs_are_read_inflated() {
    use kubetriage::bundle::{Bundle, Limits};
    use kubetriage::facts::Facts;
    use std::io::Write;
    let gz = |text: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let xz = |text: &str| {
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("sosreport-worker-3-2026-11-20-abcdefg");
    let w = |rel: &str, bytes: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    w("sos_commands/host/hostname", b"worker-3\n");
    // A unit's journal compressed (as hotsos's real sosreport has them), and one cut short.
    w(
        "sos_commands/kubernetes/journalctl_--no-pager_--unit_kube-proxy.xz",
        &xz(
            "-- Logs begin at Fri 2026-11-20 09:00:00 UTC. --\nNov 20 09:00:01 worker-3 kube-proxy[7]: I1120 09:00:01.1 server.go:1] starting\nNov 20 09:00:02 worker-3 kube-proxy[7]: E1120 09:00:02.2 proxier.go:2] failed\n",
        ),
    );
    w(
        "sos_commands/containerd/journalctl_--no-pager_--unit_containerd.gz",
        &gz("Nov 20 09:00:00 worker-3 containerd[5]: level=info msg=x\n")[..12],
    );
    // No kubelet journal and no all-units journal: the kubelet's lines of syslog and its
    // rotations, oldest first.
    w(
        "var/log/syslog.2.gz",
        &gz("Nov 18 10:00:00 worker-3 kubelet[1]: E1118 oldest\n"),
    );
    w(
        "var/log/syslog.1",
        b"Nov 19 10:00:00 worker-3 systemd[1]: x\nNov 19 10:00:01 worker-3 kubelet[1]: E1119 older\n",
    );
    w(
        "var/log/syslog",
        b"Nov 20 10:00:00 worker-3 kubelet[1]: E1120 newest\n",
    );
    let b = Bundle::open(&root, &Limits::default()).unwrap();
    let facts = Facts::new(&b);
    let proxy = facts.text("nodes/worker-3/journal/kube-proxy.log").unwrap();
    let e = proxy.evidence(3, 3);
    assert_eq!(
        (e.file.as_str(), e.line),
        (
            "sos_commands/kubernetes/journalctl_--no-pager_--unit_kube-proxy.xz",
            3
        )
    );
    assert!(e.excerpt.contains("failed"), "{e:?}");
    // Shown as its text, not its compressed bytes (the UI's viewer opens this path).
    let shown = std::fs::read_to_string(
        b.disk_path("sos_commands/kubernetes/journalctl_--no-pager_--unit_kube-proxy.xz"),
    )
    .unwrap();
    assert!(shown.starts_with("-- Logs begin"));
    let kubelet = facts.text("nodes/worker-3/journal/kubelet.log").unwrap();
    assert_eq!(kubelet.line_count(), 3);
    let at = |n| {
        let e = kubelet.evidence(n, n);
        (e.file, e.line)
    };
    assert_eq!(at(1), ("var/log/syslog.2.gz".to_string(), 1));
    assert_eq!(at(2), ("var/log/syslog.1".to_string(), 2));
    assert_eq!(at(3), ("var/log/syslog".to_string(), 1));
    // The broken one is named, in one line, and nothing else is lost.
    let problems: Vec<String> = b
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.file, p.problem))
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "sos_commands/containerd/journalctl_--no-pager_--unit_containerd.gz: not a readable gzip file"
        ),
        "{problems:?}"
    );
    assert!(facts.text("nodes/worker-3/journal/containerd.log").is_err());
    assert!(!problems[0].contains('\n'));
}

#[test]
fn a_list_file_that_cannot_be_read_is_a_problem_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = tmp.path().join("support-bundle");
    let ok = std::process::Command::new("cp")
        .arg("-r")
        .arg(testdata().join("foreign-troubleshoot-coredns-loop"))
        .arg(&sb)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::write(
        sb.join("cluster-resources/pods/default.json"),
        "{\"items\": [\n{oops\n",
    )
    .unwrap();
    std::fs::write(sb.join("cluster-resources/events/kube-public.json"), "").unwrap();
    let (_, report) = run_json(&sb, &[]);
    let mut problems: Vec<String> = report["bundle"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["file"].as_str().unwrap(),
                p["problem"].as_str().unwrap()
            )
        })
        .collect();
    problems.sort();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "cluster-resources/events/kube-public.json: empty: troubleshoot could not list"
        ) && problems[1]
            .starts_with("cluster-resources/pods/default.json: it is not valid JSON (line 2")
            && problems[1].ends_with("kubectl/pods.json lacks its items"),
        "{problems:?}"
    );
    assert!(problems.iter().all(|p| !p.contains('\n')));
    // The other namespaces' pods are still read: the loop is still found.
    assert_eq!(check(&report, "kubeadm/coredns-loop")["status"], "finding");
    // troubleshoot's verdicts that are no JSON: said, and nothing else lost.
    std::fs::write(sb.join("analysis.json"), "[{\"name\": ").unwrap();
    let (_, report) = run_json(&sb, &[]);
    assert_eq!(report["tool_verdicts"], Value::Array(vec![]));
    assert!(
        report["bundle"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["file"] == "analysis.json"
                && p["problem"].as_str().unwrap().starts_with("not valid JSON")),
        "{}",
        report["bundle"]["problems"]
    );

    // A YAML dump with a list that is no YAML.
    let mut text =
        std::fs::read_to_string(testdata().join("foreign-dump-yaml-coredns-loop.yaml")).unwrap();
    text = text.replacen(
        "---\napiVersion: v1\nitems: []\nkind: EventList",
        "---\nitems: [oops",
        1,
    );
    let dump = tmp.path().join("dump.yaml");
    std::fs::write(&dump, &text).unwrap();
    let (_, report) = run_json(&dump, &[]);
    let p = &report["bundle"]["problems"][0];
    assert_eq!(p["file"], "dump.yaml");
    assert!(
        p["problem"]
            .as_str()
            .unwrap()
            .starts_with("it holds no readable YAML list at line "),
        "{p}"
    );
    assert_eq!(check(&report, "kubeadm/coredns-loop")["status"], "finding");
}
