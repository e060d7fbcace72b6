//! Built-in analyzers for the kubeadm checks (seed `001_a843213bd4746882.txt`).
//!
//! This module holds the helpers the kubeadm checks share (cluster kind, a node's OS and kubelet
//! settings) and the checks on kubelet configuration; the other checks live in submodules by
//! the part of the cluster they look at.

mod after_init;
mod cni;
mod containers;
mod control_plane;
mod coredns_pending;
mod etcd_docker;
mod extra_args;
mod flannel;
mod flexvolume;
mod hairpin;
mod hostport;
mod join;
mod network;
mod node_ip;
mod pod_table;
pub(crate) mod pods;
mod preflight;
mod reset;
mod selinux;
pub(crate) mod taints;
mod upgrade;
mod x509;

use super::{Ctx, Draft, Outcome, group_matches};
use crate::facts::{TextFile, Unavailable};
use crate::model::Evidence;
use std::sync::Arc;

/// The kubeadm built-in analyzers, by the name their specs use.
pub const BUILTINS: &[super::Builtin] = &[
    super::Builtin {
        id: "kubeadm/cgroup-driver-mismatch",
        run: cgroup_driver_mismatch,
        fills: &[
            "driver",
            "kubelet_driver",
            "runtime_driver",
            "runtime_fix",
            "systemd",
        ],
    },
    super::Builtin {
        id: "kubeadm/control-plane-crashloop",
        run: control_plane::control_plane_crashloop,
        fills: &["component", "list_cmd", "logs_cmd", "restarts", "state"],
    },
    super::Builtin {
        id: "kubeadm/coredns-crashloop-selinux",
        run: selinux::coredns_crashloop_selinux,
        fills: &[
            "deployment",
            "docker",
            "install",
            "mode",
            "os",
            "pods",
            "unknown",
            "why",
        ],
    },
    super::Builtin {
        id: "kubeadm/coredns-loop",
        run: coredns_loop,
        fills: &["stub", "where"],
    },
    super::Builtin {
        id: "kubeadm/coredns-pending-no-cni",
        run: coredns_pending::coredns_pending_no_cni,
        fills: &["cidr", "cidr_from", "deployment", "nodes", "pods", "why"],
    },
    super::Builtin {
        id: "kubeadm/etcd-restart-docker-1.13.1-84",
        run: etcd_docker::etcd_restart_docker,
        fills: &["docker", "errors", "nodes", "restarts"],
    },
    super::Builtin {
        id: "kubeadm/extra-args-comma",
        run: extra_args::extra_args_comma,
        fills: &["config", "flag", "keys", "pieces", "value"],
    },
    super::Builtin {
        id: "kubeadm/flannel-wrong-iface",
        run: flannel::flannel_wrong_iface,
        fills: &[
            "commands",
            "container",
            "daemonset",
            "detail",
            "flags",
            "how",
            "iface",
            "iface_flags",
            "iface_note",
            "iface_state",
            "ip",
            "list",
            "name",
            "nodes",
            "ns",
            "ops",
        ],
    },
    super::Builtin {
        id: "kubeadm/hairpin-disabled",
        run: hairpin::hairpin_disabled,
        fills: &["bridge", "fix", "path", "state", "what"],
    },
    super::Builtin {
        id: "kubeadm/hostport-unsupported",
        run: hostport::hostport_unsupported,
        fills: &[
            "configs",
            "dir",
            "expose",
            "fields",
            "files",
            "fix",
            "head",
            "lacks",
            "name_json",
            "new_name",
            "note",
            "old",
            "path",
            "plugins",
            "ports",
            "unknown",
            "version",
            "why",
        ],
    },
    super::Builtin {
        id: "kubeadm/join-rbac-get-nodes",
        run: join::join_rbac_get_nodes,
        fills: &["joiner", "server", "why"],
    },
    super::Builtin {
        id: "kubeadm/kube-proxy-no-node-ip",
        run: network::kube_proxy_no_node_ip,
        fills: &["internal_ip", "role_taint"],
    },
    super::Builtin {
        id: "kubeadm/kubelet-unreachable-ip",
        run: network::kubelet_unreachable_ip,
        fills: &["candidates", "endpoint", "extra_args_file", "internal_ips"],
    },
    super::Builtin {
        id: "kubeadm/node-ip-unroutable",
        run: node_ip::node_ip_unroutable,
        fills: &[
            "addr",
            "addrs",
            "annotation",
            "detail",
            "dev",
            "extra_args_file",
            "hosts_fix",
            "nodes",
            "problem",
            "steps",
            "what",
            "why",
        ],
    },
    super::Builtin {
        id: "kubeadm/pods-crashloop-after-init",
        run: after_init::pods_crashloop_after_init,
        fills: &[
            "addon",
            "addon_node",
            "addon_phase",
            "addon_pod",
            "cni_files",
            "containers",
            "docker",
            "restarts",
            "status",
            "why",
        ],
    },
    super::Builtin {
        id: "kubeadm/preflight-missing-binaries",
        run: preflight::preflight_missing_binaries,
        fills: &["binaries", "deb_packages", "install", "os", "rpm_packages"],
    },
    super::Builtin {
        id: "kubeadm/reset-hang-runtime-stopped",
        run: reset::reset_hang_runtime_stopped,
        fills: &["states", "unit"],
    },
    super::Builtin {
        id: "kubeadm/taints-omitted",
        run: taints::taints_omitted,
        fills: &[
            "api_version",
            "config",
            "kind",
            "nodes",
            "pending",
            "taint",
            "untaint",
            "written",
        ],
    },
    super::Builtin {
        id: "kubeadm/upgrade-plan-external-etcd",
        run: upgrade::upgrade_plan_external_etcd,
        fills: &["endpoints"],
    },
    super::Builtin {
        id: "kubeadm/usr-readonly-flexvolume",
        run: flexvolume::usr_readonly_flexvolume,
        fills: &[
            "api",
            "config",
            "dir",
            "dirs",
            "extra_file",
            "fstab",
            "kubelet_step",
            "logs",
            "new_dir",
            "os",
            "running",
            "where",
        ],
    },
    super::Builtin {
        id: "kubeadm/x509-unknown-authority",
        run: x509::x509_unknown_authority,
        fills: &["authority", "client", "kubeconfig", "phase"],
    },
];

