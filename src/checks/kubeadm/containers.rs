//! The runtime's container list (`nodes/<node>/runtime/containers.txt`) as `docker ps -a` or
//! `crictl ps -a` prints it, also after a person pasted it and the column padding changed.
//!
//! Rows are read by their content rather than by column offsets: Docker's STATUS and both tools'
//! CREATED hold spaces, and pasted tables lose their alignment.

use crate::facts::TextFile;

/// A container's state as the runtime reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Running,
    Exited(Option<i64>),
    Restarting(Option<i64>),
    Created,
    Other(String),
}

impl State {
    pub fn is_running(&self) -> bool {
        *self == State::Running
    }

    /// The state in a few words, for summaries.
    pub fn describe(&self) -> String {
        match self {
            State::Running => "running".into(),
            State::Exited(Some(c)) => format!("exited with code {c}"),
            State::Exited(None) => "exited".into(),
            State::Restarting(Some(c)) => format!("restarting after exit code {c}"),
            State::Restarting(None) => "restarting".into(),
            State::Created => "created but never started".into(),
            State::Other(s) => s.to_ascii_lowercase(),
        }
    }
}

/// One container of the list.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line in the file.
    pub line: usize,
    /// The container's name in its pod (`kube-apiserver`), or Docker's name when it is not a
    /// Kubernetes container.
    pub name: String,
    /// The pod, when the tool shows it (`kube-apiserver-cp-1`).
    pub pod: Option<String>,
    pub state: State,
    /// The kubelet's restart attempt for this container.
    pub attempt: Option<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Docker,
    Crictl,
}

/// Whether the list is `docker ps` output (else `crictl ps`): Docker's header has STATUS and
/// NAMES columns, its Kubernetes containers are named `k8s_...`.
pub fn is_docker(file: &TextFile) -> bool {
    file.lines().any(|(_, l)| {
        let t = l.trim();
        (t.starts_with("CONTAINER") && t.contains("STATUS"))
            || t.split_whitespace()
                .last()
                .is_some_and(|n| n.starts_with("k8s_"))
    })
}

/// Every container row of the list; header, blank and unreadable lines are skipped.
pub fn parse(file: &TextFile) -> Vec<Row> {
    let mut tool = None;
    let mut rows = Vec::new();
    for (n, line) in file.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with("CONTAINER") {
            tool = if t.contains("NAMES") && t.contains("STATUS") {
                Some(Tool::Docker)
            } else if t.contains("STATE") {
                Some(Tool::Crictl)
            } else {
                None
            };
            continue;
        }
        let row = match tool {
            Some(Tool::Docker) => docker_row(n, t),
            Some(Tool::Crictl) => crictl_row(n, t),
            // A list without its header: Docker rows end in a `k8s_` name.
            None if t
                .split_whitespace()
                .last()
                .is_some_and(|l| l.starts_with("k8s_")) =>
            {
                docker_row(n, t)
            }
            None => crictl_row(n, t),
        };
        if let Some(r) = row {
            rows.push(r);
        }
    }
    rows
}

/// `3f1e2a9b7c4d   5c9ba9d4d5c8   "kube-apiserver --ad…"   2 minutes ago   Exited (1) 1 minute ago      k8s_kube-apiserver_kube-apiserver-cp-1_kube-system_<uid>_7`
fn docker_row(n: usize, line: &str) -> Option<Row> {
    let names = line.split_whitespace().last()?;
    // The COMMAND column is quoted and may hold any word: leave it out of the status search.
    let mut rest = String::with_capacity(line.len());
    let mut quoted = false;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted {
            rest.push(c);
        }
    }
    let rest = rest.strip_suffix(names).unwrap_or(&rest);
    let state = if let Some(i) = rest.find("Exited (") {
        State::Exited(exit_code(&rest[i + "Exited (".len()..]))
    } else if let Some(i) = rest.find("Restarting (") {
        State::Restarting(exit_code(&rest[i + "Restarting (".len()..]))
    } else if rest.contains(" Up ") {
        State::Running
    } else if rest.contains(" Created ") || rest.trim_end().ends_with("Created") {
        State::Created
    } else if rest.contains(" Dead ") || rest.trim_end().ends_with("Dead") {
        State::Other("Dead".into())
    } else {
        return None;
    };
    let (name, pod, attempt) = match names.strip_prefix("k8s_") {
        // k8s_<container>_<pod>_<namespace>_<uid>_<attempt>; pod names hold no underscore.
        Some(k) => {
            let parts: Vec<&str> = k.split('_').collect();
            if parts.len() < 5 {
                (names.to_string(), None, None)
            } else {
                (
                    parts[0].to_string(),
                    Some(parts[1].to_string()),
                    parts.last().and_then(|a| a.parse().ok()),
                )
            }
        }
        None => (names.to_string(), None, None),
    };
    Some(Row {
        line: n,
        name,
        pod,
        state,
        attempt,
    })
}

