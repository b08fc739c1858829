-- billing schema v4 (SQLite): the figures of a closed date that the metrics
-- textfile adds up (credits expired, charged events per channel), kept in its
-- business_days row when the date completes, so a run's metrics read one row
-- a closed date instead of the whole history of reconciliation and events.
-- Existing closed dates get theirs from their books. One transaction.

ALTER TABLE business_days ADD COLUMN credits_expired BIGINT NOT NULL DEFAULT 0;
ALTER TABLE business_days ADD COLUMN events_sms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE business_days ADD COLUMN events_mms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE business_days ADD COLUMN events_voice BIGINT NOT NULL DEFAULT 0;
ALTER TABLE business_days ADD COLUMN events_ringless BIGINT NOT NULL DEFAULT 0;
UPDATE business_days SET
  credits_expired = (SELECT COALESCE(SUM(r.expired), 0) FROM reconciliation r
    WHERE r.business_date = business_days.business_date),
  events_sms = (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = business_days.business_date AND c.channel = 'sms'),
  events_mms = (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = business_days.business_date AND c.channel = 'mms'),
  events_voice = (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = business_days.business_date AND c.channel = 'voice'),
  events_ringless = (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = business_days.business_date AND c.channel = 'ringless');
