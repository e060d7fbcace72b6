//! `k8s/container-config-error`: containers the kubelet cannot create or start
//! (`CreateContainerConfigError`, `CreateContainerError`, `RunContainerError`), with the
//! kubelet's message, which names what is missing: a ConfigMap, a Secret, a key in one, or a
//! user the image runs as.

use super::{Groups, Lists, finish, overlap, pod_vars};
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{self, Pod, State, human_duration, secs_before};
use crate::facts::Unavailable;

const REASONS: &[&str] = &[
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// What to do about a kubelet message: the spec's phrase `advice-…` for it, and the name of the
/// missing ConfigMap or Secret when the message gives one.
fn advice(msg: &str) -> (&'static str, Option<String>) {
    let quoted = |after: &str| {
        msg.split(after)
            .nth(1)
            .and_then(|r| r.strip_prefix('"'))
            .and_then(|r| r.split('"').next())
            .map(str::to_string)
    };
    if let Some(name) = quoted("configmap ").filter(|_| msg.contains("not found")) {
        return ("advice-configmap-missing", Some(name));
    }
    if let Some(name) = quoted("secret ").filter(|_| msg.contains("not found")) {
        return ("advice-secret-missing", Some(name));
    }
    let key = if msg.contains("couldn't find key") {
        "advice-key-missing"
    } else if msg.contains("runAsNonRoot") {
        "advice-run-as-non-root"
    } else if msg.contains("executable file not found") || msg.contains("no such file or directory")
    {
        "advice-command-not-found"
    } else if msg.contains("permission denied") {
        "advice-permission-denied"
    } else {
        "advice-other"
    };
    (key, None)
}

/// `k8s/container-config-error`.
pub fn container_config_error(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let claims = overlap::Claims::new(ctx.facts);
    let lists = Lists::read(ctx)?;
    let by_pod = lists.pod_events();
    let mut groups = Groups::new();
    for p in cluster::pods(&lists.pods) {
        if p.is_gone() || claims.failing_pod(&p).is_some() {
            continue;
        }
        for (i, c) in p.containers.iter().enumerate() {
            let State::Waiting { reason, message } = &c.state else {
                continue;
            };
            if !REASONS.contains(reason) {
                continue;
            }
            let msg = message.unwrap_or("").trim();
            let key = format!("{}|{}|{reason}|{msg}", super::owner_key(&p), c.name);
            groups.add(key, &p, (i, *reason, msg));
        }
    }
    let mut drafts = Vec::new();
    for g in groups.into_groups() {
        let pods_of: Vec<&Pod> = g.iter().map(|(p, _)| p).collect();
        let (first, (ci, reason, msg)) = (&g[0].0, &g[0].1);
        let c = &first.containers[*ci];
        let since = secs_before(
            lists.now,
            pods_of.iter().filter_map(|p| p.meta.created).min(),
        )
        .map(|s| {
            format!(
                "The pod was created {} before collection.",
                human_duration(s)
            )
        })
        .unwrap_or_default();
        let said = if msg.is_empty() {
            "the kubelet left no message".to_string()
        } else {
            msg.to_string()
        };
        let mut d = pod_vars(Draft::new(), &pods_of)
            .var("container", c.name)
            .var("reason", *reason)
            .var("message", said)
            .var("since", since)
            .var("advice", {
                let (key, name) = advice(msg);
                let name = name.unwrap_or_default();
                ctx.phrase(key, &[("namespace", first.meta.namespace), ("name", &name)])
            });
        for (p, (i, _, _)) in &g {
            let c = &p.containers[*i];
            d.evidence.push(if msg.is_empty() {
                p.container_line(c, "\"reason\"")
            } else {
                p.container_line(c, "\"message\"")
            });
        }
        let extra: Vec<_> = pods_of
            .iter()
            .take(2)
            .filter_map(|p| {
                by_pod
                    .of(p.meta.namespace, p.meta.name)
                    .iter()
                    .rev()
                    .find(|e| e.reason == "Failed" && e.message.starts_with("Error:"))
                    .map(|e| e.evidence())
            })
            .collect();
        drafts.push(finish(d, g.len(), extra));
    }
    Ok(Outcome::Findings(drafts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_names_what_is_missing() {
        assert_eq!(
            advice("configmap \"app-config\" not found"),
            ("advice-configmap-missing", Some("app-config".into()))
        );
        assert_eq!(
            advice("secret \"pgpassword\" not found"),
            ("advice-secret-missing", Some("pgpassword".into()))
        );
        assert_eq!(
            advice("couldn't find key DB_HOST in ConfigMap shop/app-config").0,
            "advice-key-missing"
        );
        assert_eq!(
            advice("container has runAsNonRoot and image will run as root (pod: \"web-1_shop(uid)\", container: app)").0,
            "advice-run-as-non-root"
        );
    }
}
