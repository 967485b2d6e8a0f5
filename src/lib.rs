//! dvk: the system of record for the "Dân vận khéo" emulation movement.

/// A closed set of values stored and sent as lower snake_case strings.
#[macro_export]
macro_rules! str_enum {
    // `$s:tt`, not `:literal`: a literal fragment reaches derive macros wrapped in an invisible
    // group, and utoipa then ignores the `serde(rename)`, documenting `Economy` for `economy`.
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $s:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $s)] $variant),+ }

        // A column of this type holds one of its codes: rows read and write the enum, never a
        // string that could be misspelt.
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let code = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                Self::parse(&code)
                    .ok_or_else(|| format!("unexpected {} in the database: {code:?}", stringify!($name)).into())
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }

            /// A value read back from the database, where a CHECK constraint guards it.
            pub fn from_db(s: &str) -> Result<$name, $crate::error::ApiError> {
                Self::parse(s).ok_or_else(|| $crate::error::ApiError::internal(
                    format!("unexpected {} in the database: {s:?}", stringify!($name))))
            }

            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl $crate::StrEnum for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn parse(s: &str) -> Option<$name> {
                $name::parse(s)
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// What every `str_enum!` is: a closed set of codes, for code that parses any of them.
pub trait StrEnum: Copy + PartialEq + 'static {
    const ALL: &'static [Self];
    fn parse(s: &str) -> Option<Self>;
    fn as_str(self) -> &'static str;
    /// Every code, in declaration order.
    fn codes() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.as_str()).collect()
    }
    fn names() -> String {
        Self::codes().join(", ")
    }
}

pub mod app;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod certificates;
pub mod changes;
pub mod commendations;
pub mod config;
pub mod dates;
pub mod db;
pub mod decisions;
pub mod error;
pub mod evaluations;
pub mod health;
pub mod http;
pub mod keyring;
pub mod labels;
pub mod lifecycle;
pub mod metrics;
pub mod models;
pub mod openapi;
#[cfg(test)]
mod properties;
pub mod public;
pub mod reports;
pub mod service_accounts;
pub mod storage;
pub mod tree;
pub mod units;
pub mod vocabulary;
pub mod webhooks;

pub use app::{AppState, Application};
