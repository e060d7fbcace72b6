//! `kubetriage timeline BUNDLE`: the timeline narrowed by time, place and severity, printed as
//! text that fits 80 columns, as JSON (a stable contract), or inside the HTML report.

use crate::bundle::Bundle;
use crate::cli::{Config, TimelineArgs, TimelineFormat};
use crate::engine;
use crate::facts::Facts;
use crate::model::CheckResult;
use crate::model::Severity;
use crate::report::Report;
use crate::sanitize::escape;
use crate::spec::Catalog;
use crate::timeline::{self, Entry, MessageReader, Timeline};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::io::{self, Write};
use unicode_width::UnicodeWidthChar;

/// Opens the bundle, runs the catalog (the timeline marks what the findings cite) and builds
/// the timeline with the same parsed facts. The bundle comes back too: the timeline's log
/// messages are read from its files when written, and an archive's unpacked folder goes when
/// the bundle is dropped.
pub fn analyze(config: &Config, cat: &Catalog) -> anyhow::Result<(Report, Timeline, Bundle)> {
    let bundle = Bundle::open(&config.bundle, &config.limits)?;
    let (report, tl) = {
        let facts = Facts::with_tuning(&bundle, config.tuning);
        let results = engine::run(cat, &facts);
        let report = Report::new(&bundle, &facts, results);
        let tl = timeline::build(&facts, &report.checks);
        (report, tl)
    };
    Ok((report, tl, bundle))
}

/// Runs `kubetriage timeline`.
pub fn run(args: &TimelineArgs, cat: &Catalog, out: &mut dyn Write) -> anyhow::Result<()> {
    let config = args.config();
    if let Some(n) = config.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()?;
    }
    let window = parse_window(&args.window).map_err(|e| anyhow::anyhow!("--window: {e}"))?;
    let bundle = Bundle::open(&config.bundle, &config.limits)?;
    let facts = Facts::with_tuning(&bundle, config.tuning);
    let results = engine::run(cat, &facts);
    let report = Report::new(&bundle, &facts, results);
    let reference = facts.collection_time();
    let when = |s: &Option<String>, flag: &str| -> anyhow::Result<Option<Timestamp>> {
        s.as_deref()
            .map(|s| parse_when(s, reference).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
            .transpose()
    };
    let mut filter = Filter {
        since: when(&args.since, "since")?,
        until: when(&args.until, "until")?,
        namespace: args.namespace.clone(),
        node: args.node.clone(),
        pod: args.pod.clone(),
        min_severity: args.min_severity,
        at: None,
    };
    if let Some(spec) = &args.around {
        let t = time_of(&facts, &report.checks, spec).map_err(|e| anyhow::anyhow!(e))?;
        let from = t.checked_sub(window).unwrap_or(Timestamp::MIN);
        let to = t.checked_add(window).unwrap_or(Timestamp::MAX);
        filter.since = Some(filter.since.map_or(from, |s| s.max(from)));
        filter.until = Some(filter.until.map_or(to, |u| u.min(to)));
    }
    // The filter applies while the bundle is read: what it leaves out is never kept.
    let tl = timeline::build_with(&facts, &report.checks, &filter, None);
    let entries: Vec<&Entry> = tl.entries.iter().collect();
    match args.format {
        TimelineFormat::Text => write_text(&report, &tl, &entries, out)?,
        TimelineFormat::Json => write_json(&report, &tl, &entries, out)?,
        TimelineFormat::Html => crate::report::html::write(&report, &tl, &entries, cat, out)?,
    }
    Ok(())
}

pub use crate::timeline::Filter;

/// A time given on the command line: RFC 3339 (`2026-11-20T09:40:00Z`), a date and time
/// without offset (UTC), or a time of day (`09:40`, on the day the bundle was collected).
pub fn parse_when(s: &str, reference: Option<Timestamp>) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let utc = jiff::tz::TimeZone::UTC;
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(utc)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    if let Ok(t) = s.parse::<jiff::civil::Time>() {
        let Some(r) = reference else {
            return Err(format!(
                "{s:?} is a time of day, but the bundle has no collection time to give it a date: write 2026-11-20T{s}Z"
            ));
        };
        let day = r.to_zoned(utc.clone()).date();
        return day
            .to_datetime(t)
            .to_zoned(utc)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "{s:?} is not a time: write 2026-11-20T09:40:00Z, 2026-11-20 09:40 (UTC) or 09:40 (the collection day)"
    ))
}

