-- Stored enum values are the protocol's names and nothing else; sizes and offsets are never
-- negative. The repo refuses a row that breaks this (corruption, not a default); these CHECKs
-- keep such rows out in the first place. PostgreSQL adds them in place; SQLite rebuilds its
-- tables for the same constraints (../sqlite/, same version).
ALTER TABLE users ADD CONSTRAINT users_role_known CHECK (role IN ('agent', 'supervisor', 'admin'));
ALTER TABLE contacts ADD CONSTRAINT contacts_state_known CHECK (state IN ('queued', 'active', 'closed'));
ALTER TABLE contacts ADD CONSTRAINT contacts_closed_by_known CHECK (closed_by IN ('agent', 'customer'));
ALTER TABLE messages ADD CONSTRAINT messages_sender_known CHECK (sender IN ('agent', 'customer'));
ALTER TABLE uploads ADD CONSTRAINT uploads_sender_known CHECK (sender IN ('agent', 'customer'));
ALTER TABLE uploads ADD CONSTRAINT uploads_state_known CHECK (state IN ('receiving', 'ready', 'refused'));
ALTER TABLE uploads ADD CONSTRAINT uploads_sizes_known CHECK (length >= 0 AND upload_offset >= 0);
ALTER TABLE attachments ADD CONSTRAINT attachments_sender_known CHECK (sender IN ('agent', 'customer'));
ALTER TABLE attachments ADD CONSTRAINT attachments_size_known CHECK (size >= 0);
