-- Evaluations: a unit above a model's owner scores it against a criteria set of its campaign and
-- decides. Finalised evaluations are immutable; a correction supersedes one.
CREATE TABLE evaluations (
    id                TEXT PRIMARY KEY,
    model_id          TEXT NOT NULL REFERENCES models(id),
    evaluator_unit_id TEXT NOT NULL REFERENCES units(id),
    review_kind       TEXT NOT NULL CHECK (review_kind IN ('annual','mid_term','final')),
    year              INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    criteria_set_code TEXT NOT NULL,
    criteria          TEXT NOT NULL,
    total_score       DOUBLE PRECISION NOT NULL CHECK (total_score >= 0),
    verdict           TEXT CHECK (verdict IN ('excellent','good','pass','fail')),
    decision          TEXT CHECK (decision IN ('recognize','not_recognize')),
    comment           TEXT,
    status            TEXT NOT NULL CHECK (status IN ('draft','finalized')),
    supersedes_id     TEXT REFERENCES evaluations(id),
    superseded_by_id  TEXT REFERENCES evaluations(id),
    finalized_at      TIMESTAMP,
    finalized_by      TEXT,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL CHECK (version >= 1),
    CHECK ((status = 'finalized') = (finalized_at IS NOT NULL)),
    CHECK (status = 'draft' OR (verdict IS NOT NULL AND decision IS NOT NULL)),
    CHECK (superseded_by_id IS NULL OR status = 'finalized')
);
-- At most one standing decision per model, review and year: the database settles a race of two
-- finalisations (the loser gets a unique violation, reported as 409).
CREATE UNIQUE INDEX evaluations_one_standing ON evaluations (model_id, review_kind, year)
    WHERE status = 'finalized' AND superseded_by_id IS NULL;
-- At most one finalised correction of a decision (drafts of several may exist).
CREATE UNIQUE INDEX evaluations_one_correction ON evaluations (supersedes_id) WHERE supersedes_id IS NOT NULL AND status = 'finalized';
CREATE INDEX evaluations_model ON evaluations (model_id, created_at, id);
CREATE INDEX evaluations_created ON evaluations (created_at, id);
CREATE INDEX evaluations_updated ON evaluations (updated_at, id);