/// `10m`, `1h30m`, `90s`.
pub fn parse_window(s: &str) -> Result<SignedDuration, String> {
    s.trim()
        .parse::<SignedDuration>()
        .map(|d| d.abs())
        .map_err(|_| format!("{s:?} is not a duration: write e.g. 10m, 1h, 90s"))
}

/// The time of `FILE:LINE`: the timeline entry there, else the line's own timestamp.
pub fn time_of(facts: &Facts, checks: &[CheckResult], spec: &str) -> Result<Timestamp, String> {
    let (file, line) = spec
        .rsplit_once(':')
        .and_then(|(f, l)| Some((f, l.parse::<usize>().ok()?)))
        .ok_or_else(|| {
            format!("--around {spec:?}: write FILE:LINE, e.g. nodes/cp-1/journal/kubelet.log:120")
        })?;
    let only = Filter {
        at: Some((file.to_string(), line)),
        ..Filter::default()
    };
    let tl = timeline::build_with(facts, checks, &only, None);
    if let Some(e) = tl.entries.first() {
        return Ok(e.time);
    }
    if facts.bundle.file(file).is_none() {
        return Err(format!("--around: {file} is not in the bundle"));
    }
    let text = timeline::read_bundle_line(facts, file, line)
        .ok_or_else(|| format!("--around: {file} has no line {line}"))?;
    let l = crate::logline::parse(&text, tl.reference);
    match l.time {
        Some(t) if !(l.year_inferred && tl.reference.is_none()) => Ok(t),
        _ => Err(format!(
            "--around: {file}:{line} has no timestamp the timeline can place; pick a line with one"
        )),
    }
}

/// One entry of the JSON contract of `kubetriage timeline --format json`.
#[derive(Serialize)]
struct JsonEntry<'a> {
    time: String,
    source: JsonSource<'a>,
    kind: &'a str,
    object: &'a timeline::Object,
    severity: Severity,
    message: &'a str,
    checks: &'a [String],
}

#[derive(Serialize)]
struct JsonSource<'a> {
    file: &'a str,
    line: usize,
}

/// Entries whose messages are read back together (see [`MessageReader::batch`]).
const BATCH: usize = 1 << 17;

/// RFC 3339 in UTC, as the JSON and the HTML report write times.
pub fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

/// `{"version", "bundle", "entries": [...], "untimed"}`, written entry by entry (a large
/// bundle's timeline has millions of entries: no second copy of them is built).
pub fn write_json(
    report: &Report,
    tl: &Timeline,
    entries: &[&Entry],
    out: &mut dyn Write,
) -> io::Result<()> {
    let indent = |v: &dyn erased::Ser, out: &mut dyn Write| -> io::Result<()> {
        let text = v.pretty()?;
        // Nested one level deeper than serde_json's own top level.
        out.write_all(text.replace('\n', "\n  ").as_bytes())
    };
    write!(out, "{{\n  \"version\": ")?;
    serde_json::to_writer(&mut *out, &report.version)?;
    write!(out, ",\n  \"bundle\": ")?;
    indent(&report.bundle, out)?;
    write!(out, ",\n  \"entries\": [")?;
    let mut messages = MessageReader::new(tl);
    let mut i = 0;
    for chunk in entries.chunks(BATCH) {
        let texts = messages.batch(chunk);
        for (e, message) in chunk.iter().zip(&texts) {
            out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
            i += 1;
            let j = JsonEntry {
                time: rfc3339(e.time),
                source: JsonSource {
                    file: &e.file,
                    line: e.line,
                },
                kind: e.kind.as_str(),
                object: &e.object,
                severity: e.severity,
                message,
                checks: &e.checks,
            };
            out.write_all(j.pretty()?.replace('\n', "\n    ").as_bytes())?;
        }
    }
    if !entries.is_empty() {
        out.write_all(b"\n  ")?;
    }
    writeln!(out, "],\n  \"untimed\": {}\n}}", tl.untimed)
}