/// A node's operating system, from `nodes/<node>/os-release`.
#[derive(Debug, Clone)]
pub struct OsRelease {
    pub id: String,
    pub id_like: Vec<String>,
    pub version_id: String,
    pub pretty_name: String,
}

/// How packages are installed on a node's distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFamily {
    Debian,
    RedHat,
    Suse,
    Unknown,
}

impl OsRelease {
    pub fn read(ctx: &Ctx, node: &str) -> Option<OsRelease> {
        let f = ctx.facts.text(&format!("nodes/{node}/os-release")).ok()?;
        Some(OsRelease::parse(&f.text))
    }

    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease {
            id: String::new(),
            id_like: Vec::new(),
            version_id: String::new(),
            pretty_name: String::new(),
        };
        for line in text.lines() {
            let Some((k, v)) = line.trim().split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches(['"', '\'']).to_string();
            match k.trim() {
                "ID" => os.id = v.to_ascii_lowercase(),
                "ID_LIKE" => {
                    os.id_like = v
                        .split_whitespace()
                        .map(|s| s.to_ascii_lowercase())
                        .collect()
                }
                "VERSION_ID" => os.version_id = v,
                "PRETTY_NAME" => os.pretty_name = v,
                _ => {}
            }
        }
        os
    }

    pub fn family(&self) -> OsFamily {
        let all: Vec<&str> = std::iter::once(self.id.as_str())
            .chain(self.id_like.iter().map(String::as_str))
            .collect();
        let any = |names: &[&str]| all.iter().any(|a| names.contains(a));
        if any(&["debian", "ubuntu"]) {
            OsFamily::Debian
        } else if any(&[
            "rhel",
            "centos",
            "fedora",
            "rocky",
            "almalinux",
            "ol",
            "amzn",
        ]) {
            OsFamily::RedHat
        } else if any(&["suse", "opensuse", "sles", "sle-micro"]) {
            OsFamily::Suse
        } else {
            OsFamily::Unknown
        }
    }

    /// A name for the node's system in remediation text.
    pub fn name(&self) -> String {
        if !self.pretty_name.is_empty() {
            self.pretty_name.clone()
        } else if !self.id.is_empty() {
            format!("{} {}", self.id, self.version_id)
                .trim()
                .to_string()
        } else {
            "an unidentified distribution".into()
        }
    }

    /// Red Hat family releases before 8 (CentOS/RHEL 7, Amazon Linux 2) install with yum;
    /// later ones and Fedora with dnf.
    fn uses_yum(&self) -> bool {
        let major: u64 = self
            .version_id
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        match self.id.as_str() {
            "fedora" => false,
            "amzn" => major < 2022,
            _ => major != 0 && major < 8,
        }
    }

    /// The command that installs `packages` on this distribution; `None` when the family is
    /// unknown (the spec then names the usual package managers).
    pub fn install_command(&self, packages: &[String]) -> Option<String> {
        let list = packages.join(" ");
        Some(match self.family() {
            OsFamily::Debian => format!("sudo apt-get update && sudo apt-get install -y {list}"),
            OsFamily::RedHat if self.uses_yum() => format!("sudo yum install -y {list}"),
            OsFamily::RedHat => format!("sudo dnf install -y {list}"),
            OsFamily::Suse => format!("sudo zypper install -y {list}"),
            OsFamily::Unknown => return None,
        })
    }

    /// The file the kubelet's systemd drop-in reads `KUBELET_EXTRA_ARGS` from.
    pub fn kubelet_extra_args_file(&self) -> &'static str {
        match self.family() {
            OsFamily::Debian => "/etc/default/kubelet",
            OsFamily::RedHat | OsFamily::Suse => "/etc/sysconfig/kubelet",
            OsFamily::Unknown => {
                "/etc/default/kubelet (Debian/Ubuntu) or /etc/sysconfig/kubelet (CentOS/RHEL/Fedora)"
            }
        }
    }
}

