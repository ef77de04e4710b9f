import { serviceRegistry, serviceUrl } from "@fintech/platform";
import { describe, expect, test } from "vitest";
import { parseArgs, USAGE } from "./args.js";
import { formatDuration, progressLine } from "./progress.js";

describe("the import command line", () => {
  test("reads a file, replay options and a user, resolving the file where the command was typed", () => {
    const args = parseArgs(
      ["data/day.csv", "--replay", "--speed", "60", "--user-id=u1", "--timezone", "Asia/Kuala_Lumpur"],
      {},
      "/home/me",
    );
    expect(args).toMatchObject({
      file: "/home/me/data/day.csv",
      replay: true,
      speed: 60,
      userId: "u1",
      timezone: "Asia/Kuala_Lumpur",
      natsUrl: "nats://127.0.0.1:4222",
      baseCurrency: "MYR",
    });
  });

  test("asks fx where ./dev start runs it unless FX_URL or --fx-url says otherwise", () => {
    const local = serviceUrl(serviceRegistry.fx);
    expect(parseArgs(["a.csv"], {}, "/").fxUrl).toBe(local);
    expect(parseArgs(["a.csv"], { FX_URL: "http://fx:1234" }, "/").fxUrl).toBe("http://fx:1234");
    expect(parseArgs(["a.csv", "--fx-url", "http://other:1"], { FX_URL: "http://fx:1234" }, "/").fxUrl).toBe(
      "http://other:1",
    );
    expect(USAGE).toContain(`default $FX_URL or ${local}`);
  });

  test("refuses a bad speed, an unknown option and a missing file", () => {
    expect(() => parseArgs(["a.csv", "--speed", "0"], {}, "/")).toThrow("--speed must be a number above 0");
    expect(() => parseArgs(["a.csv", "--fast"], {}, "/")).toThrow("unknown option --fast");
    expect(() => parseArgs([], {}, "/")).toThrow("which CSV file?");
  });

  test("--help asks for the usage alone, without a file; the database defaults to analytics' schema", () => {
    expect(parseArgs(["--help"], {}, "/")).toMatchObject({ help: true });
    expect(parseArgs(["-h", "--fast"], {}, "/")).toMatchObject({ help: true });
    expect(parseArgs(["a.csv"], { DB_SCHEMA: "an" }, "/")).toMatchObject({ dbSchema: "an", help: false });
    expect(() => parseArgs(["a.csv", "-x"], {}, "/")).toThrow("unknown option -x");
  });

  test("shows progress with rows per second and the time left", () => {
    expect(
      progressLine({
        bytesTotal: 1000,
        bytesProcessed: 250,
        rowsTotal: 0,
        rowsProcessed: 5000,
        rowsFailed: 3,
        elapsedMs: 2000,
      }),
    ).toBe("[######..................]  25%  5,000 rows  2,500 rows/s  ETA 0:06  3 bad");
    // Replay reads the file long before it publishes: progress follows the rows when their number is known.
    expect(
      progressLine({
        bytesTotal: 1000,
        bytesProcessed: 1000,
        rowsTotal: 20,
        rowsProcessed: 5,
        rowsFailed: 0,
        elapsedMs: 1000,
      }),
    ).toBe("[######..................]  25%  5 rows  5 rows/s  ETA 0:03");
    expect(formatDuration(3_725_000)).toBe("1:02:05");
  });
});
