//! The structural links of the Workload Identity chain: the project's services, the cluster's
//! pool, the node pools' metadata mode, the KSA annotations and the GSA bindings; and the
//! metadata server's own health.

use super::*;
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{self, State};
use crate::model::Severity;
use std::collections::{BTreeMap, HashMap};

/// The service Workload Identity tokens are minted by.
const CREDENTIALS_API: &str = "iamcredentials.googleapis.com";

/// `gke/metadata-server-crashloop`: a gke-metadata-server pod crash-looping or OOM-killed.
pub fn metadata_server_crashloop(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let pods = ctx.list("kubectl/pods.json")?;
    let servers: Vec<_> = cluster::pods(&pods)
        .filter(|p| {
            p.meta.namespace == "kube-system"
                && (p.meta.name.starts_with("gke-metadata-server-")
                    || p.meta.label("k8s-app") == Some("gke-metadata-server"))
        })
        .collect();
    if servers.is_empty() {
        return Draft::missing("default").not_evaluated();
    }
    let ksa_count = ctx
        .list("kubectl/serviceaccounts.json")
        .ok()
        .map(|d| d.items.len());
    let mut drafts = Vec::new();
    for pod in servers {
        let item = pod.at.item;
        let mut reasons = Vec::new();
        let mut restarts = 0u64;
        // In the order of the statuses, as kubectl lists them.
        let mut statuses: Vec<&cluster::Container> = pod
            .containers
            .iter()
            .filter(|c| !c.init && c.has_status)
            .collect();
        statuses.sort_by_key(|c| c.status_index);
        for c in statuses {
            restarts += c.restarts;
            // The last termination is `lastState`, or `state` itself while the container has
            // just been killed and not yet restarted.
            let last_oom = c.last.as_ref().is_some_and(|t| t.reason == "OOMKilled");
            let now_oom = matches!(&c.state, State::Terminated(t) if t.reason == "OOMKilled");
            for (hit, want) in [
                (
                    c.state.waiting() == Some("CrashLoopBackOff"),
                    "CrashLoopBackOff",
                ),
                (last_oom, "OOMKilled"),
                (now_oom, "OOMKilled"),
            ] {
                if hit && !reasons.iter().any(|r| r == want) {
                    reasons.push(want.to_string());
                }
            }
        }
        if reasons.is_empty() {
            continue;
        }
        let name = pod.meta.name.to_string();
        let node = pod.node.unwrap_or("(unscheduled)").to_string();
        let cause = match ksa_count {
            Some(n) if n > 3000 => Some("over-limit"),
            Some(_) => None,
            None => Some("count-unknown"),
        };
        let ev = doc_evidence(&pods, item, &reasons[0]);
        drafts.push(
            Draft::new()
                .var("pod", name)
                .var("node", node)
                .var("reasons", reasons.join(" and "))
                .var("restarts", restarts.to_string())
                .var(
                    "ksa_count",
                    ksa_count
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "unknown".into()),
                )
                .evidence(ev),
        );
        if let Some(c) = cause {
            drafts.last_mut().expect("just pushed").variants.push(c);
        }
    }
    Ok(if drafts.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Findings(drafts)
    })
}

fn doc_evidence(doc: &Arc<JsonDoc>, item: &crate::facts::Item, needle: &str) -> Evidence {
    doc.item_line_evidence(item, &format!("\"{needle}\""))
}

