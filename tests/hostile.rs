//! Bundles are untrusted: archives that try to escape, bombs, garbage, links, escape sequences.
//! None may panic, write outside kubetriage's private folder, or reach the terminal raw.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A tar entry written byte for byte, so that names the tar crate would refuse can be tested.
fn raw_entry(name: &[u8], kind: tar::EntryType, body: &[u8], link: Option<&[u8]>) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        if let Some(l) = link {
            old.linkname[..l.len()].copy_from_slice(l);
        }
    }
    h.set_entry_type(kind);
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(body);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn write_tar_gz(path: &Path, entries: &[Vec<u8>], finish: bool) {
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    for e in entries {
        gz.write_all(e).unwrap();
    }
    if finish {
        gz.write_all(&[0u8; 1024]).unwrap();
    }
    gz.finish().unwrap();
}

fn manifest_entry() -> Vec<u8> {
    raw_entry(
        b"b/manifest.json",
        tar::EntryType::Regular,
        br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
        None,
    )
}

/// Runs with TMPDIR inside `sandbox`, so every file kubetriage writes is observable.
fn run_in(sandbox: &Path, bundle: &Path, extra: &[&str]) -> (i32, String, String) {
    let tmp = sandbox.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = kubetriage()
        .env("TMPDIR", &tmp)
        .args(extra)
        .arg(bundle)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn escaping_entries_are_refused_and_nothing_lands_outside() {
    let sandbox = tempfile::tempdir().unwrap();
    let target = sandbox.path().join("outside");
    std::fs::create_dir_all(&target).unwrap();
    let abs = format!("{}/abs-evil", target.display());
    let archive = sandbox.path().join("evil.tar.gz");
    write_tar_gz(
        &archive,
        &[
            manifest_entry(),
            raw_entry(
                b"b/../../outside/dotdot-evil",
                tar::EntryType::Regular,
                b"x",
                None,
            ),
            raw_entry(abs.as_bytes(), tar::EntryType::Regular, b"x", None),
            raw_entry(
                b"b/link",
                tar::EntryType::Symlink,
                b"",
                Some(target.to_str().unwrap().as_bytes()),
            ),
            raw_entry(b"b/link/through-link", tar::EntryType::Regular, b"x", None),
            raw_entry(b"b/hard", tar::EntryType::Link, b"", Some(b"/etc/passwd")),
            raw_entry(b"b/fifo", tar::EntryType::Fifo, b"", None),
        ],
        true,
    );
    let (code, stdout, stderr) = run_in(sandbox.path(), &archive, &["--format", "json"]);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    assert!(
        files_under(&target).is_empty(),
        "wrote outside: {:?}",
        files_under(&target)
    );
    assert!(
        files_under(&sandbox.path().join("tmp")).is_empty(),
        "left files behind in TMPDIR"
    );
    // The process ends without freeing the analysis, but removes its private folder whole.
    assert_eq!(
        std::fs::read_dir(sandbox.path().join("tmp"))
            .unwrap()
            .count(),
        0,
        "left the unpack folder behind in TMPDIR"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let problems = report["bundle"]["problems"].to_string();
    for expected in [
        "climbs out",
        "absolute path",
        "not followed",
        "special file",
    ] {
        assert!(
            problems.contains(expected),
            "no {expected:?} problem in {problems}"
        );
    }
}

#[test]
fn a_decompression_bomb_is_stopped_with_a_message_naming_the_file() {
    let sandbox = tempfile::tempdir().unwrap();
    let archive = sandbox.path().join("bomb.tar.gz");
    let zeros = vec![0u8; 64 << 20];
    write_tar_gz(
        &archive,
        &[
            manifest_entry(),
            raw_entry(
                b"b/kubectl/pods.json",
                tar::EntryType::Regular,
                &zeros,
                None,
            ),
        ],
        true,
    );
    let (code, stdout, stderr) = run_in(sandbox.path(), &archive, &["--max-total-size", "8M"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("bomb.tar.gz")
            && stderr.contains("kubectl/pods.json")
            && stderr.contains("limit"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one-line error: {stderr}");
    assert!(
        files_under(&sandbox.path().join("tmp")).is_empty(),
        "left files behind in TMPDIR"
    );
}

#[test]
fn a_file_over_the_per_file_limit_is_skipped_and_reported() {
    let sandbox = tempfile::tempdir().unwrap();
    let archive = sandbox.path().join("big.tar.gz");
    let big = vec![b'a'; 3 << 20];
    write_tar_gz(
        &archive,
        &[
            manifest_entry(),
            raw_entry(
                b"b/kubectl/events.json",
                tar::EntryType::Regular,
                &big,
                None,
            ),
        ],
        true,
    );
    let (code, stdout, stderr) = run_in(
        sandbox.path(),
        &archive,
        &["--format", "json", "--max-file-size", "1M"],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["bundle"]["problems"]
            .to_string()
            .contains("per-file limit")
    );
}

#[test]
fn truncated_archives_give_what_was_read_and_say_so() {
    let sandbox = tempfile::tempdir().unwrap();
    let full = sandbox.path().join("full.tar.gz");
    pack_tar_gz(&testdata().join("kubeadm-coredns-loop"), sandbox.path());
    std::fs::rename(sandbox.path().join("kubeadm-coredns-loop.tar.gz"), &full).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let cut = sandbox.path().join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, stdout, stderr) = run_in(sandbox.path(), &cut, &["--format", "json"]);
    assert!(code == 0 || code == 1 || code == 2, "{stderr}");
    if code == 2 {
        assert!(stderr.contains("cut.tar.gz"), "{stderr}");
    } else {
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert!(
            report["bundle"]["problems"]
                .to_string()
                .contains("ends early"),
            "{}",
            report["bundle"]
        );
    }
    // A header and nothing else.
    let tiny = sandbox.path().join("tiny.tar.gz");
    std::fs::write(&tiny, &bytes[..20]).unwrap();
    let (code, _, stderr) = run_in(sandbox.path(), &tiny, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("tiny.tar.gz"), "{stderr}");
}

#[test]
fn garbage_empty_and_zip_files_are_clear_errors() {
    let sandbox = tempfile::tempdir().unwrap();
    for (name, bytes, says) in [
        (
            "garbage.tar.gz",
            b"this is not an archive at all\x00\xff".to_vec(),
            "not a bundle",
        ),
        ("empty.tgz", Vec::new(), "empty"),
        ("bundle.zip", b"PK\x03\x04rest".to_vec(), "zip"),
        (
            "fake.tar.gz",
            vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
            "fake.tar.gz",
        ),
    ] {
        let p = sandbox.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let (code, _, stderr) = run_in(sandbox.path(), &p, &[]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(
            stderr.starts_with("kubetriage: error:")
                && stderr.contains(name)
                && stderr.contains(says),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
    let (code, _, stderr) = run_in(sandbox.path(), &sandbox.path().join("missing-bundle"), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing-bundle"), "{stderr}");
}

#[test]
fn garbage_json_and_invalid_utf8_are_not_evaluated_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    std::fs::create_dir_all(b.join("kubectl/logs/kube-system/coredns-1/")).unwrap();
    std::fs::write(
        b.join("manifest.json"),
        br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"gke","sources":[]}"#,
    )
    .unwrap();
    std::fs::write(
        b.join("kubectl/pods.json"),
        b"{\"items\": [ {\"metadata\": \xff\xfe ",
    )
    .unwrap();
    std::fs::write(b.join("kubectl/serviceaccounts.json"), b"").unwrap();
    std::fs::write(b.join("kubectl/logs/kube-system/coredns-1/coredns.log"), b"\xff\xfe\x00 [FATAL] plugin/loop: Seen \"HINFO IN 1.2.\" more than twice, loop detected \xc3\x28\n").unwrap();
    let (code, report) = run_json(&b, &[]);
    assert!(code == 0 || code == 1);
    let mds = check(&report, "gke/metadata-server-crashloop");
    assert_eq!(mds["status"], "not-evaluated");
    assert!(
        mds["reason"]
            .as_str()
            .unwrap()
            .contains("kubectl/pods.json is not valid JSON"),
        "{}",
        mds["reason"]
    );
    let wi = check(&report, "gke/wi-binding-missing");
    assert!(
        wi["reason"]
            .as_str()
            .unwrap()
            .contains("kubectl/serviceaccounts.json is empty"),
        "{}",
        wi["reason"]
    );
    // kubeadm checks stay out of GKE bundles: read the same log as a kubeadm bundle.
    assert_eq!(
        check(&report, "kubeadm/coredns-loop")["status"],
        "not-applicable"
    );
    std::fs::write(
        b.join("manifest.json"),
        br#"{"format":1,"created":"2026-11-20T10:15:00Z","mode":"kubeadm","sources":[]}"#,
    )
    .unwrap();
    let (_, report) = run_json(&b, &[]);
    let lp = check(&report, "kubeadm/coredns-loop");
    assert_eq!(
        lp["status"], "finding",
        "invalid UTF-8 around a real line must not hide it"
    );
}

#[test]
fn escape_sequences_from_a_bundle_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    let pod = "coredns-\u{1b}]0;owned\u{7}";
    std::fs::create_dir_all(b.join(format!("kubectl/logs/kube-system/{pod}"))).unwrap();
    std::fs::write(b.join("manifest.json"), "{\"format\":1,\"mode\":\"kubeadm\",\"cluster\":{\"name\":\"\\u001b[2Jwipe\"},\"sources\":[{\"path\":\"kubectl/pods.json\",\"exit_code\":1,\"stderr\":\"\\u001b]2;title\\u0007 denied\",\"error\":\"command failed\"}]}").unwrap();
    std::fs::write(
        b.join(format!("kubectl/logs/kube-system/{pod}/coredns.log")),
        "\u{1b}[31m[FATAL] plugin/loop: Loop (127.0.0.1:1 -> :53) detected for zone \".\" \u{1b}]0;pwned\u{7}\u{9b}2J\u{202e}\n",
    )
    .unwrap();
    for format in ["text", "markdown"] {
        // Wide enough that the excerpt is not shortened: the whole hostile line is shown.
        let out = kubetriage()
            .args(["--format", format, "--width", "200"])
            .arg(&b)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("plugin/loop"), "{format}: {stdout}");
        for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(!stdout.contains(bad), "{format}: raw {:?} in output", bad);
        }
        assert!(
            stdout.contains("\\x1b]0;pwned\\x07"),
            "{format}: escapes not shown:\n{stdout}"
        );
    }
}

#[test]
fn links_in_a_bundle_folder_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("b");
    std::fs::create_dir_all(b.join("kubectl")).unwrap();
    std::fs::write(
        b.join("manifest.json"),
        br#"{"format":1,"mode":"gke","sources":[]}"#,
    )
    .unwrap();
    let secret = dir.path().join("secret.json");
    std::fs::write(&secret, br#"{"items":[]}"#).unwrap();
    std::os::unix::fs::symlink(&secret, b.join("kubectl/pods.json")).unwrap();
    let (_, report) = run_json(&b, &[]);
    assert!(
        report["bundle"]["problems"]
            .to_string()
            .contains("not followed")
    );
    let c = check(&report, "gke/metadata-server-crashloop");
    assert_eq!(c["status"], "not-evaluated");
    assert!(
        c["reason"].as_str().unwrap().contains("kubectl/pods.json"),
        "{}",
        c["reason"]
    );
}

#[test]
fn a_broken_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("kubetriage");
    let mut child = Command::new(bin)
        .args(["--format", "json"])
        .arg(testdata().join("gke-metadata-server-crashloop"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{:?} {stderr}",
        out.status
    );
}
