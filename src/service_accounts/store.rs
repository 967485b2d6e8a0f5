//! All the SQL of service accounts and their secrets.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::Role;
use crate::db::schema::{service_account_secrets as secrets, service_accounts as accounts, unit_tree};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor};

use super::types::{AccountStatus, SecretInfo, ServiceAccount};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = accounts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct AccountRow {
    pub id: String,
    pub unit_id: String,
    pub name: String,
    pub description: Option<String>,
    pub roles: String,
    pub status: AccountStatus,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = secrets, treat_none_as_default_value = false)]
pub struct SecretRow {
    pub id: String,
    pub account_id: String,
    pub hash: String,
    pub hint: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

impl AccountRow {
    pub fn roles(&self) -> Result<Vec<Role>, ApiError> {
        crate::db::parse_json_column("service_accounts.roles", &self.roles)
    }

    pub fn to_api(&self, secrets: &[SecretRow]) -> Result<ServiceAccount, ApiError> {
        Ok(ServiceAccount {
            id: self.id.clone(),
            client_id: self.id.clone(),
            unit_id: self.unit_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            roles: self.roles()?,
            status: self.status,
            secrets: secrets
                .iter()
                .map(|s| SecretInfo {
                    id: s.id.clone(),
                    hint: s.hint.clone(),
                    created_at: s.created_at.and_utc(),
                    expires_at: s.expires_at.map(|t| t.and_utc()),
                })
                .collect(),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
        })
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<AccountRow>, ApiError> {
    Ok(accounts::table.find(id).select(AccountRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &AccountRow) -> Result<(), ApiError> {
    diesel::insert_into(accounts::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes `row` if the account is still at `expected_version`.
pub fn update(conn: &mut DbConnection, row: &AccountRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(accounts::table.find(&row.id).filter(accounts::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// The secrets that work at `now`, newest first.
pub fn live_secrets(conn: &mut DbConnection, account: &str, now: NaiveDateTime) -> Result<Vec<SecretRow>, ApiError> {
    Ok(secrets::table
        .filter(secrets::account_id.eq(account))
        .filter(secrets::expires_at.is_null().or(secrets::expires_at.gt(now)))
        .order((secrets::created_at.desc(), secrets::id.desc()))
        .select(SecretRow::as_select())
        .load(conn)?)
}

/// The live secrets of each of `accounts`, newest first: a page's in one query per 500 accounts.
pub fn live_secrets_of(
    conn: &mut DbConnection,
    accounts: &[&str],
    now: NaiveDateTime,
) -> Result<std::collections::HashMap<String, Vec<SecretRow>>, ApiError> {
    let mut out: std::collections::HashMap<String, Vec<SecretRow>> = std::collections::HashMap::new();
    for chunk in accounts.chunks(500) {
        let rows: Vec<SecretRow> = secrets::table
            .filter(secrets::account_id.eq_any(chunk))
            .filter(secrets::expires_at.is_null().or(secrets::expires_at.gt(now)))
            .order((secrets::created_at.desc(), secrets::id.desc()))
            .select(SecretRow::as_select())
            .load(conn)?;
        for row in rows {
            out.entry(row.account_id.clone()).or_default().push(row);
        }
    }
    Ok(out)
}

pub fn insert_secret(conn: &mut DbConnection, row: &SecretRow) -> Result<(), ApiError> {
    diesel::insert_into(secrets::table).values(row).execute(conn)?;
    Ok(())
}

/// Sets when secrets `ids` stop working.
pub fn set_hash(conn: &mut DbConnection, id: &str, hash: &str) -> Result<(), ApiError> {
    diesel::update(secrets::table.find(id)).set(secrets::hash.eq(hash)).execute(conn)?;
    Ok(())
}

pub fn expire(conn: &mut DbConnection, ids: &[String], at: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(secrets::table.filter(secrets::id.eq_any(ids)))
        .set(secrets::expires_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// Accounts of units in `viewer`'s subtree, oldest first, a page at a time.
pub fn list(
    conn: &mut DbConnection,
    viewer: &str,
    unit_id: Option<&str>,
    status: Option<AccountStatus>,
    limit: i64,
    cursor: &Option<Cursor>,
) -> Result<(Vec<AccountRow>, Option<String>), ApiError> {
    let after = pagination::time_after(cursor)?;
    let rows: Vec<AccountRow> = crate::with_backend!(conn, |c| {
        let scope =
            unit_tree::table.filter(unit_tree::ancestor_id.eq(viewer.to_string())).select(unit_tree::descendant_id);
        let mut q = accounts::table.filter(accounts::unit_id.eq_any(scope)).into_boxed();
        if let Some(unit) = unit_id {
            q = q.filter(accounts::unit_id.eq(unit.to_string()));
        }
        if let Some(status) = status {
            q = q.filter(accounts::status.eq(status.as_str()));
        }
        let q = crate::keyset!(q, accounts::created_at, accounts::id, after.clone(), false);
        q.limit(limit + 1).select(AccountRow::as_select()).load(c)
    })?;
    Ok(pagination::finish_page(rows, limit, |r| Cursor {
        sort: "created_at".into(),
        key: Some(pagination::timestamp_key(&r.created_at)),
        id: r.id.clone(),
    }))
}

/// How the subject of a service account's token begins: `sa:` and the account id.
pub const SUBJECT_PREFIX: &str = "sa:";

/// The roles a token of account `id` may use now: its current roles if it is active, else none
/// (the token is refused). Checked on every request, so disabling takes effect at once.
pub fn current_roles(conn: &mut DbConnection, id: &str) -> Result<Option<(String, Vec<Role>)>, ApiError> {
    match find(conn, id)? {
        Some(a) if a.status == AccountStatus::Active => Ok(Some((a.unit_id.clone(), a.roles()?))),
        _ => Ok(None),
    }
}

/// The most failures any of `subjects` has had in the minute starting `window`: the token
/// endpoint's failure limit as every instance on the database sees it.
pub fn failures_in(conn: &mut DbConnection, subjects: &[String], window: NaiveDateTime) -> Result<i32, ApiError> {
    use crate::db::schema::token_failures as f;
    let counts: Vec<i32> =
        f::table.filter(f::subject.eq_any(subjects)).filter(f::window_start.eq(window)).select(f::n).load(conn)?;
    Ok(counts.into_iter().max().unwrap_or(0))
}

/// Counts a failure against each of `subjects` in the minute starting `window`, and forgets
/// minutes that have passed.
pub fn count_failure(conn: &mut DbConnection, subjects: &[String], window: NaiveDateTime) -> Result<(), ApiError> {
    use crate::db::schema::token_failures as f;
    for subject in subjects {
        crate::with_backend!(conn, |c| diesel::insert_into(f::table)
            .values((f::subject.eq(subject), f::window_start.eq(window), f::n.eq(1)))
            .on_conflict((f::subject, f::window_start))
            .do_update()
            .set(f::n.eq(f::n + 1))
            .execute(c))?;
    }
    diesel::delete(f::table.filter(f::window_start.lt(window))).execute(conn)?;
    Ok(())
}
