ALTER TABLE evaluations DROP COLUMN evaluated_on;
ALTER TABLE models DROP COLUMN registered_on;
ALTER TABLE campaigns DROP COLUMN issued_on;
