import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBody } from "./http-io.js";

// readBody on a real HTTP server: which bodies a route gets, by media type and by whether its body is one
// string field that takes an uploaded file (an import's CSV).
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    readBody(req, { acceptsFile: req.url === "/file" }).then(
      (body) => res.end(JSON.stringify(body)),
      (err: Error & { reason?: string; details?: { field?: string } }) =>
        res.writeHead(400).end(JSON.stringify({ reason: err.reason, field: err.details?.field })),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const csv = "timestamp,type,provider,amount\n2026-01-01T00:00:00Z,deposit,visa,10.00\n";

describe("request bodies", () => {
  it("takes JSON everywhere and a CSV only where the body is a file", async () => {
    const json = await fetch(`${url}/json`, {
      method: "POST",
      body: '{"a":1}',
      headers: { "content-type": "application/json" },
    });
    expect(await json.json()).toEqual({ kind: "json", text: '{"a":1}' });
    const file = await fetch(`${url}/file`, {
      method: "POST",
      body: csv,
      headers: { "content-type": "text/csv" },
    });
    expect(await file.json()).toEqual({ kind: "file", text: csv });
    const refused = await fetch(`${url}/json`, {
      method: "POST",
      body: csv,
      headers: { "content-type": "text/csv" },
    });
    expect(await refused.json()).toEqual({ reason: "UNSUPPORTED_MEDIA_TYPE" });
  });

  it("takes the first file of a multipart form, with its name", async () => {
    const form = new FormData();
    form.append("note", "not a file");
    form.append("file", new Blob([csv], { type: "text/csv" }), "history.csv");
    const res = await fetch(`${url}/file`, { method: "POST", body: form });
    expect(await res.json()).toEqual({ kind: "file", text: csv, fileName: "history.csv" });

    const named = new FormData();
    named.append("file", new Blob([csv], { type: "text/csv" }), "history\u0001.csv");
    const badName = await fetch(`${url}/file`, { method: "POST", body: named });
    expect(await badName.json()).toEqual({ reason: "VALIDATION_ERROR", field: "file_name" });

    const noFile = new FormData();
    noFile.append("note", "only text");
    const refused = await fetch(`${url}/file`, { method: "POST", body: noFile });
    expect(await refused.json()).toEqual({ reason: "VALIDATION_ERROR", field: "body" });
  });
});
