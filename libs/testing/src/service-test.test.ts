import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { describe, expect } from "vitest";
import { serviceTest } from "./service-test.js";
import { probeApp } from "./test/probe-app.js";
import { testUser } from "./tokens.js";

const test = serviceTest("probe", async (kit) => {
  const { url } = await kit.start(probeApp({ ...kit.deps, authenticator: kit.tokens.authenticator }));
  return {
    url,
    as: (userId: string) => kit.client(PingService, url, testUser(userId)),
    schema: kit.pg.schema,
  };
});

describe("a service test", () => {
  test("hands every test of the file the one harness, over the file's own schema", async ({ probe, pg }) => {
    expect(probe.schema).toBe(pg.schema);
    expect((await probe.as("ana").ping({})).payload).toBe("ana");
  });

  test("keeps serving it to the file's later tests", async ({ probe }) => {
    expect((await probe.as("bo").ping({})).payload).toBe("bo");
  });
});
