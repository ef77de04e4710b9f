import { serviceRegistry } from "@fintech/platform";
import { describe, expect, test } from "vitest";
import { parseAnalyticsConfig } from "./config.js";

describe("analytics configuration", () => {
  test("has working defaults", () => {
    const config = parseAnalyticsConfig({});
    expect(config).toMatchObject({
      PORT: serviceRegistry.analytics.port,
      METRICS_PORT: serviceRegistry.analytics.metricsPort,
      DB_SCHEMA: "analytics",
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_PREFIX: "",
      BASE_CURRENCY: "MYR",
      ANALYTICS_HOT_DAYS: 7,
    });
    expect(config.ANALYTICS_IMPORT_RATES).toBeUndefined();
  });

  test("parses fixed import rates", () => {
    const config = parseAnalyticsConfig({ ANALYTICS_IMPORT_RATES: "SGD/MYR=3.50, USD/MYR=4.70" });
    expect(config.ANALYTICS_IMPORT_RATES?.map((r) => `${r.base}/${r.quote}=${r.rate.toString()}`)).toEqual([
      "SGD/MYR=3.5",
      "USD/MYR=4.7",
    ]);
  });

  test("names every bad variable, never a secret's value", () => {
    expect(() =>
      parseAnalyticsConfig({
        PORT: "x",
        BASE_CURRENCY: "ABC",
        ANALYTICS_HOT_DAYS: "0",
        ANALYTICS_IMPORT_RATES: "SGD=3",
        REDIS_PREFIX: "a b",
      }),
    ).toThrow(
      /PORT[\s\S]*REDIS_PREFIX[\s\S]*BASE_CURRENCY[\s\S]*ANALYTICS_HOT_DAYS[\s\S]*ANALYTICS_IMPORT_RATES/,
    );
  });
});
