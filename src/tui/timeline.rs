//! The timeline view's state: "what happened around here". The whole bundle's timeline, or the
//! entries within a window of an evidence line's time, narrowed by the check list's filters
//! (text, severity, "cited by a finding"), with an lnav-style histogram of entries per interval.
//!
//! A large bundle's timeline has millions of entries, so nothing here is done all at once:
//! the rows that pass the filters are collected in bounded steps ([`TimelineView::work`], run
//! by the event loop between keys), and only the rows on screen have their message read back
//! from the bundle ([`TimelineView::prepare`]). Key handling changes only this state; drawing
//! is in `timeline_draw`.

use crate::model::Severity;
use crate::sanitize::escape;
use crate::timeline::{Entry, MessageReader, Timeline};
use jiff::Timestamp;
use std::sync::Arc;

/// The ± window around a line when the view opens (seconds).
pub const DEFAULT_WINDOW: i64 = 600;
/// The windows `+` and `-` step through (seconds).
const WINDOWS: [i64; 12] = [
    60, 120, 300, 600, 1_800, 3_600, 7_200, 21_600, 43_200, 86_400, 259_200, 604_800,
];
/// Interval lengths the histogram chooses from (seconds): the smallest that fits the width.
const STEPS: [i64; 22] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
    86_400, 172_800, 604_800, 2_592_000, 31_536_000,
];

/// The line the view was opened from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The bundle path, as evidence names it.
    pub file: String,
    pub line: usize,
    /// The line's text, for its own timestamp when no entry is there.
    pub text: String,
}

/// One row on screen, escaped and ready to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownRow {
    /// Index into the view's rows.
    pub row: usize,
    pub time: String,
    pub severity: Severity,
    pub cited: bool,
    pub object: String,
    pub message: String,
}

/// Entries per interval, by severity (index into `Severity::ALL`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Start of the first interval (seconds since the epoch).
    pub from: i64,
    /// Interval length in seconds.
    pub step: i64,
    pub counts: Vec<[u32; 4]>,
    /// The interval of the selected entry.
    pub selected: Option<usize>,
    /// What it was counted for: (rows, width, generation), to count again only when it changes.
    key: (usize, usize, u64),
}

#[derive(Debug)]
pub struct TimelineView {
    pub anchor: Option<Anchor>,
    /// The time the view is centred on (the anchor's), once known; `None`: the whole bundle.
    pub center: Option<Timestamp>,
    /// ± seconds around `center`.
    pub window: i64,
    /// Text filter, as typed (matched case-insensitively).
    pub filter: String,
    /// Hidden severities, by index into `Severity::ALL`.
    pub hidden: [bool; 4],
    /// Only the entries a finding cites.
    pub cited_only: bool,
    /// Indexes into the timeline's entries that pass the filters, in time order.
    pub rows: Vec<usize>,
    pub selected: usize,
    pub offset: usize,
    /// A line for the status bar (the anchor has no known time...).
    pub note: Option<String>,
    /// The visible rows, filled by `prepare`.
    pub shown: Vec<ShownRow>,
    pub hist: Histogram,
    tl: Option<Arc<Timeline>>,
    /// Next entry to look at, and the end of the time range.
    scan: usize,
    end: usize,
    /// Select the anchor's entry (or the first cited one) as rows arrive, until the user moves.
    seek: bool,
    /// Whether `seek` found the exact entry already, or a row at the anchor's time.
    found: bool,
    tentative: bool,
    /// Bumped when the rows start over, so that the histogram is counted again.
    generation: u64,
}

impl TimelineView {
    /// The whole bundle's timeline (`anchor` None) or the entries around `anchor`'s time.
    pub fn new(anchor: Option<Anchor>) -> TimelineView {
        TimelineView {
            anchor,
            center: None,
            window: DEFAULT_WINDOW,
            filter: String::new(),
            hidden: [false; 4],
            cited_only: false,
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            note: None,
            shown: Vec::new(),
            hist: Histogram::default(),
            tl: None,
            scan: 0,
            end: 0,
            seek: true,
            found: false,
            tentative: false,
            generation: 0,
        }
    }

