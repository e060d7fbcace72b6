//! A small Kubernetes API server on 127.0.0.1 (plain HTTP, std::net only) for running the real
//! kubectl client against fixed objects: discovery, the lists the collector asks for, pod logs,
//! and a Forbidden answer for events. Other modes stand for broken clusters: one that accepts
//! connections and never answers, one that refuses every credential, and one whose log requests
//! hang.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub const TOKEN: &str = "loopback-test-token-0d9f8e7c";
pub const COREFILE: &str = ".:53 {\n    errors\n    forward . /etc/resolv.conf\n    loop\n}\n";

pub struct ApiServer {
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

/// How the server behaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Answers like a small healthy cluster.
    Normal,
    /// Accepts connections, reads nothing, answers nothing, closes nothing.
    Silent,
    /// Answers every request with 401 Unauthorized (expired or revoked credentials).
    Unauthorized,
    /// Like `Normal`, but a request for a pod's log never gets an answer.
    HangLogs,
    /// Answers `/version` (so a reachability probe passes), and nothing else ever.
    HangAfterVersion,
}

impl ApiServer {
    pub fn start() -> ApiServer {
        ApiServer::start_mode(Mode::Normal)
    }

    pub fn start_mode(mode: Mode) -> ApiServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if mode == Mode::Silent {
                    held.push(stream);
                    continue;
                }
                let log = log2.clone();
                std::thread::spawn(move || serve(stream, port, &log, mode));
            }
        });
        ApiServer { port, log }
    }

    /// A kubeconfig for this server (context `ctx`, cluster `loop`), written to `path`.
    pub fn kubeconfig(&self, path: &std::path::Path, ctx: &str) {
        std::fs::write(
            path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: http://127.0.0.1:{port}\n  name: loop\ncontexts:\n- context:\n    cluster: loop\n    user: tester\n  name: {ctx}\ncurrent-context: {ctx}\nusers:\n- name: tester\n  user:\n    token: {TOKEN}\n",
                port = self.port
            ),
        )
        .unwrap();
    }

    /// Every request target (path and query) received.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, port: u16, log: &Mutex<Vec<String>>, mode: Mode) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
        }
        log.lock().unwrap().push(target.clone());
        if (mode == Mode::HangLogs && target.contains("/log"))
            || (mode == Mode::HangAfterVersion && !target.starts_with("/version"))
        {
            // Hold the connection open, answer nothing.
            std::thread::sleep(std::time::Duration::from_secs(3600));
            return;
        }
        let (code, ctype, body) = if mode == Mode::Unauthorized {
            (401, "application/json", json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}).to_string())
        } else {
            route(&target, port)
        };
        let reason = match code {
            200 => "OK",
            401 => "Unauthorized",
            403 => "Forbidden",
            _ => "Not Found",
        };
        let head = format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

fn json_body(v: Value) -> (u16, &'static str, String) {
    (200, "application/json", v.to_string())
}

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "4242"}, "items": items})
}

fn resource(name: &str, kind: &str, namespaced: bool) -> Value {
    json!({"name": name, "singularName": kind.to_ascii_lowercase(), "namespaced": namespaced,
           "kind": kind, "verbs": ["get", "list", "watch"]})
}

