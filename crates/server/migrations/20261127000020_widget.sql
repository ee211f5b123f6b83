-- The customer widget's embedding, per account: the sites allowed to embed it (comma-separated
-- origins), the launcher's colour (`#rrggbb`, empty for the default) and a greeting.
ALTER TABLE accounts ADD COLUMN widget_origins TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN widget_color TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN widget_greeting TEXT NOT NULL DEFAULT '';
