// A container health probe with no dependencies beyond Node itself, for docker compose (Kubernetes uses its
// native grpc/httpGet probes instead):
//
//   node deploy/docker/healthcheck.mjs grpc 50055          grpc.health.v1.Health/Check("") over h2c: exit 0
//                                                          only when the answer is SERVING
//   node deploy/docker/healthcheck.mjs http 8080 /ready    GET on 127.0.0.1: exit 0 only on a 2xx
//
// Exit 1 on anything else (refused, timeout, NOT_SERVING, a gRPC error), with one line on stderr saying why.
// The gRPC call is written by hand (a five-byte frame, a two-byte answer) so the probe needs no client library.

import { request } from "node:http";
import { connect } from "node:http2";

const HOST = "127.0.0.1";
const TIMEOUT_MS = 3_000;
const SERVING = 1;

const [kind = "grpc", portText = process.env.PORT ?? "", path = "/health"] = process.argv.slice(2);
const port = Number(portText);

function fail(reason) {
  console.error(`unhealthy: ${reason}`);
  process.exit(1);
}

// HealthCheckResponse { ServingStatus status = 1; }: the varint of field 1, or 0 (UNKNOWN) when absent.
function servingStatus(message) {
  let i = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; i < message.length; shift += 7) {
      const byte = message[i++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error("truncated varint");
  };
  let status = 0;
  while (i < message.length) {
    const tag = varint();
    const wireType = tag & 7;
    if (wireType === 0) {
      const value = varint();
      if (tag >>> 3 === 1) status = value;
    } else if (wireType === 2) {
      i += varint();
    } else {
      throw new Error(`unexpected wire type ${wireType}`);
    }
  }
  return status;
}

function checkGrpc() {
  const session = connect(`http://${HOST}:${port}`);
  session.on("error", (err) => fail(err.message));
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.health.v1.Health/Check",
    "content-type": "application/grpc",
    te: "trailers",
  });
  const chunks = [];
  let grpcStatus;
  let grpcMessage = "";
  const noteStatus = (headers) => {
    if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
    if (headers["grpc-message"] !== undefined)
      grpcMessage = decodeURIComponent(String(headers["grpc-message"]));
  };
  stream.on("response", noteStatus); // a trailers-only answer carries the status in the headers
  stream.on("trailers", noteStatus);
  stream.on("data", (chunk) => chunks.push(chunk));
  stream.on("error", (err) => fail(err.message));
  stream.on("end", () => {
    session.close();
    if (grpcStatus !== "0") fail(`grpc-status ${grpcStatus ?? "missing"} ${grpcMessage}`.trim());
    const body = Buffer.concat(chunks);
    if (body.length < 5) fail("empty answer");
    const status = servingStatus(body.subarray(5, 5 + body.readUInt32BE(1)));
    if (status !== SERVING) fail(`status ${status} (1 is SERVING)`);
    process.exit(0);
  });
  // HealthCheckRequest { service: "" } encodes to nothing: the frame is the 5-byte prefix alone.
  stream.end(Buffer.alloc(5));
}

function checkHttp() {
  const req = request({ host: HOST, port, path, method: "GET" }, (res) => {
    res.resume();
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) process.exit(0);
    fail(`GET ${path} answered ${code}`);
  });
  req.on("error", (err) => fail(err.message));
  req.end();
}

if (!Number.isInteger(port) || port < 1 || port > 65_535) fail(`expected a port, got "${portText}"`);
setTimeout(() => fail(`no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS).unref();
if (kind === "grpc") checkGrpc();
else if (kind === "http") checkHttp();
else fail(`expected grpc or http, got "${kind}"`);
