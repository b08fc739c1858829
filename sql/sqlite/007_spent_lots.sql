-- billing schema v7 (SQLite): lots with credits left apart from spent ones.
--  - lots keeps the lots with credits left (remaining > 0): the only ones a
--    night reads or changes. It stays as small as the live lots, however
--    long the books: a night used to read and rewrite pages of a table that
--    held every lot ever made (issue 18).
--  - spent_lots: a lot whose credits are all gone (used, expired, rolled
--    out or revoked) moves here in the transaction of the night that spent
--    it, and is never changed again: the engine takes nothing from a lot
--    with no credits left.
--  - all_lots: a view of both, for reading by hand. The program reads the
--    two tables (a MariaDB view of a UNION is materialised whole).
-- lots is rebuilt by copy with its live rows. One transaction.

CREATE TABLE lots_v7 (
  account_id BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  granted BIGINT NOT NULL,
  remaining BIGINT NOT NULL CHECK (remaining >= 0),
  valid_from_us BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  created_date TEXT NOT NULL,
  value_cents BIGINT NOT NULL DEFAULT 0,
  released_cents BIGINT NOT NULL DEFAULT 0,
  start_remaining BIGINT NULL,
  PRIMARY KEY (account_id, lot_seq),
  UNIQUE (account_id, source)
) WITHOUT ROWID;
CREATE TABLE spent_lots (
  account_id BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  granted BIGINT NOT NULL,
  remaining BIGINT NOT NULL CHECK (remaining = 0),
  valid_from_us BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  created_date TEXT NOT NULL,
  value_cents BIGINT NOT NULL DEFAULT 0,
  released_cents BIGINT NOT NULL DEFAULT 0,
  start_remaining BIGINT NULL,
  PRIMARY KEY (account_id, lot_seq)
) WITHOUT ROWID;
INSERT INTO lots_v7 SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us,
  expires_at_us, created_date, value_cents, released_cents, start_remaining
  FROM lots WHERE remaining > 0;
INSERT INTO spent_lots SELECT account_id, lot_seq, kind, source, granted, remaining,
  valid_from_us, expires_at_us, created_date, value_cents, released_cents, start_remaining
  FROM lots WHERE remaining = 0;
DROP TABLE lots;
ALTER TABLE lots_v7 RENAME TO lots;
CREATE VIEW all_lots AS
  SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us, expires_at_us,
    created_date, value_cents, released_cents, start_remaining FROM lots
  UNION ALL
  SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us, expires_at_us,
    created_date, value_cents, released_cents, start_remaining FROM spent_lots;
