//! `k8s/volume-mount-failure`: `FailedMount` and `FailedAttachVolume` events of pods that are
//! not running: the kubelet cannot mount a volume (a missing ConfigMap or Secret, an
//! unreachable NFS server, a disk attached elsewhere) and the pod waits in ContainerCreating.
//! Events of pods that ran since, or that are gone, are history, not a problem.

use super::{Groups, Lists, finish, for_how_long, pod_vars};
use crate::checks::{Ctx, Draft, Outcome};
use crate::cluster::{self, Event, Pod, State};
use crate::facts::Unavailable;

const REASONS: &[&str] = &["FailedMount", "FailedAttachVolume", "FailedMapVolume"];

/// Causes that only say the kubelet gave up waiting, not why.
const GENERIC: &[&str] = &["mounting timed out", "mount failed"];

/// The volume an event names (`for volume "config"`), when it does.
fn volume_of(msg: &str) -> Option<&str> {
    msg.split("volume \"").nth(1)?.split('"').next()
}

/// What to do: the spec's phrase, and the names it is filled with.
type Todo = (&'static str, Vec<(&'static str, String)>);

/// The cause, in a few words, and what to do.
fn cause(msg: &str, namespace: &str) -> (String, Todo) {
    let quoted = |after: &str| {
        msg.split(after)
            .nth(1)
            .and_then(|r| r.strip_prefix('"'))
            .and_then(|r| r.split('"').next())
    };
    if msg.contains("not found") {
        for (kind, word) in [("configmap ", "ConfigMap"), ("secret ", "Secret")] {
            if let Some(n) = quoted(kind) {
                return (
                    format!("{word} {namespace}/{n} not found"),
                    (
                        "todo-object-missing",
                        vec![
                            ("kind", word.to_string()),
                            ("namespace", namespace.to_string()),
                            ("name", n.to_string()),
                        ],
                    ),
                );
            }
        }
        if let Some(n) = quoted("persistentvolumeclaim ") {
            return (
                format!("PersistentVolumeClaim {namespace}/{n} not found"),
                (
                    "todo-claim-missing",
                    vec![
                        ("namespace", namespace.to_string()),
                        ("name", n.to_string()),
                    ],
                ),
            );
        }
    }
    if msg.contains("hostPath type check failed") {
        let what = msg
            .split("hostPath type check failed: ")
            .nth(1)
            .unwrap_or("the host path has the wrong type")
            .trim();
        return (format!("hostPath: {what}"), ("todo-host-path", Vec::new()));
    }
    if msg.contains("Multi-Attach error") {
        return (
            "the volume is attached to another node".into(),
            ("todo-multi-attach", Vec::new()),
        );
    }
    if msg.starts_with("AttachVolume") || msg.contains("AttachVolume.Attach failed") {
        return (
            "the volume could not be attached".into(),
            ("todo-attach", Vec::new()),
        );
    }
    if msg.contains("timed out waiting for the condition")
        || msg.contains("Unable to attach or mount volumes")
        || msg.contains("Unable to mount volumes")
    {
        return ("mounting timed out".into(), ("todo-timeout", Vec::new()));
    }
    if msg.contains("mount failed")
        || msg.contains("MountVolume.MountDevice failed")
        || msg.contains("MountVolume.SetUp failed")
    {
        return ("the mount itself failed".into(), ("todo-mount", Vec::new()));
    }
    ("mount failed".into(), ("todo-other", Vec::new()))
}

/// The event that says why a pod's volume cannot be mounted: the newest that names a cause,
/// since a bare time-out only says the kubelet gave up waiting; else the newest. `failed` is
/// ordered oldest last-seen first.
fn cause_event<'a, 'd>(failed: &'a [Event<'d>]) -> Option<&'a Event<'d>> {
    failed
        .iter()
        .rev()
        .find(|e| !GENERIC.contains(&cause(e.message, "").0.as_str()))
        .or(failed.last())
}

/// Whether a pod got past its mounts: running, or its containers started at least once.
fn ran(p: &Pod) -> bool {
    p.phase == "Running"
        || p.phase == "Succeeded"
        || p.containers
            .iter()
            .any(|c| matches!(c.state, State::Running { .. }) || c.last.is_some() || c.restarts > 0)
}

