-- Models (mô hình) and exemplars (điển hình) registered under a campaign by a unit.
-- Indicators and the status history are JSON text: read and written whole with their model.
CREATE TABLE models (
    id                 TEXT PRIMARY KEY NOT NULL,
    campaign_id        TEXT NOT NULL REFERENCES campaigns(id),
    unit_id            TEXT NOT NULL REFERENCES units(id),
    title              TEXT NOT NULL,
    description        TEXT,
    search_text        TEXT NOT NULL,
    subject            TEXT NOT NULL CHECK (subject IN ('collective','individual')),
    person_name        TEXT,
    person_position    TEXT,
    kind               TEXT NOT NULL CHECK (kind IN ('comprehensive','by_field')),
    field              TEXT CHECK (field IN ('economy','culture_society','defense_security','political_system','professional')),
    special_areas      TEXT NOT NULL,
    registered_level   TEXT NOT NULL CHECK (registered_level IN ('central','province','district','commune','village')),
    year               INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    objectives         TEXT,
    indicators         TEXT NOT NULL,
    replicated_from_id TEXT REFERENCES models(id),
    status             TEXT NOT NULL CHECK (status IN ('draft','registered','returned','in_progress','recognized','not_recognized','withdrawn')),
    status_history     TEXT NOT NULL,
    latest_progress_on DATE,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    version            BIGINT NOT NULL CHECK (version >= 1),
    CHECK ((kind = 'by_field') = (field IS NOT NULL)),
    CHECK ((subject = 'individual') = (person_name IS NOT NULL)),
    CHECK (replicated_from_id IS NULL OR replicated_from_id <> id)
);
-- Lists filter by visible units (an IN over the viewer's subtree) and page in (sort key, id)
-- order: one index per sort key lets the database walk a page in order and stop at the limit;
-- (unit_id, created_at, id) serves a small subtree (a commune, a district) without a scan.
CREATE INDEX models_unit ON models (unit_id, created_at, id);
CREATE INDEX models_created ON models (created_at, id);
CREATE INDEX models_updated ON models (updated_at, id);
CREATE INDEX models_title ON models (title, id);
CREATE INDEX models_campaign ON models (campaign_id, created_at, id);
CREATE INDEX models_status ON models (status, created_at, id);
CREATE INDEX models_replicated_from ON models (replicated_from_id) WHERE replicated_from_id IS NOT NULL;

-- Special-area tags, one row each, so a filter on one tag is an index lookup, not a scan of JSON.
CREATE TABLE model_special_areas (
    model_id     TEXT NOT NULL REFERENCES models(id),
    special_area TEXT NOT NULL CHECK (special_area IN ('religious','ethnic_minority','industrial_zone','border','hot_spot','other')),
    PRIMARY KEY (model_id, special_area)
);
CREATE INDEX model_special_areas_area ON model_special_areas (special_area, model_id);

-- Progress reports filed while a model is in progress (follow-up: theo dõi, kiểm tra).
CREATE TABLE model_progress (
    id               TEXT PRIMARY KEY NOT NULL,
    model_id         TEXT NOT NULL REFERENCES models(id),
    reported_on      DATE NOT NULL,
    text             TEXT NOT NULL,
    indicator_values TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX model_progress_model ON model_progress (model_id, reported_on, id);
