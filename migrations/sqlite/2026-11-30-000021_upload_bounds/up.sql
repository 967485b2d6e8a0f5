-- What bounds a resumable upload's cost to the server:
-- `parts` counts the parts recorded, so a PATCH is refused past the most parts without
-- counting them in a query of its own, and the bound holds against racing PATCHes;
-- `finishing_until` is the lease of the one request making the attachment from the parts
-- (the last step reads the whole file back): a second one waits for it, never runs beside it;
-- the index counts a caller's open uploads, which are capped.
ALTER TABLE uploads ADD COLUMN parts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN finishing_until TIMESTAMP;
UPDATE uploads SET parts = (SELECT count(*) FROM upload_parts p WHERE p.upload_id = uploads.id);
CREATE INDEX uploads_subject ON uploads (subject, expires_at);
