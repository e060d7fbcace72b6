//! `kubeadm/node-ip-unroutable`: a node whose host name resolves to a loopback address, or whose
//! kubelet registered the VirtualBox/Vagrant NAT address, advertises an address the other nodes
//! cannot reach. On Vagrant every VM's first interface is a NAT with the same 10.0.2.15, and
//! Debian/Ubuntu map the host name to 127.0.1.1 in /etc/hosts; the kubelet skips loopback
//! addresses and falls back to the default-route interface, which is that NAT. The check names
//! the node's other address that looks routable, for /etc/hosts and `--node-ip`.

use super::OsRelease;
use super::network::{self, Inet, addresses, node_inets};
use crate::checks::{Ctx, Draft, Outcome, phrase};
use crate::cluster;
use crate::facts::{Item, JsonDoc, TextFile, Unavailable};
use crate::model::Evidence;
use crate::spec::Check;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The address VirtualBox (directly or through Vagrant) and QEMU user-mode networking give every
/// guest on its NAT interface.
pub(super) const NAT_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);

/// Why an address cannot be a node's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unroutable {
    Loopback,
    Nat,
}

/// Parses one address as written by `hostname -i`, `ip addr` or the API (an IPv6 zone `%eth0`
/// and brackets are dropped).
pub(super) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    let s = s.split('%').next().unwrap_or(s);
    s.parse().ok()
}

/// Whether `addr` is a loopback address (127.0.0.0/8, ::1, or ::ffff:127.x) or the NAT address.
pub(super) fn unroutable(addr: &str) -> Option<Unroutable> {
    let ip = parse_ip(addr)?;
    let v4 = match ip {
        IpAddr::V4(v) => v,
        IpAddr::V6(v) if v.is_loopback() => return Some(Unroutable::Loopback),
        IpAddr::V6(v) => v.to_ipv4_mapped()?,
    };
    if v4.is_loopback() {
        Some(Unroutable::Loopback)
    } else if v4 == NAT_ADDRESS {
        Some(Unroutable::Nat)
    } else {
        None
    }
}

/// Interfaces that carry container, overlay or proxy addresses rather than the host's own.
pub(super) fn is_virtual_iface(dev: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "lo",
        "docker",
        "cni",
        "flannel",
        "cali",
        "vxlan",
        "tunl",
        "kube-",
        "weave",
        "veth",
        "cilium",
        "br-",
        "virbr",
        "lxc",
        "datapath",
        "nodelocaldns",
        "genev",
        "nerdctl",
        "podman",
    ];
    PREFIXES.iter().any(|p| dev.starts_with(p))
}

/// The node's own global addresses that look routable: not loopback, not the NAT address, not
/// link-local, not on a container or overlay interface, and not in `exclude`. IPv4 first.
pub(super) fn routable_inets<'i>(inets: &'i [Inet], exclude: &[&str]) -> Vec<&'i Inet> {
    let mut out: Vec<&Inet> = inets
        .iter()
        .filter(|i| {
            i.global
                && !is_virtual_iface(&i.dev)
                && !exclude.contains(&i.addr.as_str())
                && unroutable(&i.addr).is_none()
                && parse_ip(&i.addr).is_some_and(|ip| match ip {
                    IpAddr::V4(v) => !v.is_link_local() && !v.is_unspecified(),
                    IpAddr::V6(v) => (v.segments()[0] & 0xffc0) != 0xfe80 && !v.is_unspecified(),
                })
        })
        .collect();
    out.sort_by_key(|i| parse_ip(&i.addr).is_some_and(|ip| ip.is_ipv6()));
    out
}

/// The addresses on the one line of `hostname -i` output (errors such as "hostname: Name or
/// service not known" carry none), with the line number.
pub(super) fn hostname_i_addresses(f: &TextFile) -> Option<(usize, Vec<String>)> {
    f.lines().find_map(|(n, line)| {
        let addrs: Vec<String> = line
            .split_whitespace()
            .filter(|t| parse_ip(t).is_some())
            .map(str::to_string)
            .collect();
        (!addrs.is_empty()).then_some((n, addrs))
    })
}

/// Evidence for the line of `ip` in a node's `status.addresses`, not an annotation that repeats it.
pub(super) fn address_evidence(doc: &JsonDoc, item: &Item, ip: &str) -> Evidence {
    let from = doc
        .text
        .find_line_in(item.line, item.end_line, "\"addresses\"")
        .unwrap_or(item.line);
    match doc
        .text
        .find_line_in(from, item.end_line, &format!("\"{ip}\""))
    {
        Some(n) => doc.text.evidence(n, n),
        None => doc.item_line_evidence(item, "\"InternalIP\""),
    }
}

