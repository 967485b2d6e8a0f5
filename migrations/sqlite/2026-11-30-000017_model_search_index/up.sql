-- Model search on SQLite (issue 18): `q` was a LIKE '%…%' over every model, 13 req/s nationally
-- at a million models. A trigram index (FTS5) finds the models whose folded text holds a needle
-- of three characters or more, kept by triggers in the transaction of every write, as
-- PostgreSQL's pg_trgm index is.
--
-- The index's rows are keyed by a number of our own (models_search_rows.id, an INTEGER PRIMARY
-- KEY, which VACUUM keeps), not by the models table's implicit rowid, which VACUUM may renumber.
-- Contentless: the text is in models already; contentless_delete lets a row be replaced.
CREATE TABLE models_search_rows (
    id       INTEGER PRIMARY KEY,
    model_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE models_search USING fts5(
    search_text, content = '', contentless_delete = 1, tokenize = 'trigram'
);
INSERT INTO models_search_rows (model_id) SELECT id FROM models ORDER BY created_at, id;
INSERT INTO models_search (rowid, search_text)
    SELECT r.id, m.search_text FROM models_search_rows r JOIN models m ON m.id = r.model_id;

CREATE TRIGGER models_search_insert AFTER INSERT ON models BEGIN
    INSERT INTO models_search_rows (model_id) VALUES (new.id);
    INSERT INTO models_search (rowid, search_text)
        SELECT id, new.search_text FROM models_search_rows WHERE model_id = new.id;
END;
CREATE TRIGGER models_search_update AFTER UPDATE OF search_text ON models
WHEN old.search_text IS NOT new.search_text BEGIN
    DELETE FROM models_search WHERE rowid = (SELECT id FROM models_search_rows WHERE model_id = new.id);
    INSERT INTO models_search (rowid, search_text)
        SELECT id, new.search_text FROM models_search_rows WHERE model_id = new.id;
END;
CREATE TRIGGER models_search_delete AFTER DELETE ON models BEGIN
    DELETE FROM models_search WHERE rowid = (SELECT id FROM models_search_rows WHERE model_id = old.id);
    DELETE FROM models_search_rows WHERE model_id = old.id;
END;
