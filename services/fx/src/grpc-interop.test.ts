import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetRateRequestSchema, GetRateResponseSchema } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import * as grpc from "@grpc/grpc-js";
import { expect } from "vitest";
import { fxTest } from "./test/harness.js";

// A stock @grpc/grpc-js client, not Connect: what any gRPC tool or language sees on the fx port.
const test = fxTest();

function unary<I extends DescMessage, O extends DescMessage>(
  address: string,
  path: string,
  input: I,
  output: O,
  request: MessageShape<I>,
): Promise<MessageShape<O>> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<MessageShape<O>>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (msg: MessageShape<I>) => Buffer.from(toBinary(input, msg)),
      (buf: Buffer) => fromBinary(output, buf),
      request,
      (err, res) => (err || !res ? reject(err) : resolve(res)),
    );
  }).finally(() => client.close());
}

test("a grpc-js client calls GetRate and the health service", async ({ fx }) => {
  const address = `127.0.0.1:${fx.port}`;
  const health = await unary(
    address,
    "/grpc.health.v1.Health/Check",
    HealthCheckRequestSchema,
    HealthCheckResponseSchema,
    create(HealthCheckRequestSchema, { service: "fintech.fx.v1.FxService" }),
  );
  expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

  const res = await unary(
    address,
    "/fintech.fx.v1.FxService/GetRate",
    GetRateRequestSchema,
    GetRateResponseSchema,
    create(GetRateRequestSchema, { base: "USD", quote: "SGD" }),
  );
  expect(res.rate?.rate).toBe("1.342857142857");

  const refused = await unary(
    address,
    "/fintech.fx.v1.FxService/GetRate",
    GetRateRequestSchema,
    GetRateResponseSchema,
    create(GetRateRequestSchema, { base: "USD", quote: "ABC" }),
  ).catch((e: grpc.ServiceError) => e);
  expect((refused as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
});
