-- Count changes not yet folded into the count tables. On PostgreSQL a write adds its changes here
-- instead of updating the count rows: every registration changes the rows of its whole lineage up
-- to the nation, and writers queued on the nation's rows until each other's commit. Appending
-- takes no row lock; a fold (`reports::counts::fold`, run in the background) moves the rows into
-- the count tables, and a report reads both, so it is exact at every moment: a fold deletes the
-- deltas and adds them to the counts in one transaction. SQLite has one writer at a time and
-- writes the count tables directly; its delta tables stay empty.
--
-- Each has its count table's columns and an id of its own: rows only accumulate until folded.
CREATE TABLE model_count_deltas (
    id               BIGSERIAL PRIMARY KEY,
    scope_id         TEXT NOT NULL,
    own              INTEGER NOT NULL,
    unit_level       TEXT NOT NULL,
    campaign_id      TEXT NOT NULL,
    year             INTEGER NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    field            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    registered_level TEXT NOT NULL,
    n                BIGINT NOT NULL
);
CREATE INDEX model_count_deltas_scope ON model_count_deltas (scope_id);

CREATE TABLE model_area_count_deltas (
    id               BIGSERIAL PRIMARY KEY,
    scope_id         TEXT NOT NULL,
    own              INTEGER NOT NULL,
    special_area     TEXT NOT NULL,
    unit_level       TEXT NOT NULL,
    campaign_id      TEXT NOT NULL,
    year             INTEGER NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    field            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    registered_level TEXT NOT NULL,
    n                BIGINT NOT NULL
);
CREATE INDEX model_area_count_deltas_scope ON model_area_count_deltas (scope_id);

CREATE TABLE commendation_count_deltas (
    id               BIGSERIAL PRIMARY KEY,
    scope_id          TEXT NOT NULL,
    own               INTEGER NOT NULL,
    campaign_id       TEXT NOT NULL,
    year              INTEGER NOT NULL,
    status            TEXT NOT NULL,
    form              TEXT NOT NULL,
    subject           TEXT NOT NULL,
    issuing_authority TEXT NOT NULL,
    issuer_level      TEXT NOT NULL,
    n                 BIGINT NOT NULL
);
CREATE INDEX commendation_count_deltas_scope ON commendation_count_deltas (scope_id);

-- A fold can leave a count at zero (a model registered and submitted between two folds). Only
-- folds update counts now, a few rows each, so these indexes cost little; they let a fold remove
-- the zeros it made without reading the tables.
CREATE INDEX model_counts_zero ON model_counts (scope_id) WHERE n = 0;
CREATE INDEX model_area_counts_zero ON model_area_counts (scope_id) WHERE n = 0;
CREATE INDEX commendation_counts_zero ON commendation_counts (scope_id) WHERE n = 0;
