ALTER TABLE models DROP COLUMN deregistered_on;
