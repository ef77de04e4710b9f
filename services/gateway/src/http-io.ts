import type { IncomingMessage } from "node:http";
import { textProblem } from "@fintech/platform";
import { GatewayError } from "./errors.js";

/** Largest request body accepted, in bytes (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * A request body as read: JSON text, or the text of an uploaded file for a route whose body is one string field
 * (with the file's name when a multipart form gave one).
 */
export type Body = { kind: "json"; text: string } | { kind: "file"; text: string; fileName?: string };

const TEXT_TYPE = /^text\/(?:csv|plain)\s*(?:;|$)/i;
const MULTIPART_TYPE = /^multipart\/form-data\s*;/i;

/**
 * Reads the request body, at most `limit` bytes: a declared Content-Length over it is refused before any byte
 * is read, and a body that grows past it stops being read at once (PAYLOAD_TOO_LARGE either way; the caller
 * closes the connection, so the rest is never read). A non-empty body must be JSON, or, when `acceptsFile`
 * (the route's body is one string field such as an import's CSV), text/csv, text/plain or a multipart form
 * whose first file part is taken (UNSUPPORTED_MEDIA_TYPE otherwise).
 */
export async function readBody(
  req: IncomingMessage,
  opts: { acceptsFile: boolean; limit?: number },
): Promise<Body> {
  const limit = opts.limit ?? MAX_BODY_BYTES;
  const tooLarge = () =>
    new GatewayError("PAYLOAD_TOO_LARGE", `the body is over ${limit} bytes`, { limit_bytes: String(limit) });
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
  if (size === 0) return { kind: "json", text: "" };
  const raw = Buffer.concat(chunks, size);
  const type = req.headers["content-type"];
  if (type === undefined || JSON_TYPE.test(type)) return { kind: "json", text: raw.toString("utf8") };
  if (opts.acceptsFile && TEXT_TYPE.test(type)) return { kind: "file", text: raw.toString("utf8") };
  if (opts.acceptsFile && MULTIPART_TYPE.test(type)) return { kind: "file", ...(await firstFile(raw, type)) };
  throw new GatewayError(
    "UNSUPPORTED_MEDIA_TYPE",
    opts.acceptsFile
      ? "the body must be JSON, text/csv or multipart/form-data with a file"
      : "the body must be JSON (content-type: application/json)",
  );
}

/** The first file part of a multipart/form-data body (parsed by the runtime's fetch Response): text and name. */
async function firstFile(raw: Buffer, contentType: string): Promise<{ text: string; fileName?: string }> {
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
  } catch (err) {
    throw new GatewayError(
      "VALIDATION_ERROR",
      "the multipart body is malformed",
      { field: "body" },
      { cause: err },
    );
  }
  for (const value of form.values()) {
    if (typeof value === "string") continue;
    // The name is forwarded (file_name): refused here like any other text a client sends.
    const problem = textProblem(value.name);
    if (problem !== undefined)
      throw new GatewayError("VALIDATION_ERROR", `the file name ${problem}`, { field: "file_name" });
    const text = await value.text();
    return value.name === "" || value.name === "blob" ? { text } : { text, fileName: value.name };
  }
  throw new GatewayError("VALIDATION_ERROR", "the multipart body has no file part", { field: "body" });
}

// The same rule as the services' request ids: short and boring, since it lands in every log line.
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The client's X-Request-Id when it is a sane one, else undefined. */
export function acceptableRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && REQUEST_ID.test(value) ? value : undefined;
}

/** Idempotency-Key: 1-255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key, refused (VALIDATION_ERROR) when present but not 1-255 visible characters. */
export function idempotencyKey(req: IncomingMessage): string | undefined {
  const value = req.headers["idempotency-key"];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !IDEMPOTENCY_KEY.test(value)) {
    throw new GatewayError("VALIDATION_ERROR", "Idempotency-Key must be 1-255 visible ASCII characters", {
      field: "Idempotency-Key",
    });
  }
  return value;
}

/**
 * The client's address: the socket's, or with `trustedHops` proxies in front, the X-Forwarded-For entry
 * the outermost trusted proxy added (entries further left are the client's own claims).
 */
export function clientIp(req: IncomingMessage, trustedHops: number): string {
  const socket = req.socket.remoteAddress ?? "unknown";
  if (trustedHops === 0) return socket;
  const header = req.headers["x-forwarded-for"];
  const list = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return list[list.length - trustedHops] ?? list[0] ?? socket;
}
