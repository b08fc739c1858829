-- billing schema v6 (MySQL/MariaDB): lot values, revenue and breakage (SPEC 17).
--  - lots gain value_cents and released_cents (floor rule of SPEC 17), and
--    start_remaining: the remaining of a lot that existed when this schema
--    was installed (NULL for lots made later), where `billing explain`
--    starts its replay for lots older than the value books.
--  - ledger gains took ("seq:credits seq:credits": the lots a usage or debit
--    entry took its credits from, in order; NULL otherwise) and
--    overdraft_paid (the credits of a new lot that paid overdraft off at its
--    creation), and its key now leads with the date: (business_date,
--    account_id, idempotency_key). Keyed by account first, a night wrote one
--    page per account once an account's entries outgrew a page, so a night
--    cost more every month (issue 18); by date, a night appends at one end.
--    Its reader by account, `billing explain`, seeks each date.
--  - reconciliation gains the account's values of the date (deferred at the
--    opening and closing, sold, released as usage, breakage and revoked).
--  - lot_movements: one row per business date and lot made that date or that
--    credits left (the lots export), appended along the date.
--  - revenue: per business date and currency, the sums written when the
--    date completes (the revenue export).
--  - value_books: the last date completed before this schema (absent on a
--    new database): values, movements and revenue exist for the dates after
--    it. `billing migrate` refuses to install this schema over a date that
--    the older program closed for some accounts only.
-- Existing lots get their value from their source: a purchase's or a
-- recharge's amount, an adjustment's amount, the price of the plan in force
-- when a plan lot was made, and for a roll-over lot the value its credits
-- carried out of the plan lot it came from (rolled credits leave first).
-- DDL commits on its own in MySQL, so every step can be run again after an
-- interruption: ADD COLUMN IF NOT EXISTS, CREATE ... IF NOT EXISTS, and
-- updates that give the same values when run again (start_remaining is set
-- only where it is still NULL, before any night of this schema has run).

