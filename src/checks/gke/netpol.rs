//! NetworkPolicy egress evaluation, as Kubernetes defines it.
//!
//! Whether a pod may open a connection is not a property of one policy: every policy in the
//! pod's namespace whose `podSelector` matches it and that isolates egress takes part, and the
//! connection is allowed when any egress rule of any of them allows it (the union). A pod that
//! no egress-isolating policy selects may connect anywhere. This module answers that question
//! for one source pod and one destination (an IP address, or a pod with labels), and says which
//! rule allowed it and whether the answer rested on guessed namespace labels.
//!
//! Semantics implemented (networking.k8s.io/v1):
//! - `policyTypes` absent: `Ingress`, plus `Egress` when the policy has at least one egress rule.
//!   `policyTypes: [Egress]` with no `egress` rules isolates and allows nothing.
//! - `podSelector` / `namespaceSelector`: `matchLabels` AND every `matchExpressions` entry
//!   (`In`, `NotIn`, `Exists`, `DoesNotExist`); an empty selector matches everything.
//! - `to` peers: `ipBlock` (`cidr` minus every `except`); `podSelector` alone (pods of the
//!   policy's namespace); `namespaceSelector` alone (every pod of those namespaces); both (those
//!   pods of those namespaces). Selector peers match pods only, never a node-local address.
//! - `ports`: `protocol` defaults to TCP; `port` absent means every port of that protocol; a
//!   named port matches a destination pod's container port of that name; `endPort` makes a range.
//! - An absent or empty `to` or `ports` means all destinations or all ports.

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Labels of a pod or namespace.
pub type Labels = BTreeMap<String, String>;

/// The namespace label every namespace carries since Kubernetes 1.21, and the only one known
/// when the bundle holds no namespace list.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Reads `metadata.labels` (or any string map) into [`Labels`].
pub fn labels_of(v: Option<&Value>) -> Labels {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    /// An operator the API server would have refused: matches nothing.
    Invalid,
}

/// A label selector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selector {
    labels: Vec<(String, String)>,
    exprs: Vec<(String, Op)>,
}

impl Selector {
    /// Parses a selector object; `None` and `{}` both give the empty selector (matches all).
    pub fn parse(v: Option<&Value>) -> Selector {
        let mut s = Selector::default();
        let Some(v) = v else { return s };
        if let Some(m) = v.get("matchLabels").and_then(Value::as_object) {
            for (k, val) in m {
                s.labels
                    .push((k.clone(), val.as_str().unwrap_or_default().to_string()));
            }
        }
        for e in v
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = e
                .get("key")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let values: Vec<String> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            let op = match e.get("operator").and_then(Value::as_str) {
                Some("In") => Op::In(values),
                Some("NotIn") => Op::NotIn(values),
                Some("Exists") => Op::Exists,
                Some("DoesNotExist") => Op::DoesNotExist,
                _ => Op::Invalid,
            };
            s.exprs.push((key, op));
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.exprs.is_empty()
    }

    /// True when every `matchLabels` pair and every expression hold for `labels`.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|(k, op)| match op {
                Op::In(vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
                Op::NotIn(vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
                Op::Exists => labels.contains_key(k),
                Op::DoesNotExist => !labels.contains_key(k),
                Op::Invalid => false,
            })
    }
}

/// An IP network `addr/prefix`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, p) = s.trim().split_once('/')?;
        let addr: IpAddr = a.parse().ok()?;
        let prefix: u8 = p.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum PortSpec {
    Any,
    Number(u32),
    Name(String),
}

