-- Model counts for reports, kept in the same transaction as every model write.
--
-- A row counts the models of one scope (a unit and everything below it, from unit_tree) that share
-- every counted attribute. `own` = 1 for the models the scope unit owns itself, so a report grouped
-- by unit reads each child's rows and the root's own ones. Ancestors of a model's unit each hold a
-- row for it: a national report reads the few hundred rows of the root, never the models.
-- `field` is '' for comprehensive models (a NULL would defeat the primary key).
CREATE TABLE model_counts (
    scope_id         TEXT NOT NULL REFERENCES units(id),
    own              INTEGER NOT NULL CHECK (own IN (0, 1)),
    unit_level       TEXT NOT NULL,
    campaign_id      TEXT NOT NULL,
    year             INTEGER NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    field            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    registered_level TEXT NOT NULL,
    n                BIGINT NOT NULL,
    PRIMARY KEY (scope_id, own, campaign_id, year, status, kind, field, subject, registered_level, unit_level)
);

-- The same per special-area tag: a model with two tags counts once under each.
CREATE TABLE model_area_counts (
    scope_id         TEXT NOT NULL REFERENCES units(id),
    own              INTEGER NOT NULL CHECK (own IN (0, 1)),
    special_area     TEXT NOT NULL,
    unit_level       TEXT NOT NULL,
    campaign_id      TEXT NOT NULL,
    year             INTEGER NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    field            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    registered_level TEXT NOT NULL,
    n                BIGINT NOT NULL,
    PRIMARY KEY (scope_id, own, special_area, campaign_id, year, status, kind, field, subject, registered_level, unit_level)
);

-- Models already written before this migration are counted once here.
INSERT INTO model_counts (scope_id, own, unit_level, campaign_id, year, status, kind, field, subject, registered_level, n)
SELECT t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, u.level, m.campaign_id, m.year, m.status, m.kind,
       COALESCE(m.field, ''), m.subject, m.registered_level, COUNT(*)
FROM models m JOIN units u ON u.id = m.unit_id JOIN unit_tree t ON t.descendant_id = m.unit_id
GROUP BY t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, u.level, m.campaign_id, m.year, m.status, m.kind,
         COALESCE(m.field, ''), m.subject, m.registered_level;

INSERT INTO model_area_counts (scope_id, own, special_area, unit_level, campaign_id, year, status, kind, field, subject, registered_level, n)
SELECT t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, a.special_area, u.level, m.campaign_id, m.year, m.status, m.kind,
       COALESCE(m.field, ''), m.subject, m.registered_level, COUNT(*)
FROM models m JOIN model_special_areas a ON a.model_id = m.id JOIN units u ON u.id = m.unit_id
     JOIN unit_tree t ON t.descendant_id = m.unit_id
GROUP BY t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, a.special_area, u.level, m.campaign_id, m.year, m.status,
         m.kind, COALESCE(m.field, ''), m.subject, m.registered_level;

-- Commendation reports group by the issuer and filter by the year of the decision.
CREATE INDEX commendations_issuer ON commendations (issuer_unit_id, decision_year);
