import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { describe, expect, it } from "vitest";
import { errorInfoOf } from "./errors.js";
import { defineValidation } from "./validation.js";

describe("defineValidation", () => {
  it("types rules per method and runs them before the handler", async () => {
    let handled = 0;
    const validation = defineValidation(PingService, {
      ping: (req) => (req.payload === "" ? [{ field: "payload", message: "required" }] : []),
    });
    const transport = createRouterTransport(
      (router) =>
        router.service(PingService, {
          ping(req) {
            handled++;
            return { payload: req.payload };
          },
        }),
      { router: { interceptors: [validation] } },
    );
    const client = createClient(PingService, transport);

    expect((await client.ping({ payload: "ok" })).payload).toBe("ok");
    const err = await client.ping({ payload: "" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err && errorInfoOf(err)).toMatchObject({
      reason: "VALIDATION_ERROR",
      metadata: { field: "payload" },
    });
    expect(handled).toBe(1);
  });

  // Checked by the typecheck: each @ts-expect-error fails it when the line stops being an error.
  it("rejects rules for methods or fields the service does not have, at compile time", () => {
    // @ts-expect-error PingService has no method "pong"
    defineValidation(PingService, { pong: () => [] });
    // @ts-expect-error PingRequest has no field "amount"
    defineValidation(PingService, { ping: (req) => (req.amount ? [] : []) });
  });
});

describe("defineValidation's text check", () => {
  const serve = (validation: ReturnType<typeof defineValidation>) =>
    createClient(
      PingService,
      createRouterTransport(
        (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
        { router: { interceptors: [validation] } },
      ),
    );

  it("refuses a NUL in any field with VALIDATION_ERROR naming it, even for a method without a rule", async () => {
    const client = serve(defineValidation(PingService, {}));
    const err = await client.ping({ payload: "a\u0000b" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err && errorInfoOf(err)).toMatchObject({
      reason: "VALIDATION_ERROR",
      metadata: { field: "payload" },
    });
    expect((await client.ping({ payload: "two\nlines" })).payload).toBe("two\nlines");
  });

  it("refuses control characters before the method's own rule runs", async () => {
    let ruled = 0;
    const client = serve(
      defineValidation(PingService, {
        ping: () => {
          ruled++;
          return [];
        },
      }),
    );
    await expect(client.ping({ payload: "\u001b[2J" })).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(ruled).toBe(0);
  });
});
