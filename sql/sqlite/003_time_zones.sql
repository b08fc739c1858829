-- billing schema v3 (SQLite): an account's IANA time zone (SPEC 16) and the
-- first business date it takes part in, the UTC date that holds its first
-- cycle start R_0 (local midnight of cycle_anchor in its zone). Every account
-- of a version-2 database is a UTC account, whose first date is its anchor.
-- The migration runs in one transaction.

ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE accounts ADD COLUMN first_date TEXT NOT NULL DEFAULT '';
UPDATE accounts SET first_date = cycle_anchor;
