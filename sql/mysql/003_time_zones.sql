-- billing schema v3 (MySQL/MariaDB): an account's IANA time zone (SPEC 16) and
-- the first business date it takes part in, the UTC date that holds its first
-- cycle start R_0 (local midnight of cycle_anchor in its zone). Every account
-- of a version-2 database is a UTC account, whose first date is its anchor.
-- DDL commits on its own in MySQL (and ADD COLUMN IF NOT EXISTS is MariaDB's
-- alone), so the table is rebuilt by copy and swapped by one atomic RENAME,
-- and every step can be run again after an interruption.

DROP TABLE IF EXISTS accounts_v2;
DROP TABLE IF EXISTS accounts_v3;
CREATE TABLE accounts_v3 (
  account_id BIGINT PRIMARY KEY CHECK (account_id > 0),
  plan_id VARCHAR(64) NOT NULL,
  cycle_anchor CHAR(10) NOT NULL,
  auto_recharge BIGINT NOT NULL,
  recharge_threshold BIGINT NOT NULL,
  recharge_credits BIGINT NOT NULL,
  max_recharges_per_day BIGINT NOT NULL,
  auto_recharge_off_reason VARCHAR(500) NULL,
  time_zone VARCHAR(64) NOT NULL DEFAULT 'UTC',
  first_date CHAR(10) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO accounts_v3 SELECT account_id, plan_id, cycle_anchor, auto_recharge,
  recharge_threshold, recharge_credits, max_recharges_per_day, auto_recharge_off_reason, 'UTC',
  cycle_anchor FROM accounts;
RENAME TABLE accounts TO accounts_v2, accounts_v3 TO accounts;
DROP TABLE accounts_v2;
