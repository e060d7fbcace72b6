//! The collector script (`collectors/collect-bundle.sh`), run for real against fake `kubectl`,
//! `gcloud`, `journalctl` and node tools that replay testdata bundles, record how they were
//! called and simulate failures; and once against the real kubectl client and a loopback API
//! server (`tests/collector/apiserver.rs`).

#[path = "collector/support.rs"]
mod support;

#[path = "collector/apiserver.rs"]
mod apiserver;

use serde_json::{Value, json};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::*;

const GKE_CONTEXT: &str = "gke_shop-prod-1234_us-central1-a_prod";

// ---------------------------------------------------------------------------------------------
// The script itself

#[test]
fn script_is_shellcheck_clean() {
    let sc = which("shellcheck").expect(
        "shellcheck is needed for this test: apt-get install shellcheck (.ci/run installs it)",
    );
    for f in [
        script(),
        repo().join("tests/collector/fake-cmd"),
        repo().join(".ci/install-test-tools"),
    ] {
        let out = Command::new(&sc)
            .arg("--shell=bash")
            .arg("--severity=style")
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck {}:\n{}",
            f.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The script must run on macOS's bash 3.2: no construct of bash 4 or later.
#[test]
fn script_avoids_bash4_constructs() {
    let text = fs::read_to_string(script()).unwrap();
    let forbidden = [
        ("declare -A", "associative arrays"),
        ("local -A", "associative arrays"),
        ("mapfile", "mapfile"),
        ("readarray", "readarray"),
        (",,}", "case conversion"),
        ("^^}", "case conversion"),
        ("|&", "|&"),
        ("&>>", "&>>"),
        ("coproc", "coproc"),
        ("wait -n", "wait -n"),
        (";;&", ";;&"),
        ("declare -n", "namerefs"),
        ("local -n", "namerefs"),
        ("@Q}", "${var@Q}"),
        ("printf '%(", "printf %(...)T"),
        ("BASHPID", "BASHPID"),
        ("$EPOCHSECONDS", "EPOCHSECONDS"),
        ("globstar", "globstar"),
    ];
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with('#') {
            continue;
        }
        for (needle, what) in forbidden {
            assert!(
                !line.contains(needle),
                "line {}: {what} needs bash 4 or later: {line}",
                i + 1
            );
        }
    }
    // EPOCHREALTIME is bash 5: it may only be read behind a guard.
    for (i, line) in text.lines().enumerate() {
        if line.contains("EPOCHREALTIME") {
            assert!(
                line.contains("${EPOCHREALTIME:-}") || line.contains("_t=${EPOCHREALTIME}"),
                "line {}: EPOCHREALTIME used without the bash-5 guard: {line}",
                i + 1
            );
        }
    }
}

/// `--help` documents every option the script accepts.
#[test]
fn help_explains_every_option() {
    let sb = Sandbox::new(true);
    let out = sb.run(&["--help"]);
    assert_eq!(out.code, 0);
    let text = fs::read_to_string(script()).unwrap();
    let start = text
        .find("    case \"$opt\" in\n        -h | --help)")
        .unwrap();
    let end = start + text[start..].find("\n    esac").unwrap();
    let mut options = Vec::new();
    for line in text[start..end].lines() {
        let arm = line.trim();
        if let Some(pat) = arm.split(')').next() {
            for o in pat.split('|').map(str::trim) {
                if o.starts_with('-') && !o.contains('*') {
                    options.push(o.to_string());
                }
            }
        }
    }
    assert!(options.len() >= 20, "found only {options:?}");
    // The deadline's default and every exit status are spelled out.
    assert!(
        out.stdout.contains("(default 10m)"),
        "--max-time default: {}",
        out.stdout
    );
    for code in [
        "  3  kubectl",
        "  4  the cluster could not be reached",
        "  5  the cluster refused",
        "  6  the cluster answered",
        "  7  the cluster answered the probe",
    ] {
        assert!(out.stdout.contains(code), "{code} missing: {}", out.stdout);
    }
    for o in options {
        assert!(
            out.stdout.contains(&o),
            "--help does not explain {o}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    let sb = Sandbox::new(true);
    for (args, needle) in [
        (&["--bogus"][..], "unknown option: --bogus"),
        (&["--since", "yesterday"][..], "--since"),
        (&["--log-bytes", "lots"][..], "--log-bytes"),
        (&["--timeout", "0"][..], "--timeout"),
        (&["--max-time", "soon"][..], "--max-time takes a duration"),
        (&["--max-time", "0s"][..], "--max-time must be above 0"),
        (
            &["--parallel", "0"][..],
            "--parallel takes a number from 1 to 16",
        ),
        (
            &["--parallel", "17"][..],
            "--parallel takes a number from 1 to 16",
        ),
        (&["--also-cluster"][..], "--also-cluster goes with --node"),
        (
            &["--project", "p"][..],
            "--project, --cluster and --location",
        ),
    ] {
        let out = sb.run(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn no_bundle_is_exit_1_with_the_reason() {
    let sb = Sandbox::new(true);
    let blocker = sb.path().join("a-file");
    fs::write(&blocker, "not a folder").unwrap();
    let out = sb.run(&["-o", blocker.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("--output"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Cluster side against fakes

/// A GKE-looking sandbox whose kubectl answers from the gke-wi-binding-missing bundle.
fn gke_sandbox(with_timeout: bool) -> Sandbox {
    let mut sb = Sandbox::new(with_timeout);
    sb.fake_tool("kubectl");
    replay_cluster(&mut sb, &testdata().join("gke-wi-binding-missing"));
    sb
}

#[test]
fn every_command_is_recorded_and_failures_do_not_stop_collection() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.rule("kubectl *get events --all-namespaces -o json*")
        .stderr("Error from server (Forbidden): events is forbidden: User \"dev@example.com\" cannot list resource \"events\" in API group \"\" at the cluster scope\n")
        .exit(1);
    replay_cluster(&mut sb, &testdata().join("gke-wi-binding-missing"));
    // No gcloud on PATH at all: a GKE context still collects, and records gcloud as missing.
    let c = sb.collect(&["--context", GKE_CONTEXT]);

    let m = &c.manifest;
    assert_eq!(m["format"], 1);
    assert_eq!(m["collector"]["name"], "collect-bundle");
    assert_eq!(m["mode"], "gke");
    assert_eq!(m["cluster"]["context"], GKE_CONTEXT);
    assert_eq!(m["cluster"]["name"], "prod");
    assert_eq!(m["cluster"]["project"], "shop-prod-1234");
    assert_eq!(m["cluster"]["location"], "us-central1-a");
    let created = m["created"].as_str().unwrap();
    assert!(
        created.parse::<jiff::Timestamp>().is_ok() && created.ends_with('Z'),
        "{created}"
    );

    for s in c.sources() {
        for key in [
            "path",
            "command",
            "exit_code",
            "started",
            "duration_ms",
            "bytes",
            "stderr",
            "redactions",
            "bound",
        ] {
            assert!(!s[key].is_null(), "{key} missing in {s}");
        }
        assert!(s["bound"]["timeout_s"].as_u64().unwrap() > 0, "{s}");
        let path = s["path"].as_str().unwrap();
        let ok = s["exit_code"] == 0 && s.get("error").is_none();
        if ok && path.ends_with(".json") {
            assert!(
                c.has(path),
                "{path} recorded as collected but not in the bundle"
            );
            assert_eq!(
                s["bytes"].as_u64().unwrap(),
                fs::metadata(c.top.join(path)).unwrap().len(),
                "{path}: bytes"
            );
        }
    }

    let sas = c.source("kubectl/serviceaccounts.json");
    assert_eq!(
        sas["command"],
        json!([
            "kubectl",
            "--context",
            GKE_CONTEXT,
            "--request-timeout=60s",
            "get",
            "serviceaccounts",
            "--all-namespaces",
            "-o",
            "json"
        ])
    );
    assert_eq!(sas["exit_code"], 0);
    assert_eq!(
        c.json("kubectl/serviceaccounts.json"),
        read_json(&testdata().join("gke-wi-binding-missing/kubectl/serviceaccounts.json"))
    );

    let events = c.source("kubectl/events.json");
    assert_eq!(events["exit_code"], 1);
    assert_eq!(events["error"], "command failed: access denied");
    assert!(
        events["stderr"]
            .as_str()
            .unwrap()
            .contains("(Forbidden): events is forbidden")
    );
    assert!(!c.has("kubectl/events.json"));

    // A source the fake does not know fails like a real error, and collection goes on.
    let nodes = c.source("kubectl/nodes.json");
    assert_eq!(nodes["exit_code"], 1);
    assert_eq!(nodes["error"], "command failed");

    let cluster = c.source("gcloud/cluster.json");
    assert_eq!(cluster["exit_code"], 127);
    assert!(
        cluster["error"]
            .as_str()
            .unwrap()
            .starts_with("skipped: gcloud is not installed"),
        "{cluster}"
    );
    assert!(!c.top.join("gcloud").exists());

    // Progress on stderr, one line a source.
    assert!(
        c.stderr
            .contains("get events --all-namespaces -o json ... forbidden (exit 1)"),
        "{}",
        c.stderr
    );
    assert!(
        c.stderr.lines().any(|l| l.starts_with('[')
            && l.contains("get serviceaccounts --all-namespaces -o json ... ok ")),
        "{}",
        c.stderr
    );
    // Secret objects are never asked for.
    for call in sb.calls() {
        assert!(
            !call.iter().any(|a| a.starts_with("secret")),
            "Secrets must never be collected: {call:?}"
        );
    }
}

#[test]
fn archive_is_named_by_utc_time_with_one_top_level_folder() {
    let sb = gke_sandbox(true);
    let c = sb.collect(&["--context", GKE_CONTEXT, "--name", "acme support"]);
    let name = c.archive.file_name().unwrap().to_str().unwrap();
    let stem = name.strip_suffix(".tar.gz").expect(name);
    assert_eq!(c.top.file_name().unwrap().to_str().unwrap(), stem);
    let (prefix, stamp) = stem.rsplit_once('-').unwrap();
    assert_eq!(prefix, "acme_support");
    assert_eq!(stamp.len(), 16, "{stamp}");
    assert!(
        jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", stamp).is_ok(),
        "{stamp}"
    );
    // Nothing but the archive is left in the output folder.
    let left: Vec<_> = fs::read_dir(&sb.out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from(name)]);
}

#[test]
fn no_archive_leaves_a_bundle_folder() {
    let sb = gke_sandbox(true);
    let out = sb.run(&[
        "--context",
        GKE_CONTEXT,
        "--no-archive",
        "-o",
        sb.out.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dir = Path::new(out.stdout.trim_end());
    assert!(dir.join("manifest.json").is_file());
    assert!(dir.join("kubectl/serviceaccounts.json").is_file());
}

#[test]
fn gcloud_sources_cover_every_gsa_named_by_an_annotation() {
    let mut sb = gke_sandbox(true);
    sb.fake_tool("gcloud");
    // Older gcloud releases reject --location: the script retries with --zone.
    sb.rule("gcloud container clusters describe * --location=*")
        .stderr("ERROR: (gcloud.container.clusters.describe) unrecognized arguments: --location=us-central1-a\n")
        .exit(2);
    replay_gcloud(&mut sb, &testdata().join("gke-wi-binding-missing"));
    let c = sb.collect(&["--context", GKE_CONTEXT]);

    let sa = read_json(&testdata().join("gke-wi-binding-missing/kubectl/serviceaccounts.json"));
    let mut gsas: Vec<String> = sa["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].as_str())
        .map(str::to_string)
        .collect();
    gsas.sort();
    gsas.dedup();
    assert!(gsas.len() >= 3);
    for g in &gsas {
        let path = format!("gcloud/service-accounts/{g}/iam-policy.json");
        let rec = c.source(&path);
        assert_eq!(
            rec["command"],
            json!([
                "gcloud",
                "iam",
                "service-accounts",
                "get-iam-policy",
                g,
                "--format=json",
                "--quiet"
            ])
        );
        assert_eq!(
            c.json(&path),
            read_json(&testdata().join("gke-wi-binding-missing").join(&path))
        );
    }
    for f in [
        "cluster.json",
        "nodepools.json",
        "project.json",
        "project-iam-policy.json",
        "services-enabled.json",
        "operations.json",
    ] {
        let rec = c.source(&format!("gcloud/{f}"));
        let cmd: Vec<&str> = rec["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(cmd[0], "gcloud");
        assert!(cmd.contains(&"--format=json"), "{cmd:?}");
    }
    let cl = c.source("gcloud/cluster.json");
    assert_eq!(cl["exit_code"], 0);
    assert!(
        cl["command"]
            .as_array()
            .unwrap()
            .contains(&json!("--zone=us-central1-a")),
        "{cl}"
    );
    assert_eq!(cl["attempts"][0]["exit_code"], 2);
    assert!(
        cl["attempts"][0]["stderr"]
            .as_str()
            .unwrap()
            .contains("unrecognized arguments")
    );
    // The same description, but for the CA certificate, which never leaves.
    let mut got = c.json("gcloud/cluster.json");
    let mut want = read_json(&testdata().join("gke-wi-binding-missing/gcloud/cluster.json"));
    assert_eq!(got["masterAuth"]["clusterCaCertificate"], "[REDACTED]");
    got["masterAuth"].take();
    want["masterAuth"].take();
    assert_eq!(got, want);
}

#[test]
fn a_hostile_annotation_never_becomes_a_path_or_an_argument() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.fake_tool("gcloud");
    sb.rule("kubectl *get serviceaccounts --all-namespaces -o jsonpath=*")
        .stdout("default\tevil\t../../../etc/passwd\ndefault\tflag\t--impersonate-service-account=x@y.iam.gserviceaccount.com\n");
    sb.rule("gcloud *").stdout("{}\n");
    let c = sb.collect(&["--context", GKE_CONTEXT]);
    for call in sb.calls() {
        if call[0] == "gcloud" && call.get(1).map(String::as_str) == Some("iam") {
            panic!("an invalid GSA reached gcloud: {call:?}");
        }
    }
    let skipped: Vec<&Value> = c
        .sources()
        .iter()
        .filter(|s| {
            s["path"]
                .as_str()
                .unwrap()
                .starts_with("gcloud/service-accounts/")
        })
        .collect();
    assert_eq!(skipped.len(), 2);
    for s in skipped {
        let path = s["path"].as_str().unwrap();
        assert!(
            Path::new(path)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{s}"
        );
        assert!(!path.contains(".."), "{s}");
        assert!(s["error"].as_str().unwrap().starts_with("skipped:"), "{s}");
    }
    assert!(!sb.out.join("etc").exists() && !sb.path().join("etc").exists());
}

/// A command that hangs is killed at the bound, with GNU timeout and with the watchdog the
/// script falls back on where timeout(1) is missing; nothing it started is left running.
#[test]
fn a_hanging_command_is_killed_at_the_timeout() {
    for (with_timeout, secs) in [(true, 611), (false, 613)] {
        let mut sb = Sandbox::new(with_timeout);
        sb.fake_tool("kubectl");
        sb.rule("kubectl *get daemonsets --all-namespaces -o json*")
            .sleep(secs)
            .stdout("{}");
        replay_cluster(&mut sb, &testdata().join("gke-wi-binding-missing"));
        let c = sb.collect(&["--context", GKE_CONTEXT, "--timeout", "2"]);
        let ds = c.source("kubectl/daemonsets.json");
        assert_eq!(ds["error"], "timed out after 2s", "{ds}");
        assert_eq!(ds["exit_code"], 124);
        assert_eq!(ds["bound"]["timeout_s"], 2);
        assert!(!c.has("kubectl/daemonsets.json"));
        assert_eq!(
            c.manifest["bounds"]["timeout_by"],
            if with_timeout { "timeout" } else { "watchdog" }
        );
        if !with_timeout {
            assert!(c.stderr.contains("bounded by a watchdog"), "{}", c.stderr);
        }
        assert!(c.stderr.contains("... timed out"), "{}", c.stderr);
        // The sources after the hang were still collected.
        assert_eq!(c.source("kubectl/deployments.json")["exit_code"], 1);
        assert_eq!(c.source("kubectl/serviceaccounts.json")["exit_code"], 0);
        assert!(
            !sleeping(secs),
            "a `sleep {secs}` started by the hung command is still running"
        );
    }
}

/// An interrupt stops the collection, but still writes the bundle of what was collected.
#[test]
fn an_interrupt_still_writes_the_bundle() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.rule("kubectl *get daemonsets --all-namespaces -o json*")
        .sleep(617)
        .stdout("{}");
    replay_cluster(&mut sb, &testdata().join("gke-wi-binding-missing"));
    let mut sent = false;
    let out = sb.run_until(
        &["--context", GKE_CONTEXT, "-o", sb.out.to_str().unwrap()],
        Duration::from_secs(120),
        |pid| {
            let hung = sb
                .calls()
                .iter()
                .any(|c| c.contains(&"daemonsets".to_string()));
            if hung && !sent {
                std::thread::sleep(Duration::from_millis(300));
                let st = Command::new(sb.bin.join("bash"))
                    .arg("-c")
                    .arg(format!("kill -INT {pid}"))
                    .status()
                    .unwrap();
                assert!(st.success());
                sent = true;
            }
        },
    );
    assert!(sent, "the script never reached the hanging command");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    let dest = sb.path().join("unpacked");
    fs::create_dir_all(&dest).unwrap();
    let top = unpack(Path::new(out.stdout.trim_end()), &dest);
    let m = read_json(&top.join("manifest.json"));
    assert_eq!(m["interrupted"], true);
    let sources = m["sources"].as_array().unwrap();
    let find = |p: &str| sources.iter().find(|s| s["path"] == p).unwrap();
    assert_eq!(find("kubectl/daemonsets.json")["error"], "interrupted");
    assert_eq!(
        find("kubectl/deployments.json")["error"],
        "skipped: the collection was interrupted"
    );
    assert!(top.join("kubectl/serviceaccounts.json").is_file());
    assert!(!sleeping(617), "the interrupted command is still running");
}

/// Whether a `sleep SECS` process is still alive (Linux /proc) 10 seconds after the script
/// ended: a killed process takes a moment to go.
fn sleeping(secs: u32) -> bool {
    let want = format!("sleep\0{secs}\0");
    let alive = || {
        fs::read_dir("/proc")
            .map(|d| {
                d.filter_map(Result::ok).any(|e| {
                    fs::read(e.path().join("cmdline"))
                        .map(|c| c == want.as_bytes())
                        .unwrap_or(false)
                })
            })
            .unwrap_or(false)
    };
    for _ in 0..100 {
        if !alive() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// With busybox's tools instead of GNU's (and busybox's timeout, then none): the same bundle.
#[test]
fn a_busybox_userland_collects_the_same() {
    for with_timeout in [true, false] {
        let mut sb = Sandbox::busybox(with_timeout);
        sb.fake_tool("kubectl");
        sb.fake_tool("gcloud");
        sb.rule("kubectl *get daemonsets --all-namespaces -o json*")
            .sleep(if with_timeout { 619 } else { 621 })
            .stdout("{}");
        sb.rule("kubectl *get events --all-namespaces -o json*")
            .stderr("Error from server (Forbidden): events is forbidden\n")
            .exit(1);
        sb.rule("kubectl *get nodes -o json*")
            .bytes(3 * 1024 * 1024);
        replay_cluster(&mut sb, &testdata().join("gke-wi-binding-missing"));
        replay_gcloud(&mut sb, &testdata().join("gke-wi-binding-missing"));
        let c = sb.collect(&[
            "--context",
            GKE_CONTEXT,
            "--timeout",
            "2",
            "--max-bytes",
            "1M",
        ]);
        assert_eq!(c.manifest["mode"], "gke");
        assert_eq!(
            c.source("kubectl/daemonsets.json")["error"],
            "timed out after 2s"
        );
        assert_eq!(
            c.source("kubectl/events.json")["error"],
            "command failed: access denied"
        );
        assert_eq!(c.source("kubectl/nodes.json")["bytes"], 1024 * 1024);
        assert_eq!(c.source("kubectl/nodes.json")["truncated"], true);
        assert_eq!(
            c.json("kubectl/serviceaccounts.json"),
            read_json(&testdata().join("gke-wi-binding-missing/kubectl/serviceaccounts.json"))
        );
        assert!(c.has(
            "gcloud/service-accounts/payments-api@shop-prod-1234.iam.gserviceaccount.com/iam-policy.json"
        ));
        let started = c.source("kubectl/version.json")["started"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(started.parse::<jiff::Timestamp>().is_ok(), "{started}");
        assert!(!sleeping(if with_timeout { 619 } else { 621 }));
        assert_same_findings(&testdata().join("gke-wi-binding-missing"), &c.archive);
    }
}

#[test]
fn huge_outputs_are_bounded_and_logs_keep_their_newest_part() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.rule("kubectl *get pods --all-namespaces -o jsonpath=*")
        .stdout("shop\tapi-7d9\tRunning\tFalse\t\tapi \tapi=0 \n");
    sb.rule("kubectl *logs -n shop api-7d9 -c api *")
        .bytes(3 * 1024 * 1024);
    sb.rule("kubectl *get nodes -o json*")
        .bytes(2 * 1024 * 1024);
    let c = sb.collect(&[
        "--context",
        "dev",
        "--log-bytes",
        "512K",
        "--max-bytes",
        "1M",
        "--since",
        "90m",
    ]);

    let log = c.source("kubectl/logs/shop/api-7d9/api.log");
    assert_eq!(log["truncated"], true);
    assert_eq!(log["bound"]["max_bytes"], 512 * 1024);
    assert_eq!(log["bound"]["keep"], "newest");
    assert_eq!(log["bound"]["since"], "90m");
    let args: Vec<&str> = log["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(args.contains(&"--since=5400s"), "{args:?}");
    assert!(args.contains(&"--timestamps"), "{args:?}");
    let text = c.read("kubectl/logs/shop/api-7d9/api.log");
    assert!(text.len() <= 512 * 1024, "{}", text.len());
    assert!(text.len() > 500 * 1024, "{}", text.len());
    assert!(text.ends_with("the newest line\n"));
    assert!(
        text.lines()
            .all(|l| l == "the newest line" || l.starts_with("0123456789 a fake log")),
        "the cut must fall on a line boundary"
    );
    assert_eq!(log["bytes"].as_u64().unwrap(), text.len() as u64);

    let nodes = c.source("kubectl/nodes.json");
    assert_eq!(nodes["truncated"], true);
    assert_eq!(nodes["bound"]["keep"], "first");
    assert_eq!(nodes["bytes"], 1024 * 1024);
    assert_eq!(
        fs::metadata(c.top.join("kubectl/nodes.json"))
            .unwrap()
            .len(),
        1024 * 1024
    );
    assert_eq!(c.manifest["bounds"]["log_bytes"], 512 * 1024);
    assert_eq!(c.manifest["bounds"]["since"], "90m");
}

/// Logs by priority: pods not Ready, then crash-looping pods of any namespace, then the system
/// pods of kube-system and of the platform; ready pods that never restarted elsewhere get none.
#[test]
fn logs_of_not_ready_crash_looping_and_system_pods_with_previous_runs() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.rule("kubectl *get pods --all-namespaces -o jsonpath=*")
        .stdout(
            "kube-system\tcoredns-1\tRunning\tTrue\t\tcoredns \tcoredns=4 \n\
         gke-managed-cim\tksm-1\tRunning\tTrue\t\tksm \tksm=0 \n\
         kube-system\tetcd-1\tRunning\tTrue\t\tetcd \tetcd=0 \n\
         shop\tapi-1\tPending\tFalse\twait-db \tapi sidecar \twait-db=0 api=2 sidecar=0 \n\
         shop\tweb-1\tRunning\tTrue\t\tweb \tweb=7 \n\
         shop\tweb-2\tRunning\tTrue\t\tweb \tweb=0 \n\
         batch\tjob-1\tSucceeded\tFalse\t\tjob \tjob=0 \n\
         shop\tnew-1\tPending\t\t\tnew \t\n",
        );
    sb.rule("kubectl *logs *")
        .stdout("2026-11-20T10:00:00.000000000Z hello\n");
    let c = sb.collect(&["--context", "dev", "--max-logs", "10"]);
    let logs: Vec<&str> = c
        .sources()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .filter(|p| p.starts_with("kubectl/logs/"))
        .collect();
    assert_eq!(
        logs,
        vec![
            "kubectl/logs/shop/api-1/wait-db.log",
            "kubectl/logs/shop/api-1/api.log",
            "kubectl/logs/shop/api-1/api.previous.log",
            "kubectl/logs/shop/api-1/sidecar.log",
            "kubectl/logs/shop/new-1/new.log",
            "kubectl/logs/kube-system/coredns-1/coredns.log",
            "kubectl/logs/kube-system/coredns-1/coredns.previous.log",
            "kubectl/logs/shop/web-1/web.log",
            "kubectl/logs/shop/web-1/web.previous.log",
            "kubectl/logs/gke-managed-cim/ksm-1/ksm.log",
        ]
    );
    let over = c.source("kubectl/logs");
    assert_eq!(
        over["error"],
        "skipped: 1 more container logs over --max-logs 10"
    );
    let prev = c.source("kubectl/logs/shop/api-1/api.previous.log");
    assert!(
        prev["command"]
            .as_array()
            .unwrap()
            .contains(&json!("--previous"))
    );
    assert_eq!(
        c.read("kubectl/logs/shop/api-1/api.log"),
        "2026-11-20T10:00:00.000000000Z hello\n"
    );
}

#[test]
fn configmaps_of_kube_system_and_istio_namespaces_make_one_list() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.rule("kubectl *get namespaces -o jsonpath=*")
        .stdout("default\nistio-system\nkube-system\nshop\n");
    sb.rule("kubectl *get configmaps -n kube-system -o jsonpath=*").stdout(
        "{\"apiVersion\":\"v1\",\"data\":{\"ClusterConfiguration\":\"kind: ClusterConfiguration\\n\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"kubeadm-config\",\"namespace\":\"kube-system\"}}\n\
         {\"apiVersion\":\"v1\",\"data\":{\"Corefile\":\".:53 {\\n    forward . /etc/resolv.conf\\n}\\n\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"coredns\",\"namespace\":\"kube-system\"}}\n",
    );
    sb.rule("kubectl *get configmaps -n istio-system -o jsonpath=*")
        .stdout("{\"apiVersion\":\"v1\",\"data\":{\"mesh\":\"defaultConfig: {}\\n\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"istio\",\"namespace\":\"istio-system\"}}\n");
    let c = sb.collect(&["--context", "kubernetes-admin@kubernetes"]);
    let list = c.json("kubectl/configmaps.json");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["kubeadm-config", "coredns", "istio"]);
    assert_eq!(c.manifest["mode"], "kubeadm");
    for call in sb.calls() {
        if call.contains(&"configmaps".to_string()) {
            let ns = &call[call.iter().position(|a| a == "-n").unwrap() + 1];
            assert!(ns == "kube-system" || ns == "istio-system", "{call:?}");
        }
    }
}

#[test]
fn dry_run_lists_commands_and_runs_none() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.fake_tool("gcloud");
    sb.rule("kubectl *config view --minify*")
        .stdout(format!("{GKE_CONTEXT}\t{GKE_CONTEXT}\n"));
    let out = sb.run(&["--dry-run", "-o", sb.out.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "get pods --all-namespaces -o json",
        "get serviceaccounts --all-namespaces -o json",
        "logs -n '<namespace>' '<pod>' -c '<container>'",
        "gcloud container clusters describe prod --location=us-central1-a --project=shop-prod-1234",
        "gcloud iam service-accounts get-iam-policy '<gsa-email>'",
        "> kubectl/pods.json",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle} missing:\n{}",
            out.stdout
        );
    }
    let calls = sb.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0][0], "kubectl");
    assert!(calls[0].contains(&"config".to_string()));
    assert_eq!(fs::read_dir(&sb.out).unwrap().count(), 0);

    let out = sb.run(&["--dry-run", "--node", "--node-name", "cp-1"]);
    assert_eq!(out.code, 0);
    for needle in [
        "journalctl -u kubelet",
        "systemctl show",
        "command -v crictl",
        "nodes/cp-1/pki/fingerprints.txt",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle} missing:\n{}",
            out.stdout
        );
    }
    assert_eq!(sb.calls().len(), 1);
}

/// Without kubectl nothing of the cluster side can be collected: one line says so and what to
/// do, no empty bundle is written, and the exit status tells a script.
#[test]
fn without_kubectl_the_collector_says_so_and_exits_3() {
    let sb = Sandbox::new(false);
    let out = sb.run(&["-o", sb.out.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("collect-bundle: kubectl is not installed") && last.contains("--node"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("no bundle written"), "{}", out.stderr);
    assert_eq!(fs::read_dir(&sb.out).unwrap().count(), 0);
    // Every kubectl source after the probe is skipped at once rather than tried.
    assert!(
        out.stderr
            .lines()
            .filter(|l| l.contains("kubectl get"))
            .all(|l| l.contains("skipped (kubectl is not installed")),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Manifest JSON: written without jq, it must stay valid for any bytes a command prints.

#[test]
fn manifest_strings_are_escaped_for_any_bytes() {
    check_escaping(Sandbox::new(true));
}

fn check_escaping(mut sb: Sandbox) {
    sb.fake_tool("kubectl");
    let mut nasty: Vec<u8> = Vec::new();
    nasty
        .extend_from_slice(b"quote \" backslash \\ tab \t cr \r bell \x07 del \x7f esc \x1b[31m\n");
    nasty.extend_from_slice("utf-8 日本語 ok\n".as_bytes());
    nasty.extend_from_slice(b"invalid \xff \xc3( \xe2\x82 \xed\xa0\x80 end\n");
    nasty.extend_from_slice(b"nul \x00 byte\n");
    sb.rule("kubectl *get nodes -o json*")
        .stderr(&nasty)
        .exit(3);
    sb.rule("kubectl *get pods --all-namespaces -o jsonpath=*")
        .stdout("shop\tevil\u{1b}[31m-pod\u{7}\tRunning\tFalse\t\tapi \tapi=0 \n");
    let ctx = "we\"ird\\ctx\u{1}";
    let c = sb.collect(&["--context", ctx]);
    let rec = c.source("kubectl/nodes.json");
    assert_eq!(rec["exit_code"], 3);
    let err = rec["stderr"].as_str().unwrap();
    assert!(
        err.contains("quote \" backslash \\ tab \t cr \r bell \u{7} del \u{7f} esc \u{1b}[31m"),
        "{err:?}"
    );
    assert!(err.contains("utf-8 日本語 ok"), "{err:?}");
    assert!(
        err.contains("invalid \u{fffd} \u{fffd}( \u{fffd}\u{fffd} \u{fffd}\u{fffd}\u{fffd} end"),
        "{err:?}"
    );
    assert!(!err.contains('\0'));
    assert_eq!(c.manifest["cluster"]["context"], ctx);
    assert!(rec["command"].as_array().unwrap().contains(&json!(ctx)));
    // The terminal never sees the raw bytes, and no path holds them.
    assert!(
        c.stderr.contains("logs -n shop 'evil?[31m-pod?'"),
        "{}",
        c.stderr
    );
    assert!(
        !c.stderr.contains('\u{1b}') && !c.stderr.contains('\u{7}'),
        "{:?}",
        c.stderr
    );
    let log = c.source("kubectl/logs/shop/evil__31m-pod_/api.log");
    assert_eq!(log["command"][7], "evil\u{1b}[31m-pod\u{7}");
}

#[test]
fn stderr_is_trimmed_to_its_last_2_kib() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    let mut long = "x".repeat(10_000);
    long.push_str("\nthe last line\n");
    sb.rule("kubectl *get nodes -o json*").stderr(long).exit(1);
    sb.rule("kubectl *get pods --all-namespaces -o json*")
        .stdout("{\"items\": []}\n");
    let c = sb.collect(&["--context", "dev"]);
    let err = c.source("kubectl/nodes.json")["stderr"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.len() <= 2048 + 16, "{}", err.len());
    assert!(err.starts_with("[...] "));
    assert!(err.ends_with("the last line"));
}

// ---------------------------------------------------------------------------------------------
// Redaction

/// Secrets planted in every kind of source are gone from every file of the bundle, counted, and
/// what is not secret survives.
#[test]
fn planted_secrets_never_leave() {
    let mut sb = Sandbox::new(true);
    for t in ["kubectl", "gcloud", "journalctl", "systemctl", "hostname"] {
        sb.fake_tool(t);
    }
    let secrets = planted();
    let jwt =
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJlLXBsYW50ZWQ";
    let pods = json!({"apiVersion": "v1", "kind": "List", "items": [{
    "metadata": {"name": "api-1", "namespace": "shop", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration":
            "{\"spec\":{\"containers\":[{\"env\":[{\"name\":\"STRIPE_API_KEY\",\"value\":\"sk_live_PLANTED01\"}]}]},\"password\":\"PLANTED02\"}"}},
    "spec": {
        "automountServiceAccountToken": true,
        "containers": [{"name": "api", "args": ["--db-password=PLANTED03", "--token", "PLANTED04"],
            "command": ["sh", "-c", "exec /app --password PLANTED24"],
            "env": [
                {"name": "DB_PASSWORD", "value": "PLANTED05"},
                {"name": "AWS_SECRET_ACCESS_KEY", "value": "PLANTED06"},
                {"name": "LOG_LEVEL", "value": "debug-visible"},
                {"name": "GCE_METADATA_HOST", "value": "169.254.169.254"},
                {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}
            ]}],
        "volumes": [{"name": "creds", "secret": {"secretName": "db-creds"}}]
    }}]});
    sb.rule("kubectl *get pods --all-namespaces -o jsonpath=*")
        .stdout("shop\tapi-1\tRunning\tFalse\t\tapi \tapi=0 \n");
    sb.rule("kubectl *get pods --all-namespaces -o json*")
        .stdout(serde_json::to_string_pretty(&pods).unwrap());
    sb.rule("kubectl *logs -n shop api-1 *").stdout(format!(
        "2026-11-20T10:00:00Z GET https://svc:PLANTED07@db.internal/x Authorization: Bearer {jwt}\n\
         2026-11-20T10:00:01Z joined with kubeadm join 10.0.0.1:6443 --token abcdef.planted08planted --discovery-token-ca-cert-hash sha256:0123abcd\n\
         2026-11-20T10:00:02Z config loaded: password=PLANTED09 user=visible-user\n\
         2026-11-20T10:00:03Z fetched ya29.PLANTED10-oauth-token and AIzaSyPLANTED11aaaaaaaaaaaaaaaaaaaaaaaaa\n\
         2026-11-20T10:00:04Z Authorization: Basic cGxhbnRlZDEyOnNlY3JldA==\n\
         2026-11-20T10:00:05Z -----BEGIN RSA PRIVATE KEY-----\n\
         MIIEPLANTED13PrivateKeyBody\n\
         -----END RSA PRIVATE KEY-----\n\
         2026-11-20T10:00:06Z still here\n"
    ));
    sb.rule("kubectl *get configmaps -n kube-system -o jsonpath=*").stdout(format!(
        "{}\n",
        serde_json::to_string(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt", "namespace": "kube-system"},
            "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIPLANTED14CertBody\n-----END CERTIFICATE-----\n",
                     "kubeconfig": "users:\n- name: admin\n  user:\n    token: PLANTED15\n    client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tPLANTED16\n"}}))
        .unwrap()
    ));
    sb.rule("kubectl *get nodes -o json*")
        .stderr(format!(
            "error: You must be logged in (token {jwt} expired)\n"
        ))
        .exit(1);
    sb.rule("gcloud container clusters describe *").stdout(
        serde_json::to_string_pretty(&json!({"name": "prod", "masterAuth": {
            "clusterCaCertificate": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tPLANTED17",
            "password": "PLANTED18", "username": "admin"}, "currentMasterVersion": "1.27.3-gke.100"}))
        .unwrap(),
    );
    sb.rule("gcloud *").stdout("{}\n");
    // Node side: a kubeconfig-holding CNI file, a kubelet config and a journal.
    sb.root_file(
        "etc/cni/net.d/calico-kubeconfig",
        "apiVersion: v1\nkind: Config\nusers:\n- name: calico\n  user:\n    token: \"PLANTED19\"\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tPLANTED20\n",
    );
    // containerd's registry credentials (TOML: spaces around `=`, quoted values).
    sb.root_file(
        "etc/containerd/config.toml",
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"registry.example.com\".auth]\n  username = \"robot\"\n  password = \"PLANTED25\"\n  auth = \"UExBTlRFRDI2\"\n  identitytoken = \"PLANTED27\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"overlayfs\"\n",
    );
    sb.root_file(
        "var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nauthentication:\n  anonymous:\n    enabled: false\nstaticPodPath: /etc/kubernetes/manifests\n",
    );
    sb.root_file(
        "etc/kubernetes/kubeadm-config.yaml",
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nbootstrapTokens:\n- token: \"abcdef.planted21planted\"\n  ttl: 24h0m0s\ncertificateKey: \"PLANTED22\"\n---\nkind: ClusterConfiguration\nclusterName: kubernetes\n",
    );
    sb.rule("journalctl *-u kubelet *").stdout(
        "2026-11-20T10:00:00.000001+0000 cp-1 kubelet[1]: I1120 10:00:00.000001 1 flags.go:1] FLAG: --bootstrap-token=\"PLANTED23\"\n\
         2026-11-20T10:00:00.000002+0000 cp-1 kubelet[1]: I1120 10:00:00.000002 1 server.go:1] Version: v1.28.2\n",
    );
    sb.rule("journalctl *").stdout("-- No entries --\n");
    sb.rule("systemctl *").stdout("");
    let c = sb.collect(&[
        "--context",
        "dev",
        "--node",
        "--also-cluster",
        "--node-name",
        "cp-1",
        "--root",
        sb.root.to_str().unwrap(),
        "--project",
        "shop-prod-1234",
        "--cluster",
        "prod",
        "--location",
        "us-central1",
    ]);

    for (rel, bytes) in c.files() {
        let text = String::from_utf8_lossy(&bytes);
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{s} leaked into {rel}:\n{text}");
        }
        assert!(!text.contains(jwt), "the JWT leaked into {rel}");
        assert!(!text.contains("MIIE"), "key material leaked into {rel}");
    }

    // Redaction kept every JSON file valid (a --password inside `sh -c "..."` used to eat the
    // closing quote), and containerd's TOML valid with its other settings.
    for (rel, bytes) in c.files() {
        if rel.ends_with(".json") {
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|e| panic!("{rel} is no longer JSON: {e}"));
        }
    }
    assert_eq!(
        c.json("kubectl/pods.json")["items"][0]["spec"]["containers"][0]["command"][2],
        "exec /app --password [REDACTED]"
    );
    let toml = c.read("nodes/cp-1/runtime/containerd-config.toml");
    for kept in [
        "  password = \"[REDACTED]\"",
        "  auth = \"[REDACTED]\"",
        "  identitytoken = \"[REDACTED]\"",
        "  username = \"robot\"",
        "  snapshotter = \"overlayfs\"",
    ] {
        assert!(toml.contains(kept), "{kept} missing:\n{toml}");
    }
    assert_eq!(
        c.source("nodes/cp-1/runtime/containerd-config.toml")["redactions"],
        3
    );
    let p = c.read("kubectl/pods.json");
    for kept in [
        "debug-visible",
        "169.254.169.254",
        "\"automountServiceAccountToken\": true",
        "\"secretName\": \"db-creds\"",
        "\"name\": \"DB_PASSWORD\"",
    ] {
        assert!(p.contains(kept), "{kept} must survive:\n{p}");
    }
    assert!(
        c.source("kubectl/pods.json")["redactions"]
            .as_u64()
            .unwrap()
            >= 6
    );
    let log = c.read("kubectl/logs/shop/api-1/api.log");
    for kept in [
        "visible-user",
        "--discovery-token-ca-cert-hash sha256:0123abcd",
        "abcdef.[REDACTED]",
        "still here",
        "https://svc:[REDACTED]@db.internal/x",
    ] {
        assert!(log.contains(kept), "{kept} must survive:\n{log}");
    }
    assert!(
        c.source("kubectl/logs/shop/api-1/api.log")["redactions"]
            .as_u64()
            .unwrap()
            >= 7
    );
    assert!(
        c.source("kubectl/nodes.json")["redactions"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        c.source("kubectl/nodes.json")["stderr"]
            .as_str()
            .unwrap()
            .contains("You must be logged in")
    );
    assert!(c.read("gcloud/cluster.json").contains("1.27.3-gke.100"));
    assert!(
        c.read("gcloud/cluster.json")
            .contains("\"username\": \"admin\"")
    );
    assert!(
        c.source("nodes/cp-1/cni/calico-kubeconfig")["redactions"]
            .as_u64()
            .unwrap()
            >= 2
    );
    assert!(
        c.read("nodes/cp-1/kubelet/config.yaml")
            .contains("enabled: false")
    );
    assert_eq!(c.source("nodes/cp-1/kubelet/config.yaml")["redactions"], 0);
    assert!(
        c.read("nodes/cp-1/kubeadm/config.yaml")
            .contains("clusterName: kubernetes")
    );
}

/// The strings planted by `planted_secrets_never_leave` that must not survive anywhere.
fn planted() -> Vec<String> {
    let mut v: Vec<String> = (1..=27)
        .filter(|n| ![8, 21, 26].contains(n))
        .map(|n| format!("PLANTED{n:02}"))
        .collect();
    v.push("planted08planted".into());
    v.push("planted21planted".into());
    v.push("cGxhbnRlZDEyOnNlY3JldA".into());
    v.push("UExBTlRFRDI2".into());
    v
}

/// `--redact` applies the bundle's redaction to a file a person adds by hand.
#[test]
fn redact_option_rules() {
    check_redaction(&Sandbox::new(true));
}

/// The script's awk programs (redaction, JSON escaping, filters) give the same results with the
/// awks customers have: gawk, mawk, the one true awk of macOS and the BSDs, and busybox.
#[test]
fn every_awk_gives_the_same_results() {
    for (name, argv) in [
        ("gawk", &["gawk"][..]),
        ("mawk", &["mawk"][..]),
        ("original-awk", &["original-awk"][..]),
        ("busybox", &["busybox", "awk"][..]),
    ] {
        let prog = which(argv[0]).unwrap_or_else(|| {
            panic!("{name} is needed for this test: bash .ci/install-test-tools installs it")
        });
        let make = || {
            let sb = Sandbox::new(true);
            sb.use_awk(&prog, &argv[1..]);
            sb
        };
        check_redaction(&make());
        check_escaping(make());
    }
}

fn check_redaction(sb: &Sandbox) {
    let cases: &[(&str, &str)] = &[
        ("password: hunter2", "password: \"[REDACTED]\""),
        (
            "  client-key-data: QUJD",
            "  client-key-data: \"[REDACTED]\"",
        ),
        ("    token: 'abc'", "    token: '[REDACTED]'"),
        ("enabled: true", "enabled: true"),
        (
            "automountServiceAccountToken: false",
            "automountServiceAccountToken: false",
        ),
        ("\"apiKey\": \"k-123\",", "\"apiKey\": \"[REDACTED]\","),
        ("\"secretName\": \"db\"", "\"secretName\": \"db\""),
        ("\"token\": \"a\\\"b\"", "\"token\": \"[REDACTED]\""),
        ("\"token\": \"\"", "\"token\": \"\""),
        ("export DB_PASSWORD=s3cr3t", "export DB_PASSWORD=[REDACTED]"),
        (
            "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5",
            "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5",
        ),
        (
            "--enable-bootstrap-token-auth=true",
            "--enable-bootstrap-token-auth=true",
        ),
        (
            "kubeadm join --token abcdef.0123456789abcdef --certificate-key 0011aa",
            "kubeadm join --token abcdef.[REDACTED] --certificate-key [REDACTED]",
        ),
        (
            "curl -H 'Authorization: Bearer abc.def-ghi'",
            "curl -H 'Authorization: Bearer [REDACTED]'",
        ),
        (
            "git clone https://user:pw@example.com/r.git",
            "git clone https://user:[REDACTED]@example.com/r.git",
        ),
        ("https://example.com/a@b", "https://example.com/a@b"),
        (
            "x509: certificate signed by unknown authority",
            "x509: certificate signed by unknown authority",
        ),
        (
            "I1120 server.go:1] Using cgroup driver setting received from the CRI runtime",
            "I1120 server.go:1] Using cgroup driver setting received from the CRI runtime",
        ),
        (
            "{\"name\":\"GITHUB_TOKEN\",\"value\":\"ghp_x\"}",
            "{\"name\":\"GITHUB_TOKEN\",\"value\":\"[REDACTED]\"}",
        ),
        (
            "{\"name\":\"REGION\",\"value\":\"eu\"}",
            "{\"name\":\"REGION\",\"value\":\"eu\"}",
        ),
        (
            "key: -----BEGIN EC PRIVATE KEY-----\\nAAAA\\n-----END EC PRIVATE KEY-----\\n",
            "key: '[REDACTED PRIVATE KEY]\\n'",
        ),
        (
            "Normal  Pulled  kubelet  Successfully pulled image",
            "Normal  Pulled  kubelet  Successfully pulled image",
        ),
        // containerd's config.toml: registry credentials, spaces around `=`, quotes kept.
        (
            "          password = \"regpass1\"",
            "          password = \"[REDACTED]\"",
        ),
        (
            "          auth = \"dXNlcjpyZWdwYXNzMg==\"",
            "          auth = \"[REDACTED]\"",
        ),
        (
            "          identitytoken = \"idtok3\"",
            "          identitytoken = \"[REDACTED]\"",
        ),
        (
            "        [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"gcr.io\".auth]",
            "        [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"gcr.io\".auth]",
        ),
        // An empty user name before the password.
        (
            "REDIS_URL=redis://:redispw4@redis.shop:6379/0",
            "REDIS_URL=redis://:[REDACTED]@redis.shop:6379/0",
        ),
        // Secrets in the middle of a log line.
        (
            "2026-11-20T10:00:00Z connecting as app with password: hunter5 to db",
            "2026-11-20T10:00:00Z connecting as app with password: [REDACTED] to db",
        ),
        (
            "2026-11-20T10:00:00Z GET /v1 X-Api-Key: apikey6 status=200",
            "2026-11-20T10:00:00Z GET /v1 X-Api-Key: [REDACTED] status=200",
        ),
        // Well-known token shapes, whatever their key.
        (
            "clone with ghp_0123456789abcdefghijABCDEFGHIJ012345 or github_pat_11ABCDEFG0_0123456789abcdefghijklmnopq",
            "clone with [REDACTED GITHUB TOKEN] or [REDACTED GITHUB TOKEN]",
        ),
        (
            "aws AKIAIOSFODNN7EXAMPLE slack xoxb-123456789012-abcdefghijkl stripe sk_live_0123456789abcdef",
            "aws [REDACTED AWS KEY ID] slack [REDACTED SLACK TOKEN] stripe [REDACTED STRIPE KEY]",
        ),
        (
            "notify https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "notify https://hooks.slack.com/services/[REDACTED]",
        ),
        (
            "SENTRY_DSN=https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42",
            "SENTRY_DSN=https://[REDACTED]@o1.ingest.sentry.io/42",
        ),
        (
            "sent eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
            "sent [REDACTED JWT]",
        ),
        // Two private keys on one line: each ends at its own END, what is between stays.
        (
            "a: -----BEGIN PRIVATE KEY-----AAAA-----END PRIVATE KEY----- kept -----BEGIN RSA PRIVATE KEY-----BBBB-----END RSA PRIVATE KEY----- b",
            "a: '[REDACTED PRIVATE KEY] kept [REDACTED PRIVATE KEY] b'",
        ),
        // A timestamp with 403 in it is not an access problem, nor a secret.
        (
            "E1120 10:40:03.403000 reflector.go:1] connection reset by peer",
            "E1120 10:40:03.403000 reflector.go:1] connection reset by peer",
        ),
        // Secret names in other cases and with other separators.
        ("clientSecret: cs-1", "clientSecret: \"[REDACTED]\""),
        ("DB-PASSWORD=dbpw-2", "DB-PASSWORD=[REDACTED]"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG",
            "aws_secret_access_key = [REDACTED]",
        ),
        (
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "aws_access_key_id = [REDACTED AWS KEY ID]",
        ),
        ("export REDIS_PASS=rp-3", "export REDIS_PASS=[REDACTED]"),
        ("DB_PWD=pwd-4", "DB_PWD=[REDACTED]"),
        ("PWD=/root", "PWD=/root"),
        (
            "slack xoxp-1234567890-abcdefghij",
            "slack [REDACTED SLACK TOKEN]",
        ),
        // A password that is a number is still the password; a TOML number stays valid.
        ("DB_PASSWORD=123456", "DB_PASSWORD=\"[REDACTED]\""),
        ("  password = 434343", "  password = \"[REDACTED]\""),
        (
            "{\"password\": \"484848\"}",
            "{\"password\": \"[REDACTED]\"}",
        ),
        ("PASSWORD_MIN_LENGTH=8", "PASSWORD_MIN_LENGTH=8"),
        ("TOKEN_TTL=3600", "TOKEN_TTL=3600"),
        ("usePassword: false", "usePassword: false"),
        // The kubelet's flags in its journal.
        (
            "Dec 07 10:00:00 cp-1 kubelet[812]: I1207 flags.go:64] FLAG: --token=\"kt-5\"",
            "Dec 07 10:00:00 cp-1 kubelet[812]: I1207 flags.go:64] FLAG: --token=\"[REDACTED]\"",
        ),
        (
            "GET /metrics Proxy-Authorization: Basic dXNlcjpwYXNz",
            "GET /metrics Proxy-Authorization: Basic [REDACTED]",
        ),
        // Connection strings.
        (
            "DATABASE_URL=postgres://app:pgpw-6@db:5432/shop",
            "DATABASE_URL=postgres://app:[REDACTED]@db:5432/shop",
        ),
        (
            "mongodb+srv://admin:mongopw-7@c0.mongodb.net/test?retryWrites=true",
            "mongodb+srv://admin:[REDACTED]@c0.mongodb.net/test?retryWrites=true",
        ),
        (
            "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=jdbcpw-8;encrypt=true",
            "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=[REDACTED];encrypt=true",
        ),
        (
            "jdbc:mysql://db:3306/app?user=root&password=jdbcpw-9&useSSL=false",
            "jdbc:mysql://db:3306/app?user=root&password=[REDACTED]&useSSL=false",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=az+Key/10==;EndpointSuffix=core.windows.net",
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED];EndpointSuffix=core.windows.net",
        ),
        (
            "GET https://acct.blob.core.windows.net/c/b?sv=2021-06-08&sr=b&sig=abc%2Bdef11%3D 200",
            "GET https://acct.blob.core.windows.net/c/b?sv=2021-06-08&sr=b&sig=[REDACTED] 200",
        ),
        (
            "s3 ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123abcdef12&X-Amz-Date=1",
            "s3 ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=[REDACTED]&X-Amz-Date=1",
        ),
        // A docker config.json, as the base64 data of a .dockerconfigjson.
        (
            "  .dockerconfigjson: eyJhdXRocyI6eyJyLmlvIjp7ImF1dGgiOiJkWE5sY2pwd1lYTnoifX19",
            "  .dockerconfigjson: '[REDACTED BASE64 DOCKER CONFIG]'",
        ),
        (
            "  config: ewoJImF1dGhzIjogewoJCSJyLmlvIjogewoJCQkiYXV0aCI6ICJkWE5sY2pwd1lYTnoiCgkJfQoJfQp9",
            "  config: '[REDACTED BASE64 DOCKER CONFIG]'",
        ),
        // Kubernetes data that only looks secret is kept.
        (
            "tokenExpirationSeconds: 3600",
            "tokenExpirationSeconds: 3600",
        ),
        (
            "automountServiceAccountToken: true",
            "automountServiceAccountToken: true",
        ),
        ("    - serviceAccountToken:", "    - serviceAccountToken:"),
        ("        path: token", "        path: token"),
        ("      secretName: db-creds", "      secretName: db-creds"),
        ("  passwordSecretRef:", "  passwordSecretRef:"),
        ("    name: db-pw", "    name: db-pw"),
        (
            "Warning FailedMount kubelet MountVolume.SetUp failed: failed to fetch token: the server was unable",
            "Warning FailedMount kubelet MountVolume.SetUp failed: failed to fetch token: the server was unable",
        ),
        (
            "design review: SIGTERM signal",
            "design review: SIGTERM signal",
        ),
        // JSON held in a text line (a structured log, a YAML value): its escaped quotes stay.
        (
            r#"{"msg":"FLAG: --token=\"kt-13\"","b":"--password \"pw-14\" next"}"#,
            r#"{"msg":"FLAG: --token=\"[REDACTED]\"","b":"--password \"[REDACTED]\" next"}"#,
        ),
        (
            r#"{"msg":"config:\n  auth = \"au-15\"\n  user = \"u\""}"#,
            r#"{"msg":"config:\n  auth = \"[REDACTED]\"\n  user = \"u\""}"#,
        ),
        (
            r#"pod {"name":"GITHUB_PAT","value":"gp-16"},{"name":"STRIPE_SK","value":"ss-17"},{"name":"PATH","value":"/bin"}"#,
            r#"pod {"name":"GITHUB_PAT","value":"[REDACTED]"},{"name":"STRIPE_SK","value":"[REDACTED]"},{"name":"PATH","value":"/bin"}"#,
        ),
        // A number redacted inside a string gets no quotes of its own; "token: x" as a value.
        (
            r#"{"mode":"DB_PASSWORD=978812461397","note":"token: tk-18"}"#,
            r#"{"mode":"DB_PASSWORD=[REDACTED]","note":"token: [REDACTED]"}"#,
        ),
        // A lone certificate in a string ends with the string, not at a later key's END.
        (
            r#"x '{"a":"-----BEGIN CERTIFICATE-----\nMIICzz1\n","b":"visible1","c":"-----BEGIN PRIVATE KEY-----zz2-----END PRIVATE KEY----- and -----BEGIN PRIVATE KEY-----zz3-----END PRIVATE KEY-----"}'"#,
            r#"x '{"a":"[REDACTED CERTIFICATE]","b":"visible1","c":"[REDACTED PRIVATE KEY] and [REDACTED PRIVATE KEY]"}'"#,
        ),
        // A string in a string: its escaped quotes stay paired.
        (
            r#"m: '{"a":"{\"Password\":\"x\\\"S384\\\\y\",\"b\":\"ok\"}","r":"{\"r\":\"FLAG: --token=\\\"Sq386\\\" x\"}"}'"#,
            r#"m: '{"a":"{\"Password\":\"[REDACTED]\",\"b\":\"ok\"}","r":"{\"r\":\"FLAG: --token=[REDACTED] x\"}"}'"#,
        ),
    ];
    let input: String = cases.iter().map(|(i, _)| format!("{i}\n")).collect();
    let f = sb.path().join("captured.txt");
    fs::write(&f, &input).unwrap();
    let out = sb.run(&["--redact", f.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(got.len(), cases.len(), "{}", out.stdout);
    for ((input, want), got) in cases.iter().zip(got) {
        assert_eq!(got, *want, "redacting {input:?}");
    }
    let want: usize = cases
        .iter()
        .map(|(_, w)| w.matches("[REDACTED").count())
        .sum();
    assert!(
        out.stderr.contains(&format!("{want} redactions")),
        "{want} redactions expected: {}",
        out.stderr
    );

    // A PEM block over several lines is dropped whole; one that never ends takes its PEM
    // lines only, not the rest of the file.
    fs::write(
        &f,
        "before\n-----BEGIN PRIVATE KEY-----\nAAAA\nBBBB\n-----END PRIVATE KEY-----\nafter\n-----BEGIN CERTIFICATE-----\nCCCC\nDDDD\nthe rest of the file\n2026-11-20T10:00:00Z still here\n",
    )
    .unwrap();
    let out = sb.run(&["--redact", f.to_str().unwrap()]);
    assert_eq!(
        out.stdout,
        "before\n[REDACTED PRIVATE KEY]\nafter\n[REDACTED CERTIFICATE]\nthe rest of the file\n2026-11-20T10:00:00Z still here\n"
    );

    // Private keys of every PEM type, each dropped whole; certificates too.
    let pem: String = PEM_PRIVATE_KEYS
        .iter()
        .chain(&["PGP PRIVATE KEY BLOCK"])
        .map(|t| {
            format!("kept\n-----BEGIN {t}-----\nPEMBODY0abc+/\nPEMBODY1==\n-----END {t}-----\n")
        })
        .collect();
    fs::write(
        &f,
        format!("{pem}  ssh-key: -----BEGIN OPENSSH PRIVATE KEY-----b3BlbnNzaC1rZXk-----END OPENSSH PRIVATE KEY-----\nend\n"),
    )
    .unwrap();
    let out = sb.run(&["--redact", f.to_str().unwrap()]);
    assert!(!out.stdout.contains("PEMBODY"), "{}", out.stdout);
    assert!(!out.stdout.contains("b3BlbnNzaC1rZXk"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("[REDACTED PRIVATE KEY]").count(), 8);
    assert_eq!(out.stdout.matches("kept\n").count(), 7);
    assert!(out.stdout.ends_with("end\n"), "{}", out.stdout);

    // A block scalar whose certificate never ends: the next key ends it, whatever its value.
    fs::write(
        &f,
        "  name: |\n    -----BEGIN CERTIFICATE-----\n    MIICzz6\n  secretName: dockerconfig eyJhdXRocyI6eyJyLmlvIjp7ImF1dGgiOiJTcTczMVp4azBSMFJ0In19fQ==\n  note: '-----BEGIN PRIVATE KEY-----zz7-----END PRIVATE KEY----- kept'\n  reason: visible\n",
    )
    .unwrap();
    let out = sb.run(&["--redact", f.to_str().unwrap()]);
    assert_eq!(
        out.stdout,
        "  name: |\n    [REDACTED CERTIFICATE]\n  secretName: dockerconfig [REDACTED BASE64 DOCKER CONFIG]\n  note: '[REDACTED PRIVATE KEY] kept'\n  reason: visible\n"
    );

    // YAML block scalars under a secret key, and secret flags whose value is the next item.
    fs::write(
        &f,
        "user:\n  token: |\n    line-one\n    line-two\n  name: kept\nargs:\n- --token\n- flagvalue\n- --v=2\n\"args\": [\n    \"--password\",\n    \"jsonvalue\",\n    \"--verbose\"\n]\n",
    )
    .unwrap();
    let out = sb.run(&["--redact", f.to_str().unwrap()]);
    assert_eq!(
        out.stdout,
        "user:\n  token: |\n    [REDACTED]\n  name: kept\nargs:\n- --token\n- \"[REDACTED]\"\n- --v=2\n\"args\": [\n    \"--password\",\n    \"[REDACTED]\",\n    \"--verbose\"\n]\n"
    );
    assert!(out.stderr.contains("3 redactions"), "{}", out.stderr);

    check_json_redaction(sb);
}

/// The data of a `.dockerconfigjson`: `{"auths":{"r.io":{"auth":"dXNlcjpwYXNz"}}}` in base64.
const DOCKERCFG: &str = "eyJhdXRocyI6eyJyLmlvIjp7ImF1dGgiOiJkWE5sY2pwd1lYTnoifX19";

/// JSON is redacted inside its strings only: every leak and corruption seen in collected
/// bundles, as kubectl prints the objects (pretty, and one object a line).
fn check_json_redaction(sb: &Sandbox) {
    let last_applied = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [{"name": "app",
            "args": ["--client-secret", "CLIENTSECRET01", "--x-password=XPASSWORD02", "--v=2"],
            "command": ["sh", "-c", "exec /app --password $(DB_PASS) --user app"],
            "env": [{"name": "STRIPE_SK", "value": "STRIPESK03"},
                    {"name": "GITHUB_PAT", "value": "GITHUBPAT04"},
                    {"name": "LOG_LEVEL", "value": "info"}]}]}}}})
    .to_string();
    let doc = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "api", "namespace": "shop", "annotations": {
             "kubectl.kubernetes.io/last-applied-configuration": last_applied}},
         "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "api",
             "command": ["sh", "-c", "exec /app --password $(DB_PASS)"],
             "args": ["--token", "TOKEN05", "--v=2"],
             "env": [{"name": "DB_PASSWORD", "value": "DBPASSWORD06"},
                     {"name": "AUTH_ENABLED", "value": "true"},
                     {"name": "PORT", "value": "8080"},
                     {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                     {"name": "DB_PASS", "value": "918273"},
                     {"name": "AUTH_TIMEOUT", "value": "30"},
                     {"name": "AZURE_STORAGE", "value": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=ACCOUNTKEY15==;EndpointSuffix=core.windows.net"}]}],
             "automountServiceAccountToken": true,
             "volumes": [
                 {"name": "vault-token", "projected": {"sources": [{"serviceAccountToken":
                     {"audience": "vault", "expirationSeconds": 3607, "path": "token"}}]}},
                 {"name": "creds", "secret": {"secretName": "db-creds"}}]}}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "shop"},
         "data": {
             "two-keys": "-----BEGIN PRIVATE KEY-----\nKEYONE07\n-----END PRIVATE KEY-----\nbetween-kept\n-----BEGIN EC PRIVATE KEY-----\nKEYTWO08\n-----END EC PRIVATE KEY-----\n",
             "lone-cert": "-----BEGIN CERTIFICATE-----\nMIICERT09",
             "after-cert": "still here",
             "settings": "password: PASSWORD10\nuser: app",
             "one-line": "token: TOKEN11",
             "redis": "redis://:REDISPW12@redis:6379",
             "unicode": "caf\u{e9} \u{2603} \u{1} tab\t quote\" backslash\\",
             "config.json": "{\"auths\": {\"gcr.io\": {\"auth\": \"AUTH13\"}}, \"credsStore\": \"\"}",
             "clientSecret": "CLIENTSECRET16",
             "DB-PASSWORD": "DBPASSWORD17",
             "aws_secret_access_key": "AWSSECRET18",
             ".dockerconfigjson": DOCKERCFG,
             "ssh": "-----BEGIN OPENSSH PRIVATE KEY-----\nOPENSSH19\n-----END OPENSSH PRIVATE KEY-----\n",
             "enc": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nENCRYPTED20\n-----END ENCRYPTED PRIVATE KEY-----",
             "app.properties": "spring.datasource.url=jdbc:postgresql://db/x?user=u&password=JDBCPW21\nmongo=mongodb+srv://admin:MONGOPW22@c0.mongodb.net/t\npg=postgres://user:PGPW23@db/x\nlevel=info"}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "Alertmanager", "spec": {
            "tokenExpirationSeconds": 600,
            "passwordSecretRef": {"name": "am-pw", "key": "password"}}},
        {"kind": "Event", "message": "Back-off pulling image \"r/a:1\": token=TOKEN14 x",
         "count": 3, "ok": true, "none": null},
        {"kind": "Event", "message": "GET /v1 Authorization: Bearer BEARER24 failed: secret \"db-creds\" not found",
         "reason": "FailedMount"}]});
    let forbidden = [
        "CLIENTSECRET01",
        "XPASSWORD02",
        "STRIPESK03",
        "GITHUBPAT04",
        "TOKEN05",
        "DBPASSWORD06",
        "KEYONE07",
        "KEYTWO08",
        "MIICERT09",
        "PASSWORD10",
        "TOKEN11",
        "REDISPW12",
        "AUTH13",
        "TOKEN14",
        "918273",
        "ACCOUNTKEY15",
        "CLIENTSECRET16",
        "DBPASSWORD17",
        "AWSSECRET18",
        DOCKERCFG,
        "OPENSSH19",
        "ENCRYPTED20",
        "JDBCPW21",
        "MONGOPW22",
        "PGPW23",
        "BEARER24",
    ];
    let f = sb.path().join("objects.json");
    let pretty = serde_json::to_string_pretty(&doc).unwrap();
    let lines: String = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{i}\n"))
        .collect();
    for (what, input) in [("pretty", pretty), ("one a line", lines)] {
        fs::write(&f, &input).unwrap();
        let out = sb.run(&["--redact", f.to_str().unwrap()]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let docs: Vec<Value> = if what == "pretty" {
            vec![serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
                panic!("redacted JSON ({what}) does not parse: {e}\n{}", out.stdout)
            })]
        } else {
            out.stdout
                .lines()
                .map(|l| {
                    serde_json::from_str(l)
                        .unwrap_or_else(|e| panic!("redacted line does not parse: {e}\n{l}"))
                })
                .collect()
        };
        let red = if what == "pretty" {
            docs[0].clone()
        } else {
            json!({"apiVersion": "v1", "kind": "List", "items": docs})
        };
        for s in forbidden {
            assert!(
                !out.stdout.contains(s),
                "{s} leaked ({what}):\n{}",
                out.stdout
            );
        }
        assert_same_shape(&doc, &red, "$");
        let la: Value = serde_json::from_str(
            red["items"][0]["metadata"]["annotations"]
                ["kubectl.kubernetes.io/last-applied-configuration"]
                .as_str()
                .unwrap(),
        )
        .expect("last-applied stays JSON");
        assert_same_shape(
            &serde_json::from_str(&last_applied).unwrap(),
            &la,
            "last-applied",
        );
        let c = &la["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["args"][0], "--client-secret");
        assert_eq!(c["args"][2], "--x-password=[REDACTED]");
        assert_eq!(c["env"][2]["value"], "info");
        let api = &red["items"][0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(api["command"][2], "exec /app --password [REDACTED]");
        assert_eq!(api["args"], json!(["--token", "[REDACTED]", "--v=2"]));
        assert_eq!(api["env"][1]["value"], "true");
        assert_eq!(api["env"][2]["value"], "8080");
        assert_eq!(
            api["env"][3]["valueFrom"]["secretKeyRef"]["key"],
            "password"
        );
        let data = &red["items"][1]["data"];
        assert_eq!(
            data["two-keys"],
            "[REDACTED PRIVATE KEY]\nbetween-kept\n[REDACTED PRIVATE KEY]\n"
        );
        assert_eq!(data["lone-cert"], "[REDACTED CERTIFICATE]");
        assert_eq!(data["after-cert"], "still here");
        assert_eq!(data["settings"], "password: \"[REDACTED]\"\nuser: app");
        assert_eq!(data["unicode"], doc["items"][1]["data"]["unicode"]);
        let cfg: Value = serde_json::from_str(data["config.json"].as_str().unwrap()).unwrap();
        assert_eq!(cfg["auths"]["gcr.io"]["auth"], "[REDACTED]");
        assert_eq!(data["ssh"], "[REDACTED PRIVATE KEY]\n");
        assert_eq!(data["enc"], "[REDACTED PRIVATE KEY]");
        assert_eq!(
            data["app.properties"],
            "spring.datasource.url=jdbc:postgresql://db/x?user=u&password=[REDACTED]\nmongo=mongodb+srv://admin:[REDACTED]@c0.mongodb.net/t\npg=postgres://user:[REDACTED]@db/x\nlevel=info"
        );
        assert_eq!(api["env"][4]["value"], "[REDACTED]");
        assert_eq!(api["env"][5]["value"], "30");
        let pod = &red["items"][0]["spec"]["template"]["spec"];
        assert_eq!(pod["automountServiceAccountToken"], true);
        assert_eq!(
            pod["volumes"],
            doc["items"][0]["spec"]["template"]["spec"]["volumes"]
        );
        assert_eq!(red["items"][2], doc["items"][2]);
        assert_eq!(red["items"][3]["count"], 3);
        assert_eq!(red["items"][3]["none"], Value::Null);
        assert_eq!(
            red["items"][4]["message"],
            "GET /v1 Authorization: Bearer [REDACTED] failed: secret \"db-creds\" not found"
        );
        // Each planted secret once, and both `$(DB_PASS)` references after --password.
        assert!(
            out.stderr
                .contains(&format!("{} redactions", forbidden.len() + 2)),
            "{what}: {}",
            out.stderr
        );
    }
}

