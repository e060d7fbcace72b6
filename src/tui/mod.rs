//! The terminal UI: from "what is wrong" (the check list) to "show me the line that proves it"
//! (the evidence viewer) to "what do I tell the customer" (remediation), without leaving it.
//!
//! Split as gitui does: `state` (what is shown and how actions change it), `keys` (key →
//! action, pure), `draw` (rendering only), `viewer` (a file viewer that reads only what it
//! shows). This module holds the event loop, generic over the ratatui `Backend` so that tests
//! render into a `TestBackend`, and the real-terminal entry point, the only place that touches
//! raw mode and the alternate screen.

pub mod draw;
pub mod keys;
pub mod objects;
pub mod search;
pub mod state;
pub mod timeline;
pub mod timeline_draw;
pub mod verdicts;
pub mod viewer;

use crate::cli::Config;
use crate::cli::{EXIT_CLEAN, exit_code};
use crate::pipeline::{self, Analysis, Progress};
use crate::spec::Catalog;
use crossterm::event::{self, Event, KeyEventKind};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use state::{App, Pane, Screen, follow};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of viewer work (indexing, searching) between two looks at the keyboard.
const WORK_STEP: usize = 8 << 20;
/// Time spent on viewer work per frame before drawing again.
const WORK_FRAME: Duration = Duration::from_millis(40);

/// Where the loop gets its events: the terminal, or a script in tests.
pub trait Events {
    /// The next event, waiting at most `timeout`.
    fn next(&mut self, timeout: Duration) -> io::Result<Option<Event>>;

    /// Hands the terminal to `program` with `args` until it ends (a pager or an editor), then
    /// takes it back. Returns false when this event source cannot (a script in tests).
    fn hand_over(&mut self, program: &str, args: &[String]) -> io::Result<bool> {
        let _ = (program, args);
        Ok(false)
    }
}

/// The real terminal's events.
pub struct TerminalEvents;

impl Events for TerminalEvents {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<Event>> {
        if event::poll(timeout)? {
            Ok(Some(event::read()?))
        } else {
            Ok(None)
        }
    }

    fn hand_over(&mut self, program: &str, args: &[String]) -> io::Result<bool> {
        restore_terminal();
        let status = std::process::Command::new(program).args(args).status();
        crossterm::terminal::enable_raw_mode()?;
        crossterm::execute!(
            io::stdout(),
            crossterm::terminal::EnterAlternateScreen,
            crossterm::cursor::Hide
        )?;
        status.map(|_| true)
    }
}

/// The command line that opens `x` at its line: `$PAGER` (else `less`) or `$VISUAL` /
/// `$EDITOR` (else `vi`), each given `+LINE FILE` as less, vi, nano and emacs take it.
pub fn external_command(
    x: &state::External,
    env: impl Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    let chosen = if x.editor {
        env("VISUAL")
            .or_else(|| env("EDITOR"))
            .unwrap_or_else(|| "vi".into())
    } else {
        env("PAGER").unwrap_or_else(|| "less".into())
    };
    let mut words = chosen.split_whitespace().map(str::to_string);
    let program = words.next().unwrap_or_else(|| "less".into());
    let mut args: Vec<String> = words.collect();
    args.push(format!("+{}", x.line));
    args.push(x.path.display().to_string());
    (program, args)
}

/// What the background thread sends: the analysis first, then the timeline.
enum Delivery {
    Analysis(Box<anyhow::Result<Analysis>>),
    Timeline(crate::timeline::Timeline),
}

/// The analysis running on its own thread, then the timeline built from the same facts.
pub struct Job {
    pub progress: Arc<Progress>,
    rx: Receiver<Delivery>,
    handle: Option<thread::JoinHandle<()>>,
    archive_len: u64,
    /// A result that arrived before the UI started.
    early: Option<anyhow::Result<Analysis>>,
}

