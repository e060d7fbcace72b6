//! `gke/istio-metadata-intercept`: an Istio/ASM sidecar in a Workload Identity pod that
//! redirects the pod's metadata requests, or lets the application start before it is ready.

use super::netpol::Cidr;
use super::*;
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster;
use crate::facts::Item;
use crate::model::Severity;
use std::collections::BTreeMap;
use std::net::IpAddr;

const METADATA_IP: &str = "169.254.169.254";
const EXCLUDE_ANNOTATION: &str = "traffic.sidecar.istio.io/excludeOutboundIPRanges";
const INCLUDE_ANNOTATION: &str = "traffic.sidecar.istio.io/includeOutboundIPRanges";
const PROXY_CONFIG_ANNOTATION: &str = "proxy.istio.io/config";

/// How a pod carries its proxy.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sidecar {
    /// An `istio-proxy` container beside the application.
    Classic,
    /// An `istio-proxy` init container with `restartPolicy: Always`: Kubernetes starts it, and
    /// waits for it, before the application containers.
    Native,
}

fn sidecar_of(pod: &cluster::Pod) -> Option<Sidecar> {
    let named = |init: bool| {
        pod.containers
            .iter()
            .find(|c| c.init == init && c.in_spec && c.name == "istio-proxy")
    };
    if let Some(c) = named(true)
        && c.restart_policy == Some("Always")
    {
        return Some(Sidecar::Native);
    }
    if named(false).is_some() || pod.meta.annotation("sidecar.istio.io/status").is_some() {
        return Some(Sidecar::Classic);
    }
    None
}

/// True when a comma-separated Istio range list (`*`, CIDRs or addresses) covers `ip`.
pub fn ranges_cover(list: &str, ip: IpAddr) -> bool {
    list.split(',').map(str::trim).any(|r| {
        r == "*"
            || Cidr::parse(r).is_some_and(|c| c.contains(ip))
            || r.parse::<IpAddr>().is_ok_and(|a| a == ip)
    })
}

/// The Istio revision that injected a pod: the injector's `istio.io/rev` annotation, else the
/// `revision` of its `sidecar.istio.io/status`, else the pod's `istio.io/rev` label.
fn revision_of(pod: &Value) -> Option<String> {
    let ann = |k: &str| {
        pod.pointer("/metadata/annotations")
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
    };
    ann("istio.io/rev")
        .map(str::to_string)
        .or_else(|| {
            ann("sidecar.istio.io/status")
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .and_then(|s| {
                    s.get("revision")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
        })
        .or_else(|| str_at(pod, "metadata.labels[\"istio.io/rev\"]").map(str::to_string))
        .filter(|r| !r.is_empty())
}

/// The `-x` (excluded) and `-i` (included) outbound ranges the injector gave the pod's
/// `istio-init` container, as `istio-iptables` arguments; `None` without such a container.
fn init_ranges(pod: &Value) -> Option<(String, Option<String>)> {
    let args: Vec<&str> = pod
        .pointer("/spec/initContainers")?
        .as_array()?
        .iter()
        .find(|c| str_at(c, "name") == Some("istio-init"))?
        .get("args")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let after = |flag: &str| {
        args.iter()
            .position(|a| *a == flag)
            .and_then(|i| args.get(i + 1))
            .map(|s| s.to_string())
    };
    Some((after("-x")?, after("-i")))
}

/// Whether the pod's classic `istio-proxy` container holds the application until the proxy runs
/// (the injector adds a postStart hook `pilot-agent wait` for holdApplicationUntilProxyStarts).
fn proxy_waits(pod: &Value) -> bool {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| str_at(c, "name") == Some("istio-proxy"))
        .filter_map(|c| c.pointer("/lifecycle/postStart/exec/command"))
        .filter_map(Value::as_array)
        .any(|cmd| {
            let w: Vec<&str> = cmd.iter().filter_map(Value::as_str).collect();
            w.contains(&"pilot-agent") && w.contains(&"wait")
        })
}

/// The mesh-wide settings for one revision, from the ConfigMaps.
#[derive(Debug, Default)]
struct Mesh<'a> {
    exclude: Option<String>,
    include: Option<String>,
    hold: Option<bool>,
    injector: Option<&'a Item>,
    mesh: Option<&'a Item>,
}

