//! `kubeadm/usr-readonly-flexvolume`: on Fedora CoreOS and similar systems `/usr` is mounted
//! read-only, but the kubelet and kube-controller-manager keep their flex-volume plugin
//! directory under `/usr/libexec/kubernetes/kubelet-plugins/volume/exec/` unless told otherwise.
//! They cannot create it there: the kubelet's plugin prober fails and, on kubeadm 1.17 and
//! later, the controller-manager's `flexvolume-dir` hostPath volume cannot be set up, so the
//! controller-manager does not start.

use super::{FlagSource, KubeletSettings, OsRelease, server_version};
use crate::checks::{Ctx, Draft, Outcome, line_evidence, path_vars};
use crate::cluster;
use crate::facts::{TextFile, Unavailable};
use crate::model::Evidence;
use crate::objpath::str_at;
use serde_json::Value;
use std::collections::BTreeMap;

/// Where the kubelet and the controller-manager look for flex-volume drivers by default.
const DEFAULT_DIR: &str = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/";
/// The writable place the remediation proposes.
const NEW_DIR: &str = "/opt/libexec/kubernetes/kubelet-plugins/volume/exec/";

/// One line of `/proc/mounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mount {
    line: usize,
    device: String,
    point: String,
    fstype: String,
    read_only: bool,
}

/// Undoes the octal escapes `/proc/mounts` uses for space, tab, newline and backslash.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_mounts(text: &TextFile) -> Vec<Mount> {
    text.lines()
        .filter_map(|(n, l)| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 4 || !f[1].starts_with('/') {
                return None;
            }
            Some(Mount {
                line: n,
                device: unescape(f[0]),
                point: normalize(&unescape(f[1])),
                fstype: f[2].to_string(),
                read_only: f[3].split(',').any(|o| o == "ro"),
            })
        })
        .collect()
}

/// A path without repeated or trailing slashes (`/` stays `/`).
fn normalize(p: &str) -> String {
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

/// Whether `path` is `dir` or lies below it.
fn is_under(path: &str, dir: &str) -> bool {
    let (path, dir) = (normalize(path), normalize(dir));
    dir == "/" || path == dir || path.starts_with(&format!("{dir}/"))
}

/// The mount a path lives on: the longest mount point above it, the last one mounted when the
/// same point is mounted several times.
fn effective<'m>(mounts: &'m [Mount], path: &str) -> Option<&'m Mount> {
    let mut best: Option<&Mount> = None;
    for m in mounts.iter().filter(|m| is_under(path, &m.point)) {
        if best.is_none_or(|b| m.point.len() >= b.point.len()) {
            best = Some(m);
        }
    }
    best
}

/// A component's flex-volume directory and where it was read (or defaulted).
#[derive(Debug, Clone)]
struct PluginDir {
    dir: String,
    evidence: Evidence,
    defaulted: bool,
    /// Where it is set: "flags" (kubeadm-flags.env), "extra-args", "config", "manifest", "kubeadm".
    source: &'static str,
}

/// The kubelet's `--volume-plugin-dir`: KUBELET_EXTRA_ARGS come last on its command line and win,
/// then kubeadm-flags.env, then `volumePluginDir` in its config file; the default when any of
/// those files is there without it.
fn kubelet_dir(ctx: &Ctx, node: &str) -> Option<PluginDir> {
    let k = KubeletSettings::read(ctx, node);
    if let Some((dir, evidence, from)) = k.setting_from("volume-plugin-dir", "volumePluginDir") {
        let source = match from {
            FlagSource::ExtraArgs => "extra-args",
            FlagSource::Config => "config",
            FlagSource::Unit | FlagSource::KubeadmFlags => "flags",
        };
        return Some(PluginDir {
            dir,
            evidence,
            defaulted: false,
            source,
        });
    }
    let first = k
        .config
        .as_ref()
        .map(|c| c.text.evidence(1, 1))
        .or_else(|| k.flags.as_ref().map(|f| f.evidence(1, 1)))?;
    Some(PluginDir {
        dir: DEFAULT_DIR.into(),
        evidence: first,
        defaulted: true,
        source: "flags",
    })
}

