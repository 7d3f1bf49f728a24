//! Request-body extraction that fails with [`ApiError`] JSON instead of axum's plain text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; a malformed, oversized or mistyped one is a 4xx JSON error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Maps axum's JSON rejection to the error a client can act on.
fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(error) => ApiError::Unprocessable(error.body_text()),
        JsonRejection::JsonSyntaxError(error) => ApiError::BadRequest(error.body_text()),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "the body must be JSON with Content-Type: application/json".into(),
        ),
        JsonRejection::BytesRejection(error) if error.status().as_u16() == 413 => {
            ApiError::PayloadTooLarge(crate::DEFAULT_BODY_LIMIT)
        }
        other => ApiError::BadRequest(other.body_text()),
    }
}
