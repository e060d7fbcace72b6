//! Node addresses: the API server dialling a kubelet at an address it cannot route to
//! (`kubeadm/kubelet-unreachable-ip`), and kube-proxy starting before its node had one
//! (`kubeadm/kube-proxy-no-node-ip`).

use super::{OsRelease, server_version};
use crate::checks::{Ctx, Draft, Outcome, group_matches};
use crate::cluster::{self, Node};
use crate::facts::Unavailable;

/// Whether a line's request on port 10250 went to an aggregated API (`https://10.244.1.5:10250/
/// apis/metrics.k8s.io/v1beta1`: metrics-server listens there in its pod), not to a kubelet, whose
/// paths are `/containerLogs`, `/exec`, `/metrics`…
fn calls_aggregated_api(line: &str) -> bool {
    line.contains(":10250/apis/")
}

/// The addresses of pods that have their own (not host-network pods, which share their node's):
/// something in such a pod listening on 10250 is not a kubelet.
fn pod_ips(ctx: &Ctx) -> std::collections::HashSet<String> {
    let Ok(pods) = ctx.list("kubectl/pods.json") else {
        return Default::default();
    };
    cluster::pods(&pods)
        .filter(|p| !p.host_network)
        .filter_map(|p| {
            let status = p.value().get("status")?;
            let mut ips: Vec<String> = status
                .get("podIPs")
                .and_then(|l| l.as_array())
                .into_iter()
                .flatten()
                .filter_map(|i| i.get("ip")?.as_str().map(str::to_string))
                .collect();
            ips.extend(
                status
                    .get("podIP")
                    .and_then(|i| i.as_str())
                    .map(str::to_string),
            );
            Some(ips)
        })
        .flatten()
        .collect()
}

/// A node's addresses by type (`InternalIP`, `ExternalIP`, `Hostname`).
pub(super) fn addresses(node: &Node) -> Vec<(String, String)> {
    node.addresses
        .iter()
        .filter(|(t, a)| !redacted(t, a))
        .map(|(t, a)| (t.to_string(), a.to_string()))
        .collect()
}

/// An `…IP` address that is no address: a bundle tool redacted it (troubleshoot writes
/// `***HIDDEN***`). Two redacted addresses are not the same address.
pub(super) fn redacted(kind: &str, addr: &str) -> bool {
    kind.ends_with("IP") && addr.parse::<std::net::IpAddr>().is_err()
}

/// One address line of `ip addr show`: the address, its interface, whether its scope is global,
/// and the line number in `nodes/<node>/ip-addr.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Inet {
    pub addr: String,
    pub dev: String,
    pub global: bool,
    pub line: usize,
}

/// Every address in `ip addr show` output (and in `ip -br addr`'s one-line form). The interface
/// is the one named by the last `N: dev: <...>` header, since inet6 lines carry no label.
pub(super) fn parse_ip_addr(text: &str) -> Vec<Inet> {
    let mut out = Vec::new();
    let mut dev = String::new();
    for (i, line) in text.lines().enumerate() {
        let t: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = t.first() else {
            continue;
        };
        if !line.starts_with(char::is_whitespace)
            && first.len() > 1
            && first.ends_with(':')
            && first[..first.len() - 1].chars().all(|c| c.is_ascii_digit())
        {
            // "2: eth1: <BROADCAST,...>" or "5: eth0@if6: <...>"
            if let Some(name) = t.get(1) {
                let name = name.trim_end_matches(':');
                dev = name.split('@').next().unwrap_or(name).to_string();
            }
            continue;
        }
        if *first == "inet" || *first == "inet6" {
            let Some(addr) = t.get(1).and_then(|a| a.split('/').next()) else {
                continue;
            };
            // inet lines end with their label (eth0, eth0:1); inet6 lines do not.
            let label = t
                .last()
                .filter(|l| *first == "inet" && t.len() > 2 && l.starts_with(dev.as_str()));
            out.push(Inet {
                addr: addr.to_string(),
                dev: label.map_or(dev.clone(), |l| l.to_string()),
                global: t.contains(&"global"),
                line: i + 1,
            });
            continue;
        }
        // ip -br addr: "eth1  UP  192.168.56.11/24 fe80::a00:27ff:fe4e:66a1/64"
        if t.len() >= 3
            && matches!(
                t[1],
                "UP" | "DOWN" | "UNKNOWN" | "LOWERLAYERDOWN" | "DORMANT"
            )
        {
            let name = t[0].split('@').next().unwrap_or(t[0]);
            for a in &t[2..] {
                let Some(addr) = a.split_once('/').map(|(a, _)| a) else {
                    continue;
                };
                let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
                    continue;
                };
                let global = match ip {
                    std::net::IpAddr::V4(v) => !v.is_loopback() && !v.is_link_local(),
                    std::net::IpAddr::V6(v) => {
                        !v.is_loopback() && (v.segments()[0] & 0xffc0) != 0xfe80
                    }
                };
                out.push(Inet {
                    addr: addr.to_string(),
                    dev: name.to_string(),
                    global,
                    line: i + 1,
                });
            }
        }
    }
    out
}

