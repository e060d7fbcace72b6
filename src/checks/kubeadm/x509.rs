//! `kubeadm/x509-unknown-authority`: a client (kubectl, the kubelet, the collector) does not
//! trust the API server's certificate, or a kubeconfig on a node carries another CA than the
//! cluster's (`/etc/kubernetes/pki/ca.crt`), compared by the fingerprints the collector records.

use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::facts::Unavailable;

const CLUSTER_CA: &str = "/etc/kubernetes/pki/ca.crt";

pub fn x509_unknown_authority(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut drafts: Vec<Draft> = Vec::new();
    // The error lines, one finding per source: a pasted session, a node's kubelet, the collector.
    for m in ctx.matches_of("x509") {
        if let Some(d) = drafts
            .iter_mut()
            .find(|d| d.vars.get("file").map(String::as_str) == Some(&*m.file))
        {
            d.evidence.push(line_evidence(m));
            if !d.vars.contains_key("authority")
                && let Some(a) = m.captures.get("authority")
            {
                d.vars.insert("authority".into(), a.clone());
            }
            continue;
        }
        let mut d = Draft::new()
            .var("file", &*m.file)
            .evidence(line_evidence(m));
        if let Some(a) = m.captures.get("authority") {
            d = d.var("authority", a.as_str());
        }
        let vars = path_vars(&m.file);
        if let Some(node) = vars.get("node") {
            d = d
                .var("node", node.as_str())
                .var("client", format!("the kubelet on node {node}"))
                .variant("kubelet");
        } else if &*m.file == "manifest.json" {
            d = d.var("client", "the collector's kubectl");
        } else {
            d = d.var("client", format!("kubectl ({})", m.file));
        }
        drafts.push(d);
    }
    for d in &mut drafts {
        if d.vars.contains_key("authority") {
            d.variants.insert(0, "authority");
        }
        let n = d.evidence.len();
        d.vars.insert("count".into(), n.to_string());
    }
    // The configuration: each kubeconfig's CA against the cluster CA, per node.
    let mut fingerprints = 0;
    for node in ctx.facts.nodes() {
        let Ok(f) = ctx
            .facts
            .text(&format!("nodes/{node}/pki/fingerprints.txt"))
        else {
            continue;
        };
        let entries: Vec<(usize, &str, String)> = f
            .lines()
            .filter_map(|(n, l)| {
                let mut it = l.split_whitespace();
                let (file, fp) = (it.next()?, it.next()?);
                Some((n, file, normalize(fp)))
            })
            .collect();
        let Some((ca_line, _, ca_fp)) = entries.iter().find(|(_, file, _)| *file == CLUSTER_CA)
        else {
            continue;
        };
        // Only a file with the cluster CA can show a kubeconfig's CA to be wrong.
        fingerprints += 1;
        for (n, file, fp) in &entries {
            if !is_kubeconfig(file) || fp == ca_fp {
                continue;
            }
            let mut d = Draft::new()
                .var("node", node.as_str())
                .var("kubeconfig", *file)
                .var("client", format!("{file} on node {node}"))
                .evidence(f.evidence(*ca_line, *ca_line))
                .evidence(f.evidence(*n, *n))
                .variant("kubeconfig");
            if file.ends_with("kubelet.conf") {
                d = d.variant("kubelet");
            } else if file.starts_with("/etc/kubernetes/") {
                let name = file
                    .trim_start_matches("/etc/kubernetes/")
                    .trim_end_matches(".conf");
                d = d.var("phase", name).variant("regenerate");
            }
            drafts.push(d);
        }
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if ctx.scanned("x509") == 0 && fingerprints == 0 {
        return Draft::missing("default").not_evaluated();
    }
    Ok(Outcome::Pass)
}

/// `sha256:AB:CD...` and `sha256:abcd...` are the same fingerprint.
fn normalize(fp: &str) -> String {
    let t = fp.trim();
    let t = t
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256:"))
        .map_or(t, |_| &t[7..]);
    t.chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Entries for kubeconfig files (their embedded CA), as opposed to certificate files.
fn is_kubeconfig(file: &str) -> bool {
    file.ends_with(".conf")
        || file.ends_with("kubeconfig")
        || file.contains("/.kube/")
        || file.ends_with(".kubeconfig")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_forms_compare_equal() {
        assert_eq!(normalize("sha256:AB:cd:01"), normalize("SHA256:abcd01"));
        assert_ne!(normalize("sha256:abcd01"), normalize("sha256:abcd02"));
        assert!(is_kubeconfig("/root/.kube/config"));
        assert!(is_kubeconfig("/etc/kubernetes/admin.conf"));
        assert!(!is_kubeconfig("/etc/kubernetes/pki/apiserver.crt"));
    }
}
