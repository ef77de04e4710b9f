-- Up Migration
-- Lives in a second directory but depends on 001 from the first: ordering is global across directories.
INSERT INTO items (id, name) VALUES (1, 'seed');

-- Down Migration
DELETE FROM items WHERE id = 1;
