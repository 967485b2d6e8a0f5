-- The scope index of models (migration 000020) for commune-level viewers too (issue 18).
--
-- A commune sees a few hundred models at a million: its list read them all through the owner
-- index and sorted them for each page of 50, and ran at three quarters of the national list's
-- rate (SQLite, `bench/run`), more slowly as the records grow. With its own rows, a commune's
-- page is one range scan of (scope, sort key, id), as a province's is. The rows of the communes
-- that hold each model's unit in their lineage, as the models store now writes them.
INSERT INTO model_scopes (model_id, scope_id, created_at, updated_at, title)
SELECT m.id, l.ancestor_id, m.created_at, m.updated_at, m.title
FROM models m JOIN unit_lineage l ON l.descendant_id = m.unit_id JOIN units u ON u.id = l.ancestor_id
WHERE u.level = 'commune';
