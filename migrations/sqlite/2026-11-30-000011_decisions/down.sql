CREATE UNIQUE INDEX commendations_decision_number ON commendations (issuer_unit_id, decision_year, decision_number)
    WHERE decision_number IS NOT NULL;
DROP INDEX commendations_decision;
ALTER TABLE commendations DROP COLUMN decision_id;
DROP TABLE decisions;
