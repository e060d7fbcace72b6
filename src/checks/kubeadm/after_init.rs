//! `kubeadm/pods-crashloop-after-init`: after `kubeadm init` no kube-system pod should be in
//! `RunContainerError`, `CrashLoopBackOff` or `Error`. When one is, the cause is usually the pod
//! network add-on (broken, or lacking RBAC), or, on Docker older than 1.12.1, the daemon's
//! `MountFlags=slave`, which hides the service-account volume from the containers. One finding
//! per pod, with the cause that fits its node.

use super::cni::{self, AddonPod};
use super::pod_table;
use super::pods::{self, Runtime};
use super::selinux;
use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::cluster;
use crate::facts::Unavailable;
use crate::model::Evidence;
use crate::version::Version;

/// Docker releases before 1.12.1 interfere with Kubernetes' volume mounts under `MountFlags=slave`.
fn before_1_12_1(v: &Version) -> bool {
    v.parts.as_slice() < [1, 12, 1].as_slice()
}

/// The value of `key=` in a systemd unit as `systemctl cat` prints it (the unit and its
/// drop-ins, later assignments winning), with its 1-based line.
fn unit_setting(text: &str, key: &str) -> Option<(usize, String)> {
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = t.split_once('=')
            && k.trim() == key
        {
            found = Some((i + 1, v.trim().to_string()));
        }
    }
    found
}

/// The Docker `MountFlags=slave` cause on `node`, when it fits: a Docker before 1.12.1 whose
/// unit sets it (or whose unit was not collected), or a unit that sets it on a Docker whose
/// version the bundle does not hold.
struct MountFlagsCause {
    evidence: Vec<Evidence>,
    vars: Vec<(String, String)>,
    /// The spec's detail variant that tells this case.
    variant: &'static str,
}

fn mount_flags_cause(ctx: &Ctx, node: &str) -> Option<MountFlagsCause> {
    let docker = match pods::runtime(ctx, node) {
        Some(Runtime::Docker(v, ev)) if before_1_12_1(&v) => Some((v, ev)),
        Some(_) => return None,
        None => None,
    };
    let path = format!("nodes/{node}/systemd/docker.service");
    let slave = match ctx.facts.text(&path) {
        Ok(unit) => match unit_setting(&unit.text, "MountFlags") {
            Some((n, v)) if v == "slave" => Ok(unit.evidence(n, n)),
            _ => return None,
        },
        Err(e) => Err(e.reason),
    };
    let mut evidence = Vec::new();
    let mut vars = Vec::new();
    let variant = match (docker, slave) {
        (Some((v, ev)), Ok(unit_ev)) => {
            vars.push(("docker".to_string(), v.text));
            evidence.extend([ev, unit_ev]);
            "mountflags"
        }
        (Some((v, ev)), Err(why)) => {
            vars.push(("docker".to_string(), v.text));
            vars.push(("why".to_string(), why));
            evidence.push(ev);
            "mountflags-unit-unknown"
        }
        (None, Ok(unit_ev)) => {
            evidence.push(unit_ev);
            "mountflags-version-unknown"
        }
        (None, Err(_)) => return None,
    };
    Some(MountFlagsCause {
        evidence,
        vars,
        variant,
    })
}

