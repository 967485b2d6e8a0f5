-- Idempotency keys belong to a subject, the authority its token carried and an operation
-- (issue 14): a replay never answers a caller the first request would not have answered. The
-- table holds answers for 24 hours only, so it is made anew.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    subject       TEXT NOT NULL,
    authority     TEXT NOT NULL,
    operation     TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending','done')),
    status        INTEGER,
    content_type  TEXT,
    headers       TEXT,
    body          TEXT,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (subject, authority, operation, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The audit log's request id is the server's; a client's X-Request-Id is kept beside it.
ALTER TABLE audit_events ADD COLUMN client_request_id TEXT;
