-- Up Migration

-- E-mails are now stored and looked up in one form (src/email.ts): NFKC, lower case, no trailing dots on the
-- domain. Rows stored before were NFC and lower case only. Each is rewritten to the new form when that is safe:
-- when no other row has, or would get, the same form. Look-alikes that already exist as separate accounts stay
-- untouched (rewriting would break the unique index, and merging accounts is not a migration's decision): a
-- login by either spelling now reaches the one in normal form, so the look-alike can no longer log in until an
-- operator settles it. Postgres's normalize() exists only in a UTF8 database; any other encoding holds no
-- compatibility forms to fold, and only the trailing dots are removed.
DO $$
DECLARE
  utf8 boolean := current_setting('server_encoding') = 'UTF8';
  left_alone integer;
BEGIN
  CREATE TEMPORARY TABLE email_forms ON COMMIT DROP AS
    SELECT id, email AS stored,
           regexp_replace(
             CASE WHEN utf8 THEN normalize(lower(normalize(btrim(email), NFKC)), NFKC) ELSE lower(btrim(email)) END,
             '(@[^@]*?)\.+$', '\1') AS normal
    FROM users;

  UPDATE users u SET email = f.normal
  FROM email_forms f
  WHERE u.id = f.id
    AND f.normal <> f.stored
    AND (SELECT count(*) FROM email_forms g WHERE g.normal = f.normal) = 1;

  SELECT count(*) INTO left_alone FROM email_forms f
  WHERE f.normal <> f.stored AND (SELECT count(*) FROM email_forms g WHERE g.normal = f.normal) > 1;
  IF left_alone > 0 THEN
    RAISE WARNING 'identity: % e-mail(s) share their normal form with another account and were left as stored', left_alone;
  END IF;
END
$$;

-- Down Migration
-- Nothing to undo: the normal form is what the previous release stored as well, but for compatibility forms and
-- trailing dots, which it never needed to find again.
