ALTER TABLE idempotency_keys DROP COLUMN committed_resource;
ALTER TABLE idempotency_keys DROP COLUMN held_until;
