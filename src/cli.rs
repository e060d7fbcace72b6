//! Command-line arguments, resolved once into a [`Config`] that the rest of the program reads.

use crate::bundle::Limits;
use crate::model::Severity;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "kubetriage",
    version,
    about = "Offline support-bundle analyzer for GKE and kubeadm Kubernetes clusters",
    long_about = "Opens a support bundle (a folder or archive of kubetriage's collector, a troubleshoot support \
bundle, a kubectl cluster-info dump or a sosreport; several inputs are read as one case), runs every check \
of the catalog and reports findings with their evidence: the file as sent and the lines that prove them.\n\n\
Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 usage error or unreadable bundle.",
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    /// The bundle: a folder, a tar archive (.tar.gz, .tar.xz, .tar.bz2, .tar.zst, .tar) or a
    /// `kubectl cluster-info dump` saved to a file, detected by content: kubetriage's own
    /// layout, a troubleshoot support bundle, a cluster-info dump or a sosreport.
    pub bundle: Option<PathBuf>,

    /// More inputs of the same case (`dump.txt node1-sosreport.tar.xz …`), analyzed together
    /// as one cluster, nodes matched by host name.
    #[arg(value_name = "MORE")]
    pub more: Vec<PathBuf>,

    /// Output format. `auto` is the terminal UI when stdin and stdout are terminals, text
    /// otherwise; `tui` forces the terminal UI.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,

    /// Exit with 1 when a finding is at least this severe (`never` always exits 0 after a run).
    #[arg(long, default_value = "warning", value_parser = parse_fail_on)]
    pub fail_on: FailOn,

    /// Add or override checks with the spec files (*.yaml) of this folder.
    #[arg(long, value_name = "DIR")]
    pub analyzers: Option<PathBuf>,

    /// Largest single file to unpack from an archive (e.g. 4G, 512M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    /// Largest total to unpack from an archive (e.g. 16G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_total_size: Option<u64>,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Text and Markdown: only the checks with findings (no passed or not evaluated lists).
    #[arg(long)]
    pub findings_only: bool,

    /// Text: columns to fit (default: the terminal's, else 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the checks of the catalog.
    Checks {
        /// Add or override checks with the spec files of this folder.
        #[arg(long, value_name = "DIR")]
        analyzers: Option<PathBuf>,
    },
    /// Explain one check: what it detects, what it reads, where it comes from.
    Explain {
        /// A check id, e.g. kubeadm/coredns-loop.
        id: String,
        #[arg(long, value_name = "DIR")]
        analyzers: Option<PathBuf>,
    },
    /// Check a folder of spec files (every file, every error with its line) and, with a bundle,
    /// run those checks on it and print their results.
    CheckSpec {
        /// The folder of *.yaml spec files.
        dir: PathBuf,
        /// A bundle to run the folder's checks on.
        bundle: Option<PathBuf>,
    },
    /// Print the collector script that writes a bundle
    /// (`kubetriage collector > collect-bundle.sh; bash collect-bundle.sh --help`).
    Collector,
    /// Every timestamped fact of the bundle in order: events, container starts and ends,
    /// condition changes, error and warning log lines, kubeadm phases, the collection itself.
    Timeline(Box<TimelineArgs>),
}

/// Options of `kubetriage timeline`.
#[derive(Debug, clap::Args)]
pub struct TimelineArgs {
    /// The bundle: a folder, or a .tar.gz/.tgz/.tar archive.
    pub bundle: PathBuf,
    /// `html` writes the whole report (findings and timeline) as one self-contained page.
    #[arg(long, value_enum, default_value_t = TimelineFormat::Text)]
    pub format: TimelineFormat,
    /// Only entries at or after this time (2026-11-20T09:40:00Z, `2026-11-20 09:40` in UTC,
    /// or 09:40 on the collection day).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only entries at or before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only entries within --window of the time of this bundle line
    /// (e.g. nodes/cp-1/journal/kubelet.log:120).
    #[arg(long, value_name = "FILE:LINE")]
    pub around: Option<String>,
    /// How far before and after --around to look (e.g. 10m, 1h, 90s).
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub window: String,
    /// Only entries about objects of this namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Only entries about this node (its journals, and the pods scheduled on it).
    #[arg(long)]
    pub node: Option<String>,
    /// Only entries about this pod (a name, or NAMESPACE/NAME).
    #[arg(long)]
    pub pod: Option<String>,
    /// Only entries at least this severe (critical, error, warning, info).
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<Severity>,
    /// Add or override checks with the spec files of this folder.
    #[arg(long, value_name = "DIR")]
    pub analyzers: Option<PathBuf>,
    /// Worker threads (default: one per core); the output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Largest single file to unpack from an archive (e.g. 4G, 512M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Largest total to unpack from an archive (e.g. 16G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_total_size: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    Text,
    Json,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Auto,
    Text,
    Json,
    Markdown,
    /// One self-contained HTML page: findings, collection problems and the timeline.
    Html,
    Tui,
}

