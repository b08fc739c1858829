-- billing schema v2 (SQLite): every table the nightly run writes is stored in
-- its key's order (WITHOUT ROWID), so a row is one B-tree insert, not a rowid
-- table plus a key index; and usage events are clustered by
-- (charge date, account block, file, line), where an account block is
-- account_id / 4096: a day's events are appended at one point per block
-- instead of one per account, and a run reads them a block at a time.
-- The ledger's key leads with its account and date (its idempotency key,
-- "account:date:n", stays unique with them), so it needs no second index.
-- Each table is rebuilt by copy; the migration runs in one transaction.

CREATE TABLE account_state_v2 (
  account_id BIGINT PRIMARY KEY,
  state_date TEXT NOT NULL,
  overdraft BIGINT NOT NULL,
  next_lot_seq BIGINT NOT NULL,
  last_cycle_index BIGINT NOT NULL,
  sending_enabled BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO account_state_v2 SELECT account_id, state_date, overdraft, next_lot_seq,
  last_cycle_index, sending_enabled FROM account_state;
DROP TABLE account_state;
ALTER TABLE account_state_v2 RENAME TO account_state;

CREATE TABLE lots_v2 (
  account_id BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  granted BIGINT NOT NULL,
  remaining BIGINT NOT NULL CHECK (remaining >= 0),
  valid_from_us BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  created_date TEXT NOT NULL,
  PRIMARY KEY (account_id, lot_seq),
  UNIQUE (account_id, source)
) WITHOUT ROWID;
INSERT INTO lots_v2 SELECT account_id, lot_seq, kind, source, granted, remaining,
  valid_from_us, expires_at_us, created_date FROM lots;
DROP TABLE lots;
ALTER TABLE lots_v2 RENAME TO lots;

-- Append-only: corrections are new entries, never edits.
CREATE TABLE ledger_v2 (
  account_id BIGINT NOT NULL,
  business_date TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  at_us BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  late BIGINT NOT NULL,
  PRIMARY KEY (account_id, business_date, idempotency_key)
) WITHOUT ROWID;
INSERT INTO ledger_v2 SELECT account_id, business_date, idempotency_key, kind, at_us, credits,
  lot_seq, late FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v2 RENAME TO ledger;

CREATE TABLE usage_events_v2 (
  charged_date TEXT NOT NULL,
  account_block BIGINT NOT NULL,
  file_id BIGINT NOT NULL,
  line BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  occurred_us BIGINT NOT NULL,
  occurred_date TEXT NOT NULL,
  status TEXT NOT NULL,
  chars BIGINT NULL,
  duration_s BIGINT NULL,
  platform_credits BIGINT NULL,
  units BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  ingest_us BIGINT NOT NULL,
  PRIMARY KEY (charged_date, account_block, file_id, line)
) WITHOUT ROWID;
INSERT INTO usage_events_v2 SELECT charged_date, account_id / 4096, file_id, line, account_id,
  event_id, channel, occurred_us, occurred_date, status, chars, duration_s, platform_credits,
  units, credits, ingest_us FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_v2 RENAME TO usage_events;

CREATE TABLE charges_v2 (
  business_date TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  channel TEXT NOT NULL,
  occurred_date TEXT NOT NULL,
  events BIGINT NOT NULL,
  units BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  platform_credits BIGINT NOT NULL,
  PRIMARY KEY (business_date, account_id, channel, occurred_date)
) WITHOUT ROWID;
INSERT INTO charges_v2 SELECT business_date, account_id, channel, occurred_date, events, units,
  credits, platform_credits FROM charges;
DROP TABLE charges;
ALTER TABLE charges_v2 RENAME TO charges;

CREATE TABLE reconciliation_v2 (
  business_date TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  opening BIGINT NOT NULL,
  granted BIGINT NOT NULL,
  purchased BIGINT NOT NULL,
  rolled_over BIGINT NOT NULL,
  used BIGINT NOT NULL,
  expired BIGINT NOT NULL,
  revoked BIGINT NOT NULL,
  closing BIGINT NOT NULL,
  overdraft BIGINT NOT NULL,
  sending_enabled BIGINT NOT NULL,
  usage_events BIGINT NOT NULL,
  late_events BIGINT NOT NULL,
  PRIMARY KEY (business_date, account_id)
) WITHOUT ROWID;
INSERT INTO reconciliation_v2 SELECT business_date, account_id, opening, granted, purchased,
  rolled_over, used, expired, revoked, closing, overdraft, sending_enabled, usage_events,
  late_events FROM reconciliation;
DROP TABLE reconciliation;
ALTER TABLE reconciliation_v2 RENAME TO reconciliation;

CREATE TABLE sending_changes_v2 (
  account_id BIGINT NOT NULL,
  business_date TEXT NOT NULL,
  enabled BIGINT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (account_id, business_date)
) WITHOUT ROWID;
INSERT INTO sending_changes_v2 SELECT account_id, business_date, enabled, reason
  FROM sending_changes;
DROP TABLE sending_changes;
ALTER TABLE sending_changes_v2 RENAME TO sending_changes;
