export type { Span } from "@opentelemetry/api";
export { SpanKind, SpanStatusCode } from "@opentelemetry/api";
export type {
  BalancedSessionManager,
  BalancerOptions,
  SessionManager,
  UpstreamAddress,
} from "./balanced-session-manager.js";
export { createBalancedSessionManager, DEFAULT_RESOLVE_INTERVAL_MS } from "./balanced-session-manager.js";
export { observeClientCalls, recordClientMetrics } from "./client-metrics.js";
export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
export type { ConfigIssue, LogLevel } from "./config.js";
export {
  ConfigError,
  envBool,
  envCsv,
  envInt,
  envLogLevel,
  envPort,
  envServiceUrl,
  envUrl,
  LOG_LEVELS,
  parseConfig,
} from "./config.js";
export type { DomainError, DomainErrorClass, DomainErrorReason, DomainErrors } from "./domain-errors.js";
export { defineDomainErrors, moneyConnectError } from "./domain-errors.js";
export type { ErrorMapper } from "./error-mapping-interceptor.js";
export { INTERNAL_REASON, isTransportFailure, UNAVAILABLE_REASON } from "./error-mapping-interceptor.js";
export type { ErrorReason, Reasons } from "./error-reasons.js";
export { isErrorReason } from "./error-reasons.js";
export type { ConnectErrorOptions } from "./errors.js";
export { connectError, DEFAULT_ERROR_DOMAIN, errorInfoOf } from "./errors.js";
export type { HealthReporter } from "./health.js";
export type { LoggerOptions } from "./logger.js";
export { createLogger, REDACTED, REDACTED_KEYS, redactSecrets, SECRET_KEY_PATTERN } from "./logger.js";
export { collectProcessMetrics } from "./metrics.js";
export type { CursorPart, Page, PageCursor } from "./pagination.js";
export {
  cursorParts,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  pageCursor,
  pageSize,
  pageSizeIssues,
  takePage,
} from "./pagination.js";
export { randomBuffer, randomHex } from "./random-pool.js";
export type { ReadinessDeps, ReadinessReport } from "./readiness.js";
export {
  createReadiness,
  createReadinessReport,
  NotReadyError,
  READINESS_TIMEOUT_MS,
  READY,
} from "./readiness.js";
export { getRequestId, REQUEST_ID_HEADER, requestIdKey } from "./request-id.js";
export type { EnumNames, Leaf } from "./rest-json.js";
export {
  enumNames,
  INT64_SCALARS,
  isMoneyField,
  isWellKnown,
  leafOf,
  restFieldOptions,
  restJson,
} from "./rest-json.js";
export { createTraceInterceptor, propagateTrace } from "./rpc-tracing.js";
export type { Running } from "./run-main.js";
export { runMain } from "./run-main.js";
export type {
  InProcessTransport,
  ListenOptions,
  ListenResult,
  PlatformServer,
  ServerOptions,
  StartedService,
} from "./server.js";
export { createServer, DEFAULT_MAX_CONNECTION_AGE_MS, MAX_REQUEST_BYTES } from "./server.js";
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  DEFAULT_REDIS_URL,
  redisEnv,
  serverEnv,
  serviceEnv,
} from "./service-env.js";
export type {
  BackendName,
  RestServiceName,
  ServiceEntry,
  ServiceName,
  UrlEnvOf,
} from "./service-registry.js";
export { platformServices, serviceRegistry, serviceUrl, serviceUrlsEnv } from "./service-registry.js";
export type { ServiceTransportOptions } from "./service-transport.js";
export { createServiceTransport } from "./service-transport.js";
export { splitServiceUrl } from "./service-urls.js";
export type { SpanOptions, Telemetry } from "./telemetry.js";
export {
  endSpan,
  markSpanFailed,
  startSpan,
  startTelemetry,
  tracing,
  withSpan,
  withTelemetry,
} from "./telemetry.js";
export { textIssues, textProblem } from "./text-issues.js";
export {
  canonicalTimeZone,
  isTimeZone,
  localDay,
  localMinutes,
  nextDay,
  startOfLocalDay,
  zoneOrUtc,
} from "./time-zone.js";
export {
  childSpan,
  currentSpan,
  formatTraceparent,
  parseTraceparent,
  runInSpan,
  TRACEPARENT_HEADER,
} from "./trace-context.js";
export type { ValidationRules } from "./validation.js";
export { defineValidation, VALIDATION_ERROR, validationError } from "./validation.js";
export type { ValidationIssue } from "./validation-issue.js";
export type { RedisEvents } from "./watch-redis.js";
export { watchRedis } from "./watch-redis.js";
