//! Bundles written by another tool open cleanly: no error, every check not evaluated with its
//! reason, and a warning that says what the bundle looks like.

mod common;

use common::*;

#[test]
fn troubleshoot_bundles_open_with_every_check_not_evaluated() {
    for name in [
        "troubleshoot-testdata-support-bundle.tar.gz",
        "sbctl-tests-support-bundle.tar.gz",
    ] {
        let (code, report) = run_json(&testdata().join("foreign").join(name), &[]);
        assert_eq!(code, 0, "{name}");
        let warnings = report["bundle"]["warnings"].to_string();
        assert!(
            warnings.contains("manifest.json is not in the bundle")
                && warnings.contains("troubleshoot"),
            "{name}: {warnings}"
        );
        for c in report["checks"].as_array().unwrap() {
            assert_eq!(c["status"], "not-evaluated", "{name}: {}", c["id"]);
            assert!(
                !c["reason"].as_str().unwrap().is_empty(),
                "{name}: {}",
                c["id"]
            );
        }
    }
}

#[test]
fn relative_links_inside_a_foreign_bundle_are_reported_not_followed() {
    let (_, report) = run_json(
        &testdata().join("foreign/troubleshoot-testdata-support-bundle.tar.gz"),
        &[],
    );
    let problems = report["bundle"]["problems"].as_array().unwrap();
    assert!(problems.iter().any(|p| {
        p["file"].as_str().unwrap().starts_with("all-logs/")
            && p["problem"].as_str().unwrap().contains("not followed")
    }));
}