/// Whether any text source (pasted output, pod logs, journals) is in the bundle: a check that
/// looks for an error line can only pass when there was text to look in.
pub fn has_text(ctx: &Ctx, scan: &str) -> bool {
    ctx.scanned(scan) > 0
}

/// The API server's version from `kubectl/version.json` (`serverVersion.gitVersion`), with the
/// evidence line.
pub fn server_version(ctx: &Ctx) -> Option<(crate::version::Version, Evidence)> {
    let doc = ctx.json("kubectl/version.json").ok()?;
    let git = crate::objpath::str_at(&doc.value, "serverVersion.gitVersion")?;
    let v = crate::version::Version::parse(git)?;
    let line = doc
        .text
        .find_line_in(
            doc.text
                .find_line_in(1, doc.text.line_count(), "\"serverVersion\"")
                .unwrap_or(1),
            doc.text.line_count(),
            "\"gitVersion\"",
        )
        .unwrap_or(1);
    Some((v, doc.text.evidence(line, line)))
}

/// Where a kubelet flag was found, in the order the kubelet's command line is assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagSource {
    /// `KUBELET_EXTRA_ARGS` from /etc/default/kubelet or /etc/sysconfig/kubelet: last, wins.
    ExtraArgs,
    /// The kubelet's systemd unit and drop-ins (`Environment="KUBELET_CGROUP_ARGS=..."` on old
    /// kubeadm releases, or flags written into `ExecStart`).
    Unit,
    /// `KUBELET_KUBEADM_ARGS` in /var/lib/kubelet/kubeadm-flags.env, written by kubeadm.
    KubeadmFlags,
    /// A field of /var/lib/kubelet/config.yaml; any flag overrides it.
    Config,
}

/// A node's kubelet settings: its config file and the files its command line is made of.
pub struct KubeletSettings {
    pub node: String,
    pub config: Option<Arc<crate::facts::YamlDoc>>,
    pub flags: Option<Arc<TextFile>>,
    pub extra_args: Option<Arc<TextFile>>,
    pub unit: Option<Arc<TextFile>>,
}

impl KubeletSettings {
    pub fn read(ctx: &Ctx, node: &str) -> KubeletSettings {
        let text = |f: &str| ctx.facts.text(&format!("nodes/{node}/{f}")).ok();
        KubeletSettings {
            node: node.to_string(),
            config: ctx
                .facts
                .yaml(&format!("nodes/{node}/kubelet/config.yaml"))
                .ok(),
            flags: text("kubelet/flags.env"),
            extra_args: text("kubelet/extra-args.env"),
            unit: text("systemd/kubelet.service"),
        }
    }

    /// Whether any of the kubelet's settings were collected.
    pub fn collected(&self) -> bool {
        self.config.is_some() || self.flags.is_some() || self.extra_args.is_some()
    }

