-- Campaigns: launched by a unit, optionally implementing a campaign of a unit above.
-- Structured lists (fields, directives, targets, review points, criteria sets) are JSON text:
-- they are read and written whole with their campaign, never queried apart.
CREATE TABLE campaigns (
    id                 TEXT PRIMARY KEY NOT NULL,
    code               TEXT NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT,
    search_text        TEXT NOT NULL,
    unit_id            TEXT NOT NULL REFERENCES units(id),
    parent_campaign_id TEXT REFERENCES campaigns(id),
    starts_on          DATE NOT NULL,
    ends_on            DATE NOT NULL,
    fields             TEXT NOT NULL,
    directives         TEXT NOT NULL,
    targets            TEXT NOT NULL,
    review_points      TEXT NOT NULL,
    criteria_sets      TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft','active','closed','cancelled')),
    launched_at        TIMESTAMP,
    closed_at          TIMESTAMP,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    version            BIGINT NOT NULL CHECK (version >= 1),
    CHECK (starts_on <= ends_on),
    CHECK (parent_campaign_id IS NULL OR parent_campaign_id <> id)
);
-- A document number is unique within its unit, cancelled campaigns aside.
CREATE UNIQUE INDEX campaigns_unit_code ON campaigns (unit_id, code) WHERE status <> 'cancelled';
CREATE INDEX campaigns_unit ON campaigns (unit_id, id);
CREATE INDEX campaigns_parent ON campaigns (parent_campaign_id, id);
CREATE INDEX campaigns_updated ON campaigns (updated_at, id);
CREATE INDEX campaigns_starts ON campaigns (starts_on, id);
