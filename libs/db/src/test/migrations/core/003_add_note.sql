-- Up Migration
ALTER TABLE items ADD COLUMN note text;
UPDATE items SET note = 'added by 003';

-- Down Migration
ALTER TABLE items DROP COLUMN note;
