-- Up Migration

-- Who created a quote ("user:<id>" or "service:<name>"): only they read or redeem it (admins read any).
-- Quotes made before owners were kept live for seconds; '' leaves them to admins only.
ALTER TABLE quotes ADD COLUMN owner text NOT NULL DEFAULT '';
ALTER TABLE quotes ALTER COLUMN owner DROP DEFAULT;

-- Down Migration
ALTER TABLE quotes DROP COLUMN owner;