/// The kubeadm documents of a node's `kubeadm/config.yaml`, with its text.
fn kubeadm_config(ctx: &Ctx, node: &str) -> Option<std::sync::Arc<crate::facts::YamlDoc>> {
    ctx.facts
        .yaml(&format!("nodes/{node}/kubeadm/config.yaml"))
        .ok()
}

/// A value of kubeadm `extraArgs`/`kubeletExtraArgs`: a map up to v1beta3, a list of
/// `{name, value}` from v1beta4.
fn extra_arg<'v>(args: &'v Value, name: &str) -> Option<&'v str> {
    match args {
        Value::Object(m) => m.get(name).and_then(Value::as_str),
        Value::Array(a) => a
            .iter()
            .rev()
            .find(|e| str_at(e, "name") == Some(name))
            .and_then(|e| str_at(e, "value")),
        _ => None,
    }
}

/// The controller-manager's `--flex-volume-plugin-dir`, from the static pod manifest the node
/// runs, else from the ClusterConfiguration's `controllerManager.extraArgs`.
fn controller_manager_dir(ctx: &Ctx, node: &str, control_plane: bool) -> Option<PluginDir> {
    let path = format!("nodes/{node}/manifests/kube-controller-manager.yaml");
    if let Ok(m) = ctx.facts.yaml(&path) {
        let args: Vec<&str> = m
            .docs
            .iter()
            .filter_map(|d| d.pointer("/spec/containers").and_then(Value::as_array))
            .flatten()
            .flat_map(|c| {
                ["command", "args"]
                    .into_iter()
                    .filter_map(|k| c.get(k).and_then(Value::as_array))
                    .flatten()
                    .filter_map(Value::as_str)
            })
            .collect();
        let set = args
            .iter()
            .rev()
            .find_map(|a| a.strip_prefix("--flex-volume-plugin-dir="));
        return Some(match set {
            Some(v) => PluginDir {
                dir: v.to_string(),
                evidence: m.text.evidence_for("--flex-volume-plugin-dir"),
                defaulted: false,
                source: "manifest",
            },
            None => PluginDir {
                dir: DEFAULT_DIR.into(),
                evidence: m.text.evidence_for("- kube-controller-manager"),
                defaulted: true,
                source: "manifest",
            },
        });
    }
    if !control_plane {
        return None;
    }
    let cfg = kubeadm_config(ctx, node)?;
    let cluster = cfg
        .docs
        .iter()
        .find(|d| str_at(d, "kind") == Some("ClusterConfiguration"))?;
    match cluster
        .pointer("/controllerManager/extraArgs")
        .and_then(|a| extra_arg(a, "flex-volume-plugin-dir"))
    {
        Some(v) => Some(PluginDir {
            dir: v.to_string(),
            evidence: cfg.text.evidence_for("flex-volume-plugin-dir"),
            defaulted: false,
            source: "kubeadm",
        }),
        None => Some(PluginDir {
            dir: DEFAULT_DIR.into(),
            evidence: cfg.text.evidence_for("kind: ClusterConfiguration"),
            defaulted: true,
            source: "kubeadm",
        }),
    }
}

/// Whether a node runs the control plane: a controller-manager manifest, a control-plane role
/// label, or a kubeadm configuration that made it one.
fn is_control_plane(ctx: &Ctx, node: &str) -> bool {
    if ctx
        .facts
        .bundle
        .file(&format!(
            "nodes/{node}/manifests/kube-controller-manager.yaml"
        ))
        .is_some()
    {
        return true;
    }
    let labelled = ctx.list("kubectl/nodes.json").ok().is_some_and(|nodes| {
        cluster::node_named(&nodes, node).is_some_and(|n| {
            n.meta
                .label("node-role.kubernetes.io/control-plane")
                .is_some()
                || n.meta.label("node-role.kubernetes.io/master").is_some()
        })
    });
    labelled
        || kubeadm_config(ctx, node).is_some_and(|c| {
            c.docs.iter().any(|d| match str_at(d, "kind") {
                Some("InitConfiguration") => true,
                Some("JoinConfiguration") => d.get("controlPlane").is_some_and(|c| !c.is_null()),
                _ => false,
            })
        })
}

