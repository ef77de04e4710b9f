import type { Logger } from "pino";

/** What a started process hands back: how to stop it gracefully. */
export interface Running {
  stop: () => Promise<void>;
}

/**
 * Runs a service's main: calls `start`, then on the first SIGTERM or SIGINT calls `stop` and exits 0 (1 if stop
 * fails); a second signal exits 1 at once. A failed start prints to stderr and exits 1: just the message for a
 * ConfigError (it already names every bad variable), the stack for anything else.
 */
export async function runMain(start: () => Promise<Running>, logger: Logger): Promise<void> {
  let running: Running;
  try {
    running = await start();
  } catch (err) {
    if (err instanceof Error && err.name === "ConfigError") {
      console.error(err.message);
    } else {
      console.error("failed to start:", err);
    }
    process.exit(1);
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal, exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    running.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "graceful shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