fn describe(w: &Check, addr: &str, kind: Unroutable) -> String {
    let name = match kind {
        Unroutable::Loopback => "loopback-address",
        Unroutable::Nat => "nat-address",
    };
    phrase(w, name, &[("addr", addr)])
}

/// What `hostname -i` returned, loopback addresses together.
fn describe_hostname_i(w: &Check, bad: &[(&str, Unroutable)]) -> String {
    let loop_addrs: Vec<&str> = bad
        .iter()
        .filter(|(_, k)| *k == Unroutable::Loopback)
        .map(|(a, _)| *a)
        .collect();
    let mut parts: Vec<String> = Vec::new();
    if !loop_addrs.is_empty() {
        let name = if loop_addrs.contains(&"127.0.1.1") {
            "loopback-debian"
        } else {
            "loopback-address"
        };
        parts.push(phrase(w, name, &[("addr", &loop_addrs.join(" and "))]));
    }
    for (a, k) in bad.iter().filter(|(_, k)| *k == Unroutable::Nat) {
        parts.push(describe(w, a, *k));
    }
    parts.join(" and ")
}

/// What the routable answers of `hostname -i` beside an unroutable one mean, by their order.
fn other_answers_note(w: &Check, addrs: &[String]) -> Option<String> {
    let good: Vec<&str> = addrs
        .iter()
        .filter(|a| unroutable(a).is_none())
        .map(String::as_str)
        .collect();
    if good.is_empty() {
        return None;
    }
    let name = if addrs.first().is_some_and(|a| unroutable(a).is_some()) {
        "also-resolves"
    } else {
        "resolves-first"
    };
    Some(phrase(w, name, &[("addrs", &good.join(", "))]))
}

/// How to change /etc/hosts so the host name resolves to `addr`.
fn hosts_fix(w: &Check, node: &str, addr: &str, bad_h: &[(&str, Unroutable)]) -> String {
    let mut steps: Vec<String> = Vec::new();
    if bad_h.iter().any(|(a, _)| *a == "127.0.1.1") {
        steps.push(phrase(w, "hosts-delete-debian", &[("node", node)]));
    }
    let other_loop: Vec<&str> = bad_h
        .iter()
        .filter(|(a, k)| *k == Unroutable::Loopback && *a != "127.0.1.1")
        .map(|(a, _)| *a)
        .collect();
    if !other_loop.is_empty() {
        let addrs = other_loop.join(" and ");
        let name = if other_loop.len() == 1 {
            "hosts-remove-from-line"
        } else {
            "hosts-remove-from-lines"
        };
        steps.push(phrase(w, name, &[("node", node), ("addrs", &addrs)]));
    }
    if let Some((a, _)) = bad_h.iter().find(|(_, k)| *k == Unroutable::Nat) {
        steps.push(phrase(
            w,
            "hosts-remove-nat",
            &[("node", node), ("addr", a)],
        ));
    }
    if steps.is_empty() {
        return phrase(w, "hosts-resolve", &[("node", node), ("addr", addr)]);
    }
    phrase(
        w,
        "hosts-steps",
        &[("steps", &steps.join(", ")), ("node", node), ("addr", addr)],
    )
}

/// One node as the bundle shows it.
struct NodeView<'d> {
    name: String,
    hostname_i: Option<(Arc<TextFile>, usize, Vec<String>)>,
    item: Option<(&'d JsonDoc, &'d Item)>,
    /// The Node object's string annotations (flannel's public-ip ones).
    annotations: &'d [(crate::lenient::Text, crate::lenient::Text)],
    internal: Vec<String>,
    other_api: Vec<(String, String)>,
}

