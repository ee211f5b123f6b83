-- Supervisors' review (portable between SQLite and PostgreSQL, like the core).

-- Every opening of a file, a preview or a contact's ZIP, written once its last byte went out.
-- `attachment_id` is empty for a "Download all". The records go with the contact's report.
CREATE TABLE access_records (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    attachment_id TEXT,
    file_name TEXT NOT NULL,
    what TEXT NOT NULL,
    who TEXT NOT NULL,
    who_id TEXT,
    who_name TEXT NOT NULL,
    grant_kind TEXT NOT NULL,
    address TEXT,
    range_start BIGINT,
    range_end BIGINT,
    bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX access_records_contact ON access_records (contact_id, created_at);

-- A file taken away (redacted, or expired by file-only retention): its bytes and preview leave
-- the store, the row stays as the transcript's tombstone.
ALTER TABLE attachments ADD COLUMN removed TEXT;
ALTER TABLE attachments ADD COLUMN removed_by TEXT;
ALTER TABLE attachments ADD COLUMN removed_by_name TEXT;
ALTER TABLE attachments ADD COLUMN removed_at BIGINT;
ALTER TABLE attachments ADD COLUMN removed_reason TEXT;
CREATE INDEX attachments_created ON attachments (created_at);
CREATE INDEX attachments_removed_at ON attachments (removed_at);

-- Plan: files go after N days while transcripts stay (0: with the report); report viewers may
-- redact when the account allows it.
ALTER TABLE accounts ADD COLUMN file_retention_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN reports_may_redact BIGINT NOT NULL DEFAULT 0;
