/**
 * The one form an e-mail address is stored, compared and looked up in: Unicode NFKC (compatibility forms such as
 * fullwidth letters or ligatures become the plain letters they look like), trimmed, lower case, and without the
 * trailing dots of the domain (`ana@example.com.` is the same mailbox as `ana@example.com` in DNS). Without it a
 * look-alike of an existing address registered as a new account. migrations/1700000000003 applies the same to
 * rows stored before.
 */
export function normaliseEmail(email: string): string {
  // Lower-casing can leave a string that is no longer NFKC (a dotted capital I), hence the second pass.
  const folded = email.normalize("NFKC").trim().toLowerCase().normalize("NFKC");
  return folded.replace(/(@[^@]*?)\.+$/, "$1");
}