/// The addresses of `nodes/<node>/ip-addr.txt`, with the file for evidence; `None` when the
/// file was not collected.
pub(super) fn node_inets(
    ctx: &Ctx,
    node: &str,
) -> Option<(std::sync::Arc<crate::facts::TextFile>, Vec<Inet>)> {
    let f = ctx.facts.text(&format!("nodes/{node}/ip-addr.txt")).ok()?;
    let inets = parse_ip_addr(&f.text);
    Some((f, inets))
}

/// Addresses other than `ip` on the node's interfaces, from `nodes/<node>/ip-addr.txt`
/// (`ip addr show` output): "10.19.0.41 (eth1)".
fn interface_addresses(ctx: &Ctx, node: &str, ip: &str) -> Vec<String> {
    let Some((_, inets)) = node_inets(ctx, node) else {
        return Vec::new();
    };
    inets
        .into_iter()
        .filter(|i| {
            i.global
                && i.addr != ip
                && !i.addr.starts_with("127.")
                && i.addr != "::1"
                && !i.addr.starts_with("fe80:")
        })
        .map(|i| format!("{} ({})", i.addr, i.dev))
        .collect()
}

/// Whether the bundle holds text where a failed dial to a kubelet would show: pasted output,
/// pod logs, journals, or the collector's own `kubectl logs` runs (recorded in the manifest,
/// whose stderr the scan reads). A manifest alone, of other commands, proves nothing.
fn kubelets_were_dialled(ctx: &Ctx) -> bool {
    ["captured/**", "kubectl/logs/**", "nodes/*/journal/**"]
        .iter()
        .any(|g| !ctx.facts.glob(g).is_empty())
        || ctx.facts.manifest().is_some_and(|m| {
            m.sources.iter().any(|s| {
                s.command.first().is_some_and(|c| c == "kubectl")
                    && s.command.iter().any(|a| a == "logs" || a == "exec")
            })
        })
}