#[derive(Debug, Clone, PartialEq)]
struct PortRule {
    protocol: String,
    port: PortSpec,
    end_port: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
enum Peer {
    IpBlock {
        cidr: Option<Cidr>,
        except: Vec<Cidr>,
    },
    Pods {
        namespaces: Option<Selector>,
        pods: Option<Selector>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct EgressRule {
    /// Empty: every destination.
    to: Vec<Peer>,
    /// Empty: every port.
    ports: Vec<PortRule>,
}

/// One NetworkPolicy, reduced to what egress evaluation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: Selector,
    /// The raw `spec.podSelector`, for remediation text.
    pub pod_selector_raw: Value,
    /// The policy isolates the pods it selects for egress.
    pub isolates_egress: bool,
    egress: Vec<EgressRule>,
}

impl Policy {
    /// Reads a NetworkPolicy object as `kubectl get networkpolicies -o json` prints it.
    pub fn from_value(v: &Value) -> Policy {
        let spec = v.get("spec").cloned().unwrap_or(Value::Null);
        let egress_rules: Vec<EgressRule> = spec
            .get("egress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(parse_rule)
            .collect();
        let isolates_egress = match spec.get("policyTypes").and_then(Value::as_array) {
            Some(types) => types.iter().any(|t| t.as_str() == Some("Egress")),
            None => !egress_rules.is_empty(),
        };
        Policy {
            namespace: v
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string(),
            name: v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            pod_selector: Selector::parse(spec.get("podSelector")),
            pod_selector_raw: spec
                .get("podSelector")
                .cloned()
                .unwrap_or_else(|| Value::Object(Default::default())),
            isolates_egress,
            egress: egress_rules,
        }
    }

    /// True when this policy isolates the egress of a pod of `namespace` with `labels`.
    pub fn selects_for_egress(&self, namespace: &str, labels: &Labels) -> bool {
        self.isolates_egress && self.namespace == namespace && self.pod_selector.matches(labels)
    }

    pub fn rule_count(&self) -> usize {
        self.egress.len()
    }
}

fn parse_rule(r: &Value) -> EgressRule {
    let to = r
        .get("to")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| match p.get("ipBlock") {
            Some(b) => Peer::IpBlock {
                cidr: b.get("cidr").and_then(Value::as_str).and_then(Cidr::parse),
                except: b
                    .get("except")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.as_str().and_then(Cidr::parse))
                    .collect(),
            },
            None => Peer::Pods {
                namespaces: p.get("namespaceSelector").map(|s| Selector::parse(Some(s))),
                pods: p.get("podSelector").map(|s| Selector::parse(Some(s))),
            },
        })
        .collect();
    let ports = r
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| PortRule {
            protocol: p
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("TCP")
                .to_string(),
            port: match p.get("port") {
                Some(Value::Number(n)) => PortSpec::Number(n.as_u64().unwrap_or(0) as u32),
                Some(Value::String(s)) => match s.parse::<u32>() {
                    Ok(n) => PortSpec::Number(n),
                    Err(_) => PortSpec::Name(s.clone()),
                },
                _ => PortSpec::Any,
            },
            end_port: p.get("endPort").and_then(Value::as_u64).map(|n| n as u32),
        })
        .collect();
    EgressRule { to, ports }
}

/// The namespace labels known for a destination pod's namespace.
#[derive(Debug, Clone, PartialEq)]
pub enum NsLabels {
    /// From the bundle's namespace list.
    Known(Labels),
    /// Not collected: only `kubernetes.io/metadata.name` is assumed.
    Assumed(Labels),
}

impl NsLabels {
    /// The labels of namespace `name` from a namespace list, or the assumed minimum.
    pub fn for_namespace(name: &str, known: Option<&BTreeMap<String, Labels>>) -> NsLabels {
        match known.and_then(|k| k.get(name)) {
            Some(l) => NsLabels::Known(l.clone()),
            None => NsLabels::Assumed(Labels::from([(
                NAMESPACE_NAME_LABEL.to_string(),
                name.to_string(),
            )])),
        }
    }

    fn labels(&self) -> &Labels {
        match self {
            NsLabels::Known(l) | NsLabels::Assumed(l) => l,
        }
    }
}

/// A destination pod: where it lives, its labels, and its named container ports.
#[derive(Debug, Clone)]
pub struct DestPod {
    pub namespace: String,
    pub labels: Labels,
    pub ns_labels: NsLabels,
    /// (name, port, protocol) of its containers' named ports.
    pub named_ports: Vec<(String, u32, String)>,
    /// Host-network pods have the node's address: pod and namespace selectors do not reach
    /// them in the datapaths GKE uses.
    pub host_network: bool,
}