impl Job {
    /// Starts analyzing `config.bundle` on a background thread.
    pub fn start(config: &Config, catalog: Arc<Catalog>) -> Job {
        let progress = Arc::new(Progress::default());
        let (tx, rx) = mpsc::channel();
        let p = progress.clone();
        let cfg = config.clone();
        let handle = thread::spawn(move || {
            let first = tx.clone();
            let tl = pipeline::analyze_then_timeline(&cfg, &catalog, &p, move |r| {
                let ok = r.is_ok();
                first.send(Delivery::Analysis(Box::new(r))).is_ok() && ok
            });
            if let Some(tl) = tl {
                let _ = tx.send(Delivery::Timeline(tl));
            }
        });
        let archive_len = std::fs::metadata(&config.bundle)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .unwrap_or(0);
        Job {
            progress,
            rx,
            handle: Some(handle),
            archive_len,
            early: None,
        }
    }

    /// Waits up to `d` for the result: a small bundle then shows at once, and a bundle that
    /// cannot be opened fails before the screen is taken over.
    pub fn wait_briefly(&mut self, d: Duration) -> anyhow::Result<()> {
        match self.rx.recv_timeout(d) {
            Ok(Delivery::Analysis(r)) => match *r {
                Err(e) => Err(e),
                Ok(a) => {
                    self.early = Some(Ok(a));
                    Ok(())
                }
            },
            Ok(Delivery::Timeline(_)) | Err(_) => Ok(()),
        }
    }

