-- billing schema v2 (MySQL/MariaDB). InnoDB tables are already clustered by
-- their primary key; two keys change, as on SQLite:
-- - usage events are clustered by (charge date, account block, file, line),
--   where an account block is account_id DIV 4096: a day's events are
--   appended at one point per block instead of one per account, and a run
--   reads them a block at a time;
-- - the ledger's key leads with its account and date (its idempotency key,
--   "account:date:n", stays unique with them), so it needs no second index.
-- DDL commits on its own in MySQL, so each table is rebuilt by copy and
-- swapped by one atomic RENAME, and every step can be run again after an
-- interruption.

DROP TABLE IF EXISTS ledger_v1;
DROP TABLE IF EXISTS ledger_v2;
CREATE TABLE ledger_v2 (
  account_id BIGINT NOT NULL,
  business_date CHAR(10) NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  at_us BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  late BIGINT NOT NULL,
  PRIMARY KEY (account_id, business_date, idempotency_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO ledger_v2 SELECT account_id, business_date, idempotency_key, kind, at_us, credits,
  lot_seq, late FROM ledger;
RENAME TABLE ledger TO ledger_v1, ledger_v2 TO ledger;
DROP TABLE ledger_v1;

DROP TABLE IF EXISTS usage_events_v1;
DROP TABLE IF EXISTS usage_events_v2;
CREATE TABLE usage_events_v2 (
  charged_date CHAR(10) NOT NULL,
  account_block BIGINT NOT NULL,
  file_id BIGINT NOT NULL,
  line BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  event_id VARCHAR(64) NOT NULL UNIQUE,
  channel VARCHAR(16) NOT NULL,
  occurred_us BIGINT NOT NULL,
  occurred_date CHAR(10) NOT NULL,
  status VARCHAR(16) NOT NULL,
  chars BIGINT NULL,
  duration_s BIGINT NULL,
  platform_credits BIGINT NULL,
  units BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  ingest_us BIGINT NOT NULL,
  PRIMARY KEY (charged_date, account_block, file_id, line)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO usage_events_v2 SELECT charged_date, account_id DIV 4096, file_id, line, account_id,
  event_id, channel, occurred_us, occurred_date, status, chars, duration_s, platform_credits,
  units, credits, ingest_us FROM usage_events;
RENAME TABLE usage_events TO usage_events_v1, usage_events_v2 TO usage_events;
DROP TABLE usage_events_v1;