    /// The flag `--flag` as the kubelet ends up with it (value, evidence, where): the last
    /// occurrence on its command line wins.
    pub fn flag(&self, flag: &str) -> Option<(String, Evidence, FlagSource)> {
        [
            (&self.extra_args, FlagSource::ExtraArgs),
            (&self.unit, FlagSource::Unit),
            (&self.flags, FlagSource::KubeadmFlags),
        ]
        .into_iter()
        .find_map(|(file, source)| {
            let f = file.as_ref()?;
            let (n, v) = flag_in(f, flag)?;
            Some((v, f.evidence(n, n), source))
        })
    }

    /// A setting as (value, evidence): the flag `--flag` first, then the config file's `field`
    /// (flags win, as they do in the kubelet).
    pub fn setting(&self, flag: &str, field: &str) -> Option<(String, Evidence)> {
        self.setting_from(flag, field).map(|(v, ev, _)| (v, ev))
    }

    /// [`KubeletSettings::setting`] with where the value came from.
    pub fn setting_from(&self, flag: &str, field: &str) -> Option<(String, Evidence, FlagSource)> {
        if let Some(found) = self.flag(flag) {
            return Some(found);
        }
        let cfg = self.config.as_ref()?;
        let v = cfg
            .docs
            .iter()
            .find_map(|d| d.get(field))?
            .as_str()?
            .to_string();
        let ev = cfg.text.evidence_for(&format!("{field}:"));
        Some((v, ev, FlagSource::Config))
    }
}

/// The last `--flag=value` or `--flag value` on an uncommented line of a file that holds a
/// command line (an env file, a systemd unit): (line, value).
pub fn flag_in(text: &TextFile, flag: &str) -> Option<(usize, String)> {
    let needle = format!("--{flag}");
    let mut found = None;
    for (n, line) in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut rest = line;
        while let Some(pos) = rest.find(&needle) {
            let after = &rest[pos + needle.len()..];
            rest = after;
            let value = if let Some(v) = after.strip_prefix('=') {
                v
            } else if after.starts_with([' ', '\t']) {
                after.trim_start()
            } else {
                continue;
            };
            let v: String = value
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
                .collect();
            if !v.is_empty() {
                found = Some((n, v));
            }
        }
    }
    found
}

/// `kubeadm/coredns-loop`: CoreDNS's loop plugin fired, or a node's kubelet hands pods a
/// resolv.conf whose only resolver is a local stub, and CoreDNS forwards to that file.
pub fn coredns_loop(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut drafts = group_matches(ctx.matches_of("loop"), |v| v["pod"].clone());
    let pods = ctx.list("kubectl/pods.json").ok();
    for d in &mut drafts {
        let (ns, pod) = (d.vars["namespace"].clone(), d.vars["pod"].clone());
        d.vars
            .insert("where".into(), format!("CoreDNS pod {ns}/{pod}"));
        let node = pods
            .as_ref()
            .and_then(|p| crate::cluster::node_of_pod(p, &ns, &pod))
            .map(str::to_string);
        d.vars.insert(
            "node".into(),
            node.unwrap_or_else(|| "the node running it".into()),
        );
    }
    let nodes = ctx.facts.nodes();
    let mut config_checked = false;
    // CoreDNS only loops through the node's resolv.conf when its Corefile forwards to it.
    let forwards_to_resolv = corefile_forwards_to_resolv_conf(ctx);
    for node in &nodes {
        let Ok(resolv) = ctx.facts.text(&format!("nodes/{node}/resolv.conf")) else {
            continue;
        };
        let kubelet = KubeletSettings::read(ctx, node);
        if kubelet.config.is_none() && kubelet.flags.is_none() {
            continue;
        }
        config_checked = true;
        let (resolv_path, resolv_ev) = match kubelet.setting("resolv-conf", "resolvConf") {
            Some((p, ev)) => (p, Some(ev)),
            None => ("/etc/resolv.conf".to_string(), None),
        };
        // Only /etc/resolv.conf is collected: a kubelet pointed elsewhere was already fixed.
        if resolv_path != "/etc/resolv.conf" {
            continue;
        }
        let servers: Vec<(usize, String)> = resolv
            .lines()
            .filter_map(|(n, l)| {
                let mut it = l.split_whitespace();
                (it.next() == Some("nameserver"))
                    .then(|| it.next().map(|s| (n, s.to_string())))
                    .flatten()
            })
            .collect();
        if servers.is_empty()
            || !servers.iter().all(|(_, s)| is_loopback(s))
            || forwards_to_resolv == Some(false)
        {
            continue;
        }
        let (line, stub) = servers[0].clone();
        let mut d = Draft::new()
            .var("node", node.as_str())
            .var("stub", stub.as_str())
            .var("where", format!("node {node}"))
            .evidence(resolv.evidence(line, line));
        if let Some(ev) = resolv_ev {
            d = d.evidence(ev);
        }
        drafts.push(d.variant("stub"));
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if ctx.scanned("loop") == 0 && !config_checked {
        return Draft::missing("default").not_evaluated();
    }
    Ok(Outcome::Pass)
}

fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr == "::1"
}

