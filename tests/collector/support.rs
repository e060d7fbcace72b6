//! Test support for the collector script: a sandbox with a PATH of fake tools, the script run
//! under a deadline, and readers for the bundle it writes.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn script() -> PathBuf {
    repo().join("collectors/collect-bundle.sh")
}

pub fn testdata() -> PathBuf {
    repo().join("testdata")
}

/// The PEM labels of private keys (`-----BEGIN <label>-----`) the redaction must drop whole.
pub const PEM_PRIVATE_KEYS: &[&str] = &[
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "PRIVATE KEY",
];

/// The standard tools the script (and the fake tools) may use; nothing else is on PATH.
pub const TOOLS: &[&str] = &[
    "bash",
    "awk",
    "sed",
    "tr",
    "head",
    "tail",
    "wc",
    "date",
    "mkdir",
    "cat",
    "grep",
    "sort",
    "mktemp",
    "rm",
    "mv",
    "tar",
    "gzip",
    "sleep",
    "dirname",
    "rmdir",
    "yes",
    "base64",
    "sha256sum",
    "env",
];

/// Where a program is on the test process's own PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file() && fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0))
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub fake: PathBuf,
    pub out: PathBuf,
    pub root: PathBuf,
    responses: usize,
}

impl Sandbox {
    /// A sandbox whose PATH has the standard tools (and `timeout` when `with_timeout`).
    pub fn new(with_timeout: bool) -> Sandbox {
        Sandbox::with_userland(with_timeout, false)
    }

    /// A sandbox whose standard tools are busybox's (a userland that is neither GNU nor BSD);
    /// bash stays bash.
    pub fn busybox(with_timeout: bool) -> Sandbox {
        Sandbox::with_userland(with_timeout, true)
    }