pub fn kubelet_unreachable_ip(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pod_ips = pod_ips(ctx);
    let dialled_kubelets: Vec<_> = ctx
        .matches_of("no-route")
        .into_iter()
        .filter(|m| {
            !calls_aggregated_api(&m.text)
                && !pod_ips.contains(m.captures["ip"].trim_matches(['[', ']']))
        })
        .collect();
    let mut drafts = group_matches(dialled_kubelets, |v| {
        v["ip"].trim_matches(['[', ']']).to_string()
    });
    if drafts.is_empty() {
        if ctx.scanned("no-route") == 0 || !kubelets_were_dialled(ctx) {
            return Draft::missing("default").not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let nodes = ctx.list("kubectl/nodes.json").ok();
    let node_views = nodes.as_deref().map(cluster::nodes).unwrap_or_default();
    for d in &mut drafts {
        let ip = d.vars["ip"].trim_matches(['[', ']']).to_string();
        d.vars.insert("ip".into(), ip.clone());
        let endpoint = if ip.contains(':') {
            format!("[{ip}]:10250")
        } else {
            format!("{ip}:10250")
        };
        d.vars.insert("endpoint".into(), endpoint);
        let host = d.vars.entry("host".into()).or_default().clone();
        let found = find_node(&node_views, &ip, &host);
        let (node, os) = match &found {
            Some((n, by_ip)) => {
                let name = n.meta.name.to_string();
                let addrs = addresses(n);
                let internal: Vec<&str> = addrs
                    .iter()
                    .filter(|(t, _)| t == "InternalIP")
                    .map(|(_, a)| a.as_str())
                    .collect();
                let needle = if *by_ip {
                    format!("\"{ip}\"")
                } else {
                    internal
                        .first()
                        .map(|a| format!("\"{a}\""))
                        .unwrap_or_else(|| "\"InternalIP\"".into())
                };
                d.evidence.push(n.at.line(&needle));
                let mut candidates: Vec<String> = addrs
                    .iter()
                    .filter(|(t, a)| t != "Hostname" && *a != ip)
                    .map(|(t, a)| format!("{a} ({t})"))
                    .collect();
                for c in interface_addresses(ctx, &name, &ip) {
                    let a = c.split(' ').next().unwrap_or("");
                    if !candidates.iter().any(|x| x.starts_with(&format!("{a} "))) {
                        candidates.push(c);
                    }
                }
                if !*by_ip {
                    // The name's resolution is stale, not the node's registered address.
                    let ips = if internal.is_empty() {
                        "none".to_string()
                    } else {
                        internal.join(", ")
                    };
                    d.vars.insert("internal_ips".into(), ips);
                    d.variants.push("by-name");
                }
                if candidates.is_empty() {
                    d.variants.push("addresses-unknown");
                }
                d.vars.insert("candidates".into(), candidates.join(", "));
                (Some(name.clone()), OsRelease::read(ctx, &name))
            }
            None => {
                d.variants.push("node-unknown");
                if nodes.is_none() {
                    d.variants.insert(0, "no-node-list");
                }
                (None, None)
            }
        };
        if let Some(node) = node {
            d.vars.insert("node".into(), node);
        }
        let file = os.as_ref().map(|o| o.kubelet_extra_args_file()).unwrap_or(
            "/etc/default/kubelet (Debian/Ubuntu) or /etc/sysconfig/kubelet (CentOS/RHEL/Fedora)",
        );
        d.vars.insert("extra_args_file".into(), file.to_string());
    }
    Ok(Outcome::Findings(drafts))
}

/// The node the API server dialled: by InternalIP (`true`), else by the URL's host name.
fn find_node<'a, 'd>(nodes: &'a [Node<'d>], ip: &str, host: &str) -> Option<(&'a Node<'d>, bool)> {
    if let Some(n) = nodes.iter().find(|n| {
        n.addresses
            .iter()
            .any(|&(t, a)| t == "InternalIP" && a == ip)
    }) {
        return Some((n, true));
    }
    if host.is_empty() {
        return None;
    }
    nodes
        .iter()
        .find(|n| {
            n.meta.name == host
                || n.addresses
                    .iter()
                    .any(|&(t, a)| t == "Hostname" && a == host)
        })
        .map(|n| (n, false))
}

const UNINITIALIZED: &str = "node.cloudprovider.kubernetes.io/uninitialized";

pub fn kube_proxy_no_node_ip(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut drafts = group_matches(ctx.matches_of("no-node-ip"), |v| v["pod"].clone());
    if drafts.is_empty() {
        if ctx.scanned("no-node-ip") == 0 {
            return Draft::missing("default").not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let pods = ctx.list("kubectl/pods.json").ok();
    let nodes = ctx.list("kubectl/nodes.json").ok();
    let role = match server_version(ctx) {
        Some((v, _)) if v.major_minor() < (1, 24) => "node-role.kubernetes.io/master",
        _ => "node-role.kubernetes.io/control-plane",
    };
    for d in &mut drafts {
        d.vars.insert("role_taint".into(), role.into());
        // kube-proxy 1.16 exits instead of falling back to the loopback address.
        if d.evidence
            .iter()
            .all(|e| e.excerpt.contains("unable to get node IP"))
        {
            d.variants.push("exited");
        }
        let pod = d.vars["pod"].clone();
        let node = pods
            .as_ref()
            .and_then(|p| crate::cluster::node_of_pod(p, "kube-system", &pod).map(str::to_string))
            .or_else(|| d.vars.get("hostname").cloned());
        let Some(node) = node else {
            d.vars.insert("node".into(), "the node it runs on".into());
            continue;
        };
        d.vars.insert("node".into(), node.clone());
        let found = nodes
            .as_deref()
            .and_then(|doc| cluster::node_named(doc, &node));
        let cause = match found {
            Some(n) => {
                let addrs = addresses(&n);
                let internal = addrs.iter().find(|(t, _)| t == "InternalIP");
                let tainted = n.taints.iter().any(|t| t.key == UNINITIALIZED);
                if tainted {
                    d.evidence.push(n.at.line(UNINITIALIZED));
                    Some("uninitialized")
                } else if let Some((_, a)) = internal {
                    d.vars.insert("internal_ip".into(), a.clone());
                    Some("stale")
                } else {
                    Some("no-internal-ip")
                }
            }
            None => None,
        };
        d.variants.extend(cause);
    }
    Ok(Outcome::Findings(drafts))
}
