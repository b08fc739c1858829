-- billing schema v5 (SQLite): accounts that live (SPEC 14, 15).
--  - plan_changes: imported plan changes and cancellations; effective_us is
--    T_E, the local midnight of effective_date in the account's zone when the
--    row was imported (the zone of an account with changes cannot change);
--    applied_date is the date whose run applied it.
--  - adjustments: grants, debits and refunds in import order (import_seq);
--    lot_source names the lot a refund revokes; applied_credits is what took
--    effect (a refund: the credits actually revoked).
--  - account_state gains the plan and cycle anchor in force at the end of
--    state_date and whether the account is cancelled (NULL plan_id and
--    cycle_anchor: the accounts row's, as every row of a version-4 database).
--  - reconciliation gains `adjusted` (grants minus debits, SPEC 10).
-- ADD COLUMN only changes the schema (no row is rewritten). One transaction.

ALTER TABLE reconciliation ADD COLUMN adjusted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE account_state ADD COLUMN plan_id TEXT NULL;
ALTER TABLE account_state ADD COLUMN cycle_anchor TEXT NULL;
ALTER TABLE account_state ADD COLUMN cancelled BIGINT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS plan_changes (
  change_id TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL,
  effective_date TEXT NOT NULL,
  effective_us BIGINT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('change_plan', 'cancel')),
  plan_id TEXT NULL,
  imported_us BIGINT NOT NULL,
  applied_date TEXT NULL,
  UNIQUE (account_id, effective_date)
);
CREATE INDEX IF NOT EXISTS plan_changes_pending ON plan_changes (applied_date, account_id);

CREATE TABLE IF NOT EXISTS adjustments (
  adjustment_id TEXT PRIMARY KEY,
  account_id BIGINT NOT NULL,
  effective_us BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('grant', 'debit', 'refund')),
  credits BIGINT NULL,
  amount_cents BIGINT NOT NULL,
  purchase_id TEXT NULL,
  lot_source TEXT NULL,
  expires_us BIGINT NULL,
  reason TEXT NOT NULL,
  import_seq BIGINT NOT NULL UNIQUE,
  imported_us BIGINT NOT NULL,
  applied_date TEXT NULL,
  applied_credits BIGINT NULL
);
CREATE INDEX IF NOT EXISTS adjustments_applied
  ON adjustments (applied_date, account_id, adjustment_id);

-- The payments export reads a range of business dates along this index
-- (issue 18: it scanned every request).
CREATE INDEX IF NOT EXISTS payment_requests_date
  ON payment_requests (business_date, account_id, idempotency_key);
