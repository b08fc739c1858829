-- billing schema v7 (MySQL/MariaDB): lots with credits left apart from spent
-- ones.
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
-- DDL commits on its own in MySQL, so every step can be run again after an
-- interruption: the copy ignores rows already copied, and the delete only
-- takes rows that are in spent_lots.

CREATE TABLE IF NOT EXISTS spent_lots (
  account_id BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL,
  source VARCHAR(100) NOT NULL,
  granted BIGINT NOT NULL,
  remaining BIGINT NOT NULL CHECK (remaining = 0),
  valid_from_us BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  created_date CHAR(10) NOT NULL,
  value_cents BIGINT NOT NULL DEFAULT 0,
  released_cents BIGINT NOT NULL DEFAULT 0,
  start_remaining BIGINT NULL,
  PRIMARY KEY (account_id, lot_seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT IGNORE INTO spent_lots (account_id, lot_seq, kind, source, granted, remaining,
    valid_from_us, expires_at_us, created_date, value_cents, released_cents, start_remaining)
  SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us, expires_at_us,
    created_date, value_cents, released_cents, start_remaining
  FROM lots WHERE remaining = 0;
DELETE l FROM lots l JOIN spent_lots s ON s.account_id = l.account_id AND s.lot_seq = l.lot_seq
  WHERE l.remaining = 0;
CREATE OR REPLACE VIEW all_lots AS
  SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us, expires_at_us,
    created_date, value_cents, released_cents, start_remaining FROM lots
  UNION ALL
  SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us, expires_at_us,
    created_date, value_cents, released_cents, start_remaining FROM spent_lots;
