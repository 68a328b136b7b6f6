//! Every error the API answers is JSON: `{"error": "<what went wrong and how to fix it>", "status": 400,
//! "request_id": "..."}`, with the status code that says whose fault it was.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::request_id::RequestId;
use crate::SwarmError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub request_id: Option<String>,
    /// Seconds a client should wait before retrying (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            request_id: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn with_request_id(mut self, id: &RequestId) -> ApiError {
        self.request_id = Some(id.as_str().to_string());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// What a swarm failure means to a client: bad input is theirs (400); a verdict that could not be audited is
    /// not answered at all (503: retry elsewhere or later); a role the config does not run is not offered (501).
    pub fn from_swarm(e: &SwarmError) -> ApiError {
        match e {
            SwarmError::Detector(d) => ApiError::bad_request(d.to_string()),
            SwarmError::Audit(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()).with_retry_after(1),
            SwarmError::RoleDisabled(_) => ApiError::new(StatusCode::NOT_IMPLEMENTED, e.to_string()),
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": self.message,
            "status": self.status.as_u16(),
            "request_id": self.request_id,
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"aimds\""),
            );
        }
        resp
    }
}
