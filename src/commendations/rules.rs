//! The rules of commendations, as plain functions and data.

use crate::lifecycle::Lifecycle;
use crate::units::types::Level;

use super::types::{CommendationAction, CommendationStatus, Form};

use CommendationAction::*;
use CommendationStatus::*;

pub const LIFECYCLE: Lifecycle<CommendationStatus, CommendationAction> =
    Lifecycle { transitions: &[(Proposed, Issue, Issued), (Proposed, Revoke, Revoked), (Issued, Revoke, Revoked)] };

/// The lowest level whose units may award each form (Law on Emulation and Commendation 2022):
/// a bằng khen from province level up, a giấy khen from commune level up. Agencies and Party
/// bodies follow the level they sit at. Changing who may award what is a change to this table.
pub const FORM_AUTHORITY: &[(Form, Level)] = &[(Form::BangKhen, Level::Province), (Form::GiayKhen, Level::Commune)];

/// Whether a unit at `level` may award `form`.
pub fn may_award(form: Form, level: Level) -> bool {
    FORM_AUTHORITY.iter().any(|(f, lowest)| *f == form && level.at_or_above(*lowest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_award_what() {
        assert!(may_award(Form::BangKhen, Level::Province) && may_award(Form::BangKhen, Level::Central));
        assert!(!may_award(Form::BangKhen, Level::District));
        assert!(may_award(Form::GiayKhen, Level::District) && may_award(Form::GiayKhen, Level::Commune));
        assert!(!may_award(Form::GiayKhen, Level::Village));
        assert!(LIFECYCLE.apply(Revoked, Revoke).is_err());
        assert_eq!(LIFECYCLE.allowed(Issued), vec![Revoke]);
    }
}
