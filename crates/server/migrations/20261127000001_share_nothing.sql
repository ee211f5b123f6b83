-- Share-nothing instances and crash-safe uploads.

-- An upload's lease: the instance (request) writing or finishing it, until when. Two PATCHes of
-- one upload never interleave, whichever instances they reach; a dead instance's lease expires.
ALTER TABLE uploads ADD COLUMN lease_owner TEXT;
ALTER TABLE uploads ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
-- Where the bytes so far are, as the staging area of the store keeps them (S3: the multipart
-- upload's id, its parts and the tail object; local: empty). Updated with the offset, in one row.
ALTER TABLE uploads ADD COLUMN staged TEXT NOT NULL DEFAULT '';
-- 1 while a complete upload waits to be published by its sender (the consumer API's PublishEvent
-- names its caption); 0 when it is finished as soon as its last byte is in (tus).
ALTER TABLE uploads ADD COLUMN hold BIGINT NOT NULL DEFAULT 0;

-- One attachment per upload, whoever finishes it and however often a crash makes it try.
ALTER TABLE attachments ADD COLUMN upload_id TEXT;
CREATE UNIQUE INDEX attachments_upload ON attachments (upload_id);

-- Token lookups under every configured secret (a rotation adds the new secret's lookups).
CREATE TABLE attachment_lookups (
    lookup TEXT PRIMARY KEY,
    attachment_id TEXT NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    key_id TEXT NOT NULL
);
CREATE INDEX attachment_lookups_attachment ON attachment_lookups (attachment_id, key_id);

-- Events owed by a committed change (an attachment published, an upload refused): written in the
-- same transaction, sent after it, and sent after a restart when the process died in between.
CREATE TABLE pending_events (
    id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