    fn with_userland(with_timeout: bool, busybox: bool) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("bin");
        let fake = dir.path().join("fake");
        let out = dir.path().join("out");
        let root = dir.path().join("root");
        for d in [&bin, &fake, &out, &root] {
            fs::create_dir_all(d).unwrap();
        }
        let mut tools: Vec<&str> = TOOLS.to_vec();
        if with_timeout {
            tools.push("timeout");
        }
        let bb = busybox.then(|| {
            which("busybox").expect("busybox is needed: bash .ci/install-test-tools installs it")
        });
        for t in tools {
            let p = match &bb {
                Some(bb) if t != "bash" => bb.clone(),
                _ => which(t).unwrap_or_else(|| panic!("the tests need `{t}` on PATH")),
            };
            std::os::unix::fs::symlink(p, bin.join(t)).unwrap();
        }
        fs::write(fake.join("rules"), "").unwrap();
        Sandbox {
            dir,
            bin,
            fake,
            out,
            root,
            responses: 0,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Installs the fake tool under `name`.
    pub fn fake_tool(&self, name: &str) {
        let dst = self.bin.join(name);
        if dst.exists() {
            fs::remove_file(&dst).unwrap();
        }
        fs::copy(repo().join("tests/collector/fake-cmd"), &dst).unwrap();
        fs::set_permissions(&dst, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Makes `awk` in the sandbox run `prog` with `args` first (another awk implementation).
    pub fn use_awk(&self, prog: &Path, args: &[&str]) {
        let dst = self.bin.join("awk");
        let _ = fs::remove_file(&dst);
        let mut script = format!(
            "#!{}\nexec '{}'",
            self.bin.join("bash").display(),
            prog.display()
        );
        for a in args {
            script.push_str(&format!(" '{a}'"));
        }
        script.push_str(" \"$@\"\n");
        fs::write(&dst, script).unwrap();
        fs::set_permissions(&dst, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Puts a do-nothing `name` on the sandbox's PATH unless one is there: for tools the script
    /// only looks for (`command -v`), such as the preflight binaries of a healthy node.
    pub fn present_tool(&self, name: &str) {
        let dst = self.bin.join(name);
        if !dst.exists() {
            fs::write(
                &dst,
                format!("#!{}\nexit 0\n", self.bin.join("bash").display()),
            )
            .unwrap();
            fs::set_permissions(&dst, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    /// Links a real program from the test's PATH into the sandbox.
    pub fn real_tool(&self, name: &str) -> bool {
        match which(name) {
            Some(p) => {
                let dst = self.bin.join(name);
                let _ = fs::remove_file(&dst);
                std::os::unix::fs::symlink(p, dst).unwrap();
                true
            }
            None => false,
        }
    }

    /// Adds a rule: calls whose "<tool> <args>" match `pattern` get this response.
    pub fn rule(&mut self, pattern: &str) -> Response {
        self.responses += 1;
        let folder = format!("r{}", self.responses);
        let dir = self.fake.join(&folder);
        fs::create_dir_all(&dir).unwrap();
        let mut rules = fs::read_to_string(self.fake.join("rules")).unwrap();
        rules.push_str(&format!("{pattern}\t{folder}\n"));
        fs::write(self.fake.join("rules"), rules).unwrap();
        Response { dir }
    }

    /// Writes a file below the fake node root.
    pub fn root_file(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    /// Runs the script with `args`; fails the test if it runs past `deadline`.
    pub fn run_with_deadline(&self, args: &[&str], deadline: Duration) -> Output {
        self.run_until(args, deadline, |_| {})
    }

    /// Like `run_with_deadline`, calling `during` with the script's pid while it runs (every
    /// 50 ms until it ends).
    pub fn run_until(
        &self,
        args: &[&str],
        deadline: Duration,
        mut during: impl FnMut(u32),
    ) -> Output {
        let mut child = Command::new(self.bin.join("bash"))
            .arg(script())
            .args(args)
            .env_clear()
            .env("PATH", &self.bin)
            .env("HOME", self.dir.path())
            .env("TMPDIR", self.dir.path())
            .env("FAKE_DIR", &self.fake)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the collector");
        let mut so = child.stdout.take().unwrap();
        let mut se = child.stderr.take().unwrap();
        let t_out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = so.read_to_end(&mut v);
            v
        });
        let t_err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = se.read_to_end(&mut v);
            v
        });
        let start = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the collector ran past {deadline:?}: it must bound every command");
            }
            during(child.id());
            std::thread::sleep(Duration::from_millis(50));
        };
        let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
        Output {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_deadline(args, Duration::from_secs(120))
    }

    /// Runs the script, expects a bundle, and unpacks it.
    pub fn collect(&self, args: &[&str]) -> Collected {
        let mut full = vec!["-o", self.out.to_str().unwrap()];
        full.extend_from_slice(args);
        let out = self.run(&full);
        assert_eq!(
            out.code, 0,
            "the collector failed:\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        let archive = PathBuf::from(out.stdout.trim_end_matches('\n'));
        assert!(
            archive.is_file(),
            "stdout must be the bundle path, got {:?}",
            out.stdout
        );
        let dest = self.dir.path().join("unpacked");
        let _ = fs::remove_dir_all(&dest);
        fs::create_dir_all(&dest).unwrap();
        let top = unpack(&archive, &dest);
        let manifest: Value =
            serde_json::from_slice(&fs::read(top.join("manifest.json")).expect("manifest.json"))
                .expect("manifest.json is JSON");
        Collected {
            archive,
            top,
            manifest,
            stderr: out.stderr,
        }
    }

    /// Every call the fake tools received: the tool's name, then its arguments.
    pub fn calls(&self) -> Vec<Vec<String>> {
        fs::read_to_string(self.fake.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }
}

pub struct Response {
    dir: PathBuf,
}

impl Response {
    pub fn stdout(self, content: impl AsRef<[u8]>) -> Self {
        fs::write(self.dir.join("stdout"), content).unwrap();
        self
    }
    pub fn stdout_from(self, file: &Path) -> Self {
        fs::copy(file, self.dir.join("stdout")).unwrap();
        self
    }
    pub fn stderr(self, content: impl AsRef<[u8]>) -> Self {
        fs::write(self.dir.join("stderr"), content).unwrap();
        self
    }
    pub fn exit(self, code: i32) -> Self {
        fs::write(self.dir.join("exit"), code.to_string()).unwrap();
        self
    }
    pub fn sleep(self, secs: u32) -> Self {
        fs::write(self.dir.join("sleep"), secs.to_string()).unwrap();
        self
    }
    pub fn bytes(self, n: u64) -> Self {
        fs::write(self.dir.join("bytes"), n.to_string()).unwrap();
        self
    }
}

/// Unpacks a .tar.gz, checks it holds exactly one top-level folder, and returns that folder.
pub fn unpack(archive: &Path, dest: &Path) -> PathBuf {
    let f = fs::File::open(archive).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut tops = std::collections::BTreeSet::new();
    for entry in ar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let first = path.components().next().unwrap();
        assert!(
            matches!(first, std::path::Component::Normal(_)),
            "archive entry {path:?} must be below one folder"
        );
        tops.insert(first.as_os_str().to_owned());
        entry.unpack_in(dest).unwrap();
    }
    assert_eq!(tops.len(), 1, "one top-level folder, got {tops:?}");
    dest.join(tops.into_iter().next().unwrap())
}

pub struct Collected {
    pub archive: PathBuf,
    pub top: PathBuf,
    pub manifest: Value,
    pub stderr: String,
}

impl Collected {
    pub fn sources(&self) -> &Vec<Value> {
        self.manifest["sources"].as_array().expect("sources[]")
    }

    /// The first record of a path.
    pub fn source(&self, path: &str) -> &Value {
        self.sources()
            .iter()
            .find(|s| s["path"] == path)
            .unwrap_or_else(|| panic!("no source {path} in the manifest"))
    }

    pub fn has(&self, rel: &str) -> bool {
        self.top.join(rel).is_file()
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.top.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn json(&self, rel: &str) -> Value {
        serde_json::from_str(&self.read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
    }

    /// Every file of the bundle, by relative path, as bytes.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(&self.top, &self.top, &mut out);
        out
    }
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(base, &p, out);
        } else {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            out.insert(rel, fs::read(&p).unwrap());
        }
    }
}

/// The lines kubectl prints for the script's pod query (jsonpath), computed from a pod list.
pub fn pods_tsv(pods: &Value) -> String {
    let mut out = String::new();
    for p in pods["items"].as_array().into_iter().flatten() {
        let s = |v: &Value| v.as_str().unwrap_or("").to_string();
        let ready: String = p["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["type"] == "Ready")
            .map(|c| s(&c["status"]))
            .collect();
        let names = |k: &str| -> String {
            p["spec"][k]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| format!("{} ", s(&c["name"])))
                .collect()
        };
        let restarts = |k: &str| -> String {
            p["status"][k]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| format!("{}={} ", s(&c["name"]), c["restartCount"]))
                .collect()
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}{}\n",
            s(&p["metadata"]["namespace"]),
            s(&p["metadata"]["name"]),
            s(&p["status"]["phase"]),
            ready,
            names("initContainers"),
            names("containers"),
            restarts("initContainerStatuses"),
            restarts("containerStatuses"),
        ));
    }
    out
}

/// The lines kubectl prints for the script's service-account query.
pub fn ksa_tsv(sas: &Value) -> String {
    let mut out = String::new();
    for sa in sas["items"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            sa["metadata"]["namespace"].as_str().unwrap_or(""),
            sa["metadata"]["name"].as_str().unwrap_or(""),
            sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
                .as_str()
                .unwrap_or("")
        ));
    }
    out
}

/// One JSON object a line, as kubectl's `{range .items[*]}{@}{"\n"}{end}` prints them.
pub fn items_lines(list: &Value, namespace: &str) -> String {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["metadata"]["namespace"] == namespace)
        .map(|i| format!("{}\n", serde_json::to_string(i).unwrap()))
        .collect()
}

/// A shell pattern that matches a literal string (the fake tool's rules are `case` patterns).
pub fn lit(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
