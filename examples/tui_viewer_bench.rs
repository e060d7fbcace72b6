//! Measures the terminal UI's file viewer on a large log: how long until it shows a line near
//! the end (indexing as it goes), how long one keystroke's redraw takes, and how long a search
//! over the whole file takes. The log is generated into a temporary folder and removed after.
//!
//! ```sh
//! cargo run --release --example tui_viewer_bench -- [LINES]      # default 10000000
//! ```

use kubetriage::tui::viewer::Viewer;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let lines: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("kubelet.log");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    for i in 1..=lines {
        if i % 1_000_000 == 0 {
            writeln!(
                w,
                "E1120 09:30:{:02}.552671    4759 server.go:292] \"Failed to run kubelet\" err=\"misconfiguration\" line={i}",
                i % 60
            )?;
        } else {
            writeln!(
                w,
                "I1120 09:30:{:02}.180060    4759 kubelet.go:1234] \"SyncLoop (PLEG)\" pod=\"kube-system/coredns-5d78c9869d-8xk2p\" line={i}",
                i % 60
            )?;
        }
    }
    w.flush()?;
    drop(w);
    let size = std::fs::metadata(&path)?.len();
    println!(
        "{lines} lines, {:.1} MiB",
        size as f64 / (1u64 << 20) as f64
    );

    let target = lines.saturating_sub(10).max(1);
    let t = Instant::now();
    let mut v = Viewer::open("kubelet.log", &path, vec![(target, target)], target);
    let mut steps = 0;
    while v.cursor != target && v.busy() {
        v.work(8 << 20);
        steps += 1;
    }
    v.prepare(40, 160);
    println!(
        "open at line {target}: {:?} ({steps} work steps; a frame's worth of work each)",
        t.elapsed()
    );

    let mut worst = Duration::ZERO;
    for key in 0..200 {
        let t = Instant::now();
        match key % 4 {
            0 => v.move_by(-1, false),
            1 => v.move_by(v.half_page(), true),
            2 => v.move_by(-v.half_page(), true),
            _ => v.jump_evidence(true),
        }
        v.prepare(40, 160);
        worst = worst.max(t.elapsed());
    }
    println!("one keystroke (move and read the window): worst of 200 {worst:?}");

    let t = Instant::now();
    v.goto(1);
    v.start_search("misconfiguration");
    while v.busy() {
        v.work(8 << 20);
    }
    println!(
        "search over the whole file: {:?}, {}",
        t.elapsed(),
        v.match_counter().unwrap_or_default()
    );
    Ok(())
}
