-- Uploads gain the state 'blocked' (the scanner gave no verdict; an admin may release the file).
DROP TRIGGER uploads_state_known_insert;
DROP TRIGGER uploads_state_known_update;
CREATE TRIGGER uploads_state_known_insert BEFORE INSERT ON uploads
WHEN NEW.state NOT IN ('receiving', 'ready', 'refused', 'blocked')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.state'); END;
CREATE TRIGGER uploads_state_known_update BEFORE UPDATE OF state ON uploads
WHEN NEW.state NOT IN ('receiving', 'ready', 'refused', 'blocked')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: uploads.state'); END;
