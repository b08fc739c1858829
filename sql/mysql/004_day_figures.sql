-- billing schema v4 (MySQL/MariaDB): the figures of a closed date that the
-- metrics textfile adds up (credits expired, charged events per channel), kept
-- in its business_days row when the date completes, so a run's metrics read
-- one row a closed date instead of the whole history of reconciliation and
-- events. Existing closed dates get theirs from their books. DDL commits on
-- its own in MySQL, so the table is rebuilt by copy and swapped by one atomic
-- RENAME, and every step can be run again after an interruption.

DROP TABLE IF EXISTS business_days_v3;
DROP TABLE IF EXISTS business_days_v4;
CREATE TABLE business_days_v4 (
  business_date CHAR(10) PRIMARY KEY,
  status VARCHAR(16) NOT NULL,
  started_us BIGINT NOT NULL,
  completed_us BIGINT NULL,
  accounts BIGINT NOT NULL,
  usage_events BIGINT NOT NULL,
  credits_used BIGINT NOT NULL,
  credits_expired BIGINT NOT NULL DEFAULT 0,
  events_sms BIGINT NOT NULL DEFAULT 0,
  events_mms BIGINT NOT NULL DEFAULT 0,
  events_voice BIGINT NOT NULL DEFAULT 0,
  events_ringless BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO business_days_v4 SELECT d.business_date, d.status, d.started_us, d.completed_us,
  d.accounts, d.usage_events, d.credits_used,
  (SELECT COALESCE(SUM(r.expired), 0) FROM reconciliation r
    WHERE r.business_date = d.business_date),
  (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = d.business_date AND c.channel = 'sms'),
  (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = d.business_date AND c.channel = 'mms'),
  (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = d.business_date AND c.channel = 'voice'),
  (SELECT COALESCE(SUM(c.events), 0) FROM charges c
    WHERE c.business_date = d.business_date AND c.channel = 'ringless')
  FROM business_days d;
RENAME TABLE business_days TO business_days_v3, business_days_v4 TO business_days;
DROP TABLE business_days_v3;