    /// True until the timeline has been handed to the view.
    pub fn waiting(&self) -> bool {
        self.tl.is_none()
    }

    /// True while rows remain to be collected.
    pub fn busy(&self) -> bool {
        self.tl.is_some() && self.scan < self.end
    }

    pub fn timeline(&self) -> Option<&Arc<Timeline>> {
        self.tl.as_ref()
    }

    /// Takes the built timeline: finds the anchor's time, then starts collecting rows.
    pub fn attach(&mut self, tl: Arc<Timeline>) {
        if let Some(a) = &self.anchor {
            let at = tl
                .entries
                .iter()
                .find(|e| *e.file == a.file && e.line == a.line)
                .map(|e| e.time)
                .or_else(|| {
                    let l = crate::logline::parse(&a.text, tl.reference);
                    l.time
                        .filter(|_| !(l.year_inferred && tl.reference.is_none()))
                });
            match at {
                Some(t) => self.center = Some(t),
                None => {
                    self.note = Some(format!(
                        "{}:{} has no time the timeline can place: showing the whole bundle",
                        escape(&a.file),
                        a.line
                    ))
                }
            }
        }
        self.tl = Some(tl);
        self.restart();
    }

    /// The time range shown, when the view is around a time.
    pub fn range(&self) -> Option<(Timestamp, Timestamp)> {
        let c = self.center?;
        let w = jiff::SignedDuration::from_secs(self.window);
        Some((
            c.checked_sub(w).unwrap_or(Timestamp::MIN),
            c.checked_add(w).unwrap_or(Timestamp::MAX),
        ))
    }

    /// Starts collecting the rows again (the filters or the window changed).
    pub fn restart(&mut self) {
        let Some(tl) = &self.tl else { return };
        let (lo, hi) = match self.range() {
            Some((from, to)) => (
                tl.entries.partition_point(|e| e.time < from),
                tl.entries.partition_point(|e| e.time <= to),
            ),
            None => (0, tl.entries.len()),
        };
        self.rows.clear();
        self.scan = lo;
        self.end = hi;
        self.selected = 0;
        self.offset = 0;
        self.found = false;
        self.tentative = false;
        self.generation += 1;
    }

    /// The filters shown in the status bar.
    pub fn describe_filters(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if !self.filter.is_empty() {
            parts.push(format!("filter /{}", escape(&self.filter)));
        }
        if self.cited_only {
            parts.push("cited only".to_string());
        }
        let hidden: Vec<&str> = Severity::ALL
            .iter()
            .zip(self.hidden)
            .filter(|(_, h)| *h)
            .map(|(s, _)| s.as_str())
            .collect();
        if !hidden.is_empty() {
            parts.push(format!("hiding {}", hidden.join(", ")));
        }
        parts
    }

    /// Collects about `budget` bytes' worth of rows: many entries when only their severity and
    /// place are tested, fewer when the text filter reads their messages back.
    pub fn work(&mut self, budget: usize) {
        let Some(tl) = self.tl.clone() else { return };
        let needle = self.filter.to_lowercase();
        let step = if needle.is_empty() {
            (budget / 16).max(1)
        } else {
            (budget / 1024).max(1)
        };
        let stop = self.end.min(self.scan.saturating_add(step));
        let slice: Vec<&Entry> = tl.entries[self.scan..stop].iter().collect();
        // The messages are read only when the text filter needs them, file by file.
        let messages = if needle.is_empty() {
            Vec::new()
        } else {
            MessageReader::new(&tl).batch(&slice)
        };
        for (k, e) in slice.iter().enumerate() {
            let message = messages.get(k).map(|m| &**m).unwrap_or("");
            if self.keeps(e, &needle, message) {
                self.rows.push(self.scan + k);
                self.seek_to(e);
            }
        }
        self.scan = stop;
    }