fn exit_code(after_paren: &str) -> Option<i64> {
    after_paren.split(')').next()?.trim().parse().ok()
}

/// `a1b2c3d4e5f6a   5c9ba9d4d5c8e   12 seconds ago   Exited   kube-apiserver   7   3c4d5e6f7a8b9   kube-apiserver-cp-1   kube-system`
fn crictl_row(n: usize, line: &str) -> Option<Row> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let i = (2..tokens.len()).find(|&i| state_word(tokens[i]).is_some())?;
    let state = state_word(tokens[i])?;
    let name = tokens.get(i + 1)?.to_string();
    let attempt = tokens.get(i + 2).and_then(|a| a.parse().ok());
    let pod = tokens.get(i + 4).map(|p| p.to_string());
    Some(Row {
        line: n,
        name,
        pod,
        state,
        attempt,
    })
}

fn state_word(w: &str) -> Option<State> {
    Some(match w.trim_start_matches("CONTAINER_") {
        "Running" | "RUNNING" => State::Running,
        "Exited" | "EXITED" => State::Exited(None),
        "Created" | "CREATED" => State::Created,
        "Unknown" | "UNKNOWN" => State::Other("Unknown".into()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Row> {
        parse(&TextFile::new("c.txt", text.as_bytes().to_vec()))
    }

    #[test]
    fn docker_ps_rows() {
        let r = rows(concat!(
            "CONTAINER ID   IMAGE                  COMMAND                  CREATED          STATUS                      PORTS     NAMES\n",
            "3f1e2a9b7c4d   5c9ba9d4d5c8           \"kube-apiserver --ad…\"   12 seconds ago   Exited (1) 10 seconds ago             k8s_kube-apiserver_kube-apiserver-cp-1_kube-system_0f3c_7\n",
            "9a8b7c6d5e4f   registry.k8s.io/pause  \"/pause\"                 2 hours ago      Up 2 hours                            k8s_POD_kube-apiserver-cp-1_kube-system_0f3c_0\n",
            "1234567890ab   73deb9a3f702           \"etcd --advertise-cl…\"   3 minutes ago    Restarting (137) 5 seconds ago        k8s_etcd_etcd-cp-1_kube-system_77aa_12\n",
            "fedcba987654   busybox                \"sh -c 'echo Up Exited (3)'\"  1 minute ago  Created                      web\n",
        ));
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].name, "kube-apiserver");
        assert_eq!(r[0].pod.as_deref(), Some("kube-apiserver-cp-1"));
        assert_eq!(r[0].state, State::Exited(Some(1)));
        assert_eq!(r[0].attempt, Some(7));
        assert_eq!(r[1].name, "POD");
        assert!(r[1].state.is_running());
        assert_eq!(r[2].state, State::Restarting(Some(137)));
        assert_eq!(r[2].attempt, Some(12));
        assert_eq!(r[3].state, State::Created);
        assert_eq!(r[3].name, "web");
    }

    #[test]
    fn crictl_rows_old_and_new_columns() {
        let r = rows(concat!(
            "CONTAINER           IMAGE               CREATED              STATE               NAME                      ATTEMPT             POD ID              POD                         NAMESPACE\n",
            "a1b2c3d4e5f6a       5c9ba9d4d5c8e       About a minute ago   Exited              kube-apiserver            7                   3c4d5e6f7a8b9       kube-apiserver-cp-1         kube-system\n",
            "b2c3d4e5f6a7b       73deb9a3f7025       2 hours ago          Running             etcd                      0                   4d5e6f7a8b9c0       etcd-cp-1                   kube-system\n",
            "\n",
            "CONTAINER ID        IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID\n",
            "c3d4e5f6a7b8c       6d1b99d1e1f6b       5 seconds ago       CONTAINER_EXITED    kube-scheduler      3                   5e6f7a8b9c0d1\n",
            "garbage\n",
        ));
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].state, State::Exited(None));
        assert_eq!(r[0].attempt, Some(7));
        assert_eq!(r[0].pod.as_deref(), Some("kube-apiserver-cp-1"));
        assert!(r[1].state.is_running());
        assert_eq!(r[2].name, "kube-scheduler");
        assert_eq!(r[2].pod, None);
        assert_eq!(r[2].attempt, Some(3));
    }
}
