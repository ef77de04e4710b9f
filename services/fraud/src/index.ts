export type { FraudConfig } from "./config.js";
export { parseFraudConfig } from "./config.js";
export { FEATURES_CONSUMER, observe } from "./events.js";
export type { FeatureStore, ObservedTransaction } from "./features.js";
export { createFeatureStore, signatureOf } from "./features.js";
export { longestWindowMs } from "./rules.js";
export type { FraudDeps } from "./server.js";
export { build, migrationsDir } from "./server.js";
export { startFraud } from "./start.js";
