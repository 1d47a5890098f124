//! Scenarios: the objects a simulated cluster starts with. Every cluster gets the system basics (the four
//! standard namespaces, nodes, the `kubernetes` and `kube-dns` Services, a default StorageClass); a
//! scenario adds workloads: `empty` nothing more, `demo` several namespaces of healthy apps and
//! realistic faults, or a user's multi-document YAML file.

mod base;
mod helm;

use crate::cluster::Cluster;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

pub use helm::helm_release_secret;

/// The demo scenario's workloads, as YAML.
pub const DEMO_YAML: &str = include_str!("demo.yaml");

/// What a cluster starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// Only the system basics.
    Empty,
    /// The demo: healthy apps and planted faults.
    Demo,
    /// A multi-document YAML file of objects, loaded after the system basics.
    File(PathBuf),
}

impl std::str::FromStr for Scenario {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "empty" => Scenario::Empty,
            "demo" => Scenario::Demo,
            path => Scenario::File(PathBuf::from(path)),
        })
    }
}

/// A scenario that cannot be loaded: nothing is served.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A document is not valid YAML or not a Kubernetes object.
    #[error("scenario {source_name}, document {document}: {reason}")]
    Document {
        /// File name or `demo`.
        source_name: String,
        /// 1-based document number.
        document: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Parses multi-document YAML into objects (a `List` expands to its items). Empty documents are skipped;
/// the document number in errors counts every document.
pub fn parse_documents(source_name: &str, yaml: &str) -> Result<Vec<(usize, Value)>, ScenarioError> {
    let mut out = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(yaml).enumerate() {
        let document = i + 1;
        let err = |reason: String| ScenarioError::Document { source_name: source_name.to_string(), document, reason };
        let value = Value::deserialize(doc).map_err(|e| err(format!("not valid YAML: {e}")))?;
        match value {
            Value::Null => continue,
            Value::Object(ref map) => {
                if map.get("kind").and_then(Value::as_str) == Some("List") {
                    for item in map.get("items").and_then(Value::as_array).cloned().unwrap_or_default() {
                        out.push((document, item));
                    }
                } else {
                    out.push((document, value));
                }
            }
            _ => {
                return Err(err(
                    "a document must be a Kubernetes object (a YAML mapping with apiVersion and kind)".into()
                ));
            }
        }
    }
    Ok(out)
}

/// Creates objects in order (keeping any status they carry), creating missing namespaces on the way.
pub fn create_objects(cluster: &Cluster, source_name: &str, objects: Vec<(usize, Value)>) -> Result<(), ScenarioError> {
    for (document, obj) in objects {
        let err = |reason: String| ScenarioError::Document { source_name: source_name.to_string(), document, reason };
        let api_version =
            obj.get("apiVersion").and_then(Value::as_str).ok_or_else(|| err("apiVersion is missing".into()))?;
        let kind = obj.get("kind").and_then(Value::as_str).ok_or_else(|| err("kind is missing".into()))?;
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let rt = cluster
            .registry()
            .all()
            .into_iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .ok_or_else(|| err(format!("no resource of kind {kind} in {api_version} is served (is its CustomResourceDefinition earlier in the file?)")))?;
        let namespace = if rt.namespaced {
            let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string();
            base::ensure_namespace(cluster, &ns).map_err(|e| err(e.message))?;
            ns
        } else {
            String::new()
        };
        cluster.create_checked(&rt, &namespace, obj, "binnacle-scenario").map_err(|e| err(e.message))?;
    }
    Ok(())
}

/// Loads the system basics and a scenario into an empty cluster.
pub fn load(cluster: &Cluster, scenario: &Scenario) -> Result<(), ScenarioError> {
    let nodes = match scenario {
        Scenario::Demo => 3,
        _ => 2,
    };
    base::load_system(cluster, nodes).map_err(|e| ScenarioError::Document {
        source_name: "system".into(),
        document: 0,
        reason: e.message,
    })?;
    match scenario {
        Scenario::Empty => Ok(()),
        Scenario::Demo => {
            create_objects(cluster, "demo", parse_documents("demo", DEMO_YAML)?)?;
            let demo_err = |e: crate::error::ApiError| ScenarioError::Document {
                source_name: "demo".into(),
                document: 0,
                reason: e.message,
            };
            // Drained for a kubeadm upgrade and never uncordoned (demo.yaml's header lists it).
            base::cordon(cluster, "sim-control-plane").map_err(demo_err)?;
            helm::load_demo_release(cluster).map_err(demo_err)
        }
        Scenario::File(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.clone(), source })?;
            let name = path.display().to_string();
            create_objects(cluster, &name, parse_documents(&name, &text)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use std::sync::Arc;

    #[test]
    fn demo_loads() {
        let cluster = Cluster::new("t", Arc::new(Clock::new(1.0)), 1);
        load(&cluster, &Scenario::Demo).expect("demo loads");
        assert!(cluster.store().len() > 20);
    }

    #[test]
    fn bad_documents_are_reported_by_number() {
        let cluster = Cluster::new("t", Arc::new(Clock::new(1.0)), 1);
        load(&cluster, &Scenario::Empty).expect("empty loads");
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n";
        let err =
            create_objects(&cluster, "f.yaml", parse_documents("f.yaml", yaml).expect("parses")).expect_err("invalid");
        assert!(err.to_string().contains("document 2"), "{err}");
        let err = parse_documents("f.yaml", "a: [1,\n").expect_err("bad yaml");
        assert!(err.to_string().contains("document 1"));
        let err = create_objects(
            &cluster,
            "f.yaml",
            parse_documents("f.yaml", "apiVersion: nope/v1\nkind: Thing\nmetadata: {name: x}\n").expect("parses"),
        )
        .expect_err("unknown");
        assert!(err.to_string().contains("no resource of kind Thing"));
    }
}