pub fn pods_crashloop_after_init(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pods = pod_table::pods_or_table(ctx)?;
    let addons = cni::addon_pods(&pods);
    let configured: Vec<String> = cni::nodes_cni(ctx)
        .into_iter()
        .filter_map(|n| n.active.map(|c| c.file.path.clone()))
        .collect();
    let sa_missing = ctx.matches_of("sa-missing");
    let looping: Vec<String> = ctx
        .matches_of("loop")
        .iter()
        .filter_map(|m| path_vars(&m.file).get("pod").cloned())
        .collect();
    let mut drafts = Vec::new();
    for pod in cluster::pods(&pods) {
        if pod.meta.namespace != "kube-system" {
            continue;
        }
        let failing = pods::failing_containers(&pod);
        if failing.is_empty() {
            continue;
        }
        let item = pod.at.item;
        let name = pod.meta.name.to_string();
        let node = pod.node.unwrap_or("").to_string();
        let restarts: u64 = failing.iter().map(|f| f.restarts).sum();
        let mut d = Draft::new()
            .var("pod", name.as_str())
            .var("node", if node.is_empty() { "no node" } else { &node })
            .var("status", failing[0].status())
            .var("container", failing[0].container.as_str())
            .var("restarts", restarts.to_string())
            .var(
                "containers",
                failing
                    .iter()
                    .map(|f| format!("{} ({})", f.container, f.status()))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        d.evidence.extend(
            failing
                .iter()
                .map(|f| pods::failing_evidence(&pods, item, f)),
        );
        let logs: Vec<Evidence> = sa_missing
            .iter()
            .filter(|m| path_vars(&m.file).get("pod") == Some(&name))
            .map(|m| line_evidence(m))
            .collect();
        // CoreDNS failures another check explains in full: say so rather than guess.
        if pods::is_dns_pod(&pod) {
            let explained = if looping.contains(&name) {
                Some("loop")
            } else if selinux::enforcing_with_old_docker(ctx, &node) {
                Some("selinux")
            } else {
                None
            };
            if let Some(variant) = explained {
                d.evidence.extend(logs);
                drafts.push(d.variant(variant).variant("other-check"));
                continue;
            }
        }
        let own_addon = addons.iter().find(|a| a.item.line == item.line);
        d.evidence.extend(logs);
        if let Some(cause) = mount_flags_cause(ctx, &node) {
            d.evidence.extend(cause.evidence);
            d.vars.extend(cause.vars);
            drafts.push(d.variant(cause.variant).variant("mountflags-fix"));
            continue;
        }
        let d = if let Some(a) = own_addon {
            d.var("addon", a.addon)
                .variant("addon-itself")
                .variant("addon-fix")
        } else if let Some(a) = healthiest(&addons) {
            let on = a
                .node
                .as_deref()
                .map(|n| format!(" on {n}"))
                .unwrap_or_default();
            let d = d
                .var("addon", a.addon)
                .var("addon_pod", format!("{}/{}", a.namespace, a.name))
                .var("addon_node", on)
                .var("addon_phase", a.phase.to_ascii_lowercase())
                .evidence(pods.item_line_evidence(a.item, "\"phase\""));
            d.variant(if a.ready {
                "addon-ready"
            } else {
                "addon-not-ready"
            })
            .variant("addon-fix")
        } else if !configured.is_empty() {
            d.var("addon", "pod network")
                .var("cni_files", configured.join(", "))
                .variant("addon-configured")
                .variant("addon-fix")
        } else {
            d
        };
        drafts.push(d);
    }
    if drafts.is_empty() {
        return Ok(Outcome::Pass);
    }
    Ok(Outcome::Findings(drafts))
}

/// The add-on pod that says most about the add-on: a ready one first.
fn healthiest<'a, 'b>(addons: &'a [AddonPod<'b>]) -> Option<&'a AddonPod<'b>> {
    addons.iter().find(|a| a.ready).or_else(|| addons.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_docker_is_before_1_12_1() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(before_1_12_1(&v("1.11.2")));
        assert!(before_1_12_1(&v("1.12.0")));
        assert!(!before_1_12_1(&v("1.12.1")));
        assert!(!before_1_12_1(&v("1.13.1-84.git07f3374.el7.centos")));
        assert!(!before_1_12_1(&v("18.09.9")));
    }

    #[test]
    fn unit_settings_last_assignment_wins() {
        let unit = "# /usr/lib/systemd/system/docker.service\n[Service]\nMountFlags=slave\n# MountFlags=shared\n\n# /etc/systemd/system/docker.service.d/override.conf\n[Service]\nMountFlags=\n";
        assert_eq!(unit_setting(unit, "MountFlags"), Some((8, String::new())));
        assert_eq!(
            unit_setting("[Service]\nMountFlags = slave\n", "MountFlags"),
            Some((2, "slave".into()))
        );
        assert_eq!(
            unit_setting("[Service]\nExecStart=/usr/bin/dockerd\n", "MountFlags"),
            None
        );
    }
}