/// Whether the CoreDNS Corefile (ConfigMap `kube-system/coredns`) forwards to /etc/resolv.conf;
/// `None` when the ConfigMap was not collected.
fn corefile_forwards_to_resolv_conf(ctx: &Ctx) -> Option<bool> {
    let cms = ctx.list("kubectl/configmaps.json").ok()?;
    let cm = crate::cluster::object_named(&cms, "kube-system", "coredns")?;
    let corefile = crate::objpath::str_at(&cm.at.item.value, "data.Corefile")?;
    Some(corefile.lines().any(|l| {
        let t = l.trim();
        (t.starts_with("forward") || t.starts_with("proxy")) && t.contains("/etc/resolv.conf")
    }))
}

/// Normalises a cgroup driver name for comparison (`Systemd` = `systemd`).
fn driver(s: &str) -> String {
    s.trim().trim_matches('"').to_ascii_lowercase()
}

/// `kubeadm/cgroup-driver-mismatch`: the kubelet's cgroup driver differs from the runtime's,
/// from the kubelet's own error lines or from the configured drivers.
pub fn cgroup_driver_mismatch(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    let mut drafts: Vec<Draft> = Vec::new();
    // Log evidence, one finding per node (all its lines as evidence).
    let log_lines: Vec<_> = ["misconfiguration", "cgroups-path", "cgroup-parent"]
        .iter()
        .flat_map(|s| ctx.matches_of(s))
        .collect();
    let mut log_nodes: Vec<String> = Vec::new();
    for mut d in group_matches(log_lines, |v| {
        v.get("node").cloned().unwrap_or_else(|| v["file"].clone())
    }) {
        let node = d
            .vars
            .get("node")
            .cloned()
            .unwrap_or_else(|| "(unknown node)".into());
        // The containerd/runc and Docker "cgroup-parent" errors both mean: runtime systemd, kubelet cgroupfs.
        let (k, r) = match (d.vars.get("kubelet"), d.vars.get("runtime")) {
            (Some(k), Some(r)) => (driver(k), driver(r)),
            _ => ("cgroupfs".into(), "systemd".into()),
        };
        let runtime = if d.vars["line"].contains("slice:prefix:name") {
            "containerd"
        } else {
            "docker"
        };
        d.vars
            .insert("runtime_fix".into(), runtime_fix(ctx, runtime, &k));
        d.vars.insert("node".into(), node.clone());
        d.vars.insert("kubelet_driver".into(), k);
        d.vars.insert("runtime_driver".into(), r);
        log_nodes.push(node);
        drafts.push(d);
    }
    // Configuration evidence: a bundle collected before the error was logged still shows it.
    let mut compared = false;
    for node in ctx.facts.nodes() {
        let kubelet = KubeletSettings::read(ctx, &node);
        let from_cri = ctx
            .matches_of("from-cri")
            .into_iter()
            .any(|m| super::path_vars(&m.file).get("node") == Some(&node))
            || driver_from_cri(ctx, &node);
        if from_cri {
            // The kubelet takes the driver from the runtime: its config field is ignored.
            compared = true;
            continue;
        }
        let Some((runtime, runtime_driver, runtime_ev)) = runtime_driver(ctx, &node, &kubelet)
        else {
            continue;
        };
        // The kubelet's default driver is cgroupfs when its config does not set one.
        let (kubelet_driver, kubelet_ev) = match kubelet.setting("cgroup-driver", "cgroupDriver") {
            Some((v, ev)) => (driver(&v), Some(ev)),
            None if kubelet.config.is_some() => (
                "cgroupfs".to_string(),
                kubelet.config.as_ref().map(|c| c.text.evidence(1, 1)),
            ),
            None => continue,
        };
        compared = true;
        if kubelet_driver == runtime_driver || log_nodes.contains(&node) {
            continue;
        }
        let mut d = Draft::new()
            .var("node", node.as_str())
            .var("kubelet_driver", kubelet_driver.as_str())
            .var("runtime_driver", runtime_driver.as_str())
            .var("runtime_fix", runtime_fix(ctx, &runtime, &kubelet_driver))
            .var("runtime", runtime)
            .evidence(runtime_ev);
        if let Some(ev) = kubelet_ev {
            d = d.evidence(ev);
        }
        drafts.push(d);
    }
    if !drafts.is_empty() {
        return Ok(Outcome::Findings(drafts));
    }
    if !compared && ctx.scanned("misconfiguration") == 0 {
        return Draft::missing("default").not_evaluated();
    }
    Ok(Outcome::Pass)
}

