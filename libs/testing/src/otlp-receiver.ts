import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { BinaryReader } from "@bufbuild/protobuf/wire";

/** A span as an OTLP/HTTP trace export delivered it, flattened. */
export interface ReceivedSpan {
  /** The exporting process's `service.name` resource attribute. */
  service: string;
  /** 32 hex digits. */
  traceId: string;
  /** 16 hex digits. */
  spanId: string;
  /** 16 hex digits, "" for a root span. */
  parentSpanId: string;
  name: string;
  kind: "unspecified" | "internal" | "server" | "client" | "producer" | "consumer";
  attributes: Record<string, string | number | boolean>;
  /** "unset", "ok" or "error". */
  status: "unset" | "ok" | "error";
  /** When it started and ended, in ms since the Unix epoch (fractions kept). */
  startMs: number;
  endMs: number;
}

/** An OTLP/HTTP trace receiver on a free loopback port: what a collector would be for an exporting service. */
export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it (exports go to `<url>/v1/traces`). */
  url: string;
  /** Every span received so far, in arrival order. */
  spans: ReceivedSpan[];
  /** The content type of every export request received, e.g. "application/x-protobuf". */
  contentTypes: string[];
  close(): Promise<void>;
}

const KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;
const STATUSES = ["unset", "ok", "error"] as const;

/**
 * Starts a plain node:http server that accepts OTLP/HTTP trace exports (`POST /v1/traces`), protobuf
 * (`application/x-protobuf`, the default protocol) or JSON, gzipped or not, and keeps their spans. It decodes the
 * wire format itself, field by field, so a test sees what a real collector would.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req, res) => {
    receive(req, res, spans, contentTypes).catch((err: unknown) => {
      res.writeHead(400, { "content-type": "text/plain" }).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function receive(
  req: IncomingMessage,
  res: ServerResponse,
  spans: ReceivedSpan[],
  contentTypes: string[],
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
  if (req.method !== "POST" || req.url !== "/v1/traces") {
    res.writeHead(404).end();
    return;
  }
  const type = req.headers["content-type"] ?? "";
  contentTypes.push(type);
  if (type.startsWith("application/json")) {
    spans.push(...fromJson(JSON.parse(body.toString("utf8")) as JsonRequest));
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  } else {
    spans.push(...fromProtobuf(new Uint8Array(body)));
    // An empty ExportTraceServiceResponse: everything accepted.
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  }
}

// --- protobuf: opentelemetry/proto/collector/trace/v1 ExportTraceServiceRequest ---

/** Calls `onField` for each field of the message in `bytes`; fields it does not read are skipped. */
function fields(bytes: Uint8Array, onField: (no: number, reader: BinaryReader) => boolean): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (!onField(no, reader)) reader.skip(wireType, no);
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** A fixed64 of Unix nanoseconds, as protobuf-es reads it (bigint or decimal string), in ms. */
const nanosToMs = (nanos: bigint | string): number => Number(BigInt(nanos) / 1000n) / 1000;

function fromProtobuf(request: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  fields(request, (no, r) => {
    if (no !== 1) return false;
    // ResourceSpans: 1 resource, 2 scope_spans
    let service = "";
    const scopeSpans: Uint8Array[] = [];
    fields(r.bytes(), (no2, r2) => {
      if (no2 === 1) {
        fields(r2.bytes(), (no3, r3) => {
          if (no3 !== 1) return false;
          const [key, value] = keyValue(r3.bytes());
          if (key === "service.name") service = String(value);
          return true;
        });
        return true;
      }
      if (no2 === 2) {
        scopeSpans.push(r2.bytes());
        return true;
      }
      return false;
    });
    for (const scope of scopeSpans) {
      // ScopeSpans: 2 spans
      fields(scope, (no3, r3) => {
        if (no3 !== 2) return false;
        out.push(span(r3.bytes(), service));
        return true;
      });
    }
    return true;
  });
  return out;
}

function span(bytes: Uint8Array, service: string): ReceivedSpan {
  const s: ReceivedSpan = {
    service,
    traceId: "",
    spanId: "",
    parentSpanId: "",
    name: "",
    kind: "unspecified",
    attributes: {},
    status: "unset",
    startMs: 0,
    endMs: 0,
  };
  fields(bytes, (no, r) => {
    switch (no) {
      case 1:
        s.traceId = hex(r.bytes());
        return true;
      case 2:
        s.spanId = hex(r.bytes());
        return true;
      case 4:
        s.parentSpanId = hex(r.bytes());
        return true;
      case 5:
        s.name = r.string();
        return true;
      case 6:
        s.kind = KINDS[r.int32()] ?? "unspecified";
        return true;
      case 7:
        s.startMs = nanosToMs(r.fixed64());
        return true;
      case 8:
        s.endMs = nanosToMs(r.fixed64());
        return true;
      case 9: {
        const [key, value] = keyValue(r.bytes());
        s.attributes[key] = value;
        return true;
      }
      case 15:
        // Status: 3 code
        fields(r.bytes(), (no2, r2) => {
          if (no2 !== 3) return false;
          s.status = STATUSES[r2.int32()] ?? "unset";
          return true;
        });
        return true;
      default:
        return false;
    }
  });
  return s;
}

/** KeyValue: 1 key, 2 AnyValue (1 string, 2 bool, 3 int64, 4 double; other kinds are left out). */
function keyValue(bytes: Uint8Array): [string, string | number | boolean] {
  let key = "";
  let value: string | number | boolean = "";
  fields(bytes, (no, r) => {
    if (no === 1) {
      key = r.string();
      return true;
    }
    if (no !== 2) return false;
    fields(r.bytes(), (kind, rv) => {
      if (kind === 1) value = rv.string();
      else if (kind === 2) value = rv.bool();
      else if (kind === 3) value = Number(rv.int64());
      else if (kind === 4) value = rv.double();
      else return false;
      return true;
    });
    return true;
  });
  return [key, value];
}

// --- JSON: the same request in OTLP's JSON mapping (ids in hex, enums as numbers) ---

interface JsonValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}
interface JsonKeyValue {
  key: string;
  value?: JsonValue;
}
interface JsonRequest {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        startTimeUnixNano?: string;
        endTimeUnixNano?: string;
        attributes?: JsonKeyValue[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

function jsonValue(v: JsonValue | undefined): string | number | boolean {
  if (v?.stringValue !== undefined) return v.stringValue;
  if (v?.boolValue !== undefined) return v.boolValue;
  if (v?.intValue !== undefined) return Number(v.intValue);
  return v?.doubleValue ?? "";
}

function fromJson(request: JsonRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs) => {
    const service = jsonValue(rs.resource?.attributes?.find((a) => a.key === "service.name")?.value);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map(
        (s): ReceivedSpan => ({
          service: String(service),
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: KINDS[s.kind ?? 0] ?? "unspecified",
          attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, jsonValue(a.value)])),
          status: STATUSES[s.status?.code ?? 0] ?? "unset",
          startMs: nanosToMs(s.startTimeUnixNano ?? "0"),
          endMs: nanosToMs(s.endTimeUnixNano ?? "0"),
        }),
      ),
    );
  });
}
