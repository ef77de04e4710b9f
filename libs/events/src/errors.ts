/** An event that cannot be written to the outbox as given (bad type, bad header); nothing was written. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
}

/** Some claimed outbox rows could not be published; they stay unpublished and the next pass retries them. */
export class OutboxPublishError extends Error {
  override readonly name = "OutboxPublishError";
}
