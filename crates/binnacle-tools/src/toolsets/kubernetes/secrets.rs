//! `secret_reveal`: the only tool that returns Secret values, and only the keys asked for by name.
//! Annotated destructive so that it always goes through approval.

use super::common::{Raw, compact_schema, kinds};
use crate::catalog::{Annotations, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::Reply;
use crate::tool::Tool;
use crate::validate;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Arguments of `secret_reveal`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(transform = compact_schema)]
pub struct SecretRevealInput {
    pub namespace: String,
    pub name: String,
    /// 1-20 keys
    pub keys: Vec<String>,
}

/// What `secret_reveal` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SecretRevealOutput {
    /// namespace/name.
    pub secret: String,
    /// Key → value (UTF-8 text, or `base64:` + data for binary values).
    pub values: BTreeMap<String, String>,
}

/// `secret_reveal`.
pub struct SecretReveal;

impl Tool for SecretReveal {
    type Input = SecretRevealInput;
    type Output = SecretRevealOutput;
    const NAME: &'static str = "secret_reveal";
    const TITLE: &'static str = "Reveal secret values";
    const DESCRIPTION: &'static str = "Return decoded values of named keys of one Secret; other tools redact them.";
    const TOOLSET: Toolset = Toolset::KubernetesAdmin;
    const TAGS: &'static [&'static str] = &["secrets", "sensitive"];
    const ANNOTATIONS: Annotations = Annotations::DESTRUCTIVE;

    fn validate(input: &SecretRevealInput) -> Result<(), ToolError> {
        validate::namespace(&input.namespace)?;
        validate::object_name(&input.name)?;
        if input.keys.is_empty() || input.keys.len() > 20 {
            return Err(ToolError::invalid("keys must name 1 to 20 keys of the Secret"));
        }
        for k in &input.keys {
            let ok = !k.is_empty()
                && k.len() <= 253
                && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return Err(ToolError::invalid(format!(
                    "key {k:?} is not a valid Secret key (letters, digits, '-', '_', '.')"
                )));
            }
        }
        Ok(())
    }

    async fn run(&self, ctx: &ToolContext, input: SecretRevealInput) -> Result<Reply<SecretRevealOutput>, ToolError> {
        let client = ctx.kube().await?;
        let secret = Raw::new(&client, &kinds::secrets(), Some(&input.namespace)).get(&input.name).await?;
        let data = secret.get("data").and_then(Value::as_object);
        // Stored Secrets keep everything in `data`; `stringData` is read too, for servers that keep it.
        let string_data = secret.get("stringData").and_then(Value::as_object);
        let mut available: Vec<&String> = data.map(|d| d.keys().collect()).unwrap_or_default();
        available.extend(string_data.map(|d| d.keys().collect::<Vec<_>>()).unwrap_or_default());
        available.sort();
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for key in &input.keys {
            match data.and_then(|d| d.get(key)).and_then(Value::as_str) {
                Some(encoded) => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .map_err(|e| ToolError::Internal(format!("key {key} is not valid base64: {e}")))?;
                    let text = match String::from_utf8(bytes) {
                        Ok(t) => t,
                        Err(_) => format!("base64:{encoded}"),
                    };
                    values.insert(key.clone(), text);
                }
                None => match string_data.and_then(|d| d.get(key)).and_then(Value::as_str) {
                    Some(text) => {
                        values.insert(key.clone(), text.to_string());
                    }
                    None => missing.push(key.clone()),
                },
            }
        }
        let secret_ref = format!("{}/{}", input.namespace, input.name);
        if !missing.is_empty() {
            return Err(ToolError::NotFound(format!(
                "Secret {secret_ref} has no key(s) {}; its keys: {}",
                missing.join(", "),
                available.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        let summary = format!(
            "Revealed {} key(s) of Secret {secret_ref}: {}. Handle the values as credentials.",
            values.len(),
            values.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        Ok(Reply::new(summary, SecretRevealOutput { secret: secret_ref, values }))
    }
}
