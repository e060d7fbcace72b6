//! `kubeadm/coredns-crashloop-selinux`: CoreDNS asks for `allowPrivilegeEscalation: false`,
//! which Docker's 1.x releases (the `docker` 1.13.1 package of CentOS/RHEL 7 among them) cannot
//! combine with SELinux in enforcing mode: the container's process is refused at exec, and the pod
//! crash-loops. One finding per node, since the cause is the node's SELinux mode and runtime.

use super::OsRelease;
use super::pod_table;
use super::pods::{self, Failing, Runtime};
use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::cluster;
use crate::facts::{Item, Unavailable};
use crate::model::Evidence;
use crate::version::Version;
use std::collections::BTreeMap;

/// Docker before the 17.03 CE releases: the 1.x series.
fn is_old_docker(v: &Version) -> bool {
    v.parts.first().is_some_and(|&major| major < 17)
}

/// A node's SELinux mode, from `getenforce`, or from the mount table when getenforce was not
/// collected (no `selinuxfs` mounted means SELinux is off).
enum SeLinux {
    Enforcing(Evidence),
    Off,
    Unknown(String),
}

fn selinux(ctx: &Ctx, node: &str) -> SeLinux {
    let path = format!("nodes/{node}/getenforce.txt");
    match ctx.facts.text(&path) {
        Ok(f) => {
            let Some((n, mode)) = f.lines().find(|(_, l)| !l.trim().is_empty()) else {
                return SeLinux::Unknown(ctx.phrase("getenforce-empty", &[("file", &path)]));
            };
            match mode.trim() {
                "Enforcing" => SeLinux::Enforcing(f.evidence(n, n)),
                "Permissive" | "Disabled" => SeLinux::Off,
                other => SeLinux::Unknown(ctx.phrase(
                    "getenforce-unknown",
                    &[("file", &path), ("mode", &format!("{other:?}"))],
                )),
            }
        }
        Err(e) => match ctx.facts.text(&format!("nodes/{node}/mounts")) {
            Ok(m) if !m.text.contains("selinuxfs") => SeLinux::Off,
            _ => SeLinux::Unknown(e.reason),
        },
    }
}

/// Whether `node` has both halves of the cause: SELinux enforcing and a Docker 1.x.
pub(super) fn enforcing_with_old_docker(ctx: &Ctx, node: &str) -> bool {
    matches!(selinux(ctx, node), SeLinux::Enforcing(_))
        && matches!(pods::runtime(ctx, node), Some(Runtime::Docker(v, _)) if is_old_docker(&v))
}

/// One CoreDNS pod that keeps failing, with what shows it.
struct Crashing<'a> {
    name: String,
    item: &'a Item,
    failing: Vec<Failing>,
}

pub fn coredns_crashloop_selinux(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pods = pod_table::pods_or_table(ctx)?;
    let eperm = ctx.matches_of("eperm");
    let looping: Vec<String> = ctx
        .matches_of("loop")
        .iter()
        .filter_map(|m| path_vars(&m.file).get("pod").cloned())
        .collect();
    let mut by_node: BTreeMap<String, Vec<Crashing>> = BTreeMap::new();
    let mut crashing_seen = false;
    for pod in cluster::pods(&pods).filter(|p| pods::is_dns_pod(p)) {
        let pod = &pod;
        let failing = pods::failing_containers(pod);
        if failing.is_empty() {
            continue;
        }
        crashing_seen = true;
        let name = pod.meta.name.to_string();
        // A pod whose own log shows the loop plugin stopping it fails for that reason.
        if looping.contains(&name) {
            continue;
        }
        let Some(node) = pod.node else {
            continue;
        };
        by_node.entry(node.to_string()).or_default().push(Crashing {
            name,
            item: pod.at.item,
            failing,
        });
    }
    if !crashing_seen {
        return Ok(Outcome::Pass);
    }
    let mut drafts = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (node, crashing) in &by_node {
        // A node known to run containerd, CRI-O or a current Docker is ruled out whatever its
        // SELinux mode, and a node with SELinux off whatever its runtime.
        let docker = match pods::runtime(ctx, node) {
            Some(Runtime::Docker(v, ev)) if is_old_docker(&v) => Some((v, ev)),
            Some(_) => continue,
            None => None,
        };
        let enforcing = match selinux(ctx, node) {
            SeLinux::Enforcing(ev) => ev,
            SeLinux::Off => continue,
            SeLinux::Unknown(why) => {
                unknown.push(ctx.phrase("node-unknown", &[("node", node), ("why", &why)]));
                continue;
            }
        };
        let Some((docker, docker_ev)) = docker else {
            unknown.push(ctx.phrase("docker-unknown", &[("node", node)]));
            continue;
        };
        let mut d = Draft::new()
            .var("node", node.as_str())
            .var("docker", docker.text.as_str())
            .var(
                "pods",
                crashing
                    .iter()
                    .map(|c| {
                        let status = c.failing[0].status();
                        let restarts: u64 = c.failing.iter().map(|f| f.restarts).sum();
                        format!("{} ({status}, {restarts} restarts)", c.name)
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        for c in crashing {
            for f in &c.failing {
                d.evidence.push(pods::failing_evidence(&pods, c.item, f));
            }
            d.evidence.extend(
                eperm
                    .iter()
                    .filter(|m| path_vars(&m.file).get("pod") == Some(&c.name))
                    .map(|m| line_evidence(m)),
            );
        }
        d.evidence.push(enforcing);
        d.evidence.push(docker_ev);
        let deployment = if crashing.iter().all(|c| c.name.starts_with("kube-dns-")) {
            "kube-dns"
        } else {
            "coredns"
        };
        d.vars.insert("deployment".into(), deployment.into());
        let os = OsRelease::read(ctx, node).unwrap_or_else(|| OsRelease::parse(""));
        match os.install_command(&["docker-ce".to_string()]) {
            Some(install) => {
                d.vars.insert("os".into(), os.name());
                d.vars.insert("install".into(), install);
            }
            None => d.variants.push("os-unknown"),
        }
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !unknown.is_empty() {
        return Draft::missing("default")
            .var("unknown", unknown.join("; "))
            .not_evaluated();
    }
    Ok(Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_1_x_series_is_old() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(is_old_docker(&v("1.13.1")));
        assert!(is_old_docker(&v("1.13.1-84.git07f3374.el7.centos")));
        assert!(!is_old_docker(&v("17.03.2-ce")));
        assert!(!is_old_docker(&v("5:20.10.7~3-0~ubuntu-focal")));
    }
}