    fn keeps(&self, e: &Entry, needle: &str, message: &str) -> bool {
        let si = Severity::ALL
            .iter()
            .position(|s| *s == e.severity)
            .unwrap_or(3);
        if self.hidden[si] || (self.cited_only && e.checks.is_empty()) {
            return false;
        }
        if needle.is_empty() {
            return true;
        }
        let has = |s: &str| s.to_lowercase().contains(needle);
        // The label names the namespace and pod (or the node and unit); a pod's node is added,
        // so that a node's name finds its pods' entries too.
        has(&e.object.label())
            || e.object.node.as_deref().is_some_and(has)
            || has(&e.file)
            || has(e.kind.as_str())
            || e.checks.iter().any(|c| has(c))
            || has(message)
    }

    /// While the user has not moved: selects the anchor's entry, else the first at or after
    /// its time; in the whole bundle, the first entry a finding cites (or the anchor's).
    fn seek_to(&mut self, e: &Entry) {
        if !self.seek || self.found {
            return;
        }
        let row = self.rows.len() - 1;
        if let Some(a) = &self.anchor
            && *e.file == a.file
            && e.line == a.line
        {
            self.selected = row;
            self.found = true;
            return;
        }
        let first = match self.center {
            Some(c) => e.time >= c,
            None => !e.checks.is_empty(),
        };
        if first && !self.tentative {
            self.selected = row;
            self.tentative = true;
        }
    }

    /// The entry of the selected row.
    pub fn selected_entry(&self) -> Option<&Entry> {
        let tl = self.tl.as_ref()?;
        self.rows.get(self.selected).map(|&i| &tl.entries[i])
    }

    /// A movement key: the view stops seeking the anchor.
    pub fn moved(&mut self, selected: usize) {
        self.seek = false;
        self.selected = selected;
    }

    /// `+`/`-`: a wider or narrower window around the selected entry. In the whole bundle, `-`
    /// zooms in around the selected entry; past the widest window, `+` shows the whole bundle.
    pub fn widen(&mut self, wider: bool) {
        let keep = self
            .selected_entry()
            .map(|e| (e.file.clone(), e.line, e.time));
        let next = match self.center {
            None if wider => return,
            None => {
                let Some((_, _, t)) = &keep else { return };
                self.center = Some(*t);
                self.note = None;
                // The widest window that shows less than the whole span.
                let span = self
                    .tl
                    .as_ref()
                    .and_then(|tl| Some((tl.entries.first()?.time, tl.entries.last()?.time)))
                    .map(|(a, b)| b.as_second() - a.as_second())
                    .unwrap_or(0);
                WINDOWS
                    .iter()
                    .rev()
                    .copied()
                    .find(|w| 2 * w < span)
                    .unwrap_or(WINDOWS[0])
            }
            Some(_) => {
                let i = WINDOWS.iter().position(|&w| w >= self.window).unwrap_or(0);
                if wider && i + 1 >= WINDOWS.len() {
                    // Past the widest window: the whole bundle, still at the selected entry.
                    self.center = None;
                    self.window
                } else if wider {
                    WINDOWS[i + 1]
                } else {
                    WINDOWS[i.saturating_sub(1)]
                }
            }
        };
        self.window = next;
        self.restart();
        // Keep the selected entry selected when it is still in the window.
        if let Some((file, line, _)) = keep {
            self.anchor = Some(Anchor {
                file: file.to_string(),
                line,
                text: String::new(),
            });
            self.seek = true;
        }
    }

    /// Lays the view out for `rows` list rows and a histogram `width` columns wide: reads
    /// back the messages of the rows on screen (escaped here) and counts the histogram.
    pub fn prepare(&mut self, rows: usize, width: usize) {
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.offset = super::state::follow(self.selected, self.offset, rows);
        self.shown.clear();
        let Some(tl) = self.tl.clone() else { return };
        let mut reader = MessageReader::new(&tl);
        for (k, &i) in self.rows.iter().enumerate().skip(self.offset).take(rows) {
            let e = &tl.entries[i];
            self.shown.push(ShownRow {
                row: k,
                time: e.time.strftime("%m-%d %H:%M:%S").to_string(),
                severity: e.severity,
                cited: !e.checks.is_empty(),
                object: escape(&e.object.label()).into_owned(),
                message: escape(&reader.get(e)).into_owned(),
            });
        }
        self.count(&tl, width);
    }

