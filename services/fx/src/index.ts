export type { FxConfig } from "./config.js";
export { parseFxConfig } from "./config.js";
export type { FxDeps } from "./server.js";
export { build, migrationsDir } from "./server.js";
export { startFx } from "./start.js";
