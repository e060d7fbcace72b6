//! The collector's redaction, proven on generated data: random JSON and YAML documents with
//! secrets planted in every form the redactor knows (secret-named keys, environment variables,
//! flag arguments, well-known token shapes, URLs with passwords, PEM blocks, configuration
//! files and JSON documents held in strings) go through the real script (`--redact`) under
//! each awk customers have, and must come out valid, of the same shape, and without a secret.
//! Then every testdata bundle, redacted file by file, must give the same verdicts as before.

#[path = "collector/support.rs"]
mod support;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// A small deterministic generator (xorshift64*): the same documents on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, s: &[&'a str]) -> &'a str {
        s[self.below(s.len())]
    }
    fn chars(&mut self, alphabet: &str, n: usize) -> String {
        let a: Vec<char> = alphabet.chars().collect();
        (0..n).map(|_| a[self.below(a.len())]).collect()
    }
    fn alnum(&mut self, n: usize) -> String {
        self.chars(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            n,
        )
    }
}

const SECRET_KEYS: &[&str] = &[
    "password",
    "Password",
    "db_password",
    "DB-PASSWORD",
    "passwd",
    "passphrase",
    "clientSecret",
    "client-secret",
    "client_secret",
    "apiKey",
    "api_key",
    "X-Api-Key",
    "auth",
    "token",
    "accessToken",
    "identitytoken",
    "private-key",
    "privateKey",
    "credentials",
    "secretKey",
    "access-key",
    "aws_secret_access_key",
    "AccountKey",
    "REDIS_PASS",
    "db.pwd",
    ".dockerconfigjson",
    "SharedAccessKey",
];
const ENV_NAMES: &[&str] = &[
    "DB_PASSWORD",
    "STRIPE_SK",
    "GITHUB_PAT",
    "API_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "SENTRY_DSN",
    "OAUTH_CLIENT_SECRET",
];
const SECRET_FLAGS: &[&str] = &["--password", "--client-secret", "--token", "--api-key"];
/// Names whose numeric value is a password all the same.
const PASSWORD_NAMES: &[&str] = &["DB_PASSWORD", "REDIS_PASS", "MYSQL_ROOT_PWD", "passphrase"];
const PLAIN_KEYS: &[&str] = &[
    "name",
    "message",
    "note",
    "description",
    "image",
    "mode",
    "reason",
    "data",
    "secretName",
    "serviceAccountName",
    "passwordSecretRef",
    "authority",
];

/// Documents with planted secrets, and the strings that must not survive or must survive.
struct Gen {
    rng: Rng,
    n: usize,
    secrets: Vec<String>,
    kept: Vec<String>,
    /// How many strings deep a JSON document may be held (a document in a string in a
    /// document...), and how deep the one being generated is.
    json_in_strings: usize,
    in_string: usize,
}

impl Gen {
    /// `json_in_strings`: JSON files are decoded string by string, so any depth holds; text
    /// (YAML) follows a JSON document one string deep.
    fn new(seed: u64, json_in_strings: usize) -> Gen {
        Gen {
            rng: Rng(seed),
            n: 0,
            secrets: Vec::new(),
            kept: Vec::new(),
            json_in_strings,
            in_string: 0,
        }
    }

    /// A unique secret of letters and digits.
    fn core(&mut self) -> String {
        self.n += 1;
        let s = format!("Sq{}Zx{}", self.n, self.rng.alnum(6));
        self.secrets.push(s.clone());
        s
    }

    /// A secret with awkward bytes around it: quotes, backslashes, colons, spaces, UTF-8.
    fn rich(&mut self) -> String {
        let deco = [
            "", "\"", "\\", "'", " ", "\u{e9}", ": ", "#", "%", "\t", "$(", "=", ",",
        ];
        let c = self.core();
        let a = deco[self.rng.below(deco.len())];
        let b = deco[self.rng.below(deco.len())];
        format!("x{a}{c}{b}y")
    }

