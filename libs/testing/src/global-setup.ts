// vitest globalSetup for every package (see vitest.shared.ts): throwaway containers where Docker
// exists and no server URL is set; otherwise nothing.
export { startContainersIfNeeded as default } from "./start-containers-if-needed.js";