/// Pretty-printing any serializable value to a string, behind one object-safe trait.
mod erased {
    pub trait Ser {
        fn pretty(&self) -> std::io::Result<String>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn pretty(&self) -> std::io::Result<String> {
            serde_json::to_string_pretty(self).map_err(std::io::Error::other)
        }
    }
}

use erased::Ser as _;

const WIDTH: usize = 80;

/// Cuts `s` to `w` terminal columns, ending in `…` when cut.
pub fn fit(s: &str, w: usize) -> String {
    let mut out = String::new();
    let mut cols = 0;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= w {
        return s.to_string();
    }
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if cols + cw + 1 > w {
            break;
        }
        out.push(c);
        cols += cw;
    }
    out.push('…');
    out
}

/// Three lines an entry, 80 columns: time, severity, kind and object; the message; the source
/// line and the checks citing it (`*` in front of the time marks those).
pub fn write_text(
    report: &Report,
    tl: &Timeline,
    entries: &[&Entry],
    out: &mut dyn Write,
) -> io::Result<()> {
    let created = tl
        .reference
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "unknown".into());
    writeln!(
        out,
        "{}",
        fit(
            &format!("Timeline of {}", escape(&report.bundle.source)),
            WIDTH
        )
    )?;
    writeln!(out, "collected {created}; times in UTC")?;
    let cited = entries.iter().filter(|e| !e.checks.is_empty()).count();
    writeln!(
        out,
        "{} of {} entries shown, {} cited by findings (*), {} without a known time",
        entries.len(),
        tl.total,
        cited,
        tl.untimed
    )?;
    let mut day = String::new();
    let mut messages = MessageReader::new(tl);
    for chunk in entries.chunks(BATCH) {
        let texts = messages.batch(chunk);
        for (e, message) in chunk.iter().zip(&texts) {
            write_text_entry(out, e, message, &mut day)?;
        }
    }
    if entries.is_empty() {
        writeln!(out, "\nno entry matches")?;
    }
    Ok(())
}

/// One entry's three lines, after a day heading when the day changes.
fn write_text_entry(
    out: &mut dyn Write,
    e: &Entry,
    message: &str,
    day: &mut String,
) -> io::Result<()> {
    let d = e.time.strftime("%Y-%m-%d").to_string();
    if d != *day {
        writeln!(out, "\n── {d} (UTC) ──")?;
        *day = d;
    }
    let mark = if e.checks.is_empty() { ' ' } else { '*' };
    let head = format!(
        "{mark}{} {:<8} {:<21} {}",
        e.time.strftime("%H:%M:%S%.3f"),
        e.severity.as_str(),
        e.kind.as_str(),
        escape(&e.object.label())
    );
    writeln!(out, "{}", fit(&head, WIDTH))?;
    writeln!(out, "{}", fit(&format!("    {}", escape(message)), WIDTH))?;
    let mut src = format!("    {}:{}", escape(&e.file), e.line);
    if !e.checks.is_empty() {
        src.push_str("  ← ");
        src.push_str(&e.checks.join(", "));
    }
    writeln!(out, "{}", fit(&src, WIDTH))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_windows() {
        let r = Some("2026-11-20T10:15:00Z".parse().unwrap());
        let t = |s| parse_when(s, r).unwrap().to_string();
        assert_eq!(t("2026-11-20T09:40:00+01:00"), "2026-11-20T08:40:00Z");
        assert_eq!(t("2026-11-20 09:40"), "2026-11-20T09:40:00Z");
        assert_eq!(t("09:40"), "2026-11-20T09:40:00Z");
        assert!(parse_when("09:40", None).is_err());
        assert!(
            parse_when("yesterday", r)
                .unwrap_err()
                .contains("not a time")
        );
        assert_eq!(parse_window("10m").unwrap(), SignedDuration::from_mins(10));
        assert!(parse_window("ten").is_err());
    }

    #[test]
    fn fitting() {
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
        assert_eq!(fit("日本語", 5), "日本…");
    }
}
