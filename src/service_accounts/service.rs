//! Service-account operations, each inside one transaction, and the client-credentials grant.

use chrono::Duration;

use crate::auth::{Actor, Claims, Role};
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::keyring::Keyring;

use super::secrets;
use super::store::{self, AccountRow, SecretRow};
use super::types::*;

/// The `sub` of the tokens an account gets: `sa:` and its id.
fn change<'a>(action: &'a str, row: &'a AccountRow) -> Change<'a> {
    Change::new(action, "service_account", &row.id, Some(&row.unit_id))
}

fn load(conn: &mut DbConnection, row: &AccountRow) -> Result<ServiceAccount, ApiError> {
    let live = store::live_secrets(conn, &row.id, crate::db::now())?;
    row.to_api(&live)
}

/// A page of accounts, already kept to the reader's scope, with their live secrets: two queries
/// whatever the page's size.
pub fn load_page(conn: &mut DbConnection, rows: &[AccountRow]) -> Result<Vec<ServiceAccount>, ApiError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let live = store::live_secrets_of(conn, &ids, crate::db::now())?;
    rows.iter().map(|r| r.to_api(live.get(&r.id).map(Vec::as_slice).unwrap_or_default())).collect()
}

/// Admins manage the accounts of their own unit and below; others do not learn they exist.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<AccountRow, ApiError> {
    actor.require(Role::Admin)?;
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    crate::units::service::require_admin_over(conn, actor, &row.unit_id)?;
    Ok(row)
}

fn roles_json(roles: &[Role]) -> String {
    let mut roles = roles.to_vec();
    roles.sort_by_key(|r| *r as u8);
    roles.dedup();
    crate::db::json_column(&roles)
}

/// A grantor gives only roles it holds itself (on creation, on a change of roles, and on a new
/// secret, which hands the account's roles to whoever holds it): an admin who is not an
/// approver cannot make an approver.
pub fn require_grantable(actor: &Actor, roles: &[Role]) -> Result<(), ApiError> {
    let mut missing: Vec<&str> = roles.iter().filter(|r| !actor.has(**r)).map(|r| r.as_str()).collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "role_not_held",
            format!("you may grant only roles you hold; you do not hold {}", missing.join(", ")),
        ))
    }
}

