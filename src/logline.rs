//! Reading one log line as the tools really print it: journald (`short-iso`, `short-iso-precise`,
//! `short`), RFC 3339 prefixes (`kubectl logs --timestamps`, CoreDNS), Go's `log` prefix, klog
//! headers (`E1120 09:30:43.552671    1187 file.go:123] msg`, possibly inside a journald line),
//! and JSON log lines. Years missing from a format are taken from the bundle's collection time.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// What could be read from one line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine<'a> {
    pub time: Option<Timestamp>,
    /// Severity letter: `F` fatal/panic, `E` error, `W` warning, `I` info, `D` debug/trace; from
    /// a klog header, a JSON line's level field, logfmt's `level=`, or a leading level word
    /// (`[ERROR]`, `WARN`, `error:`). `None` when the line does not say.
    pub level: Option<char>,
    /// The line carries no year (klog, journald `short`): the year of `time` is the reference's,
    /// or 1970 without a reference, in which case the time is not really known.
    pub year_inferred: bool,
    /// The text after every recognised prefix.
    pub message: &'a str,
}

/// Parses `line`; `reference` (the bundle's collection time) supplies years for formats without one.
pub fn parse(line: &str, reference: Option<Timestamp>) -> LogLine<'_> {
    let mut time = None;
    let mut year_inferred = false;
    let mut rest = line.trim_end_matches(['\r', '\n']);
    if rest.starts_with('{') {
        return json_line(rest);
    }
    if let Some((t, r)) = iso_prefix(rest) {
        time = Some(t);
        rest = r;
        rest = strip_journal_ident(rest);
    } else if let Some((t, r)) = syslog_prefix(rest, reference) {
        time = Some(t);
        year_inferred = true;
        rest = strip_journal_ident(r);
    } else if let Some((t, r)) = go_log_prefix(rest) {
        time = Some(t);
        rest = r;
    }
    let mut level = None;
    if let Some((lvl, t, r)) = klog_header(rest, reference.or(time)) {
        level = Some(lvl);
        if time.is_none() {
            time = Some(t);
            year_inferred = true;
        }
        rest = r;
    }
    // A JSON payload after a journald or RFC 3339 prefix (containerd, zap in production mode).
    if rest.starts_with('{') {
        level = level.or_else(|| json_level(rest));
    }
    LogLine {
        time,
        level: level.or_else(|| text_level(rest)),
        message: rest,
        year_inferred,
    }
}

/// The severity a line's text announces: logfmt `level=error` (containerd, CRI-O) in its first
/// part, or a level word among its first words (`[ERROR]`, `WARN`, `E!`, `error:`, Python's
/// `ERROR in app:`, logback's `... ERROR 1 --- [main]`).
fn text_level(msg: &str) -> Option<char> {
    let head = match msg.char_indices().nth(96) {
        Some((i, _)) => &msg[..i],
        None => msg,
    };
    if let Some(i) = head.find("level=") {
        let v = head[i + 6..]
            .trim_start_matches('"')
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        if let Some(l) = level_word(v, true) {
            return Some(l);
        }
    }
    head.split_whitespace()
        .take(4)
        .enumerate()
        .find_map(|(i, raw)| {
            let w = raw.trim_matches(|c: char| "[]():!|<>".contains(c));
            if w.bytes().all(|c| c.is_ascii_uppercase()) {
                return level_word(w, false);
            }
            // Other cases only as the first word, marked as a label: `error:`, `[Warning]`.
            let labelled = raw.ends_with(':') || raw.starts_with('[');
            if i == 0 && labelled {
                level_word(w, true)
            } else {
                None
            }
        })
}

/// `ERROR`, `WARN`… as a letter; `loose` also accepts other cases (`error`, `Warning`).
fn level_word(w: &str, loose: bool) -> Option<char> {
    let up = w.to_ascii_uppercase();
    if !loose && w != up {
        return None;
    }
    Some(match up.as_str() {
        "FATAL" | "PANIC" | "CRITICAL" | "CRIT" | "EMERG" | "EMERGENCY" | "ALERT" | "DPANIC" => 'F',
        "ERROR" | "ERR" | "EROR" | "SEVERE" => 'E',
        "WARN" | "WARNING" | "WRN" => 'W',
        "INFO" | "INF" | "NOTICE" => 'I',
        "DEBUG" | "DBG" | "TRACE" | "TRC" | "FINE" => 'D',
        _ => return None,
    })
}

/// A JSON line's level: `level`, `severity`, `lvl` or `log.level` as a word, or pino's and
/// bunyan's numbers (60 fatal, 50 error, 40 warn, 30 info).
fn json_level(s: &str) -> Option<char> {
    let v: serde_json::Value = serde_json::from_str(s).ok()?;
    json_value_level(&v)
}

