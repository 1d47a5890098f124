//! Parsing list pages without building what the analyzers never read: `metadata.managedFields` (often the
//! largest part of an object) is skipped while parsing, and the values of ConfigMaps and Secrets are never
//! materialized (their keys are kept, with `null` values).

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// A page's items, with their kind and apiVersion set. `key` is the snapshot key (`configmaps` and `secrets`
/// lose their values).
pub(crate) fn parse_items(text: &str, key: &str, kind: &str, api_version: &str) -> Result<Vec<Value>, kube::Error> {
    let seed = PageSeed { strip_data: matches!(key, "configmaps" | "secrets") };
    let mut de = serde_json::Deserializer::from_str(text);
    let mut items = seed.deserialize(&mut de).map_err(kube::Error::SerdeError)?;
    de.end().map_err(kube::Error::SerdeError)?;
    for item in &mut items {
        if let Some(obj) = item.as_object_mut() {
            obj.insert("kind".into(), Value::String(kind.into()));
            obj.insert("apiVersion".into(), Value::String(api_version.into()));
            if let Some(ann) =
                obj.get_mut("metadata").and_then(|m| m.get_mut("annotations")).and_then(Value::as_object_mut)
            {
                ann.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        }
    }
    Ok(items)
}

/// `{"items": [...], ...}`: only the items are kept.
struct PageSeed {
    strip_data: bool,
}

impl<'de> DeserializeSeed<'de> for PageSeed {
    type Value = Vec<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Value>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed {
    type Value = Vec<Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes list")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Value>, A::Error> {
        let mut items = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                items = map.next_value_seed(ItemsSeed { strip_data: self.strip_data })?.unwrap_or_default();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(items)
    }
}

/// `[item, ...]` or `null`.
struct ItemsSeed {
    strip_data: bool,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed {
    type Value = Option<Vec<Value>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Vec<Value>>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed {
    type Value = Option<Vec<Value>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(ObjectSeed { strip_data: self.strip_data, metadata: false })? {
            out.push(item);
        }
        Ok(Some(out))
    }
}

/// An object (or its `metadata`), skipping `managedFields` and, for ConfigMaps and Secrets, the values of
/// `data`, `binaryData` and `stringData`.
struct ObjectSeed {
    strip_data: bool,
    /// Whether this map is an object's `metadata`.
    metadata: bool,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.metadata && key == "managedFields" {
                map.next_value::<IgnoredAny>()?;
            } else if !self.metadata && key == "metadata" {
                let meta = map.next_value_seed(ObjectSeed { strip_data: false, metadata: true })?;
                out.insert(key, meta);
            } else if self.strip_data && !self.metadata && matches!(key.as_str(), "data" | "binaryData" | "stringData")
            {
                let keys = map.next_value::<Option<KeysOnly>>()?;
                out.insert(key, keys.map_or(Value::Null, |k| k.0));
            } else {
                out.insert(key, map.next_value::<Value>()?);
            }
        }
        Ok(Value::Object(out))
    }
}

/// A map whose values are skipped: `{key: null, ...}`.
struct KeysOnly(Value);

impl<'de> Deserialize<'de> for KeysOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeysOnly;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeysOnly, A::Error> {
                let mut out = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    out.insert(key, Value::Null);
                }
                Ok(KeysOnly(Value::Object(out)))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::parse_items;
    use serde_json::json;

    #[test]
    fn drops_managed_fields_and_config_values() {
        let page = json!({"kind": "ConfigMapList", "metadata": {"continue": "x"}, "items": [
            {"metadata": {"name": "a", "managedFields": [{"manager": "m"}],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"k\":\"secret\"}}", "keep": "me"}},
             "data": {"k": "secret"}, "binaryData": null}]});
        let items = parse_items(&page.to_string(), "configmaps", "ConfigMap", "v1").unwrap();
        assert_eq!(
            items,
            vec![
                json!({"metadata": {"name": "a", "annotations": {"keep": "me"}}, "data": {"k": null}, "binaryData": null,
                "kind": "ConfigMap", "apiVersion": "v1"})
            ]
        );
        let pods = json!({"items": [{"metadata": {"name": "p", "managedFields": []}, "spec": {"data": {"x": 1}}}]});
        let items = parse_items(&pods.to_string(), "pods", "Pod", "v1").unwrap();
        assert_eq!(items[0]["spec"]["data"]["x"], 1, "only ConfigMaps and Secrets lose values");
        assert!(items[0]["metadata"].get("managedFields").is_none());
        assert_eq!(parse_items(r#"{"items": null}"#, "pods", "Pod", "v1").unwrap(), Vec::<serde_json::Value>::new());
        assert!(parse_items("{\"items\": [1", "pods", "Pod", "v1").is_err());
    }
}