/// The same keys, array lengths and value types: a redaction changes strings only.
fn assert_same_shape(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "keys at {at}"
            );
            for (k, v) in x {
                assert_same_shape(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length at {at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same_shape(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::String(_), Value::String(_)) => {}
        _ => assert_eq!(a, b, "at {at}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Node side

#[test]
fn node_side_collects_the_bundle_layout() {
    let mut sb = Sandbox::new(true);
    for t in [
        "journalctl",
        "systemctl",
        "docker",
        "crictl",
        "rpm",
        "hostname",
        "ip",
        "conntrack",
        "iptables",
        "mount",
        "nsenter",
        "tc",
        "touch",
    ] {
        sb.fake_tool(t);
    }
    let has_openssl = sb.real_tool("openssl");
    assert!(has_openssl, "the tests need openssl to make a certificate");

    // journalctl of systemd < 234 rejects short-iso-precise.
    sb.rule("journalctl -u kubelet -o short-iso-precise *")
        .stderr("Unknown output format 'short-iso-precise'.\n")
        .exit(1);
    sb.rule("journalctl -u kubelet -o short-iso *").stdout(
        "2026-11-20T09:30:00+0000 cp-1 kubelet[4759]: F1120 09:30:00.511159    4759 server.go:274] failed to run Kubelet: misconfiguration: kubelet cgroup driver: \"cgroupfs\" is different from docker cgroup driver: \"systemd\"\n",
    );
    sb.rule("journalctl *").stdout("-- No entries --\n");
    sb.rule("docker info *")
        .stdout("{\"CgroupDriver\":\"systemd\",\"ServerVersion\":\"1.13.1\"}\n");
    sb.rule("docker version*")
        .stdout("Client:\n Version:         1.13.1\n");
    sb.rule("containerd --version*")
        .stdout("containerd github.com/containerd/containerd 1.6.21\n");
    sb.rule("crictl ps -a*").stdout("CONTAINER  IMAGE  CREATED  STATE  NAME  ATTEMPT  POD ID  POD\n0a1b2c  sha256:11  1 min ago  Exited  etcd  5  9f8e  etcd-cp-1\n");
    sb.rule("rpm -qa *").stdout(
        "bash-4.2.46-34.el7.x86_64\ndocker-1.13.1-84.git07f3374.el7.centos.x86_64\ndocker-client-1.13.1-84.git07f3374.el7.centos.x86_64\nkubelet-1.17.3-0.x86_64\nkubeadm-1.17.3-0.x86_64\nopenssl-1.0.2k-19.el7.x86_64\n",
    );
    sb.rule("systemctl cat kubelet.service*").stdout(
        "# /usr/lib/systemd/system/kubelet.service\n[Service]\nExecStart=/usr/bin/kubelet\n",
    );
    sb.rule("systemctl cat docker.service*")
        .stdout("[Service]\nMountFlags=slave\n");
    sb.rule("systemctl cat *")
        .stderr("No files found for containerd.service.\n")
        .exit(1);
    sb.rule("systemctl show *").stdout(
        "Id=kubelet.service\nActiveState=activating\n\nId=docker.service\nActiveState=active\n\nActiveState=inactive\nId=containerd.service\n",
    );
    sb.rule("hostname -i*").stdout("127.0.1.1\n");
    sb.rule("ip addr show*").stdout(
        "2: eth0: <BROADCAST,MULTICAST,UP> mtu 1500\n    inet 10.0.2.15/24 scope global eth0\n",
    );

    sb.root_file(
        "etc/os-release",
        "NAME=\"CentOS Linux\"\nID=\"centos\"\nVERSION_ID=\"7\"\n",
    );
    sb.root_file(
        "proc/mounts",
        "/dev/sda1 / xfs rw 0 0\n/dev/sda2 /usr ext4 ro 0 0\n",
    );
    sb.root_file("etc/resolv.conf", "nameserver 127.0.0.53\n");
    // containerd's registry credentials (TOML: spaces around `=`, quoted values).
    sb.root_file(
        "etc/containerd/config.toml",
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"registry.example.com\".auth]\n  username = \"robot\"\n  password = \"PLANTED25\"\n  auth = \"UExBTlRFRDI2\"\n  identitytoken = \"PLANTED27\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"overlayfs\"\n",
    );
    sb.root_file(
        "var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
    );
    sb.root_file(
        "var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--network-plugin=cni\"\n",
    );
    sb.root_file("etc/containerd/config.toml", "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n");
    sb.root_file(
        "etc/cni/net.d/10-flannel.conflist",
        "{\"name\": \"cbr0\", \"plugins\": [{\"type\": \"flannel\"}, {\"type\": \"portmap\"}]}\n",
    );
    sb.root_file("etc/kubernetes/kubeadm-config.yaml", "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\netcd:\n  external:\n    endpoints: [\"https://10.0.0.9:2379\"]\n");
    sb.root_file("etc/kubernetes/manifests/kube-controller-manager.yaml", "spec:\n  containers:\n  - command:\n    - kube-controller-manager\n    - --flex-volume-plugin-dir=/usr/libexec/kubernetes/kubelet-plugins/volume/exec/\n");

    // A real CA and key, and a kubeconfig that embeds the CA and a client key.
    let pki = sb.root.join("etc/kubernetes/pki");
    fs::create_dir_all(&pki).unwrap();
    let st = Command::new(which("openssl").unwrap())
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=kubernetes",
        ])
        .arg("-keyout")
        .arg(pki.join("ca.key"))
        .arg("-out")
        .arg(pki.join("ca.crt"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let ca_pem = fs::read(pki.join("ca.crt")).unwrap();
    let key_pem = fs::read_to_string(pki.join("ca.key")).unwrap();
    let b64 = |b: &[u8]| -> String {
        let out = Command::new(which("base64").unwrap())
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(b)?;
                c.wait_with_output()
            })
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    sb.root_file(
        "etc/kubernetes/admin.conf",
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://10.0.0.1:6443\n  name: kubernetes\nusers:\n- name: kubernetes-admin\n  user:\n    client-key-data: {}\n",
            b64(&ca_pem),
            b64(key_pem.as_bytes())
        ),
    );
    let expected_fp = der_sha256(&pki.join("ca.crt"));

    let c = sb.collect(&[
        "--node",
        "--node-name",
        "CP-1",
        "--root",
        sb.root.to_str().unwrap(),
        "--since",
        "2d",
    ]);
    let n = "nodes/cp-1";
    assert_eq!(c.manifest["mode"], "kubeadm");
    assert_eq!(c.manifest["node"]["name"], "cp-1");
    assert!(c.manifest["cluster"].as_object().unwrap().is_empty());

    // Journals: bounded by time, newest kept, and retried with the older output format.
    let j = c.source(&format!("{n}/journal/kubelet.log"));
    assert_eq!(j["exit_code"], 0);
    assert_eq!(
        j["command"],
        json!([
            "journalctl",
            "-u",
            "kubelet",
            "-o",
            "short-iso",
            "--no-pager",
            "--since=-172800s"
        ])
    );
    assert_eq!(j["attempts"][0]["exit_code"], 1);
    assert_eq!(j["attempts"][0]["command"][4], "short-iso-precise");
    assert_eq!(j["bound"]["since"], "2d");
    assert_eq!(j["bound"]["keep"], "newest");
    assert!(
        c.read(&format!("{n}/journal/kubelet.log"))
            .contains("is different from docker cgroup driver")
    );

    for (rel, needle) in [
        ("kubelet/config.yaml", "cgroupDriver: cgroupfs"),
        ("kubelet/flags.env", "--network-plugin=cni"),
        ("kubeadm/config.yaml", "external:"),
        ("runtime/docker-info.json", "\"CgroupDriver\":\"systemd\""),
        ("runtime/version.txt", "1.13.1"),
        ("runtime/containers.txt", "etcd-cp-1"),
        ("runtime/containerd-config.toml", "SystemdCgroup = true"),
        ("systemd/kubelet.service", "ExecStart=/usr/bin/kubelet"),
        ("systemd/docker.service", "MountFlags=slave"),
        ("os-release", "ID=\"centos\""),
        ("mounts", "/usr ext4 ro"),
        ("resolv.conf", "127.0.0.53"),
        ("hostname-i.txt", "127.0.1.1"),
        ("ip-addr.txt", "10.0.2.15"),
        ("cni/10-flannel.conflist", "portmap"),
        (
            "manifests/kube-controller-manager.yaml",
            "flex-volume-plugin-dir",
        ),
    ] {
        assert!(
            c.read(&format!("{n}/{rel}")).contains(needle),
            "{rel} lacks {needle}"
        );
    }
    assert_eq!(
        c.read(&format!("{n}/runtime/packages.txt")),
        "docker-1.13.1-84.git07f3374.el7.centos.x86_64\ndocker-client-1.13.1-84.git07f3374.el7.centos.x86_64\nkubeadm-1.17.3-0.x86_64\nkubelet-1.17.3-0.x86_64\n"
    );
    assert_eq!(
        c.read(&format!("{n}/systemd/states.txt")),
        "kubelet activating\ndocker active\ncontainerd inactive\n"
    );
    assert_eq!(
        c.source(&format!("{n}/systemd/containerd.service"))["exit_code"],
        1
    );
    assert!(!c.has(&format!("{n}/systemd/containerd.service")));
    // No CRI-O on this node: none of its sources is planned, so none fails.
    assert!(
        !c.sources()
            .iter()
            .any(|s| s["path"].as_str().unwrap_or("").contains("crio")),
    );

    let probes = c.read(&format!("{n}/probes/binaries.txt"));
    let lines: Vec<&str> = probes.lines().collect();
    assert_eq!(lines.len(), 11);
    assert!(lines.contains(&"ebtables MISSING"), "{probes}");
    assert!(lines.contains(&"socat MISSING"));
    assert!(lines.contains(&"ethtool MISSING"));
    assert!(lines.contains(&format!("crictl {}", sb.bin.join("crictl").display()).as_str()));
    assert!(lines.contains(&format!("conntrack {}", sb.bin.join("conntrack").display()).as_str()));

    // getenforce is not installed: recorded as missing, nothing written.
    let ge = c.source(&format!("{n}/getenforce.txt"));
    assert_eq!(ge["exit_code"], 127);
    assert!(!c.has(&format!("{n}/getenforce.txt")));

    // Fingerprints, never key material.
    let fps = c.read(&format!("{n}/pki/fingerprints.txt"));
    assert!(
        fps.contains(&format!(
            "/etc/kubernetes/pki/ca.crt sha256:{expected_fp}\n"
        )),
        "{fps}"
    );
    assert!(
        fps.contains(&format!(
            "/etc/kubernetes/admin.conf sha256:{expected_fp}\n"
        )),
        "{fps}"
    );
    let key_body: String = key_pem.lines().nth(1).unwrap().to_string();
    for (rel, bytes) in c.files() {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PRIVATE KEY"), "{rel} holds a private key");
        assert!(!text.contains(&key_body), "{rel} holds key material");
    }
}

/// sha256 of a certificate's DER, computed another way than the script does.
fn der_sha256(pem: &Path) -> String {
    let der = Command::new(which("openssl").unwrap())
        .args(["x509", "-outform", "DER", "-in"])
        .arg(pem)
        .output()
        .unwrap()
        .stdout;
    let mut c = Command::new(which("sha256sum").unwrap())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        c.stdin.take().unwrap().write_all(&der).unwrap();
    }
    let out = c.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn fingerprints_without_openssl_match() {
    let sb = Sandbox::new(true);
    let pki = sb.root.join("etc/kubernetes/pki/etcd");
    fs::create_dir_all(&pki).unwrap();
    let st = Command::new(which("openssl").expect("the tests need openssl"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=etcd-ca",
        ])
        .arg("-keyout")
        .arg(pki.join("ca.key"))
        .arg("-out")
        .arg(pki.join("ca.crt"))
        .output()
        .unwrap();
    assert!(st.status.success());
    let c = sb.collect(&[
        "--node",
        "--node-name",
        "w1",
        "--root",
        sb.root.to_str().unwrap(),
    ]);
    assert_eq!(
        c.read("nodes/w1/pki/fingerprints.txt"),
        format!(
            "/etc/kubernetes/pki/etcd/ca.crt sha256:{}\n",
            der_sha256(&pki.join("ca.crt"))
        )
    );
}

#[test]
fn a_cri_o_node_has_its_runtime_journal_unit_and_state() {
    let mut sb = Sandbox::new(true);
    for t in ["journalctl", "systemctl"] {
        sb.fake_tool(t);
    }
    sb.rule("journalctl -u crio *").stdout(
        "2026-11-20T09:30:00.102311+0000 cp-1 systemd[1]: Stopped crio.service - Container Runtime Interface for OCI (CRI-O).\n",
    );
    sb.rule("journalctl *").stdout("-- No entries --\n");
    sb.rule("systemctl cat crio.service*")
        .stdout("# /usr/lib/systemd/system/crio.service\n[Service]\nExecStart=/usr/bin/crio\n");
    sb.rule("systemctl show *").stdout(
        "Id=kubelet.service\nActiveState=active\n\nId=docker.service\nActiveState=inactive\n\nId=containerd.service\nActiveState=inactive\n\nId=crio.service\nActiveState=inactive\n",
    );
    sb.root_file(
        "etc/crio/crio.conf",
        "[crio.runtime]\ncgroup_manager = \"systemd\"\n",
    );
    let c = sb.collect(&[
        "--node",
        "--node-name",
        "cp-1",
        "--root",
        sb.root.to_str().unwrap(),
    ]);
    let n = "nodes/cp-1";
    assert!(
        c.read(&format!("{n}/journal/crio.log"))
            .contains("Stopped crio.service")
    );
    assert!(
        c.read(&format!("{n}/systemd/crio.service"))
            .contains("ExecStart=/usr/bin/crio")
    );
    assert!(
        c.read(&format!("{n}/systemd/states.txt"))
            .ends_with("crio inactive\n")
    );
    let states = c.source(&format!("{n}/systemd/states.txt"));
    assert!(
        states["command"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("crio.service")),
        "{states}"
    );
}

// ---------------------------------------------------------------------------------------------
// Round trip: collecting from fakes that replay a testdata bundle gives the same findings as
// analyzing that bundle directly.

#[test]
fn round_trip_gke_bundle() {
    let bundle = testdata().join("gke-wi-binding-missing");
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.fake_tool("gcloud");
    replay_cluster(&mut sb, &bundle);
    replay_gcloud(&mut sb, &bundle);
    let c = sb.collect(&["--context", GKE_CONTEXT]);
    assert_same_findings(&bundle, &c.archive);
}

#[test]
fn round_trip_kubeadm_node_bundle() {
    let bundle = testdata().join("kubeadm-coredns-loop");
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    replay_cluster(&mut sb, &bundle);
    let node = "cp-1";
    replay_node_files(&sb, &bundle.join("nodes").join(node));
    // The replayed node is healthy: kubeadm's preflight binaries are installed on it.
    for b in [
        "crictl",
        "conntrack",
        "ebtables",
        "ethtool",
        "ip",
        "iptables",
        "mount",
        "nsenter",
        "socat",
        "tc",
        "touch",
    ] {
        sb.present_tool(b);
    }
    let c = sb.collect(&[
        "--context",
        "kubernetes-admin@kubernetes",
        "--node",
        "--also-cluster",
        "--node-name",
        node,
        "--root",
        sb.root.to_str().unwrap(),
    ]);
    assert_same_findings(&bundle, &c.archive);
}

fn analyze(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kubetriage"))
        .args(["--format", "json", "--fail-on", "never"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "kubetriage {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// checks[].id, status and findings[].summary: what the user would be told.
fn verdicts(report: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut v: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut f: Vec<String> = c["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["summary"].as_str().unwrap().to_string())
                .collect();
            f.sort();
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                f,
            )
        })
        .collect();
    v.sort();
    v
}

fn assert_same_findings(original: &Path, collected: &Path) {
    let a = verdicts(&analyze(original));
    let b = verdicts(&analyze(collected));
    assert!(
        a.iter().any(|(_, _, f)| !f.is_empty()),
        "the round trip needs a bundle with findings"
    );
    // The same findings, word for word.
    let findings = |v: &[(String, String, Vec<String>)]| -> Vec<(String, Vec<String>)> {
        v.iter()
            .filter(|(_, s, _)| s == "finding")
            .map(|(id, _, f)| (id.clone(), f.clone()))
            .collect()
    };
    assert_eq!(
        findings(&a),
        findings(&b),
        "analyzing the collected bundle must give the same findings"
    );
    // The collector may gather more than the original bundle held (probes, container lists), so
    // a check may be evaluated only after collection; it must never lose one.
    for ((id, sa, _), (_, sb, _)) in a.iter().zip(&b) {
        assert!(
            !(sa != "not-evaluated" && sb == "not-evaluated"),
            "{id}: evaluated on the original bundle, not after collection"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Replay of testdata bundles through the fakes

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Rules so that fake kubectl answers the script's queries from `bundle`'s kubectl/ files.
fn replay_cluster(sb: &mut Sandbox, bundle: &Path) {
    let k = bundle.join("kubectl");
    let empty = json!({"items": []});
    let load = |f: &str| -> Value {
        let p = k.join(f);
        if p.is_file() {
            read_json(&p)
        } else {
            empty.clone()
        }
    };
    let pods = load("pods.json");
    let sas = load("serviceaccounts.json");
    let cms = load("configmaps.json");

    // Discovery queries (jsonpath), as the real kubectl would print them.
    let mut namespaces: Vec<String> = [&pods, &sas, &cms]
        .iter()
        .flat_map(|l| l["items"].as_array().cloned().unwrap_or_default())
        .filter_map(|i| i["metadata"]["namespace"].as_str().map(str::to_string))
        .collect();
    namespaces.sort();
    namespaces.dedup();
    sb.rule("kubectl *get namespaces -o jsonpath=*").stdout(
        namespaces
            .iter()
            .map(|n| format!("{n}\n"))
            .collect::<String>(),
    );
    sb.rule("kubectl *get pods --all-namespaces -o jsonpath=*")
        .stdout(pods_tsv(&pods));
    sb.rule("kubectl *get serviceaccounts --all-namespaces -o jsonpath=*")
        .stdout(ksa_tsv(&sas));
    if k.join("configmaps.json").is_file() {
        for ns in &namespaces {
            sb.rule(&format!(
                "kubectl *get configmaps -n {} -o jsonpath=*",
                lit(ns)
            ))
            .stdout(items_lines(&cms, ns));
        }
    }

    if k.join("version.json").is_file() {
        sb.rule("kubectl *version -o json*")
            .stdout_from(&k.join("version.json"));
    }
    for res in [
        "pods",
        "events",
        "serviceaccounts",
        "networkpolicies",
        "daemonsets",
        "deployments",
        "roles",
        "rolebindings",
    ] {
        let f = k.join(format!("{res}.json"));
        if f.is_file() {
            sb.rule(&format!("kubectl *get {res} --all-namespaces -o json*"))
                .stdout_from(&f);
        }
    }
    for res in ["nodes", "clusterroles", "clusterrolebindings"] {
        let f = k.join(format!("{res}.json"));
        if f.is_file() {
            sb.rule(&format!("kubectl *get {res} -o json*"))
                .stdout_from(&f);
        }
    }
    // Container logs, previous runs first (their pattern is the narrower).
    let logs = k.join("logs");
    if logs.is_dir() {
        for ns in fs::read_dir(&logs).unwrap() {
            let ns = ns.unwrap().path();
            for pod in fs::read_dir(&ns).unwrap() {
                let pod = pod.unwrap().path();
                let mut files: Vec<_> = fs::read_dir(&pod)
                    .unwrap()
                    .map(|f| f.unwrap().path())
                    .collect();
                files.sort_by_key(|f| !f.to_string_lossy().ends_with(".previous.log"));
                for f in files {
                    let name = f.file_name().unwrap().to_str().unwrap();
                    let nsn = ns.file_name().unwrap().to_str().unwrap();
                    let podn = pod.file_name().unwrap().to_str().unwrap();
                    let pattern = if let Some(c) = name.strip_suffix(".previous.log") {
                        format!(
                            "kubectl *logs -n {} {} -c {} --previous *",
                            lit(nsn),
                            lit(podn),
                            lit(c)
                        )
                    } else {
                        let c = name.strip_suffix(".log").unwrap();
                        format!(
                            "kubectl *logs -n {} {} -c {} --timestamps *",
                            lit(nsn),
                            lit(podn),
                            lit(c)
                        )
                    };
                    sb.rule(&pattern).stdout_from(&f);
                }
            }
        }
    }
}

/// Rules so that fake gcloud answers from `bundle`'s gcloud/ files.
fn replay_gcloud(sb: &mut Sandbox, bundle: &Path) {
    let g = bundle.join("gcloud");
    for (file, pattern) in [
        ("cluster.json", "gcloud container clusters describe *"),
        ("nodepools.json", "gcloud container node-pools list *"),
        ("project.json", "gcloud projects describe *"),
        (
            "project-iam-policy.json",
            "gcloud projects get-iam-policy *",
        ),
        ("services-enabled.json", "gcloud services list --enabled *"),
        ("operations.json", "gcloud container operations list *"),
    ] {
        if g.join(file).is_file() {
            sb.rule(pattern).stdout_from(&g.join(file));
        }
    }
    let sa = g.join("service-accounts");
    if sa.is_dir() {
        for d in fs::read_dir(&sa).unwrap() {
            let d = d.unwrap().path();
            let email = d.file_name().unwrap().to_str().unwrap().to_string();
            sb.rule(&format!(
                "gcloud iam service-accounts get-iam-policy {} *",
                lit(&email)
            ))
            .stdout_from(&d.join("iam-policy.json"));
        }
    }
}

/// Puts a testdata node's files where a node keeps them, below the sandbox's root.
fn replay_node_files(sb: &Sandbox, node: &Path) {
    for (rel, on_node) in [
        ("kubelet/config.yaml", "var/lib/kubelet/config.yaml"),
        ("kubelet/flags.env", "var/lib/kubelet/kubeadm-flags.env"),
        ("kubeadm/config.yaml", "etc/kubernetes/kubeadm-config.yaml"),
        (
            "runtime/containerd-config.toml",
            "etc/containerd/config.toml",
        ),
        ("os-release", "etc/os-release"),
        ("mounts", "proc/mounts"),
        ("resolv.conf", "etc/resolv.conf"),
    ] {
        let f = node.join(rel);
        if f.is_file() {
            sb.root_file(on_node, fs::read(&f).unwrap());
        }
    }
    let cni = node.join("cni");
    if cni.is_dir() {
        for f in fs::read_dir(&cni).unwrap() {
            let f = f.unwrap().path();
            sb.root_file(
                &format!("etc/cni/net.d/{}", f.file_name().unwrap().to_str().unwrap()),
                fs::read(&f).unwrap(),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The real kubectl client against a loopback API server.

#[test]
fn real_kubectl_against_a_loopback_api_server() {
    let kubectl = which("kubectl").expect(
        "the real kubectl is needed for this test (.ci/run installs it when it is missing)",
    );
    let server = apiserver::ApiServer::start();
    let sb = Sandbox::new(true);
    std::os::unix::fs::symlink(&kubectl, sb.bin.join("kubectl")).unwrap();
    let kubeconfig = sb.path().join("kubeconfig");
    fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: http://127.0.0.1:{port}\n  name: loop\ncontexts:\n- context:\n    cluster: loop\n    user: tester\n  name: loop-ctx\ncurrent-context: loop-ctx\nusers:\n- name: tester\n  user:\n    token: {token}\n",
            port = server.port,
            token = apiserver::TOKEN
        ),
    )
    .unwrap();
    let c = sb.collect(&[
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--timeout",
        "30",
    ]);

    assert_eq!(c.manifest["cluster"]["context"], "loop-ctx");
    assert_eq!(c.manifest["cluster"]["name"], "loop");
    assert_eq!(c.manifest["mode"], "kubeadm");

    // The script's jsonpath queries, evaluated by the real client.
    assert_eq!(
        c.read("collector/pods.tsv"),
        pods_tsv(&apiserver::pods()),
        "the pod query"
    );
    assert_eq!(
        c.read("collector/serviceaccounts.tsv"),
        ksa_tsv(&apiserver::serviceaccounts())
    );
    assert_eq!(
        c.read("collector/namespaces.txt"),
        "default\nistio-system\nkube-system\nshop\n"
    );

    // Lists come back as kubectl prints them.
    let pods = c.json("kubectl/pods.json");
    assert_eq!(pods["kind"], "List");
    assert_eq!(pods["items"], apiserver::pods()["items"]);
    assert_eq!(
        c.json("kubectl/nodes.json")["items"][0]["metadata"]["name"],
        "cp-1"
    );
    assert_eq!(
        c.json("kubectl/daemonsets.json")["items"][0]["metadata"]["name"],
        "kube-proxy"
    );
    assert_eq!(
        c.json("kubectl/clusterrolebindings.json")["items"][0]["metadata"]["name"],
        "kubeadm:get-nodes"
    );
    assert!(c.json("kubectl/version.json")["serverVersion"]["gitVersion"] == "v1.28.3");

    // ConfigMaps of kube-system and istio-system, re-joined from the client's `{@}` output.
    let cms = c.json("kubectl/configmaps.json");
    let mut names: Vec<(String, String)> = cms["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["metadata"]["namespace"].as_str().unwrap().to_string(),
                i["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("istio-system".to_string(), "istio".to_string()),
            ("kube-system".to_string(), "coredns".to_string()),
            ("kube-system".to_string(), "kubeadm-config".to_string()),
        ]
    );
    assert_eq!(
        cms["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metadata"]["name"] == "coredns")
            .unwrap()["data"]["Corefile"],
        apiserver::COREFILE
    );

    // Logs: current and previous, with the bounds passed to the server.
    let log = c.source("kubectl/logs/kube-system/coredns-5d78c9869d-8xk2p/coredns.log");
    assert_eq!(log["exit_code"], 0, "{log}");
    assert_eq!(
        c.read("kubectl/logs/kube-system/coredns-5d78c9869d-8xk2p/coredns.log"),
        apiserver::log_text("coredns", false)
    );
    assert_eq!(
        c.read("kubectl/logs/kube-system/coredns-5d78c9869d-8xk2p/coredns.previous.log"),
        apiserver::log_text("coredns", true)
    );
    assert!(c.has("kubectl/logs/shop/api-6f7-abc/api.log"));
    assert!(
        !c.has("kubectl/logs/shop/web-1/web.log"),
        "ready pods outside kube-system get no logs"
    );

    // A forbidden list is recorded with the server's message.
    let ev = c.source("kubectl/events.json");
    assert_eq!(ev["error"], "command failed: access denied");
    assert!(
        ev["stderr"]
            .as_str()
            .unwrap()
            .contains("events is forbidden"),
        "{ev}"
    );

    let requests = server.requests();
    let log_req = requests
        .iter()
        .find(|r| r.contains("/pods/coredns-5d78c9869d-8xk2p/log") && r.contains("previous=true"))
        .expect("a --previous log request");
    for q in [
        "container=coredns",
        "sinceSeconds=86400",
        "timestamps=true",
        "tailLines=",
    ] {
        assert!(log_req.contains(q), "{q} not in {log_req}");
    }
    assert!(
        requests.iter().all(|r| !r.contains("secrets")),
        "{requests:?}"
    );

    for (rel, bytes) in c.files() {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(apiserver::TOKEN),
            "the kubeconfig token leaked into {rel}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The whole run is bounded (--max-time) and its outcome is told honestly.

/// Runs the collector and measures how long it took.
fn timed_run(sb: &Sandbox, args: &[&str], limit: Duration) -> (Output, Duration) {
    let start = std::time::Instant::now();
    let out = sb.run_with_deadline(args, limit);
    (out, start.elapsed())
}

/// The bundle a run printed on stdout, unpacked: its folder and manifest.
fn unpacked(sb: &Sandbox, out: &Output) -> (std::path::PathBuf, Value) {
    let archive = Path::new(out.stdout.trim_end());
    assert!(
        archive.is_file(),
        "no bundle: {}\n{}",
        out.stdout,
        out.stderr
    );
    let dest = sb.path().join("unpacked");
    let _ = fs::remove_dir_all(&dest);
    fs::create_dir_all(&dest).unwrap();
    let top = unpack(archive, &dest);
    let m = read_json(&top.join("manifest.json"));
    (top, m)
}

fn find_source<'a>(m: &'a Value, path: &str) -> &'a Value {
    m["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == path)
        .unwrap_or_else(|| panic!("no source {path}"))
}

/// An API server that accepts connections and never answers, with the real kubectl: the probe
/// finds out, the other kubectl sources are skipped at once, what gcloud gives is still
/// written, and the run ends well within the deadline with exit status 4.
#[test]
fn a_never_answering_api_server_ends_within_the_deadline() {
    let kubectl = which("kubectl").expect("the real kubectl is needed for this test");
    let server = apiserver::ApiServer::start_mode(apiserver::Mode::Silent);
    let mut sb = Sandbox::new(true);
    std::os::unix::fs::symlink(&kubectl, sb.bin.join("kubectl")).unwrap();
    sb.fake_tool("gcloud");
    replay_gcloud(&mut sb, &testdata().join("gke-wi-binding-missing"));
    let kubeconfig = sb.path().join("kubeconfig");
    server.kubeconfig(&kubeconfig, GKE_CONTEXT);
    // The probe gets a tenth of the deadline (6 s); the rest must leave the gcloud commands
    // time to run even on a loaded machine.
    let max_time = 60;
    let (out, took) = timed_run(
        &sb,
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--max-time",
            &format!("{max_time}s"),
            "-o",
            sb.out.to_str().unwrap(),
        ],
        Duration::from_secs(300),
    );
    eprintln!("never-answering API server: the run took {took:?}");
    assert!(
        took < Duration::from_secs(max_time + 20),
        "took {took:?} with --max-time {max_time}s"
    );
    assert_eq!(out.code, 4, "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "collect-bundle: cannot reach the cluster of {GKE_CONTEXT}"
        )) && last.contains("VPN")
            && last.contains("--context"),
        "{}",
        out.stderr
    );
    let (top, m) = unpacked(&sb, &out);
    assert_eq!(m["outcome"]["exit_code"], 4);
    assert!(top.join("gcloud/cluster.json").is_file());
    let probe = find_source(&m, "kubectl/version.json");
    assert_eq!(probe["error"], "timed out after 6s", "{probe}");
    assert!(
        took < Duration::from_secs(max_time / 2),
        "the probe's time, not the deadline, bounds a run whose server never answers: {took:?}"
    );
    let pods = find_source(&m, "kubectl/pods.json");
    assert_eq!(
        pods["error"],
        "skipped: the cluster could not be reached (kubectl version failed)"
    );
    assert!(!top.join("kubectl").exists());
}

/// A closed port and refused credentials, as the real kubectl reports them.
#[test]
fn a_closed_port_and_refused_credentials_exit_non_zero_with_one_clear_line() {
    let kubectl = which("kubectl").expect("the real kubectl is needed for this test");
    // A port nothing listens on any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = apiserver::ApiServer::start_mode(apiserver::Mode::Unauthorized);
    for (port, code, words) in [
        (
            closed,
            4,
            &["cannot reach the cluster of loop-ctx", "refused", "VPN"][..],
        ),
        (
            server.port,
            5,
            &[
                "the cluster of loop-ctx refused the credentials",
                "gcloud auth login",
                "--context",
            ][..],
        ),
    ] {
        let sb = Sandbox::new(true);
        std::os::unix::fs::symlink(&kubectl, sb.bin.join("kubectl")).unwrap();
        let kubeconfig = sb.path().join("kubeconfig");
        server.kubeconfig(&kubeconfig, "loop-ctx");
        let text = fs::read_to_string(&kubeconfig)
            .unwrap()
            .replace(&format!(":{}\n", server.port), &format!(":{port}\n"));
        fs::write(&kubeconfig, text).unwrap();
        let (out, took) = timed_run(
            &sb,
            &[
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "-o",
                sb.out.to_str().unwrap(),
            ],
            Duration::from_secs(120),
        );
        assert_eq!(out.code, code, "{}", out.stderr);
        assert!(took < Duration::from_secs(30), "took {took:?}");
        // Nothing was collected: no bundle, and no "bundle written" that would look like success.
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(!out.stderr.contains("; bundle written"), "{}", out.stderr);
        assert!(out.stderr.contains("none collected: no bundle written"));
        let last = out.stderr.lines().last().unwrap();
        for w in words {
            assert!(last.contains(w), "{w} not in {last}");
        }
        assert_eq!(
            last.matches("collect-bundle:").count(),
            1,
            "one line: {last}"
        );
    }
}

/// Every log call hangs: logs run --parallel at a time, each is cut at the deadline, what is
/// left is recorded as skipped, and the bundle still holds the cluster-wide lists.
#[test]
fn every_log_hanging_ends_within_the_deadline() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    let pods: String = (0..30)
        .map(|i| format!("shop\tapi-{i}\tRunning\tFalse\t\tapi \tapi=1 \n"))
        .collect();
    sb.rule("kubectl *get pods --all-namespaces -o jsonpath=*")
        .stdout(pods);
    sb.rule("kubectl *logs *").sleep(623).stdout("never\n");
    sb.rule("kubectl *get pods --all-namespaces -o json*")
        .stdout("{\"items\": []}\n");
    let max_time = 25;
    let (out, took) = timed_run(
        &sb,
        &[
            "--context",
            "dev",
            "--max-time",
            &format!("{max_time}s"),
            "--parallel",
            "4",
            "-o",
            sb.out.to_str().unwrap(),
        ],
        Duration::from_secs(300),
    );
    eprintln!("every log hanging: the run took {took:?}");
    assert!(
        took < Duration::from_secs(max_time + 20),
        "took {took:?} with --max-time {max_time}s"
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("the --max-time of 25s was reached: "),
        "{}",
        out.stderr
    );
    let (top, m) = unpacked(&sb, &out);
    assert_eq!(m["deadline_reached"], true);
    assert_eq!(m["bounds"]["max_time_s"], 25);
    assert!(top.join("kubectl/pods.json").is_file());
    let logs: Vec<&Value> = m["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["path"].as_str().unwrap().starts_with("kubectl/logs/"))
        .collect();
    assert_eq!(logs.len(), 60, "30 pods, current and previous");
    let cut = logs
        .iter()
        .filter(|s| {
            s["error"].as_str().is_some_and(|e| {
                e.starts_with("timed out") && e.ends_with("(the --max-time deadline)")
            })
        })
        .count();
    let skipped = logs
        .iter()
        .filter(|s| s["error"] == "skipped: the --max-time of 25s was reached")
        .count();
    assert!(cut >= 4, "the first --parallel logs run together: {cut}");
    assert_eq!(cut + skipped, 60);
    // The deadline is not waited for one log after the other.
    let calls = sb
        .calls()
        .iter()
        .filter(|c| c.contains(&"logs".to_string()))
        .count();
    assert!(calls <= 12, "{calls} log calls");
    assert!(!sleeping(623), "a hung log call is still running");
}

/// The script with the real kubectl against a loopback API server in `mode`, with
/// `--max-time max_time` seconds: the sandbox (holding the bundle), the output and how long
/// the run took.
fn real_kubectl_run(mode: apiserver::Mode, max_time: u64) -> (Sandbox, Output, Duration) {
    let kubectl = which("kubectl").expect("the real kubectl is needed for this test");
    let server = apiserver::ApiServer::start_mode(mode);
    let sb = Sandbox::new(true);
    std::os::unix::fs::symlink(&kubectl, sb.bin.join("kubectl")).unwrap();
    let kubeconfig = sb.path().join("kubeconfig");
    server.kubeconfig(&kubeconfig, "loop-ctx");
    let (out, took) = timed_run(
        &sb,
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--max-time",
            &format!("{max_time}s"),
            "-o",
            sb.out.to_str().unwrap(),
        ],
        Duration::from_secs(300),
    );
    (sb, out, took)
}

/// The real kubectl against a server whose log requests never answer.
#[test]
fn real_kubectl_with_hanging_logs_ends_within_the_deadline() {
    let max_time = 20;
    let (sb, out, took) = real_kubectl_run(apiserver::Mode::HangLogs, max_time);
    eprintln!("real kubectl, hanging logs: the run took {took:?}");
    assert!(took < Duration::from_secs(max_time + 20), "took {took:?}");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (top, m) = unpacked(&sb, &out);
    assert!(top.join("kubectl/pods.json").is_file());
    assert!(top.join("kubectl/nodes.json").is_file());
    assert_eq!(m["deadline_reached"], true, "{}", out.stderr);
}

/// A server that passes the probe and then answers nothing (etcd down behind a live API
/// server): every list waits at most what is left of the deadline, what was not reached is
/// recorded as skipped, the run ends at the deadline with what it has, and the exit status
/// (7) and the last line say that no list came back.
#[test]
fn a_server_that_hangs_after_the_probe_ends_at_the_deadline() {
    let max_time = 20;
    let (sb, out, took) = real_kubectl_run(apiserver::Mode::HangAfterVersion, max_time);
    eprintln!("a server hanging after the probe: the run took {took:?}");
    assert!(
        took < Duration::from_secs(max_time + 10),
        "took {took:?} with --max-time {max_time}s"
    );
    assert!(
        took >= Duration::from_secs(max_time - 2),
        "the lists waited for the deadline: {took:?}"
    );
    let (top, m) = unpacked(&sb, &out);
    assert!(top.join("kubectl/version.json").is_file());
    assert_eq!(m["deadline_reached"], true, "{}", out.stderr);
    let sources = m["sources"].as_array().unwrap();
    let cut = sources
        .iter()
        .filter(|s| {
            s["error"]
                .as_str()
                .is_some_and(|e| e.ends_with("(the --max-time deadline)"))
        })
        .count();
    let skipped = sources
        .iter()
        .filter(|s| s["error"] == "skipped: the --max-time of 20s was reached")
        .count();
    assert!(cut >= 1, "{}", out.stderr);
    assert!(
        skipped >= 10,
        "the lists not reached are recorded: {skipped}"
    );
    assert!(
        out.stderr.contains("the --max-time of 20s was reached: "),
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 7, "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.starts_with(
            "collect-bundle: the cluster of loop-ctx answered kubectl version but no list came back"
        ) && last.contains("--max-time"),
        "{last}"
    );
    assert_eq!(m["outcome"]["exit_code"], 7);
}

/// Access denied is read from what kubectl and gcloud say, never from digits: a timestamp
/// with 403 in it is a plain failure; a cluster that denies every list exits 6.
#[test]
fn access_denied_is_read_from_the_error_forms_and_every_list_denied_exits_6() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    sb.rule("kubectl *get namespaces *").stdout("default\n");
    sb.rule("kubectl *get nodes -o json*")
        .stderr("E1120 10:40:03.403000   12345 request.go:1] connection reset by peer\n")
        .exit(1);
    sb.rule("kubectl *get pods --all-namespaces -o json*")
        .stderr("Error from server (Forbidden): pods is forbidden: User \"dev@example.com\" cannot list resource \"pods\" in API group \"\" at the cluster scope\n")
        .exit(1);
    sb.rule("kubectl *get * -o json*")
        .stderr(
            "Error from server (Forbidden): x is forbidden: User \"dev@example.com\" cannot list\n",
        )
        .exit(1);
    sb.rule("kubectl *get namespaces *").stdout("default\n");
    let out = sb.run(&["--context", "dev", "-o", sb.out.to_str().unwrap()]);
    assert_eq!(out.code, 6, "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.contains("denied access to every list") && last.contains("view ClusterRole"),
        "{last}"
    );
    let (_, m) = unpacked(&sb, &out);
    assert_eq!(
        find_source(&m, "kubectl/nodes.json")["error"],
        "command failed"
    );
    assert_eq!(
        find_source(&m, "kubectl/pods.json")["error"],
        "command failed: access denied"
    );
}

/// Unreachable and refused, as kubectl words them, with the bundle of what gcloud gave.
#[test]
fn unreachable_and_refused_clusters_still_write_what_was_collected() {
    for (stderr, code, words) in [
        (
            "The connection to the server 10.0.0.1:443 was refused - did you specify the right host or port?\n",
            4,
            &["cannot reach the cluster", "was refused", "VPN"][..],
        ),
        (
            "Unable to connect to the server: dial tcp: lookup prod.example on 127.0.0.53:53: no such host\n",
            4,
            &["cannot reach the cluster", "no such host"][..],
        ),
        (
            "error: You must be logged in to the server (Unauthorized)\n",
            5,
            &["refused the credentials", "gcloud auth login"][..],
        ),
        (
            "Unable to connect to the server: getting credentials: exec: executable gke-gcloud-auth-plugin not found\n",
            5,
            &["refused the credentials", "gke-gcloud-auth-plugin"][..],
        ),
    ] {
        let mut sb = Sandbox::new(true);
        sb.fake_tool("kubectl");
        sb.fake_tool("gcloud");
        sb.rule("kubectl *version -o json*").stderr(stderr).exit(1);
        replay_cluster(&mut sb, &testdata().join("gke-wi-binding-missing"));
        replay_gcloud(&mut sb, &testdata().join("gke-wi-binding-missing"));
        let out = sb.run(&["--context", GKE_CONTEXT, "-o", sb.out.to_str().unwrap()]);
        assert_eq!(out.code, code, "{stderr}: {}", out.stderr);
        let last = out.stderr.lines().last().unwrap();
        for w in words {
            assert!(last.contains(w), "{w} not in {last}");
        }
        let (top, m) = unpacked(&sb, &out);
        assert_eq!(m["outcome"]["exit_code"], code);
        assert!(top.join("gcloud/cluster.json").is_file());
        // Only the probe reached kubectl.
        let kubectl_calls = sb.calls().iter().filter(|c| c[0] == "kubectl").count();
        assert_eq!(
            kubectl_calls,
            2,
            "config view and the probe: {:?}",
            sb.calls()
        );
    }
}

/// The progress counter: once the pods are known, every line counts against the real total,
/// and the numbers run from 1 to that total, each once (logs run in parallel).
#[test]
fn the_progress_counter_counts_the_real_total() {
    let mut sb = gke_sandbox(true);
    sb.fake_tool("gcloud");
    replay_gcloud(&mut sb, &testdata().join("gke-wi-binding-missing"));
    let c = sb.collect(&["--context", GKE_CONTEXT, "--parallel", "3"]);
    let total = c.sources().len();
    let mut seen = Vec::new();
    let mut after_discovery = false;
    for l in c.stderr.lines().filter(|l| l.starts_with('[')) {
        let (n, rest) = l[1..].split_once('/').unwrap();
        let (t, _) = rest.split_once(']').unwrap();
        let (n, t): (usize, usize) = (n.parse().unwrap(), t.parse().unwrap());
        if after_discovery {
            assert_eq!(t, total, "{l}");
        }
        if l.contains("get serviceaccounts --all-namespaces -o 'jsonpath") {
            after_discovery = true;
        }
        seen.push(n);
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=total).collect::<Vec<_>>(), "{}", c.stderr);
    assert!(
        c.stderr.contains(&format!(
            "collect-bundle: {total} sources recorded; bundle written"
        )),
        "{}",
        c.stderr
    );
}

/// An interrupt while logs are collected in parallel: every running log is stopped (nothing
/// it started is left), the rest is recorded as skipped, and the bundle is written.
#[test]
fn an_interrupt_during_parallel_logs_stops_them_all() {
    let mut sb = Sandbox::new(true);
    sb.fake_tool("kubectl");
    let pods: String = (0..8)
        .map(|i| format!("shop\tapi-{i}\tRunning\tFalse\t\tapi \tapi=0 \n"))
        .collect();
    sb.rule("kubectl *get pods --all-namespaces -o jsonpath=*")
        .stdout(pods);
    sb.rule("kubectl *logs *").sleep(629).stdout("never\n");
    sb.rule("kubectl *get nodes -o json*")
        .stdout("{\"items\": []}\n");
    let mut sent = false;
    let out = sb.run_until(
        &[
            "--context",
            "dev",
            "--parallel",
            "3",
            "-o",
            sb.out.to_str().unwrap(),
        ],
        Duration::from_secs(120),
        |pid| {
            let started = sb
                .calls()
                .iter()
                .filter(|c| c.contains(&"logs".to_string()))
                .count();
            if started >= 3 && !sent {
                std::thread::sleep(Duration::from_millis(300));
                let st = Command::new(sb.bin.join("bash"))
                    .arg("-c")
                    .arg(format!("kill -INT {pid}"))
                    .status()
                    .unwrap();
                assert!(st.success());
                sent = true;
            }
        },
    );
    assert!(sent, "the script never reached the logs");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (_, m) = unpacked(&sb, &out);
    assert_eq!(m["interrupted"], true);
    let errors: Vec<&str> = m["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["path"].as_str().unwrap().starts_with("kubectl/logs/"))
        .map(|s| s["error"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 8);
    // The logs running when the interrupt came (at most --parallel of them, and how many had
    // started depends on the machine's load) are interrupted; every later one is skipped.
    let running = errors.iter().filter(|e| **e == "interrupted").count();
    assert!((1..=3).contains(&running), "{errors:?}");
    assert!(
        errors[running..]
            .iter()
            .all(|e| *e == "skipped: the collection was interrupted"),
        "{errors:?}"
    );
    assert!(
        !sleeping(629),
        "a log call is still running after the interrupt"
    );
}