/// The format actually written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Html,
    /// The interactive terminal UI (see `tui`).
    Tui,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    At(Severity),
    Never,
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(FailOn::Never);
    }
    s.parse::<Severity>()
        .map(FailOn::At)
        .map_err(|e| format!("{e}, or never"))
}

/// Sizes like `512M`, `4G`, `1048576`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let unit = t[i..].to_ascii_uppercase();
            let m: u64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
                "" => 1,
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return Err(format!("unknown size unit in {s:?}: use K, M, G or T")),
            };
            (&t[..i], m)
        }
        None => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 512M, 4G)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Everything a run needs, decided once.
#[derive(Debug, Clone)]
pub struct Config {
    pub bundle: PathBuf,
    /// Further inputs read with `bundle` as one case.
    pub more: Vec<PathBuf>,
    pub format: Format,
    pub fail_on: FailOn,
    pub analyzers: Option<PathBuf>,
    pub limits: Limits,
    pub threads: Option<usize>,
    pub tuning: crate::facts::Tuning,
}

impl Args {
    /// How the text and Markdown reports are laid out: `--width`, else the terminal's width
    /// when stdout is one, else 80 columns (a report written to a file goes into a ticket, and
    /// tickets are read at 80 columns).
    pub fn report_options<'a>(
        &self,
        catalog: Option<&'a crate::spec::Catalog>,
    ) -> crate::report::Options<'a> {
        let width = match self.width {
            Some(w) => usize::from(w),
            None if std::io::stdout().is_terminal() => crossterm::terminal::size()
                .map(|(w, _)| usize::from(w))
                .ok()
                .filter(|w| *w >= 40)
                .unwrap_or(crate::report::DEFAULT_WIDTH),
            None => crate::report::DEFAULT_WIDTH,
        };
        crate::report::Options {
            width,
            findings_only: self.findings_only,
            catalog,
        }
    }

    pub fn config(&self, bundle: PathBuf) -> Config {
        let mut limits = Limits::default();
        if let Some(n) = self.max_file_size {
            limits.max_file = n;
        }
        if let Some(n) = self.max_total_size {
            limits.max_total = n;
        }
        let format = match self.format {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
            FormatArg::Tui => Format::Tui,
            FormatArg::Auto => {
                if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
                    Format::Tui
                } else {
                    Format::Text
                }
            }
        };
        Config {
            bundle,
            more: self.more.clone(),
            format,
            fail_on: self.fail_on,
            analyzers: self.analyzers.clone(),
            limits,
            threads: self.threads,
            tuning: crate::facts::Tuning::from_env(),
        }
    }
}

impl TimelineArgs {
    /// The run's settings (the format is the timeline's own, see `format`).
    pub fn config(&self) -> Config {
        let mut limits = Limits::default();
        if let Some(n) = self.max_file_size {
            limits.max_file = n;
        }
        if let Some(n) = self.max_total_size {
            limits.max_total = n;
        }
        Config {
            bundle: self.bundle.clone(),
            more: Vec::new(),
            format: Format::Text,
            fail_on: FailOn::Never,
            analyzers: self.analyzers.clone(),
            limits,
            threads: self.threads,
            tuning: crate::facts::Tuning::from_env(),
        }
    }
}

/// Exit codes, as ripgrep and friends use them.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// 1 when a finding is at least as severe as `--fail-on`, else 0.
pub fn exit_code(report: &crate::report::Report, fail_on: FailOn) -> u8 {
    match (fail_on, report.worst()) {
        (FailOn::At(threshold), Some(worst)) if worst.at_least(threshold) => EXIT_FINDINGS,
        _ => EXIT_CLEAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("4X").is_err());
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn the_cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