fn route(target: &str, port: u16) -> (u16, &'static str, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["version"] => json_body(json!({"major": "1", "minor": "28", "gitVersion": "v1.28.3",
            "gitCommit": "a8a1abc25cad87333840cd7d54be2efaf31a3177", "gitTreeState": "clean",
            "buildDate": "2023-10-18T11:33:18Z", "goVersion": "go1.20.10", "compiler": "gc",
            "platform": "linux/amd64"})),
        ["api"] => json_body(json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": format!("127.0.0.1:{port}")}]})),
        ["apis"] => {
            let group = |name: &str| {
                json!({"name": name, "versions": [{"groupVersion": format!("{name}/v1"), "version": "v1"}],
                       "preferredVersion": {"groupVersion": format!("{name}/v1"), "version": "v1"}})
            };
            json_body(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                group("apps"), group("networking.k8s.io"), group("rbac.authorization.k8s.io")]}))
        }
        ["api", "v1"] => json_body(json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            resource("pods", "Pod", true), resource("pods/log", "Pod", true),
            resource("nodes", "Node", false), resource("events", "Event", true),
            resource("serviceaccounts", "ServiceAccount", true), resource("configmaps", "ConfigMap", true),
            resource("namespaces", "Namespace", false), resource("secrets", "Secret", true)]})),
        ["apis", "apps", "v1"] => json_body(json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
            resource("daemonsets", "DaemonSet", true), resource("deployments", "Deployment", true)]})),
        ["apis", "networking.k8s.io", "v1"] => json_body(json!({"kind": "APIResourceList", "groupVersion": "networking.k8s.io/v1", "resources": [
            resource("networkpolicies", "NetworkPolicy", true)]})),
        ["apis", "rbac.authorization.k8s.io", "v1"] => json_body(json!({"kind": "APIResourceList", "groupVersion": "rbac.authorization.k8s.io/v1", "resources": [
            resource("roles", "Role", true), resource("rolebindings", "RoleBinding", true),
            resource("clusterroles", "ClusterRole", false), resource("clusterrolebindings", "ClusterRoleBinding", false)]})),
        ["api", "v1", "pods"] => json_body(pods()),
        ["api", "v1", "serviceaccounts"] => json_body(serviceaccounts()),
        ["api", "v1", "namespaces"] => json_body(list("NamespaceList", "v1",
            ["default", "istio-system", "kube-system", "shop"].iter()
                .map(|n| json!({"metadata": {"name": n}, "status": {"phase": "Active"}})).collect())),
        ["api", "v1", "nodes"] => json_body(list("NodeList", "v1", vec![json!({
            "metadata": {"name": "cp-1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.10"}]}})])),
        ["api", "v1", "events"] => (403, "application/json", json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "reason": "Forbidden", "code": 403, "details": {"kind": "events"},
            "message": "events is forbidden: User \"tester\" cannot list resource \"events\" in API group \"\" at the cluster scope"}).to_string()),
        ["api", "v1", "namespaces", ns, "configmaps"] => json_body(list("ConfigMapList", "v1",
            configmaps().into_iter().filter(|c| c["metadata"]["namespace"] == *ns).collect())),
        ["api", "v1", "namespaces", ns, "pods", pod] => {
            match pods()["items"].as_array().unwrap().iter()
                .find(|p| p["metadata"]["namespace"] == *ns && p["metadata"]["name"] == *pod)
            {
                Some(p) => json_body(p.clone()),
                None => (404, "application/json", json!({"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}).to_string()),
            }
        }
        ["api", "v1", "namespaces", ns, "pods", pod, "log"] => {
            let container = query.split('&').find_map(|kv| kv.strip_prefix("container=")).unwrap_or("");
            let previous = query.split('&').any(|kv| kv == "previous=true");
            let known = pods()["items"].as_array().unwrap().iter()
                .any(|p| p["metadata"]["namespace"] == *ns && p["metadata"]["name"] == *pod);
            if known {
                (200, "text/plain", log_text(container, previous))
            } else {
                (404, "application/json", json!({"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}).to_string())
            }
        }
        ["apis", "apps", "v1", "daemonsets"] => json_body(list("DaemonSetList", "apps/v1", vec![json!({
            "metadata": {"name": "kube-proxy", "namespace": "kube-system"}, "spec": {}, "status": {"numberReady": 1}})])),
        ["apis", "apps", "v1", "deployments"] => json_body(list("DeploymentList", "apps/v1", vec![])),
        ["apis", "networking.k8s.io", "v1", "networkpolicies"] => json_body(list("NetworkPolicyList", "networking.k8s.io/v1", vec![])),
        ["apis", "rbac.authorization.k8s.io", "v1", r] => {
            let items = match *r {
                "clusterrolebindings" => vec![json!({"metadata": {"name": "kubeadm:get-nodes"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kubeadm:get-nodes"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}]})],
                "clusterroles" => vec![json!({"metadata": {"name": "kubeadm:get-nodes"},
                    "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]})],
                _ => vec![],
            };
            let kind = match *r {
                "roles" => "RoleList",
                "rolebindings" => "RoleBindingList",
                "clusterroles" => "ClusterRoleList",
                _ => "ClusterRoleBindingList",
            };
            json_body(list(kind, "rbac.authorization.k8s.io/v1", items))
        }
        _ => (404, "application/json", json!({"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}).to_string()),
    }
}

pub fn log_text(container: &str, previous: bool) -> String {
    let run = if previous { "previous" } else { "current" };
    format!(
        "2026-11-20T10:15:00.000000001Z [INFO] {container} {run} run starts\n\
         2026-11-20T10:15:01.000000002Z [FATAL] {container} {run} run stops\n"
    )
}

fn pod(
    ns: &str,
    name: &str,
    phase: &str,
    ready: &str,
    inits: &[(&str, u32)],
    ctrs: &[(&str, u32)],
) -> Value {
    let spec = |cs: &[(&str, u32)]| -> Vec<Value> {
        cs.iter()
            .map(|(n, _)| json!({"name": n, "image": format!("registry.example/{n}:1")}))
            .collect()
    };
    let status = |cs: &[(&str, u32)]| -> Vec<Value> {
        cs.iter()
            .map(|(n, r)| json!({"name": n, "restartCount": r, "ready": ready == "True"}))
            .collect()
    };
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": spec(ctrs), "serviceAccountName": "default"},
        "status": {"phase": phase,
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": ready}],
            "containerStatuses": status(ctrs)}});
    if !inits.is_empty() {
        p["spec"]["initContainers"] = Value::Array(spec(inits));
        p["status"]["initContainerStatuses"] = Value::Array(status(inits));
    }
    p
}

pub fn pods() -> Value {
    list(
        "PodList",
        "v1",
        vec![
            pod(
                "kube-system",
                "coredns-5d78c9869d-8xk2p",
                "Running",
                "False",
                &[],
                &[("coredns", 3)],
            ),
            pod(
                "kube-system",
                "etcd-cp-1",
                "Running",
                "True",
                &[],
                &[("etcd", 0)],
            ),
            pod(
                "shop",
                "api-6f7-abc",
                "Running",
                "False",
                &[("wait-db", 0)],
                &[("api", 0)],
            ),
            pod("shop", "web-1", "Running", "True", &[], &[("web", 0)]),
        ],
    )
}

pub fn serviceaccounts() -> Value {
    list(
        "ServiceAccountList",
        "v1",
        vec![
            json!({"metadata": {"name": "default", "namespace": "default"}}),
            json!({"metadata": {"name": "api", "namespace": "shop",
            "annotations": {"iam.gke.io/gcp-service-account": "api@shop-prod-1234.iam.gserviceaccount.com"}}}),
        ],
    )
}

fn configmaps() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
               "data": {"Corefile": COREFILE}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
               "data": {"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nclusterName: kubernetes\n"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
               "data": {"mesh": "defaultConfig:\n  holdApplicationUntilProxyStarts: true\n"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-settings", "namespace": "shop"},
               "data": {"mode": "prod"}}),
    ]
}
