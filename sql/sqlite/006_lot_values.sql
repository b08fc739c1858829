-- billing schema v6 (SQLite): lot values, revenue and breakage (SPEC 17).
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
-- One transaction.

ALTER TABLE lots ADD COLUMN value_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lots ADD COLUMN released_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lots ADD COLUMN start_remaining BIGINT NULL;
-- Append-only: corrections are new entries, never edits.
CREATE TABLE ledger_v3 (
  business_date TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  idempotency_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  at_us BIGINT NOT NULL,
  credits BIGINT NOT NULL,
  lot_seq BIGINT NOT NULL,
  late BIGINT NOT NULL,
  took TEXT NULL,
  overdraft_paid BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (business_date, account_id, idempotency_key)
) WITHOUT ROWID;
INSERT INTO ledger_v3 (business_date, account_id, idempotency_key, kind, at_us, credits, lot_seq,
    late)
  SELECT business_date, account_id, idempotency_key, kind, at_us, credits, lot_seq, late
  FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v3 RENAME TO ledger;
ALTER TABLE reconciliation ADD COLUMN opening_deferred_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconciliation ADD COLUMN sold_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconciliation ADD COLUMN usage_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconciliation ADD COLUMN breakage_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconciliation ADD COLUMN revoked_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconciliation ADD COLUMN closing_deferred_cents BIGINT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS lot_movements (
  business_date TEXT NOT NULL,
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
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS revenue (
  business_date TEXT NOT NULL,
  currency TEXT NOT NULL,
  opening_deferred_cents BIGINT NOT NULL,
  sold_cents BIGINT NOT NULL,
  usage_cents BIGINT NOT NULL,
  breakage_cents BIGINT NOT NULL,
  revoked_cents BIGINT NOT NULL,
  closing_deferred_cents BIGINT NOT NULL,
  PRIMARY KEY (business_date, currency)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS value_books (
  after_date TEXT NOT NULL
);
INSERT INTO value_books (after_date)
  SELECT MAX(business_date) FROM business_days WHERE status = 'complete'
  HAVING MAX(business_date) IS NOT NULL;

UPDATE lots SET start_remaining = remaining;

UPDATE lots SET value_cents = COALESCE((SELECT p.amount_cents FROM purchases p
    WHERE p.purchase_id = substr(lots.source, 10) AND p.account_id = lots.account_id), 0)
  WHERE kind = 'purchased' AND source LIKE 'purchase:%';
UPDATE lots SET value_cents = COALESCE((SELECT r.amount_cents FROM payment_requests r
    WHERE r.idempotency_key = 'recharge:' || lots.account_id || ':' || substr(lots.source, 10)), 0)
  WHERE kind = 'purchased' AND source LIKE 'recharge:%';
UPDATE lots SET value_cents = COALESCE((SELECT a.amount_cents FROM adjustments a
    WHERE a.adjustment_id = substr(lots.source, 7) AND a.account_id = lots.account_id), 0)
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
-- the cap), and the rolled ones left first. One close per instant.
UPDATE lots SET value_cents = v.value_cents FROM (
    SELECT r.account_id, r.lot_seq,
      (pl.value_cents * (pl.granted - COALESCE(x.expired, 0))) / pl.granted
        - (pl.value_cents * (pl.granted - r.granted - COALESCE(x.expired, 0))) / pl.granted
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
  WHERE lots.account_id = v.account_id AND lots.lot_seq = v.lot_seq;
UPDATE lots SET released_cents = CASE WHEN granted <= 0 THEN value_cents
    ELSE (value_cents * (granted - remaining)) / granted END;