fn new_secret(keyring: &Keyring, account_id: &str) -> (String, SecretRow) {
    let secret = secrets::generate();
    let row = SecretRow {
        id: uuid::Uuid::now_v7().to_string(),
        account_id: account_id.to_string(),
        hash: secrets::hash(keyring, &secret),
        hint: secrets::hint(&secret),
        created_at: crate::db::now(),
        expires_at: None,
    };
    (secret, row)
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    input: CreateServiceAccount,
    keyring: &Keyring,
) -> Result<ServiceAccountWithSecret, ApiError> {
    actor.require(Role::Admin)?;
    require_grantable(actor, &input.roles)?;
    let unit_id = input.unit_id.clone().unwrap_or_else(|| actor.unit_id.clone());
    let unit = crate::units::service::visible(conn, actor, &unit_id)
        .map_err(|e| e.unresolved("unit_id", "unknown_unit", "no such unit, or it is outside your scope"))?;
    if !crate::tree::Subtree::of(&actor.unit_id).holds(conn, &unit.id)? {
        return Err(ApiError::field("unit_id", "outside_scope", "an account is bound to your unit or one below it"));
    }
    if !unit.is_active() {
        return Err(ApiError::field("unit_id", "unit_closed", "a closed unit gets no new accounts"));
    }
    let name = crate::units::rules::clean_text("name", &input.name, 255).map_err(|e| ApiError::validation(vec![e]))?;
    let now = crate::db::now();
    let row = AccountRow {
        id: uuid::Uuid::now_v7().to_string(),
        unit_id: unit.id,
        name,
        description: input.description,
        roles: roles_json(&input.roles),
        status: AccountStatus::Active,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    store::insert(conn, &row)?;
    let (client_secret, secret) = new_secret(keyring, &row.id);
    store::insert_secret(conn, &secret)?;
    let account = row.to_api(std::slice::from_ref(&secret))?;
    changes::record(conn, actor, change("service_account.create", &row), None::<&()>, Some(&account))?;
    Ok(ServiceAccountWithSecret { service_account: account, client_secret })
}

pub fn get(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<ServiceAccount, ApiError> {
    let row = visible(conn, actor, id)?;
    load(conn, &row)
}

/// Writes a change of the account over the row as read, with its audit record.
fn save(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    before_row: &AccountRow,
    mut row: AccountRow,
) -> Result<ServiceAccount, ApiError> {
    let before = load(conn, before_row)?;
    row.updated_at = crate::db::now();
    row.version = before_row.version + 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    let after = load(conn, &row)?;
    changes::record(conn, actor, change(action, &row), Some(&before), Some(&after))?;
    Ok(after)
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateServiceAccount,
) -> Result<ServiceAccount, ApiError> {
    let before_row = visible(conn, actor, id)?;
    if_match.check(before_row.version, &load(conn, &before_row)?)?;
    let mut row = before_row.clone();
    if let Some(name) = input.name {
        row.name = crate::units::rules::clean_text("name", &name, 255).map_err(|e| ApiError::validation(vec![e]))?;
    }
    if let Some(description) = input.description {
        row.description = description;
    }
    if let Some(roles) = input.roles {
        // Taking a role away is always allowed; giving one needs it held.
        let held = before_row.roles()?;
        let added: Vec<Role> = roles.iter().copied().filter(|r| !held.contains(r)).collect();
        require_grantable(actor, &added)?;
        row.roles = roles_json(&roles);
    }
    if row == before_row {
        return load(conn, &row);
    }
    save(conn, actor, "service_account.update", &before_row, row)
}

pub fn set_status(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    status: AccountStatus,
) -> Result<ServiceAccount, ApiError> {
    let before_row = visible(conn, actor, id)?;
    if_match.check(before_row.version, &load(conn, &before_row)?)?;
    if before_row.status == status {
        return Err(ApiError::conflict("invalid_transition", format!("the account is already {status}")));
    }
    let mut row = before_row.clone();
    row.status = status;
    let action = if status == AccountStatus::Disabled { "service_account.disable" } else { "service_account.enable" };
    save(conn, actor, action, &before_row, row)
}

/// A new secret; the ones in use keep working for `previous_valid_for_secs` (only the newest of
/// them: never more than two secrets work at once).
pub fn rotate(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: RotateSecret,
    keyring: &Keyring,
) -> Result<ServiceAccountWithSecret, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_grantable(actor, &before_row.roles()?)?;
    if_match.check(before_row.version, &load(conn, &before_row)?)?;
    let now = crate::db::now();
    let live = store::live_secrets(conn, &before_row.id, now)?;
    let overlap = Duration::seconds(input.previous_valid_for_secs.unwrap_or(86_400));
    if let Some((newest, older)) = live.split_first() {
        let until = newest.expires_at.map_or(now + overlap, |e| e.min(now + overlap));
        store::expire(conn, std::slice::from_ref(&newest.id), until)?;
        store::expire(conn, &older.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), now)?;
    }
    let (client_secret, secret) = new_secret(keyring, &before_row.id);
    store::insert_secret(conn, &secret)?;
    let account = save(conn, actor, "service_account.rotate_secret", &before_row, before_row.clone())?;
    Ok(ServiceAccountWithSecret { service_account: account, client_secret })
}

/// What the token endpoint reads of a client before its secret is checked; the secret is
/// checked after the connection is given back.
pub struct Client {
    pub account: Option<AccountRow>,
    pub secrets: Vec<SecretRow>,
    pub unit: Option<crate::tree::UnitRow>,
}

pub fn load_client(conn: &mut DbConnection, client_id: &str) -> Result<Client, ApiError> {
    let now = crate::db::now();
    // Every failure of the client costs the same: the account's live secrets or decoys.
    let account = if client_id.len() <= 64 { store::find(conn, client_id)? } else { None };
    let (secrets, unit) = match &account {
        Some(a) => (store::live_secrets(conn, &a.id, now)?, crate::tree::find(conn, &a.unit_id)?),
        None => (vec![], None),
    };
    Ok(Client { account, secrets, unit })
}

