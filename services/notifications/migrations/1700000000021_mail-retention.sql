-- Up Migration

-- Finished mails are deleted after MAIL_RETENTION_DAYS; this finds them without reading the pending ones.
CREATE INDEX mail_queue_finished_idx ON mail_queue (finished_at) WHERE status <> 'pending';

-- Down Migration
DROP INDEX mail_queue_finished_idx;
