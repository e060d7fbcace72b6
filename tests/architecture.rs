//! The module structure keeps one direction of data flow: no two top-level modules import each
//! other, directly or through others. `docs/ARCHITECTURE.md` draws the layers this test keeps.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its non-test code names as `crate::…`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
            if module == "main" || module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // Unit tests may reach anywhere; only the shipped code counts.
            let code = text
                .split("\n#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            let deps = graph.entry(module.clone()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    deps.insert(name);
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(graph.len() > 10, "the source tree was not read: {graph:?}");
    for start in graph.keys() {
        // Every module reachable from `start`; reaching `start` again is a cycle.
        let mut seen = BTreeSet::new();
        let mut todo: Vec<(&String, Vec<&String>)> = vec![(start, vec![start])];
        while let Some((m, path)) = todo.pop() {
            for next in graph.get(m).into_iter().flatten() {
                let mut p = path.clone();
                p.push(next);
                assert!(
                    next != start,
                    "import cycle: {}",
                    p.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" → ")
                );
                if seen.insert(next) {
                    todo.push((next, p));
                }
            }
        }
    }
}

#[test]
fn the_pipeline_and_the_ui_sit_below_the_driver_and_the_spec_below_the_checks() {
    let graph = imports();
    let uses = |a: &str, b: &str| graph.get(a).is_some_and(|d| d.contains(b));
    assert!(!uses("tui", "app"), "the UI must not reach into the driver");
    assert!(
        !uses("pipeline", "tui"),
        "the pipeline must not know the UI"
    );
    assert!(
        !uses("spec", "checks"),
        "specs are data, bound to functions elsewhere"
    );
    assert!(!uses("facts", "scan"), "facts must not depend on the scan");
}
