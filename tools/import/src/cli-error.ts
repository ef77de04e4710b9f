/** A failure the user can act on, told in one line (no stack trace). */
export class CliError extends Error {
  override readonly name = "CliError";
}
