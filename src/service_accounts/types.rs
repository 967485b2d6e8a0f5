//! Service accounts and the token endpoint: the contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::Role;

str_enum! {
    pub enum AccountStatus {
        Active = "active",
        /// Its secrets get no tokens and its tokens are refused, at once.
        Disabled = "disabled",
    }
}

/// A secret as a list shows it: never the secret itself.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretInfo {
    pub id: String,
    /// Its last four characters.
    pub hint: String,
    pub created_at: DateTime<Utc>,
    /// When a rotated-out secret stops working (`null`: the current one).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A script's identity: it acts as a user of `unit_id` holding `roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceAccount {
    pub id: String,
    /// The OAuth `client_id` (the account's id).
    pub client_id: String,
    pub unit_id: String,
    pub name: String,
    pub description: Option<String>,
    pub roles: Vec<Role>,
    pub status: AccountStatus,
    /// The secrets that work now.
    pub secrets: Vec<SecretInfo>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// An account with a secret shown once: on creation and on rotation. Store it now; it cannot be
/// read again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceAccountWithSecret {
    pub service_account: ServiceAccount,
    /// The secret, shown this once. `null` on an idempotent replay
    /// (`Idempotent-Replay-Withheld: client_secret`): secrets are never stored for replays; if the
    /// first answer was lost, rotate the secret.
    #[schema(value_type = Option<String>)]
    pub client_secret: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Đồng bộ cổng thông tin", "unit_id": "0193a5b0-0000-7000-8000-000000000001", "roles": ["viewer"]}))]
pub struct CreateServiceAccount {
    /// A unit of your subtree (default: your own).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub unit_id: Option<String>,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At least one.
    #[validate(length(min = 1, max = 5))]
    #[schema(min_items = 1, max_items = 5)]
    pub roles: Vec<Role>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceAccount {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[validate(length(min = 1, max = 5))]
    #[schema(min_items = 1, max_items = 5)]
    pub roles: Option<Vec<Role>>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the secrets in use keep working, so scripts can move to the new one: 0 to
    /// 604800 seconds (a week), default 86400.
    #[validate(range(min = 0, max = 604800))]
    #[schema(minimum = 0, maximum = 604800)]
    pub previous_valid_for_secs: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAccountPage {
    pub items: Vec<ServiceAccount>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListServiceAccounts {
    /// Accounts of this unit only.
    pub unit_id: Option<String>,
    pub status: Option<AccountStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

impl crate::http::export::Tabular for ServiceAccount {
    const COLUMNS: &'static [&'static str] =
        &["name", "unit_id", "roles", "status", "description", "client_id", "created_at", "updated_at"];
}
crate::page!(ServiceAccountPage, ServiceAccount, "service-accounts");

/// `POST /oauth/token` (RFC 6749 §4.4), `application/x-www-form-urlencoded`. The client
/// authenticates with HTTP Basic (`client_id:client_secret`) or with both in the body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`.
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Space-separated roles to narrow the token to (default: all the account's roles).
    pub scope: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6ImR2ay0xIn0…", "token_type": "Bearer", "expires_in": 900, "scope": "viewer editor"}))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}
