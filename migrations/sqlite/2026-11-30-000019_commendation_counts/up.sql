-- Commendation counts for reports, kept in the same transaction as every commendation write, as
-- model_counts are for models: a national report reads the few dozen rows of the root instead of
-- every commendation.
--
-- A row counts the issued or revoked commendations of the models of one scope (a unit and everything
-- below it, from unit_tree) that share every counted attribute; `own` = 1 for the models the scope
-- unit owns itself. The campaign is the model's. The issuer unit is not a column: it would multiply
-- the rows by every issuer in the country, and a report on one issuer reads its own index
-- (commendations_issuer). `issuer_level` is '' when unknown (a NULL would defeat the primary key).
CREATE TABLE commendation_counts (
    scope_id          TEXT NOT NULL REFERENCES units(id),
    own               INTEGER NOT NULL CHECK (own IN (0, 1)),
    campaign_id       TEXT NOT NULL,
    year              INTEGER NOT NULL,
    status            TEXT NOT NULL,
    form              TEXT NOT NULL,
    subject           TEXT NOT NULL,
    issuing_authority TEXT NOT NULL,
    issuer_level      TEXT NOT NULL,
    n                 BIGINT NOT NULL,
    PRIMARY KEY (scope_id, own, campaign_id, year, status, form, subject, issuing_authority, issuer_level)
);

-- Commendations already written before this migration are counted once here.
INSERT INTO commendation_counts (scope_id, own, campaign_id, year, status, form, subject, issuing_authority, issuer_level, n)
SELECT t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, m.campaign_id, COALESCE(c.decision_year, 0), c.status,
       c.form, c.recipient_subject, c.issuing_authority, COALESCE(c.issuer_level, ''), COUNT(*)
FROM commendations c JOIN models m ON m.id = c.model_id JOIN unit_tree t ON t.descendant_id = m.unit_id
WHERE c.status IN ('issued', 'revoked')
GROUP BY t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, m.campaign_id, COALESCE(c.decision_year, 0), c.status,
         c.form, c.recipient_subject, c.issuing_authority, COALESCE(c.issuer_level, '');
