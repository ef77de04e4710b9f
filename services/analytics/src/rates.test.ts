import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { describe, expect, it } from "vitest";
import { fxRates } from "./rates.js";

/** fx as it answers: SGD/MYR set three times (newest first, two per page), USD/MYR only current (cross). */
function fx() {
  const history = [
    { rate: "3.600000000000", at: Date.UTC(2026, 3, 10, 12) },
    { rate: "3.400000000000", at: Date.UTC(2026, 3, 2, 9) },
    { rate: "3.500000000000", at: Date.UTC(2026, 2, 1) },
  ];
  return createClient(
    FxService,
    createRouterTransport(({ service }) =>
      service(FxService, {
        listRateHistory(req) {
          if (req.base !== "SGD" || req.quote !== "MYR") return { data: [] };
          const from = req.cursor === "" ? 0 : Number(req.cursor);
          const page = history.slice(from, from + 2);
          return {
            data: page.map((h) => ({
              base: "SGD",
              quote: "MYR",
              rate: h.rate,
              updatedAt: timestampFromMs(h.at),
            })),
            hasMore: from + 2 < history.length,
            nextCursor: from + 2 < history.length ? String(from + 2) : "",
          };
        },
        getRate(req) {
          if (req.base === "USD") return { rate: { base: "USD", quote: "MYR", rate: "4.700000000000" } };
          throw new ConnectError("no rate", Code.FailedPrecondition);
        },
      }),
    ),
  );
}

describe("fxRates by day", () => {
  it("takes the last rate set by the end of the UTC day, else the earliest; a cross rate is the current one", async () => {
    const rates = fxRates(fx(), "MYR");
    const on = async (currency: string, day: string) =>
      (await rates.rateToBaseOn?.(currency, day))?.toFixed(2);
    expect(await on("SGD", "2026-02-01")).toBe("3.50");
    expect(await on("SGD", "2026-04-01")).toBe("3.50");
    expect(await on("SGD", "2026-04-02")).toBe("3.40");
    expect(await on("SGD", "2026-04-09")).toBe("3.40");
    expect(await on("SGD", "2026-04-10")).toBe("3.60");
    expect(await on("USD", "2026-04-02")).toBe("4.70");
    expect(await on("JPY", "2026-04-02")).toBeUndefined();
  });
});
