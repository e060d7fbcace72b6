//! A check reads only what its spec says it reads: every file (or glob) a check asks the facts
//! for on any testdata bundle is covered by its spec's `reads` or its scans' `files`, so
//! `kubetriage explain` and the collection-problems view tell the truth.

mod common;

use common::*;
use globset::{Glob, GlobSetBuilder};
use kubetriage::bundle::{Bundle, Limits};
use kubetriage::facts::{Facts, Tuning};
use kubetriage::spec::{Catalog, TEXT_SOURCES};

#[test]
fn every_file_a_check_opens_is_listed_in_its_spec() {
    let catalog = Catalog::embedded().unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut errors = std::collections::BTreeSet::new();
    let mut bundles = 0;
    for e in std::fs::read_dir(testdata()).unwrap() {
        let path = e.unwrap().path();
        if !path.is_dir() || !path.join("manifest.json").is_file() {
            continue;
        }
        bundles += 1;
        let bundle = Bundle::open(&path, &Limits::default()).unwrap();
        let tuning = Tuning {
            record_reads: true,
            ..Tuning::default()
        };
        let facts = Facts::with_tuning(&bundle, tuning);
        pool.install(|| kubetriage::engine::run(&catalog, &facts));
        for (id, read) in facts.recorded_reads() {
            let check = catalog.get(&id).unwrap();
            let mut globs = GlobSetBuilder::new();
            for g in check
                .spec
                .reads
                .iter()
                .chain(check.spec.scan.iter().flat_map(|s| s.files.iter()))
            {
                let expanded: Vec<&str> = if g == "@text" {
                    TEXT_SOURCES.to_vec()
                } else {
                    vec![g.as_str()]
                };
                for g in expanded {
                    globs.add(Glob::new(g).unwrap());
                }
            }
            let globs = globs.build().unwrap();
            if !globs.is_match(&read) {
                errors.insert(format!("{id} reads {read}, which its spec does not list"));
            }
        }
    }
    assert!(bundles > 20);
    assert!(
        errors.is_empty(),
        "\n{}",
        errors.into_iter().collect::<Vec<_>>().join("\n")
    );
}
