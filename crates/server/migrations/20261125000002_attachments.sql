-- Attachments and their tus uploads. Portable between SQLite and PostgreSQL, like the core.

-- An upload in progress (or just finished / refused, kept until it expires so its uploader can
-- ask what became of it). The bytes are in the staging folder under the upload's id.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    uploader TEXT NOT NULL,
    file_name TEXT NOT NULL,
    declared_type TEXT NOT NULL,
    description TEXT,
    metadata TEXT NOT NULL,
    length BIGINT NOT NULL,
    upload_offset BIGINT NOT NULL,
    state TEXT NOT NULL,
    message_id TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX uploads_contact ON uploads (contact_id);
CREATE INDEX uploads_expiry ON uploads (expires_at);

-- A checked file in the store. `lookup` is the SHA-256 of the token's attachment part; the token
-- itself is derived from the ids under the server secret and never stored.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    lookup TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    description TEXT,
    size BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    declared_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_key TEXT NOT NULL,
    preview_key TEXT,
    width BIGINT,
    height BIGINT,
    sender TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_contact ON attachments (contact_id);
CREATE INDEX attachments_message ON attachments (message_id);
