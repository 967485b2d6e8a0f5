//! The OpenAPI document: generated from the handlers' annotations, committed as
//! `openapi/openapi.json` (a test fails when they differ), served at `/openapi.json`.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, Modify, OpenApi, ToResponse};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;

use crate::error::{ApiError, Problem};

/// Every route of the service, for the server and for the document alike, with the browser
/// origins the authenticated API answers (`DVK_CORS_ORIGINS`).
pub fn routes(cfg: &mut ServiceConfig, cors_origins: &[String]) {
    cfg.service(crate::health::healthz)
        .service(crate::health::readyz)
        .service(crate::metrics::metrics)
        .service(crate::auth::jwks)
        // Before `/api/v1`: a scope takes every path under its prefix, and the public API has
        // CORS rules of its own.
        .service(
            scope::scope("/api/v1/public")
                .wrap(crate::http::cors::public())
                .configure(crate::public::configure)
                .configure(crate::attachments::configure_public),
        )
        .service(
            scope::scope("/api/v1")
                .wrap(crate::http::cors::authenticated(cors_origins))
                .configure(crate::units::configure)
                .configure(crate::campaigns::configure)
                .configure(crate::models::configure)
                .configure(crate::evaluations::configure)
                .configure(crate::commendations::configure)
                .configure(crate::decisions::configure)
                .configure(crate::attachments::configure)
                .configure(crate::certificates::configure)
                .configure(crate::reports::configure)
                .configure(crate::service_accounts::configure)
                .configure(crate::webhooks::configure)
                .service(crate::audit::list_audit_events),
        );
}

pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(|c| routes(c, &[]))
        .split_for_parts();
    spreadsheets(&mut doc);
    optional_bodies(&mut doc);
    doc
}

/// An optional body (`Option<T>`) comes out of utoipa as a nullable schema. Generated clients
/// (openapi-python-client) then send `null` or crash when there is no body; an optional body is
/// `required: false` with the plain schema. (The server takes no body, and `null`, as none.)
fn optional_bodies(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    use utoipa::openapi::Required;
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.post, &mut item.patch, &mut item.put].into_iter().flatten() {
            let Some(body) = op.request_body.as_mut() else { continue };
            let mut optional = false;
            for content in body.content.values_mut() {
                let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema else { continue };
                let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
                if one_of.items.len() == 2 && one_of.items.iter().any(is_null) {
                    content.schema = one_of.items.iter().find(|s| !is_null(s)).cloned();
                    optional = true;
                }
            }
            if optional {
                body.required = Some(Required::False);
            }
        }
    }
}

/// Every operation with a `lang` parameter (each list and report) also answers in CSV and XLSX
/// when `Accept` asks, and 406 when it asks for something else: said here once for all of them.
fn spreadsheets(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let text = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("UTF-8 with a byte-order mark; a header row of labels in `lang`"))
        .build();
    let binary = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .description(Some("An XLSX workbook: one sheet, a bold frozen header row, fitted column widths"))
        .build();
    for item in doc.paths.paths.values_mut() {
        let Some(op) = item.get.as_mut() else { continue };
        let params = op.parameters.as_deref().unwrap_or_default();
        if !params.iter().any(|p| p.name == "lang") {
            continue;
        }
        let paged = params.iter().any(|p| p.name == "cursor");
        if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
            ok.content
                .insert(crate::http::export::CSV.into(), ContentBuilder::new().schema(Some(text.clone())).build());
            ok.content
                .insert(crate::http::export::XLSX.into(), ContentBuilder::new().schema(Some(binary.clone())).build());
            let disposition =
                HeaderBuilder::new().description(Some("With CSV and XLSX: `attachment; filename=\"….csv\"`")).build();
            ok.headers.insert("Content-Disposition".into(), disposition);
            if paged {
                let next = HeaderBuilder::new()
                    .description(Some("With CSV and XLSX (up to 10,000 rows a page): the cursor of the next page"))
                    .build();
                ok.headers.insert("X-Next-Cursor".into(), next);
            }
        }
        op.responses.responses.insert("406".into(), RefOr::Ref(Ref::from_response_name("NotAcceptable")));
    }
}

