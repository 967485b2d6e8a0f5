DROP INDEX campaigns_search_trgm;
DROP INDEX models_search_trgm;
