//! Bearer-token auth. When a token is configured, `/v1/*` (and `/metrics` unless it is made public) answer 401
//! without `Authorization: Bearer <token>`. The comparison takes the same time wherever the first differing
//! byte is, so the token cannot be guessed byte by byte from response times.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, request_id::RequestId};

pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(expected) = state.options.token.as_deref() else {
        return next.run(req).await;
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let ok = presented.is_some_and(|p| constant_time_eq(expected.as_bytes(), p.as_bytes()));
    if ok {
        return next.run(req).await;
    }
    let message = if presented.is_some() {
        "invalid bearer token"
    } else {
        "missing bearer token: send `Authorization: Bearer <token>`"
    };
    let mut err = ApiError::new(StatusCode::UNAUTHORIZED, message);
    if let Some(id) = req.extensions().get::<RequestId>() {
        err = err.with_request_id(id);
    }
    err.into_response()
}

/// Equality whose time depends only on the length of `expected` (the secret's length is not hidden).
pub fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    let mut diff = u8::from(expected.len() != presented.len());
    for (i, &e) in expected.iter().enumerate() {
        let p = presented.get(i).copied().unwrap_or(!e);
        diff |= std::hint::black_box(e ^ p);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_whole_tokens() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret", b"s3cres"));
        assert!(!constant_time_eq(b"s3cret", b"s3cret!"));
        assert!(!constant_time_eq(b"s3cret", b"s3c"));
        assert!(!constant_time_eq(b"s3cret", b""));
    }
}
