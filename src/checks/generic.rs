//! The generic analyzers a spec can use without any Rust: `log-pattern` and `object-match`.

use super::{Ctx, Draft, Outcome, group_matches};
use crate::facts::Unavailable;
use crate::objpath;
use crate::spec::Cond;
use crate::template;
use serde_json::Value;

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
        return Draft::missing("default")
            .var("globs", globs.join(", "))
            .not_evaluated();
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
        if !all.iter().all(|c| holds(c, v)) || !(any.is_empty() || any.iter().any(|c| holds(c, v)))
        {
            continue;
        }
        let mut d = Draft::new();
        for (name, path) in vars {
            d.vars.insert(
                name.clone(),
                path.first(v).map(objpath::to_text).unwrap_or_default(),
            );
        }
        // Named groups of the `matches` conditions that held: a field's text taken apart.
        for c in all.iter().chain(any) {
            captures(c, v, &mut d.vars);
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

/// True when some value the condition's path reaches satisfies its operator.
pub fn holds(c: &Cond, obj: &Value) -> bool {
    let vals = c.path.values(obj);
    if let Some(want) = c.exists {
        return want == vals.iter().any(|v| !v.is_null());
    }
    vals.iter().any(|v| {
        if let Some(e) = &c.equals {
            return *v == e;
        }
        if let Some(list) = &c.one_of {
            return list.contains(v);
        }
        if let Some(r) = &c.matches {
            return r.is_match(&objpath::to_text(v));
        }
        if let Some(n) = c.greater_than {
            return v.as_f64().is_some_and(|x| x > n);
        }
        false
    })
}

/// Adds the named groups of a `matches` condition, from the first value it matches.
fn captures(c: &Cond, obj: &Value, vars: &mut crate::template::Vars) {
    let Some(r) = &c.matches else { return };
    if r.capture_names().flatten().next().is_none() {
        return;
    }
    for v in c.path.values(obj) {
        let text = objpath::to_text(v);
        if let Some(caps) = r.captures(&text) {
            for name in r.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    vars.insert(name.to_string(), m.as_str().to_string());
                }
            }
            return;
        }
    }
}
