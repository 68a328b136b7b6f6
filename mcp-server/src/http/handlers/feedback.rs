//! `POST /v1/feedback`: report a text as an attack or as benign. Body: `{"text": "...", "label": "attack" |
//! "benign", "category"?: "prompt_injection" | ..., "note"?: "..."}`. Attacks become learned patterns once the
//! learning gate finds they flag no ordinary text; benign reports become allowlist entries. Answer: the report
//! (`status`: active, allowlisted, refused or duplicate) plus `request_id`; 501 when the config runs no
//! researcher.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

use super::check;
use crate::http::extract::ApiJson;
use crate::http::request_id::RequestId;
use crate::http::{ApiError, AppState};
use crate::runtime::{Category, Feedback, FeedbackLabel};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    pub text: String,
    pub label: FeedbackLabel,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn handle(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<Response, ApiError> {
    let limits = &state.options.fields;
    check(limits.text("text", &body.text), &id)?;
    check(limits.note(body.note.as_deref()), &id)?;
    if body.text.trim().is_empty() {
        return Err(ApiError::bad_request("text must not be empty").with_request_id(&id));
    }
    let feedback = Feedback {
        text: body.text,
        label: body.label,
        category: body.category,
        reporter: "http".into(),
        note: body.note,
    };
    match state.swarm.feedback(feedback).await {
        Ok(report) => {
            let mut v = serde_json::to_value(&report).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut v {
                map.insert("request_id".into(), Value::String(id.as_str().to_string()));
            }
            Ok(Json(v).into_response())
        }
        Err(e) => Err(ApiError::from_swarm(&e).with_request_id(&id)),
    }
}
