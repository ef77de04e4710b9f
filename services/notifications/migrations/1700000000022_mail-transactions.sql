-- Up Migration

-- What a review notice says about its payment (its own amount and merchant), from wallet.transaction.created:
-- fraud's events carry only the amount in the base currency. Deleted with the mails, after MAIL_RETENTION_DAYS.
CREATE TABLE mail_transactions (
  transaction_id text PRIMARY KEY,
  amount_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  merchant_name text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX mail_transactions_created_idx ON mail_transactions (created_at);

-- Down Migration
DROP TABLE mail_transactions;
