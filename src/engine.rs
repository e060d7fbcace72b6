//! Runs the catalog over a bundle: one scan pass over the text files, then every check in
//! parallel, then results sorted by severity and id. The same bundle always gives the same
//! results, whatever the number of threads.

use crate::checks::{self, Ctx, Draft, Outcome};
use crate::facts::Facts;
use crate::model::{CheckResult, Evidence, Finding, MAX_EVIDENCE, Status};
use crate::platform::{self, Gate};
use crate::scan;
use crate::spec::{Analyzer, Catalog, Check};
use crate::template;
use rayon::prelude::*;

/// Every check's result, sorted by severity then id.
pub fn run(catalog: &Catalog, facts: &Facts) -> Vec<CheckResult> {
    run_with_progress(catalog, facts, None)
}

/// Like [`run`], reporting the scan's progress (for a UI that shows itself meanwhile).
pub fn run_with_progress(
    catalog: &Catalog,
    facts: &Facts,
    progress: Option<&scan::ScanProgress>,
) -> Vec<CheckResult> {
    // Large object lists are read and parsed while the logs are scanned: on a big cluster
    // they are most of the work, and the checks that need them would otherwise wait.
    let scanned = std::thread::scope(|s| {
        s.spawn(|| prefetch_lists(catalog, facts));
        scan::run_with_progress(catalog, facts, progress)
    });
    let found = platform::infer(facts);
    let mut results: Vec<CheckResult> = catalog
        .checks
        .par_iter()
        .enumerate()
        .map(|(i, check)| {
            let ctx = Ctx {
                facts,
                check,
                matches: &scanned.matches[i],
                files_scanned: &scanned.files_scanned[i],
            };
            let evaluated = facts.as_check(&check.spec.id, || evaluate(&ctx, &found));
            let outcome = match (evaluated, scanned.unreadable[i].first()) {
                // A pass is only a pass if every file the check needed was read.
                (Outcome::Pass, Some((file, why))) => {
                    Outcome::NotEvaluated(format!("{file} could not be read: {why}"))
                }
                (o, _) => o,
            };
            finish(check, outcome, scanned.dropped[i])
        })
        .collect();
    results.sort_by(|a, b| (a.severity, &a.id).cmp(&(b.severity, &b.id)));
    results
}

/// Reads and parses ahead, largest first, the JSON lists the catalog reads that are large
/// enough to be read as a stream (see [`crate::facts::Tuning::stream_lists_above`]).
fn prefetch_lists(catalog: &Catalog, facts: &Facts) {
    let mut big: Vec<(u64, &str)> = catalog
        .checks
        .iter()
        .flat_map(|c| &c.spec.reads)
        .filter(|p| p.ends_with(".json"))
        .filter_map(|p| Some((facts.bundle.file(p)?.size, p.as_str())))
        .filter(|&(size, _)| size > facts.stream_lists_above())
        .collect();
    big.sort_unstable_by(|a, b| b.cmp(a));
    big.dedup();
    for (_, path) in big {
        crate::cluster::prepare(facts, path);
    }
}

fn evaluate(ctx: &Ctx, found: &platform::Inferred) -> Outcome {
    match platform::gate(&ctx.check.spec.applies_to, found) {
        Ok(()) => {}
        Err(Gate::OtherPlatform(why)) => return Outcome::NotApplicable(why),
        Err(Gate::Unknown(why)) => return Outcome::NotEvaluated(why),
    }
    let r = match &ctx.check.analyzer {
        Analyzer::NotImplemented => {
            return Outcome::NotEvaluated("not implemented in this version of kubetriage".into());
        }
        Analyzer::LogPattern { scans, group_by } => {
            checks::generic::log_pattern(ctx, scans, group_by.as_deref())
        }
        Analyzer::ObjectMatch {
            source,
            all,
            any,
            vars,
            evidence,
        } => checks::generic::object_match(ctx, source, all, any, vars, evidence.as_ref()),
        Analyzer::Builtin => match checks::builtin(&ctx.check.spec.id) {
            Some(run) => run(ctx),
            // `checks::validate` refuses such a catalog; a library caller may skip it.
            None => Ok(Outcome::NotEvaluated(format!(
                "no built-in logic is registered for {}",
                ctx.check.spec.id
            ))),
        },
    };
    r.unwrap_or_else(|u| Outcome::NotEvaluated(u.reason))
}