/// Whether the kubelet takes its cgroup driver from the runtime by their versions alone: from
/// kubelet 1.31 (KubeletCgroupDriverFromCRI on by default) with containerd 2.0 or later, which
/// answers the CRI's RuntimeConfig call. The journal line saying so may have rotated away.
fn driver_from_cri(ctx: &Ctx, node: &str) -> bool {
    let Some((kubelet, runtime, runtime_version)) = pods::node_versions(ctx, node) else {
        return false;
    };
    kubelet.major_minor() >= (1, 31)
        && runtime == "containerd"
        && runtime_version.parts.first().is_some_and(|&m| m >= 2)
}

/// How to switch the runtime to the kubelet's driver.
fn runtime_fix(ctx: &Ctx, runtime: &str, kubelet_driver: &str) -> String {
    if runtime == "containerd" {
        let systemd = (kubelet_driver == "systemd").to_string();
        ctx.phrase("fix-containerd", &[("systemd", &systemd)])
    } else {
        ctx.phrase("fix-docker", &[("driver", kubelet_driver)])
    }
}

/// The container runtime's cgroup driver on a node: containerd's `SystemdCgroup` when the kubelet
/// talks to containerd, else Docker's `CgroupDriver`.
fn runtime_driver(
    ctx: &Ctx,
    node: &str,
    kubelet: &KubeletSettings,
) -> Option<(String, String, Evidence)> {
    let endpoint = kubelet
        .setting("container-runtime-endpoint", "containerRuntimeEndpoint")
        .map(|(v, _)| v)
        .unwrap_or_default();
    // Docker's own packages install containerd with its CRI plugin disabled: that configuration
    // says nothing about the pods' cgroups.
    let containerd = ctx
        .facts
        .text(&format!("nodes/{node}/runtime/containerd-config.toml"))
        .ok()
        .filter(|t| !containerd_cri_disabled(t));
    let docker = ctx
        .facts
        .json(&format!("nodes/{node}/runtime/docker-info.json"))
        .ok();
    // The kubelet talks to Docker through dockershim or cri-dockerd: by its endpoint, or, with
    // no endpoint set, by the runtime the node reports.
    let on_docker = endpoint.contains("docker")
        || (endpoint.is_empty()
            && pods::node_versions(ctx, node).is_some_and(|(_, runtime, _)| runtime == "docker"));
    let use_containerd = !on_docker
        && (endpoint.contains("containerd") || (docker.is_none() && containerd.is_some()));
    if use_containerd {
        let toml = containerd?;
        let (systemd, ev) = match containerd_systemd_cgroup(&toml).ok()? {
            Some((s, n)) => (s, toml.evidence(n, n)),
            None => (false, toml.evidence(1, 1)),
        };
        return Some((
            "containerd".into(),
            if systemd {
                "systemd".into()
            } else {
                "cgroupfs".into()
            },
            ev,
        ));
    }
    let doc = docker?;
    let d = doc.value.get("CgroupDriver")?.as_str()?;
    Some((
        "docker".into(),
        driver(d),
        doc.text.evidence_for("\"CgroupDriver\""),
    ))
}

/// Whether a containerd configuration turns its CRI plugin off (`disabled_plugins = ["cri"]`, as
/// the containerd.io package installed with Docker ships it): the kubelet cannot use that
/// containerd, so its runtime options are not the pods'. A file that is not TOML is left to
/// [`containerd_systemd_cgroup`], which reports it unknown.
fn containerd_cri_disabled(file: &TextFile) -> bool {
    let Ok(config) = toml::from_str::<toml::Table>(&file.text) else {
        return false;
    };
    config
        .get("disabled_plugins")
        .and_then(toml::Value::as_array)
        .is_some_and(|list| {
            list.iter().filter_map(toml::Value::as_str).any(|p| {
                matches!(
                    p,
                    "cri" | "io.containerd.grpc.v1.cri" | "io.containerd.cri.v1.runtime"
                )
            })
        })
}

