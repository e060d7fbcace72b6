//! `gke/wi-netpol-blocks-metadata`: the NetworkPolicy evaluator applied to Workload Identity
//! pods and the metadata endpoint their cluster uses.

use super::netpol::{self, DestPod, Destination, Labels, NsLabels, Policy};
use super::*;
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster;
use crate::version::Version;
use std::collections::{BTreeMap, HashMap};

/// The metadata endpoint pods must reach: address, port, and why this one (the spec's detail
/// variant that says it: `dpv2`, `current`, `old`).
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub cidr: &'static str,
    pub ip: &'static str,
    pub port: u32,
    pub why: &'static str,
}

/// The endpoint for a cluster: Dataplane V2 → 169.254.169.254:80; otherwise 169.254.169.252:988
/// from GKE 1.21.0-gke.1000 on, and 127.0.0.1:988 before it.
pub fn metadata_endpoint(version: &Version, datapath: Option<&str>) -> Endpoint {
    if datapath == Some("ADVANCED_DATAPATH") {
        return Endpoint {
            cidr: "169.254.169.254/32",
            ip: "169.254.169.254",
            port: 80,
            why: "dpv2",
        };
    }
    let cut = Version::parse("1.21.0-gke.1000").expect("a valid version");
    if *version >= cut {
        Endpoint {
            cidr: "169.254.169.252/32",
            ip: "169.254.169.252",
            port: 988,
            why: "current",
        }
    } else {
        Endpoint {
            cidr: "127.0.0.1/32",
            ip: "127.0.0.1",
            port: 988,
            why: "old",
        }
    }
}

/// Why a cluster's NetworkPolicies have no effect, if the cluster description says so: GKE
/// enforces them with Dataplane V2, or with Calico once both the network policy add-on and
/// `networkPolicy.enabled` are on. Only explicit signs count: without a `networkPolicy` key and
/// without a disabled add-on, enforcement is assumed.
fn enforcement_off(cluster: &Value, datapath: Option<&str>) -> Option<&'static str> {
    if datapath == Some("ADVANCED_DATAPATH") {
        return None;
    }
    if cluster.pointer("/addonsConfig/networkPolicyConfig/disabled") == Some(&Value::Bool(true)) {
        return Some("the network policy add-on is disabled");
    }
    match cluster.get("networkPolicy") {
        Some(np) if np.get("enabled") != Some(&Value::Bool(true)) => {
            Some("network policy enforcement is not enabled")
        }
        _ => None,
    }
}

