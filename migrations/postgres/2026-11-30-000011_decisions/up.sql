-- A decision (quyết định khen thưởng) of an authority of an issuer unit: one number and date,
-- one signer, many recipients (issue 15). Its commendations join it while it is a draft and are
-- issued with it, in one transaction.
CREATE TABLE decisions (
    id                 TEXT PRIMARY KEY,
    issuer_unit_id     TEXT NOT NULL REFERENCES units(id),
    issuing_authority  TEXT NOT NULL CHECK (issuing_authority IN ('party_committee_standing_board','mass_mobilization_commission','peoples_committee_chair','fatherland_front','unit_head')),
    authority_title    TEXT NOT NULL,
    form               TEXT NOT NULL CHECK (form IN ('giay_khen','bang_khen')),
    number             TEXT NOT NULL,
    decided_on         DATE NOT NULL,
    decision_year      INTEGER NOT NULL,
    summary            TEXT,
    signer_name        TEXT,
    signer_position    TEXT,
    issuer_name        TEXT,
    issuer_level       TEXT CHECK (issuer_level IN ('central','province','district','commune','village')),
    status             TEXT NOT NULL CHECK (status IN ('draft','issued','revoked')),
    revocation_reason  TEXT,
    revocation_number  TEXT,
    revoked_on         DATE,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    version            BIGINT NOT NULL CHECK (version >= 1),
    CHECK ((status = 'revoked') = (revocation_reason IS NOT NULL)),
    CHECK (status = 'draft' OR issuer_name IS NOT NULL OR revocation_reason IS NOT NULL)
);
-- A decision number is the issuer's, once a year: the database settles two offices racing.
CREATE UNIQUE INDEX decisions_number ON decisions (issuer_unit_id, decision_year, number);
CREATE INDEX decisions_created ON decisions (created_at, id);
CREATE INDEX decisions_updated ON decisions (updated_at, id);
CREATE INDEX decisions_issuer ON decisions (issuer_unit_id, created_at, id);

ALTER TABLE commendations ADD COLUMN decision_id TEXT REFERENCES decisions(id);
CREATE INDEX commendations_decision ON commendations (decision_id);

-- Every commendation issued before decisions existed was its own decision: it becomes one, with
-- the commendation's id (ids are UUIDs, unique across tables).
INSERT INTO decisions (id, issuer_unit_id, issuing_authority, authority_title, form, number, decided_on,
                       decision_year, summary, signer_name, signer_position, issuer_name, issuer_level, status,
                       revocation_reason, revocation_number, revoked_on, created_by, created_at, updated_at, version)
SELECT id, issuer_unit_id, issuing_authority, authority_title, form, decision_number, decided_on,
       decision_year, NULL, NULL, NULL, issuer_name, issuer_level, 'issued',
       NULL, NULL, NULL, created_by, created_at, updated_at, 1
FROM commendations WHERE decision_number IS NOT NULL AND decided_on IS NOT NULL AND issuer_name IS NOT NULL;
UPDATE commendations SET decision_id = id WHERE decision_number IS NOT NULL AND decided_on IS NOT NULL AND issuer_name IS NOT NULL;

-- Many commendations share their decision's number now: the number is unique on the decision.
DROP INDEX commendations_decision_number;
