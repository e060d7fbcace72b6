//! `kubeadm/preflight-missing-binaries`: tools kubeadm's preflight and the kubelet expect are
//! not in the system path, from kubeadm's own warnings or the node's `command -v` probe.
//!
//! kubeadm v1.32 stopped checking for ebtables and socat and v1.33 for ethtool, ip, iptables
//! and tc, so on newer clusters only the node probe shows them missing.

use super::{OsFamily, OsRelease};
use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::facts::Unavailable;

static NOT_FOUND: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"([A-Za-z0-9_.+-]+) not found in system path").expect("fixed pattern")
});

/// Every binary a matched line reports missing: output wrapped by other tools (Ansible's JSON
/// `"stderr"`) holds several warnings on one line.
fn binaries_in(m: &crate::scan::ScanMatch) -> Vec<String> {
    let mut out: Vec<String> = NOT_FOUND
        .captures_iter(&m.text)
        .map(|c| c[1].to_string())
        .collect();
    if out.is_empty() {
        out.push(m.captures["binary"].clone());
    }
    out
}

pub fn preflight_missing_binaries(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let nodes = ctx.facts.nodes();
    let mut drafts = Vec::new();
    let mut probes = 0;
    let text_matches = ctx.matches_of("not-found");
    for node in &nodes {
        let Ok(probe) = ctx.facts.text(&format!("nodes/{node}/probes/binaries.txt")) else {
            continue;
        };
        probes += 1;
        let mut missing: Vec<String> = Vec::new();
        let mut d = Draft::new();
        for (n, line) in probe.lines() {
            let mut it = line.split_whitespace();
            let (Some(name), Some(loc)) = (it.next(), it.next()) else {
                continue;
            };
            if name.starts_with('#') || !loc.eq_ignore_ascii_case("MISSING") {
                continue;
            }
            if !missing.iter().any(|m| m == name) {
                missing.push(name.to_string());
            }
            d = d.evidence(probe.evidence(n, n));
        }
        // kubeadm's warnings in this node's own journals belong to the same finding.
        for m in text_matches
            .iter()
            .filter(|m| path_vars(&m.file).get("node") == Some(node))
        {
            for b in binaries_in(m) {
                if !missing.contains(&b) {
                    missing.push(b);
                }
            }
            d = d.evidence(line_evidence(m));
        }
        if missing.is_empty() {
            continue;
        }
        let os = OsRelease::read(ctx, node);
        drafts.push(finish(d, node, &missing, os.as_ref()));
    }
    // kubeadm output pasted or recorded elsewhere: one finding per file.
    let mut files: Vec<(String, Vec<String>, Draft)> = Vec::new();
    for m in text_matches
        .iter()
        .filter(|m| !path_vars(&m.file).contains_key("node"))
    {
        let i = match files.iter().position(|(f, _, _)| **f == *m.file) {
            Some(i) => i,
            None => {
                files.push((m.file.to_string(), Vec::new(), Draft::new()));
                files.len() - 1
            }
        };
        let (_, missing, d) = &mut files[i];
        for b in binaries_in(m) {
            if !missing.contains(&b) {
                missing.push(b);
            }
        }
        d.evidence.push(line_evidence(m));
    }
    let shared_os = shared_os(ctx, &nodes);
    for (file, missing, d) in files {
        let mut d = finish(d, "", &missing, shared_os.as_ref());
        d.vars.insert("file".into(), file);
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if probes == 0 && !preflight_checked_binaries(ctx) {
        return Draft::missing("default").not_evaluated();
    }
    Ok(Outcome::Pass)
}

/// Whether some pasted kubeadm output comes from a preflight that looks for the binaries: an
/// init or join (not a reset, whose preflight checks nothing of the kind) of a kubeadm older
/// than v1.33, which stopped checking the last of them.
fn preflight_checked_binaries(ctx: &Ctx) -> bool {
    let init_join = ctx.matches_of("init-join");
    let reset = ctx.matches_of("reset");
    let mut files: Vec<&str> = ctx
        .matches_of("preflight-ran")
        .iter()
        .map(|m| &*m.file)
        .collect();
    files.dedup();
    files.into_iter().any(|file| {
        let is_init_join = init_join.iter().any(|m| &*m.file == file);
        let is_reset = reset.iter().any(|m| &*m.file == file);
        let too_new = init_join
            .iter()
            .filter(|m| &*m.file == file)
            .filter_map(|m| m.captures.get("version"))
            .filter_map(|v| crate::version::Version::parse(v))
            .any(|v| v.major_minor() >= (1, 33));
        (is_init_join || !is_reset) && !too_new
    })
}

/// The OS every node with an os-release agrees on, when they agree.
fn shared_os(ctx: &Ctx, nodes: &[String]) -> Option<OsRelease> {
    let all: Vec<OsRelease> = nodes
        .iter()
        .filter_map(|n| OsRelease::read(ctx, n))
        .collect();
    let first = all.first()?;
    all.iter()
        .all(|o| o.family() == first.family() && o.uses_yum() == first.uses_yum())
        .then(|| first.clone())
}

fn finish(mut d: Draft, node: &str, missing: &[String], os: Option<&OsRelease>) -> Draft {
    match os {
        Some(os) if os.family() != OsFamily::Unknown => {
            let mut pkgs: Vec<String> = Vec::new();
            for b in missing {
                let p = package(b, os);
                if !pkgs.contains(&p) {
                    pkgs.push(p);
                }
            }
            d.vars.insert("os".into(), os.name());
            d.vars.insert(
                "install".into(),
                os.install_command(&pkgs).unwrap_or_default(),
            );
            if node.is_empty() {
                d.variants.push("file");
            }
        }
        _ => {
            let deb = package_list(missing, OsFamily::Debian, false);
            let rpm = package_list(missing, OsFamily::RedHat, false);
            d.vars.insert("deb_packages".into(), deb);
            d.vars.insert("rpm_packages".into(), rpm);
            if node.is_empty() {
                d.variants.extend(["file-os-unknown", "file"]);
            } else {
                d.variants.push("os-unknown");
            }
        }
    }
    d.vars.insert("node".into(), node.to_string());
    d.vars.insert("binaries".into(), missing.join(", "));
    d
}

fn package_list(missing: &[String], family: OsFamily, legacy: bool) -> String {
    let mut pkgs: Vec<String> = Vec::new();
    for b in missing {
        let p = package_for(b, family, legacy);
        if !pkgs.contains(&p) {
            pkgs.push(p);
        }
    }
    pkgs.join(" ")
}

fn package(binary: &str, os: &OsRelease) -> String {
    package_for(binary, os.family(), os.uses_yum())
}

/// The package that ships `binary` on a distribution family (`legacy`: a yum-era Red Hat
/// release, where tc is still part of iproute).
fn package_for(binary: &str, family: OsFamily, legacy: bool) -> String {
    let deb = family == OsFamily::Debian;
    let rpm = matches!(family, OsFamily::RedHat);
    match binary {
        "ip" => if deb { "iproute2" } else { "iproute" }.into(),
        "tc" if deb => "iproute2".into(),
        "tc" if rpm && !legacy => "iproute-tc".into(),
        "tc" => if family == OsFamily::Suse {
            "iproute2"
        } else {
            "iproute"
        }
        .into(),
        "conntrack" if deb => "conntrack".into(),
        "conntrack" => "conntrack-tools".into(),
        "nsenter" | "mount" | "losetup" => "util-linux".into(),
        "touch" => "coreutils".into(),
        "crictl" => "cri-tools".into(),
        "ip6tables" => "iptables".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_follow_the_distribution() {
        let ubuntu = OsRelease::parse("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n");
        let centos7 =
            OsRelease::parse("ID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n");
        let rocky9 =
            OsRelease::parse("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n");
        assert_eq!(package("conntrack", &ubuntu), "conntrack");
        assert_eq!(package("conntrack", &centos7), "conntrack-tools");
        assert_eq!(package("tc", &centos7), "iproute");
        assert_eq!(package("tc", &rocky9), "iproute-tc");
        assert_eq!(package("ip", &ubuntu), "iproute2");
        let pk = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            centos7
                .install_command(&pk(&["ebtables"]))
                .unwrap()
                .starts_with("sudo yum install")
        );
        assert!(
            rocky9
                .install_command(&pk(&["ebtables"]))
                .unwrap()
                .starts_with("sudo dnf install")
        );
        assert!(
            ubuntu
                .install_command(&pk(&["ethtool"]))
                .unwrap()
                .contains("apt-get install -y ethtool")
        );
    }
}
