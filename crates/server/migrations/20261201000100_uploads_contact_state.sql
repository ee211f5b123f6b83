-- Every new upload checks how many of its contact's uploads are unfinished (the cap): with the
-- state in the index that count reads the contact's unfinished entries alone, not every upload
-- the contact ever had, each from its row (work done while the write lock is held).
CREATE INDEX uploads_contact_state ON uploads (contact_id, state);
DROP INDEX uploads_contact;
