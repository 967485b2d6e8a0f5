-- Records carry the dates they happened on, not the dates they were typed in (issue 15): a
-- plan its document's issue date, a model its registration date. Rows written before take the
-- best date they have: a plan the day it was launched, a model the day it was created.
ALTER TABLE campaigns ADD COLUMN issued_on DATE;
UPDATE campaigns SET issued_on = CAST(launched_at AS DATE) WHERE launched_at IS NOT NULL;
ALTER TABLE models ADD COLUMN registered_on DATE;
UPDATE models SET registered_on = CAST(created_at AS DATE) WHERE status NOT IN ('draft', 'returned');
-- An evaluation its meeting's date (the day it was finalised, for those before).
ALTER TABLE evaluations ADD COLUMN evaluated_on DATE;
UPDATE evaluations SET evaluated_on = CAST(finalized_at AS DATE) WHERE finalized_at IS NOT NULL;
