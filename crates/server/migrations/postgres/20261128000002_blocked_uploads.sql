-- Uploads gain the state 'blocked' (the scanner gave no verdict; an admin may release the file).
ALTER TABLE uploads DROP CONSTRAINT uploads_state_known;
ALTER TABLE uploads ADD CONSTRAINT uploads_state_known CHECK (state IN ('receiving', 'ready', 'refused', 'blocked'));