fn json_value_level(v: &serde_json::Value) -> Option<char> {
    let field = ["level", "severity", "lvl", "loglevel", "levelname"]
        .iter()
        .find_map(|k| v.get(*k))
        .or_else(|| v.get("log").and_then(|l| l.get("level")))?;
    match field {
        serde_json::Value::String(w) => level_word(w, true),
        serde_json::Value::Number(n) => Some(match n.as_u64()? {
            60.. => 'F',
            50..=59 => 'E',
            40..=49 => 'W',
            30..=39 => 'I',
            _ => 'D',
        }),
        _ => None,
    }
}

/// `2026-11-20T09:30:43.552671+0000 `, `...+00:00 `, `...Z ` at the start of a line, also with a
/// space for the `T` and a comma before the fraction (`2026-11-20 09:30:43,552`: Python's logging,
/// log4j, logback), followed by a space or a tab (zap's console lines), possibly in brackets.
fn iso_prefix(s: &str) -> Option<(Timestamp, &str)> {
    let bracket = s.starts_with('[');
    let inner = if bracket { &s[1..] } else { s };
    let b = inner.as_bytes();
    if b.len() < 19
        || !b[..4].iter().all(u8::is_ascii_digit)
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
    {
        return None;
    }
    let rest = &inner[11..];
    let end = rest
        .find(|c: char| c.is_whitespace() || (bracket && c == ']'))
        .unwrap_or(rest.len());
    let t = parse_iso(&format!(
        "{}T{}",
        &inner[..10],
        rest[..end].replace(',', ".")
    ))?;
    let mut after = &rest[end..];
    if bracket {
        after = after.strip_prefix(']')?;
    }
    Some((t, after.trim_start()))
}

