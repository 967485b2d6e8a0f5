//! The OpenAPI document: generated from the handlers' annotations, committed as
//! `openapi/openapi.json` (a test fails when they differ), served at `/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;

use crate::error::Problem;

/// Every route of the service, for the server and for the document alike.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(crate::health::healthz).service(crate::health::readyz).service(
        scope::scope("/api/v1")
            .configure(crate::units::configure)
            .configure(crate::campaigns::configure)
            .configure(crate::models::configure)
            .service(crate::audit::list_audit_events),
    );
}

pub fn document() -> utoipa::openapi::OpenApi {
    let (_, doc) =
        actix_web::App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts();
    doc
}

/// The document as committed: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = serde_json::to_string_pretty(&document()).expect("the document serialises");
    json.push('\n');
    json
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dvk — Dân vận khéo API",
        description = "The system of record for the \"Dân vận khéo\" (skilful mass mobilisation) emulation movement: units, campaigns, models, evaluations, commendations and reports.\n\nConventions: JSON in snake_case; errors are RFC 9457 `application/problem+json` with a stable `code`; lists page with `limit` and an opaque `cursor`; every resource has an `ETag`, writes need `If-Match`; POSTs accept `Idempotency-Key`; every response carries `X-Request-Id`.",
        license(name = "MIT"),
    ),
    servers((url = "/", description = "This server")),
    modifiers(&Security),
    components(
        schemas(Problem),
        responses(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge,
                  UnsupportedMediaType, Unprocessable, PreconditionRequired, TooManyRequests, Unavailable)
    ),
    tags(
        (name = "units", description = "The hierarchy of units, imports and reorganisations"),
        (name = "campaigns", description = "Emulation campaigns and implementation plans"),
        (name = "models", description = "Models and exemplars: registration, follow-up, replication"),
        (name = "audit", description = "Who changed what"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT (HS256, or RS256/ES256 by kid) with sub, unit (the unit's code), level, roles, iss, aud, exp.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `Idempotency-Key`: a POST retried with the same key gets the first response back.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyHeader {
    /// 1–255 visible ASCII characters (a UUID is a good choice). The first response is replayed
    /// for 24 h; the same key with a different request is 422; while the first is running, 409.
    #[param(rename = "Idempotency-Key", max_length = 255)]
    pub idempotency_key: Option<String>,
}

/// `If-Match`: the ETag you read; required on every change.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The ETag of the version you read, e.g. `"3"`; `*` matches any version.
    #[param(rename = "If-Match")]
    pub if_match: String,
}

/// `If-None-Match`: 304 when you already hold this version.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatchHeader {
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}

macro_rules! problem_response {
    ($name:ident, $description:literal) => {
        #[derive(ToResponse)]
        #[response(description = $description, content_type = "application/problem+json")]
        pub struct $name(#[allow(dead_code)] Problem);
    };
}

problem_response!(BadRequest, "Malformed request: bad JSON, query parameter, limit or cursor");
problem_response!(Unauthorized, "Missing or invalid bearer token (see WWW-Authenticate)");
problem_response!(Forbidden, "The caller lacks the role or the scope for this action");
problem_response!(NotFound, "No such resource, or it is outside the caller's scope");
problem_response!(Conflict, "The request conflicts with the resource's state or another record");
problem_response!(
    PreconditionFailed,
    "If-Match does not match the current version; `current` holds the resource as it is"
);
problem_response!(PayloadTooLarge, "The body is over the limit");
problem_response!(UnsupportedMediaType, "The body's media type is not accepted here");
problem_response!(Unprocessable, "The request is well-formed but not valid; `errors` lists each field");
problem_response!(PreconditionRequired, "The write needs an If-Match header");
problem_response!(TooManyRequests, "Rate limit exceeded; wait Retry-After seconds");
problem_response!(Unavailable, "The database is unavailable; retry after Retry-After seconds");

/// A named set of documented error responses, each a `$ref` to the shared response above, so
/// that operations of the same shape list the same errors without repeating them.
macro_rules! error_set {
    ($(#[$meta:meta])* $name:ident { $($status:literal => $response:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(utoipa::IntoResponses)]
        #[allow(dead_code)]
        pub enum $name { $(#[response(status = $status)] $response(#[ref_response] $response)),+ }
    };
}

error_set!(
    /// Reading one resource.
    ReadErrors { 401 => Unauthorized, 404 => NotFound, 429 => TooManyRequests, 503 => Unavailable }
);
error_set!(
    /// Listing a collection.
    ListErrors { 400 => BadRequest, 401 => Unauthorized, 429 => TooManyRequests, 503 => Unavailable }
);
error_set!(
    /// Listing what hangs under one resource.
    SubListErrors {
        400 => BadRequest, 401 => Unauthorized, 404 => NotFound, 429 => TooManyRequests, 503 => Unavailable
    }
);
error_set!(
    /// Creating a resource with a JSON body.
    CreateErrors {
        400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 409 => Conflict, 413 => PayloadTooLarge,
        415 => UnsupportedMediaType, 422 => Unprocessable, 429 => TooManyRequests, 503 => Unavailable
    }
);
error_set!(
    /// Creating something under one resource.
    SubCreateErrors {
        400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 404 => NotFound, 409 => Conflict,
        413 => PayloadTooLarge, 415 => UnsupportedMediaType, 422 => Unprocessable, 429 => TooManyRequests,
        503 => Unavailable
    }
);
error_set!(
    /// Changing a resource (PATCH or a lifecycle action): If-Match required.
    ChangeErrors {
        400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 404 => NotFound, 409 => Conflict,
        412 => PreconditionFailed, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 422 => Unprocessable,
        428 => PreconditionRequired, 429 => TooManyRequests, 503 => Unavailable
    }
);
