export type { IdentityConfig, ServiceCredential } from "./config.js";
export { parseIdentityConfig } from "./config.js";
export { checkPassword } from "./password-policy.js";
export type { IdentityDeps } from "./server.js";
export { build, migrationsDir } from "./server.js";
export { startIdentity } from "./start.js";