fn finish(check: &Check, outcome: Outcome, dropped: usize) -> CheckResult {
    let spec = &check.spec;
    let mut result = CheckResult {
        id: spec.id.clone(),
        status: Status::Pass,
        severity: spec.severity,
        title: spec.title.clone(),
        reason: String::new(),
        findings: Vec::new(),
    };
    match outcome {
        Outcome::Pass => {}
        Outcome::NotEvaluated(reason) => {
            result.status = Status::NotEvaluated;
            result.reason = reason;
        }
        Outcome::Missing(d) => {
            result.status = Status::NotEvaluated;
            result.reason = missing_reason(check, &d);
        }
        Outcome::NotApplicable(reason) => {
            result.status = Status::NotApplicable;
            result.reason = reason;
        }
        Outcome::Findings(drafts) if drafts.is_empty() => {}
        Outcome::Findings(drafts) => {
            result.status = Status::Finding;
            let extra_per_finding = if drafts.len() == 1 { dropped } else { 0 };
            result.findings = drafts
                .into_iter()
                .map(|d| to_finding(check, d, extra_per_finding))
                .collect();
        }
    }
    result
}

/// The spec's `not_evaluated` text the check chose, filled; a spec without one (a user's
/// override of a built-in's words) still names the files the check reads.
fn missing_reason(check: &Check, d: &Draft) -> String {
    let text = &check.spec.not_evaluated;
    debug_assert!(
        text.variants.is_empty()
            || d.variants
                .iter()
                .all(|v| *v == "default" || text.variants.contains_key(*v)),
        "{}: a check chose a not_evaluated variant {:?} that its spec does not define",
        check.spec.id,
        d.variants
    );
    let reason = template::fill(text.pick(&d.variants), &d.vars)
        .trim()
        .to_string();
    if !reason.is_empty() {
        return reason;
    }
    // A generic analyzer names the files it looked for.
    if let Some(globs) = d.vars.get("globs") {
        return format!("no file to read: none of {globs} is in the bundle");
    }
    let reads = if check.spec.reads.is_empty() {
        "its input".to_string()
    } else {
        check.spec.reads.join(", ")
    };
    format!("the data it needs is not in the bundle (it reads {reads})")
}

fn to_finding(check: &Check, d: Draft, dropped: usize) -> Finding {
    let spec = &check.spec;
    let fill = |text: &crate::spec::Text| {
        template::fill(text.pick(&d.variants), &d.vars)
            .trim()
            .to_string()
    };
    // A spec without variants (a user's override of a built-in check's words) gives its one
    // text to every finding; a spec with variants must define each one its check chooses.
    let texts = [&spec.summary, &spec.detail, &spec.remediation];
    debug_assert!(
        texts.iter().all(|t| t.variants.is_empty())
            || d.variants
                .iter()
                .all(|v| texts.iter().any(|t| t.variants.contains_key(*v))),
        "{}: a finding chose a text variant {:?} that no text of the spec defines",
        spec.id,
        d.variants
    );
    let summary = {
        let s = fill(&spec.summary);
        if s.is_empty() { spec.title.clone() } else { s }
    };
    let mut evidence: Vec<Evidence> = d.evidence.clone();
    evidence.sort();
    evidence.dedup();
    let occurrences = d.occurrences.unwrap_or(evidence.len()) + dropped;
    evidence.truncate(MAX_EVIDENCE);
    Finding {
        summary,
        detail: fill(&spec.detail),
        remediation: fill(&spec.remediation),
        severity: d.severity.unwrap_or(spec.severity),
        evidence,
        occurrences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{Bundle, Limits};

    #[test]
    fn a_file_that_cannot_be_read_turns_a_pass_into_not_evaluated() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir
            .path()
            .join("kubectl/logs/kube-system/coredns-1/coredns.log");
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        std::fs::write(
            dir.path().join("manifest.json"),
            r#"{"format":1,"mode":"kubeadm","sources":[]}"#,
        )
        .unwrap();
        std::fs::write(&log, "[INFO] plugin/reload: fine\n").unwrap();
        let bundle = Bundle::open(dir.path(), &Limits::default()).unwrap();
        let catalog = Catalog::embedded().unwrap();
        let id = "kubeadm/coredns-loop";
        let before = run(&catalog, &Facts::new(&bundle));
        assert_eq!(
            before.iter().find(|r| r.id == id).unwrap().status,
            Status::Pass
        );
        // The file vanishes (or becomes unreadable) after the bundle was listed.
        std::fs::remove_file(&log).unwrap();
        let after = run(&catalog, &Facts::new(&bundle));
        let r = after.iter().find(|r| r.id == id).unwrap();
        assert_eq!(r.status, Status::NotEvaluated);
        assert!(
            r.reason.contains("coredns.log could not be read"),
            "{}",
            r.reason
        );
    }
}