/// containerd's `SystemdCgroup` for the runtime CRI pods use (`default_runtime_name`, `runc`
/// unless set), with its line: other runtimes' options (kata, nvidia...) do not count.
/// `Ok(None)` when the default runtime's options leave it at containerd's default, false;
/// `Err` when the file is not TOML (cut short, or not a containerd configuration at all), so
/// the runtime's driver is unknown rather than guessed.
fn containerd_systemd_cgroup(file: &TextFile) -> Result<Option<(bool, usize)>, toml::de::Error> {
    let config: toml::Table = toml::from_str(&file.text)?;
    // The CRI plugin's table: containerd 2 (config version 3), 1.x (version 2), and version 1.
    let Some(cri) = config.get("plugins").and_then(|p| {
        [
            "io.containerd.cri.v1.runtime",
            "io.containerd.grpc.v1.cri",
            "cri",
        ]
        .iter()
        .find_map(|name| p.get(*name)?.get("containerd"))
    }) else {
        return Ok(None);
    };
    let default = cri
        .get("default_runtime_name")
        .and_then(toml::Value::as_str)
        .unwrap_or("runc");
    let named = cri
        .get("runtimes")
        .and_then(|r| r.get(default))
        .and_then(|r| r.get("options"))
        .and_then(|o| o.get("SystemdCgroup"))
        .and_then(toml::Value::as_bool)
        .map(|v| (v, format!("runtimes.{default}.options")));
    // The table of no named runtime (1.x's `default_runtime`) still applies.
    let systemd = named.or_else(|| {
        cri.get("default_runtime")?
            .get("options")?
            .get("SystemdCgroup")?
            .as_bool()
            .map(|v| (v, "default_runtime.options".to_string()))
    });
    let Some((value, table)) = systemd else {
        return Ok(None);
    };
    // Its line: the first `SystemdCgroup` after the table's header, else the first at all.
    let unquoted = |l: &str| l.replace(['"', '\''], "");
    let header = file
        .lines()
        .find(|(_, l)| l.trim_start().starts_with('[') && unquoted(l).contains(&table))
        .map_or(0, |(n, _)| n);
    let setting = |(_, l): &(usize, &str)| {
        let l = l.trim_start();
        !l.starts_with('#') && l.contains("SystemdCgroup")
    };
    let line = file
        .lines()
        .filter(|(n, _)| *n > header)
        .find(setting)
        .or_else(|| file.lines().find(setting))
        .map_or(1, |(n, _)| n);
    Ok(Some((value, line)))
}

/// An installed package's version on a node, from `nodes/<node>/runtime/packages.txt` as
/// `rpm -q` (`docker-1.13.1-84.git07f3374.el7.centos.x86_64`) or `dpkg-query` (`kubeadm
/// 1.18.5-00`, also with dpkg -l's `ii` status column) print it.
pub fn package_version(
    ctx: &Ctx,
    node: &str,
    name: &str,
) -> Option<(crate::version::Version, Evidence)> {
    let f = ctx
        .facts
        .text(&format!("nodes/{node}/runtime/packages.txt"))
        .ok()?;
    for (n, line) in f.lines() {
        if let Some(v) = package_line_version(line, name) {
            return Some((v, f.evidence(n, n)));
        }
    }
    None
}

