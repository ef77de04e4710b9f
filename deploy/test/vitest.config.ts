import shared from "../../vitest.shared.js";

// The shared configuration, less its global setup: these checks read files and start no Postgres, NATS or Redis.
export default { ...shared, test: { ...shared.test, globalSetup: [] } };
