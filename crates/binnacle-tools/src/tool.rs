//! The typed tool trait and its type-erased form.

use crate::catalog::{Annotations, ToolSpec, Toolset};
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::{Reply, ToolOutput};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

/// A tool with typed input and output. Keep `run` a thin call into plain functions: the logic must be
/// testable without any protocol.
pub trait Tool: Send + Sync + 'static {
    /// Arguments (derive `Deserialize` with `deny_unknown_fields`, and `JsonSchema`; doc comments on fields
    /// become the descriptions the model sees).
    type Input: DeserializeOwned + JsonSchema + Send;
    /// Structured output.
    type Output: Serialize + JsonSchema + Send;
    /// Unique name, `noun_verb` style.
    const NAME: &'static str;
    /// Human title.
    const TITLE: &'static str;
    /// What the tool does, for the model.
    const DESCRIPTION: &'static str;
    /// Its toolset.
    const TOOLSET: Toolset;
    /// Tags.
    const TAGS: &'static [&'static str];
    /// MCP annotations.
    const ANNOTATIONS: Annotations;

    /// Checks arguments beyond their types (names, selectors, images, durations). Runs before `run`.
    fn validate(_input: &Self::Input) -> Result<(), ToolError> {
        Ok(())
    }

    /// Does the work.
    fn run(
        &self,
        ctx: &ToolContext,
        input: Self::Input,
    ) -> impl Future<Output = Result<Reply<Self::Output>, ToolError>> + Send;
}

/// A tool with its types erased, as the catalog, the MCP adapter and the engine hold it.
pub trait DynTool: Send + Sync {
    /// The tool's specification.
    fn spec(&self) -> &ToolSpec;
    /// Parses and validates `args`, runs the tool and applies the output contract.
    fn call<'a>(&'a self, ctx: &'a ToolContext, args: Value) -> BoxFuture<'a, Result<ToolOutput, ToolError>>;
}

/// Arguments every tool takes besides its own: the kubeconfig context and the output budget.
pub const COMMON_ARGS: [&str; 2] = ["context", "budgetTokens"];

/// Adds the common arguments to an input schema.
/// Read-only tools also advertise `budgetTokens` (writes answer briefly and keep the default budget; the
/// argument is accepted by every tool). Descriptions are short: they are repeated in every tool.
fn with_common_args(mut schema: Value, read_only: bool) -> Value {
    if let Some(props) = schema.as_object_mut().map(|m| m.entry("properties").or_insert_with(|| serde_json::json!({})))
        && let Some(props) = props.as_object_mut()
    {
        props.insert("context".into(), serde_json::json!({"type": "string", "description": "kubeconfig context"}));
        if read_only {
            props.insert(
                "budgetTokens".into(),
                serde_json::json!({"type": "integer", "description": "output tokens, default 8000"}),
            );
        }
    }
    schema
}

/// Takes the common arguments out of the argument object.
pub fn split_common_args(args: &mut Value) -> Result<(Option<String>, Option<usize>), ToolError> {
    let Some(map) = args.as_object_mut() else { return Ok((None, None)) };
    let context = match map.remove("context") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 253 && !s.chars().any(char::is_control) => Some(s),
        Some(other) => {
            return Err(ToolError::invalid(format!(
                "context must be a non-empty string naming a kubeconfig context, got {other}"
            )));
        }
    };
    let budget = match map.remove("budgetTokens") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if (256..=100_000).contains(&n) => Some(n as usize),
            _ => {
                return Err(ToolError::invalid(format!("budgetTokens must be an integer from 256 to 100000, got {v}")));
            }
        },
    };
    Ok((context, budget))
}

/// The JSON Schema of `T`: of what deserialises into it (inputs), or with `serialize`, of what it serialises
/// to (outputs: fields skipped when empty are then optional, as clients validating `structuredContent` need).
fn schema_of<T: JsonSchema>(serialize: bool) -> Value {
    let settings = schemars::generate::SchemaSettings::default();
    let settings = if serialize { settings.for_serialize() } else { settings };
    let mut schema = serde_json::to_value(settings.into_generator().into_root_schema_for::<T>())
        .unwrap_or_else(|_| serde_json::json!({"type": "object"}));
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
        map.remove("title");
        if !map.contains_key("type") && !map.contains_key("$ref") {
            map.insert("type".into(), Value::String("object".into()));
        }
    }
    schema
}

struct Erased<T: Tool> {
    tool: T,
    spec: ToolSpec,
}

/// Erases a tool's types for the catalog.
pub fn erase<T: Tool>(tool: T) -> Arc<dyn DynTool> {
    let spec = ToolSpec {
        name: T::NAME,
        title: T::TITLE,
        description: T::DESCRIPTION,
        toolset: T::TOOLSET,
        tags: T::TAGS,
        annotations: T::ANNOTATIONS,
        input_schema: with_common_args(schema_of::<T::Input>(false), T::ANNOTATIONS.read_only),
        output_schema: schema_of::<T::Output>(true),
    };
    Arc::new(Erased { tool, spec })
}

/// Parses tool arguments: a missing or null argument object means "no arguments".
pub fn parse_args<I: DeserializeOwned>(args: Value) -> Result<I, ToolError> {
    let args = if args.is_null() { Value::Object(Default::default()) } else { args };
    if !args.is_object() {
        return Err(ToolError::invalid("arguments must be a JSON object"));
    }
    serde_json::from_value(args).map_err(|e| ToolError::invalid(e.to_string()))
}

impl<T: Tool> DynTool for Erased<T> {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn call<'a>(&'a self, ctx: &'a ToolContext, args: Value) -> BoxFuture<'a, Result<ToolOutput, ToolError>> {
        Box::pin(async move {
            let mut args = if args.is_null() { Value::Object(Default::default()) } else { args };
            let (context, budget) = split_common_args(&mut args)?;
            let input: T::Input = parse_args(args)?;
            T::validate(&input)?;
            let ctx = ctx.for_call(context, budget);
            let reply = self.tool.run(&ctx, input).await?;
            reply.into_output(ctx.budget_tokens())
        })
    }
}
