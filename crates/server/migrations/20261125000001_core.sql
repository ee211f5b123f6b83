-- Portable between SQLite and PostgreSQL: TEXT ids, BIGINT times (microseconds since the epoch),
-- BIGINT 0/1 flags. Keep it that way; the same file runs on both.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    max_upload_bytes BIGINT NOT NULL,
    file_sharing_enabled BIGINT NOT NULL,
    report_retention_days BIGINT NOT NULL,
    allowed_types TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    reports BIGINT NOT NULL,
    supervisor_id TEXT REFERENCES users(id),
    disabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, username)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE visitors (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    visitor_id TEXT NOT NULL REFERENCES visitors(id),
    customer_name TEXT NOT NULL,
    state TEXT NOT NULL,
    agent_id TEXT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    closed_at BIGINT,
    closed_by TEXT,
    report_expires_at BIGINT
);
CREATE INDEX contacts_account_state ON contacts (account_id, state);
CREATE INDEX contacts_agent ON contacts (agent_id);
CREATE INDEX contacts_visitor ON contacts (visitor_id);
CREATE INDEX contacts_expiry ON contacts (report_expires_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_contact ON messages (contact_id, created_at);
