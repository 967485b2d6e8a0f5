//! One error type for the whole API, mapped once to RFC 9457 `application/problem+json`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One problem with one input field (or one cell of an uploaded file).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// Where: a JSON path (`person.full_name`), a query parameter, a header or a CSV column.
    #[schema(example = "name")]
    pub field: String,
    /// Stable, machine-readable reason.
    #[schema(example = "too_long")]
    pub code: String,
    #[schema(example = "must be at most 255 characters")]
    pub message: String,
    /// Line of the uploaded file (the header is line 1), for file imports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.to_string(), message: message.into(), row: None }
    }

    pub fn at_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }
}

/// An RFC 9457 problem document, as every error response carries it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation_failed", "title": "Unprocessable Content", "status": 422,
    "detail": "the request body is not valid", "code": "validation_failed",
    "errors": [{"field": "name", "code": "required", "message": "must not be empty"}]
}))]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable code; clients branch on this, not on `detail`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With 412: the resource as it is now, so a client can merge and retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Value>,
    /// With 409 on a lifecycle action: the actions the resource allows in its present state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
    /// From `POST /oauth/token`: the RFC 6749 §5.2 error code, for OAuth client libraries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// From `POST /oauth/token`: the same as `detail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String, errors: Vec<FieldError> },
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("not found")]
    NotFound,
    /// A known path asked with a method it does not serve; `allow` lists those it does.
    #[error("{method} is not served here")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String, allowed_actions: Option<Vec<String>> },
    /// A retry arrived while the request holding its `Idempotency-Key` still runs (or until its
    /// lease ends, if it died).
    #[error("a request with this Idempotency-Key is still being processed; retry after it completes")]
    KeyInUse { retry_after_secs: u64 },
    /// An idempotent retry of a request whose write committed but whose answer was lost (its
    /// instance stopped in between): the write is not run again; `location` is what it changed.
    #[error("this request was carried out, but its answer was lost; read the result at Location")]
    AnswerLost { location: Option<String> },
    #[error("the resource has changed since it was read")]
    PreconditionFailed { current: Option<Value> },
    #[error("If-Match is required")]
    PreconditionRequired,
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{detail}")]
    UnsupportedMediaType { detail: String },
    #[error("{detail}")]
    NotAcceptable { detail: String },
    /// An error of the token endpoint (RFC 6749 §5.2): 400, or 401 for `invalid_client`.
    #[error("{detail}")]
    OAuth { status: u16, error: &'static str, detail: String },
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String, errors: Vec<FieldError> },
    #[error("rate limit exceeded")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable,
    /// The attachment store failed or could not be reached.
    #[error("the attachment store is unavailable; retry shortly")]
    StorageUnavailable,
    /// A resumable upload in a tus version other than 1.0.0 (tus answers 412 and names its own).
    #[error("this server speaks tus 1.0.0: send Tus-Resumable: 1.0.0")]
    TusVersion,
    /// A `Range` outside the content; `size` is the content's length.
    #[error("the range asked for is outside the content ({size} bytes)")]
    RangeNotSatisfiable { size: u64 },
    /// The body stopped arriving, or came too slowly (`http::body_deadline`): the request is
    /// not carried out, and the connection is closed.
    #[error(
        "the request body came too slowly: no byte for {idle_secs} s, or under {min_rate} bytes a second on average"
    )]
    BodyTooSlow { idle_secs: u64, min_rate: u64 },
    /// This instance is shutting down: a balancer should send requests to another.
    #[error("this instance is draining")]
    Draining,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest { code, detail: detail.into(), errors: vec![] }
    }
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Unauthorized { code, detail: detail.into() }
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Forbidden { code, detail: detail.into() }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict { code, detail: detail.into(), allowed_actions: None }
    }
    pub fn oauth(status: u16, error: &'static str, detail: impl Into<String>) -> Self {
        ApiError::OAuth { status, error, detail: detail.into() }
    }
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Unprocessable { code, detail: detail.into(), errors: vec![] }
    }
    /// 422 for invalid input, listing every field at fault.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        ApiError::Unprocessable {
            code: "validation_failed",
            detail: "the request is not valid; see errors".into(),
            errors,
        }
    }
    /// `Ok` when nothing is wrong, else 422 listing every field at fault.
    pub fn unless_any(errors: Vec<FieldError>) -> Result<(), ApiError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self::validation(errors))
        }
    }
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }
    /// For a reference the caller cannot resolve (a parent, a campaign, a unit it names): "not
    /// found" becomes a fault of the field that holds it (422); any other error (the database
    /// down) stays what it is.
    pub fn unresolved(self, field: &str, code: &str, message: &str) -> Self {
        match self {
            ApiError::NotFound => Self::field(field, code, message),
            other => other,
        }
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Internal(detail.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::NotFound => "not_found",
            ApiError::AnswerLost { .. } => "idempotency_key_answer_lost",
            ApiError::KeyInUse { .. } => "idempotency_key_in_use",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PreconditionFailed { .. } => "version_mismatch",
            ApiError::PreconditionRequired => "if_match_required",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::NotAcceptable { .. } => "not_acceptable",
            ApiError::OAuth { error, .. } => error,
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable => "service_unavailable",
            ApiError::StorageUnavailable => "storage_unavailable",
            ApiError::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            ApiError::TusVersion => "tus_version_required",
            ApiError::Draining => "draining",
            ApiError::BodyTooSlow { .. } => "body_too_slow",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::NotFound => "no such resource, or it is outside your scope".into(),
            ApiError::PreconditionFailed { .. } => {
                "the resource has changed since you read it (If-Match does not match its ETag); \
                 read it again and retry"
                    .into()
            }
            ApiError::PreconditionRequired => {
                "this write needs an If-Match header with the ETag you read, so that it cannot \
                 overwrite a change you have not seen"
                    .into()
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                format!("too many requests; retry after {retry_after_secs} s")
            }
            ApiError::Unavailable => "the database is unavailable; retry shortly".into(),
            ApiError::Draining => "this instance is shutting down; send requests to another".into(),
            ApiError::MethodNotAllowed { method, allow } => {
                format!("{method} is not served here; this path serves {allow}")
            }
            // Never the internal message: it may hold SQL or paths.
            ApiError::Internal(_) => "an internal error occurred; it has been logged".into(),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (errors, current, allowed_actions) = match self {
            ApiError::BadRequest { errors, .. } | ApiError::Unprocessable { errors, .. } => {
                (errors.clone(), None, None)
            }
            ApiError::PreconditionFailed { current } => (vec![], current.clone(), None),
            ApiError::Conflict { allowed_actions, .. } => (vec![], None, allowed_actions.clone()),
            _ => (vec![], None, None),
        };
        let (error, error_description) = match self {
            ApiError::OAuth { error, detail, .. } => (Some(error.to_string()), Some(detail.clone())),
            _ => (None, None),
        };
        Problem {
            type_: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_string(),
            errors,
            current,
            allowed_actions,
            error,
            error_description,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::AnswerLost { .. } | ApiError::KeyInUse { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } | ApiError::TusVersion => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            ApiError::OAuth { status: 401, .. } => StatusCode::UNAUTHORIZED,
            ApiError::OAuth { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Draining | ApiError::StorageUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::BodyTooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            log::error!("internal error: {detail}");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            // RFC 6749 §5.2: OAuth clients read `error` from application/json, never cached.
            ApiError::OAuth { status, .. } => {
                res.insert_header((header::CONTENT_TYPE, "application/json"));
                res.insert_header((header::CACHE_CONTROL, "no-store"));
                if *status == 401 {
                    res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"dvk\""));
                }
            }
            ApiError::Unauthorized { code, .. } => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"dvk\", error=\"invalid_token\", error_description=\"{code}\""),
                ));
            }
            ApiError::TooManyRequests { retry_after_secs } | ApiError::KeyInUse { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                res.insert_header((header::ALLOW, allow.clone()));
            }
            ApiError::AnswerLost { location: Some(location) } => {
                res.insert_header((header::LOCATION, location.clone()));
            }
            ApiError::Unavailable | ApiError::Draining | ApiError::StorageUnavailable => {
                res.insert_header((header::RETRY_AFTER, "2"));
            }
            ApiError::RangeNotSatisfiable { size } => {
                res.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            }
            ApiError::TusVersion => {
                res.insert_header(("Tus-Version", "1.0.0"));
            }
            // The rest of the body may still be on its way: the connection cannot be reused.
            ApiError::BodyTooSlow { .. } => {
                res.force_close();
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                log::info!("unique violation: {}", info.message());
                ApiError::conflict("conflict", "the change conflicts with an existing record")
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::conflict("concurrent_update", "a concurrent change got there first; retry the request")
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | Error::BrokenTransactionManager => {
                ApiError::Unavailable
            }
            // The server is shutting down or restarting (SQLSTATE 57P01-57P03 and lost sockets),
            // or the connection reached a server that is now a standby (25006, after a failover
            // demoted the old primary): the connection is dropped and the next one finds the
            // primary (`target_session_attrs=read-write`).
            Error::DatabaseError(_, ref info)
                if [
                    "read-only transaction",
                    "in recovery",
                    "terminating connection",
                    "server closed the connection",
                    "no connection to the server",
                    "could not send data",
                    "shutting down",
                    "starting up",
                    "could not connect",
                ]
                .iter()
                .any(|m| info.message().contains(m)) =>
            {
                ApiError::Unavailable
            }
            // PostgreSQL text cannot hold U+0000; whatever carried it (a query, a path, a body,
            // an imported file), the statement failed and its transaction rolled back.
            Error::DatabaseError(_, ref info) if info.message().contains("0x00") => {
                ApiError::bad_request("nul_character", "text may not contain the NUL character (U+0000)")
            }
            Error::DatabaseError(_, ref info)
                if info.message().contains("database is locked") || info.message().contains("busy") =>
            {
                ApiError::Unavailable
            }
            other => ApiError::Internal(format!("database error: {other}")),
        }
    }
}
