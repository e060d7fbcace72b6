//! The one place that parses YAML. Everything else sees `serde_json::Value`, so checks have a
//! single data model whether a bundle file was JSON or YAML.

use serde::Deserialize;
use serde_json::Value;

/// Parses every document of a (possibly multi-document) YAML text.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        let v = serde_yaml::Value::deserialize(de).map_err(|e| e.to_string())?;
        if v.is_null() {
            continue;
        }
        docs.push(to_json(v)?);
    }
    Ok(docs)
}

/// Parses a YAML text into a typed value (used for the analyzer spec files).
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

fn to_json(v: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => serde_yaml::to_string(&other)
                        .map_err(|e| e.to_string())?
                        .trim()
                        .to_string(),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => to_json(t.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_becomes_json_values() {
        let docs = parse_documents(
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nnodeRegistration:\n  taints: []\n---\nkind: ClusterConfiguration\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["nodeRegistration"]["taints"], serde_json::json!([]));
        assert_eq!(docs[1]["kind"], "ClusterConfiguration");
    }

    #[test]
    fn broken_yaml_is_an_error_not_a_panic() {
        assert!(parse_documents("a: [unclosed").is_err());
    }
}
