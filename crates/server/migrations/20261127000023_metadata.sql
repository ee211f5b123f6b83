-- Metadata removed from photos before they are stored (portable between SQLite and PostgreSQL).
-- An account may keep it (some businesses need the photo's time); an attachment says whether
-- location and camera data were removed from it.
ALTER TABLE accounts ADD COLUMN keep_metadata BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attachments ADD COLUMN metadata_removed BIGINT NOT NULL DEFAULT 0;
