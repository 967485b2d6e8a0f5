-- Units: the hierarchy every record hangs on. Ids are UUID v7 text (time-ordered for keyset paging).
CREATE TABLE units (
    id            TEXT PRIMARY KEY NOT NULL,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    short_name    TEXT,
    search_text   TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('locality','party_body','government_agency','front_or_association','armed_forces','school','enterprise','other')),
    level         TEXT NOT NULL CHECK (level IN ('central','province','district','commune','village')),
    division_type TEXT,
    parent_id     TEXT REFERENCES units(id),
    status        TEXT NOT NULL CHECK (status IN ('active','closed')),
    closed_on     DATE,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL CHECK (version >= 1),
    CHECK ((status = 'closed') = (closed_on IS NOT NULL)),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
-- A code is unique among active units only: a reorganisation may give a closed unit's code to a new one.
CREATE UNIQUE INDEX units_active_code ON units (code) WHERE status = 'active';
CREATE INDEX units_code ON units (code);
CREATE INDEX units_parent ON units (parent_id, id);
CREATE INDEX units_updated ON units (updated_at, id);

-- Succession after a reorganisation: the primary successor takes the predecessor's records.
CREATE TABLE unit_successors (
    predecessor_id TEXT NOT NULL REFERENCES units(id),
    successor_id   TEXT NOT NULL REFERENCES units(id),
    is_primary     BOOLEAN NOT NULL,
    PRIMARY KEY (predecessor_id, successor_id),
    CHECK (predecessor_id <> successor_id)
);
CREATE INDEX unit_successors_successor ON unit_successors (successor_id);
CREATE UNIQUE INDEX unit_successors_one_primary ON unit_successors (predecessor_id) WHERE is_primary;

-- Closure of the parent tree (depth 0 = the unit itself): subtree checks are one indexed lookup.
CREATE TABLE unit_tree (
    ancestor_id   TEXT NOT NULL REFERENCES units(id),
    descendant_id TEXT NOT NULL REFERENCES units(id),
    depth         INTEGER NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX unit_tree_descendant ON unit_tree (descendant_id, depth);

-- Closure of the tree plus primary-succession edges: what a unit sees, predecessors' records included.
CREATE TABLE unit_lineage (
    ancestor_id   TEXT NOT NULL REFERENCES units(id),
    descendant_id TEXT NOT NULL REFERENCES units(id),
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX unit_lineage_descendant ON unit_lineage (descendant_id);

CREATE TABLE audit_events (
    id            TEXT PRIMARY KEY NOT NULL,
    occurred_at   TIMESTAMP NOT NULL,
    actor_sub     TEXT NOT NULL,
    actor_unit_id TEXT REFERENCES units(id),
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    unit_id       TEXT REFERENCES units(id),
    before        TEXT,
    after         TEXT,
    request_id    TEXT
);
CREATE INDEX audit_events_unit ON audit_events (unit_id, id);
CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_id, id);

-- Idempotency-Key records, shared by every instance (they live in the database, not in memory).
CREATE TABLE idempotency_keys (
    subject       TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending','done')),
    status        INTEGER,
    content_type  TEXT,
    headers       TEXT,
    body          TEXT,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (subject, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- A fresh database holds the root: the nation, at central level, so an admin of VN can build the rest.
INSERT INTO units (id, code, name, short_name, search_text, kind, level, division_type, parent_id, status, closed_on, created_at, updated_at, version)
VALUES ('0190c000-0000-7000-8000-000000000001', 'VN', 'Việt Nam', 'VN', 'vn viet nam vn', 'locality', 'central', NULL, NULL, 'active', NULL,
        strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1);
INSERT INTO unit_tree (ancestor_id, descendant_id, depth) VALUES ('0190c000-0000-7000-8000-000000000001', '0190c000-0000-7000-8000-000000000001', 0);
INSERT INTO unit_lineage (ancestor_id, descendant_id) VALUES ('0190c000-0000-7000-8000-000000000001', '0190c000-0000-7000-8000-000000000001');
