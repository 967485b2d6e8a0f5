-- The papers of a model, a progress report, a campaign or a decision. The bytes are in the
-- attachment store, addressed by their SHA-256; a row is written only after its object is, and
-- a deleted attachment stays as its own tombstone (deleted_at) for sync.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    parent_type     TEXT NOT NULL CHECK (parent_type IN ('model','progress','campaign','decision')),
    parent_id       TEXT NOT NULL,
    -- The unit the parent belongs to: whose subtree sees it, whose subscribers hear of it.
    unit_id         TEXT NOT NULL REFERENCES units(id),
    title           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo','document','decision_scan','other')),
    file_name       TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    public          BOOLEAN NOT NULL,
    -- What the public sees of a public photo: the photo without its location and camera
    -- metadata, and a small preview.
    public_sha256   TEXT,
    public_size     BIGINT,
    preview_sha256  TEXT,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP,
    deleted_by      TEXT,
    version         BIGINT NOT NULL
);
CREATE INDEX attachments_parent ON attachments (parent_type, parent_id, created_at, id);
CREATE INDEX attachments_unit_updated ON attachments (unit_id, updated_at, id);
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX attachments_public_sha256 ON attachments (public_sha256);
CREATE INDEX attachments_preview_sha256 ON attachments (preview_sha256);

-- A resumable upload (tus 1.0): what the attachment will be, and the parts received so far.
CREATE TABLE uploads (
    id              TEXT PRIMARY KEY,
    -- Who made it (issuer|subject): only they continue it.
    subject         TEXT NOT NULL,
    parent_type     TEXT NOT NULL CHECK (parent_type IN ('model','progress','campaign','decision')),
    parent_id       TEXT NOT NULL,
    title           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo','document','decision_scan','other')),
    file_name       TEXT NOT NULL,
    public          BOOLEAN NOT NULL,
    length          BIGINT NOT NULL,
    received        BIGINT NOT NULL,
    attachment_id   TEXT REFERENCES attachments(id),
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX uploads_expires ON uploads (expires_at);

-- Each part is its own object under a key of its own, recorded in the transaction that moves
-- the offset on: two PATCHes racing at one offset cannot overwrite each other's bytes.
CREATE TABLE upload_parts (
    upload_id       TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    start_offset    BIGINT NOT NULL,
    size            BIGINT NOT NULL,
    object_key      TEXT NOT NULL,
    PRIMARY KEY (upload_id, start_offset)
);