/// Where a connection goes.
#[derive(Debug, Clone)]
pub struct Destination {
    pub ip: Option<IpAddr>,
    pub port: u32,
    pub protocol: String,
    pub pod: Option<DestPod>,
}

/// The answer for one source pod and one destination.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    /// No egress-isolating policy selects the source pod.
    pub unrestricted: bool,
    pub allowed: bool,
    /// (policy index, rule index) of the first rule that allows it.
    pub allowed_by: Option<(usize, usize)>,
    /// Indices of the policies that isolate the source pod's egress.
    pub isolating: Vec<usize>,
    /// A namespace selector was evaluated against assumed namespace labels.
    pub assumed_ns_labels: bool,
}

/// Evaluates egress from a pod of `namespace` with `labels` to `dest` under `policies`.
pub fn egress(
    policies: &[Policy],
    namespace: &str,
    labels: &Labels,
    dest: &Destination,
) -> Verdict {
    let isolating: Vec<usize> = policies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.selects_for_egress(namespace, labels))
        .map(|(i, _)| i)
        .collect();
    let mut v = Verdict {
        unrestricted: isolating.is_empty(),
        allowed: isolating.is_empty(),
        ..Verdict::default()
    };
    for &pi in &isolating {
        let p = &policies[pi];
        for (ri, rule) in p.egress.iter().enumerate() {
            let (peer_ok, assumed) = rule_peers_allow(p, rule, dest);
            v.assumed_ns_labels |= assumed;
            if peer_ok && rule_ports_allow(rule, dest) && !v.allowed {
                v.allowed = true;
                v.allowed_by = Some((pi, ri));
            }
        }
    }
    v.isolating = isolating;
    v
}

fn rule_peers_allow(p: &Policy, rule: &EgressRule, dest: &Destination) -> (bool, bool) {
    if rule.to.is_empty() {
        return (true, false);
    }
    let mut assumed = false;
    let mut ok = false;
    for peer in &rule.to {
        let m = match peer {
            Peer::IpBlock { cidr, except } => match (cidr, dest.ip) {
                (Some(c), Some(ip)) => c.contains(ip) && !except.iter().any(|e| e.contains(ip)),
                _ => false,
            },
            Peer::Pods { namespaces, pods } => match &dest.pod {
                Some(d) if !d.host_network => {
                    let ns_ok = match namespaces {
                        None => d.namespace == p.namespace,
                        Some(sel) => {
                            // Only an empty selector is decided without the labels.
                            if !sel.is_empty() {
                                assumed |= matches!(d.ns_labels, NsLabels::Assumed(_));
                            }
                            sel.matches(d.ns_labels.labels())
                        }
                    };
                    ns_ok && pods.as_ref().is_none_or(|s| s.matches(&d.labels))
                }
                _ => false,
            },
        };
        ok |= m;
    }
    (ok, assumed)
}

fn rule_ports_allow(rule: &EgressRule, dest: &Destination) -> bool {
    if rule.ports.is_empty() {
        return true;
    }
    rule.ports.iter().any(|pr| {
        if !pr.protocol.eq_ignore_ascii_case(&dest.protocol) {
            return false;
        }
        match &pr.port {
            PortSpec::Any => true,
            PortSpec::Number(n) => match pr.end_port {
                Some(end) => (*n..=end).contains(&dest.port),
                None => *n == dest.port,
            },
            PortSpec::Name(name) => dest.pod.as_ref().is_some_and(|d| {
                d.named_ports.iter().any(|(pn, port, proto)| {
                    pn == name && *port == dest.port && proto.eq_ignore_ascii_case(&dest.protocol)
                })
            }),
        }
    })
}

