//! The rules of decisions, as plain data.

use crate::lifecycle::Lifecycle;

use super::types::{DecisionAction, DecisionStatus};

use DecisionAction::*;
use DecisionStatus::*;

/// A draft is issued (every commendation it lists with it) or abandoned; an issued decision is
/// revoked (every commendation of it with it).
pub const LIFECYCLE: Lifecycle<DecisionStatus, DecisionAction> =
    Lifecycle { transitions: &[(Draft, Issue, Issued), (Draft, Revoke, Revoked), (Issued, Revoke, Revoked)] };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_is_issued_once_and_revoked_once() {
        assert_eq!(LIFECYCLE.allowed(Draft), vec![Issue, Revoke]);
        assert_eq!(LIFECYCLE.apply(Issued, Revoke).unwrap(), Revoked);
        assert!(LIFECYCLE.apply(Issued, Issue).is_err());
        assert!(LIFECYCLE.allowed(Revoked).is_empty());
    }
}
