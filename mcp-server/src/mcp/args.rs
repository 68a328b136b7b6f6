//! The tools' argument extractor: rmcp's `Parameters`, with errors that name the argument.
//!
//! rmcp deserializes tool arguments with `serde_json::from_value`, whose type errors say what was wrong but not
//! where (`invalid type: string "ls", expected a map`). A model correcting its call needs the field, so this
//! wrapper deserializes through `serde_path_to_error` and puts the path first (`tool_input: invalid type: …`).
//! It keeps rmcp's message prefix, so the router still answers it as a tool execution error (`isError: true`)
//! rather than a protocol error; and it is named `Parameters` because that is how `#[tool]` finds the type whose
//! JSON schema becomes the tool's input schema.

use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use serde::de::DeserializeOwned;

/// The deserialized arguments of a tool call.
#[derive(Debug, Clone)]
pub struct Parameters<P>(pub P);

impl<P: schemars::JsonSchema> schemars::JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

/// Deserializes `value`, naming the argument at fault in the error.
pub fn from_arguments<P: DeserializeOwned>(value: serde_json::Value) -> Result<P, ErrorData> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." || path.is_empty() {
            format!("failed to deserialize parameters: {inner}")
        } else {
            format!("failed to deserialize parameters: {path}: {inner}")
        };
        ErrorData::invalid_params(message, None)
    })
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<S>) -> Result<Self, ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        from_arguments(serde_json::Value::Object(arguments)).map(Parameters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Call {
        tool_name: String,
        tool_input: serde_json::Map<String, serde_json::Value>,
        k: Option<u32>,
    }

    #[test]
    fn errors_name_the_argument() {
        let err = from_arguments::<Call>(serde_json::json!({"tool_name": "Bash", "tool_input": "ls"})).unwrap_err();
        assert!(
            err.message
                .starts_with("failed to deserialize parameters: tool_input: invalid type"),
            "{}",
            err.message
        );
        let err = from_arguments::<Call>(serde_json::json!({"tool_name": "x", "tool_input": {}, "k": -1})).unwrap_err();
        assert!(err.message.contains("k: invalid value"), "{}", err.message);
        let err = from_arguments::<Call>(serde_json::json!({"tool_input": {}})).unwrap_err();
        assert!(err.message.contains("missing field `tool_name`"), "{}", err.message);
        let err =
            from_arguments::<Call>(serde_json::json!({"tool_name": "x", "tool_input": {}, "extra": 1})).unwrap_err();
        assert!(err.message.contains("unknown field `extra`"), "{}", err.message);
        assert!(from_arguments::<Call>(serde_json::json!({"tool_name": "x", "tool_input": {}})).is_ok());
    }
}