/// Why a rule that mentions the destination still does not allow it, for near-miss text:
/// "allows 169.254.169.252/32 on TCP 80, not 988".
/// The near misses among the isolating policies, in the phrases of the check's spec `w`.
pub fn near_misses(
    w: &crate::spec::Check,
    policies: &[Policy],
    isolating: &[usize],
    dest: &Destination,
) -> Vec<String> {
    use crate::checks::phrase;
    let mut out = Vec::new();
    for &pi in isolating {
        let p = &policies[pi];
        for rule in &p.egress {
            let peers_ok = rule_peers_allow(p, rule, dest).0;
            let ports_ok = rule_ports_allow(rule, dest);
            if peers_ok && !ports_ok {
                out.push(phrase(
                    w,
                    "near-ports",
                    &[
                        ("policy", &format!("{}/{}", p.namespace, p.name)),
                        ("ports", &describe_ports(&rule.ports)),
                    ],
                ));
                continue;
            }
            if peers_ok {
                continue;
            }
            for peer in &rule.to {
                let Peer::IpBlock {
                    cidr: Some(c),
                    except,
                } = peer
                else {
                    continue;
                };
                match dest.ip {
                    Some(ip) if c.contains(ip) && except.iter().any(|e| e.contains(ip)) => {
                        out.push(phrase(
                            w,
                            "near-except",
                            &[
                                ("policy", &format!("{}/{}", p.namespace, p.name)),
                                ("cidr", &format!("{}/{}", c.addr, c.prefix)),
                                ("ip", &ip.to_string()),
                            ],
                        ));
                    }
                    _ if ports_ok && is_metadata_like(c) => {
                        out.push(phrase(
                            w,
                            "near-other-address",
                            &[
                                ("policy", &format!("{}/{}", p.namespace, p.name)),
                                ("cidr", &format!("{}/{}", c.addr, c.prefix)),
                            ],
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    out.dedup();
    out
}

fn is_metadata_like(c: &Cidr) -> bool {
    ["127.0.0.1", "169.254.169.252", "169.254.169.254"]
        .iter()
        .any(|a| c.addr.to_string() == *a)
}

fn describe_ports(ports: &[PortRule]) -> String {
    ports
        .iter()
        .map(|p| {
            let port = match (&p.port, p.end_port) {
                (PortSpec::Any, _) => "any port".to_string(),
                (PortSpec::Number(n), Some(e)) => format!("{n}-{e}"),
                (PortSpec::Number(n), None) => n.to_string(),
                (PortSpec::Name(s), _) => format!("named port {s:?}"),
            };
            format!("{} {port}", p.protocol)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of the check that reports near misses.
    fn w() -> &'static crate::spec::Check {
        static CATALOG: std::sync::OnceLock<crate::spec::Catalog> = std::sync::OnceLock::new();
        CATALOG
            .get_or_init(|| crate::spec::Catalog::embedded().unwrap())
            .get("gke/wi-netpol-blocks-metadata")
            .unwrap()
    }
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ip_dest(ip: &str, port: u32) -> Destination {
        Destination {
            ip: Some(ip.parse().unwrap()),
            port,
            protocol: "TCP".into(),
            pod: None,
        }
    }

    fn pol(ns: &str, spec: Value) -> Policy {
        Policy::from_value(&json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": ns},
            "spec": spec
        }))
    }

    fn allowed(p: &[Policy], ns: &str, l: &Labels, d: &Destination) -> bool {
        egress(p, ns, l, d).allowed
    }

    const MD: &str = "169.254.169.252";

    #[test]
    fn selectors_match_labels_and_every_expression_operator() {
        let l = labels(&[("app", "api"), ("tier", "web")]);
        let s = |v: Value| Selector::parse(Some(&v));
        assert!(s(json!({})).matches(&l));
        assert!(Selector::parse(None).matches(&Labels::new()));
        assert!(s(json!({"matchLabels": {"app": "api"}})).matches(&l));
        assert!(!s(json!({"matchLabels": {"app": "api", "x": "y"}})).matches(&l));
        let e = |op: &str, vals: Value| {
            s(json!({"matchExpressions": [{"key": "tier", "operator": op, "values": vals}]}))
        };
        assert!(e("In", json!(["web", "db"])).matches(&l));
        assert!(!e("In", json!(["db"])).matches(&l));
        assert!(!e("NotIn", json!(["web"])).matches(&l));
        assert!(e("NotIn", json!(["db"])).matches(&l));
        // NotIn holds when the key is absent.
        assert!(e("NotIn", json!(["db"])).matches(&Labels::new()));
        assert!(!e("In", json!(["web"])).matches(&Labels::new()));
        assert!(e("Exists", Value::Null).matches(&l));
        assert!(!e("Exists", Value::Null).matches(&Labels::new()));
        assert!(!e("DoesNotExist", Value::Null).matches(&l));
        assert!(e("DoesNotExist", Value::Null).matches(&Labels::new()));
        assert!(!e("Sometimes", Value::Null).matches(&l));
        // matchLabels AND matchExpressions.
        let both = s(json!({"matchLabels": {"app": "api"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]}));
        assert!(!both.matches(&l));
    }

    #[test]
    fn policy_types_and_their_defaults() {
        let l = labels(&[("app", "api")]);
        // No policyTypes and only ingress rules: egress is not isolated.
        let p = pol("ns", json!({"podSelector": {}, "ingress": [{}]}));
        assert!(!p.isolates_egress);
        assert!(allowed(&[p], "ns", &l, &ip_dest(MD, 988)));
        // No policyTypes, egress rules present: isolated, rules apply.
        let p = pol(
            "ns",
            json!({"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}),
        );
        assert!(p.isolates_egress);
        assert!(!allowed(&[p], "ns", &l, &ip_dest(MD, 988)));
        // No policyTypes and `egress: []`: no egress rules, so not isolated.
        let p = pol("ns", json!({"podSelector": {}, "egress": []}));
        assert!(!p.isolates_egress);
        // policyTypes Egress with no rules: deny all.
        let p = pol("ns", json!({"podSelector": {}, "policyTypes": ["Egress"]}));
        let v = egress(&[p], "ns", &l, &ip_dest(MD, 988));
        assert!(!v.allowed && !v.unrestricted && v.isolating == [0]);
        // policyTypes Ingress only, even with egress rules listed: egress not isolated.
        let p = pol(
            "ns",
            json!({"podSelector": {}, "policyTypes": ["Ingress"], "egress": [{"ports": [{"port": 1}]}]}),
        );
        assert!(allowed(&[p], "ns", &l, &ip_dest(MD, 988)));
    }

    #[test]
    fn pod_selector_and_namespace_scope_the_policy() {
        let l = labels(&[("app", "api")]);
        let deny =
            |ns: &str, sel: Value| pol(ns, json!({"podSelector": sel, "policyTypes": ["Egress"]}));
        assert!(allowed(
            &[deny("other", json!({}))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        assert!(allowed(
            &[deny("ns", json!({"matchLabels": {"app": "db"}}))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        assert!(!allowed(
            &[deny("ns", json!({"matchLabels": {"app": "api"}}))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
    }

    #[test]
    fn several_policies_selecting_one_pod_allow_the_union() {
        let l = labels(&[("app", "api")]);
        let deny = pol("ns", json!({"podSelector": {}, "policyTypes": ["Egress"]}));
        let allow = pol(
            "ns",
            json!({"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}],
                            "ports": [{"port": 988, "protocol": "TCP"}]}]}),
        );
        let v = egress(&[deny.clone(), allow.clone()], "ns", &l, &ip_dest(MD, 988));
        assert!(v.allowed);
        assert_eq!(v.allowed_by, Some((1, 0)));
        assert_eq!(v.isolating, vec![0, 1]);
        // The allowing policy does not select this pod: the deny wins.
        let other = labels(&[("app", "web")]);
        assert!(!allowed(&[deny, allow], "ns", &other, &ip_dest(MD, 988)));
    }

    #[test]
    fn ip_blocks_with_except_and_empty_to_or_ports() {
        let l = Labels::new();
        let rule = |r: Value| {
            pol(
                "ns",
                json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [r]}),
            )
        };
        // Empty rule: everything.
        assert!(allowed(&[rule(json!({}))], "ns", &l, &ip_dest(MD, 988)));
        // Empty to, port restricted.
        assert!(allowed(
            &[rule(json!({"ports": [{"port": 988}]}))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        assert!(!allowed(
            &[rule(json!({"ports": [{"port": 80}]}))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        // Empty ports, destination restricted.
        assert!(allowed(
            &[rule(
                json!({"to": [{"ipBlock": {"cidr": "169.254.0.0/16"}}]})
            )],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        assert!(allowed(
            &[rule(json!({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        // except removes the address.
        let ex = rule(
            json!({"to": [{"ipBlock": {"cidr": "169.254.0.0/16", "except": ["169.254.169.252/32"]}}]}),
        );
        assert!(!allowed(
            std::slice::from_ref(&ex),
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        assert!(allowed(
            std::slice::from_ref(&ex),
            "ns",
            &l,
            &ip_dest("169.254.169.254", 80)
        ));
        let v = egress(std::slice::from_ref(&ex), "ns", &l, &ip_dest(MD, 988));
        let nm = near_misses(
            w(),
            std::slice::from_ref(&ex),
            &v.isolating,
            &ip_dest(MD, 988),
        );
        assert!(nm[0].contains("except"), "{nm:?}");
        // Another address, IPv6 and garbage do not match.
        for c in ["127.0.0.1/32", "::/0", "not-a-cidr", "169.254.169.252/33"] {
            assert!(
                !allowed(
                    &[rule(json!({"to": [{"ipBlock": {"cidr": c}}]}))],
                    "ns",
                    &l,
                    &ip_dest(MD, 988)
                ),
                "{c}"
            );
        }
    }

    #[test]
    fn ports_protocols_ranges_and_names() {
        let l = Labels::new();
        let ports = |p: Value| {
            pol(
                "ns",
                json!({"podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}], "ports": p}]}),
            )
        };
        // Protocol defaults to TCP.
        assert!(allowed(
            &[ports(json!([{"port": 988}]))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        assert!(!allowed(
            &[ports(json!([{"port": 988, "protocol": "UDP"}]))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        // Port absent: every port of the protocol.
        assert!(allowed(
            &[ports(json!([{"protocol": "TCP"}]))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        // endPort range.
        assert!(allowed(
            &[ports(json!([{"port": 900, "endPort": 1000}]))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        assert!(!allowed(
            &[ports(json!([{"port": 990, "endPort": 1000}]))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        // A port written as a string of digits is a number.
        assert!(allowed(
            &[ports(json!([{"port": "988"}]))],
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        // A named port cannot match a bare address.
        let named = ports(json!([{"port": "metadata"}]));
        assert!(!allowed(
            std::slice::from_ref(&named),
            "ns",
            &l,
            &ip_dest(MD, 988)
        ));
        let v = egress(std::slice::from_ref(&named), "ns", &l, &ip_dest(MD, 988));
        let nm = near_misses(
            w(),
            std::slice::from_ref(&named),
            &v.isolating,
            &ip_dest(MD, 988),
        );
        assert!(nm[0].contains("named port"), "{nm:?}");
        // ...but matches a destination pod's container port of that name.
        let pod_rule = pol(
            "ns",
            json!({"podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {}}], "ports": [{"port": "http"}]}]}),
        );
        let mut d = ip_dest("10.4.0.9", 8080);
        d.pod = Some(DestPod {
            namespace: "ns".into(),
            labels: Labels::new(),
            ns_labels: NsLabels::for_namespace("ns", None),
            named_ports: vec![("http".into(), 8080, "TCP".into())],
            host_network: false,
        });
        assert!(allowed(std::slice::from_ref(&pod_rule), "ns", &l, &d));
        d.port = 8081;
        assert!(!allowed(&[pod_rule], "ns", &l, &d));
    }

    fn dest_pod(ns: &str, l: Labels, known: Option<&BTreeMap<String, Labels>>) -> Destination {
        Destination {
            ip: Some("10.4.0.9".parse().unwrap()),
            port: 988,
            protocol: "TCP".into(),
            pod: Some(DestPod {
                namespace: ns.into(),
                labels: l,
                ns_labels: NsLabels::for_namespace(ns, known),
                named_ports: vec![],
                host_network: false,
            }),
        }
    }

    #[test]
    fn pod_and_namespace_selector_peers() {
        let src = Labels::new();
        let to = |peer: Value| {
            pol(
                "app",
                json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [peer]}]}),
            )
        };
        let target = labels(&[("k8s-app", "gke-metadata-server")]);
        // podSelector alone: same namespace as the policy only.
        let p = to(json!({"podSelector": {"matchLabels": {"k8s-app": "gke-metadata-server"}}}));
        assert!(!allowed(
            std::slice::from_ref(&p),
            "app",
            &src,
            &dest_pod("kube-system", target.clone(), None)
        ));
        assert!(allowed(
            std::slice::from_ref(&p),
            "app",
            &src,
            &dest_pod("app", target.clone(), None)
        ));
        // namespaceSelector by the metadata.name label: decided with assumed labels, and said so.
        let p = to(
            json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                          "podSelector": {"matchLabels": {"k8s-app": "gke-metadata-server"}}}),
        );
        let v = egress(
            std::slice::from_ref(&p),
            "app",
            &src,
            &dest_pod("kube-system", target.clone(), None),
        );
        assert!(v.allowed && v.assumed_ns_labels);
        // A namespace label that only a namespace list can show.
        let p = to(json!({"namespaceSelector": {"matchLabels": {"team": "platform"}}}));
        let v = egress(
            std::slice::from_ref(&p),
            "app",
            &src,
            &dest_pod("kube-system", target.clone(), None),
        );
        assert!(!v.allowed && v.assumed_ns_labels);
        let known = BTreeMap::from([("kube-system".to_string(), labels(&[("team", "platform")]))]);
        let v = egress(
            std::slice::from_ref(&p),
            "app",
            &src,
            &dest_pod("kube-system", target.clone(), Some(&known)),
        );
        assert!(v.allowed && !v.assumed_ns_labels);
        // An empty namespaceSelector: every namespace, no labels needed.
        let p = to(json!({"namespaceSelector": {}}));
        let v = egress(
            std::slice::from_ref(&p),
            "app",
            &src,
            &dest_pod("kube-system", target.clone(), None),
        );
        assert!(v.allowed && !v.assumed_ns_labels);
        // Selector peers never reach an address that is no pod, nor a host-network pod.
        assert!(!allowed(
            std::slice::from_ref(&p),
            "app",
            &src,
            &ip_dest(MD, 988)
        ));
        let mut hn = dest_pod("kube-system", target, None);
        hn.pod.as_mut().unwrap().host_network = true;
        assert!(!allowed(&[p], "app", &src, &hn));
    }

    #[test]
    fn near_misses_name_the_wrong_port_and_the_wrong_address() {
        let p = pol(
            "ns",
            json!({"podSelector": {}, "policyTypes": ["Egress"], "egress": [
            {"to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}], "ports": [{"port": 80, "protocol": "TCP"}]},
            {"to": [{"ipBlock": {"cidr": "127.0.0.1/32"}}], "ports": [{"port": 988, "protocol": "TCP"}]}]}),
        );
        let v = egress(
            std::slice::from_ref(&p),
            "ns",
            &Labels::new(),
            &ip_dest(MD, 988),
        );
        assert!(!v.allowed);
        let nm = near_misses(w(), &[p], &v.isolating, &ip_dest(MD, 988));
        assert_eq!(nm.len(), 2, "{nm:?}");
        assert!(nm[0].contains("only on TCP 80"));
        assert!(nm[1].contains("127.0.0.1/32"));
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.255.0.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(
            !Cidr::parse("fd00::/8")
                .unwrap()
                .contains("10.0.0.1".parse().unwrap())
        );
        assert_eq!(Cidr::parse("10.0.0.0"), None);
    }
}
