-- billing schema v1 (SQLite). Credits and cents are BIGINT; instants are
-- BIGINT microseconds since 1970-01-01T00:00:00Z (UTC); business dates are
-- TEXT 'YYYY-MM-DD'. Mirrors sql/mysql/001_init.sql column for column.

CREATE TABLE IF NOT EXISTS schema_version (
  version BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  applied_us BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS plans (
  plan_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  cycle TEXT NOT NULL CHECK (cycle IN ('monthly', 'annual')),
  included_credits BIGINT NOT NULL CHECK (included_credits >= 0),
  price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
  credit_price_cents_per_1000 BIGINT NOT NULL CHECK (credit_price_cents_per_1000 >= 0),
  currency TEXT NOT NULL,
  rollover_cap BIGINT NULL CHECK (rollover_cap IS NULL OR rollover_cap >= 0)
);

CREATE TABLE IF NOT EXISTS accounts (
  account_id BIGINT PRIMARY KEY CHECK (account_id > 0),
  plan_id TEXT NOT NULL REFERENCES plans (plan_id),
  cycle_anchor TEXT NOT NULL,
  auto_recharge BIGINT NOT NULL,
  recharge_threshold BIGINT NOT NULL,
  recharge_credits BIGINT NOT NULL,
  max_recharges_per_day BIGINT NOT NULL,
  auto_recharge_off_reason TEXT NULL
);

-- The lot engine's carried state per account; state_date is the last date
-- applied to the account, written in the same transaction as its books.
CREATE TABLE IF NOT EXISTS account_state (
  account_id BIGINT PRIMARY KEY,
  state_date TEXT NOT NULL,
  overdraft BIGINT NOT NULL,
  next_lot_seq BIGINT NOT NULL,
  last_cycle_index BIGINT NOT NULL,
  sending_enabled BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS purchases (
  purchase_id TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL,
  purchased_us BIGINT NOT NULL,
  credits BIGINT NOT NULL CHECK (credits > 0),
  amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
  imported_us BIGINT NOT NULL,
  applied_date TEXT NULL
);
CREATE INDEX IF NOT EXISTS purchases_pending ON purchases (applied_date, account_id);

CREATE TABLE IF NOT EXISTS lots (
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
);

-- Append-only: corrections are new entries, never edits.
CREATE TABLE IF NOT EXISTS ledger (
  idempotency_key TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL,
  business_date TEXT NOT NULL,
  kind TEXT NOT NULL,
  at_us BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  late BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_account_date ON ledger (account_id, business_date);

CREATE TABLE IF NOT EXISTS rate_card (
  channel TEXT NOT NULL,
  effective_from TEXT NOT NULL,
  basis TEXT NOT NULL,
  unit_size BIGINT NOT NULL,
  min_units BIGINT NOT NULL,
  credits_per_unit BIGINT NOT NULL,
  charged_statuses TEXT NOT NULL,
  free_statuses TEXT NOT NULL,
  PRIMARY KEY (channel, effective_from)
);
-- Its rows come from the program: migrate() seeds the default card from
-- RateCard::defaults() (lib/domain/rating.cpp) into an empty table.

CREATE TABLE IF NOT EXISTS usage_files (
  file_id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL,
  content_sha256 TEXT NOT NULL UNIQUE,
  bytes BIGINT NOT NULL,
  ingested_us BIGINT NOT NULL,
  ingest_date TEXT NOT NULL,
  header_hex TEXT NOT NULL,
  line_count BIGINT NOT NULL,
  accepted BIGINT NOT NULL,
  duplicates BIGINT NOT NULL,
  rejected BIGINT NOT NULL
);

-- Clustered by the date that charges an event (fixed at ingest) and its
-- account, so a run reads its chunk's events, and the date's charges, as
-- ranges; event ids stay unique through their own index. The key columns
-- come first (SQLite 3.40's integrity_check misreads WITHOUT ROWID tables
-- whose key columns are declared after others).
CREATE TABLE IF NOT EXISTS usage_events (
  charged_date TEXT NOT NULL,
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
  file_id BIGINT NOT NULL,
  line BIGINT NOT NULL,
  ingest_us BIGINT NOT NULL,
  PRIMARY KEY (charged_date, account_id, event_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rejects (
  reject_id INTEGER PRIMARY KEY AUTOINCREMENT,
  file_id BIGINT NOT NULL,
  file TEXT NOT NULL,
  line BIGINT NOT NULL,
  event_id TEXT NULL,
  reason TEXT NOT NULL,
  raw_hex TEXT NOT NULL,
  ingest_date TEXT NOT NULL,
  status TEXT NOT NULL,
  resolved_us BIGINT NULL,
  UNIQUE (file_id, line)
);
CREATE INDEX IF NOT EXISTS rejects_status ON rejects (status);

CREATE TABLE IF NOT EXISTS charges (
  business_date TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  channel TEXT NOT NULL,
  occurred_date TEXT NOT NULL,
  events BIGINT NOT NULL,
  units BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  platform_credits BIGINT NOT NULL,
  PRIMARY KEY (business_date, account_id, channel, occurred_date)
);

CREATE TABLE IF NOT EXISTS reconciliation (
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
);

CREATE TABLE IF NOT EXISTS sending_changes (
  account_id BIGINT NOT NULL,
  business_date TEXT NOT NULL,
  enabled BIGINT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (account_id, business_date)
);

CREATE TABLE IF NOT EXISTS payment_requests (
  idempotency_key TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL,
  business_date TEXT NOT NULL,
  lot_seq BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  amount_cents BIGINT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  provider_ref TEXT NULL,
  failure_reason TEXT NULL,
  result_us BIGINT NULL,
  revoked_date TEXT NULL
);
CREATE INDEX IF NOT EXISTS payment_requests_status ON payment_requests (status, account_id);

-- A business date is complete when every account taking part has its books.
CREATE TABLE IF NOT EXISTS business_days (
  business_date TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  started_us BIGINT NOT NULL,
  completed_us BIGINT NULL,
  accounts BIGINT NOT NULL,
  usage_events BIGINT NOT NULL,
  credits_used BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY AUTOINCREMENT,
  command TEXT NOT NULL,
  holder TEXT NOT NULL,
  started_us BIGINT NOT NULL,
  finished_us BIGINT NULL,
  outcome TEXT NOT NULL,
  exit_code BIGINT NULL,
  detail TEXT NULL
);

-- Who holds the run lock (informational; the lock itself is a file lock on
-- SQLite and GET_LOCK on MySQL, both freed when the holder dies).
CREATE TABLE IF NOT EXISTS lock_holder (
  lock_name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  acquired_us BIGINT NOT NULL
);
