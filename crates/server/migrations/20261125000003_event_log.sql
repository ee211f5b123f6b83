-- Events on their way between service instances (PostgreSQL LISTEN/NOTIFY carries only the id,
-- since a payload may exceed NOTIFY's 8000 bytes). Rows live a few minutes.
CREATE TABLE event_log (
    id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX event_log_created ON event_log (created_at);
