//! `kubeadm/extra-args-comma`: kubeadm's `--<component>-extra-args` flags are maps split on
//! commas, so a value that itself holds commas is refused (`malformed pair, expect
//! string=string`) or, written as repeated keys, silently cut to its last part.

use super::server_version;
use crate::checks::{Ctx, Draft, Outcome, line_evidence};
use crate::facts::Unavailable;
use crate::model::Evidence;

/// What is wrong with one flag value.
#[derive(Debug, PartialEq, Eq)]
enum Problem {
    /// Pieces without `=`: kubeadm refuses the command.
    Malformed(Vec<String>),
    /// A key given several times: only its last value is kept.
    Repeated(Vec<String>),
}

/// A flag value read as kubeadm reads it, and the key → values it was meant to carry.
fn analyse(value: &str) -> (Option<Problem>, Vec<(String, Vec<String>)>) {
    let mut meant: Vec<(String, Vec<String>)> = Vec::new();
    let mut dangling = Vec::new();
    let mut repeated = Vec::new();
    for piece in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match piece.split_once('=') {
            Some((k, v)) => match meant.iter_mut().find(|(key, _)| key == k) {
                Some((_, vals)) => {
                    if !repeated.contains(&k.to_string()) {
                        repeated.push(k.to_string());
                    }
                    vals.push(v.to_string());
                }
                None => meant.push((k.to_string(), vec![v.to_string()])),
            },
            None => {
                dangling.push(piece.to_string());
                // The piece belongs to the value before it.
                if let Some((_, vals)) = meant.last_mut() {
                    vals.push(piece.to_string());
                }
            }
        }
    }
    let problem = if !dangling.is_empty() {
        Some(Problem::Malformed(dangling))
    } else if !repeated.is_empty() {
        Some(Problem::Repeated(repeated))
    } else {
        None
    };
    (problem, meant)
}

static FLAG: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r#"(--(?:apiserver|controller-manager|scheduler)-extra-args)(?:=|\s+)("[^"]*"|'[^']*'|[^\s"']+)"#,
    )
    .expect("a fixed pattern")
});

/// Every `--<component>-extra-args` value on a command line.
fn flags_in(line: &str) -> Vec<(String, String)> {
    FLAG.captures_iter(line)
        .map(|c| (c[1].to_string(), c[2].trim_matches(['"', '\'']).to_string()))
        .collect()
}

fn section(flag: &str) -> &'static str {
    if flag.contains("controller-manager") {
        "controllerManager"
    } else if flag.contains("scheduler") {
        "scheduler"
    } else {
        "apiServer"
    }
}

pub fn extra_args_comma(ctx: &Ctx) -> Result<Outcome, Unavailable> {
    // (flag, value) → evidence and whether kubeadm's error was seen.
    let mut groups: Vec<(String, String, Vec<Evidence>, bool)> = Vec::new();
    let mut add = |flag: String, value: String, ev: Evidence, error: bool| match groups
        .iter_mut()
        .find(|g| g.0 == flag && g.1 == value)
    {
        Some(g) => {
            g.2.push(ev);
            g.3 |= error;
        }
        None => groups.push((flag, value, vec![ev], error)),
    };
    for m in ctx.matches_of("malformed") {
        let flag = m.captures.get("flag").cloned().unwrap_or_default();
        // The same error about another map flag (the kubelet's --node-labels, say) is not
        // about kubeadm's extra args.
        if !flag.is_empty() && !flag.ends_with("-extra-args") {
            continue;
        }
        let value = m.captures.get("value").cloned().unwrap_or_default();
        add(flag, value, line_evidence(m), true);
    }
    for m in ctx.matches_of("command") {
        for (flag, value) in flags_in(&m.text) {
            if analyse(&value).0.is_some() {
                add(flag, value, line_evidence(m), false);
            }
        }
    }
    if groups.is_empty() {
        // kubeadm's command lines and errors are only in pasted output: without any, the
        // journals and logs other sources hold cannot show this error.
        if ctx.scanned("command") == 0 {
            return Draft::missing("default").not_evaluated();
        }
        return Ok(Outcome::Pass);
    }
    let v1beta4 = server_version(ctx).map(|(v, _)| v.major_minor() >= (1, 31));
    let drafts = groups
        .into_iter()
        .map(|(flag, value, evidence, error)| {
            let (problem, meant) = analyse(&value);
            let mut d = Draft::new()
                .var("flag", flag.as_str())
                .var("value", value.as_str());
            d.evidence = evidence;
            d = match (&problem, error) {
                (Some(Problem::Repeated(keys)), false) => {
                    d.var("keys", keys.join(", ")).variant("repeated")
                }
                (Some(Problem::Malformed(p)), _) => {
                    d.var("pieces", p.join(", ")).variant("malformed")
                }
                _ if flag.is_empty() => d.variant("flag-unknown"),
                _ => d,
            };
            d.vars.insert(
                "config".into(),
                config_example(&flag, &meant, v1beta4, &ctx.phrase("v1beta4-lists", &[])),
            );
            d
        })
        .collect();
    Ok(Outcome::Findings(drafts))
}

/// The kubeadm configuration that carries the values the flag meant to pass.
/// `list_note` says, between the two examples, that v1beta4 takes a list.
fn config_example(
    flag: &str,
    meant: &[(String, Vec<String>)],
    v1beta4: Option<bool>,
    list_note: &str,
) -> String {
    let section = section(flag);
    let pairs: Vec<(String, String)> = if meant.is_empty() {
        vec![(
            "enable-admission-plugins".into(),
            "NodeRestriction,LimitRanger".into(),
        )]
    } else {
        meant
            .iter()
            .map(|(k, v)| (k.clone(), v.join(",")))
            .collect()
    };
    let beta3: String = pairs
        .iter()
        .map(|(k, v)| format!("\n        {k}: \"{v}\""))
        .collect();
    let beta4: String = pairs
        .iter()
        .map(|(k, v)| format!("\n      - name: {k}\n        value: \"{v}\""))
        .collect();
    let three = format!(
        "    apiVersion: kubeadm.k8s.io/v1beta3\n    kind: ClusterConfiguration\n    {section}:\n      extraArgs:{beta3}"
    );
    let four = format!(
        "    apiVersion: kubeadm.k8s.io/v1beta4\n    kind: ClusterConfiguration\n    {section}:\n      extraArgs:{beta4}"
    );
    match v1beta4 {
        Some(true) => four,
        Some(false) => three,
        None => {
            format!("{three}\n  {list_note}\n{four}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_kubeadm_reads_them() {
        let (p, meant) = analyse("enable-admission-plugins=LimitRanger,NamespaceExists");
        assert_eq!(p, Some(Problem::Malformed(vec!["NamespaceExists".into()])));
        assert_eq!(meant[0].1, vec!["LimitRanger", "NamespaceExists"]);
        let (p, meant) = analyse(
            "enable-admission-plugins=LimitRanger,enable-admission-plugins=NamespaceExists",
        );
        assert_eq!(
            p,
            Some(Problem::Repeated(vec!["enable-admission-plugins".into()]))
        );
        assert_eq!(meant.len(), 1);
        assert_eq!(analyse("audit-log-maxage=30,profiling=false").0, None);
        let f = flags_in(
            "$ sudo kubeadm init --apiserver-extra-args \"a=b,c\" --scheduler-extra-args=x=1",
        );
        assert_eq!(
            f,
            vec![
                ("--apiserver-extra-args".to_string(), "a=b,c".to_string()),
                ("--scheduler-extra-args".to_string(), "x=1".to_string())
            ]
        );
    }
}