    /// A password of digits only, long enough never to occur by chance.
    fn digits(&mut self) -> String {
        let s = format!("97{}", self.rng.chars("0123456789", 10));
        self.secrets.push(s.clone());
        s
    }

    /// A value that must come out as it went in.
    fn kept(&mut self) -> String {
        self.n += 1;
        let s = format!("visible{}-{}", self.n, self.rng.alnum(4).to_lowercase());
        self.kept.push(s.clone());
        s
    }

    /// Free text holding a secret in one of the forms the redactor knows by shape or context.
    fn text(&mut self, depth: usize) -> String {
        let nest = depth < 2 && self.in_string < self.json_in_strings;
        let form = self.rng.below(if nest { 40 } else { 39 });
        let c = self.core();
        match form {
            0 => format!("user app logged in with password: {c} from 10.0.0.1"),
            1 => format!("GET /api X-Api-Key: {c} 200"),
            2 => format!("config loaded token={c} retry=3"),
            3 => format!("redis://:{c}@redis.shop:6379/0"),
            4 => format!("dial https://admin:{c}@db.example.com/x failed"),
            5 => format!("Authorization: Bearer {c}"),
            6 => format!("push with ghp_{c}{}", self.rng.alnum(20)),
            7 => format!("github_pat_{c}_{}", self.rng.alnum(22)),
            8 => {
                let k = self.rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
                self.secrets.push(k.clone());
                format!("aws key AKIA{k} in use")
            }
            9 => format!("slack xoxb-{}-{c}", self.rng.chars("0123456789", 12)),
            10 => format!("charge with sk_live_{c}{}", self.rng.alnum(10)),
            11 => format!(
                "https://hooks.slack.com/services/T0{n}/B0{n}/{c}",
                n = self.n
            ),
            12 => {
                let k = self.rng.chars("0123456789abcdef", 32);
                self.secrets.push(k.clone());
                format!("dsn https://{k}@o1.ingest.sentry.io/5")
            }
            13 => format!(
                "jwt eyJ{c}.eyJ{}.sig{}",
                self.rng.alnum(12),
                self.rng.alnum(8)
            ),
            14 => {
                let k = self.rng.chars("abcdefghijklmnopqrstuvwxyz0123456789", 16);
                self.secrets.push(k.clone());
                format!(
                    "kubeadm join 10.0.0.1:6443 --token abcdef.{k} --discovery-token-unsafe-skip-ca-verification"
                )
            }
            15 => format!("exec /app --password {c} --v=2"),
            16 => format!("--db-password={c}"),
            17 => format!("password: {c}\nuser: app"),
            18 => {
                let c2 = self.core();
                format!(
                    "[plugins.registry.configs.\"gcr.io\".auth]\n  auth = \"{c}\"\n  password = \"{c2}\"\n"
                )
            }
            19 => format!(
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE{c}AAAA\n{c}BBBB\n-----END RSA PRIVATE KEY-----\n"
            ),
            20 => format!("-----BEGIN CERTIFICATE-----\nMIIC{c}\n"),
            21 => format!("DB_PASSWORD={c}\nLOG_LEVEL=info\n"),
            22 => format!("token: {c}"),
            23 => {
                let c2 = self.core();
                format!(
                    "-----BEGIN PRIVATE KEY-----{c}-----END PRIVATE KEY----- and -----BEGIN PRIVATE KEY-----{c2}-----END PRIVATE KEY-----"
                )
            }
            24 => format!("curl -H 'Authorization: Basic {c}=='"),
            25 => format!("aws_secret_access_key = {c}\naws_access_key_id = visible"),
            26 => format!(
                "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey={c}==;EndpointSuffix=core.windows.net"
            ),
            27 => format!("dial postgres://app:{c}@db.shop:5432/orders?sslmode=require"),
            28 => format!("mongodb+srv://admin:{c}@c0.example.mongodb.net/test?retryWrites=true"),
            29 => format!(
                "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={c};encrypt=true"
            ),
            30 => format!("jdbc:mysql://db:3306/app?user=root&password={c}&useSSL=false"),
            31 => format!(
                "Dec 07 10:00:00 cp-1 kubelet[812]: I1207 flags.go:64] FLAG: --token=\"{c}\""
            ),
            32 => {
                let t = self.rng.pick(PEM_PRIVATE_KEYS);
                format!("-----BEGIN {t}-----\n{c}AAAA\nBBBB{c}==\n-----END {t}-----\n")
            }
            33 => {
                // The base64 of a docker config.json: the secret is all of it.
                let cfg = format!("{{\"auths\":{{\"r.io\":{{\"auth\":\"{c}\"}}}}}}");
                let b = base64::engine::general_purpose::STANDARD.encode(cfg);
                self.secrets.push(b.clone());
                format!("dockerconfig {b}")
            }
            34 => format!(
                "GET https://shop.blob.core.windows.net/c/b?sv=2021-06-08&sr=b&sig={c}%3D 200"
            ),
            35 => format!("upstream Proxy-Authorization: Basic {c}"),
            36 => {
                let name = self.rng.pick(PASSWORD_NAMES);
                let d = self.digits();
                format!("{name}={d}")
            }
            37 => {
                let d = self.digits();
                format!("password = {d}\nport = 5432")
            }
            38 => format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={c}&X-Amz-Date=1"),
            // A JSON document in a string (last-applied-configuration).
            _ => {
                self.in_string += 1;
                let doc = serde_json::to_string(&self.object(depth + 1)).unwrap();
                self.in_string -= 1;
                doc
            }
        }
    }

