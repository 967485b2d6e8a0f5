-- Search: q is a substring match on folded text (LIKE '%…%'), which no b-tree can serve; at a
-- million models a national search scanned them all. Trigram GIN indexes answer LIKE '%…%' for
-- needles of three characters or more. pg_trgm is a trusted extension: the database owner may
-- create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX models_search_trgm ON models USING gin (search_text gin_trgm_ops);
CREATE INDEX campaigns_search_trgm ON campaigns USING gin (search_text gin_trgm_ops);
