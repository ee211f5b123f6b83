-- Visitors become account-scoped identities with a public id that opens nothing. The `vvcu`
-- cookie's value (and a consumer API token) is a credential: only its SHA-256 is stored, and a
-- visitor is found by (account, hash). `visitors.id` is the public id that contacts, staff,
-- events and logs use. Rows from before this migration (id = the cookie value itself, no
-- account) are re-keyed once at start-up by `repo::visitor::rekey_legacy`.
ALTER TABLE visitors ADD COLUMN account_id TEXT;
ALTER TABLE visitors ADD COLUMN cookie_hash TEXT;
ALTER TABLE visitors ADD COLUMN token_hash TEXT;
CREATE UNIQUE INDEX visitors_account_cookie ON visitors (account_id, cookie_hash);
CREATE INDEX visitors_cookie ON visitors (cookie_hash);
CREATE UNIQUE INDEX visitors_token ON visitors (token_hash);
