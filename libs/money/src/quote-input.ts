const MAX_QUOTED = 40;

/**
 * Renders a rejected input for an error message. Long inputs are cut so a hostile multi-megabyte amount does
 * not end up verbatim in logs.
 */
export function quoteInput(value: unknown): string {
  const text = typeof value === "string" ? value : typeof value === "bigint" ? `${value}n` : String(value);
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}...(${text.length} chars)` : text;
  return JSON.stringify(cut);
}
