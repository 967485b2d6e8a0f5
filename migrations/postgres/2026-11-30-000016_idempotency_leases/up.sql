-- A pending key is held by the request running it for a short lease, renewed while it runs: a
-- retry takes over a key whose request died (instance killed, database failed over) once the
-- lease ends, not after five minutes. The write's own transaction names what it changed, so a
-- retry after a crash between the commit and the stored answer never runs the write twice.
ALTER TABLE idempotency_keys ADD COLUMN held_until TIMESTAMP;
ALTER TABLE idempotency_keys ADD COLUMN committed_resource TEXT;
