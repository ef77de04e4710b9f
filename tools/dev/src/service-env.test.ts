import { describe, expect, it } from "vitest";
import { reachableHost, serviceEnv } from "./service-env.js";
import { services } from "./services.js";

const fx = services.find((s) => s.name === "fx");
const gateway = services.find((s) => s.name === "gateway");
if (fx === undefined || gateway === undefined) throw new Error("fx and gateway are in the services table");

describe("serviceEnv", () => {
  it("binds service and metrics ports to loopback and turns reflection on for local tools", () => {
    const env = serviceEnv(fx, { PATH: "/bin" });
    expect(env).toMatchObject({
      HOST: "127.0.0.1",
      PORT: String(fx.port),
      METRICS_PORT: String(fx.metricsPort),
      GRPC_REFLECTION: "true",
      PATH: "/bin",
    });
    // The gateway serves no gRPC: the variable would be unknown to it.
    expect(serviceEnv(gateway, {}).GRPC_REFLECTION).toBeUndefined();
    expect(serviceEnv(gateway, {}).HOST).toBe("127.0.0.1");
  });

  it("keeps what the environment sets, a service's own prefixed variable first", () => {
    const env = serviceEnv(fx, {
      HOST: "0.0.0.0",
      FX_PORT: "6000",
      FX_HOST: "10.0.0.5",
      WALLET_PORT: "7000",
      GRPC_REFLECTION: "false",
    });
    expect(env).toMatchObject({ HOST: "10.0.0.5", PORT: "6000", GRPC_REFLECTION: "false" });
    expect(serviceEnv(gateway, { HOST: "0.0.0.0" }).HOST).toBe("0.0.0.0");
  });

  it("probes a wildcard bind on loopback", () => {
    expect(reachableHost("0.0.0.0")).toBe("127.0.0.1");
    expect(reachableHost("::")).toBe("127.0.0.1");
    expect(reachableHost("192.168.1.4")).toBe("192.168.1.4");
  });
});
