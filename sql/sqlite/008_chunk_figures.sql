-- billing schema v8 (SQLite): a date's figures summed by chunk.
--  - chunk_figures: per business date, chunk (its first account) and
--    currency, what the chunk's transaction wrote: reconciliation rows and
--    their usage events, credits used and expired and values, usage events
--    by channel (of the charges rows) and lots made. The transaction that
--    completes the date sums them into business_days and revenue: it no
--    longer reads every reconciliation, charges and lot movement row of the
--    date again (a tenth of a first night's run). The rows stay (a few per
--    date): shard workers that finish together may both complete the date.
-- `billing migrate` refuses to install this schema over a date closed for
-- some accounts only: its closed chunks would have no figures.

CREATE TABLE IF NOT EXISTS chunk_figures (
  business_date TEXT NOT NULL,
  first_account_id BIGINT NOT NULL,
  currency TEXT NOT NULL,
  accounts BIGINT NOT NULL,
  usage_events BIGINT NOT NULL,
  credits_used BIGINT NOT NULL,
  credits_expired BIGINT NOT NULL,
  events_sms BIGINT NOT NULL,
  events_mms BIGINT NOT NULL,
  events_voice BIGINT NOT NULL,
  events_ringless BIGINT NOT NULL,
  lots_made BIGINT NOT NULL,
  opening_deferred_cents BIGINT NOT NULL,
  sold_cents BIGINT NOT NULL,
  usage_cents BIGINT NOT NULL,
  breakage_cents BIGINT NOT NULL,
  revoked_cents BIGINT NOT NULL,
  closing_deferred_cents BIGINT NOT NULL,
  PRIMARY KEY (business_date, first_account_id, currency)
) WITHOUT ROWID;
