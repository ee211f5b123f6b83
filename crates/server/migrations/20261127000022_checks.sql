-- Checks both sides can see. Portable between SQLite and PostgreSQL, like the core.
--
-- An upload is 'checking' while it is 'receiving' with every byte in (derived, not stored: a
-- restart mid-check leaves it 'receiving', and the recovery pass checks it again). A new state
-- 'blocked' keeps a file the scanner gave no verdict on, bytes and all, until it expires or an
-- admin releases it: the release is recorded with who and when, on the upload and on the
-- attachment it becomes.
ALTER TABLE uploads ADD COLUMN released_by TEXT;
ALTER TABLE uploads ADD COLUMN released_by_name TEXT;
ALTER TABLE uploads ADD COLUMN released_at BIGINT;
ALTER TABLE attachments ADD COLUMN released_by TEXT;
ALTER TABLE attachments ADD COLUMN released_at BIGINT;
