//! A small harness for running the real binary on bundles.
#![allow(dead_code)]

pub mod tmux;
pub mod tui;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file of a folder, by its path inside it.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

pub fn kubetriage() -> Command {
    let mut c = Command::cargo_bin("kubetriage").unwrap();
    c.env_remove("RUST_LOG");
    c
}

/// Runs `kubetriage --format json` and returns (exit code, report).
pub fn run_json(bundle: &Path, extra: &[&str]) -> (i32, Value) {
    let out = kubetriage()
        .arg("--format")
        .arg("json")
        .args(extra)
        .arg(bundle)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{}: exit {code}, not JSON ({e}); stderr: {}",
            bundle.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v)
}

/// Packs a bundle folder as `<name>.tar.gz` (one top-level folder) into `dest`.
pub fn pack_tar_gz(folder: &Path, dest: &Path) -> PathBuf {
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    let out = dest.join(format!("{name}.tar.gz"));
    let f = std::fs::File::create(&out).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    b.append_dir_all(&name, folder).unwrap();
    b.into_inner().unwrap().finish().unwrap();
    out
}

/// `file:line` for every evidence item of a finding.
pub fn evidence_refs(finding: &Value) -> Vec<String> {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["file"].as_str().unwrap(), e["line"]))
        .collect()
}

pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in report"))
}