/// The kubeadm API version to write examples in: the node's own configuration's, else the one
/// the cluster's kubeadm version reads; `None` when neither is known.
fn api_version(ctx: &Ctx, node: &str) -> Option<String> {
    let from_config = kubeadm_config(ctx, node).and_then(|c| {
        c.docs
            .iter()
            .filter_map(|d| str_at(d, "apiVersion"))
            .find(|a| a.starts_with("kubeadm.k8s.io/"))
            .map(str::to_string)
    });
    from_config.or_else(|| {
        let (v, _) = server_version(ctx)?;
        let beta = match v.major_minor() {
            (1, m) if m >= 31 => "v1beta4",
            (1, m) if m >= 22 => "v1beta3",
            (1, m) if m >= 15 => "v1beta2",
            _ => "v1beta1",
        };
        Some(format!("kubeadm.k8s.io/{beta}"))
    })
}

/// `key: value` under a kubeadm args field, in the form `api` takes.
fn args_yaml(api: &str, field: &str, key: &str, indent: &str) -> String {
    if api.ends_with("v1beta4") {
        format!("{indent}{field}:\n{indent}- name: {key}\n{indent}  value: {NEW_DIR}")
    } else {
        format!("{indent}{field}:\n{indent}  {key}: {NEW_DIR}")
    }
}

/// The kubeadm configuration that moves the directories, for `--config`.
fn config_example(api: &str, control_plane: bool) -> String {
    let p = "    ";
    let node_kind = if control_plane {
        "InitConfiguration"
    } else {
        "JoinConfiguration"
    };
    let mut s = format!(
        "{p}apiVersion: {api}\n{p}kind: {node_kind}\n{p}nodeRegistration:\n{}",
        args_yaml(
            api,
            "kubeletExtraArgs",
            "volume-plugin-dir",
            &format!("{p}  ")
        )
    );
    if control_plane {
        s.push_str(&format!(
            "\n{p}---\n{p}apiVersion: {api}\n{p}kind: ClusterConfiguration\n{p}controllerManager:\n{}",
            args_yaml(api, "extraArgs", "flex-volume-plugin-dir", &format!("{p}  "))
        ));
    }
    s
}

/// A failure line from a log: which node, which path could not be created.
struct LogHit {
    node: String,
    path: String,
    evidence: Evidence,
}

fn log_hits(ctx: &Ctx) -> Vec<LogHit> {
    let pods = ctx.list("kubectl/pods.json").ok();
    let mut out = Vec::new();
    for m in ctx.matches_of("readonly") {
        let vars = path_vars(&m.file);
        let node = vars.get("node").cloned().or_else(|| {
            let pod = vars.get("pod")?;
            pods.as_ref()
                .and_then(|p| {
                    crate::cluster::node_of_pod(p, "kube-system", pod).map(str::to_string)
                })
                .or_else(|| {
                    pod.strip_prefix("kube-controller-manager-")
                        .map(str::to_string)
                })
        });
        let Some(node) = node else { continue };
        out.push(LogHit {
            node,
            path: m.captures.get("path").cloned().unwrap_or_default(),
            evidence: line_evidence(m),
        });
    }
    // The kubelet reports the controller-manager's flexvolume-dir volume as a FailedMount event.
    if let Ok(events) = ctx.list("kubectl/events.json") {
        // In the list's order, as the kubelet wrote them.
        let mut views = cluster::events(&events);
        views.sort_by_key(|e| e.at.item.line);
        for e in views {
            let msg = e.message;
            if e.reason != "FailedMount"
                || !msg.contains("flexvolume-dir")
                || !msg.contains("read-only file system")
            {
                continue;
            }
            let pod = e.object.name;
            let node = e
                .host
                .map(str::to_string)
                .or_else(|| {
                    pods.as_ref().and_then(|p| {
                        crate::cluster::node_of_pod(p, "kube-system", pod).map(str::to_string)
                    })
                })
                .or_else(|| {
                    pod.strip_prefix("kube-controller-manager-")
                        .map(str::to_string)
                });
            let Some(node) = node else { continue };
            let path = msg
                .rsplit_once("mkdir ")
                .map(|(_, p)| p.split(':').next().unwrap_or("").to_string())
                .unwrap_or_default();
            out.push(LogHit {
                node,
                path,
                evidence: e.at.line("\"message\""),
            });
        }
    }
    out
}

