-- Bytes a removal (a redaction, file-only retention) owes the store: written in the transaction
-- that marks the attachment removed, deleted once the store confirmed the object gone. The
-- retention job retries whatever is left (a store that was down), one claim at a time.
CREATE TABLE owed_deletes (
    store_key TEXT PRIMARY KEY,
    attachment_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX owed_deletes_claimed ON owed_deletes (claimed_until);