/// The methods the API serves on `path`, as the document lists them (`None`: no such path). One
/// table for every path, made from the document once.
pub fn methods_of(path: &str) -> Option<Vec<&'static str>> {
    use std::sync::OnceLock;
    /// A path template's segments (`None` for a `{parameter}`) and the methods it serves.
    type Route = (Vec<Option<String>>, Vec<&'static str>);
    static TABLE: OnceLock<Vec<Route>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let doc = document();
        doc.paths
            .paths
            .iter()
            .map(|(template, item)| {
                // `{id}` matches any one segment.
                let segments = template
                    .trim_matches('/')
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                    .collect();
                let mut methods = Vec::new();
                for (name, present) in [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("OPTIONS", item.options.is_some()),
                ] {
                    if present {
                        methods.push(name);
                    }
                }
                (segments, methods)
            })
            .collect()
    });
    let asked: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Of the templates that fit, the most literal one names the resource (`/units/import`, not
    // `/units/{id}`).
    table
        .iter()
        .filter(|(segments, _)| {
            segments.len() == asked.len()
                && segments.iter().zip(&asked).all(|(s, a)| s.as_deref().is_none_or(|s| s == *a) && !a.is_empty())
        })
        .max_by_key(|(segments, _)| segments.iter().filter(|s| s.is_some()).count())
        .map(|(_, methods)| methods.clone())
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
        description = "The system of record for the \"Dân vận khéo\" (skilful mass mobilisation) emulation movement: units, campaigns, models, evaluations, commendations and reports.\n\nConventions: JSON in snake_case; errors are RFC 9457 `application/problem+json` with a stable `code`; lists page with `limit` and an opaque `cursor`; every resource has an `ETag`, writes need `If-Match`; POSTs accept `Idempotency-Key`; every response carries `X-Request-Id`, made by the server (a client's own `X-Request-Id` is echoed in `X-Client-Request-Id`).",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "This server")),
    modifiers(&Security),
    components(
        schemas(Problem, crate::labels::Lang, crate::reports::types::CommendationCount),
        responses(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, RequestTimeout, PayloadTooLarge,
                  UnsupportedMediaType, NotAcceptable, Unprocessable, PreconditionRequired, TooManyRequests, Unavailable)
    ),
    tags(
        (name = "units", description = "The hierarchy of units, imports and reorganisations"),
        (name = "campaigns", description = "Emulation campaigns and implementation plans"),
        (name = "models", description = "Models and exemplars: registration, follow-up, replication"),
        (name = "evaluations", description = "Evaluation and recognition of models by a unit above them"),
        (name = "commendations", description = "Giấy khen and bằng khen: proposal, decision, revocation"),
        (name = "decisions", description = "Decisions of commendation: one number, date and signer for many recipients, issued and revoked as one"),
        (name = "attachments", description = "Photos and documents of models, progress reports, campaigns and decisions: upload (in one request or resumed with tus 1.0), download, public copies without location metadata"),
        (name = "public", description = "Recognised models and their commendations, with no token, for the portal"),
        (name = "reports", description = "Counts for review points: models, commendations, progress against targets; JSON, CSV or XLSX"),
        (name = "service-accounts", description = "Service accounts for scripts, the OAuth 2.0 client-credentials grant, and the server's public keys"),
        (name = "webhooks", description = "Signed event deliveries to the portal: subscriptions, deliveries, replays"),
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
    /// for 24 h; the same key with a different request is 422; while the first is running, 409
    /// `idempotency_key_in_use` (a request that died frees its key within 15 s); if the first
    /// request's write committed but its answer was lost, 409 `idempotency_key_answer_lost` with
    /// `Location` naming the result, and the write is not run again.
    #[param(rename = "Idempotency-Key", min_length = 1, max_length = 255, pattern = "^[!-~]+$")]
    pub idempotency_key: Option<String>,
}

/// `If-Match`: the ETag you read; required on every change.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The ETag of the version you read, e.g. `"3"`; `*` matches any version. Without it, a
    /// change is 428 `if_match_required` (RFC 6585 §3).
    #[param(rename = "If-Match", min_length = 1, pattern = r#"^(\*|(W/)?"[0-9]+"( *, *(W/)?"[0-9]+")*)$"#)]
    pub if_match: String,
}

/// `If-None-Match`: 304 when you already hold this version.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatchHeader {
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}

/// One shared error response (a component every operation references): its description, the
/// headers that come with it, and an example made from the `ApiError` the server really returns,
/// so the document cannot drift from the behaviour.
macro_rules! problem_response {
    ($name:ident, $description:literal, $error:expr $(, $header:literal => $meaning:literal)* $(,)?) => {
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), problem_response($description, $error, &[$(($header, $meaning)),*]))
            }
        }
    };
}

fn problem_response(description: &str, error: ApiError, headers: &[(&str, &str)]) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .example(serde_json::to_value(error.problem()).ok())
        .build();
    let mut response = ResponseBuilder::new().description(description).content("application/problem+json", content);
    for (name, meaning) in [
        ("X-Request-Id", "The request's id, made by the server, as in the access log; quote it when reporting"),
        ("X-Client-Request-Id", "The caller's own X-Request-Id, when it sent a sane one"),
    ]
    .iter()
    .chain(headers)
    {
        response = response.header(*name, HeaderBuilder::new().description(Some(*meaning)).build());
    }
    response.build().into()
}

/// The bytes of a file (a PDF, say).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct Binary(Vec<u8>);

