/** Why a money value was rejected. */
export type MoneyErrorReason = "UNKNOWN_CURRENCY" | "INVALID_AMOUNT" | "TOO_MANY_DECIMALS" | "INVALID_RATE";

const REASONS: ReadonlySet<string> = new Set<MoneyErrorReason>([
  "UNKNOWN_CURRENCY",
  "INVALID_AMOUNT",
  "TOO_MANY_DECIMALS",
  "INVALID_RATE",
]);

/**
 * A money value (currency code, amount or rate) that this library refuses. Thrown by every function of
 * `@fintech/money`; callers map `reason` to their own error codes (e.g. INVALID_ARGUMENT at the API edge).
 */
export class MoneyError extends Error {
  override readonly name = "MoneyError";
  readonly reason: MoneyErrorReason;
  /**
   * The logical input that was wrong: "currency", "amount" or "rate" when thrown by this library. Callers
   * that know the request path (e.g. "transfer.amount") can throw a new MoneyError with this one as cause.
   */
  readonly field?: string;

  constructor(reason: MoneyErrorReason, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    if (options?.field !== undefined) this.field = options.field;
  }
}

/**
 * True when `e` is a MoneyError. Checks `name` and `reason` rather than `instanceof`, so errors from another
 * copy of this package (or another realm) are recognised too.
 */
export function isMoneyError(e: unknown): e is MoneyError {
  if (typeof e !== "object" || e === null) return false;
  const { name, reason } = e as { name?: unknown; reason?: unknown };
  return name === "MoneyError" && typeof reason === "string" && REASONS.has(reason);
}