    fn object(&mut self, depth: usize) -> Value {
        let mut m = Map::new();
        let fields = 2 + self.rng.below(5);
        for i in 0..fields {
            let pick = self.rng.below(if depth < 3 { 9 } else { 7 });
            let (k, v) = match pick {
                0 => (
                    self.rng.pick(SECRET_KEYS).to_string(),
                    Value::String(self.rich()),
                ),
                1 => (
                    "env".into(),
                    json!([
                        {"name": self.rng.pick(ENV_NAMES), "value": self.rich()},
                        {"name": self.rng.pick(PASSWORD_NAMES), "value": self.digits()},
                        {"name": "TOKEN_TTL", "value": "3600"},
                        {"name": "LOG_LEVEL", "value": self.kept()},
                        {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
                    ]),
                ),
                2 => {
                    let f = self.rng.pick(SECRET_FLAGS);
                    let (c, v2) = (self.core(), self.kept());
                    ("args".into(), json!([f, c, "--v=2", v2]))
                }
                3 | 4 => (
                    self.rng.pick(PLAIN_KEYS).to_string(),
                    Value::String(self.text(depth)),
                ),
                5 => (
                    self.rng.pick(PLAIN_KEYS).to_string(),
                    Value::String(self.kept()),
                ),
                6 => (
                    "count".into(),
                    match self.rng.below(4) {
                        0 => json!(self.rng.below(1000)),
                        1 => json!(true),
                        2 => Value::Null,
                        _ => json!(false),
                    },
                ),
                7 => ("spec".into(), self.object(depth + 1)),
                _ => {
                    let items = (0..1 + self.rng.below(3))
                        .map(|_| self.object(depth + 1))
                        .collect();
                    ("items".into(), Value::Array(items))
                }
            };
            // A second key of the same name gets a prefix, so that its end stays the same.
            let k = if m.contains_key(&k) {
                format!("x{i}_{k}")
            } else {
                k
            };
            m.insert(k, v);
        }
        Value::Object(m)
    }
}

/// Every awk the script must work with, as (name, argv).
fn awks() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("gawk", vec!["gawk"]),
        ("mawk", vec!["mawk"]),
        ("original-awk", vec!["original-awk"]),
        ("busybox", vec!["busybox", "awk"]),
    ]
}