problem_response!(
    BadRequest,
    "Malformed request: bad JSON, query parameter, limit or cursor",
    crate::http::pagination::Cursor::decode("not-a-cursor", "created_at").unwrap_err()
);
problem_response!(
    Unauthorized,
    "Missing or invalid bearer token",
    ApiError::unauthorized("token_expired", "the token has expired"),
    "WWW-Authenticate" => "`Bearer realm=\"dvk\", error=\"invalid_token\", error_description=\"<code>\"`"
);
problem_response!(
    Forbidden,
    "The caller lacks the role or the scope for this action",
    ApiError::forbidden("missing_role", "this action needs the editor role")
);
problem_response!(NotFound, "No such resource, or it is outside the caller's scope", ApiError::NotFound);
problem_response!(
    Conflict,
    "The request conflicts with the resource's state or another record; for a lifecycle action, `allowed_actions` lists what the present status allows. On a retry with an `Idempotency-Key`: `idempotency_key_in_use` (with `Retry-After`) while the first request runs, `idempotency_key_answer_lost` (with `Location`) when its write committed but its answer was lost",
    crate::models::rules::LIFECYCLE
        .apply(crate::models::types::ModelStatus::Draft, crate::models::types::ModelAction::Accept)
        .unwrap_err(),
    "Retry-After" => "With `idempotency_key_in_use`: seconds until the first request should have finished",
    "Location" => "With `idempotency_key_answer_lost`: the resource the first request's write changed"
);
problem_response!(
    PreconditionFailed,
    "If-Match does not match the current version; `current` holds the resource as it is",
    ApiError::PreconditionFailed {
        current: Some(serde_json::json!({"id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f60", "version": 4, "…": "…"}))
    }
);
problem_response!(PayloadTooLarge, "The body is over the limit", ApiError::PayloadTooLarge { limit: 1024 * 1024 });
problem_response!(
    RequestTimeout,
    "The body stopped arriving (no byte for `DVK_BODY_IDLE_SECS`) or came under `DVK_BODY_MIN_RATE` bytes a second: nothing was done, and the connection is closed",
    ApiError::BodyTooSlow { idle_secs: 30, min_rate: 1024 }
);
problem_response!(
    UnsupportedMediaType,
    "The body's media type is not accepted here",
    ApiError::UnsupportedMediaType { detail: "the body must be sent as application/json".into() }
);
problem_response!(
    NotAcceptable,
    "The Accept header names no representation this resource has (JSON, CSV, XLSX)",
    crate::http::export::Format::of(
        &actix_web::test::TestRequest::default().insert_header(("Accept", "image/png")).to_http_request()
    )
    .unwrap_err()
);
problem_response!(
    Unprocessable,
    "The request is well-formed but not valid; `errors` lists each field",
    crate::http::json::parse_json::<crate::models::types::ModelActionBody>(br#"{"status": "recognized"}"#)
        .map(|_| ())
        .unwrap_err()
);
problem_response!(PreconditionRequired, "The write needs an If-Match header", ApiError::PreconditionRequired);
problem_response!(
    TooManyRequests,
    "Rate limit exceeded",
    ApiError::TooManyRequests { retry_after_secs: 1 },
    "Retry-After" => "Seconds to wait before the next request"
);
problem_response!(
    Unavailable,
    "The database or the attachment store is unavailable",
    ApiError::Unavailable,
    "Retry-After" => "Seconds to wait before retrying"
);

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
    /// Reading one public record: no token, so no 401.
    PublicReadErrors { 404 => NotFound, 429 => TooManyRequests, 503 => Unavailable }
);
error_set!(
    /// Printing: the record must be visible and stand.
    PrintErrors { 401 => Unauthorized, 404 => NotFound, 409 => Conflict, 429 => TooManyRequests, 503 => Unavailable }
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
    /// Reading a report: its query is checked, its root and campaign must be visible.
    ReportErrors {
        400 => BadRequest, 401 => Unauthorized, 404 => NotFound, 406 => NotAcceptable, 422 => Unprocessable,
        429 => TooManyRequests, 503 => Unavailable
    }
);
error_set!(
    /// Creating a resource with a JSON body.
    CreateErrors {
        400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 408 => RequestTimeout, 409 => Conflict,
        413 => PayloadTooLarge, 415 => UnsupportedMediaType, 422 => Unprocessable, 429 => TooManyRequests,
        503 => Unavailable
    }
);
error_set!(
    /// Creating something under one resource.
    SubCreateErrors {
        400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 404 => NotFound, 408 => RequestTimeout,
        409 => Conflict, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 422 => Unprocessable,
        429 => TooManyRequests, 503 => Unavailable
    }
);
error_set!(
    /// Changing a resource (PATCH or a lifecycle action): If-Match required.
    ChangeErrors {
        400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 404 => NotFound, 408 => RequestTimeout,
        409 => Conflict, 412 => PreconditionFailed, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 422 => Unprocessable,
        428 => PreconditionRequired, 429 => TooManyRequests, 503 => Unavailable
    }
);