pub fn node_ip_unroutable(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let nodes_doc = ctx.list("kubectl/nodes.json");
    let mut views: Vec<NodeView> = Vec::new();
    let mut hidden = 0usize;
    if let Ok(doc) = &nodes_doc {
        for node in cluster::nodes(doc) {
            let name = node.meta.name;
            if name.is_empty() {
                continue;
            }
            let addrs = addresses(&node);
            hidden += node
                .addresses
                .iter()
                .filter(|(t, a)| network::redacted(t, a))
                .count();
            views.push(NodeView {
                name: name.to_string(),
                hostname_i: None,
                item: Some((doc, node.at.item)),
                annotations: node.meta.annotations,
                internal: addrs
                    .iter()
                    .filter(|(t, _)| t == "InternalIP")
                    .map(|(_, a)| a.clone())
                    .collect(),
                other_api: addrs
                    .into_iter()
                    .filter(|(t, _)| t != "InternalIP" && t != "Hostname")
                    .collect(),
            });
        }
    }
    let mut hostname_files = 0;
    for f in ctx.facts.glob("nodes/*/hostname-i.txt") {
        let Some(node) = f
            .path
            .strip_prefix("nodes/")
            .and_then(|r| r.split_once('/'))
            .map(|(n, _)| n.to_string())
        else {
            continue;
        };
        let Ok(text) = ctx.facts.text(&f.path) else {
            continue;
        };
        hostname_files += 1;
        let Some((line, addrs)) = hostname_i_addresses(&text) else {
            continue;
        };
        let idx = match views.iter().position(|v| v.name == node) {
            Some(i) => i,
            None => {
                views.push(NodeView {
                    name: node.clone(),
                    hostname_i: None,
                    item: None,
                    annotations: &[],
                    internal: Vec::new(),
                    other_api: Vec::new(),
                });
                views.len() - 1
            }
        };
        views[idx].hostname_i = Some((text, line, addrs));
    }
    if views.is_empty() {
        return match (&nodes_doc, hostname_files) {
            (Err(e), 0) if e.reason.ends_with("is not in the bundle") => Draft::missing("default"),
            (Err(e), 0) => Draft::missing("nodes-unusable").var("why", &e.reason),
            (Err(e), _) => Draft::missing("no-address-nodes-unusable").var("why", &e.reason),
            (Ok(_), 0) => Draft::missing("no-node"),
            (Ok(_), _) => Draft::missing("no-node-no-address"),
        }
        .not_evaluated();
    }

    // Addresses hidden by the tool that wrote the bundle: nothing to judge them by.
    if hidden > 0
        && views
            .iter()
            .all(|v| v.internal.is_empty() && v.hostname_i.is_none())
    {
        return Draft::missing("redacted")
            .var("count", hidden.to_string())
            .not_evaluated();
    }

    // Nodes registered with the same InternalIP: every VM behind one NAT looks like this.
    let mut by_ip: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in &views {
        for a in &v.internal {
            by_ip.entry(a.clone()).or_default().push(v.name.clone());
        }
    }

    let mut drafts = Vec::new();
    for v in &views {
        let bad_h: Vec<(&str, Unroutable)> = v
            .hostname_i
            .iter()
            .flat_map(|(_, _, a)| a.iter())
            .filter_map(|a| unroutable(a).map(|k| (a.as_str(), k)))
            .collect();
        let bad_i: Vec<(&str, Option<Unroutable>, Vec<&str>)> = v
            .internal
            .iter()
            .filter_map(|a| {
                let others: Vec<&str> = by_ip
                    .get(a)
                    .map(|ns| {
                        ns.iter()
                            .filter(|n| **n != v.name)
                            .map(String::as_str)
                            .collect()
                    })
                    .unwrap_or_default();
                let kind = unroutable(a);
                (kind.is_some() || !others.is_empty()).then_some((a.as_str(), kind, others))
            })
            .collect();
        if bad_h.is_empty() && bad_i.is_empty() {
            continue;
        }
        drafts.push(node_draft(ctx, v, &bad_h, &bad_i));
    }
    if drafts.is_empty() {
        Ok(Outcome::Pass)
    } else {
        Ok(Outcome::Findings(drafts))
    }
}

