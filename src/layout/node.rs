//! Node data from another tool's capture, placed where our layout keeps it
//! (`nodes/<node>/...`). Troubleshoot host collectors are known by the command that produced
//! them, sosreports by the file they copied or the command they ran; both end here.
//! Where the other tool's text differs from what our collector records (`mount -l` instead of
//! `/proc/mounts`, `sestatus` instead of `getenforce`, `docker info` as text), the file is
//! rewritten line for line, each line pointing at the one it came from.

use super::{Input, Segment, View};
use std::sync::Arc;

/// How a captured file becomes ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    /// Read as it is.
    Same,
    /// `mount -l` lines into `/proc/mounts` lines.
    MountL,
    /// `sestatus` into what `getenforce` prints.
    Sestatus,
    /// `docker info` text into the JSON of `docker info --format '{{json .}}'` (the fields the
    /// checks read).
    DockerInfo,
}

/// Our node-relative path for a command's output, from the command line as the tool recorded
/// it (`/usr/bin/journalctl -u kubelet --no-pager -S 7 days ago`, `cat /etc/resolv.conf`).
pub fn by_command(cmd: &str) -> Option<(String, Conv)> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let prog = words.first()?.rsplit('/').next()?;
    let args = &words[1..];
    match prog {
        "journalctl" => {
            let unit = journal_unit(args)?;
            Some((format!("journal/{}.log", unit_name(&unit)), Conv::Same))
        }
        "cat" => by_copied_path(args.last()?).map(|p| (p, Conv::Same)),
        "mount" => Some(("mounts".into(), Conv::MountL)),
        "sestatus" => Some(("getenforce.txt".into(), Conv::Sestatus)),
        "getenforce" => Some(("getenforce.txt".into(), Conv::Same)),
        "docker" if args.first() == Some(&"info") => {
            Some(("runtime/docker-info.json".into(), Conv::DockerInfo))
        }
        "docker" if args.first() == Some(&"version") || args.first() == Some(&"--version") => {
            Some(("runtime/version.txt".into(), Conv::Same))
        }
        "docker" | "crictl" if args.first() == Some(&"ps") => {
            Some(("runtime/containers.txt".into(), Conv::Same))
        }
        "containerd" if args.first() == Some(&"config") && args.get(1) == Some(&"dump") => {
            Some(("runtime/containerd-config.toml".into(), Conv::Same))
        }
        "containerd" if args.contains(&"--version") => {
            Some(("runtime/version.txt".into(), Conv::Same))
        }
        "systemctl" if args.first() == Some(&"cat") => {
            let unit = args.get(1)?;
            Some((format!("systemd/{}.service", unit_name(unit)), Conv::Same))
        }
        "hostname" if args.first() == Some(&"-i") || args.first() == Some(&"-I") => {
            Some(("hostname-i.txt".into(), Conv::Same))
        }
        "ip" if args.contains(&"-o") && args.contains(&"addr") => {
            Some(("ip-addr.txt".into(), Conv::Same))
        }
        "rpm" | "dpkg" | "dpkg-query" => Some(("runtime/packages.txt".into(), Conv::Same)),
        _ => None,
    }
}

/// The unit a journalctl command reads (`-u kubelet`, `--unit=kubelet`, `--unit kubelet`).
fn journal_unit(args: &[&str]) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if *a == "-u" || *a == "--unit" {
            return it.next().map(|u| u.to_string());
        }
        if let Some(u) = a.strip_prefix("--unit=").or_else(|| a.strip_prefix("-u")) {
            if !u.is_empty() {
                return Some(u.to_string());
            }
        }
    }
    None
}

/// `kubelet.service`, `snap.kubelet.daemon`, `snap.k8s.kubelet` → `kubelet`.
pub fn unit_name(unit: &str) -> String {
    let u = unit.trim_end_matches(".service");
    let u = u.strip_prefix("snap.").unwrap_or(u);
    let u = u.strip_suffix(".daemon").unwrap_or(u);
    let u = u.strip_prefix("k8s.").unwrap_or(u);
    u.to_string()
}

/// Our node-relative path for a file copied from a node (its absolute path there).
pub fn by_copied_path(abs: &str) -> Option<String> {
    let p = abs.trim_start_matches('/');
    let fixed = match p {
        "var/lib/kubelet/config.yaml" => "kubelet/config.yaml",
        "var/lib/kubelet/kubeadm-flags.env" => "kubelet/flags.env",
        "etc/resolv.conf" => "resolv.conf",
        "etc/os-release" | "usr/lib/os-release" => "os-release",
        "proc/mounts" | "proc/self/mounts" => "mounts",
        "etc/containerd/config.toml" => "runtime/containerd-config.toml",
        "opt/replicated/kubeadm.conf" | "var/lib/kubelet/tmp-kubeadm.conf" => "kubeadm/config.yaml",
        _ => {
            if let Some(name) = p.strip_prefix("etc/cni/net.d/")
                && !name.is_empty()
                && !name.contains('/')
            {
                return Some(format!("cni/{name}"));
            }
            if let Some(name) = p.strip_prefix("etc/kubernetes/manifests/")
                && !name.is_empty()
                && !name.contains('/')
            {
                return Some(format!("manifests/{name}"));
            }
            return None;
        }
    };
    Some(fixed.to_string())
}

