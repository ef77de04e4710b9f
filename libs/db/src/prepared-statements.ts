import pg from "pg";
import { isStalePreparedStatement } from "./pg-errors.js";

/**
 * How many distinct statement texts a process prepares: the services issue a few dozen each, so this bounds only
 * text built at run time (which would otherwise grow every connection's cache, and every server backend's).
 */
export const MAX_PREPARED_STATEMENTS = 256;

/**
 * A pg client that runs every statement with parameters as a named prepared statement: parsed (and, once
 * Postgres settles on a generic plan, planned) once per connection instead of at every execution. The name
 * comes from the text, the same in every connection of the process; a text gets one only while fewer than
 * MAX_PREPARED_STATEMENTS have. A statement without parameters (BEGIN, or several statements sent as one simple
 * query) goes as it is, as does one that carries a name of its own.
 *
 * A migration that changes the columns a prepared statement returns (`SELECT *` of a table given a column) makes
 * Postgres refuse that statement on the connections that prepared it (isStalePreparedStatement). The text then
 * gets a new name, so that the next attempt, on any connection, prepares it afresh.
 */
export class PreparingClient extends pg.Client {}

type Query = (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) => unknown;
type Callback = (err: Error | null, result?: unknown) => void;
const query = pg.Client.prototype.query as unknown as Query;

const prepared: Query = function (config, values, callback) {
  let text: string;
  let params: unknown;
  let done: unknown;
  if (typeof config === "string") {
    [text, params, done] = [config, values, callback];
  } else if (isPlainConfig(config)) {
    text = config.text;
    params = Array.isArray(values) ? values : config.values;
    done = typeof values === "function" ? values : callback;
  } else {
    return query.call(this, config, values, callback);
  }
  const name = Array.isArray(params) && params.length > 0 ? statementName(text) : undefined;
  if (name === undefined) return query.call(this, config, values, callback);
  const request = { ...(typeof config === "string" ? {} : config), text, name, values: params };
  if (typeof done === "function") {
    return query.call(this, request, (err: Error | null, result?: unknown) => {
      if (err !== null && isStalePreparedStatement(err)) rename(text, name);
      (done as Callback)(err, result);
    });
  }
  return (query.call(this, request) as Promise<unknown>).catch((err: unknown) => {
    if (isStalePreparedStatement(err)) rename(text, name);
    throw err;
  });
};
PreparingClient.prototype.query = prepared as unknown as pg.Client["query"];

/** A `{ text, values, ... }` query config without a name of its own (not a pg Query or Cursor object). */
function isPlainConfig(config: unknown): config is { text: string; values?: unknown } {
  if (typeof config !== "object" || config === null) return false;
  const c = config as Record<string, unknown>;
  return typeof c.text === "string" && c.name === undefined && typeof c.submit !== "function";
}

const names = new Map<string, string>();
let issued = 0;

function statementName(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined || names.size >= MAX_PREPARED_STATEMENTS) return known;
  return newName(text);
}

/** Gives `text` a new name, unless another failure already has. */
function rename(text: string, stale: string): void {
  if (names.get(text) === stale) newName(text);
}

function newName(text: string): string {
  issued += 1;
  const name = `fintech_${issued}`;
  names.set(text, name);
  return name;
}
