//! The generic analyzers a spec can use without any Rust: `log-pattern` and `object-match`.

use super::{Ctx, Draft, Outcome, group_matches};
use crate::facts::Unavailable;
use crate::objpath;
use crate::spec::Cond;
use crate::template;

/// Every line matched by the listed scans (all scans when none are listed) is evidence; lines
/// are grouped into one finding per distinct `group_by` value (one finding in all by default).
pub fn log_pattern(
    ctx: &Ctx,
    scans: &[String],
    group_by: Option<&str>,
) -> Result<Outcome, Unavailable> {
    let names: Vec<String> = if scans.is_empty() {
        ctx.check.scans.iter().map(|s| s.name.clone()).collect()
    } else {
        scans.to_vec()
    };
    if names.iter().all(|n| ctx.scanned(n) == 0) {
        let globs: Vec<String> = names.iter().map(|n| ctx.scan_globs(n)).collect();
        return Ok(Outcome::NotEvaluated(format!(
            "no file to read: none of {} is in the bundle",
            globs.join(", ")
        )));
    }
    let matches: Vec<_> = names.iter().flat_map(|n| ctx.matches_of(n)).collect();
    if matches.is_empty() {
        return Ok(Outcome::Pass);
    }
    let mut sorted = matches;
    sorted.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let drafts = group_matches(sorted, |vars| {
        group_by
            .map(|g| template::fill(g, vars))
            .unwrap_or_default()
    });
    Ok(Outcome::Findings(drafts))
}

/// Every object of `source` satisfying all of `all` and at least one of `any` is a finding.
pub fn object_match(
    ctx: &Ctx,
    source: &str,
    all: &[Cond],
    any: &[Cond],
    vars: &[(String, objpath::Path)],
    evidence: Option<&objpath::Path>,
) -> Result<Outcome, Unavailable> {
    let doc = ctx.list(source)?;
    let mut drafts = Vec::new();
    for item in &doc.items {
        let v = &item.value;
        if !all.iter().all(|c| c.holds(v)) || !(any.is_empty() || any.iter().any(|c| c.holds(v))) {
            continue;
        }
        let mut d = Draft::new();
        for (name, path) in vars {
            d.vars.insert(
                name.clone(),
                path.first(v).map(objpath::to_text).unwrap_or_default(),
            );
        }
        let ev = match evidence.and_then(|p| p.first(v)) {
            Some(val) => doc.item_line_evidence(item, &val.to_string()),
            None => doc.item_evidence(item),
        };
        drafts.push(d.evidence(ev));
    }
    Ok(if drafts.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Findings(drafts)
    })
}
