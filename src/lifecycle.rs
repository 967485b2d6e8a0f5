//! Lifecycles as data: which action moves which status where. An action not allowed in the
//! present status is a 409 that lists the actions that are.

use std::fmt::Display;

use crate::error::ApiError;

pub struct Lifecycle<S: 'static, A: 'static> {
    pub transitions: &'static [(S, A, S)],
}

impl<S: Copy + PartialEq + Display, A: Copy + PartialEq + Display> Lifecycle<S, A> {
    pub fn allowed(&self, from: S) -> Vec<A> {
        self.transitions.iter().filter(|(f, _, _)| *f == from).map(|(_, a, _)| *a).collect()
    }

    pub fn apply(&self, from: S, action: A) -> Result<S, ApiError> {
        self.transitions.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to).ok_or_else(|| {
            let allowed: Vec<String> = self.allowed(from).iter().map(|a| a.to_string()).collect();
            ApiError::Conflict {
                code: "invalid_transition",
                detail: format!(
                    "cannot {action} in status {from}; allowed: {}",
                    if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") }
                ),
                allowed_actions: Some(allowed),
            }
        })
    }
}

/// One lifecycle action endpoint (`POST /{resources}/{id}/{action}`): the same contract for every
/// resource — `If-Match` required, an optional JSON body, the resource in its new status back —
/// documented once. `$run` is the resource's `async fn(req, state, actor, id, body, action)`.
#[macro_export]
macro_rules! action_endpoint {
    ($name:ident, $path:literal, $tag:literal, $body:ident, $resource:ident, $run:path, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = $tag,
            request_body(content = Option<$body>, description = "Optional: a comment for the record"),
            params(("id" = String, Path, description = "Id"), $crate::openapi::IfMatchHeader, $crate::openapi::IdempotencyKeyHeader),
            responses(
                (status = 200, description = "The resource in its new status", body = $resource,
                 headers(("ETag" = String, description = "The new version"))),
                $crate::openapi::ChangeErrors,
            ),
            security(("bearer" = []))
        )]
        // utoipa finds the method by the attribute's bare name: callers import `actix_web::post`.
        #[post($path)]
        pub async fn $name(
            req: actix_web::HttpRequest,
            state: actix_web::web::Data<$crate::AppState>,
            actor: $crate::auth::Actor,
            id: actix_web::web::Path<String>,
            body: $crate::http::json::MaybeJson<$body>,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $run(req, state, actor, id.into_inner(), body, $action).await
        }
    };
}