/// The members a policy grants `role` to, with the line of each member.
pub(super) fn role_members(policy: &JsonDoc, role: &str) -> Vec<(String, Evidence)> {
    let Some(bindings) = policy.value.get("bindings").and_then(Value::as_array) else {
        return Vec::new();
    };
    bindings
        .iter()
        .filter(|b| b.get("role").and_then(Value::as_str) == Some(role))
        .flat_map(|b| {
            b.get("members")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m.as_str().map(str::to_string))
        .map(|m| {
            let ev = policy.text.evidence_for(&format!("\"{m}\""));
            (m, ev)
        })
        .collect()
}

/// Splits a Workload Identity member into (pool, namespace, KSA). Three forms name KSAs:
/// `serviceAccount:POOL[NS/KSA]`; the principal identifier of Workload Identity Federation for
/// GKE, `principal://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/subject/ns/NS/sa/KSA`;
/// and `principalSet://.../workloadIdentityPools/POOL/namespace/NS`, every KSA of a namespace
/// (KSA `None`).
pub(super) fn parse_wi_member(m: &str) -> Option<(&str, &str, Option<&str>)> {
    if let Some(rest) = m.strip_prefix("serviceAccount:") {
        let (pool, tail) = rest.split_once('[')?;
        let (ns, ksa) = tail.strip_suffix(']')?.split_once('/')?;
        return Some((pool, ns, Some(ksa)));
    }
    let (set, rest) = match m.strip_prefix("principal://") {
        Some(r) => (false, r),
        None => (true, m.strip_prefix("principalSet://")?),
    };
    let (_, rest) = rest.split_once("/workloadIdentityPools/")?;
    let (pool, tail) = rest.split_once('/')?;
    if set {
        let ns = tail.strip_prefix("namespace/")?;
        return (!ns.is_empty() && !ns.contains('/')).then_some((pool, ns, None));
    }
    let (ns, ksa) = tail.strip_prefix("subject/ns/")?.split_once("/sa/")?;
    (!ns.is_empty() && !ksa.is_empty() && !ksa.contains('/')).then_some((pool, ns, Some(ksa)))
}

/// The project a GSA lives in, from its e-mail: the project id of
/// `NAME@PROJECT.iam.gserviceaccount.com`, the project number of the Compute Engine default
/// account `NUMBER-compute@developer.gserviceaccount.com`.
fn gsa_project_of(gsa: &str) -> Option<String> {
    let (name, domain) = gsa.split_once('@')?;
    if domain == "developer.gserviceaccount.com" {
        return name
            .strip_suffix("-compute")
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .map(str::to_string);
    }
    domain
        .strip_suffix(".iam.gserviceaccount.com")
        .map(str::to_string)
}

/// `gke/wi-binding-missing`: an annotated KSA whose GSA does not let it act as the GSA.
pub fn wi_binding_missing(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let sas = ctx.list("kubectl/serviceaccounts.json")?;
    let ksas = annotated_ksas(&sas);
    let cluster = ctx.json("gcloud/cluster.json").ok();
    let pool_set = cluster.as_ref().and_then(|c| workload_pool(&c.value));
    if ksas.is_empty() {
        return Draft::missing("wi-no-ksa").not_evaluated();
    }
    let project = project_id(ctx.facts);
    let pool = match (pool_set, &project) {
        (Some(p), _) => p,
        (None, Some(p)) => format!("{p}.svc.id.goog"),
        (None, None) => return Draft::missing("no-pool").not_evaluated(),
    };
    let project_policy = ctx.json("gcloud/project-iam-policy.json");
    let number = project_number(ctx.facts);
    let mut drafts = Vec::new();
    let mut undecided: Vec<String> = Vec::new();
    for ksa in &ksas {
        let Some(mut gsa_project) = gsa_project_of(&ksa.gsa) else {
            continue; // malformed: gke/wi-ksa-annotation-invalid reports it
        };
        // The Compute Engine default account names its project by number.
        if number.as_ref() == Some(&gsa_project)
            && let Some(p) = &project
        {
            gsa_project = p.clone();
        }
        if gsa_not_found(ctx.facts, &ksa.gsa).is_some() {
            continue; // the GSA does not exist: gke/wi-ksa-annotation-invalid reports it
        }
        let member = format!("serviceAccount:{pool}[{}/{}]", ksa.namespace, ksa.name);
        let mut grants: Vec<(String, Evidence, &'static str)> = Vec::new();
        let mut read_any = false;
        let gsa_path = format!("gcloud/service-accounts/{}/iam-policy.json", ksa.gsa);
        let gsa_policy = ctx.json(&gsa_path);
        if let Ok(p) = &gsa_policy {
            read_any = true;
            grants.extend(
                role_members(p, "roles/iam.workloadIdentityUser")
                    .into_iter()
                    .map(|(m, e)| (m, e, "the service account's IAM policy")),
            );
        }
        // A project-level grant covers every GSA of that project.
        if Some(&gsa_project) == project.as_ref()
            && let Ok(p) = &project_policy
        {
            read_any = true;
            grants.extend(
                role_members(p, "roles/iam.workloadIdentityUser")
                    .into_iter()
                    .map(|(m, e)| (m, e, "the project IAM policy")),
            );
        }
        if !read_any {
            undecided.push(match &gsa_policy {
                Err(u) => u.reason.clone(),
                Ok(_) => gsa_path,
            });
            continue;
        }
        let grants_ksa = |m: &str| {
            parse_wi_member(m).is_some_and(|(p, ns, k)| {
                p == pool && ns == ksa.namespace && k.is_none_or(|k| k == ksa.name)
            })
        };
        if grants.iter().any(|(m, _, _)| grants_ksa(m)) {
            continue;
        }
        // Only the GSA's own policy can show that no grant exists: the project policy alone
        // proves a grant, never its absence.
        if let Err(u) = &gsa_policy {
            undecided.push(u.reason.clone());
            continue;
        }
        // Near misses: a grant for the same KSA elsewhere, or another KSA in this namespace.
        let mut near = Vec::new();
        let mut own_pool_grant: Option<String> = None;
        let mut d = Draft::new().evidence(ksa.evidence.clone());
        for (m, ev, place) in &grants {
            let Some((p, ns, k)) = parse_wi_member(m) else {
                continue;
            };
            let Some(k) = k else {
                continue; // a whole namespace: only a grant for this one counts, seen above
            };
            let what = match (p == pool, ns == ksa.namespace, k == ksa.name) {
                (true, false, true) => "near-other-namespace",
                (true, true, false) => "near-other-ksa",
                (false, true, true)
                    if project
                        .as_ref()
                        .is_some_and(|pr| p == format!("{pr}.svc.id.goog")) =>
                {
                    own_pool_grant = Some(p.to_string());
                    "near-own-pool"
                }
                (false, true, true) => "near-other-pool",
                _ => continue,
            };
            let what = ctx.phrase(what, &[]);
            near.push(ctx.phrase(
                "near-grant",
                &[("place", place), ("member", m), ("what", &what)],
            ));
            d = d.evidence(ev.clone());
        }
        if let Ok(p) = &gsa_policy {
            d = d.evidence(p.text.evidence(1, p.text.line_count().clamp(1, 40)));
        }
        if let Some(own) = own_pool_grant {
            // The grant is right; the cluster's pool is not.
            d = d
                .var("own_pool", own)
                .var("cluster", cluster_name(ctx.facts))
                .var("location_flag", location_flag(ctx.facts))
                .variant("own-pool");
        } else if !near.is_empty() {
            d = d.variant("near-miss");
        }
        drafts.push(
            d.var("namespace", ksa.namespace.as_str())
                .var("ksa", ksa.name.as_str())
                .var("gsa", ksa.gsa.as_str())
                .var("gsa_project", gsa_project)
                .var("member", member)
                .var("near_miss", near.join("; ")),
        );
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !undecided.is_empty() {
        return Draft::missing("default")
            .var("undecided", undecided.join("; "))
            .not_evaluated();
    }
    Ok(Outcome::Pass)
}

/// `gke/ksa-count-high`: the metadata server's memory grows with the cluster's KSA count.
pub fn ksa_count_high(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let sas = ctx.list("kubectl/serviceaccounts.json")?;
    let n = sas.items.len();
    let Some(severity) = ksa_count_severity(n) else {
        return Ok(Outcome::Pass);
    };
    let mut per_ns: BTreeMap<&str, usize> = BTreeMap::new();
    for o in cluster::objects(&sas) {
        *per_ns.entry(o.namespace_or_default()).or_default() += 1;
    }
    let mut top: Vec<(&str, usize)> = per_ns.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top_text = top
        .iter()
        .take(5)
        .map(|(ns, c)| format!("{ns} ({c})"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut d = Draft::new()
        .var("count", n.to_string())
        .var("namespaces", top.len().to_string())
        .var("top_namespaces", top_text)
        .evidence(sas.text.evidence(1, 1));
    if severity == Severity::Info {
        d.severity = Some(Severity::Info);
        d = d.variant("approaching");
    }
    Ok(Outcome::Findings(vec![d]))
}

/// Above 3,000 KSAs the metadata server is at risk (warning); above 2,500 it is worth knowing.
pub fn ksa_count_severity(n: usize) -> Option<Severity> {
    match n {
        n if n > 3000 => Some(Severity::Warning),
        n if n > 2500 => Some(Severity::Info),
        _ => None,
    }
}

/// The enabled services of `gcloud services list --enabled --format=json` (a bare array), or of
/// the raw API page (`{"services": [...]}`).
fn enabled_services(doc: &JsonDoc) -> Option<Vec<(&Value, usize)>> {
    if doc.is_list {
        return Some(doc.items.iter().map(|i| (i.value(), i.line)).collect());
    }
    let list = doc.value.get("services")?.as_array()?;
    Some(list.iter().map(|v| (v, 1)).collect())
}

fn service_name(v: &Value) -> Option<&str> {
    str_at(v, "config.name").or_else(|| {
        str_at(v, "name").map(|n| n.rsplit_once("/services/").map(|(_, s)| s).unwrap_or(n))
    })
}

/// `gke/wi-credentials-api-disabled`: WI in use without the IAM Credentials API.
pub fn wi_credentials_api_disabled(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let wi = WiUse::read(ctx)?;
    if !wi.in_use() {
        return Ok(wi.not_in_use());
    }
    let path = "gcloud/services-enabled.json";
    let doc = ctx.json(path)?;
    let Some(services) = enabled_services(&doc) else {
        return Draft::missing("not-a-list").not_evaluated();
    };
    let mut listed_off = None;
    for (v, _) in &services {
        if service_name(v) == Some(CREDENTIALS_API) {
            match str_at(v, "state") {
                None | Some("ENABLED") => return Ok(Outcome::Pass),
                Some(other) => listed_off = Some(other.to_string()),
            }
        }
    }
    let project = project_id(ctx.facts)
        .or_else(|| {
            services
                .first()
                .and_then(|(v, _)| str_at(v, "parent"))
                .and_then(|p| p.strip_prefix("projects/"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "PROJECT_ID".into());
    // The summary says how the API is off and what shows Workload Identity in use.
    let variant = match (listed_off.is_some(), &wi.pool, wi.ksas.len()) {
        (true, Some(_), 0) => "listed-pool",
        (true, Some(_), _) => "listed-pool-ksas",
        (true, None, _) => "listed-ksas",
        (false, Some(_), 0) => "missing-pool",
        (false, Some(_), _) => "missing-pool-ksas",
        (false, None, _) => "missing-ksas",
    };
    let mut d = Draft::new()
        .var("project", project)
        .var("state", listed_off.clone().unwrap_or_default())
        .var("services", services.len().to_string())
        .var("pool", wi.pool.clone().unwrap_or_default())
        .var("ksas", wi.ksas.len().to_string())
        .variant(variant);
    d = d.evidence(match &listed_off {
        Some(_) => doc.text.evidence_for(&format!("\"{CREDENTIALS_API}\"")),
        None => doc.text.evidence(1, 1),
    });
    if let Some(e) = wi.evidence() {
        d = d.evidence(e);
    }
    Ok(Outcome::Findings(vec![d]))
}

/// `gke/wi-pool-missing`: annotated KSAs on a cluster without (its own) workload pool.
pub fn wi_pool_missing(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let sas = ctx.list("kubectl/serviceaccounts.json")?;
    let ksas = annotated_ksas(&sas);
    if ksas.is_empty() {
        return Draft::missing("wi-no-ksa").not_evaluated();
    }
    let cluster = ctx.json("gcloud/cluster.json")?;
    let project = project_id(ctx.facts);
    let expected = project.as_ref().map(|p| format!("{p}.svc.id.goog"));
    let pool = workload_pool(&cluster.value);
    let (problem, ev) = match (&pool, &expected) {
        (None, _) => (None, resource_evidence(&cluster)),
        (Some(_), Some(e)) if pool.as_ref() != Some(e) => (
            Some("foreign-pool"),
            cluster.text.evidence_for("\"workloadPool\""),
        ),
        _ => return Ok(Outcome::Pass),
    };
    let names: Vec<String> = ksas
        .iter()
        .map(|k| format!("{}/{}", k.namespace, k.name))
        .collect();
    // The pools that still need the GKE metadata server, from the cluster description.
    let mut pools: Vec<&str> = cluster
        .value
        .get("nodePools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| !mode_serves_wi(pool_mode(p)))
        .filter_map(|p| str_at(p, "name"))
        .collect();
    if pools.is_empty() && cluster.value.get("nodePools").is_none() {
        pools.push("POOL_NAME");
    }
    let loc = location_flag(ctx.facts);
    let cluster_n = cluster_name(ctx.facts);
    let pool_cmds = pools
        .iter()
        .map(|p| format!("    gcloud container node-pools update {p} --cluster={cluster_n} {loc} --workload-metadata=GKE_METADATA"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut d = Draft::new()
        .var("pool_commands", pool_cmds)
        .var("pool", pool.clone().unwrap_or_default())
        .var("ksas", name_list(&names, 5))
        .var("count", ksas.len().to_string())
        .var("cluster", cluster_name(ctx.facts))
        .var("location_flag", location_flag(ctx.facts))
        .var(
            "expected_pool",
            expected.unwrap_or_else(|| "PROJECT_ID.svc.id.goog".into()),
        )
        .evidence(ev);
    for k in ksas.iter().take(20) {
        d = d.evidence(k.evidence.clone());
    }
    d.variants.extend(problem);
    if pools.is_empty() {
        d = d.variant("pools-served");
    }
    Ok(Outcome::Findings(vec![d]))
}

/// A node pool's workload metadata mode: `config.workloadMetadataConfig.mode`, or the older
/// v1beta1 `nodeMetadata`; `None` when neither is set.
fn pool_mode(pool: &Value) -> Option<&str> {
    str_at(pool, "config.workloadMetadataConfig.mode")
        .or_else(|| str_at(pool, "config.workloadMetadataConfig.nodeMetadata"))
}

fn mode_serves_wi(mode: Option<&str>) -> bool {
    matches!(mode, Some("GKE_METADATA") | Some("GKE_METADATA_SERVER"))
}

/// The label GKE puts on the nodes of pools that run the GKE metadata server, and that Workload
/// Identity pods may select to stay on them.
const METADATA_SERVER_LABEL: &str = "iam.gke.io/gke-metadata-server-enabled";

/// The labels a pool's nodes carry: those of one of its nodes (complete), else what the pool
/// description implies (its `config.labels`, the pool name and, on GKE_METADATA pools, the
/// metadata-server label; other keys unknown).
struct PoolLabels {
    labels: BTreeMap<String, String>,
    complete: bool,
}

impl PoolLabels {
    /// Whether the node label `key` satisfies `test`; `None` when the labels cannot tell.
    fn holds(&self, key: &str, test: impl Fn(Option<&str>) -> bool) -> Option<bool> {
        let v = self.labels.get(key).map(String::as_str);
        if v.is_none() && !self.complete && key != NODEPOOL_LABEL && key != METADATA_SERVER_LABEL {
            return None;
        }
        Some(test(v))
    }
}

/// Whether a pending pod's `nodeSelector` and required node affinity let it land on a pool with
/// these labels. What the labels cannot tell is taken as possible.
fn may_schedule_on(pod: &Value, pool: &PoolLabels) -> bool {
    let selector_ok = pod
        .pointer("/spec/nodeSelector")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, want)| {
            pool.holds(k, |v| v.is_some() && v == want.as_str())
                .unwrap_or(true)
        });
    if !selector_ok {
        return false;
    }
    let Some(terms) = pod
        .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Value::as_array)
    else {
        return true;
    };
    // Terms are ORed, the expressions of a term ANDed.
    terms.iter().any(|t| {
        t.get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .all(|e| {
                let key = str_at(e, "key").unwrap_or("");
                let values: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let num = |v: Option<&str>| v.and_then(|s| s.parse::<i64>().ok());
                let bound = values.first().and_then(|s| s.parse::<i64>().ok());
                pool.holds(key, |v| match str_at(e, "operator") {
                    Some("In") => v.is_some_and(|v| values.contains(&v)),
                    Some("NotIn") => v.is_none_or(|v| !values.contains(&v)),
                    Some("Exists") => v.is_some(),
                    Some("DoesNotExist") => v.is_none(),
                    Some("Gt") => num(v).zip(bound).is_some_and(|(a, b)| a > b),
                    Some("Lt") => num(v).zip(bound).is_some_and(|(a, b)| a < b),
                    _ => true,
                })
                .unwrap_or(true)
            })
    })
}

/// `gke/wi-nodepool-metadata-mode`: WI pods on (or bound for) pools without the GKE metadata
/// server.
pub fn wi_nodepool_metadata_mode(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let wi = WiUse::read(ctx)?;
    if !wi.in_use() {
        return Ok(wi.not_in_use());
    }
    // Autopilot runs the GKE metadata server on every node, whatever a pool description shows.
    if let Ok(c) = &wi.cluster
        && c.value.pointer("/autopilot/enabled") == Some(&Value::Bool(true))
    {
        return Ok(Outcome::Pass);
    }
    // The pools: `gcloud container node-pools list`, else the cluster description's nodePools.
    let (pools_doc, pool_values): (Arc<JsonDoc>, Vec<&Value>);
    let pools_list = ctx.list("gcloud/nodepools.json");
    match (&pools_list, &wi.cluster) {
        (Ok(d), _) => {
            pools_doc = d.clone();
            pool_values = Vec::new();
        }
        (Err(u), Ok(c)) => {
            let Some(a) = c.value.get("nodePools").and_then(Value::as_array) else {
                return Err(u.clone());
            };
            pools_doc = c.clone();
            pool_values = a.iter().collect();
        }
        (Err(u), Err(_)) => return Err(u.clone()),
    }
    let from_list = pools_list.is_ok();
    // (pool value, evidence of its name, evidence of its mode)
    let pools: Vec<(&Value, Evidence, Option<Evidence>)> = if from_list {
        pools_doc
            .items
            .iter()
            .filter_map(|item| {
                let name = str_at(&item.value, "name")?;
                Some((
                    item.value(),
                    pools_doc.item_line_evidence(item, &format!("\"{name}\"")),
                    pool_mode(&item.value).map(|_| pools_doc.item_line_evidence(item, "\"mode\"")),
                ))
            })
            .collect()
    } else {
        pool_values
            .into_iter()
            .filter_map(|v| {
                str_at(v, "name")?;
                let ev = match str_at(v, "selfLink") {
                    Some(l) => pools_doc.text.evidence_for(&format!("\"{l}\"")),
                    None => resource_evidence(&pools_doc),
                };
                Some((v, ev, None))
            })
            .collect()
    };
    let pods = ctx.list("kubectl/pods.json")?;
    let nodes = ctx.list("kubectl/nodes.json")?;
    // Which pods use WI depends on the KSAs: without them the check cannot tell.
    wi.sas.as_ref().map_err(Clone::clone)?;
    let ksas = wi.ksa_set();
    let mut node_pool: HashMap<&str, &str> = HashMap::new();
    let mut pool_labels: HashMap<&str, PoolLabels> = HashMap::new();
    for n in cluster::nodes(&nodes) {
        let name = n.meta.name;
        let Some(pool) = n.meta.label(NODEPOOL_LABEL) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        node_pool.insert(name, pool);
        pool_labels.entry(pool).or_insert_with(|| PoolLabels {
            labels: n
                .meta
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            complete: true,
        });
    }
    for (p, _, _) in &pools {
        let Some(name) = str_at(p, "name") else {
            continue;
        };
        pool_labels.entry(name).or_insert_with(|| {
            let mut labels: BTreeMap<String, String> = p
                .pointer("/config/labels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect();
            labels.insert(NODEPOOL_LABEL.into(), name.into());
            if mode_serves_wi(pool_mode(p)) {
                labels.insert(METADATA_SERVER_LABEL.into(), "true".into());
            }
            PoolLabels {
                labels,
                complete: false,
            }
        });
    }
    let pool_names: Vec<&str> = pools
        .iter()
        .filter_map(|(p, _, _)| str_at(p, "name"))
        .collect();
    // pool → (running pods, pods that could be scheduled there)
    // Only the pods of Workload Identity service accounts are kept.
    let views: Vec<cluster::Pod> = cluster::pods(&pods)
        .filter(|p| {
            let (ns, sa) = p.ksa();
            ksas.contains(&(ns.to_string(), sa.to_string()))
        })
        .collect();
    let mut affected: BTreeMap<&str, (Vec<&cluster::Pod>, Vec<&cluster::Pod>)> = BTreeMap::new();
    for pod in &views {
        let (ns, sa) = pod.ksa();
        if !ksas.contains(&(ns.to_string(), sa.to_string())) {
            continue;
        }
        if matches!(pod.phase, "Succeeded" | "Failed") {
            continue;
        }
        match pod.node {
            Some(node) => {
                if let Some(pool) = node_pool.get(node) {
                    affected.entry(pool).or_default().0.push(pod);
                }
            }
            None => {
                for pool in &pool_names {
                    if pool_labels
                        .get(pool)
                        .is_none_or(|l| may_schedule_on(pod.value(), l))
                    {
                        affected.entry(pool).or_default().1.push(pod);
                    }
                }
            }
        }
    }
    let cluster = cluster_name(ctx.facts);
    let loc = location_flag(ctx.facts);
    let mut drafts = Vec::new();
    for (pool, name_ev, mode_ev) in &pools {
        let Some(name) = str_at(pool, "name") else {
            continue;
        };
        let mode = pool_mode(pool);
        if mode_serves_wi(mode) {
            continue;
        }
        let Some((running, could)) = affected.get(name) else {
            continue;
        };
        let pod_name = |p: &&cluster::Pod| format!("{}/{}", p.ksa().0, p.meta.name);
        let run_names: Vec<String> = running.iter().map(pod_name).collect();
        let could_names: Vec<String> = could.iter().map(pod_name).collect();
        // The summary names the pool's mode (or its absence) and the pods it affects.
        let variant = match (mode.is_some(), run_names.is_empty(), could_names.is_empty()) {
            (true, false, true) => "runs",
            (true, true, _) => "pending",
            (true, false, false) => "runs-pending",
            (false, false, true) => "unset-runs",
            (false, true, _) => "unset-pending",
            (false, false, false) => "unset-runs-pending",
        };
        let mut d = Draft::new()
            .var("pool", name)
            .var("mode", mode.unwrap_or_default())
            .var("running", name_list(&run_names, 5))
            .var("pending", name_list(&could_names, 5))
            .variant(variant)
            .var("cluster", cluster.as_str())
            .var("location_flag", loc.as_str())
            .evidence(name_ev.clone());
        if let Some(e) = mode_ev {
            d = d.evidence(e.clone());
        }
        for p in running.iter().chain(could.iter()).take(10) {
            let needle = if running.iter().any(|r| std::ptr::eq(*r, *p)) {
                "\"nodeName\""
            } else {
                "\"phase\""
            };
            d = d.evidence(p.at.line(needle));
        }
        drafts.push(d);
    }
    Ok(if drafts.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Findings(drafts)
    })
}

/// What is wrong with a WI annotation value, if anything: the spec's summary variant that says
/// it, and the name and value it shows. Accepted: the e-mail of a user-managed GSA
/// (`NAME@PROJECT.iam.gserviceaccount.com`, with a domain-scoped project as
/// `NAME@PROJECT.DOMAIN.iam.gserviceaccount.com`) and the Compute Engine default service account
/// (`NUMBER-compute@developer.gserviceaccount.com`), which Workload Identity also accepts.
pub fn gsa_email_problem(raw: &str) -> Option<(&'static str, Option<(&'static str, String)>)> {
    if raw.trim().is_empty() {
        return Some(("empty", None));
    }
    if raw != raw.trim() {
        return Some(("white-space", None));
    }
    if raw.starts_with("serviceAccount:") {
        return Some(("member-prefix", None));
    }
    if raw.starts_with("projects/") {
        return Some(("resource-name", None));
    }
    let Some((name, domain)) = raw.split_once('@') else {
        return Some(("not-an-email", None));
    };
    if raw.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(("upper-case", None));
    }
    if domain == "developer.gserviceaccount.com" {
        let ok = name
            .strip_suffix("-compute")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        return (!ok).then_some(("compute-default", None));
    }
    let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") else {
        return Some(("wrong-domain", Some(("domain", domain.to_string()))));
    };
    let id_ok = |s: &str, min: usize, max: usize| {
        let b = s.as_bytes();
        (min..=max).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    };
    if !id_ok(name, 6, 30) {
        return Some(("account-name", Some(("account", format!("{name:?}")))));
    }
    // A domain-scoped project `example.com:proj` appears as `proj.example.com`.
    let project_id = project.split('.').next().unwrap_or("");
    if !id_ok(project_id, 6, 30) {
        return Some(("project-id", Some(("gsa_project", format!("{project:?}")))));
    }
    None
}

/// `gke/wi-ksa-annotation-invalid`: malformed annotation values, and GSAs that do not exist.
pub fn wi_ksa_annotation_invalid(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let sas = ctx.list("kubectl/serviceaccounts.json")?;
    let ksas = annotated_ksas(&sas);
    if ksas.is_empty() {
        return Draft::missing("wi-no-ksa").not_evaluated();
    }
    let project = project_id(ctx.facts).unwrap_or_else(|| "PROJECT_ID".into());
    let mut drafts = Vec::new();
    for k in &ksas {
        let base = Draft::new()
            .var("namespace", k.namespace.as_str())
            .var("ksa", k.name.as_str())
            .var("value", format!("{:?}", k.raw))
            .var("project", project.as_str())
            .evidence(k.evidence.clone());
        if let Some((problem, shown)) = gsa_email_problem(&k.raw) {
            let mut d = base.variant(problem);
            if let Some((name, value)) = shown {
                d = d.var(name, value);
            }
            drafts.push(d);
        } else if let Some(ev) = gsa_not_found(ctx.facts, &k.gsa) {
            let gsa_project = k
                .gsa
                .split_once('@')
                .and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"))
                .unwrap_or(&project)
                .to_string();
            drafts.push(
                base.var("gsa_name", k.gsa.split('@').next().unwrap_or(""))
                    .var("gsa_project", gsa_project)
                    .variant("not-found")
                    .evidence(ev),
            );
        }
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

    #[test]
    fn wi_members_parse() {
        assert_eq!(
            parse_wi_member("serviceAccount:p.svc.id.goog[ns/ksa]"),
            Some(("p.svc.id.goog", "ns", Some("ksa")))
        );
        assert_eq!(
            parse_wi_member(
                "principal://iam.googleapis.com/projects/418807315092/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/ns/sa/ksa"
            ),
            Some(("p.svc.id.goog", "ns", Some("ksa")))
        );
        assert_eq!(
            parse_wi_member(
                "principalSet://iam.googleapis.com/projects/418807315092/locations/global/workloadIdentityPools/p.svc.id.goog/namespace/ns"
            ),
            Some(("p.svc.id.goog", "ns", None))
        );
        assert_eq!(
            parse_wi_member(
                "principalSet://iam.googleapis.com/projects/418807315092/locations/global/workloadIdentityPools/p.svc.id.goog/kubernetes.cluster/https://container.googleapis.com/v1/projects/p/locations/us-central1/clusters/c"
            ),
            None
        );
        assert_eq!(parse_wi_member("user:a@b.c"), None);
        assert_eq!(
            gsa_project_of("418807315092-compute@developer.gserviceaccount.com").as_deref(),
            Some("418807315092")
        );
        assert_eq!(
            gsa_project_of("api@shop-prod-1234.iam.gserviceaccount.com").as_deref(),
            Some("shop-prod-1234")
        );
    }

    #[test]
    fn gsa_emails() {
        for ok in [
            "payments-api@shop-prod-1234.iam.gserviceaccount.com",
            "runner@my-proj.example.com.iam.gserviceaccount.com",
            "418807315092-compute@developer.gserviceaccount.com",
        ] {
            assert_eq!(gsa_email_problem(ok), None, "{ok}");
        }
        for (bad, says) in [
            ("", "empty"),
            ("payments-api", "not-an-email"),
            (
                "payments-api@shop-prod-1234.gserviceaccount.com",
                "wrong-domain",
            ),
            (
                "serviceAccount:a-b-c-d@p-1234.iam.gserviceaccount.com",
                "member-prefix",
            ),
            (
                "projects/p/serviceAccounts/abc123@p-1234.iam.gserviceaccount.com",
                "resource-name",
            ),
            (
                "Payments-API@shop-prod-1234.iam.gserviceaccount.com",
                "upper-case",
            ),
            ("api@shop-prod-1234.iam.gserviceaccount.com", "account-name"),
            (
                " payments-api@shop-prod-1234.iam.gserviceaccount.com",
                "white-space",
            ),
            ("payments-api@x.iam.gserviceaccount.com", "project-id"),
            (
                "default-compute@developer.gserviceaccount.com",
                "compute-default",
            ),
        ] {
            let p = gsa_email_problem(bad).map(|(v, _)| v);
            assert_eq!(p, Some(says), "{bad:?}");
        }
        // Every problem has its words in the spec.
        let cat = crate::spec::Catalog::embedded().unwrap();
        let spec = &cat.get("gke/wi-ksa-annotation-invalid").unwrap().spec;
        for v in [
            "empty",
            "white-space",
            "member-prefix",
            "resource-name",
            "not-an-email",
            "upper-case",
            "compute-default",
            "wrong-domain",
            "account-name",
            "project-id",
            "not-found",
        ] {
            assert!(spec.summary.variants.contains_key(v), "{v}");
        }
    }

    #[test]
    fn ksa_count_thresholds() {
        assert_eq!(ksa_count_severity(2500), None);
        assert_eq!(ksa_count_severity(2501), Some(Severity::Info));
        assert_eq!(ksa_count_severity(3000), Some(Severity::Info));
        assert_eq!(ksa_count_severity(3001), Some(Severity::Warning));
    }
}