    /// Stops unpacking or scanning if still under way and waits for the thread, so that the
    /// private unpack folder is removed before the process ends.
    pub fn stop(&mut self) {
        self.progress.open.cancel.store(true, Ordering::Relaxed);
        self.progress.scan.cancel.store(true, Ordering::Relaxed);
        self.progress.timeline_cancel.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Copies the job's progress into the state and takes its results once they are there: the
/// analysis, then the timeline. An analysis that fails ends the UI with its error.
fn poll_job(app: &mut App, job: &mut Job) -> anyhow::Result<()> {
    if app.model.is_some() {
        if app.timeline.is_none() {
            match job.rx.try_recv() {
                Ok(Delivery::Timeline(tl)) => {
                    app.set_timeline(tl);
                    if let Some(h) = job.handle.take() {
                        let _ = h.join();
                    }
                }
                Ok(Delivery::Analysis(_)) | Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => app.timeline_failed(),
            }
        }
        return Ok(());
    }
    app.loading.phase = job.progress.phase.load(Ordering::Relaxed);
    app.loading.archive_read = job.progress.open.archive_read.load(Ordering::Relaxed);
    app.loading.archive_len = job.archive_len;
    app.loading.scan_done = job.progress.scan.bytes_done.load(Ordering::Relaxed);
    app.loading.scan_total = job.progress.scan.bytes_total.load(Ordering::Relaxed);
    app.loading.ticks = app.loading.ticks.wrapping_add(1);
    let received = match job.early.take() {
        Some(r) => Ok(r),
        None => match job.rx.try_recv() {
            Ok(Delivery::Analysis(r)) => Ok(*r),
            Ok(Delivery::Timeline(_)) => Err(TryRecvError::Empty),
            Err(e) => Err(e),
        },
    };
    match received {
        Ok(Ok(a)) => {
            app.set_analysis(a);
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(TryRecvError::Empty) => Ok(()),
        Err(TryRecvError::Disconnected) => {
            anyhow::bail!("the analysis stopped unexpectedly (see the message above)")
        }
    }
}

/// Brings the layout-dependent parts of the state up to date before a frame: list offsets
/// that keep the selection visible, the viewer's window (read from disk here, not in `draw`).
pub fn prepare(app: &mut App, area: Rect) {
    let Some(a) = draw::areas(area) else { return };
    let rows = a.body.height as usize;
    app.page_rows = rows;
    if app.stack.is_empty() {
        match app.tab {
            keys::Tab::Checks => {
                let n = app.check_rows().len();
                app.checks.selected = app.checks.selected.min(n.saturating_sub(1));
                app.checks.offset = follow(app.checks.selected, app.checks.offset, rows);
            }
            keys::Tab::Files => {
                let n = app.file_rows().len();
                app.files.selected = app.files.selected.min(n.saturating_sub(1));
                app.files.offset = follow(app.files.selected, app.files.offset, rows);
            }
            keys::Tab::Collection => {
                let n = app.coll_rows().len();
                let reserved = app.model.as_ref().map(|m| m.warnings.len()).unwrap_or(0);
                app.coll.selected = app.coll.selected.min(n.saturating_sub(1));
                app.coll.offset = follow(
                    app.coll.selected,
                    app.coll.offset,
                    rows.saturating_sub(reserved),
                );
            }
        }
    }
    let evidence = match app.stack.last() {
        Some(Screen::Detail(d)) => Some(app.evidence_items(d.check)),
        _ => None,
    };
    let model = app.model.as_ref();
    match app.stack.last_mut() {
        Some(Screen::Viewer(v)) => {
            let width = (a.body.width as usize).saturating_sub(draw::gutter_width(v));
            v.prepare(rows, width);
        }
        Some(Screen::Search(s)) => {
            s.selected = s.selected.min(s.hits.len().saturating_sub(1));
            s.offset = follow(s.selected, s.offset, rows);
        }
        Some(Screen::Object(o)) => {
            o.selected = o.selected.min(o.rows.len().saturating_sub(1));
            o.offset = follow(o.selected, o.offset, rows);
        }
        Some(Screen::Timeline(t)) => {
            let ta = timeline_draw::areas(a.body);
            app.page_rows = ta.list.height as usize;
            t.prepare(ta.list.height as usize, ta.bars.width as usize);
        }
        Some(Screen::Detail(d)) => {
            let items = evidence.unwrap_or_default();
            let (text, ev) = draw::detail_areas(a.body, items.len());
            if let Some(c) = model.and_then(|m| m.checks.get(d.check)) {
                let t = draw::detail_text(c, text.width as usize);
                if d.follow
                    && let Some(&(fi, _)) = items.get(d.selected)
                {
                    d.scroll = t.starts.get(fi).copied().unwrap_or(0);
                    d.follow = false;
                }
                let max = t.lines.len().saturating_sub(text.height as usize);
                d.scroll = d.scroll.min(max);
            }
            d.selected = d.selected.min(items.len().saturating_sub(1));
            if let Some((_, list)) = ev {
                d.offset = follow(d.selected, d.offset, list.height as usize);
                if d.focus == Pane::Evidence {
                    app.page_rows = list.height as usize;
                }
            } else {
                d.focus = Pane::Text;
            }
        }
        None => {}
    }
}

/// Applies one terminal event.
pub fn handle_event(app: &mut App, ev: Event) {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            if let Some(a) = keys::action(app.mode(), k) {
                app.apply(a);
            }
        }
        Event::Paste(text) if app.prompt.is_some() => {
            for c in text.chars().filter(|c| !c.is_control()) {
                app.apply(keys::Action::PromptInput(c));
            }
        }
        _ => {}
    }
}

/// Draws one frame.
pub fn render<B: Backend>(terminal: &mut Terminal<B>, app: &mut App) -> Result<(), B::Error> {
    let size = terminal.size()?;
    prepare(app, Rect::new(0, 0, size.width, size.height));
    terminal.draw(|f| draw::draw(f, app))?;
    Ok(())
}

/// The event loop: draw, wait for a key (or do a slice of background work), repeat, until
/// the user quits. Returns when `app.quit` is set. Text the user copies goes to `copy`.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &mut dyn Events,
    job: &mut Job,
    copy: &mut dyn FnMut(&str) -> io::Result<()>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    loop {
        poll_job(app, job)?;
        render(terminal, app)?;
        if app.quit {
            return Ok(());
        }
        // The timeline arrives after the analysis: look for it as often.
        let loading = app.model.is_none() || (app.timeline.is_none() && !app.timeline_lost);
        let timeout = if app.busy() {
            Duration::ZERO
        } else if loading {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(500)
        };
        // Take every waiting event before drawing again, so that held keys do not lag.
        let mut next = events.next(timeout)?;
        while let Some(ev) = next {
            handle_event(app, ev);
            if let Some(text) = app.clipboard.take() {
                copy(&text)?;
            }
            if let Some(x) = app.external.take() {
                let (program, args) = external_command(&x, |k| std::env::var(k).ok());
                match events.hand_over(&program, &args) {
                    Ok(true) => terminal.clear()?,
                    Ok(false) => {}
                    Err(e) => {
                        let _ = terminal.clear();
                        app.message = Some(
                            crate::sanitize::escape(&format!("could not run {program}: {e}"))
                                .into_owned(),
                        );
                    }
                }
            }
            if app.quit {
                return Ok(());
            }
            next = events.next(Duration::ZERO)?;
        }
        if app.busy() {
            let start = Instant::now();
            while app.busy() && start.elapsed() < WORK_FRAME {
                app.work(WORK_STEP);
            }
        }
    }
}

