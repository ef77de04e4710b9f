export type { Backends, BackendUrls } from "./backends.js";
export { connectBackends } from "./backends.js";
export type { WalletConfig } from "./config.js";
export { parseWalletConfig, walletEnv } from "./config.js";
export type { WalletErrorReason } from "./errors.js";
export type { WalletDeps } from "./server.js";
export { build, migrationsDir, REVIEWS_CONSUMER } from "./server.js";
export { IDENTITY_CONSUMER } from "./users.js";
export type { WalletService } from "./wallet-service.js";
