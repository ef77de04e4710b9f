export type {
  Answer,
  Call,
  FintechClient,
  FintechClientOptions,
  FintechRawClient,
  Init,
} from "./create-fintech-client.js";
export { createFintechClient } from "./create-fintech-client.js";
export type { ApiErrorBody } from "./fintech-api-error.js";
export { FintechApiError, isFintechApiError } from "./fintech-api-error.js";
export type { components, operations, paths } from "./gen/api.js";