fn mesh_for<'a>(cms: &'a JsonDoc, rev: Option<&str>) -> Mesh<'a> {
    let (mesh_name, inj_name) = match rev {
        Some(r) if r != "default" => (format!("istio-{r}"), format!("istio-sidecar-injector-{r}")),
        _ => ("istio".to_string(), "istio-sidecar-injector".to_string()),
    };
    let find = |name: &str| {
        cms.items
            .iter()
            .find(|i| str_at(&i.value, "metadata.name") == Some(name))
    };
    let mut m = Mesh {
        injector: find(&inj_name),
        mesh: find(&mesh_name),
        ..Mesh::default()
    };
    if let Some(values) = m
        .injector
        .and_then(|i| str_at(&i.value, "data.values"))
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
    {
        m.exclude = str_at(&values, "global.proxy.excludeIPRanges").map(str::to_string);
        m.include = str_at(&values, "global.proxy.includeIPRanges").map(str::to_string);
        m.hold = values
            .pointer("/global/proxy/holdApplicationUntilProxyStarts")
            .and_then(Value::as_bool);
    }
    if let Some(mesh) = m
        .mesh
        .and_then(|i| str_at(&i.value, "data.mesh"))
        .and_then(|t| crate::yaml::parse_documents(t).ok())
        .and_then(|d| d.into_iter().next())
        && let Some(h) = mesh
            .pointer("/defaultConfig/holdApplicationUntilProxyStarts")
            .and_then(Value::as_bool)
    {
        m.hold = Some(h);
    }
    m
}

