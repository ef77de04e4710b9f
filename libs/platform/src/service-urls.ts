/**
 * The URLs a service URL variable names: one absolute http(s) URL, or several separated by commas (one per replica,
 * where no name resolves to them all). Items are trimmed and empty ones dropped; undefined when an item is not an
 * absolute http or https URL, or when there is none.
 */
export function splitServiceUrl(value: string): URL[] | undefined {
  const urls: URL[] = [];
  for (const item of value.split(",")) {
    const text = item.trim();
    if (text === "") continue;
    if (!URL.canParse(text)) return undefined;
    const url = new URL(text);
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return undefined;
    urls.push(url);
  }
  return urls.length > 0 ? urls : undefined;
}
