-- Stored enum values are the protocol's names and nothing else; sizes and offsets are never
-- negative. The repo refuses a row that breaks this (corruption, not a default); these checks
-- keep such rows out in the first place. ../postgres/ (same version) adds them as CHECK
-- constraints. SQLite cannot add a CHECK to an existing table without rebuilding it, and a rebuild
-- needs foreign keys off, which SQLite ignores inside the transaction sqlx runs every migration
-- in: here the same conditions are triggers that abort the write.
CREATE TRIGGER users_role_known_insert BEFORE INSERT ON users
WHEN NEW.role NOT IN ('agent', 'supervisor', 'admin')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: users.role'); END;
CREATE TRIGGER users_role_known_update BEFORE UPDATE OF role ON users
WHEN NEW.role NOT IN ('agent', 'supervisor', 'admin')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: users.role'); END;
CREATE TRIGGER contacts_state_known_insert BEFORE INSERT ON contacts
WHEN NEW.state NOT IN ('queued', 'active', 'closed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: contacts.state'); END;
CREATE TRIGGER contacts_state_known_update BEFORE UPDATE OF state ON contacts
WHEN NEW.state NOT IN ('queued', 'active', 'closed')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: contacts.state'); END;
CREATE TRIGGER contacts_closed_by_known_insert BEFORE INSERT ON contacts
WHEN NEW.closed_by NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: contacts.closed_by'); END;
CREATE TRIGGER contacts_closed_by_known_update BEFORE UPDATE OF closed_by ON contacts
WHEN NEW.closed_by NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: contacts.closed_by'); END;
CREATE TRIGGER messages_sender_known_insert BEFORE INSERT ON messages
WHEN NEW.sender NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: messages.sender'); END;
CREATE TRIGGER messages_sender_known_update BEFORE UPDATE OF sender ON messages
WHEN NEW.sender NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: messages.sender'); END;
CREATE TRIGGER uploads_sender_known_insert BEFORE INSERT ON uploads
WHEN NEW.sender NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.sender'); END;
CREATE TRIGGER uploads_sender_known_update BEFORE UPDATE OF sender ON uploads
WHEN NEW.sender NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.sender'); END;
CREATE TRIGGER uploads_state_known_insert BEFORE INSERT ON uploads
WHEN NEW.state NOT IN ('receiving', 'ready', 'refused')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.state'); END;
CREATE TRIGGER uploads_state_known_update BEFORE UPDATE OF state ON uploads
WHEN NEW.state NOT IN ('receiving', 'ready', 'refused')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.state'); END;
CREATE TRIGGER attachments_sender_known_insert BEFORE INSERT ON attachments
WHEN NEW.sender NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: attachments.sender'); END;
CREATE TRIGGER attachments_sender_known_update BEFORE UPDATE OF sender ON attachments
WHEN NEW.sender NOT IN ('agent', 'customer')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: attachments.sender'); END;
CREATE TRIGGER uploads_length_known_insert BEFORE INSERT ON uploads
WHEN NEW.length < 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.length'); END;
CREATE TRIGGER uploads_length_known_update BEFORE UPDATE OF length ON uploads
WHEN NEW.length < 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.length'); END;
CREATE TRIGGER uploads_upload_offset_known_insert BEFORE INSERT ON uploads
WHEN NEW.upload_offset < 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.upload_offset'); END;
CREATE TRIGGER uploads_upload_offset_known_update BEFORE UPDATE OF upload_offset ON uploads
WHEN NEW.upload_offset < 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.upload_offset'); END;
CREATE TRIGGER attachments_size_known_insert BEFORE INSERT ON attachments
WHEN NEW.size < 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: attachments.size'); END;
CREATE TRIGGER attachments_size_known_update BEFORE UPDATE OF size ON attachments
WHEN NEW.size < 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: attachments.size'); END;
