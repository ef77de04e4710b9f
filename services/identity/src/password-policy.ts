/** Fewest characters a password may have. */
export const MIN_PASSWORD_LENGTH = 12;
/** Most characters a password may have (bounds the hashing work one request can ask for). */
export const MAX_PASSWORD_LENGTH = 1024;

// A deliberately small list: the words at the top of every breached-password list. What remains of a password
// once its leading and trailing digits and symbols are removed must not be one of these, repeated or not.
const COMMON_WORDS = new Set([
  "password",
  "passw0rd",
  "p@ssw0rd",
  "p@ssword",
  "qwerty",
  "qwertyuiop",
  "asdfgh",
  "letmein",
  "welcome",
  "admin",
  "administrator",
  "iloveyou",
  "changeme",
  "monkey",
  "dragon",
  "football",
  "baseball",
  "sunshine",
  "princess",
  "trustno1",
  "master",
  "secret",
  "abc",
  "login",
  "shadow",
  "superman",
  "starwars",
  "fintech",
]);

// Runs of adjacent keys or letters ("abcdef...", "qwerty...", "123456...") are as weak as a common word.
const SEQUENCES = [
  "abcdefghijklmnopqrstuvwxyz",
  "qwertyuiopasdfghjklzxcvbnm",
  "01234567890",
  "1q2w3e4r5t6y7u8i9o0p",
];

/**
 * The password policy (NIST 800-63B in spirit, kept small): at least 12 and at most 1024 characters, at least
 * two of the classes lower-case, upper-case, digit and other (a space counts as other, so a passphrase of words
 * passes), not a well-known password (a common word or a keyboard or alphabet run, optionally repeated, with
 * digits and symbols around it), and not containing the account's email or its local part.
 * @returns undefined when the password is acceptable, else why not (never containing the password).
 */
export function checkPassword(password: string, email: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const classes = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u].filter((c) =>
    c.test(password),
  ).length;
  if (classes < 2) return "must mix at least two of: lower-case, upper-case, digits, other characters";
  const lower = password.toLowerCase();
  if (isWellKnown(lower)) return "is a well-known password";
  const address = email.trim().toLowerCase();
  const local = address.split("@")[0] ?? "";
  if (address !== "" && (lower.includes(address) || (local.length >= 4 && lower.includes(local)))) {
    return "must not contain the email address";
  }
  return undefined;
}

function isWellKnown(lower: string): boolean {
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, "");
  if (core === "") return isRun(lower.replace(/[^\p{L}\p{N}]/gu, ""));
  return isRepeatOf(core, (unit) => COMMON_WORDS.has(unit)) || isRun(core) || isRun(lower);
}

// True when text is one unit repeated (once or more) for which accept(unit) holds.
function isRepeatOf(text: string, accept: (unit: string) => boolean): boolean {
  for (let size = 1; size <= text.length; size++) {
    if (text.length % size !== 0) continue;
    const unit = text.slice(0, size);
    if (unit.repeat(text.length / size) === text && accept(unit)) return true;
  }
  return false;
}

// One character repeated, or a stretch of a sequence (either direction), possibly repeated.
function isRun(text: string): boolean {
  if (text.length < 3) return text.length > 0;
  return isRepeatOf(
    text,
    (unit) =>
      new Set(unit).size === 1 ||
      (unit.length >= 3 &&
        SEQUENCES.some((s) => s.includes(unit) || [...s].reverse().join("").includes(unit))),
  );
}