    /// Entries per interval over the view's span, the interval chosen so that the span fits
    /// `width` columns.
    fn count(&mut self, tl: &Timeline, width: usize) {
        let key = (self.rows.len(), width, self.generation);
        if self.hist.key != key || self.hist.counts.is_empty() {
            let (from, to) = match self.range() {
                Some((a, b)) => (a.as_second(), b.as_second()),
                None => match (tl.entries.first(), tl.entries.last()) {
                    (Some(a), Some(b)) => (a.time.as_second(), b.time.as_second()),
                    _ => (0, 0),
                },
            };
            let width = width.max(1) as i64;
            let span = (to - from).max(1);
            let step = STEPS
                .iter()
                .copied()
                .find(|s| span / s < width)
                .unwrap_or(span / width + 1);
            let start = from.div_euclid(step) * step;
            let n = ((to - start) / step + 1).clamp(1, width) as usize;
            let mut counts = vec![[0u32; 4]; n];
            for &i in &self.rows {
                let e = &tl.entries[i];
                let b = ((e.time.as_second() - start) / step).clamp(0, n as i64 - 1) as usize;
                let si = Severity::ALL
                    .iter()
                    .position(|s| *s == e.severity)
                    .unwrap_or(3);
                counts[b][si] = counts[b][si].saturating_add(1);
            }
            self.hist = Histogram {
                from: start,
                step,
                counts,
                selected: None,
                key,
            };
        }
        let n = self.hist.counts.len() as i64;
        self.hist.selected = self.selected_entry().map(|e| {
            ((e.time.as_second() - self.hist.from) / self.hist.step).clamp(0, n - 1) as usize
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{Kind, Message, Object};

    fn entry(t: &str, sev: Severity, line: usize, cited: bool) -> Entry {
        Entry {
            time: t.parse().unwrap(),
            file: Arc::from("kubectl/events.json"),
            line,
            kind: Kind::Event,
            object: Arc::new(Object {
                namespace: Some("ns".into()),
                pod: Some(format!("pod-{line}").into()),
                node: Some(if line == 2 { "node-b" } else { "node-a" }.into()),
                ..Object::default()
            }),
            severity: sev,
            message: Message::Text(format!("message {line}").into()),
            checks: if cited {
                vec!["k8s/pod-crashloop".to_string()].into_boxed_slice()
            } else {
                Box::default()
            },
        }
    }

    fn timeline() -> Arc<Timeline> {
        let entries = vec![
            entry("2026-11-20T09:00:00Z", Severity::Info, 1, false),
            entry("2026-11-20T09:30:00Z", Severity::Warning, 2, false),
            entry("2026-11-20T09:38:00Z", Severity::Error, 3, true),
            entry("2026-11-20T09:40:00Z", Severity::Info, 4, false),
            entry("2026-11-20T09:45:00Z", Severity::Critical, 5, false),
            entry("2026-11-20T11:00:00Z", Severity::Warning, 6, false),
        ];
        Arc::new(Timeline {
            total: entries.len(),
            entries,
            ..Timeline::default()
        })
    }

    fn finish(v: &mut TimelineView) {
        while v.busy() {
            v.work(64);
        }
    }

    #[test]
    fn a_window_around_a_line_keeps_its_entries_and_selects_the_line() {
        let mut v = TimelineView::new(Some(Anchor {
            file: "kubectl/events.json".into(),
            line: 4,
            text: String::new(),
        }));
        v.attach(timeline());
        finish(&mut v);
        assert_eq!(v.rows, vec![1, 2, 3, 4], "±10m around 09:40, ends included");
        assert_eq!(v.selected_entry().unwrap().line, 4);
        v.widen(true);
        v.widen(true);
        finish(&mut v);
        assert_eq!(v.window, 3_600);
        assert_eq!(v.rows, vec![0, 1, 2, 3, 4]);
        assert_eq!(v.selected_entry().unwrap().line, 4, "the selection stays");
        v.widen(false);
        v.widen(false);
        v.widen(false);
        finish(&mut v);
        assert_eq!(v.window, 300);
        assert_eq!(v.rows, vec![2, 3, 4]);
    }

    #[test]
    fn in_the_whole_bundle_minus_zooms_in_around_the_selection_and_plus_out_again() {
        let mut v = TimelineView::new(None);
        v.attach(timeline());
        finish(&mut v);
        assert_eq!(v.selected, 2);
        v.widen(true);
        assert!(v.center.is_none(), "+ in the whole bundle changes nothing");
        v.widen(false);
        finish(&mut v);
        // Two hours of entries: the widest window under half of it is 30 minutes.
        assert_eq!(v.window, 1_800);
        assert_eq!(v.rows, vec![1, 2, 3, 4]);
        assert_eq!(v.selected_entry().unwrap().line, 3);
        for _ in 0..WINDOWS.len() {
            v.widen(true);
        }
        finish(&mut v);
        assert!(
            v.center.is_none(),
            "past the widest window: the whole bundle"
        );
        assert_eq!(v.rows.len(), 6);
        assert_eq!(v.selected_entry().unwrap().line, 3, "still at the entry");
    }

    #[test]
    fn filters_narrow_the_rows_like_the_check_list() {
        let mut v = TimelineView::new(None);
        v.attach(timeline());
        finish(&mut v);
        assert_eq!(v.rows.len(), 6);
        assert_eq!(
            v.selected, 2,
            "the whole bundle opens at the first cited entry"
        );
        v.hidden[3] = true;
        v.restart();
        finish(&mut v);
        assert_eq!(v.rows, vec![1, 2, 4, 5]);
        v.cited_only = true;
        v.restart();
        finish(&mut v);
        assert_eq!(v.rows, vec![2]);
        v.cited_only = false;
        v.hidden[3] = false;
        v.filter = "POD-5".into();
        v.restart();
        finish(&mut v);
        assert_eq!(v.rows, vec![4]);
        v.filter = "NODE-B".into();
        v.restart();
        finish(&mut v);
        assert_eq!(v.rows, vec![1], "a pod's node finds it");
        v.filter = "message 6".into();
        v.restart();
        finish(&mut v);
        assert_eq!(v.rows, vec![5]);
    }

    #[test]
    fn the_histogram_fits_the_width_and_marks_the_selection() {
        let mut v = TimelineView::new(None);
        v.attach(timeline());
        finish(&mut v);
        v.prepare(10, 60);
        // Two hours over 60 columns: 2-minute intervals would need 61 columns, 5-minute fit.
        assert_eq!(v.hist.step, 300);
        assert!(v.hist.counts.len() <= 60);
        let total: u32 = v.hist.counts.iter().flatten().sum();
        assert_eq!(total, 6);
        let sel = v.hist.selected.unwrap();
        assert_eq!(v.hist.counts[sel][1], 1, "the cited error's interval");
        assert_eq!(v.shown.len(), 6);
        assert!(v.shown[2].cited);
        assert_eq!(v.shown[2].message, "message 3");
    }

    #[test]
    fn a_line_without_a_known_time_shows_the_whole_bundle() {
        let mut v = TimelineView::new(Some(Anchor {
            file: "nodes/x/journal/kubelet.log".into(),
            line: 9,
            text: "no timestamp here".into(),
        }));
        v.attach(timeline());
        finish(&mut v);
        assert_eq!(v.rows.len(), 6);
        assert!(v.note.as_deref().unwrap().contains("no time"));
    }
}
