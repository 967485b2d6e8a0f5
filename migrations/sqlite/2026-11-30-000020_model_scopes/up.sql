-- A per-scope index of models for the lists of province-level viewers, kept in the same
-- transaction as every model write (issue 18).
--
-- A province sees a few percent of the country's models. Its list walked the national creation
-- index and asked of each row whether its unit was in the province's lineage: about 1,300 probes
-- for a page of 50 in Hà Nội, a fifth of the national list's rate. Here each model has a row for
-- every province-level unit whose lineage holds its unit (its province, and a province it passed
-- into in a reorganisation), with the three sort keys lists offer, so a province's page is one
-- range scan of (scope, sort key, id). Smaller scopes read the owner index; the root needs no
-- scope at all. The rows follow the tree: a move or a reorganisation rebuilds them.
CREATE TABLE model_scopes (
    model_id   TEXT NOT NULL REFERENCES models(id),
    scope_id   TEXT NOT NULL REFERENCES units(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    title      TEXT NOT NULL,
    PRIMARY KEY (model_id, scope_id)
);
CREATE INDEX model_scopes_created ON model_scopes (scope_id, created_at, model_id);
CREATE INDEX model_scopes_updated ON model_scopes (scope_id, updated_at, model_id);
CREATE INDEX model_scopes_title ON model_scopes (scope_id, title, model_id);

INSERT INTO model_scopes (model_id, scope_id, created_at, updated_at, title)
SELECT m.id, l.ancestor_id, m.created_at, m.updated_at, m.title
FROM models m JOIN unit_lineage l ON l.descendant_id = m.unit_id JOIN units u ON u.id = l.ancestor_id
WHERE u.level = 'province';
