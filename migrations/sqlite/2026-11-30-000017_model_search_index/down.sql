DROP TRIGGER models_search_delete;
DROP TRIGGER models_search_update;
DROP TRIGGER models_search_insert;
DROP TABLE models_search;
DROP TABLE models_search_rows;
