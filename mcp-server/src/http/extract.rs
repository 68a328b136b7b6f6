//! The JSON body extractor of the API: axum's `Json`, with every rejection turned into the API's JSON error and
//! a status that says what to fix — 400 for malformed JSON, a missing or unknown field or a wrong type; 413 for
//! a body over the limit; 415 without `Content-Type: application/json`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::{ApiError, AppState, request_id::RequestId};

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let id = req.extensions().get::<RequestId>().cloned();
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let err = rejection_error(&rejection, state.options.max_body_bytes);
                Err(match &id {
                    Some(id) => err.with_request_id(id),
                    None => err,
                })
            }
        }
    }
}

fn rejection_error(rejection: &JsonRejection, max_body_bytes: usize) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::bad_request(format!("invalid request body: {}", e.body_text())),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(format!("malformed JSON: {}", e.body_text())),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected `Content-Type: application/json`",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {max_body_bytes} bytes (--max-body-bytes)"),
        ),
        other => ApiError::new(other.status(), other.body_text()),
    }
}
