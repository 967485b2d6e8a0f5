DROP INDEX uploads_subject;
ALTER TABLE uploads DROP COLUMN finishing_until;
ALTER TABLE uploads DROP COLUMN parts;
