//! The benchmark generator is deterministic and writes bundles kubetriage reads.

#[path = "../examples/gen_bundle.rs"]
#[allow(dead_code)]
mod gen_bundle;

mod common;

use std::collections::BTreeMap;
use std::path::Path;

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
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

#[test]
fn same_seed_same_bytes_and_every_json_file_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let size = gen_bundle::Size::named("tiny").unwrap();
    gen_bundle::generate(&tmp.path().join("a"), size, 42).unwrap();
    gen_bundle::generate(&tmp.path().join("b"), size, 42).unwrap();
    gen_bundle::generate(&tmp.path().join("c"), size, 43).unwrap();
    let (a, b, c) = (
        tree(&tmp.path().join("a")),
        tree(&tmp.path().join("b")),
        tree(&tmp.path().join("c")),
    );
    assert_eq!(a, b, "the same seed must give the same bundle");
    assert_ne!(a, c, "another seed gives another bundle");
    for (path, bytes) in &a {
        if path.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(bytes)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    // The planted findings are found.
    let (_, report) = common::run_json(&tmp.path().join("a"), &[]);
    let mds = common::check(&report, "gke/metadata-server-crashloop");
    assert_eq!(mds["status"], "finding", "{mds}");
}