/// Parses RFC 3339 and journald's offset without a colon (`+0000`).
pub fn parse_iso(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    // `+hhmm` → `+hh:mm`
    let n = s.len();
    if n > 5 {
        let (head, off) = s.split_at(n - 5);
        if (off.starts_with('+') || off.starts_with('-'))
            && off[1..].bytes().all(|c| c.is_ascii_digit())
        {
            return format!("{head}{}:{}", &off[..3], &off[3..])
                .parse::<Timestamp>()
                .ok();
        }
    }
    // No offset at all: UTC.
    s.parse::<DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Jun 12 12:23:42 ` (journald `short`).
fn syslog_prefix(s: &str, reference: Option<Timestamp>) -> Option<(Timestamp, &str)> {
    if s.len() < 16 {
        return None;
    }
    let month = MONTHS.iter().position(|m| s.starts_with(m))? as i8 + 1;
    let day: i8 = s.get(4..6)?.trim().parse().ok()?;
    let (h, mi, se) = hms(s.get(7..15)?)?;
    let t = with_year(month, day, h, mi, se, 0, reference)?;
    Some((t, s[15..].trim_start()))
}

/// `2018/09/06 13:02:45 ` (Go's log package).
fn go_log_prefix(s: &str) -> Option<(Timestamp, &str)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' {
        return None;
    }
    let y: i16 = s.get(0..4)?.parse().ok()?;
    let mo: i8 = s.get(5..7)?.parse().ok()?;
    let d: i8 = s.get(8..10)?.parse().ok()?;
    let (h, mi, se) = hms(s.get(11..19)?)?;
    let t = DateTime::new(y, mo, d, h, mi, se, 0)
        .ok()?
        .to_zoned(TimeZone::UTC)
        .ok()?
        .timestamp();
    Some((t, s[19..].trim_start()))
}

fn hms(s: &str) -> Option<(i8, i8, i8)> {
    let mut it = s.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let sec = it.next()?.parse().ok()?;
    Some((h, m, sec))
}

/// Places a month/day without a year in the year that makes it not later than `reference`.
fn with_year(
    month: i8,
    day: i8,
    h: i8,
    mi: i8,
    se: i8,
    nanos: i32,
    reference: Option<Timestamp>,
) -> Option<Timestamp> {
    let refz = reference
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(TimeZone::UTC);
    let mut year = if reference.is_some() {
        refz.year()
    } else {
        1970
    };
    let mk = |y: i16| {
        DateTime::new(y, month, day, h, mi, se, nanos)
            .ok()
            .and_then(|d| d.to_zoned(TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    };
    let mut t = mk(year)?;
    // A line "from December" read against a January bundle is from last year.
    if reference.is_some_and(|r| t.as_second() > r.as_second() + 86_400) {
        year -= 1;
        t = mk(year)?;
    }
    Some(t)
}

/// `hostname ident[pid]: ` after a journald timestamp.
fn strip_journal_ident(s: &str) -> &str {
    let Some((host, rest)) = s.split_once(' ') else {
        return s;
    };
    if host.is_empty() || host.starts_with('[') {
        return s;
    }
    match rest.find(": ") {
        Some(i)
            if !rest[..i].contains(' ')
                && (rest[..i].ends_with(']')
                    || rest[..i]
                        .chars()
                        .all(|c| c.is_alphanumeric() || "-_.@".contains(c))) =>
        {
            &rest[i + 2..]
        }
        _ => s,
    }
}

/// `E1120 09:30:43.552671    1187 file.go:123] msg`.
fn klog_header(s: &str, reference: Option<Timestamp>) -> Option<(char, Timestamp, &str)> {
    let b = s.as_bytes();
    if b.len() < 22
        || !matches!(b[0], b'I' | b'W' | b'E' | b'F')
        || !b[1..5].iter().all(u8::is_ascii_digit)
        || b[5] != b' '
    {
        return None;
    }
    let month: i8 = s.get(1..3)?.parse().ok()?;
    let day: i8 = s.get(3..5)?.parse().ok()?;
    let (h, mi, se) = hms(s.get(6..14)?)?;
    let micros: i32 = s.get(15..21).and_then(|x| x.parse().ok()).unwrap_or(0);
    let close = s.find("] ")?;
    let t = with_year(month, day, h, mi, se, micros * 1000, reference)?;
    Some((b[0] as char, t, &s[close + 2..]))
}

/// A number since the epoch in seconds (zap's `ts`), milliseconds (pino's `time`), microseconds
/// or nanoseconds, told apart by its size.
fn epoch(f: f64) -> Option<Timestamp> {
    let ms = if f >= 1e17 {
        f / 1e6
    } else if f >= 1e14 {
        f / 1e3
    } else if f >= 1e11 {
        f
    } else {
        f * 1e3
    };
    Timestamp::from_millisecond(ms as i64).ok()
}

fn json_line(s: &str) -> LogLine<'_> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(s) else {
        return LogLine {
            time: None,
            level: text_level(s),
            message: s,
            year_inferred: false,
        };
    };
    let time = ["time", "ts", "timestamp", "@timestamp", "asctime"]
        .iter()
        .find_map(|k| match v.get(*k) {
            Some(serde_json::Value::String(t)) => iso_prefix(t).map(|(t, _)| t),
            Some(serde_json::Value::Number(n)) => n.as_f64().and_then(epoch),
            // `{"seconds": 1795169582, "nanos": 345000000}` (Cloud Logging's structured form)
            Some(serde_json::Value::Object(o)) => {
                let secs = o.get("seconds")?.as_f64()?;
                let nanos = o.get("nanos").and_then(|n| n.as_f64()).unwrap_or(0.0);
                epoch(secs + nanos / 1e9)
            }
            _ => None,
        });
    LogLine {
        time,
        level: json_value_level(&v),
        message: s,
        year_inferred: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn journald_with_klog_inside() {
        let l = parse(
            "2026-11-20T09:30:43.552671+0000 cp-1 kubelet[4759]: F1120 09:30:43.552671    4759 server.go:274] failed to run Kubelet: x",
            None,
        );
        assert_eq!(l.time, Some(ts("2026-11-20T09:30:43.552671Z")));
        assert_eq!(l.level, Some('F'));
        assert_eq!(l.message, "failed to run Kubelet: x");
        let l = parse("2023-09-08T17:20:30+02:00 tarta r710[20911]: Highest", None);
        assert_eq!(l.time, Some(ts("2023-09-08T15:20:30Z")));
        assert_eq!(l.message, "Highest");
    }

    #[test]
    fn formats_without_a_year_take_the_bundle_year() {
        let r = Some(ts("2026-01-03T00:00:00Z"));
        let l = parse("Dec 31 23:59:59 node kubelet[1]: hello", r);
        assert_eq!(l.time, Some(ts("2025-12-31T23:59:59Z")));
        assert_eq!(l.message, "hello");
        let k = parse("E0102 10:00:00.000001       1 x.go:1] boom", r);
        assert_eq!(k.time, Some(ts("2026-01-02T10:00:00.000001Z")));
        assert_eq!(k.message, "boom");
    }

    #[test]
    fn other_prefixes() {
        let l = parse("2019-04-17T00:18:44.486Z [FATAL] plugin/loop: Loop", None);
        assert_eq!(l.time, Some(ts("2019-04-17T00:18:44.486Z")));
        assert_eq!(l.message, "[FATAL] plugin/loop: Loop");
        let g = parse("2018/09/06 13:02:45 [FATAL] plugin/loop: Seen", None);
        assert_eq!(g.time, Some(ts("2018-09-06T13:02:45Z")));
        let j = parse(
            r#"{"level":"error","ts":"2026-11-20T10:00:00Z","msg":"no creds"}"#,
            None,
        );
        assert_eq!(j.time, Some(ts("2026-11-20T10:00:00Z")));
        let py = parse(
            "2026-11-20 10:11:02,204 WARNING google.auth Compute Engine",
            None,
        );
        assert_eq!(py.time, Some(ts("2026-11-20T10:11:02.204Z")));
        assert_eq!(py.message, "WARNING google.auth Compute Engine");
        let flask = parse("[2026-11-20 10:11:02,204] ERROR in app: boom", None);
        assert_eq!(flask.time, Some(ts("2026-11-20T10:11:02.204Z")));
        assert_eq!(flask.message, "ERROR in app: boom");
        let logback = parse(
            "2026-11-20 10:16:03.456 ERROR 1 --- [main] c.e.App : x",
            None,
        );
        assert_eq!(logback.time, Some(ts("2026-11-20T10:16:03.456Z")));
        let zap = parse(
            "2026-11-20T10:12:01.512Z\tERROR\tauth/token.go:41\tfailed",
            None,
        );
        assert_eq!(zap.time, Some(ts("2026-11-20T10:12:01.512Z")));
        assert_eq!(zap.message, "ERROR\tauth/token.go:41\tfailed");
        for (line, want) in [
            (
                r#"{"level":50,"time":1795169582345,"msg":"x"}"#,
                "2026-11-20T10:13:02.345Z",
            ),
            (
                r#"{"level":"error","ts":1795169642.5,"msg":"x"}"#,
                "2026-11-20T10:14:02.5Z",
            ),
            (
                r#"{"severity":"ERROR","timestamp":{"seconds":1795169642,"nanos":250000000}}"#,
                "2026-11-20T10:14:02.25Z",
            ),
            (
                r#"{"asctime":"2026-11-20 10:11:02,204","message":"x"}"#,
                "2026-11-20T10:11:02.204Z",
            ),
        ] {
            assert_eq!(parse(line, None).time, Some(ts(want)), "{line}");
        }
        let plain = parse("[FATAL] plugin/loop: Loop", None);
        assert_eq!(
            (plain.time, plain.message),
            (None, "[FATAL] plugin/loop: Loop")
        );
    }

    #[test]
    fn levels_from_every_kind_of_line() {
        let r = Some(ts("2027-01-01T00:10:00Z"));
        for (line, want) in [
            ("E1231 23:59:58.1       1 x.go:1] boom", Some('E')),
            (
                r#"{"level":"warn","ts":"2026-12-31T23:59:59Z","msg":"slow"}"#,
                Some('W'),
            ),
            (r#"{"severity":"ERROR","message":"x"}"#, Some('E')),
            (r#"{"level":50,"time":1795169582345,"msg":"x"}"#, Some('E')),
            (r#"{"log":{"level":"fatal"},"msg":"x"}"#, Some('F')),
            ("2026-12-31T23:59:59Z [FATAL] plugin/loop: Loop", Some('F')),
            (
                "2026-11-20 10:16:03.456 ERROR 1 --- [main] c.e.App : x",
                Some('E'),
            ),
            (
                "2026-11-20T10:12:01.512Z\tWARN\tauth/token.go:41\tslow",
                Some('W'),
            ),
            (
                "2026-11-20T09:30:00+0000 n containerd[9]: time=\"2026-11-20T09:30:00Z\" level=error msg=\"x\"",
                Some('E'),
            ),
            ("[2026-11-20 10:11:02,204] ERROR in app: boom", Some('E')),
            ("error: unable to upgrade connection", Some('E')),
            ("2026-11-20T10:00:00Z all errors are gone", None),
            ("2026-11-20T10:00:00Z the Error was fixed", None),
            ("[preflight] Running pre-flight checks", None),
        ] {
            assert_eq!(parse(line, r).level, want, "{line}");
        }
    }

    #[test]
    fn years_taken_from_the_reference_are_flagged() {
        let r = Some(ts("2027-01-01T00:10:00Z"));
        let k = parse("E1231 23:59:58.100000       1 x.go:1] boom", r);
        assert!(k.year_inferred);
        assert_eq!(k.time, Some(ts("2026-12-31T23:59:58.1Z")));
        let j = parse(
            "2026-12-31T23:59:58.100000+0000 n kubelet[1]: E1231 23:59:58.100000 1 x.go:1] b",
            r,
        );
        assert!(!j.year_inferred);
        assert!(parse("Dec 31 23:59:59 node kubelet[1]: hello", None).year_inferred);
        assert!(!parse("2018/09/06 13:02:45 [FATAL] x", None).year_inferred);
    }
}
