export { expectRefusal } from "./expect-refusal.js";
export { type FileFixtures, test, type WorkerFixtures } from "./fixtures.js";
export { grpcErrorInfo } from "./grpc-error-info.js";
export type { Collected, UnaryResult } from "./grpc-js.js";
export { bidiAll, bidiStream, collect, grpcClient, serverStream, unary } from "./grpc-js.js";
export {
  type HarnessKit,
  type Listening,
  openHarnessKit,
  type TestApp,
} from "./harness-kit.js";
export { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.js";
export {
  freePort,
  freePorts,
  type OwnRedis,
  type OwnServer,
  startOwnNats,
  startOwnRedis,
} from "./own-servers.js";
export { type NatsFixture, provideNats } from "./provide-nats.js";
export { type PgFixture, providePg } from "./provide-pg.js";
export { provideRedis, type RedisFixture } from "./provide-redis.js";
export {
  copyOutboxRows,
  type OutboxRowCopy,
  publishedEvents,
  publishedMessages,
  putBackOutboxRows,
  type StreamEvent,
} from "./published-events.js";
export { type RecordedLogs, recordLogs } from "./record-logs.js";
export { serviceTest } from "./service-test.js";
export { type ReceivedMail, type SmtpInbox, startSmtpInbox } from "./smtp-inbox.js";
export { type StopContainers, startContainersIfNeeded } from "./start-containers-if-needed.js";
export { TestClock } from "./test-clock.js";
export { LOCAL_TEST_ENV, type TestEnv, testEnv } from "./test-env.js";
export {
  createTestTokens,
  TEST_AUDIENCE,
  TEST_ISSUER,
  type TestTokens,
  type TokenOptions,
  testAdmin,
  testService,
  testUser,
  trustingAuthenticator,
} from "./tokens.js";
export { type WaitForOptions, WaitForTimeoutError, waitFor } from "./wait-for.js";
