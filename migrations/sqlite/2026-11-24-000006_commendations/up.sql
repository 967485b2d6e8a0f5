-- Commendations (khen thưởng): a giấy khen or bằng khen decided by an authority of a unit above
-- a recognised model, for the achievement an evaluation recognised.
CREATE TABLE commendations (
    id                         TEXT PRIMARY KEY NOT NULL,
    model_id                   TEXT NOT NULL REFERENCES models(id),
    evaluation_id              TEXT NOT NULL REFERENCES evaluations(id),
    recipient_subject          TEXT NOT NULL CHECK (recipient_subject IN ('collective','individual')),
    recipient_unit_id          TEXT REFERENCES units(id),
    recipient_name             TEXT,
    form                       TEXT NOT NULL CHECK (form IN ('giay_khen','bang_khen')),
    issuer_unit_id             TEXT NOT NULL REFERENCES units(id),
    issuing_authority          TEXT NOT NULL CHECK (issuing_authority IN ('party_committee_standing_board','mass_mobilization_commission','peoples_committee_chair','fatherland_front','unit_head')),
    authority_title            TEXT NOT NULL,
    issuer_name                TEXT,
    issuer_level               TEXT CHECK (issuer_level IN ('central','province','district','commune','village')),
    decision_number            TEXT,
    decided_on                 DATE,
    decision_year              INTEGER,
    reason                     TEXT NOT NULL,
    amount_vnd                 BIGINT CHECK (amount_vnd >= 0),
    status                     TEXT NOT NULL CHECK (status IN ('proposed','issued','revoked')),
    revocation_reason          TEXT,
    revocation_decision_number TEXT,
    revoked_on                 DATE,
    created_by                 TEXT NOT NULL,
    created_at                 TIMESTAMP NOT NULL,
    updated_at                 TIMESTAMP NOT NULL,
    version                    BIGINT NOT NULL CHECK (version >= 1),
    CHECK ((recipient_subject = 'collective') = (recipient_unit_id IS NOT NULL)),
    CHECK (status = 'proposed' OR revocation_reason IS NOT NULL OR (decision_number IS NOT NULL AND decided_on IS NOT NULL AND issuer_name IS NOT NULL)),
    CHECK ((status = 'revoked') = (revocation_reason IS NOT NULL))
);
-- One achievement is commended once: at most one commendation not revoked per recognising
-- evaluation. The database settles concurrent proposals.
CREATE UNIQUE INDEX commendations_one_per_achievement ON commendations (evaluation_id) WHERE status <> 'revoked';
-- A decision number is the issuer's, once a year.
CREATE UNIQUE INDEX commendations_decision_number ON commendations (issuer_unit_id, decision_year, decision_number)
    WHERE decision_number IS NOT NULL;
CREATE INDEX commendations_model ON commendations (model_id, created_at, id);
CREATE INDEX commendations_created ON commendations (created_at, id);
CREATE INDEX commendations_updated ON commendations (updated_at, id);