/// The real terminal: raw mode and the alternate screen for the run, restored on every way
/// out (return, error, panic). Returns the exit code.
pub fn run_terminal(config: &Config, catalog: Catalog) -> anyhow::Result<u8> {
    let catalog = Arc::new(catalog);
    let mut job = Job::start(config, catalog.clone());
    // Long enough for a bundle that cannot be opened to fail before the screen is taken over,
    // short enough for the first frame to come within 100 ms.
    job.wait_briefly(Duration::from_millis(40))?;
    let mut terminal = match setup() {
        Ok(t) => t,
        Err(e) => {
            job.stop();
            anyhow::bail!(
                "cannot start the terminal UI ({e}); use --format text to print the report instead"
            );
        }
    };
    let guard = Restore;
    let mut ui = App::new(catalog);
    ui.loading.source = crate::sanitize::escape(&config.bundle.display().to_string()).into_owned();
    let result = run_loop(
        &mut terminal,
        &mut ui,
        &mut TerminalEvents,
        &mut job,
        &mut osc52,
    );
    drop(guard);
    job.stop();
    result?;
    let code = match &ui.analysis {
        Some(a) => exit_code(&a.report, config.fail_on),
        None => EXIT_CLEAN,
    };
    // The terminal is restored and the process ends now: nothing more is freed (the unpacked
    // archive's private folder is still removed).
    if let Some(a) = ui.analysis.take() {
        Analysis::leave_shared(a);
    }
    std::mem::forget(ui);
    Ok(code)
}

/// Puts `text` on the clipboard through the terminal (OSC 52), which works over ssh and in
/// tmux (with `set-clipboard on`). The text travels base64-encoded, so nothing in it can act as
/// a terminal sequence.
fn osc52(text: &str) -> io::Result<()> {
    use std::io::Write;
    let mut out = io::stdout();
    write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()))?;
    out.flush()
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

type RealTerminal = Terminal<ratatui::backend::CrosstermBackend<io::Stdout>>;

/// The previous panic hook, kept to run after the terminal is restored.
type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;
static PREVIOUS_HOOK: Mutex<Option<Hook>> = Mutex::new(None);

fn setup() -> io::Result<RealTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    let hook = std::panic::take_hook();
    if let Ok(mut h) = PREVIOUS_HOOK.lock() {
        *h = Some(hook);
    }
    std::panic::set_hook(Box::new(|info| {
        restore_terminal();
        if let Ok(h) = PREVIOUS_HOOK.lock()
            && let Some(h) = h.as_ref()
        {
            h(info);
        }
    }));
    let mut out = io::stdout();
    if let Err(e) = crossterm::execute!(
        out,
        crossterm::terminal::EnterAlternateScreen,
        crossterm::cursor::Hide
    ) {
        restore_terminal();
        return Err(e);
    }
    let t = Terminal::new(ratatui::backend::CrosstermBackend::new(io::stdout()));
    if t.is_err() {
        restore_terminal();
    }
    t
}

/// Leaves raw mode and the alternate screen; safe to call more than once.
fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped, whatever way the UI ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore_terminal();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_encodes_like_rfc_4648() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(raw.as_bytes()), enc);
        }
    }
}