fn node_draft(
    ctx: &Ctx,
    v: &NodeView,
    bad_h: &[(&str, Unroutable)],
    bad_i: &[(&str, Option<Unroutable>, Vec<&str>)],
) -> Draft {
    let w = ctx.check;
    let node = v.name.as_str();
    let mut d = Draft::new().var("node", node);
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if let Some((f, line, addrs)) = &v.hostname_i {
        if !bad_h.is_empty() {
            let returns = describe_hostname_i(w, bad_h);
            problems.push(phrase(w, "hostname-returns", &[("what", &returns)]));
            notes.extend(other_answers_note(w, addrs));
            d = d.evidence(f.evidence(*line, *line));
        }
    }
    let mut shared_with: Vec<&str> = Vec::new();
    if let Some((doc, item)) = v.item {
        for (a, kind, others) in bad_i {
            problems.push(match kind {
                Some(k) => phrase(w, "internal-ip-is", &[("what", &describe(w, a, *k))]),
                None => phrase(w, "internal-ip-shared", &[("addr", a)]),
            });
            d = d.evidence(address_evidence(doc, item, a));
            shared_with.extend(others.iter().copied());
        }
    }
    if !shared_with.is_empty() {
        shared_with.sort_unstable();
        shared_with.dedup();
        let name = if shared_with.len() == 1 {
            "shared-with-node"
        } else {
            "shared-with-nodes"
        };
        notes.push(phrase(w, name, &[("nodes", &shared_with.join(", "))]));
    }
    // The bad addresses as the node's interfaces show them, and the address to use instead.
    let bad: Vec<&str> = bad_h
        .iter()
        .map(|(a, _)| *a)
        .chain(bad_i.iter().map(|(a, _, _)| *a))
        .collect();
    let inets = node_inets(ctx, node);
    let mut candidates: Vec<String> = Vec::new();
    // An InternalIP that is fine and not shared is the node's address already.
    for a in &v.internal {
        if !bad.contains(&a.as_str()) {
            candidates.push(phrase(w, "candidate-internal-ip", &[("addr", a)]));
        }
    }
    match &inets {
        Some((f, list)) => {
            let mut seen: Vec<usize> = Vec::new();
            // lo always carries 127.0.0.1 and ::1: only the NAT or shared address is news there.
            for a in bad
                .iter()
                .filter(|a| unroutable(a) != Some(Unroutable::Loopback))
            {
                for i in list.iter().filter(|i| i.addr == *a) {
                    if !seen.contains(&i.line) {
                        seen.push(i.line);
                        d = d.evidence(f.evidence(i.line, i.line));
                    }
                }
            }
            for i in routable_inets(list, &bad) {
                candidates.push(phrase(
                    w,
                    "candidate-interface",
                    &[("addr", &i.addr), ("dev", &i.dev)],
                ));
            }
        }
        None => notes.push(phrase(w, "no-interfaces", &[("node", node)])),
    }
    if let Some((_, _, addrs)) = &v.hostname_i {
        for a in addrs.iter().filter(|a| unroutable(a).is_none()) {
            candidates.push(phrase(w, "candidate-hostname-i", &[("addr", a)]));
        }
    }
    // Flannel publishes the address of the interface it uses: after `--iface` that is the right one.
    if v.item.is_some() {
        for key in [
            "flannel.alpha.coreos.com/public-ip-overwrite",
            "flannel.alpha.coreos.com/public-ip",
        ] {
            if let Some(a) = v
                .annotations
                .iter()
                .find(|(k, _)| &**k == key)
                .map(|(_, a)| &**a)
                .filter(|a| parse_ip(a).is_some() && unroutable(a).is_none())
                .filter(|a| !bad.contains(a))
            {
                let key = key.rsplit('/').next().unwrap_or(key);
                candidates.push(phrase(
                    w,
                    "candidate-flannel",
                    &[("addr", a), ("annotation", key)],
                ));
            }
        }
    }
    for (t, a) in &v.other_api {
        if unroutable(a).is_none() && !bad.contains(&a.as_str()) {
            candidates.push(phrase(w, "candidate-other", &[("addr", a), ("what", t)]));
        }
    }
    let mut uniq: Vec<String> = Vec::new();
    for c in candidates {
        let addr = c.split(' ').next().unwrap_or("").to_string();
        if !uniq
            .iter()
            .any(|u| u.split(' ').next() == Some(addr.as_str()))
        {
            uniq.push(c);
        }
    }
    let addr = uniq
        .first()
        .and_then(|c| c.split(' ').next())
        .unwrap_or("<routable address>")
        .to_string();
    let routable = match uniq.len() {
        0 => phrase(w, "no-routable", &[("node", node)]),
        1 => phrase(w, "routable-one", &[("node", node), ("addrs", &uniq[0])]),
        _ => phrase(
            w,
            "routable",
            &[("node", node), ("addrs", &uniq.join(", "))],
        ),
    };
    let hosts_fix = hosts_fix(w, node, &addr, bad_h);
    let file = OsRelease::read(ctx, node)
        .map(|o| o.kubelet_extra_args_file())
        .unwrap_or(
            "/etc/default/kubelet (Debian/Ubuntu) or /etc/sysconfig/kubelet (CentOS/RHEL/Fedora)",
        );
    notes.insert(0, routable);
    // Stock Ubuntu and Debian map the host name to 127.0.1.1: while the kubelet registered a
    // routable InternalIP of its own, the node works, and only a kubeadm or kubelet run that
    // trusts the host name would pick the loopback address.
    let registered_fine = bad_i.is_empty()
        && bad_h.iter().all(|(_, k)| *k == Unroutable::Loopback)
        && v.internal.first().is_some_and(|a| unroutable(a).is_none());
    if registered_fine && let Some(a) = v.internal.first() {
        d.severity = Some(crate::model::Severity::Info);
        notes.insert(0, phrase(w, "registered-routable", &[("addr", a)]));
    }
    d.vars.insert("problem".into(), problems.join(", and "));
    d.vars.insert("detail".into(), notes.join(" "));
    d.vars.insert("addr".into(), addr);
    d.vars.insert("hosts_fix".into(), hosts_fix);
    d.vars.insert("extra_args_file".into(), file.to_string());
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::kubeadm::network::parse_ip_addr;

    #[test]
    fn loopback_and_nat_addresses_are_unroutable() {
        assert_eq!(unroutable("127.0.1.1"), Some(Unroutable::Loopback));
        assert_eq!(unroutable("127.0.0.1"), Some(Unroutable::Loopback));
        assert_eq!(unroutable("::1"), Some(Unroutable::Loopback));
        assert_eq!(unroutable("::ffff:127.0.1.1"), Some(Unroutable::Loopback));
        assert_eq!(unroutable("10.0.2.15"), Some(Unroutable::Nat));
        assert_eq!(unroutable("10.0.2.150"), None);
        assert_eq!(unroutable("192.168.56.11"), None);
        assert_eq!(unroutable("fe80::a00:27ff:fe8d:c04d%eth0"), None);
        assert_eq!(unroutable("hostname:"), None);
    }

    #[test]
    fn hostname_i_takes_every_address_and_skips_errors() {
        let f = TextFile::new("h", b"::1 127.0.0.1 \n".to_vec());
        assert_eq!(
            hostname_i_addresses(&f),
            Some((1, vec!["::1".to_string(), "127.0.0.1".to_string()]))
        );
        let f = TextFile::new("h", b"hostname: Name or service not known\n".to_vec());
        assert_eq!(hostname_i_addresses(&f), None);
    }

    #[test]
    fn other_answers_by_their_order() {
        let catalog = crate::spec::Catalog::embedded().unwrap();
        let w = catalog.get("kubeadm/node-ip-unroutable").unwrap();
        let v = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert!(
            other_answers_note(w, &v("127.0.1.1 192.168.56.11"))
                .unwrap()
                .contains("take the first answer get the unroutable one")
        );
        assert!(
            other_answers_note(w, &v("192.168.56.11 127.0.1.1"))
                .unwrap()
                .contains("192.168.56.11 first")
        );
        assert_eq!(other_answers_note(w, &v("::1 127.0.0.1")), None);
    }

    #[test]
    fn routable_addresses_skip_nat_loopback_and_overlay_interfaces() {
        let text = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n    inet 127.0.0.1/8 scope host lo\n    inet6 ::1/128 scope host \n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic eth0\n    inet6 fe80::a00:27ff:fe8d:c04d/64 scope link \n3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    inet 192.168.56.11/24 brd 192.168.56.255 scope global eth1\n    inet6 fd00::11/64 scope global \n4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450\n    inet 10.244.1.0/32 scope global flannel.1\n5: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450\n    inet 10.244.1.1/24 brd 10.244.1.255 scope global cni0\n";
        let inets = parse_ip_addr(text);
        assert_eq!(inets.len(), 8);
        assert_eq!(inets[2].dev, "eth0");
        assert_eq!(inets[5].dev, "eth1");
        assert_eq!(inets[5].addr, "fd00::11");
        let r: Vec<_> = routable_inets(&inets, &[])
            .iter()
            .map(|i| (i.addr.as_str(), i.dev.as_str(), i.line))
            .collect();
        assert_eq!(
            r,
            vec![("192.168.56.11", "eth1", 8), ("fd00::11", "eth1", 9)]
        );
    }

    #[test]
    fn brief_ip_addr_form() {
        let inets = parse_ip_addr(
            "lo               UNKNOWN        127.0.0.1/8 ::1/128 \nenp0s3           UP             10.0.2.15/24 fe80::a00:27ff:fe8d:c04d/64 \nenp0s8           UP             192.168.56.12/24 \n",
        );
        let r: Vec<_> = routable_inets(&inets, &[])
            .iter()
            .map(|i| (i.addr.as_str(), i.dev.as_str()))
            .collect();
        assert_eq!(r, vec![("192.168.56.12", "enp0s8")]);
    }
}