pub fn istio_metadata_intercept(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let wi = WiUse::read(ctx)?;
    if !wi.in_use() {
        return Ok(wi.not_in_use());
    }
    wi.sas.as_ref().map_err(Clone::clone)?;
    let pods = ctx.list("kubectl/pods.json")?;
    let ksas = wi.ksa_set();
    let wi_sidecar: Vec<(cluster::Pod, Sidecar)> = cluster::pods(&pods)
        .filter(|p| {
            let (ns, sa) = p.ksa();
            ksas.contains(&(ns.to_string(), sa.to_string()))
        })
        .filter_map(|p| sidecar_of(&p).map(|s| (p, s)))
        .collect();
    if wi_sidecar.is_empty() {
        return Draft::missing("no-sidecar").not_evaluated();
    }
    let cms = ctx.list("kubectl/configmaps.json");
    let ip: IpAddr = METADATA_IP.parse().expect("a valid address");
    // (namespace, ksa, kind) → pods, evidence
    type Group<'a> = (Vec<String>, Vec<crate::model::Evidence>);
    let mut groups: BTreeMap<(u8, String, String), Group> = BTreeMap::new();
    let mut undecided = Vec::new();
    for (pod, sidecar) in wi_sidecar {
        let v = pod.value();
        let (ns, ksa) = pod.ksa();
        let name = pod.meta.name.to_string();
        let ann = |k: &str| pod.meta.annotation(k);
        let rev = revision_of(v);
        let mesh = cms.as_ref().ok().map(|c| mesh_for(c, rev.as_deref()));
        // What the revision's ConfigMaps show; when they are missing, what the injector wrote
        // into the pod (istio-init's -x/-i, istio-proxy's postStart wait).
        let injector_known = mesh.as_ref().is_some_and(|m| m.injector.is_some());
        let mesh_known = mesh
            .as_ref()
            .is_some_and(|m| m.injector.is_some() || m.mesh.is_some());
        let init = (!injector_known).then(|| init_ranges(v)).flatten();
        let unknown_why = || match &cms {
            Err(u) => format!("{ns}/{name}: {u}"),
            Ok(_) => {
                let r = match rev.as_deref() {
                    Some(r) if r != "default" => format!("-{r}"),
                    _ => String::new(),
                };
                ctx.phrase(
                    "no-revision-configmaps",
                    &[("pod", &format!("{ns}/{name}")), ("rev", &r)],
                )
            }
        };
        let exclude = ann(EXCLUDE_ANNOTATION).map(str::to_string).or_else(|| {
            if injector_known {
                mesh.as_ref().and_then(|m| m.exclude.clone())
            } else {
                init.as_ref().map(|(x, _)| x.clone())
            }
        });
        let include = ann(INCLUDE_ANNOTATION).map(str::to_string).or_else(|| {
            if injector_known {
                mesh.as_ref().and_then(|m| m.include.clone())
            } else {
                init.as_ref().and_then(|(_, i)| i.clone())
            }
        });
        let pod_ev = pod.at.line("\"istio-proxy\"");
        let excluded = exclude.as_deref().is_some_and(|e| ranges_cover(e, ip))
            || include.as_deref().is_some_and(|i| !ranges_cover(i, ip));
        let key = |kind: u8| (kind, ns.to_string(), ksa.to_string());
        if !excluded && exclude.is_none() && !injector_known {
            undecided.push(unknown_why());
        } else if !excluded {
            let g = groups.entry(key(0)).or_default();
            g.0.push(name.clone());
            g.1.push(pod_ev.clone());
            if let Some(m) = &mesh
                && let (Some(inj), Ok(c)) = (m.injector, &cms)
            {
                g.1.push(c.item_line_evidence(inj, "excludeIPRanges"));
            }
        }
        if sidecar == Sidecar::Native {
            continue;
        }
        let pod_hold = ann(PROXY_CONFIG_ANNOTATION)
            .and_then(|t| crate::yaml::parse_documents(t).ok())
            .and_then(|d| d.into_iter().next())
            .and_then(|c| {
                c.get("holdApplicationUntilProxyStarts")
                    .and_then(Value::as_bool)
            });
        let hold = match (pod_hold, &mesh) {
            (Some(h), _) => h,
            (None, Some(m)) if mesh_known => m.hold.unwrap_or(false),
            _ if proxy_waits(v) => true,
            _ => {
                undecided.push(unknown_why());
                continue;
            }
        };
        if !hold {
            let g = groups.entry(key(1)).or_default();
            g.0.push(name);
            g.1.push(pod_ev);
            if let Some(m) = &mesh
                && let (Some(mi), Ok(c)) = (m.mesh, &cms)
            {
                g.1.push(c.item_line_evidence(mi, "\"mesh\""));
            }
        }
    }
    if groups.is_empty() {
        if !undecided.is_empty() {
            return Draft::missing("default")
                .var("undecided", undecided.join("; "))
                .not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let drafts = groups
        .into_iter()
        .map(|((kind, ns, ksa), (names, evidence))| {
            let mut d = Draft::new()
                .var("namespace", ns.as_str())
                .var("ksa", ksa.as_str())
                .var("pods", name_list(&names, 5));
            d.evidence = evidence;
            if kind != 0 {
                d.severity = Some(Severity::Warning);
                d = d.variant("hold");
            }
            d
        })
        .collect();
    Ok(Outcome::Findings(drafts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_cover_addresses_cidrs_and_star() {
        let ip: IpAddr = METADATA_IP.parse().unwrap();
        assert!(ranges_cover("169.254.169.254/32", ip));
        assert!(ranges_cover("10.0.0.0/8, 169.254.0.0/16", ip));
        assert!(ranges_cover("*", ip));
        assert!(ranges_cover("169.254.169.254", ip));
        assert!(!ranges_cover("", ip));
        assert!(!ranges_cover("169.254.169.252/32", ip));
    }

    #[test]
    fn what_the_injector_wrote_into_the_pod() {
        let status = r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"revision":"asm-1-22"}"#;
        let pod = json!({
            "metadata": {"labels": {"istio.io/rev": "canary"},
                "annotations": {"sidecar.istio.io/status": status}},
            "spec": {
                "initContainers": [{"name": "istio-init", "args": ["istio-iptables", "-p", "15001",
                    "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]}],
                "containers": [{"name": "istio-proxy", "lifecycle":
                    {"postStart": {"exec": {"command": ["pilot-agent", "wait"]}}}}, {"name": "app"}]}
        });
        assert_eq!(revision_of(&pod).as_deref(), Some("asm-1-22"));
        assert_eq!(
            init_ranges(&pod),
            Some((String::new(), Some("*".to_string())))
        );
        assert!(proxy_waits(&pod));
        let annotated = json!({"metadata": {"annotations": {"istio.io/rev": "default",
            "sidecar.istio.io/status": status}}});
        assert_eq!(revision_of(&annotated).as_deref(), Some("default"));
        let bare = json!({"metadata": {}, "spec": {"containers": [{"name": "istio-proxy"}]}});
        assert_eq!(revision_of(&bare), None);
        assert_eq!(init_ranges(&bare), None);
        assert!(!proxy_waits(&bare));
    }

    fn sidecar(v: Value) -> Option<Sidecar> {
        let doc = cluster::table("kubectl/pods.json", vec![v]);
        sidecar_of(&cluster::pod_at(&doc, 0).unwrap())
    }

    #[test]
    fn sidecars_classic_native_or_injected() {
        assert_eq!(
            sidecar(json!({"spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]}})),
            Some(Sidecar::Classic)
        );
        assert_eq!(
            sidecar(json!({"spec": {"containers": [{"name": "app"}],
                "initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}]}})),
            Some(Sidecar::Native)
        );
        assert_eq!(
            sidecar(
                json!({"metadata": {"annotations": {"sidecar.istio.io/status": "{}"}},
                "spec": {"containers": [{"name": "app"}]}})
            ),
            Some(Sidecar::Classic)
        );
        assert_eq!(
            sidecar(json!({"spec": {"containers": [{"name": "app"}]}})),
            None
        );
    }
}
