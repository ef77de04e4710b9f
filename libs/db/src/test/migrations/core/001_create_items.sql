-- Up Migration
CREATE TABLE items (
  id int8 PRIMARY KEY,
  name text NOT NULL
);

-- Down Migration
DROP TABLE items;