fn describe(who: &str, d: &PluginDir) -> String {
    let how = if d.defaulted { " (the default)" } else { "" };
    format!("{who} {}{how}", d.dir)
}

pub fn usr_readonly_flexvolume(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut hits: BTreeMap<String, Vec<LogHit>> = BTreeMap::new();
    for h in log_hits(ctx) {
        hits.entry(h.node.clone()).or_default().push(h);
    }
    let mut nodes = ctx.facts.nodes();
    for n in hits.keys() {
        if !nodes.contains(n) {
            nodes.push(n.clone());
        }
    }
    let mut drafts = Vec::new();
    let mut evaluated = 0;
    let mut unknown_settings: Vec<String> = Vec::new();
    for node in &nodes {
        let logs = hits.remove(node).unwrap_or_default();
        let mounts_file = ctx.facts.text(&format!("nodes/{node}/mounts")).ok();
        let mounts = mounts_file
            .as_ref()
            .map(|f| parse_mounts(f))
            .unwrap_or_default();
        let control_plane = is_control_plane(ctx, node);
        let kubelet = kubelet_dir(ctx, node);
        let kcm = controller_manager_dir(ctx, node, control_plane);
        let dirs: Vec<(&str, &PluginDir)> = [
            ("the kubelet's --volume-plugin-dir", kubelet.as_ref()),
            (
                "the controller-manager's --flex-volume-plugin-dir",
                kcm.as_ref(),
            ),
        ]
        .into_iter()
        .filter_map(|(w, d)| d.map(|d| (w, d)))
        .collect();
        // (who, dir, mount) for each directory on a read-only mount.
        let mut blocked: Vec<(&str, &PluginDir, Option<&Mount>)> = Vec::new();
        let mut log_ev: Vec<Evidence> = Vec::new();
        if mounts_file.is_some() && !mounts.is_empty() {
            for (who, d) in &dirs {
                if let Some(m) = effective(&mounts, &d.dir).filter(|m| m.read_only) {
                    blocked.push((who, d, Some(m)));
                }
            }
            if dirs.is_empty() {
                // Settings unknown: the logs decide, the default place tells whether to worry.
                match effective(&mounts, DEFAULT_DIR) {
                    Some(m) if m.read_only && !logs.is_empty() => {
                        log_ev.extend(logs.iter().map(|h| h.evidence.clone()));
                        let mut d = finding(ctx, node, control_plane, &[], Some(m), &log_ev);
                        if let Some(f) = &mounts_file {
                            d.evidence.push(f.evidence(m.line, m.line));
                        }
                        d.evidence.extend(log_ev);
                        drafts.push(d);
                        continue;
                    }
                    Some(m) if m.read_only => unknown_settings.push(node.clone()),
                    _ => evaluated += 1,
                }
                continue;
            }
            evaluated += 1;
            if blocked.is_empty() {
                continue;
            }
            log_ev.extend(logs.iter().map(|h| h.evidence.clone()));
        } else {
            // No mounts: the failure lines alone, unless the directory has been moved since.
            let current: Vec<&PluginDir> = dirs.iter().map(|(_, d)| *d).collect();
            let fresh: Vec<&LogHit> = logs
                .iter()
                .filter(|h| {
                    current.is_empty()
                        || h.path.is_empty()
                        || current.iter().any(|d| is_under(&d.dir, &h.path))
                })
                .collect();
            if fresh.is_empty() {
                if !logs.is_empty() {
                    evaluated += 1;
                }
                continue;
            }
            evaluated += 1;
            for (who, d) in &dirs {
                if fresh
                    .iter()
                    .any(|h| h.path.is_empty() || is_under(&d.dir, &h.path))
                {
                    blocked.push((who, d, None));
                }
            }
            log_ev.extend(fresh.iter().map(|h| h.evidence.clone()));
        }
        let mount = blocked.iter().find_map(|(_, _, m)| *m);
        let mut d = finding(ctx, node, control_plane, &blocked, mount, &log_ev);
        let mut ev = Vec::new();
        if let (Some(f), Some(m)) = (&mounts_file, mount) {
            ev.push(f.evidence(m.line, m.line));
            for (_, _, other) in &blocked {
                if let Some(o) = other
                    && o.line != m.line
                {
                    ev.push(f.evidence(o.line, o.line));
                }
            }
        }
        for (_, dir, _) in &blocked {
            if !ev.contains(&dir.evidence) {
                ev.push(dir.evidence.clone());
            }
        }
        ev.extend(log_ev);
        d.evidence = ev;
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if evaluated > 0 {
        return Ok(Outcome::Pass);
    }
    if let Some(n) = unknown_settings.first() {
        return Draft::missing("no-settings")
            .var("node", n.as_str())
            .not_evaluated();
    }
    Draft::missing("default").not_evaluated()
}

/// The finding for one node: its summary words and remediation.
fn finding(
    ctx: &Ctx,
    node: &str,
    control_plane: bool,
    blocked: &[(&str, &PluginDir, Option<&Mount>)],
    mount: Option<&Mount>,
    log_ev: &[Evidence],
) -> Draft {
    let where_ = match mount {
        Some(m) => format!(
            "{} is mounted read-only ({} {}, {})",
            m.point,
            m.fstype,
            m.device,
            if m.point == "/" {
                "the root file system"
            } else {
                "its own mount"
            }
        ),
        None => ctx.phrase("logged-only", &[]),
    };
    let dirs = if blocked.is_empty() {
        ctx.phrase("default-dir", &[("dir", DEFAULT_DIR)])
    } else {
        let parts: Vec<String> = blocked.iter().map(|(w, d, _)| describe(w, d)).collect();
        let verb = match (mount.is_some(), parts.len() > 1) {
            (true, true) => "lie on it",
            (true, false) => "lies on it",
            (false, true) => "are still set",
            (false, false) => "is still set",
        };
        format!("{} {verb}", parts.join(" and "))
    };
    let logs = match log_ev.len() {
        0 => String::new(),
        n => format!(
            " ({} logged)",
            crate::template::counted(&n.to_string(), "failure line")
        ),
    };
    let os = OsRelease::read(ctx, node);
    let os_name = os
        .as_ref()
        .map(|o| o.name())
        .unwrap_or_else(|| "this distribution".into());
    let api = api_version(ctx, node);
    // Nodes joining later need the same nodeRegistration: said once, after the example(s).
    let joins = |api: &str| {
        if control_plane {
            format!("\n{}", ctx.phrase("joins-later", &[("api", api)]))
        } else {
            String::new()
        }
    };
    let config = match &api {
        Some(a) => format!("{}{}", config_example(a, control_plane), joins(a)),
        None => format!(
            "{}\n{}\n{}{}",
            config_example("kubeadm.k8s.io/v1beta3", control_plane),
            ctx.phrase("v1beta4-lists", &[]),
            config_example("kubeadm.k8s.io/v1beta4", control_plane),
            joins("kubeadm.k8s.io/v1beta4"),
        ),
    };
    let kubelet_source = blocked
        .iter()
        .find(|(w, _, _)| w.contains("kubelet"))
        .map(|(_, d, _)| d.source);
    let extra_file = os.as_ref().map(|o| o.kubelet_extra_args_file()).unwrap_or(
        "/etc/default/kubelet (Debian/Ubuntu) or /etc/sysconfig/kubelet (Fedora/CentOS/RHEL)",
    );
    let step = match kubelet_source {
        Some("config") => "kubelet-config",
        Some("extra-args") => "kubelet-extra-args",
        _ => "kubelet-flags",
    };
    let vars = [("dir", NEW_DIR), ("extra_file", extra_file), ("node", node)];
    let kubelet_step = ctx.phrase(step, &vars);
    let mut running = ctx.phrase(
        "running",
        &[
            ("dir", NEW_DIR),
            ("node", node),
            ("kubelet_step", &kubelet_step),
        ],
    );
    if control_plane {
        running.push_str("; ");
        running.push_str(&ctx.phrase("controller-manager", &vars));
    }
    let fstab = match mount {
        Some(m) => format!("{} on {}", m.device, m.point),
        None => "/usr".into(),
    };
    Draft::new()
        .var("node", node)
        .var("where", where_)
        .var("dirs", dirs)
        .var("logs", logs)
        .var("config", config)
        .var("running", running)
        .var("fstab", fstab)
        .var("os", os_name)
        .var("new_dir", NEW_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(text: &str) -> Vec<Mount> {
        parse_mounts(&TextFile::new("nodes/n/mounts", text.as_bytes().to_vec()))
    }

    #[test]
    fn the_last_longest_mount_decides() {
        let m = mounts(
            "/dev/vda4 /sysroot xfs ro,seclabel,relatime,attr2,inode64,logbufs=8,logbsize=32k,prjquota 0 0\n\
             /dev/vda4 / xfs rw,seclabel,relatime,attr2,inode64,logbufs=8,logbsize=32k,prjquota 0 0\n\
             /dev/vda4 /usr xfs ro,seclabel,relatime,attr2,inode64,logbufs=8,logbsize=32k,prjquota 0 0\n\
             /dev/vda4 /var xfs rw,seclabel,relatime,attr2,inode64,logbufs=8,logbsize=32k,prjquota 0 0\n\
             tmpfs /usr/libexec tmpfs ro 0 0\n\
             tmpfs /usr/libexec tmpfs rw 0 0\n",
        );
        let e = effective(&m, DEFAULT_DIR).unwrap();
        assert_eq!(
            (e.point.as_str(), e.read_only, e.line),
            ("/usr/libexec", false, 6)
        );
        let e = effective(&m, "/usr/lib/x").unwrap();
        assert!(e.read_only && e.point == "/usr");
        assert!(!effective(&m, NEW_DIR).unwrap().read_only);
        // /usrx is not under /usr.
        assert_eq!(effective(&m, "/usrx/a").unwrap().point, "/");
    }

    #[test]
    fn read_only_root_without_usr_counts_and_escapes_are_undone() {
        let m = mounts(
            "overlay / overlay ro,relatime,lowerdir=/a 0 0\n/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n",
        );
        assert!(effective(&m, DEFAULT_DIR).unwrap().read_only);
        assert_eq!(m[1].point, "/mnt/my disk");
        assert!(!effective(&m, "/mnt/my disk/x").unwrap().read_only);
        assert_eq!(unescape("a\\134b\\0"), "a\\b\\0");
        assert!(mounts("garbage\n\\777 x\n").is_empty());
    }

    #[test]
    fn extra_args_are_maps_before_v1beta4_and_lists_after() {
        let map = serde_json::json!({"flex-volume-plugin-dir": "/opt/x"});
        assert_eq!(extra_arg(&map, "flex-volume-plugin-dir"), Some("/opt/x"));
        let list = serde_json::json!([{"name": "bind-address", "value": "0.0.0.0"}, {"name": "flex-volume-plugin-dir", "value": "/opt/y"}]);
        assert_eq!(extra_arg(&list, "flex-volume-plugin-dir"), Some("/opt/y"));
        assert_eq!(extra_arg(&serde_json::json!("x"), "a"), None);
        assert!(
            config_example("kubeadm.k8s.io/v1beta4", true)
                .contains("- name: flex-volume-plugin-dir")
        );
        assert!(
            config_example("kubeadm.k8s.io/v1beta2", false).contains("volume-plugin-dir: /opt/")
        );
    }
}
