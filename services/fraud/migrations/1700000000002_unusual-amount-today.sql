-- Up Migration

-- UNUSUAL_AMOUNT's average covers the day of the scored transaction up to that moment as well as the full days
-- before it. user_daily_totals cannot tell which of a day's transactions came before the scored one, so each
-- transaction row keeps its base-currency amount; the rows are kept longer than a day, so today's part is
-- always there. Null: a row from before this column (left out, as a day's total leaves out unknown amounts).
ALTER TABLE user_transactions ADD COLUMN base_amount_minor bigint;

-- Down Migration
ALTER TABLE user_transactions DROP COLUMN base_amount_minor;