fn sandbox_with(awk: &[&str]) -> Sandbox {
    let sb = Sandbox::new(true);
    let prog = which(awk[0]).unwrap_or_else(|| {
        panic!(
            "{} is needed for this test: bash .ci/install-test-tools installs it",
            awk[0]
        )
    });
    sb.use_awk(&prog, &awk[1..]);
    sb
}

fn redact_file(sb: &Sandbox, file: &Path) -> String {
    let out = sb.run(&["--redact", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

fn assert_no_secret(g: &Gen, text: &str, what: &str) {
    for s in &g.secrets {
        if let Some(at) = text.find(s.as_str()) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(300)
                .map_or(0, |(i, _)| i);
            let to = text[at..]
                .char_indices()
                .nth(100)
                .map_or(text.len(), |(i, _)| at + i);
            panic!("{what}: {s} leaked:\n{}", &text[from..to]);
        }
    }
    for k in &g.kept {
        assert!(text.contains(k.as_str()), "{what}: {k} must survive");
    }
}

/// The same keys, array lengths and value types: a redaction changes strings only.
fn assert_same_shape(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "keys at {at}"
            );
            for (k, v) in x {
                assert_same_shape(v, &y[k], &format!("{at}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "length at {at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same_shape(v, w, &format!("{at}[{i}]"));
            }
        }
        (Value::String(s), Value::String(t)) => {
            // A JSON document held in a string stays one.
            if let Ok(inner) = serde_json::from_str::<Value>(s)
                && inner.is_object()
            {
                let red: Value = serde_json::from_str(t)
                    .unwrap_or_else(|e| panic!("the JSON string at {at} broke: {e}\n{t}"));
                assert_same_shape(&inner, &red, &format!("{at}<json>"));
            }
        }
        _ => assert_eq!(a, b, "at {at}"),
    }
}

const DOCS: usize = 40;
/// JSON documents in strings of JSON documents, in the JSON files generated.
const JSON_IN_STRINGS: usize = 2;

/// The generator's seed: the fixed one, or `KUBETRIAGE_REDACTION_SEED` (a number) to explore
/// other documents; a failure names the seed it was found with.
fn seed(fixed: u64) -> u64 {
    std::env::var("KUBETRIAGE_REDACTION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(fixed)
}

#[test]
fn generated_json_stays_valid_and_keeps_no_secret_under_every_awk() {
    for (name, argv) in awks() {
        let sb = sandbox_with(&argv);
        let seed = seed(0x9e37_79b9_7f4a_7c15);
        let name = &format!("{name} (seed {seed})");
        let mut g = Gen::new(seed, JSON_IN_STRINGS);
        let docs: Vec<Value> = (0..DOCS).map(|_| g.object(0)).collect();
        // As kubectl -o json prints a list (pretty), and as one object a line.
        let pretty = sb.path().join("list.json");
        fs::write(
            &pretty,
            serde_json::to_string_pretty(&json!({"items": docs})).unwrap(),
        )
        .unwrap();
        let out = redact_file(&sb, &pretty);
        let red: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{name}: the redacted list is not JSON: {e}"));
        assert_same_shape(&json!({"items": docs}), &red, "$");
        assert_no_secret(&g, &out, name);

        let lines = sb.path().join("lines.json");
        fs::write(
            &lines,
            docs.iter().map(|d| format!("{d}\n")).collect::<String>(),
        )
        .unwrap();
        let out = redact_file(&sb, &lines);
        let red: Vec<Value> = out
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{name}: a redacted line is not JSON: {e}\n{l}"))
            })
            .collect();
        assert_same_shape(&Value::Array(docs.clone()), &Value::Array(red), "$");
        assert_no_secret(&g, &out, name);
    }
}

#[test]
fn generated_yaml_stays_valid_and_keeps_no_secret_under_every_awk() {
    for (name, argv) in awks() {
        let sb = sandbox_with(&argv);
        let seed = seed(0x243f_6a88_85a3_08d3);
        let name = &format!("{name} (seed {seed})");
        let mut g = Gen::new(seed, 1);
        let docs: Vec<Value> = (0..DOCS).map(|_| g.object(0)).collect();
        let text: String = docs
            .iter()
            .map(|d| format!("---\n{}", serde_yaml::to_string(d).unwrap()))
            .collect();
        let f = sb.path().join("docs.yaml");
        fs::write(&f, &text).unwrap();
        let out = redact_file(&sb, &f);
        let mut red = Vec::new();
        for d in serde_yaml::Deserializer::from_str(&out) {
            let v: serde_yaml::Value = serde::Deserialize::deserialize(d)
                .unwrap_or_else(|e| panic!("{name}: the redacted YAML does not parse: {e}\n{out}"));
            red.push(serde_json::to_value(v).unwrap());
        }
        assert_eq!(red.len(), docs.len(), "{name}");
        for (i, (a, b)) in docs.iter().zip(&red).enumerate() {
            assert_same_shape(a, b, &format!("doc {i}"));
        }
        assert_no_secret(&g, &out, name);
    }
}

// ---------------------------------------------------------------------------------------------
// The same verdicts on a redacted bundle as on the same bundle unredacted.

fn analyze(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kubetriage"))
        .args(["--format", "json", "--fail-on", "never"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "kubetriage {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// checks[].id, status, status reason and findings[].summary: what the user would be told.
fn verdicts(report: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut v: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut f: Vec<String> = c["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["summary"].as_str().unwrap().to_string())
                .collect();
            f.sort();
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                f,
            )
        })
        .collect();
    v.sort();
    v
}

fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_below(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn every_testdata_bundle_gives_the_same_verdicts_redacted() {
    let sb = Sandbox::new(true);
    let mut bundles: Vec<PathBuf> = fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap() != "foreign")
        .collect();
    bundles.sort();
    assert!(bundles.len() > 20, "{bundles:?}");
    let dest = sb.path().join("redacted");
    let mut jobs = Vec::new();
    for b in &bundles {
        let mut files = Vec::new();
        files_below(b, &mut files);
        for f in files {
            let rel = f.strip_prefix(testdata()).unwrap().to_path_buf();
            jobs.push((f, dest.join(rel)));
        }
    }
    // Two workers: the script runs once a file.
    let chunks: Vec<Vec<(PathBuf, PathBuf)>> = {
        let mut c = vec![Vec::new(), Vec::new()];
        for (i, j) in jobs.into_iter().enumerate() {
            c[i % 2].push(j);
        }
        c
    };
    std::thread::scope(|s| {
        for chunk in &chunks {
            let sb = &sb;
            s.spawn(move || {
                for (from, to) in chunk {
                    fs::create_dir_all(to.parent().unwrap()).unwrap();
                    let text = fs::read(from).unwrap();
                    if text.contains(&0) || from.extension().is_some_and(|e| e == "gz") {
                        fs::copy(from, to).unwrap();
                        continue;
                    }
                    let out = sb.run(&["--redact", from.to_str().unwrap()]);
                    assert_eq!(out.code, 0, "{}: {}", from.display(), out.stderr);
                    fs::write(to, out.stdout).unwrap();
                }
            });
        }
    });
    let mut changed = 0;
    for b in &bundles {
        let red = dest.join(b.file_name().unwrap());
        let (a, r) = (verdicts(&analyze(b)), verdicts(&analyze(&red)));
        assert_eq!(
            a,
            r,
            "{}: the redacted bundle must give the same verdicts",
            b.display()
        );
        let mut files = Vec::new();
        files_below(b, &mut files);
        changed += files
            .iter()
            .filter(|f| fs::read(f).ok() != fs::read(red.join(f.strip_prefix(b).unwrap())).ok())
            .count();
    }
    // The test means something only when redaction touched the bundles.
    assert!(changed > 0, "no testdata file was redacted at all");
    eprintln!("{changed} testdata files changed by redaction, verdicts all kept");
}