/// Places real file `rel` of `input` as `nodes/<node>/<path>`, converting it if needed.
pub fn place(view: &mut View, input: &Input, node: &str, path: &str, rel: &str, conv: Conv) {
    let logical = format!("nodes/{node}/{path}");
    if view.entry(&logical).is_some() {
        return;
    }
    if conv == Conv::Same {
        view.alias(&logical, input, rel);
        return;
    }
    let Some(f) = input.resolve(rel) else { return };
    let Some(text) = input.read_string(&f.path) else {
        return;
    };
    let shown: Arc<str> = Arc::from(input.shown(&f.path));
    let mut out = String::new();
    let mut segs = Vec::new();
    let push = |out: &mut String, segs: &mut Vec<Segment>, line: String, real: usize| {
        let first = out.lines().count() + 1;
        out.push_str(&line);
        out.push('\n');
        segs.push(Segment {
            first,
            count: 1,
            file: shown.clone(),
            line: real,
            exact: true,
        });
    };
    match conv {
        Conv::MountL => {
            for (i, l) in text.lines().enumerate() {
                // `/dev/sda1 on / type ext4 (rw,relatime) [label]`
                let Some((dev, rest)) = l.split_once(" on ") else {
                    continue;
                };
                let Some((point, rest)) = rest.split_once(" type ") else {
                    continue;
                };
                let mut parts = rest.splitn(2, ' ');
                let fs = parts.next().unwrap_or("");
                let opts = parts
                    .next()
                    .and_then(|o| o.trim().strip_prefix('('))
                    .and_then(|o| o.split(')').next())
                    .unwrap_or("");
                push(
                    &mut out,
                    &mut segs,
                    format!("{dev} {point} {fs} {opts} 0 0"),
                    i + 1,
                );
            }
        }
        Conv::Sestatus => {
            for (i, l) in text.lines().enumerate() {
                let l = l.trim();
                let mode = if let Some(m) = l.strip_prefix("Current mode:") {
                    Some(m.trim())
                } else if l.starts_with("SELinux status:") && l.ends_with("disabled") {
                    Some("disabled")
                } else {
                    None
                };
                if let Some(m) = mode {
                    let mut c = m.chars();
                    let cap = c
                        .next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default();
                    push(&mut out, &mut segs, cap, i + 1);
                    break;
                }
            }
        }
        Conv::DockerInfo => {
            let mut fields = Vec::new();
            for (i, l) in text.lines().enumerate() {
                let t = l.trim();
                for (label, key) in [
                    ("Cgroup Driver:", "CgroupDriver"),
                    ("Server Version:", "ServerVersion"),
                    ("Storage Driver:", "Driver"),
                    ("Cgroup Version:", "CgroupVersion"),
                ] {
                    if let Some(v) = t.strip_prefix(label) {
                        fields.push((key, v.trim().to_string(), i + 1));
                    }
                }
            }
            if fields.is_empty() {
                return;
            }
            out.push_str("{\n");
            segs.push(Segment {
                first: 1,
                count: 1,
                file: shown.clone(),
                line: 1,
                exact: false,
            });
            let n = fields.len();
            for (k, (key, v, real)) in fields.into_iter().enumerate() {
                let comma = if k + 1 < n { "," } else { "" };
                push(
                    &mut out,
                    &mut segs,
                    format!(
                        "  {}: {}{comma}",
                        serde_json::json!(key),
                        serde_json::json!(v)
                    ),
                    real,
                );
            }
            out.push_str("}\n");
        }
        Conv::Same => {}
    }
    if out.is_empty() {
        return;
    }
    let _ = view.build(&logical, out.as_bytes(), segs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_their_place() {
        assert_eq!(
            by_command("/usr/bin/journalctl -u kubelet --no-pager -S 7 days ago"),
            Some(("journal/kubelet.log".into(), Conv::Same))
        );
        assert_eq!(
            by_command("/bin/cat /var/lib/kubelet/kubeadm-flags.env").map(|x| x.0),
            Some("kubelet/flags.env".into())
        );
        assert_eq!(by_command("mount -l").map(|x| x.1), Some(Conv::MountL));
        assert_eq!(
            by_command("/usr/bin/systemctl cat containerd").map(|x| x.0),
            Some("systemd/containerd.service".into())
        );
        assert_eq!(by_command("uptime"), None);
        assert_eq!(unit_name("snap.kubelet.daemon"), "kubelet");
        assert_eq!(unit_name("snap.k8s.kubelet"), "kubelet");
        assert_eq!(
            by_copied_path("/etc/cni/net.d/10-flannel.conflist").as_deref(),
            Some("cni/10-flannel.conflist")
        );
    }
}