/// A pod's labels, for matching NetworkPolicy selectors.
fn labels_of(pod: &cluster::Pod) -> Labels {
    pod.meta
        .labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn name_of(v: &Value) -> &str {
    str_at(v, "metadata.name").unwrap_or("")
}

pub fn wi_netpol_blocks_metadata(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let wi = WiUse::read(ctx)?;
    if !wi.in_use() {
        return Ok(wi.not_in_use());
    }
    wi.sas.as_ref().map_err(Clone::clone)?;
    let policies_doc = ctx.list("kubectl/networkpolicies.json")?;
    let pods = ctx.list("kubectl/pods.json")?;
    let cluster = ctx.json("gcloud/cluster.json")?;
    let datapath = str_at(&cluster.value, "networkConfig.datapathProvider");
    if let Some(off) = enforcement_off(&cluster.value, datapath) {
        return Draft::missing("not-enforced")
            .var("off", off)
            .not_evaluated();
    }
    let Some(version_text) = str_at(&cluster.value, "currentMasterVersion")
        .or_else(|| str_at(&cluster.value, "currentNodeVersion"))
    else {
        return Draft::missing("no-version").not_evaluated();
    };
    let Some(version) = Version::parse(version_text) else {
        return Draft::missing("bad-version")
            .var("version", format!("{version_text:?}"))
            .not_evaluated();
    };
    let ep = metadata_endpoint(&version, datapath);
    // Policies grouped by namespace (file order kept inside one), so that a pod is evaluated
    // against its own namespace's policies only: no pods × policies scan of the whole cluster.
    let mut parsed: Vec<(Policy, usize)> = policies_doc
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (Policy::from_value(&item.value), i))
        .collect();
    parsed.sort_by(|a, b| a.0.namespace.cmp(&b.0.namespace));
    let item_of: Vec<usize> = parsed.iter().map(|(_, i)| *i).collect();
    let policies: Vec<Policy> = parsed.into_iter().map(|(p, _)| p).collect();
    let mut ns_range: HashMap<&str, std::ops::Range<usize>> = HashMap::new();
    for (i, p) in policies.iter().enumerate() {
        ns_range
            .entry(p.namespace.as_str())
            .and_modify(|r| r.end = i + 1)
            .or_insert(i..i + 1);
    }
    // Egress from a pod of `ns`, with policy indices into `policies`.
    let egress_in = |ns: &str, labels: &Labels, d: &Destination| -> netpol::Verdict {
        let Some(r) = ns_range.get(ns) else {
            return netpol::egress(&[], ns, labels, d);
        };
        let mut v = netpol::egress(&policies[r.clone()], ns, labels, d);
        v.isolating.iter_mut().for_each(|i| *i += r.start);
        if let Some((p, _)) = v.allowed_by.as_mut() {
            *p += r.start;
        }
        v
    };
    let ns_labels: Option<BTreeMap<String, Labels>> =
        ctx.list("kubectl/namespaces.json").ok().map(|d| {
            d.items
                .iter()
                .map(|i| {
                    (
                        name_of(&i.value).to_string(),
                        netpol::labels_of(i.value.pointer("/metadata/labels")),
                    )
                })
                .collect()
        });
    let dest = Destination {
        ip: ep.ip.parse().ok(),
        port: ep.port,
        protocol: "TCP".into(),
        pod: None,
    };
    // The metadata server pods, as a destination someone may have tried to allow by selector.
    let mds: Vec<cluster::Pod> = cluster::pods(&pods)
        .filter(|p| {
            p.meta.namespace == "kube-system"
                && p.meta.label("k8s-app") == Some("gke-metadata-server")
        })
        .collect();
    let mds_dest = |as_pod_network: bool| -> Destination {
        let labels = mds.first().map(|p| labels_of(p)).unwrap_or_else(|| {
            Labels::from([("k8s-app".to_string(), "gke-metadata-server".to_string())])
        });
        Destination {
            pod: Some(DestPod {
                namespace: "kube-system".into(),
                labels,
                ns_labels: NsLabels::for_namespace("kube-system", ns_labels.as_ref()),
                named_ports: Vec::new(),
                host_network: !as_pod_network,
            }),
            ..dest.clone()
        }
    };
    let ksas = wi.ksa_set();
    // (namespace, isolating policies) → blocked pods
    let mut blocked: BTreeMap<(String, Vec<usize>), Vec<cluster::Pod>> = BTreeMap::new();
    for pod in cluster::pods(&pods) {
        let pod = &pod;
        let (ns, sa) = pod.ksa();
        if !ksas.contains(&(ns.to_string(), sa.to_string())) || !ns_range.contains_key(ns) {
            continue;
        }
        if pod.host_network {
            continue; // host-network pods are not subject to NetworkPolicy
        }
        let labels = labels_of(pod);
        let v = egress_in(ns, &labels, &dest);
        if !v.allowed {
            blocked
                .entry((ns.to_string(), v.isolating.clone()))
                .or_default()
                .push(pod.clone());
        }
    }
    let mut drafts = Vec::new();
    for ((ns, isolating), pod_items) in blocked {
        let pol_names: Vec<String> = isolating
            .iter()
            .map(|&i| policies[i].name.clone())
            .collect();
        let pod_names: Vec<String> = pod_items.iter().map(|p| p.meta.name.to_string()).collect();
        let mut near = netpol::near_misses(ctx.check, &policies, &isolating, &dest);
        let sel_labels = labels_of(&pod_items[0]);
        let by_selector = egress_in(&ns, &sel_labels, &mds_dest(true));
        if by_selector.allowed
            && let Some((pi, _)) = by_selector.allowed_by
            && !egress_in(&ns, &sel_labels, &mds_dest(false)).allowed
        {
            let policy = format!("{}/{}", policies[pi].namespace, policies[pi].name);
            let mut s = ctx.phrase("near-selector", &[("policy", &policy)]);
            if by_selector.assumed_ns_labels {
                s.push(' ');
                s.push_str(&ctx.phrase("assumed-namespace-labels", &[]));
            }
            near.push(s);
        }
        let why = match (ep.why, near.is_empty()) {
            ("dpv2", true) => "dpv2",
            ("dpv2", false) => "dpv2-near-miss",
            ("current", true) => "current",
            ("current", false) => "current-near-miss",
            (_, true) => "old",
            (_, false) => "old-near-miss",
        };
        let first = &policies[isolating[0]];
        // `{ }`, not `{}`: the same empty mapping, and never mistaken for a template placeholder.
        let selector = match serde_json::to_string(&first.pod_selector_raw) {
            Ok(s) if s != "{}" => s,
            _ => "{ }".to_string(),
        };
        let mut d = Draft::new()
            .var("namespace", ns.as_str())
            .var("pods", name_list(&pod_names, 5))
            .var("pod_count", pod_names.len().to_string())
            .var("policies", pol_names.join(", "))
            .var("endpoint", format!("{} port {}", ep.cidr, ep.port))
            .var("cidr", ep.cidr)
            .var("port", ep.port.to_string())
            .var("version", version.text.as_str())
            .var("near_miss", near.join("; "))
            .variant(why)
            .var("selector", selector)
            .var("policy", first.name.as_str());
        for &i in &isolating {
            let item = &policies_doc.items[item_of[i]];
            d = d.evidence(
                policies_doc
                    .item_line_evidence(item, &format!("\"name\": \"{}\"", policies[i].name)),
            );
        }
        for p in pod_items.iter().take(5) {
            d = d.evidence(p.at.line("\"serviceAccountName\""));
        }
        drafts.push(d);
    }
    Ok(if drafts.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Findings(drafts)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(v: &str, dp: Option<&str>) -> (&'static str, u32) {
        let e = metadata_endpoint(&Version::parse(v).unwrap(), dp);
        (e.cidr, e.port)
    }

    #[test]
    fn the_endpoint_follows_version_and_datapath() {
        assert_eq!(ep("1.20.15-gke.9999", None), ("127.0.0.1/32", 988));
        assert_eq!(ep("1.21.0-gke.999", None), ("127.0.0.1/32", 988));
        assert_eq!(ep("1.21.0-gke.1000", None), ("169.254.169.252/32", 988));
        assert_eq!(ep("1.21.0-gke.1001", None), ("169.254.169.252/32", 988));
        assert_eq!(ep("1.29.10-gke.1227000", None), ("169.254.169.252/32", 988));
        assert_eq!(
            ep("1.29.10-gke.1227000", Some("ADVANCED_DATAPATH")),
            ("169.254.169.254/32", 80)
        );
        assert_eq!(
            ep("1.29.10-gke.1227000", Some("LEGACY_DATAPATH")),
            ("169.254.169.252/32", 988)
        );
    }
}