/// `k8s/volume-mount-failure`.
pub fn volume_mount_failure(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let lists = Lists::read(ctx)?;
    let events_doc = ctx.list("kubectl/events.json")?;
    let by_pod = cluster::pod_events(Some(&events_doc));
    let mut groups = Groups::new();
    for p in cluster::pods(&lists.pods) {
        let p = &p;
        if p.is_gone() || ran(p) {
            continue;
        }
        let failed: Vec<Event> = by_pod
            .of(p.meta.namespace, p.meta.name)
            .into_iter()
            .filter(|e| REASONS.contains(&e.reason))
            .collect();
        let Some(last) = cause_event(&failed) else {
            continue;
        };
        let (what, (phrase, vars)) = cause(last.message, p.meta.namespace);
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let todo = ctx.phrase(phrase, &vars);
        let volume = volume_of(last.message).unwrap_or("").to_string();
        let key = format!("{}|{volume}|{what}", super::owner_key(p));
        groups.add(key, p, (failed, what, todo, volume));
    }
    let mut drafts = Vec::new();
    for g in groups.into_groups() {
        let pods_of: Vec<&Pod> = g.iter().map(|(p, _)| p).collect();
        let (failed, what, todo, volume) = &g[0].1;
        let last = cause_event(failed).expect("groups hold pods with failed events");
        let since = for_how_long(
            lists.now,
            g.iter().flat_map(|(_, (f, ..))| f.iter().map(|e| e.first)),
        )
        .map(|s| format!("Failing {s}"))
        .unwrap_or_else(|| "Failing".into());
        let times: u64 = g
            .iter()
            .flat_map(|(_, (f, ..))| f.iter().map(|e| e.count))
            .sum();
        let mut d = pod_vars(Draft::new(), &pods_of)
            .var(
                "volume",
                if volume.is_empty() {
                    "(not named)"
                } else {
                    volume
                },
            )
            .var("cause", what.as_str())
            .var("event", last.reason)
            .var("message", last.message.trim())
            .var("since", format!("{since}, {times} times."))
            .var("advice", todo.as_str())
            .var("phase", pods_of[0].phase);
        // Each pod's own event that names the cause: the one quoted for the first pod, not
        // a later time-out of the same mount.
        for (p, (f, ..)) in &g {
            d.evidence.push(p.at.line("\"phase\""));
            if let Some(e) = cause_event(f) {
                d.evidence.push(e.evidence());
            }
        }
        drafts.push(finish(d, g.len(), Vec::new()));
    }
    Ok(Outcome::Findings(drafts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_of_real_mount_events() {
        let m =
            "MountVolume.SetUp failed for volume \"config\" : configmap \"app-config\" not found";
        assert_eq!(volume_of(m), Some("config"));
        assert_eq!(cause(m, "shop").0, "ConfigMap shop/app-config not found");
        let m = "MountVolume.SetUp failed for volume \"tls\" : secret \"web-tls\" not found";
        assert_eq!(cause(m, "shop").0, "Secret shop/web-tls not found");
        let m = "Multi-Attach error for volume \"pvc-4f1c\" Volume is already used by pod(s) db-0";
        assert_eq!(cause(m, "shop").0, "the volume is attached to another node");
        let m = "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-8xk2p]: timed out waiting for the condition";
        assert_eq!(cause(m, "shop").0, "mounting timed out");
        let m = "MountVolume.SetUp failed for volume \"nfs\" : mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t nfs 10.0.0.5:/export /var/lib/kubelet/pods/x/volumes/kubernetes.io~nfs/nfs\nOutput: mount.nfs: Connection timed out";
        assert_eq!(cause(m, "shop").0, "the mount itself failed");
        let m = "MountVolume.SetUp failed for volume \"rrd\" : hostPath type check failed: /var/lib/collectd/rrd is not a directory";
        assert_eq!(
            cause(m, "default").0,
            "hostPath: /var/lib/collectd/rrd is not a directory"
        );
    }
}