ALTER TABLE lots ADD COLUMN IF NOT EXISTS value_cents BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS released_cents BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS start_remaining BIGINT NULL;
-- Rebuilt by copy and swapped by one atomic RENAME (as 002). Run again
-- after the swap, it copies the new table again: no night has run yet, so
-- took and overdraft_paid hold nothing to lose.
DROP TABLE IF EXISTS ledger_v2;
DROP TABLE IF EXISTS ledger_v3;
CREATE TABLE ledger_v3 (
  business_date CHAR(10) NOT NULL,
  account_id BIGINT NOT NULL,
  idempotency_key VARCHAR(128) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  at_us BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  late BIGINT NOT NULL,
  took TEXT NULL,
  overdraft_paid BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (business_date, account_id, idempotency_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO ledger_v3 (business_date, account_id, idempotency_key, kind, at_us, credits, lot_seq,
    late)
  SELECT business_date, account_id, idempotency_key, kind, at_us, credits, lot_seq, late
  FROM ledger;
RENAME TABLE ledger TO ledger_v2, ledger_v3 TO ledger;
DROP TABLE ledger_v2;
ALTER TABLE reconciliation ADD COLUMN IF NOT EXISTS opening_deferred_cents BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS sold_cents BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS usage_cents BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS breakage_cents BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS revoked_cents BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS closing_deferred_cents BIGINT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS lot_movements (
  business_date CHAR(10) NOT NULL,
  account_id BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  opening BIGINT NOT NULL,
  created BIGINT NOT NULL,
  used BIGINT NOT NULL,
  expired BIGINT NOT NULL,
  revoked BIGINT NOT NULL,
  rolled_out BIGINT NOT NULL,
  closing BIGINT NOT NULL,
  released_cents BIGINT NOT NULL,
  PRIMARY KEY (business_date, account_id, lot_seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS revenue (
  business_date CHAR(10) NOT NULL,
  currency VARCHAR(8) NOT NULL,
  opening_deferred_cents BIGINT NOT NULL,
  sold_cents BIGINT NOT NULL,
  usage_cents BIGINT NOT NULL,
  breakage_cents BIGINT NOT NULL,
  revoked_cents BIGINT NOT NULL,
  closing_deferred_cents BIGINT NOT NULL,
  PRIMARY KEY (business_date, currency)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS value_books (
  after_date CHAR(10) NOT NULL PRIMARY KEY
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT IGNORE INTO value_books (after_date)
  SELECT MAX(business_date) FROM business_days WHERE status = 'complete'
  HAVING MAX(business_date) IS NOT NULL;

UPDATE lots SET start_remaining = remaining WHERE start_remaining IS NULL;

UPDATE lots SET value_cents = COALESCE((SELECT p.amount_cents FROM purchases p
    WHERE p.purchase_id = SUBSTRING(lots.source, 10) AND p.account_id = lots.account_id), 0)
  WHERE kind = 'purchased' AND source LIKE 'purchase:%';
UPDATE lots SET value_cents = COALESCE((SELECT r.amount_cents FROM payment_requests r
    WHERE r.idempotency_key = CONCAT('recharge:', lots.account_id, ':', SUBSTRING(lots.source, 10))), 0)
  WHERE kind = 'purchased' AND source LIKE 'recharge:%';
UPDATE lots SET value_cents = COALESCE((SELECT a.amount_cents FROM adjustments a
    WHERE a.adjustment_id = SUBSTRING(lots.source, 7) AND a.account_id = lots.account_id), 0)
  WHERE kind = 'bonus';
UPDATE lots SET value_cents = COALESCE((SELECT p.price_cents FROM plans p WHERE p.plan_id =
    COALESCE((SELECT c.plan_id FROM plan_changes c WHERE c.account_id = lots.account_id
                AND c.action = 'change_plan' AND c.applied_date IS NOT NULL
                AND c.effective_us <= lots.valid_from_us
              ORDER BY c.effective_us DESC LIMIT 1),
             (SELECT a.plan_id FROM accounts a WHERE a.account_id = lots.account_id))), 0)
  WHERE kind = 'plan';
-- A roll-over lot (r): its rollover_in entry (i) shares its instant with
-- the rollover_out entry (o) of the plan lot (pl) it came from; that lot had
-- r.granted + x.expired credits left before the close (x: what expired above
-- the cap), and the rolled ones left first. One close per instant. The
-- derived table is materialised before the update (MySQL cannot read the
-- table it updates in a subquery).
UPDATE lots JOIN (
    SELECT r.account_id, r.lot_seq,
      (pl.value_cents * (pl.granted - COALESCE(x.expired, 0))) DIV pl.granted
        - (pl.value_cents * (pl.granted - r.granted - COALESCE(x.expired, 0))) DIV pl.granted
        AS value_cents
    FROM ledger i
    JOIN lots r ON r.account_id = i.account_id AND r.lot_seq = i.lot_seq
    JOIN ledger o ON o.business_date = i.business_date AND o.account_id = i.account_id
      AND o.kind = 'rollover_out' AND o.at_us = i.at_us
    JOIN lots pl ON pl.account_id = o.account_id AND pl.lot_seq = o.lot_seq AND pl.granted > 0
    LEFT JOIN (SELECT business_date, account_id, lot_seq, -SUM(credits) AS expired
               FROM ledger WHERE kind = 'expire'
               GROUP BY business_date, account_id, lot_seq) x
      ON x.business_date = o.business_date AND x.account_id = o.account_id
        AND x.lot_seq = o.lot_seq
    WHERE i.kind = 'rollover_in' AND r.kind = 'rollover') v
  ON lots.account_id = v.account_id AND lots.lot_seq = v.lot_seq
  SET lots.value_cents = v.value_cents;
UPDATE lots SET released_cents = CASE WHEN granted <= 0 THEN value_cents
    ELSE (value_cents * (granted - remaining)) DIV granted END;
