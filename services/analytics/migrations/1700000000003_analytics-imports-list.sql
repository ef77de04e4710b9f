-- Up Migration

-- GET /api/v1/imports lists imports newest first, a page after a (created_at, id) keyset cursor.
CREATE INDEX imports_newest_idx ON imports (created_at DESC, id DESC);

-- Down Migration
DROP INDEX imports_newest_idx;