/// The client-credentials grant, once the secret has been checked (`matched`: which of the
/// client's live secrets it is): an error of RFC 6749 §5.2, or the claims of a new token.
pub fn grant(
    client: &Client,
    matched: Option<usize>,
    scope: Option<&str>,
    auth: &crate::auth::Authenticator,
    lifetime_secs: i64,
) -> Result<(Claims, Vec<Role>), ApiError> {
    let refused = || ApiError::oauth(401, "invalid_client", "client authentication failed");
    let (account, unit) = match (&client.account, &client.unit, matched) {
        (Some(a), Some(u), Some(_)) if a.status == AccountStatus::Active && u.is_active() => (a, u),
        _ => return Err(refused()),
    };
    let granted = account.roles()?;
    let roles = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => granted,
        Some(scope) => {
            let mut asked = Vec::new();
            for word in scope.split_whitespace() {
                match Role::parse(word) {
                    Some(r) if granted.contains(&r) => asked.push(r),
                    _ => {
                        return Err(ApiError::oauth(
                            400,
                            "invalid_scope",
                            format!("{word:?} is not a role of this account"),
                        ))
                    }
                }
            }
            asked
        }
    };
    let issued = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: format!("{}{}", store::SUBJECT_PREFIX, account.id),
        unit: unit.code.clone(),
        level: unit.level.as_str().into(),
        roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
        iss: auth.issuer().to_string(),
        aud: auth.audience().to_string(),
        exp: issued + lifetime_secs,
        nbf: None,
        iat: Some(issued),
        jti: Some(uuid::Uuid::new_v4().to_string()),
        name: Some(account.name.clone()),
    };
    Ok((claims, roles))
}

/// A token request as the audit log keeps it: never the secret.
#[derive(serde::Serialize)]
pub struct GrantRecord<'a> {
    pub client_id: &'a str,
    /// `granted`, or the RFC 6749 error (`invalid_client`, `invalid_scope`).
    pub outcome: &'a str,
    pub roles: Vec<&'a str>,
    pub address: Option<&'a str>,
    /// What a failed authentication counts against (the address and the client), for the
    /// limit every instance shares; not part of the record.
    #[serde(skip)]
    pub failure_subjects: &'a [String],
}

/// The new hash of a secret that matched under an older one (Argon2id, or an older data key):
/// its id and the hash under the current key.
pub fn rehash(client: &Client, matched: Option<usize>, secret: &str, keyring: &Keyring) -> Option<(String, String)> {
    let row = client.secrets.get(matched?)?;
    secrets::needs_rehash(keyring, &row.hash).then(|| (row.id.clone(), secrets::hash(keyring, secret)))
}

/// Records a token request in the audit log (under the account's unit, or the root's for an
/// unknown client), and stores a secret's new hash.
/// The minute a failure counts in, shared by every instance: fixed windows, so that instances
/// agree without talking to each other.
pub fn failure_window(now: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::Timelike;
    now.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(now)
}

/// Refuses (429) a client or an address that has failed `limit` times this minute, as counted
/// by every instance on the database; `limit` 0 turns the check off.
pub fn check_shared_failures(
    conn: &mut DbConnection,
    subjects: &[String],
    limit: u32,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    if limit == 0 {
        return Ok(());
    }
    let window = failure_window(now);
    if store::failures_in(conn, subjects, window)? >= i32::try_from(limit).unwrap_or(i32::MAX) {
        let left = (window + chrono::Duration::seconds(60) - now).num_seconds().max(1);
        return Err(ApiError::TooManyRequests { retry_after_secs: left as u64 });
    }
    Ok(())
}

pub fn record_grant(
    conn: &mut DbConnection,
    client: &Client,
    rehashed: Option<(String, String)>,
    record: &GrantRecord<'_>,
    who: &changes::Who<'_>,
) -> Result<(), ApiError> {
    if let Some((id, hash)) = rehashed {
        store::set_hash(conn, &id, &hash)?;
    }
    if record.outcome == "invalid_client" && !record.failure_subjects.is_empty() {
        store::count_failure(conn, record.failure_subjects, failure_window(crate::db::now()))?;
    }
    let (resource_id, unit_id) = match &client.account {
        Some(a) => (a.id.as_str(), a.unit_id.as_str()),
        None => (record.client_id, crate::tree::ROOT_ID),
    };
    let action = if record.outcome == "granted" { "oauth.token_granted" } else { "oauth.token_refused" };
    let change = Change::new(action, "service_account", resource_id, Some(unit_id));
    changes::record_event(conn, who, change, record)
}