/// The version of package `name` on one line of package-manager output, if the line is about it.
pub fn package_line_version(line: &str, name: &str) -> Option<crate::version::Version> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let tokens: &[&str] = match tokens.first() {
        // dpkg -l's status: the second letter says whether the package is installed (`ii`,
        // `hi`); `rc` is a removed package whose configuration files remain.
        Some(s) if s.len() == 2 && s.chars().all(|c| c.is_ascii_lowercase()) => {
            if !s.ends_with('i') {
                return None;
            }
            &tokens[1..]
        }
        _ => &tokens[..],
    };
    let first = tokens.first()?;
    let rpm_form = tokens
        .get(1)
        .is_none_or(|t| !t.starts_with(|c: char| c.is_ascii_digit()));
    if rpm_form {
        // rpm: name-version-release.arch in one word.
        let rest = first.strip_prefix(name)?.strip_prefix('-')?;
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        return crate::version::Version::parse(rest);
    }
    // dpkg: name (maybe name:arch) then version; `yum list installed`: name.arch, then
    // [epoch:]version-release, then the repository.
    let yum_name = first.rsplit_once('.').filter(|(_, arch)| {
        matches!(
            *arch,
            "x86_64" | "noarch" | "aarch64" | "i686" | "ppc64le" | "s390x"
        )
    });
    if first.split(':').next() != Some(name) && yum_name.map(|(n, _)| n) != Some(name) {
        return None;
    }
    crate::version::Version::parse(tokens[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_runtime_decides_systemd_cgroup() {
        let toml = |s: &str| TextFile::new("c.toml", s.as_bytes().to_vec());
        let v3 = toml(
            "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd]\n  default_runtime_name = 'crun'\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun.options]\n  SystemdCgroup = true # the kubelet's driver\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = false\n",
        );
        assert_eq!(containerd_systemd_cgroup(&v3).unwrap(), Some((true, 5)));
        let v2 = toml(
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.kata.options]\n  SystemdCgroup = false\n",
        );
        assert_eq!(containerd_systemd_cgroup(&v2).unwrap(), Some((true, 2)));
        let none = toml(
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvidia.options]\n  SystemdCgroup = true\n",
        );
        assert_eq!(containerd_systemd_cgroup(&none).unwrap(), None);
        // Dotted keys and inline tables are TOML too; a cut-short file is not.
        let dotted = toml(
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nruntimes.runc.options = { SystemdCgroup = true }\n",
        );
        assert_eq!(containerd_systemd_cgroup(&dotted).unwrap(), Some((true, 3)));
        let cut = toml("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.opt");
        assert!(containerd_systemd_cgroup(&cut).is_err());
    }

    #[test]
    fn a_containerd_without_its_cri_plugin_is_not_the_pods_runtime() {
        let toml = |s: &str| TextFile::new("c.toml", s.as_bytes().to_vec());
        let docker_package = toml(
            "#   Copyright 2018-2022 Docker Inc.\n\ndisabled_plugins = [\"cri\"]\n\n#root = \"/var/lib/containerd\"\n",
        );
        assert!(containerd_cri_disabled(&docker_package));
        let full_name = toml("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
        assert!(containerd_cri_disabled(&full_name));
        let kubeadm = toml(
            "version = 2\ndisabled_plugins = []\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
        );
        assert!(!containerd_cri_disabled(&kubeadm));
        assert!(!containerd_cri_disabled(&toml(
            "disabled_plugins = [\"cri\""
        )));
    }

    #[test]
    fn flags_are_read_in_both_forms_last_one_wins() {
        let f = TextFile::new(
            "f",
            b"# --volume-plugin-dir=/x\nKUBELET_EXTRA_ARGS=\"--volume-plugin-dir=/a --volume-plugin-dir /b --volume-plugin-dirx=/c\"\n".to_vec(),
        );
        assert_eq!(
            flag_in(&f, "volume-plugin-dir"),
            Some((2, "/b".to_string()))
        );
        let f = TextFile::new(
            "f",
            b"KUBELET_KUBEADM_ARGS=\"--node-ip=10.0.0.1\"\n".to_vec(),
        );
        assert_eq!(flag_in(&f, "volume-plugin-dir"), None);
    }

    #[test]
    fn removed_packages_in_dpkg_l_have_no_version() {
        let ii = "ii  docker-ce  5:20.10.7~3-0~ubuntu-focal  amd64  Docker: the open-source application container engine";
        assert_eq!(
            package_line_version(ii, "docker-ce").unwrap().parts,
            [20, 10, 7, 3, 0]
        );
        let yum = "docker.x86_64   2:1.13.1-84.git07f3374.el7.centos   @extras";
        assert_eq!(
            package_line_version(yum, "docker").unwrap().parts,
            package_line_version("docker-1.13.1-84.git07f3374.el7.centos.x86_64", "docker")
                .unwrap()
                .parts
        );
        let client = "docker-client.x86_64   2:1.13.1-84.git07f3374.el7.centos   @extras";
        assert!(package_line_version(client, "docker").is_none());
        let rc = "rc  docker.io  1.13.1-0ubuntu1~16.04.2  amd64  Linux container runtime";
        assert!(package_line_version(rc, "docker.io").is_none());
        assert_eq!(
            package_line_version("docker.io 1.11.2-0ubuntu5", "docker.io")
                .unwrap()
                .parts,
            [1, 11, 2]
        );
    }
}
