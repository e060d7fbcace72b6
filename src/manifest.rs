//! `manifest.json`: what the collector ran, how each command ended, and when.
//! Read leniently: a hand-made or older manifest with missing fields still helps.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub format: Option<Value>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub cluster: Cluster,
    #[serde(default)]
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Cluster {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Source {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub stderr: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub redactions: Option<u64>,
    #[serde(default)]
    pub bound: Option<Value>,
}

/// How one collected source ended, as the reports show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    Ok,
    Failed,
    Timeout,
    Skipped,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Ok => "ok",
            SourceStatus::Failed => "failed",
            SourceStatus::Timeout => "timeout",
            SourceStatus::Skipped => "skipped",
        }
    }
}

impl Source {
    pub fn status(&self) -> SourceStatus {
        let err = self.error.as_deref().unwrap_or("").to_ascii_lowercase();
        if err.contains("timed out") || err.contains("timeout") || self.exit_code == Some(124) {
            SourceStatus::Timeout
        } else if err.contains("skip")
            || err.contains("not found")
            || err.contains("missing")
            || self.exit_code == Some(127)
        {
            SourceStatus::Skipped
        } else if !err.is_empty() || self.exit_code.is_some_and(|c| c != 0) {
            SourceStatus::Failed
        } else {
            SourceStatus::Ok
        }
    }

    /// One line saying why the source is not usable (empty when it is fine).
    pub fn detail(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = self.error.as_deref().filter(|e| !e.is_empty()) {
            parts.push(e.to_string());
        }
        if let Some(c) = self.exit_code.filter(|c| *c != 0) {
            parts.push(format!("exit {c}"));
        }
        if let Some(s) = self.stderr.as_deref() {
            let line = s
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("");
            if !line.is_empty() {
                parts.push(truncate(line, 200));
            }
        }
        parts.join("; ")
    }
}

impl Manifest {
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    pub fn source(&self, path: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.path == path)
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_from_records() {
        let m = Manifest::parse(br#"{"sources":[
            {"path":"a","exit_code":0},
            {"path":"b","exit_code":1,"stderr":"\nERROR: (gcloud.services.list) PERMISSION_DENIED: x\nmore","error":"command failed"},
            {"path":"c","error":"timed out after 60s"},
            {"path":"d","error":"skipped: gcloud not installed"}]}"#).unwrap();
        let st: Vec<_> = m.sources.iter().map(|s| s.status()).collect();
        assert_eq!(
            st,
            [
                SourceStatus::Ok,
                SourceStatus::Failed,
                SourceStatus::Timeout,
                SourceStatus::Skipped
            ]
        );
        assert_eq!(
            m.source("b").unwrap().detail(),
            "command failed; exit 1; ERROR: (gcloud.services.list) PERMISSION_DENIED: x"
        );
    }
}
