import { describe, expect, it } from "vitest";
import { createTargetPolicy, isInternalAddress } from "./target-policy.js";

describe("where webhooks may go", () => {
  it("knows loopback, private, link-local and unspecified addresses, IPv4 inside IPv6 included", () => {
    for (const address of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "::",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "[::1]",
      "not-an-address",
    ]) {
      expect(isInternalAddress(address), address).toBe(true);
    }
    for (const address of ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]) {
      expect(isInternalAddress(address), address).toBe(false);
    }
  });

  it("refuses http, credentials in the URL and internal hosts by default", async () => {
    const policy = createTargetPolicy({ allowHttp: false, allowPrivate: false });
    expect(await policy.checkUrl("http://93.184.215.14/hook")).toBe("must be an https URL");
    expect(await policy.checkUrl("https://user:pw@93.184.215.14/hook")).toBe(
      "must not carry a user name or password",
    );
    for (const url of [
      "https://127.0.0.1/hook",
      "https://10.0.0.8:8443/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/hook",
      "https://localhost/hook",
      "https://api.localhost/hook",
    ]) {
      expect(await policy.checkUrl(url), url).toBe(
        "must not point at a loopback, private or link-local address",
      );
    }
    expect(await policy.checkUrl("https://93.184.215.14/hook")).toBeUndefined();
    expect(policy.allowsAddress("127.0.0.1")).toBe(false);
    expect(policy.allowsAddress("93.184.215.14")).toBe(true);
  });

  it("takes http and internal hosts where the settings allow them", async () => {
    const policy = createTargetPolicy({ allowHttp: true, allowPrivate: true });
    expect(await policy.checkUrl("http://127.0.0.1:8080/hook")).toBeUndefined();
    expect(await policy.checkUrl("ftp://127.0.0.1/hook")).toBe("must be an https or http URL");
    expect(policy.allowsAddress("127.0.0.1")).toBe(true);
  });
});
