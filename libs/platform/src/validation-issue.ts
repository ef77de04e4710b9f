/** One thing wrong with a request. */
export interface ValidationIssue {
  /** Path of the offending field in the request, e.g. "amount.currency". */
  field: string;
  /** What is wrong, for humans, e.g. "must be a 3-letter ISO 4217 code". */
  message: string;
  /** Extra facts for clients, added to the ErrorInfo metadata (first issue only). */
  metadata?: Record<string, string>;
}
