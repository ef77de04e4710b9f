import type { ChildProcess } from "node:child_process";
import { once } from "node:events";

/**
 * Ends a child process the way an operator does: `signal`, and for SIGTERM a SIGKILL after `graceMs`. Resolves once
 * the child has exited; at once when it already had.
 */
export async function endChild(
  child: ChildProcess | undefined,
  signal: "SIGTERM" | "SIGKILL",
  graceMs: number,
): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const killer = signal === "SIGKILL" ? undefined : setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(killer);
  }
}
