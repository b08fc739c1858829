-- billing schema v5 (MySQL/MariaDB): accounts that live (SPEC 14, 15).
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
-- DDL commits on its own in MySQL, so every step can be run again after an
-- interruption: ADD COLUMN IF NOT EXISTS and CREATE ... IF NOT EXISTS
-- (MariaDB syntax, as 001's indexes). InnoDB adds the columns in place
-- (ALGORITHM=INSTANT): a year of reconciliation rows is not copied.

ALTER TABLE reconciliation ADD COLUMN IF NOT EXISTS adjusted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE account_state ADD COLUMN IF NOT EXISTS plan_id VARCHAR(64) NULL,
  ADD COLUMN IF NOT EXISTS cycle_anchor CHAR(10) NULL,
  ADD COLUMN IF NOT EXISTS cancelled BIGINT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS plan_changes (
  change_id VARCHAR(64) PRIMARY KEY,
  account_id BIGINT NOT NULL,
  effective_date CHAR(10) NOT NULL,
  effective_us BIGINT NOT NULL,
  action VARCHAR(16) NOT NULL CHECK (action IN ('change_plan', 'cancel')),
  plan_id VARCHAR(64) NULL,
  imported_us BIGINT NOT NULL,
  applied_date CHAR(10) NULL,
  UNIQUE KEY plan_changes_one_a_date (account_id, effective_date),
  KEY plan_changes_pending (applied_date, account_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS adjustments (
  adjustment_id VARCHAR(64) PRIMARY KEY,
  account_id BIGINT NOT NULL,
  effective_us BIGINT NOT NULL,
  kind VARCHAR(16) NOT NULL CHECK (kind IN ('grant', 'debit', 'refund')),
  credits BIGINT NULL,
  amount_cents BIGINT NOT NULL,
  purchase_id VARCHAR(128) NULL,
  lot_source VARCHAR(200) NULL,
  expires_us BIGINT NULL,
  reason VARCHAR(200) NOT NULL,
  import_seq BIGINT NOT NULL,
  imported_us BIGINT NOT NULL,
  applied_date CHAR(10) NULL,
  applied_credits BIGINT NULL,
  UNIQUE KEY adjustments_import_order (import_seq),
  KEY adjustments_applied (applied_date, account_id, adjustment_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The payments export reads a range of business dates along this index
-- (issue 18: it scanned every request).
CREATE INDEX IF NOT EXISTS payment_requests_date
  ON payment_requests (business_date, account_id, idempotency_key);
